"""Site-veto scenarios on both stores: every default rule on both sides of its threshold.

Each scenario gets its own cell of the map (about 5 km apart, north of the synthetic
5th Ring box) holding only its own hazard, placed at an exact geodesic distance
(``pyproj.Geod.fwd``) east of the site — of the site point, or of the midpoint of a
polygon site's east edge, so polygon distances are checked edge-to-hazard.  Zone
scenarios sit 1 m inside / outside the zone boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from geo.capabilities.veto import evaluate_one, evaluate_sites, read_rule_set
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import LoadBatch, Store
from webmap.settings import Settings

GEOD = Geod(ellps="WGS84")
RULES = read_rule_set(Settings().paths.rules_path)

BEIJING = box(115.4, 39.4, 117.5, 41.1)
HEBEI = box(114.0, 37.0, 119.0, 39.39)
TIANJIN = box(117.6, 38.6, 118.0, 39.3)
FIFTH_RING = box(116.21, 39.78, 116.55, 40.03)
CORE = box(116.32, 39.86, 116.44, 39.97)
SUBCENTRE = box(116.62, 39.84, 116.77, 39.96)


def east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` due east (geodesic azimuth 90°) of (lon, lat); west if negative."""
    x, y, _ = GEOD.fwd(lon, lat, 90 if metres >= 0 else 270, abs(metres))
    return float(x), float(y)


@dataclass
class Scenario:
    id: str
    land_use: str
    expected: str
    rules: tuple[str, ...]
    hazard: tuple[str, dict[str, Any], float] | None = None  # (layer, attributes, metres east of the site)
    polygon: bool = False  # site is a ~100 m square; the hazard is measured from its east edge
    at: tuple[float, float] | None = None  # explicit site point (zone and coverage scenarios)
    contour: tuple[str, float] | None = None  # (level, metres east of the site where the contour begins; <0: inside)
    extra: dict[str, Any] = field(default_factory=dict)


GS = {"site_type": "gas_station", "gas_station_grade": 2}
SCHOOL_T = {"target_type": "school", "sensitivity": "high"}
FIFTH_E = 116.55  # the synthetic 5th Ring box's east edge

SCENARIOS: list[Scenario] = [
    # GB 50156: new gas station vs important public buildings (both directions)
    Scenario("gs-targets-49", "gas_station_grade2", "VETO", ("GS-TARGETS-50",), ("protection_targets", SCHOOL_T, 49)),
    Scenario("gs-targets-51", "gas_station_grade2", "PASS", (), ("protection_targets", SCHOOL_T, 51)),
    Scenario("gs-military-49", "二级加油站", "VETO", ("GS-TARGETS-50",),
             ("protection_targets", {"target_type": "military", "sensitivity": "important"}, 49)),
    Scenario("gs-homes-10", "gas_station_grade3", "PASS", (),
             ("protection_targets", {"target_type": "residential", "sensitivity": "general1"}, 10)),
    Scenario("school-gs-49", "school", "VETO", ("GS-SENSITIVE-50",), ("hazchem_sites", GS, 49)),
    Scenario("school-gs-51", "学校", "PASS", (), ("hazchem_sites", GS, 51)),
    Scenario("school-polygon-gs-49", "school", "VETO", ("GS-SENSITIVE-50",), ("hazchem_sites", GS, 49), polygon=True),
    Scenario("school-polygon-gs-51", "school", "PASS", (), ("hazchem_sites", GS, 51), polygon=True),
    Scenario("warehouse-gs-10", "warehouse", "PASS", (), ("hazchem_sites", GS, 10)),
    # grade-1 gas stations not in the city centre
    Scenario("gs1-inside-5th", "gas_station_grade1", "VETO", ("GS1-CITY-CENTRE",), at=east(FIFTH_E, 39.9, -1)),
    Scenario("gs1-outside-5th", "gas_station_grade1", "PASS", (), at=east(FIFTH_E, 39.9, 1)),
    Scenario("gs1-core", "gas_station_grade1", "VETO", ("GS1-CITY-CENTRE",), at=(116.38, 39.92)),
    Scenario("gs2-inside-5th", "gas_station_grade2", "PASS", (), at=east(FIFTH_E, 39.91, -1)),
    # fireworks retail: none inside the 5th Ring (inclusive)
    Scenario("fw-inside-5th", "fireworks_retail", "VETO", ("FW-5TH-RING",), at=east(FIFTH_E, 39.92, -1)),
    Scenario("fw-outside-5th", "烟花爆竹零售点", "PASS", (), at=east(FIFTH_E, 39.92, 1)),
    Scenario("fw-on-ring", "fireworks_retail", "VETO", ("FW-5TH-RING",), at=(FIFTH_E, 39.93)),
    Scenario("fw-hebei", "fireworks_retail", "PASS", (), at=(116.0, 38.5)),
    # hazardous chemicals in the 5th Ring / core / sub-centre
    Scenario("hc-storage-inside-5th", "hazchem_storage", "VETO", ("HC-STORAGE-5TH-RING",), at=east(FIFTH_E, 39.94, -1)),
    Scenario("hc-storage-outside-5th", "hazchem_storage", "PASS", (), at=east(FIFTH_E, 39.94, 1)),
    Scenario("hc-storage-core", "hazchem_storage", "VETO", ("HC-STORAGE-5TH-RING", "HC-CORE-15-LIST"),
             at=(116.40, 39.90)),
    Scenario("hc-use-inside-5th", "hazchem_use", "CONDITIONAL", ("HC-USE-5TH-RING",), at=east(FIFTH_E, 39.95, -1)),
    Scenario("hc-use-outside-5th", "hazchem_use", "PASS", (), at=east(FIFTH_E, 39.95, 1)),
    Scenario("hc-use-subcentre", "hazchem_use", "CONDITIONAL", ("HC-CORE-15-LIST",), at=(116.70, 39.90)),
    Scenario("hc-use-near-subcentre", "hazchem_use", "PASS", (), at=east(116.77, 39.90, 1)),
    # external safety distance from the hazard's own attribute (GB/T 37243)
    Scenario("homes-ext-299", "residential", "VETO", ("EXT-DISTANCE",),
             ("hazchem_sites", {"site_type": "storage", "external_distance_m": 300.0}, 299)),
    Scenario("homes-ext-301", "residential", "PASS", (),
             ("hazchem_sites", {"site_type": "storage", "external_distance_m": 300.0}, 301)),
    Scenario("homes-polygon-ext-299", "residential", "VETO", ("EXT-DISTANCE",),
             ("hazchem_sites", {"site_type": "storage", "external_distance_m": 300.0}, 299), polygon=True),
    # new hazchem storage near high-sensitivity targets
    Scenario("hc-new-hospital-499", "hazchem_storage", "CONDITIONAL", ("HC-NEW-TARGETS",),
             ("protection_targets", {"target_type": "hospital", "sensitivity": "high"}, 499)),
    Scenario("hc-new-hospital-501", "hazchem_storage", "PASS", (),
             ("protection_targets", {"target_type": "hospital", "sensitivity": "high"}, 501)),
    # major hazard installations, default screening distances
    Scenario("school-mh1-999", "school", "CONDITIONAL", ("MH-GRADE1-1000",),
             ("hazchem_sites", {"site_type": "storage", "major_hazard_grade": 1}, 999)),
    Scenario("school-mh1-1001", "school", "PASS", (),
             ("hazchem_sites", {"site_type": "storage", "major_hazard_grade": 1}, 1001)),
    Scenario("hospital-mh2-499", "hospital", "CONDITIONAL", ("MH-GRADE2-500",),
             ("hazchem_sites", {"site_type": "production", "major_hazard_grade": 2}, 499)),
    Scenario("hospital-mh2-501", "hospital", "PASS", (),
             ("hazchem_sites", {"site_type": "production", "major_hazard_grade": 2}, 501)),
    Scenario("kindergarten-mh3-299", "kindergarten", "CONDITIONAL", ("MH-GRADE34-300",),
             ("hazchem_sites", {"site_type": "use", "major_hazard_grade": 3}, 299)),
    Scenario("kindergarten-mh4-301", "kindergarten", "PASS", (),
             ("hazchem_sites", {"site_type": "use", "major_hazard_grade": 4}, 301)),
    Scenario("homes-mh2-299", "residential", "CONDITIONAL", ("MH-OUTER-ZONE",),
             ("hazchem_sites", {"site_type": "storage", "major_hazard_grade": 2}, 299)),
    Scenario("homes-mh2-301", "residential", "PASS", (),
             ("hazchem_sites", {"site_type": "storage", "major_hazard_grade": 2}, 301)),
    Scenario("industry-mh2-10", "industrial", "PASS", (),
             ("hazchem_sites", {"site_type": "storage", "major_hazard_grade": 2}, 10)),
    # individual-risk contours (GB 36894)
    Scenario("homes-in-1e-6", "residential", "VETO", ("IR-HIGH-GENERAL1",), contour=("1e-6", -1)),
    Scenario("homes-beside-1e-6", "residential", "PASS", (), contour=("1e-6", 1)),
    Scenario("office-in-1e-6", "office", "PASS", (), contour=("1e-6", -1)),
    Scenario("office-in-3e-6", "office", "VETO", ("IR-GENERAL2",), contour=("3e-6", -1)),
    Scenario("industry-in-3e-6", "industrial", "PASS", (), contour=("3e-6", -1)),
    Scenario("industry-in-1e-5", "industrial", "VETO", ("IR-GENERAL3",), contour=("1e-5", -1)),
    # pipelines (defaults)
    Scenario("homes-oil-4", "residential", "VETO", ("PL-CORRIDOR-5",), ("lines", {"line_type": "oil_pipeline"}, 4)),
    Scenario("homes-oil-6", "residential", "PASS", (), ("lines", {"line_type": "oil_pipeline"}, 6)),
    Scenario("gs-gas-4", "gas_station_grade3", "VETO", ("PL-CORRIDOR-5",), ("lines", {"line_type": "gas_pipeline"}, 4)),
    Scenario("school-gas-199", "school", "CONDITIONAL", ("PL-GAS-SENSITIVE-200",),
             ("lines", {"line_type": "gas_pipeline"}, 199)),
    Scenario("school-gas-201", "school", "PASS", (), ("lines", {"line_type": "gas_pipeline"}, 201)),
    Scenario("school-oil-99", "school", "CONDITIONAL", ("PL-OIL-SENSITIVE-100",),
             ("lines", {"line_type": "oil_pipeline"}, 99)),
    Scenario("school-oil-101", "school", "PASS", (), ("lines", {"line_type": "oil_pipeline"}, 101)),
    Scenario("school-polygon-oil-99", "school", "CONDITIONAL", ("PL-OIL-SENSITIVE-100",),
             ("lines", {"line_type": "oil_pipeline"}, 99), polygon=True),
    # coverage
    Scenario("school-shanghai", "school", "OUTSIDE_COVERAGE", (), at=(121.47, 31.23)),
    Scenario("school-hebei-gs-30", "school", "VETO", ("GS-SENSITIVE-50",), ("hazchem_sites", GS, 30), at=(116.2, 38.6)),
]

#: Every default rule appears on both sides of its threshold.
assert {r.id for r in RULES.rules} <= {rid for s in SCENARIOS for rid in s.rules}


def cell(i: int) -> tuple[float, float]:
    """A scenario's own place: a 25-column grid of cells 0.06° apart north of the zones."""
    return 115.6 + 0.06 * (i % 25), 40.3 + 0.06 * (i // 25)


@dataclass
class Placed:
    scenario: Scenario
    site: Any
    reference: tuple[float, float]  # the point of the site the hazard distance is measured from


def place(i: int, s: Scenario) -> Placed:
    lon, lat = s.at or cell(i)
    if s.polygon:
        half = 0.0006  # ~51 m east-west, ~67 m north-south
        site = box(lon - half, lat - half, lon + half, lat + half)
        return Placed(s, site, (lon + half, lat))
    return Placed(s, Point(lon, lat), (lon, lat))


def fixture_frames(placed: list[Placed]) -> dict[str, gpd.GeoDataFrame]:
    rows: dict[str, list[dict[str, Any]]] = {"hazchem_sites": [], "protection_targets": [], "lines": [], "areas": []}
    for i, p in enumerate(placed):
        s, (lon, lat) = p.scenario, p.reference
        if s.hazard is not None:
            layer, attrs, metres = s.hazard
            hx, hy = east(lon, lat, metres)
            if layer == "hazchem_sites":
                rows[layer].append({"key": f"S{i}|1", "credit_code": f"S{i}", "site_code": "1",
                                    "name": f"危险源{s.id}", "operating": True, **attrs, "geometry": Point(hx, hy)})
            elif layer == "protection_targets":
                rows[layer].append({"key": f"T{i}", "target_code": f"T{i}", "name": f"目标{s.id}", **attrs,
                                    "geometry": Point(hx, hy)})
            else:
                rows[layer].append({"key": f"L{i}", "line_code": f"L{i}", "name": f"管线{s.id}", **attrs,
                                    "geometry": LineString([(hx, hy - 0.01), (hx, hy + 0.01)])})
        if s.contour is not None:
            level, metres = s.contour
            edge, _ = east(lon, lat, metres)
            rows["areas"].append({"key": f"risk_contour:S{i}:{level}", "area_code": f"risk_contour:S{i}:{level}",
                                  "name": f"个人风险{level}等值线", "area_type": "risk_contour",
                                  "geometry": box(edge, lat - 0.005, edge + 0.01, lat + 0.005)})
    for code, name, area_type, geom in (
        ("110000", "北京市", "province", BEIJING), ("120000", "天津市", "province", TIANJIN),
        ("130000", "河北省", "province", HEBEI), ("zone:5th-ring", "五环路以内", "zone", FIFTH_RING),
        ("zone:core", "首都功能核心区", "zone", CORE), ("zone:tongzhou-subcentre", "城市副中心", "zone", SUBCENTRE),
    ):
        rows["areas"].append({"key": code, "area_code": code, "name": name, "area_type": area_type, "geometry": geom})
    return {kind: gpd.GeoDataFrame(r, geometry="geometry", crs="EPSG:4326").assign(synthetic=True)
            for kind, r in rows.items() if r}


PLACED = [place(i, s) for i, s in enumerate(SCENARIOS)]


def load(store: Store, frames: dict[str, gpd.GeoDataFrame]) -> Store:
    for kind, frame in frames.items():
        batch = LoadBatch(kind=kind, file_name="veto-scenarios", sha256="5" * 64, loaded_at=datetime.now(UTC))
        store.upsert(kind, frame, batch=batch)
    return store


@pytest.fixture(scope="module", params=["postgis", "geopackage"])
def scenario_store(request: pytest.FixtureRequest, make_pg_database: Callable[[], str],
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store: Store
    if request.param == "postgis":
        store = PostGISStore(make_pg_database())
    else:
        store = GeoPackageStore(Path(tmp_path_factory.mktemp("veto")) / "veto.gpkg")
    store.init_schema()
    load(store, fixture_frames(PLACED))
    yield store
    store.close()


def _expected_distance(p: Placed) -> float:
    assert p.scenario.hazard is not None
    lon, lat = p.reference
    hx, hy = east(lon, lat, p.scenario.hazard[2])
    return float(GEOD.inv(lon, lat, hx, hy)[2])


@pytest.mark.parametrize("placed", PLACED, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario_store: Store, placed: Placed) -> None:
    s = placed.scenario
    verdict, stamp = evaluate_one(scenario_store, RULES, placed.site, s.land_use, name=s.id)
    assert verdict.verdict == s.expected, [r.as_dict() for r in verdict.hits]
    assert tuple(sorted(r.rule.id for r in verdict.hits)) == tuple(sorted(s.rules))
    assert len(verdict.results) == len(RULES.rules)  # every rule evaluated
    assert stamp.versions["areas"] > 0
    for r in verdict.hits:
        assert r.rule.citation.standard
        for h in r.hits:
            if h.layer != "areas":
                # distance found: polygon edge / point to the hazard, against pyproj.Geod
                assert h.distance_m == pytest.approx(_expected_distance(placed), abs=0.05)
                assert h.required_m is not None and h.distance_m < h.required_m
    if s.hazard is not None and not s.rules and s.expected == "PASS":
        # the hazard just beyond the threshold is reported as the nearest, with its distance
        layer = s.hazard[0]
        nearest = [r.nearest for r in verdict.results if r.nearest is not None and r.nearest.layer == layer]
        for n in nearest:
            assert n.distance_m == pytest.approx(_expected_distance(placed), abs=0.05)


def test_batch_agrees_with_single_queries(scenario_store: Store) -> None:
    uses = [RULES.land_use(p.scenario.land_use) for p in PLACED]
    verdicts, _ = evaluate_sites(scenario_store, RULES, [p.site for p in PLACED], uses)
    for p, v in zip(PLACED, verdicts, strict=True):
        assert (p.scenario.id, v.verdict, sorted(r.rule.id for r in v.hits)) == (
            p.scenario.id, p.scenario.expected, sorted(p.scenario.rules))
        single, _ = evaluate_one(scenario_store, RULES, p.site, uses[PLACED.index(p)])
        got = {(r.rule.id, h.key): h.distance_m for r in v.results for h in [*r.hits]}
        want = {(r.rule.id, h.key): h.distance_m for r in single.results for h in [*r.hits]}
        assert got.keys() == want.keys()
        for k in got:
            assert got[k] == pytest.approx(want[k], abs=0.01)


def test_without_contours_rules_say_no_contour_loaded(store: Store) -> None:
    frames = fixture_frames([])
    load(store, frames)
    verdict, _ = evaluate_one(store, RULES, Point(116.0, 40.5), "residential")
    ir = next(r for r in verdict.results if r.rule.id == "IR-HIGH-GENERAL1")
    assert ir.status == "no_data" and "no contour loaded" in ir.message
    assert verdict.verdict == "PASS"
    assert any("no_data" in n for n in verdict.notes)

