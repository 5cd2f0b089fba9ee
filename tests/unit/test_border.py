"""geo.border on hand-built fixtures: two square provinces sharing the meridian 117 °E."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, box

from geo import border as bd
from geo.distance import WGS84_GEOD

A, B = "110000", "130000"  # 北京 | 河北: the pair beijing-hebei
PAIR = bd.get_pair("beijing-hebei")
PROV_A = box(116.0, 39.0, 117.0, 40.0)
PROV_B = box(117.0, 39.0, 118.0, 40.0)
BORDER_LENGTH_M = float(WGS84_GEOD.inv(117.0, 39.0, 117.0, 40.0)[2])


def fwd(lon: float, lat: float, az: float, dist: float) -> tuple[float, float]:
    x, y, _ = WGS84_GEOD.fwd(lon, lat, az, dist)
    return float(x), float(y)


def at(lat: float, metres_east: float) -> tuple[float, float]:
    """A point ``metres_east`` (negative: west) of the border at ``lat``, on the geodesic
    perpendicular to the meridian, so its distance to the border is |metres_east|."""
    return fwd(117.0, lat, 90.0 if metres_east >= 0 else 270.0, abs(metres_east))


def points(rows: list[dict[str, object]], lonlat: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.points_from_xy(*zip(*lonlat, strict=True)),
                            crs="EPSG:4326")


def empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"key": [], "province_code": [], "county_code": [], "level": []},
                            geometry=[], crs="EPSG:4326")


DISTRICTS = gpd.GeoDataFrame(
    {"area_code": ["110111", "110112", "130101", "130102"]},
    geometry=[box(116, 39.5, 117, 40), box(116, 39, 117, 39.5), box(117, 39.5, 118, 40), box(117, 39, 118, 39.5)],
    crs="EPSG:4326")


def zone_features() -> bd.Features:
    sources = points([
        {"key": "a1", "level": "red", "province_code": A, "county_code": "110112"},
        {"key": "a2", "level": "red", "province_code": A, "county_code": "110112"},
        {"key": "b1", "level": "orange", "province_code": B, "county_code": "130101"},
        {"key": "b2", "level": "yellow", "province_code": B, "county_code": "130102"},
    ], [at(39.25, -5000), at(39.25, -12000), at(39.75, 3000), at(39.25, 9990)])
    targets = points([{"key": "t1", "province_code": A, "county_code": "110111", "level": None}],
                     [at(39.75, -9000)])
    return bd.Features(sources, empty(), empty(), targets)


def test_shared_border_and_length() -> None:
    line = bd.shared_border(PROV_A, PROV_B)
    assert line.geom_type == "MultiLineString"
    assert bd.geodesic_length_m(line) == pytest.approx(BORDER_LENGTH_M, abs=0.01)
    assert 110_900 < BORDER_LENGTH_M < 111_100


def test_pairs_and_unknown_pair() -> None:
    assert {p.name for p in bd.PAIRS.values()} == {"beijing-hebei", "beijing-tianjin", "tianjin-hebei"}
    assert PAIR.line_code == "border:110000-130000"
    with pytest.raises(bd.UnknownPairError, match="beijing-shanghai"):
        bd.get_pair("beijing-shanghai")


def test_distance_to_line_is_geodesic() -> None:
    lonlat = [at(39.5, -5000), at(39.5, 3000), at(39.1, 12000), at(39.9, -49000)]
    lon, lat = np.array(lonlat).T
    d = bd.distance_to_line_m(lon, lat, bd.shared_border(PROV_A, PROV_B), 50_000)
    assert d == pytest.approx([5000, 3000, 12000, 49000], abs=0.5)
    assert np.isinf(bd.distance_to_line_m(lon, lat, bd.shared_border(PROV_A, PROV_B), 4000)[[0, 2, 3]]).all()


def test_border_zone_by_side_and_county_pair() -> None:
    result = bd.border_zone(zone_features(), bd.shared_border(PROV_A, PROV_B), PAIR, km=10, districts=DISTRICTS)
    sides = result.by_side()
    assert sides[A]["risk_sources"] == 1 and sides[A]["risk_red"] == 1  # a2 at 12 km is out
    assert sides[A]["protection_targets"] == 1
    assert sides[B]["risk_orange"] == 1 and sides[B]["risk_yellow"] == 1 and sides[B]["risk_sources"] == 2
    assert sides[bd.OTHER_SIDE]["risk_sources"] == 0
    rs = result.features["risk_sources"].set_index("key")
    assert rs.loc["a1", "distance_m"] == pytest.approx(5000, abs=0.5)
    assert rs.loc["b2", "distance_m"] == pytest.approx(9990, abs=0.5)
    assert rs.loc["b1", "distance_m"] == pytest.approx(3000, abs=0.5)
    assert result.border_length_m == pytest.approx(BORDER_LENGTH_M, abs=1)
    rows = {(r["county_a"], r["county_b"], r["side"]): r for r in result.by_county_pair()}
    assert set(rows) == {("110112", "130102", A), ("110112", "130102", B), ("110111", "130101", B),
                         ("110111", "130101", A)}
    assert rows[("110112", "130102", A)]["risk_red"] == 1
    assert rows[("110112", "130102", B)]["risk_yellow"] == 1
    assert rows[("110111", "130101", B)]["risk_orange"] == 1
    assert rows[("110111", "130101", A)]["protection_targets"] == 1


def test_border_zone_rejects_bad_km() -> None:
    with pytest.raises(ValueError, match="km"):
        bd.border_zone(zone_features(), bd.shared_border(PROV_A, PROV_B), PAIR, km=0)


def test_crossing_line_points_lengths_and_corridor() -> None:
    pipe = LineString([(116.5, 39.5), (117.5, 39.5)])
    other = LineString([(116.1, 39.1), (116.4, 39.2)])  # does not cross
    two_parts = MultiLineString([[(116.9, 39.2), (117.1, 39.2)], [(117.1, 39.8), (116.9, 39.8)]])
    lines = gpd.GeoDataFrame({"key": ["P1", "P2", "P3"], "line_code": ["P1", "P2", "P3"],
                              "name": ["输油管道", "x", "双段"], "line_type": ["oil_pipeline"] * 3,
                              "operator": [None] * 3, "synthetic": [True] * 3},
                             geometry=[pipe, other, two_parts], crs="EPSG:4326")
    near = points([{"key": "h1", "level": "red", "province_code": A, "county_code": None},
                   {"key": "h2", "level": "blue", "province_code": A, "county_code": None}],
                  [fwd(116.8, 39.5, 0, 300), fwd(116.8, 39.5, 0, 800)])
    features = bd.Features(near, empty(), empty(), empty())
    out = bd.crossing_lines(lines, {"beijing-hebei": bd.shared_border(PROV_A, PROV_B)}, {A: PROV_A, B: PROV_B},
                            features, corridor_m=500)
    assert [o["key"] for o in out] == ["P1", "P3"]
    p1 = out[0]
    assert p1["crossings"] == {"beijing-hebei": [(117.0, 39.5)]}
    half = float(WGS84_GEOD.inv(116.5, 39.5, 117.0, 39.5)[2])
    assert p1["length_by_province_m"][A] == pytest.approx(half, abs=0.01)
    assert p1["length_by_province_m"][B] == pytest.approx(half, abs=0.01)
    assert p1["length_by_province_m"]["outside"] < 1.0
    assert p1["corridor"]["risk_sources"] == 1 and p1["corridor"]["risk_red"] == 1
    assert p1["corridor_features"]["risk_sources"]["distance_m"].iloc[0] == pytest.approx(300, abs=0.5)
    assert out[1]["crossings"] == {"beijing-hebei": [(117.0, 39.2), (117.0, 39.8)]}
    with pytest.raises(ValueError, match="corridor_m"):
        bd.crossing_lines(lines, {}, {}, features, corridor_m=-1)


def test_cut_line_known_lengths_and_multipart() -> None:
    border = bd.shared_border(PROV_A, PROV_B)
    pieces = bd.cut_line(border, 5000)
    assert len(pieces) == math.ceil(BORDER_LENGTH_M / 5000)
    for p in pieces[:-1]:
        assert bd.geodesic_length_m(p.geometry) == pytest.approx(5000, abs=0.5)
    assert pieces[-1].length_m == pytest.approx(BORDER_LENGTH_M - 5000 * (len(pieces) - 1), abs=0.5)
    assert pieces[-1].end_m == pytest.approx(BORDER_LENGTH_M, abs=0.5)
    two = MultiLineString([[(117, 39.0), (117, 39.1)], [(117, 39.5), (117, 39.6)]])
    cut = bd.cut_line(two, 5000)
    part = float(WGS84_GEOD.inv(117, 39.0, 117, 39.1)[2])
    assert len(cut) == 2 * math.ceil(part / 5000)
    assert cut[len(cut) // 2].start_m == pytest.approx(part, abs=0.5)
    assert cut[-1].end_m == pytest.approx(part + float(WGS84_GEOD.inv(117, 39.5, 117, 39.6)[2]), abs=0.5)


def test_border_profile_scores_and_hottest() -> None:
    border = bd.shared_border(PROV_A, PROV_B)

    def along(metres: float, east: float) -> tuple[float, float]:
        lon, lat = fwd(117.0, 39.0, 0.0, metres)
        return at(lat, east) if east else (lon, lat)

    sources = points([{"key": "r", "level": "red"}, {"key": "o", "level": "orange"},
                      {"key": "y", "level": "yellow"}, {"key": "far", "level": "red"}],
                     [along(2500, 500), along(7000, -200), along(5000, 100), along(60_000, 5000)])
    segments = bd.border_profile(sources, border, segment_km=5, km=1)
    assert len(segments) == math.ceil(BORDER_LENGTH_M / 5000)
    assert segments[0].score == pytest.approx(110) and segments[0].counts == {"red": 1, "orange": 0, "yellow": 1,
                                                                              "blue": 0}
    assert segments[1].score == pytest.approx(40)
    assert sum(s.score for s in segments) == pytest.approx(150)
    assert [s.index for s in bd.hottest(segments, 5)] == [0, 1]
    weighted = bd.border_profile(sources, border, segment_km=5, km=1,
                                 weights={"red": 5, "orange": 3, "yellow": 2, "blue": 1})
    assert weighted[0].score == pytest.approx(7)


def test_province_at() -> None:
    provinces = {A: PROV_A, B: PROV_B}
    assert bd.province_at(116.5, 39.5, provinces) == A
    assert bd.province_at(117.5, 39.5, provinces) == B
    assert bd.province_at(117.0, 39.5, provinces) == A  # on the shared edge: the lower code
    assert bd.province_at(120.0, 39.5, provinces) is None


@pytest.mark.parametrize("metres", [1.0, 5000.0, 10_000.0, 30_000.0, 49_000.0])
def test_distances_match_geodesic_to_a_centimetre(metres: float) -> None:
    """A meridian border: a point ``metres`` east or west is that far (the transverse
    Mercator of each piece is scale-corrected, so 49 km off the meridian is still exact)."""
    border = bd.shared_border(PROV_A, PROV_B)
    lonlat = [at(39.37, metres), at(39.71, -metres)]
    lon, lat = np.array(lonlat).T
    assert bd.distance_to_line_m(lon, lat, border, 50_000) == pytest.approx([metres, metres], abs=0.01)


def test_distance_to_a_diagonal_line_matches_geodesic() -> None:
    """A line from (116, 40) to (117, 41): the geodesic from its midpoint square to the line,
    both ways, is the distance (the line is densified, so it runs straight in lon/lat)."""
    line = LineString([(116.0, 40.0), (116.0, 41.0), (117.0, 41.0)])  # an L: a meridian and a parallel
    north = fwd(116.5, 41.0, 0.0, 8000.0)  # due north of the parallel's middle
    west = fwd(116.0, 40.5, 270.0, 12_000.0)  # due west of the meridian's middle
    d = bd.distance_to_line_m(np.array([north[0], west[0]]), np.array([north[1], west[1]]), line, 20_000)
    assert d == pytest.approx([8000.0, 12_000.0], abs=0.05)


def test_reach_polygon_holds_every_point_within_reach() -> None:
    line = LineString([(115.5, 39.5), (116.2, 40.6), (117.3, 40.9)])
    rng = np.random.default_rng(7)
    lon, lat = 115.0 + rng.random(4000) * 2.8, 39.0 + rng.random(4000) * 2.4
    near = np.isfinite(bd.distance_to_line_m(lon, lat, line, 10_000))
    region = bd.reach_polygon(line, 10_000)
    inside = shapely.intersects_xy(region, lon, lat)
    assert near.sum() > 300 and inside[near].all()
    assert inside.sum() < 1.6 * near.sum()  # a tight superset
