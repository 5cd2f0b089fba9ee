"""Area risk methods on hand-computed fixtures (geo.area_risk, geo.grids)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import yaml
from affine import Affine
from shapely.geometry import Point, box

from geo import area_risk as ar
from geo import grids

CONFIG_FILE = Path(__file__).resolve().parents[2] / "data" / "config" / "area_risk.yaml"


def config_data() -> dict[str, Any]:
    return yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def config() -> ar.AreaRiskConfig:
    return ar.parse_config(config_data())


def sources(rows: list[tuple[str, str, float, float]]) -> ar.Points:
    """(key, level, lon, lat) rows → Points with name and level_idx."""
    keys = np.array([r[0] for r in rows], dtype=object)
    pts = ar.Points(keys, np.array([r[2] for r in rows]), np.array([r[3] for r in rows]),
                    {"name": np.array([f"源{r[0]}" for r in rows], dtype=object)})
    pts.attrs["level_idx"] = ar.level_indices([r[1] for r in rows])
    return pts


# Three boxes in central Beijing: A and B hold sources, C holds none.
A = box(116.30, 39.90, 116.32, 39.92)
B = box(116.32, 39.90, 116.34, 39.92)
C = box(116.40, 39.90, 116.42, 39.92)


def areas(km2: tuple[float, float, float] = (2.0, 0.5, 1.0), population: tuple[float, ...] = (5000.0, 0.0, 100.0),
          parent: tuple[str | None, ...] = ("P1", "P1", "P2")) -> ar.AreaSet:
    a = ar.polygon_areas("township", ["A", "B", "C"], ["甲", "乙", "丙"], list(parent), [A, B, C],
                         population=list(population))
    a.area_km2 = np.array(km2)  # hand-picked areas make the arithmetic checkable
    return a


SOURCES = sources([
    ("s1", "red", 116.305, 39.905), ("s2", "yellow", 116.31, 39.91), ("s3", "yellow", 116.315, 39.915),
    ("s4", "blue", 116.325, 39.905), ("s5", "blue", 116.33, 39.91), ("s6", "blue", 116.335, 39.915),
    ("s7", "red", 117.5, 41.0),  # outside every area
])


def test_membership_is_by_intersection_and_sorted_by_area() -> None:
    m = areas().assign(SOURCES.lon, SOURCES.lat)
    assert m.area.tolist() == [0, 0, 0, 1, 1, 1]
    assert m.point.tolist() == [0, 1, 2, 3, 4, 5]
    edge = ar.polygon_membership(np.array([116.32]), np.array([39.91]), np.array([A, B, C]))
    assert sorted(edge.area.tolist()) == [0, 1]  # on the shared edge: in both, like count_per_polygon


def test_highest_level_takes_the_top_level_and_explains_it(config: ar.AreaRiskConfig) -> None:
    r = ar.highest_level(areas(), SOURCES, config)
    assert r.level.tolist() == ["red", "blue", None]
    assert r.score.tolist() == [4.0, 1.0, 0.0]
    assert r.counts.tolist() == [[1, 0, 2, 0], [0, 0, 0, 3], [0, 0, 0, 0]]
    exp = r.explanation[0]
    assert [s["key"] for s in exp["top_sources"]] == ["s1"]
    assert exp["thresholds"]["crossed"] == ["red", "orange", "yellow", "blue"]
    assert r.explanation[2]["top_sources"] == [] and r.explanation[2]["thresholds"]["crossed"] == []


def test_parents_take_the_highest_level_of_their_children(config: ar.AreaRiskConfig) -> None:
    children = ar.highest_level(areas(), SOURCES, config)
    parents = ar.polygon_areas("district", ["P1", "P2"], ["区一", "区二"], [None, None],
                               [box(116.0, 39.0, 116.1, 39.1), box(116.2, 39.0, 116.3, 39.1)])
    r = ar.highest_level(parents, SOURCES, config, children=children)
    assert r.level.tolist() == ["red", None]  # P1 from child A (no own sources); P2's child C has no level
    assert r.explanation[0]["children"] == [{"area_code": "A", "name": "甲", "level": "red"}]
    assert r.explanation[0]["driven_by"] == "children"


def test_weighted_density_by_hand(config: ar.AreaRiskConfig) -> None:
    r = ar.weighted_density(areas(), SOURCES, config)
    # A: (100 + 10 + 10) / 2 km² = 60; B: 3 / 0.5 km² = 6; C: 0
    assert r.score.tolist() == [60.0, 6.0, 0.0]
    assert r.level.tolist() == ["yellow", "blue", None]  # thresholds red 300, orange 100, yellow 30
    exp = r.explanation[0]
    assert exp["thresholds"] == {"crossed": ["yellow", "blue"], "next": {"level": "orange", "at": 100.0}}
    assert exp["inputs"]["weight_sum"] == 120.0
    top = exp["top_sources"]
    assert [(s["key"], s["weight"]) for s in top] == [("s1", 100.0), ("s2", 10.0), ("s3", 10.0)]
    assert top[0]["share"] == pytest.approx(100 / 120, abs=1e-6)
    assert r.params["thresholds"] == {"red": 300.0, "orange": 100.0, "yellow": 30.0}


def test_weighted_density_times_population_and_by_quantiles() -> None:
    data = config_data()
    data["density"]["exposure"] = "population"
    cfg = ar.parse_config(data)
    r = ar.weighted_density(areas(), SOURCES, cfg)
    # A: 60 × 5000 / 10000 = 30 → yellow; B: 6 × 0 = 0 → none
    assert r.score.tolist() == [30.0, 0.0, 0.0]
    assert r.level.tolist() == ["yellow", None, None]

    data = config_data()
    data["density"]["mode"] = "quantiles"
    data["density"]["quantiles"] = {"red": 0.9, "orange": 0.6, "yellow": 0.3}
    r = ar.weighted_density(areas(), SOURCES, ar.parse_config(data))
    # positive scores 6 and 60: q0.9 = 54.6, q0.6 = 38.4, q0.3 = 22.2
    assert r.params["thresholds"] == pytest.approx({"red": 54.6, "orange": 38.4, "yellow": 22.2})
    assert r.level.tolist() == ["red", "blue", None]


def composite_config() -> ar.AreaRiskConfig:
    data = config_data()
    data["composite"]["indicators"] = {
        "hazard": {"lo": 0, "hi": 100}, "exposure": {"lo": 0, "hi": 10000},
        "open_hazards": {"lo": 0, "hi": 2}, "uninsured": {"lo": 0, "hi": 1},
        "team_distance": {"lo": 0, "hi": 10000}, "resources": {"lo": 0, "hi": 4, "invert": True},
    }
    return ar.parse_config(data)


def test_composite_by_hand() -> None:
    cfg = composite_config()
    a = areas(population=(5000.0, 0.0, 100.0))
    hazards = ar.Points(np.array(["h1"], dtype=object), np.array([116.31]), np.array([39.905]))
    units = ar.Points(np.array(["u1", "u2", "u3", "u4"], dtype=object), np.array([116.301, 116.302, 116.303, 116.33]),
                      np.array([39.901] * 3 + [39.91]), {"insured": np.array([True, False, None, True], dtype=object)})
    team_lon, team_lat = 116.31, 39.91
    resources = ar.Points(np.array(["t1", "d1"], dtype=object), np.array([team_lon, 116.311]),
                          np.array([team_lat, 39.911]),
                          {"resource_type": np.array(["team", "supply_depot"], dtype=object)})
    inputs = ar.CompositeInputs(hazards, units, resources)
    raw = ar.composite_indicators(a, SOURCES, inputs, cfg)
    assert raw["hazard"].tolist() == [60.0, 6.0, 0.0]
    assert raw["exposure"].tolist() == [2500.0, 0.0, 100.0]
    assert raw["open_hazards"].tolist() == [0.5, 0.0, 0.0]
    assert raw["uninsured"][0] == 0.5 and raw["uninsured"][1] == 0.0 and math.isnan(raw["uninsured"][2])
    assert raw["resources"].tolist() == [1.0, 0.0, 0.0]
    r = ar.composite(a, SOURCES, inputs, cfg)
    # Area A: hazard 6.0, exposure 2.5 → HE 4.25; open hazards 2.5, uninsured 5 → V 3.75;
    # team distance d/1000, resources 10 - 2.5 = 7.5 → LCC (d/1000 + 7.5) / 2.
    d = raw["team_distance"][0]
    lcc = (d / 1000 + 7.5) / 2
    assert r.score[0] == pytest.approx((4.25 * 3.75 * lcc) ** (1 / 3), abs=1e-6)
    comp = r.explanation[0]["components"]
    assert comp["hazard_exposure"]["score"] == pytest.approx(4.25)
    assert comp["vulnerability"]["indicators"]["uninsured"] == {"raw": 0.5, "scaled": 5.0}
    # Area B: vulnerability 0 (no open hazard, everybody insured) → score 0, as in INFORM
    assert r.score[1] == 0.0 and r.level[1] == "blue"
    # Area C: uninsured unmeasurable → V is the open-hazards score alone (0) → 0
    assert r.explanation[2]["components"]["vulnerability"]["score"] == 0.0
    assert r.explanation[0]["thresholds"]["next"] is not None


def test_levels_thresholds_and_crossed() -> None:
    t = {"red": 6.5, "orange": 5.0, "yellow": 3.5}
    assert ar.levels_from_thresholds(np.array([7.0, 5.0, 3.4, 0.0, np.nan]), t, blue_above=None).tolist() == [
        "red", "orange", "blue", "blue", None]
    assert ar.thresholds_crossed(5.2, t) == {"crossed": ["orange", "yellow", "blue"],
                                            "next": {"level": "red", "at": 6.5}}
    assert ar.thresholds_crossed(9.0, t)["next"] is None


def test_config_errors_name_every_bad_value() -> None:
    data = config_data()
    bad = copy.deepcopy(data)
    bad["level_weights"]["red"] = -1
    bad["density"]["mode"] = "fancy"
    bad["units"]["h3_res"] = 12
    bad["composite"]["indicators"]["hazard"] = {"lo": 5, "hi": 1}
    bad["major_hazard"]["chemicals"]["氯"]["threshold_t"] = 0
    with pytest.raises(ar.AreaConfigError) as err:
        ar.parse_config(bad)
    text = str(err.value)
    for needle in ("level_weights.red", "density.mode", "units.h3_res", "composite.indicators.hazard",
                   "major_hazard.chemicals.氯"):
        assert needle in text


def test_square_cells_codes_and_clipping() -> None:
    ix, iy = grids.square_cell_indices(np.array([436_999.9, 437_000.0]), np.array([4_420_500.0, 4_420_500.0]),
                                       cell_m=1000)
    assert ix.tolist() == [436, 437] and iy.tolist() == [4420, 4420]
    assert grids.square_cell_code(436, 4420, cell_m=1000) == "1000m:436:4420"
    assert grids.parse_square_cell_code("250m:-1:3") == (250.0, -1, 3)
    clip = shapely.Polygon([(0, 0), (1500, 0), (0, 1500)])
    cells = grids.square_cells(np.array([0, 1]), np.array([0, 0]), cell_m=1000, clip=clip)
    assert cells[0].area == pytest.approx(1000 * 1000 - 500 * 500 / 2)  # corner cut off by the hypotenuse
    assert cells[1].area == pytest.approx(500 * 500 / 2)
    cx, cy = grids.cover_extent(clip, cell_m=1000)
    assert sorted(zip(cx.tolist(), cy.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 0)]
    with pytest.raises(grids.GridError, match="100 m"):
        grids.check_cell_size(100)


def test_square_grid_areas_hold_their_points() -> None:
    lon = np.array([116.40, 116.401, 116.45])
    lat = np.array([39.90, 39.9005, 39.95])
    extent = box(116.3, 39.8, 116.5, 40.0)
    a = ar.square_grid_areas(lon, lat, cell_m=1000, extent=extent)
    assert len(a) == 2
    m = a.assign(lon, lat)
    for p, i in zip(m.point.tolist(), m.area.tolist(), strict=True):
        assert a.geometry[i].covers(Point(lon[p], lat[p]))
    assert a.area_km2 == pytest.approx([1.0, 1.0])
    assert a.built_from is not None and a.built_from.area.tolist() == m.area.tolist()


def test_h3_cells_contain_their_points_and_check_resolution() -> None:
    lon = np.array([116.40, 116.4001, 115.5])
    lat = np.array([39.90, 39.9001, 39.0])
    a = ar.h3_areas(lon, lat, res=8)
    assert len(a) == 2
    m = a.assign(lon, lat)
    for p, i in zip(m.point.tolist(), m.area.tolist(), strict=True):
        assert a.geometry[i].covers(Point(lon[p], lat[p]))
    assert 0.4 < a.area_km2[0] < 0.9  # res 8: ≈ 0.53 km² around Beijing (0.74 km² on average)
    assert all(len(p) == 15 for p in a.parent)
    with pytest.raises(grids.GridError, match="resolution 10"):
        ar.h3_areas(lon, lat, res=10)


def test_zonal_population_sums_cell_centres_inside() -> None:
    # 4×4 raster of 100 m cells in EPSG:4548 near Beijing; NaN = no data
    transform = Affine(100, 0, 440_000, 0, -100, 4_420_400)
    pop = np.arange(16, dtype=float).reshape(4, 4)
    pop[0, 0] = np.nan
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4548", "EPSG:4326", always_xy=True)

    def to_wgs(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    left = to_wgs(box(440_000, 4_420_000, 440_200, 4_420_400))  # columns 0–1
    outside = to_wgs(box(450_000, 4_420_000, 450_200, 4_420_400))
    geoms = np.array([left, outside], dtype=object)
    got = ar.zonal_population(geoms, pop, transform)
    expected = np.nansum(pop[:, :2])
    assert got[0] == pytest.approx(expected) and math.isnan(got[1])
    assert ar.zonal_population(geoms, pop, transform, may_overlap=False)[0] == pytest.approx(expected)


def test_polygon_mappings_are_the_geometries_geojson() -> None:
    holed = shapely.Polygon([(2, 2), (5, 2), (5, 5), (2, 5)], [[(3, 3), (4, 3), (4, 4), (3, 4)]])
    geoms = np.array([box(0, 0, 1, 1), shapely.MultiPolygon([box(0, 0, 1, 1), holed]), shapely.MultiPolygon(),
                      box(7, 7, 8, 8)], dtype=object)
    got = ar.polygon_mappings(geoms)
    for mapping, geom in zip(got, geoms, strict=True):
        expect = shapely.geometry.mapping(shapely.MultiPolygon(list(shapely.get_parts(geom))))
        assert mapping["type"] == "MultiPolygon"
        assert mapping["coordinates"] == [[[list(xy) for xy in ring] for ring in polygon]
                                          for polygon in expect["coordinates"]]
    assert got[2]["coordinates"] == []


def test_nearest_distance_is_geodesic() -> None:
    d = ar.nearest_distance_m(np.array([116.4]), np.array([39.9]), np.array([116.5, 116.41]), np.array([39.9, 39.9]))
    from geo.distance import geodesic_m

    assert d[0] == pytest.approx(float(geodesic_m(116.4, 39.9, 116.41, 39.9)), abs=1e-6)
    assert ar.nearest_distance_m(np.array([116.4]), np.array([39.9]), np.array([]), np.array([]))[0] == math.inf


def test_the_shipped_file_loads_into_the_engine_config(config: ar.AreaRiskConfig) -> None:
    assert config.weights == {"red": 100.0, "orange": 30.0, "yellow": 10.0, "blue": 1.0}
    assert (config.top_n, config.grid_cell_m, config.h3_res) == (5, 1000.0, 8)
    assert list(config.composite.indicators) == list(ar.INDICATORS)
    assert config.composite.indicators["resources"] == ar.Goalposts(lo=0, hi=10, log=True, invert=True,
                                                                   unit="resources/km²")
    assert config.density.thresholds == {"red": 300.0, "orange": 100.0, "yellow": 30.0}
    assert (config.heatmap.cell_m, config.heatmap.bandwidth_m, config.heatmap.kernel) == (100.0, 1000.0, "quartic")
    assert len(config.major_hazard.chemicals) == 8
    reordered = config_data()
    reordered["level_weights"] = {"blue": 1, "yellow": 10, "orange": 30, "red": 100}
    assert list(ar.parse_config(reordered).weights) == ["red", "orange", "yellow", "blue"]  # engine order


def _set(path: str, value: Any) -> dict[str, Any]:
    """The shipped configuration with the value at dotted ``path`` replaced."""
    data = config_data()
    *parents, last = path.split(".")
    section = data
    for key in parents:
        section = section[key]
    section[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("level_weights.red", -1, "level_weights.red: -1 — input should be greater than 0"),
        ("level_weights.blue", 0, "level_weights.blue: 0 — input should be greater than 0"),
        ("level_weights.red", True, "level_weights.red: True — input should be a valid number"),
        ("level_weights.red", "100", "level_weights.red: '100' — input should be a valid number"),
        ("level_weights.blue", 1000, "level_weights: must not increase from red to blue"),
        ("density.thresholds.yellow", -5, "density.thresholds.yellow: -5 — input should be greater than 0"),
        ("density.thresholds.yellow", 0, "density.thresholds.yellow: 0 — input should be greater than 0"),
        ("density.quantiles.red", 1, "density.quantiles.red: 1 — input should be less than 1"),
        ("density.quantiles.yellow", 0.0, "density.quantiles.yellow: 0.0 — input should be greater than 0"),
        ("density.population_unit", 0, "density.population_unit: 0 — input should be greater than 0"),
        ("density.mode", "fancy", "density.mode: 'fancy' — input should be 'thresholds' or 'quantiles'"),
        ("composite.thresholds.red", 10.5, "composite.thresholds.red: 10.5 — input should be less than or equal to 10"),
        ("composite.thresholds.yellow", -0.1,
         "composite.thresholds.yellow: -0.1 — input should be greater than or equal to 0"),
        ("composite.indicators.hazard", {"lo": -1, "hi": 10},
         "composite.indicators.hazard: needs 0 <= lo < hi, got lo=-1, hi=10"),
        ("composite.indicators.hazard", {"lo": 3, "hi": 3},
         "composite.indicators.hazard: needs 0 <= lo < hi, got lo=3, hi=3"),
        ("composite.team_types", [], "composite.team_types: needs a list of resource_type values"),
        ("composite.team_types", ["team", 7], "composite.team_types.1: 7 — input should be a valid string"),
        ("heatmap.bandwidth_m", -100, "heatmap.bandwidth_m: -100 — input should be greater than 0"),
        ("units.grid_cell_m", 249, "units.grid_cell_m: 249 — cell size 249 m outside 250–5000 m"),
        ("units.grid_cell_m", 5001, "units.grid_cell_m: 5001 — cell size 5001 m outside 250–5000 m"),
        ("units.h3_res", 5, "units.h3_res: 5 — H3 resolution 5 outside 6–9"),
        ("units.h3_res", 8.0, "units.h3_res: 8.0 — input should be a valid integer"),
        ("explain_top_n", 0, "explain_top_n: 0 — input should be greater than or equal to 1"),
        ("explain_top_n", 51, "explain_top_n: 51 — input should be less than or equal to 50"),
    ],
)
def test_config_errors_at_the_limits(path: str, value: Any, problem: str) -> None:
    with pytest.raises(ar.AreaConfigError) as err:
        ar.parse_config(_set(path, value))
    assert err.value.problems == [problem]


@pytest.mark.parametrize(
    ("path", "value"),
    [("units.grid_cell_m", 250), ("units.grid_cell_m", 5000), ("units.h3_res", 6), ("units.h3_res", 9),
     ("explain_top_n", 1), ("explain_top_n", 50), ("composite.thresholds.red", 10),
     ("level_weights.blue", 10)],  # equal weights do not increase
)
def test_config_values_at_the_limits_are_accepted(path: str, value: Any) -> None:
    ar.parse_config(_set(path, value))


def test_config_missing_sections_and_unknown_keys_are_named() -> None:
    data = config_data()
    del data["major_hazard"]
    del data["heatmap"]["cell_m"]
    del data["composite"]["indicators"]["uninsured"]
    del data["level_weights"]["blue"]
    data["colour"] = "red"
    data["density"]["smoothing"] = 3
    data["density"]["thresholds"]["purple"] = 5
    with pytest.raises(ar.AreaConfigError) as err:
        ar.parse_config(data)
    assert sorted(err.value.problems) == sorted([
        "major_hazard: missing",
        "heatmap.cell_m: missing",
        "composite.indicators: missing uninsured",
        "level_weights: missing blue",
        "colour: unknown key",
        "density.smoothing: unknown key",
        "density.thresholds: unknown purple (expected red, orange, yellow)",
    ])
    assert all("\n" not in p for p in err.value.problems)
    with pytest.raises(ar.AreaConfigError, match="top level: expected a mapping"):
        ar.parse_config(["level_weights"])  # type: ignore[arg-type]
    with pytest.raises(ar.AreaConfigError) as empty:
        ar.parse_config({})
    assert empty.value.problems == [f"{s}: missing" for s in ("level_weights", "density", "composite", "heatmap",
                                                              "units", "major_hazard")]


def test_config_errors_inside_major_hazard_carry_the_section_path() -> None:
    with pytest.raises(ar.AreaConfigError) as err:
        ar.parse_config(_set("major_hazard.chemicals.氯.beta", -4))
    assert err.value.problems == ["major_hazard.chemicals.氯.beta: -4 — input should be greater than 0"]
