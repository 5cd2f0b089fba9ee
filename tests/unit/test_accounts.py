"""Roles as data (data/roles.yaml), region scopes and principals: the pure rules of geo.accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from geo.accounts import (
    PERMISSIONS,
    Principal,
    RoleFileError,
    UserRecord,
    area_within,
    check_display_name,
    check_role_scope,
    check_scope,
    check_user_name,
    parse_roles,
    scope_within,
)
from geo.errors import BadInput
from layers.catalog import CATALOG
from webmap.settings import Settings

LAYERS = [layer.id for layer in CATALOG]
ROLES_TEXT = Settings().paths.roles_path.read_text(encoding="utf-8")


def edited(change: dict[str, object], *, role: str | None = None) -> str:
    """The shipped role file with ``change`` applied at the top level or to one role."""
    data = yaml.safe_load(ROLES_TEXT)
    (data["roles"][role] if role else data).update(change)
    return yaml.safe_dump(data, allow_unicode=True)


def problems(text: str) -> list[str]:
    with pytest.raises(RoleFileError) as caught:
        parse_roles(text, layers=LAYERS)
    return caught.value.problems


def test_the_shipped_role_file_validates_against_the_catalog() -> None:
    book = parse_roles(ROLES_TEXT, layers=LAYERS)
    assert {"admin", "commander", "planner", "analyst", "district_officer", "viewer"} <= set(book.roles)
    assert set(book.permissions) == set(PERMISSIONS)
    assert all(words.zh and words.en for words in book.permissions.values())
    admin, viewer, officer = book.role("admin"), book.role("viewer"), book.role("district_officer")
    assert admin.permissions == frozenset(PERMISSIONS) and admin.layers == frozenset(LAYERS)
    assert viewer.permissions == {"map.view"} and "risk_sources" not in viewer.layers
    assert "protection_targets" in viewer.layers and "districts" in viewer.layers
    assert officer.requires_scope and "risk_sources" in officer.scoped_layers
    assert "protection_targets" not in officer.scoped_layers and "districts" not in officer.scoped_layers
    commander = book.role("commander")  # emergency resources across borders stay visible to commanders
    assert not {"rescue_teams", "fire_stations", "experts"} & commander.scoped_layers


def test_unknown_permission_layer_and_role_are_named() -> None:
    assert problems(edited({"permissions": ["map.view", "map.fly"]}, role="viewer")) == [
        "roles.viewer.permissions: unknown permission 'map.fly'"]
    assert problems(edited({"layers": ["districts", "unicorns"]}, role="viewer")) == [
        "roles.viewer.layers: unknown layer 'unicorns'"]
    assert problems(edited({"scoped_layers": ["risk_sources"]}, role="viewer")) == [
        "roles.viewer.scoped_layers: 'risk_sources' is not among the role's layers"]
    with pytest.raises(BadInput, match="unknown role 'pilot'"):
        parse_roles(ROLES_TEXT, layers=LAYERS).role("pilot")


def test_permissions_must_be_exactly_the_apps() -> None:
    data = yaml.safe_load(ROLES_TEXT)
    del data["permissions"]["export"]
    data["permissions"]["teleport"] = {"zh": "传送", "en": "teleport"}
    found = problems(yaml.safe_dump(data, allow_unicode=True))
    assert "permissions: 'export' missing (the app checks it)" in found
    assert any(p.startswith("permissions.teleport: unknown permission") for p in found)
    assert "roles.admin.permissions: unknown permission 'export'" in found


def test_malformed_files_name_the_key() -> None:
    assert problems("roles: [")[0].startswith("not valid YAML")
    assert problems(edited({"requires_scope": "maybe"}, role="viewer")) == [
        "roles.viewer.requires_scope: 'maybe' — input should be a valid boolean, unable to interpret input"]
    assert problems(edited({"colour": "red"}, role="viewer")) == ["roles.viewer.colour: unknown key"]
    assert problems(edited({"version": ""})) == ["version: '' — string should have at least 1 character"]


def test_role_covers_is_permissions_layers_and_scoping() -> None:
    book = parse_roles(ROLES_TEXT, layers=LAYERS)
    admin, commander, viewer, officer = (book.role(n) for n in ("admin", "commander", "viewer", "district_officer"))
    assert admin.covers(commander) and admin.covers(viewer) and commander.covers(viewer)
    assert not viewer.covers(commander) and not commander.covers(admin)
    assert not officer.covers(admin)  # admin would see the officer's scoped layers unscoped
    assert all(role.covers(role) for role in book.roles.values())


@pytest.mark.parametrize(("code", "outer", "inside"), [
    ("110105", "110105", True), ("110106", "110105", False),
    ("130601", "130000", True), ("120101", "130000", False),
    ("130601", "130600", True), ("130701", "130600", False),
])
def test_area_within_follows_the_code_hierarchy(code: str, outer: str, inside: bool) -> None:
    assert area_within(code, outer) is inside


def test_scopes() -> None:
    assert check_scope([" 110105", "110101", "110105"]) == ("110101", "110105")
    for bad in ("11010", "1101050", "朝阳区", ""):
        with pytest.raises(BadInput, match="not an area code"):
            check_scope([bad])
    assert scope_within(("110105",), ()) and scope_within((), ())
    assert not scope_within((), ("110105",))  # everywhere is not within a district
    assert scope_within(("110105", "110108"), ("110000",)) and not scope_within(("110105", "120101"), ("110000",))
    officer = parse_roles(ROLES_TEXT, layers=LAYERS).role("district_officer")
    with pytest.raises(BadInput, match="requires a scope"):
        check_role_scope(officer, ())
    check_role_scope(officer, ("110105",))


@pytest.mark.parametrize(("name", "ok"), [
    ("a", False), ("ab", True), ("a" * 32, True), ("a" * 33, False), ("Alice", False), ("1abc", False),
    ("zhang.san-01", True), ("li si", False), ("王五", False),
])
def test_user_names_at_their_limits(name: str, ok: bool) -> None:
    if ok:
        assert check_user_name(name) == name
    else:
        with pytest.raises(BadInput, match="user name"):
            check_user_name(name)


def test_display_names_at_their_limits() -> None:
    assert check_display_name(" 张三 ") == "张三" and check_display_name("张" * 64) == "张" * 64
    for bad in ("", "  ", "张" * 65, "a\tb"):
        with pytest.raises(BadInput, match="display name"):
            check_display_name(bad)


def test_principal_of_a_user_and_of_a_token() -> None:
    book = parse_roles(ROLES_TEXT, layers=LAYERS)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    user = UserRecord("zhao", "赵", "district_officer", ("110105",), "hash", False, at, at)
    session = Principal.of(user, book.role("district_officer"))
    assert session.actor == "zhao" and session.scope == ("110105",) and session.token_id is None
    assert session.can("veto.audit") and not session.can("users.manage")
    assert session.sees("risk_sources") and session.filters("risk_sources") and not session.filters("districts")
    token = Principal.of(user, book.role("viewer"), scope=("110105",), token_id="0123456789ab")
    assert token.actor == "zhao/token:0123456789ab" and not token.sees("risk_sources")
    everywhere = Principal.of(UserRecord("qian", "钱", "commander", (), "h", False, at, at), book.role("commander"))
    assert not everywhere.filters("risk_sources")  # an empty scope filters nothing


def test_the_roles_path_follows_the_data_folder_or_its_own_setting(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISKMAP_ROLES_PATH", raising=False)
    assert Settings(data_dir=tmp_path).paths.roles_path == tmp_path / "roles.yaml"
    monkeypatch.setenv("RISKMAP_ROLES_PATH", str(tmp_path / "edited.yaml"))
    assert Settings().paths.roles_path == tmp_path / "edited.yaml"


def test_read_roles_parses_again_only_when_the_file_changes(tmp_path: Path) -> None:
    from geo.capabilities.accounts import read_roles
    from geo.capabilities.cache import Cache

    path, cache = tmp_path / "roles.yaml", Cache()
    path.write_text(ROLES_TEXT, encoding="utf-8")
    first = read_roles(path, layers=LAYERS, cache=cache)
    assert read_roles(path, layers=LAYERS, cache=cache) is first
    path.write_text(edited({"version": "2026-02"}), encoding="utf-8")
    assert read_roles(path, layers=LAYERS, cache=cache).version == "2026-02"
    with pytest.raises(RoleFileError, match="unknown layer 'districts'"):
        read_roles(path, layers=[lay for lay in LAYERS if lay != "districts"], cache=cache)
