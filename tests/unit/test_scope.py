"""The region-scope model (geo.scope): area codes -> row filters, which layers and kinds a
role's scope filters, cache keys; the stores' shared ``where`` handling of ``any_of``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo.accounts import Principal, parse_roles
from geo.entities import get_entity
from geo.errors import BadInput
from geo.scope import (
    ANY_OF,
    AreaScope,
    LayerRows,
    and_filter,
    code_level,
    is_scoped_where,
    scope_key,
    scope_of,
    scoped_where,
)
from geo.stores.frames import canonical_where, check_where, filter_frame, where_columns
from geo.stores.protocol import ClusterSpec
from layers.catalog import CATALOG

ROLES = parse_roles((Path(__file__).resolve().parents[2] / "data" / "roles.yaml").read_text(encoding="utf-8"),
                    layers=[layer.id for layer in CATALOG])
LAYERS = [LayerRows(layer.id, layer.entity, layer.where) for layer in CATALOG]


def principal(role: str, *scope: str) -> Principal:
    r = ROLES.role(role)
    return Principal("u", "u", r.name, r.permissions, tuple(scope), r.layers, r.scoped_layers)


# -- area codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "level"), [("110105", "county"), ("131000", "city"), ("110100", "city"),
                                             ("130000", "province"), ("131082", "county")])
def test_code_levels(code: str, level: str) -> None:
    assert code_level(code) == level


def test_area_scope_drops_codes_inside_others_and_filters_by_level() -> None:
    scope = AreaScope.of(["110105", "110000", "131082", "131000", "120114"])
    assert scope == AreaScope(counties=("120114",), cities=("131000",), provinces=("110000",))
    assert scope.codes == ("110000", "120114", "131000")
    assert scope.alternatives() == [{"county_code": ["120114"]}, {"city_code": ["131000"]},
                                    {"province_code": ["110000"]}]
    assert AreaScope.of(["110105", "110108"]).alternatives() == [{"county_code": ["110105", "110108"]}]


def test_area_scope_membership() -> None:
    scope = AreaScope.of(["110105", "131000"])
    assert scope.contains(county="110105") and scope.contains(city="131000", county="131082")
    assert not scope.contains(county="110108", city="110100", province="110000")
    assert not scope.contains()  # a row without codes is in no scope
    assert scope.holds_area("110105") and scope.holds_area("131082") and not scope.holds_area("110108")
    assert AreaScope.of(["110000"]).holds_area("110100-ETDA") and not scope.holds_area("110100-ETDA")


def test_area_scope_refuses_bad_and_empty_codes() -> None:
    with pytest.raises(BadInput, match="'1101'"):
        AreaScope.of(["1101"])
    with pytest.raises(ValueError, match="at least one code"):
        AreaScope.of([])


def test_and_filter_merges_one_alternative_and_ors_several() -> None:
    assert and_filter({"level": "red"}, [{"county_code": ["110105"]}]) == {"level": "red",
                                                                            "county_code": ["110105"]}
    # the same column on both sides: both must hold, so the alternative goes under any_of
    assert and_filter({"county_code": "110108"}, [{"county_code": ["110105"]}]) == {
        "county_code": "110108", ANY_OF: [{"county_code": ["110105"]}]}
    assert and_filter(None, [{"a": 1}, {"b": 2}]) == {ANY_OF: [{"a": 1}, {"b": 2}]}
    with pytest.raises(ValueError, match="any_of"):
        and_filter({ANY_OF: []}, [{"a": 1}])


# -- roles -> scopes -------------------------------------------------------------------------


def test_no_scope_without_codes_or_scoped_layers() -> None:
    assert scope_of(None, LAYERS) is None
    assert scope_of(principal("commander"), LAYERS) is None  # no area codes: everywhere
    assert scope_of(principal("admin", "110105"), LAYERS) is None  # the role scopes no layer
    assert scoped_where(None, "risk_sources", {"level": "red"}) == {"level": "red"}
    assert scoped_where(None, "risk_sources") is None and scope_key(None, ["risk_sources"]) == ()


def test_district_officer_scope_filters_its_layers_and_keeps_public_ones() -> None:
    scope = scope_of(principal("district_officer", "110105"), LAYERS)
    assert scope is not None
    assert scope.layers == ROLES.role("district_officer").scoped_layers
    assert scope.layer_where("risk_sources", {}) == {"county_code": ["110105"]}
    assert scope.layer_where("gas_stations", {"site_type": "gas_station"}) == {"site_type": "gas_station",
                                                                               "county_code": ["110105"]}
    assert scope.layer_where("fire_stations", {"resource_type": "fire_station"}) == {"resource_type": "fire_station"}
    assert scope.layer_key("risk_sources") == ("110105",) and scope.layer_key("districts") == ()
    # whole-entity reads: units (no layer) and the hazards filtered; fire stations, shelters and police
    # stations (unscoped layers of the same entity) stay open; targets and areas never filtered
    assert set(scope.kinds) == {"units", "risk_sources", "hazchem_sites", "hidden_hazards", "resources"}
    assert scope.kind_where("resources") == {ANY_OF: [
        {"county_code": ["110105"]}, {"resource_type": "fire_station"}, {"resource_type": "shelter"},
        {"resource_type": "police_station"}]}
    assert scope.kind_where("hidden_hazards", {"status": "open"}) == {"status": "open", "county_code": ["110105"]}
    assert scope.kind_where("protection_targets") == {} and scope.kind_where("areas", {"area_type": "x"}) == {
        "area_type": "x"}


def test_commanders_keep_resources_across_borders() -> None:
    scope = scope_of(principal("commander", "110105"), LAYERS)
    assert scope is not None and not scope.filters_kind("resources") and scope.filters_kind("units")
    assert scope.filters_kind("hidden_hazards") and scope.filters_kind("hazchem_sites")


def test_a_kind_the_role_cannot_see_is_filtered_when_enterprise_level() -> None:
    scope = scope_of(principal("analyst", "130000"), LAYERS)
    assert scope is not None
    assert scope.kind_where("hidden_hazards") == {"province_code": ["130000"]}  # no hidden_hazards layer for them
    assert not scope.filters_kind("resources") and not scope.filters_kind("protection_targets")


def test_mixed_scopes_or_their_levels() -> None:
    scope = scope_of(principal("district_officer", "110105", "131000"), LAYERS)
    assert scope is not None
    assert scope.layer_where("risk_sources", None) == {ANY_OF: [{"county_code": ["110105"]},
                                                                {"city_code": ["131000"]}]}


def test_cache_keys_separate_scopes_only_where_they_filter() -> None:
    a = scope_of(principal("district_officer", "110105"), LAYERS)
    b = scope_of(principal("district_officer", "110108"), LAYERS)
    c = scope_of(principal("commander", "110105"), LAYERS)
    assert a is not None and b is not None and c is not None
    assert a.kind_key(["risk_sources"]) != b.kind_key(["risk_sources"])
    assert a.kind_key(["resources"]) != c.kind_key(["resources"]) and c.kind_key(["resources"]) == ()
    assert a.kind_key(["areas", "protection_targets"]) == ()
    hash(a.kind_key(["risk_sources", "resources"]))


# -- the stores' where ---------------------------------------------------------------------------


def test_filter_frame_with_any_of() -> None:
    frame = pd.DataFrame({"county_code": ["110105", "110108", None, "131082"],
                          "city_code": ["110100", "110100", None, "131000"],
                          "level": ["red", "red", "red", "blue"]})
    where = {"level": ["red", "blue"], ANY_OF: [{"county_code": ["110105"]}, {"city_code": "131000"}]}
    assert filter_frame(frame, where).tolist() == [True, False, False, True]
    assert filter_frame(frame, {ANY_OF: []}).tolist() == [False] * 4  # no alternative: no row
    assert where_columns(where) == ["level", "county_code", "city_code"]


def test_check_where_validates_any_of() -> None:
    entity = get_entity("risk_sources")
    assert check_where(entity, {ANY_OF: [{"county_code": "1"}]}) == {ANY_OF: [{"county_code": "1"}]}
    with pytest.raises(BadInput, match="no column 'nope'"):
        check_where(entity, {ANY_OF: [{"nope": 1}]})
    for bad in ("county_code", {"county_code": 1}, [{ANY_OF: []}], [["county_code"]]):
        with pytest.raises(ValueError, match="any_of"):
            check_where(entity, {ANY_OF: bad})


def test_cluster_identity_keeps_its_form_and_tells_scopes_apart() -> None:
    spec = ClusterSpec(column="level", values=("red", "blue"))
    plain = spec.identity("risk_sources", {"level": ["red", "blue"]}, extent=4096)
    assert plain == spec.identity("risk_sources", {"level": ["blue", "red"]}, extent=4096)
    assert '"where": {"level": ["blue", "red"]}' in plain[1]
    a = spec.identity("risk_sources", {ANY_OF: [{"county_code": ["110105"]}, {"city_code": ["131000"]}]},
                      extent=4096)
    b = spec.identity("risk_sources", {ANY_OF: [{"county_code": ["110108"]}, {"city_code": ["131000"]}]},
                      extent=4096)
    assert a[0] != b[0] != plain[0]
    assert canonical_where({"b": [2, 1], "a": 1}) == {"a": 1, "b": [1, 2]}


def test_a_scopes_filter_is_told_from_a_layers() -> None:
    assert is_scoped_where({"county_code": ["110105"]}) and is_scoped_where({ANY_OF: []})
    assert is_scoped_where({"site_type": "gas_station", "province_code": ["130000"]})
    assert not is_scoped_where({"site_type": "gas_station"}) and not is_scoped_where(None)
    assert not any(is_scoped_where(layer.where) for layer in CATALOG)  # every layer's cells recounted in a load
