"""The pure site-veto core: rule sets, land uses, geometry checks, distances, verdicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import yaml
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon, box

from geo.distance import distances_m
from geo.veto import (
    GeometryError,
    RuleSetError,
    UnknownLandUseError,
    check_site_geometry,
    evaluate_candidates,
    existing_target_use,
    merged_where,
    parse_rule_set,
    search_distances,
    site_from_geojson,
    where_mask,
)

RULES_FILE = Path(__file__).resolve().parents[2] / "data" / "rules" / "veto_rules.yaml"
RAW: dict[str, Any] = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
RULES = parse_rule_set(RAW)
GEOD = Geod(ellps="WGS84")


def _raw() -> dict[str, Any]:
    return copy.deepcopy(RAW)


def _errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RuleSetError) as info:
        parse_rule_set(data)
    return info.value.errors


def test_default_rule_set_is_valid_versioned_and_cited() -> None:
    assert RULES.version == "2026.1-default"
    for rule in RULES.rules:
        assert rule.citation.standard and rule.name.zh and rule.name.en
        if rule.citation.default:
            assert "verify" in rule.citation.as_text()
    assert {u.protection_class for u in RULES.land_uses} == {"high", "important", "general1", "general2",
                                                             "general3", None}


def test_errors_name_the_rule_and_the_field() -> None:
    data = _raw()
    data["rules"][0]["test"]["min_distance"]["metres"] = -5
    assert any(e.startswith("rule GS-TARGETS-50: test.min_distance.metres:") for e in _errors(data))


def test_cross_field_errors_are_all_reported() -> None:
    data = _raw()
    data["rules"][0]["hazard"]["where"] = {"sensitivty": "high"}
    data["rules"][1]["applies_to"] = {"land_uses": ["castle"]}
    data["rules"][2]["id"] = data["rules"][3]["id"]
    data["rules"][4]["test"] = {"min_distance": {"metres": 5}, "inside_zone": {"zones": ["zone:core"]}}
    errors = _errors(data)
    assert "rule GS-TARGETS-50: hazard.where: layer 'protection_targets' has no column 'sensitivty'" in errors
    assert "rule GS-SENSITIVE-50: applies_to.land_uses: unknown land use 'castle'" in errors
    assert any(e.startswith(f"rule {data['rules'][3]['id']}: id: duplicate") for e in errors)
    assert any(e.startswith("rule HC-STORAGE-5TH-RING: test:") and "exactly one" in e for e in errors)


def test_distance_test_needs_a_hazard_and_attribute_must_be_numeric() -> None:
    data = _raw()
    del data["rules"][0]["hazard"]
    ext = next(r for r in data["rules"] if r["id"] == "EXT-DISTANCE")
    ext["test"]["attribute_distance"]["attribute"] = "address"
    errors = _errors(data)
    assert any(e.startswith("rule GS-TARGETS-50:") and "needs a hazard" in e for e in errors)
    assert "rule EXT-DISTANCE: test.attribute_distance.attribute: column 'address' is text, not a number of metres" \
        in errors


def test_yaml_text_and_garbage() -> None:
    assert parse_rule_set(RULES_FILE.read_text(encoding="utf-8")).version == RULES.version
    assert _errors("version: [unclosed")[0].startswith("not valid YAML")
    assert _errors("- a list")[0].startswith("rule set: expected a mapping")


def test_land_use_by_code_chinese_english_and_alias() -> None:
    assert RULES.land_use("school").protection_class == "high"
    assert RULES.land_use("学校").code == "school"
    assert RULES.land_use("  Residential ").protection_class == "general1"
    assert RULES.land_use("加油站").code == "gas_station_grade3"
    assert RULES.land_use("危险化学品储存").hazardous
    with pytest.raises(UnknownLandUseError, match="'castle'"):
        RULES.land_use("castle")


def test_protection_class_decides_which_rules_apply() -> None:
    school = {r.id for r in RULES.rules_for(RULES.land_use("school"))}
    warehouse = {r.id for r in RULES.rules_for(RULES.land_use("warehouse"))}
    station = {r.id for r in RULES.rules_for(RULES.land_use("gas_station_grade1"))}
    assert "GS-SENSITIVE-50" in school and "GS-SENSITIVE-50" not in warehouse
    assert {"GS-TARGETS-50", "GS1-CITY-CENTRE"} <= station and "GS-SENSITIVE-50" not in station


@pytest.mark.parametrize(("geometry", "problem", "where"), [
    (Polygon([(116.3, 40.1), (116.31, 40.1), (116.3, 40.11), (116.31, 40.11)]), "Self-intersection",
     (116.305, 40.105)),
    (Point(40.1, 116.3), "latitude and longitude look swapped", (40.1, 116.3)),
    (Point(), "empty geometry", None),
    (LineString([(116.3, 40.1), (116.4, 40.1)]), "LineString is not a site", None),
])
def test_invalid_geometry_names_problem_and_place(geometry: Any, problem: str, where: Any) -> None:
    with pytest.raises(GeometryError) as info:
        check_site_geometry(geometry)
    assert problem in info.value.problem
    if where is not None:
        assert info.value.location == pytest.approx(where)


def test_site_from_geojson() -> None:
    assert site_from_geojson({"type": "Point", "coordinates": [116.3, 40.0]}).equals(Point(116.3, 40.0))
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3, 40.0]}, "properties": {}}
    assert site_from_geojson(feature).geom_type == "Point"
    gcj = site_from_geojson({"type": "Point", "coordinates": [116.3, 40.0]}, datum="gcj02")
    assert 100 < GEOD.inv(116.3, 40.0, gcj.x, gcj.y)[2] < 1000  # GCJ-02 offsets are hundreds of metres
    with pytest.raises(GeometryError, match="missing geometry"):
        site_from_geojson(None)
    with pytest.raises(GeometryError, match="malformed GeoJSON Polygon"):
        site_from_geojson({"type": "Polygon", "coordinates": [[[116.3, 40.0], [116.4, 40.0]]]})
    with pytest.raises(ValueError, match="unknown datum"):
        site_from_geojson({"type": "Point", "coordinates": [116.3, 40.0]}, datum="mars")


def test_distances_from_a_point_are_geodesic() -> None:
    rng = np.random.default_rng(3)
    hazards = [Point(x, y) for x, y in zip(116.3 + rng.random(20) * 0.05, 40.0 + rng.random(20) * 0.05,
                                           strict=True)]
    point = Point(116.31, 40.01)
    exact = GEOD.inv([116.31] * 20, [40.01] * 20, [h.x for h in hazards], [h.y for h in hazards])[2]
    np.testing.assert_allclose(distances_m(point, np.asarray(hazards)), exact, atol=1e-6)
    assert distances_m(point, np.asarray([])).shape == (0,)


def test_where_mask_and_merged_where() -> None:
    frame = gpd.GeoDataFrame({"a": ["x", "y", None], "g": pd_int([1, 2, None])},
                             geometry=[Point(0, 0)] * 3, crs="EPSG:4326")
    assert where_mask(frame, {"a": "x"}).tolist() == [True, False, False]
    assert where_mask(frame, {"g": [1, 2]}).tolist() == [True, True, False]
    assert where_mask(frame, {"a": None}).tolist() == [False, False, True]
    assert merged_where([{"g": 1, "a": "x"}, {"g": [3, 4]}]) == {"g": [1, 3, 4]}
    assert merged_where([{"g": 1}, {}]) == {}


def pd_int(values: list[Any]) -> Any:
    import pandas as pd

    return pd.array(values, dtype="Int64")


def _areas(*rows: tuple[str, str, Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"key": [r[0] for r in rows], "area_code": [r[0] for r in rows],
                             "name": [r[0] for r in rows], "area_type": [r[1] for r in rows],
                             "synthetic": [False] * len(rows)},
                            geometry=[r[2] for r in rows], crs="EPSG:4326")


BJ = ("110000", "province", box(115.4, 39.4, 117.5, 41.1))


def test_contours_missing_loaded_and_levels() -> None:
    site = Point(116.0, 40.5)
    use = RULES.land_use("residential")
    none = evaluate_candidates(RULES, site, use, candidates={}, areas=_areas(BJ))
    ir = next(r for r in none.results if r.rule.id == "IR-HIGH-GENERAL1")
    assert (ir.status, ir.message.split(" /")[0]) == ("no_data", "no contour loaded")
    contour = ("risk_contour:HC1:1e-6", "risk_contour", box(115.99, 40.49, 116.01, 40.51))
    hit = evaluate_candidates(RULES, site, use, candidates={}, areas=_areas(BJ, contour))
    assert (hit.verdict, [r.rule.id for r in hit.hits]) == ("VETO", ["IR-HIGH-GENERAL1"])
    office = evaluate_candidates(RULES, site, RULES.land_use("office"), candidates={}, areas=_areas(BJ, contour))
    assert office.verdict == "PASS"


def test_outside_coverage_is_not_a_pass_and_missing_coverage_says_so() -> None:
    outside = evaluate_candidates(RULES, Point(121.47, 31.23), RULES.land_use("school"), candidates={},
                                  areas=_areas(BJ))
    assert outside.verdict == "OUTSIDE_COVERAGE"
    assert {r.status for r in outside.results} <= {"outside_region", "not_applicable"}
    unloaded = evaluate_candidates(RULES, Point(116.0, 40.0), RULES.land_use("school"), candidates={},
                                   areas=_areas())
    assert unloaded.verdict == "OUTSIDE_COVERAGE"
    assert any("coverage areas not loaded" in n for n in unloaded.notes)


def test_outside_zone_test() -> None:
    data = _raw()
    data["rules"].append({
        "id": "TEST-OUTSIDE", "name": {"zh": "测试", "en": "test"},
        "citation": {"standard": "test", "default": True}, "applies_to": {"land_uses": ["school"]},
        "region": "beijing", "test": {"outside_zone": {"zones": ["zone:core"]}}, "outcome": "CONDITIONAL"})
    rules = parse_rule_set(data)
    core = ("zone:core", "zone", box(116.32, 39.86, 116.44, 39.97))
    inside = evaluate_candidates(rules, Point(116.4, 39.9), rules.land_use("school"), candidates={},
                                 areas=_areas(BJ, core))
    outside = evaluate_candidates(rules, box(116.43, 39.9, 116.45, 39.91), rules.land_use("school"), candidates={},
                                  areas=_areas(BJ, core))
    assert inside.verdict == "PASS" and outside.verdict == "CONDITIONAL"


def test_search_distances_cover_fixed_and_attribute_rules() -> None:
    rules = RULES.rules_for(RULES.land_use("school"))
    search = search_distances(rules, {("hazchem_sites", "external_distance_m"): 2500.0})
    assert search == {"hazchem_sites": 2500.0, "lines": 200.0}
    assert search_distances(rules, {})["hazchem_sites"] == 1000.0


def test_existing_targets_map_to_land_uses_or_stand_ins() -> None:
    assert existing_target_use(RULES, "school", "high").code == "school"  # type: ignore[union-attr]
    stand_in = existing_target_use(RULES, "college", "high")
    assert stand_in is not None and stand_in.protection_class == "high"
    assert existing_target_use(RULES, "shop", None) is None
