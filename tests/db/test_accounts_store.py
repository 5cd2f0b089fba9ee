"""Users, sign-in and API tokens on both stores (PostGIS and the GeoPackage): the store
contract of geo.stores.accounts and the capability geo.capabilities.accounts on top of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from geo.accounts import RoleBook, UserRecord, parse_roles
from geo.capabilities import accounts
from geo.capabilities.audit_log import read_log, verify
from geo.credentials import AccountLocked, AuthenticationFailed, LoginState, TokenRecord, hash_password
from geo.errors import BadInput, Conflict, NotFound
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import Store
from layers.catalog import CATALOG
from webmap.settings import Settings

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)
PASSWORD = "correct horse battery"
ADMIN = "cli:tester"


@pytest.fixture(scope="module")
def roles() -> RoleBook:
    return parse_roles(Settings().paths.roles_path.read_text(encoding="utf-8"), layers=[lay.id for lay in CATALOG])


def add(store: Store, roles: RoleBook, name: str = "zhao", role: str = "district_officer",
        scope: tuple[str, ...] = ("110105",)) -> UserRecord:
    return accounts.add_user(store, roles, name=name, role=role, password=PASSWORD, scope=scope,
                             display_name="赵安监", actor=ADMIN, now=T0)


def actions(store: Store) -> list[tuple[str, str, str]]:
    return [(e.action, e.target, e.outcome) for e in read_log(store)]


# -- the store contract --------------------------------------------------------------------


def test_users_are_stored_listed_and_updated(store: Store) -> None:
    at = T0 + timedelta(microseconds=123456)
    zhao = UserRecord("zhao", "赵", "district_officer", ("110101", "110105"), "h1", False, at, at)
    store.add_user(zhao)
    store.add_user(UserRecord("a.b", "甲", "viewer", (), "h2", True, at, at))
    assert store.get_user("zhao") == zhao and store.get_user("nobody") is None
    assert [u.name for u in store.list_users()] == ["a.b", "zhao"]  # byte order: "." before letters
    with pytest.raises(Conflict, match="'zhao' exists already"):
        store.add_user(zhao)
    changed = replace(zhao, role="commander", scope=(), disabled=True, password_hash="h3", updated_at=at + S)
    store.update_user(changed)
    assert store.get_user("zhao") == changed
    with pytest.raises(NotFound, match="no user 'qian'"):
        store.update_user(replace(zhao, name="qian"))


def test_login_state_changes_atomically_and_clears(store: Store) -> None:
    assert store.get_login_state("zhao") == LoginState()
    first = store.change_login_state("zhao", lambda s: replace(s, failures=s.failures + 1, last_failure_at=T0))
    assert first == LoginState(1, T0, None) == store.get_login_state("zhao")
    locked = store.change_login_state("zhao", lambda s: replace(s, failures=5, locked_until=T0 + 15 * 60 * S))
    assert store.get_login_state("zhao") == locked and store.get_login_state("qian") == LoginState()
    assert store.change_login_state("zhao", lambda _: LoginState()).clear
    assert store.get_login_state("zhao") == LoginState()


def test_tokens_are_stored_by_id(store: Store) -> None:
    at = T0
    store.add_user(UserRecord("zhao", "赵", "commander", (), "h", False, at, at))
    one = TokenRecord("abcdef012345", "script", "zhao", "viewer", ("110105",), "0" * 64, at, at + 86400 * S)
    two = TokenRecord("abcdef012346", "bench", "zhao", "commander", (), "1" * 64, at + S)
    store.add_token(two)
    store.add_token(one)
    assert store.get_token("abcdef012345") == one and store.get_token("abcdef01234") is None
    assert [t.token_id for t in store.list_tokens()] == ["abcdef012345", "abcdef012346"]  # by creation time
    assert store.list_tokens("qian") == []
    with pytest.raises(Conflict, match="abcdef012345"):
        store.add_token(one)
    with pytest.raises(NotFound, match="no user 'qian'"):
        store.add_token(replace(one, token_id="ffffff000000", user="qian"))
    used = replace(one, last_used_at=at + 5 * S, revoked_at=at + 9 * S)
    store.update_token(used)
    assert store.get_token("abcdef012345") == used
    with pytest.raises(NotFound):
        store.update_token(replace(one, token_id="000000000000"))


# -- users and signing in ------------------------------------------------------------------


def test_add_user_checks_and_audits(store: Store, roles: RoleBook) -> None:
    user = add(store, roles)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert actions(store) == [("user_add", "zhao", "ok")]
    assert read_log(store)[0].actor == ADMIN and read_log(store)[0].details["scope"] == ["110105"]
    for kw, fragment in (({"name": "Zhao"}, "user name"), ({"role": "pilot"}, "unknown role"),
                         ({"scope": ()}, "requires a scope"), ({"scope": ("朝阳",)}, "not an area code")):
        with pytest.raises(BadInput, match=fragment):
            add(store, roles, **kw)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="password"):
        accounts.add_user(store, roles, name="qian", role="viewer", password="short", actor=ADMIN)
    with pytest.raises(Conflict):
        add(store, roles)
    assert len(store.list_users()) == 1


def test_authenticate_and_the_principal(store: Store, roles: RoleBook) -> None:
    add(store, roles)
    principal = accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="10.0.0.7", now=T0)
    assert (principal.name, principal.role, principal.scope, principal.token_id) == (
        "zhao", "district_officer", ("110105",), None)
    assert principal.can("veto.audit") and not principal.can("veto.run") and principal.filters("risk_sources")
    accounts.logout(store, principal, remote="10.0.0.7", now=T0 + S)
    entries = read_log(store)
    assert [(e.action, e.actor, e.remote) for e in entries[1:]] == [("login", "zhao", "10.0.0.7"),
                                                                  ("logout", "zhao", "10.0.0.7")]
    assert accounts.principal_for_user(store, "zhao", roles=roles) == principal
    accounts.set_disabled(store, "zhao", True, actor=ADMIN)
    assert accounts.principal_for_user(store, "zhao", roles=roles) is None  # a session ends with the account
    with pytest.raises(AuthenticationFailed, match="disabled"):
        accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="10.0.0.7", now=T0 + 2 * S)
    accounts.set_disabled(store, "zhao", False, actor=ADMIN)
    assert accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="r", now=T0 + 3 * S).name == "zhao"


def test_unknown_user_and_wrong_password_look_the_same(store: Store, roles: RoleBook) -> None:
    add(store, roles)
    messages = []
    for name, password in (("zhao", "wrong password!"), ("nobody", PASSWORD), ("Not A Name!", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as caught:
            accounts.authenticate(store, name, password, roles=roles, remote="r", now=T0)
        messages.append(str(caught.value))
    assert len(set(messages)) == 1
    assert store.get_login_state("nobody").failures == 1  # unknown names back off and lock too
    assert [(a, o) for a, _, o in actions(store)[1:]] == [("login_failed", "denied")] * 3


def fail_until(store: Store, roles: RoleBook, failures: int) -> datetime:
    """``failures`` wrong passwords for zhao, each as soon as the back-off allows; the last one's time."""
    at = T0
    for n in range(failures):
        at = T0 + (2 ** n - 1) * S  # back-off after k failures: 2**(k-1) s
        with pytest.raises(AuthenticationFailed):
            accounts.authenticate(store, "zhao", "wrong password!", roles=roles, remote="r", now=at)
    return at


def test_fifth_failure_locks_for_fifteen_minutes(store: Store, roles: RoleBook) -> None:
    add(store, roles)
    at4 = fail_until(store, roles, 4)
    assert store.get_login_state("zhao").failures == 4
    with pytest.raises(AccountLocked) as backing_off:  # within the 8 s back-off: refused unchecked
        accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="r", now=at4 + 7 * S)
    assert backing_off.value.retry_after_s == 1
    with pytest.raises(AccountLocked) as fifth:
        accounts.authenticate(store, "zhao", "wrong password!", roles=roles, remote="r", now=at4 + 8 * S)
    at5 = at4 + 8 * S
    assert fifth.value.until == at5 + timedelta(minutes=15) and fifth.value.retry_after_s == 900
    with pytest.raises(AccountLocked):  # the 6th attempt, right password, 14:59 after the 5th failure
        accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="r",
                              now=at5 + timedelta(minutes=14, seconds=59))
    principal = accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="r",
                                      now=at5 + timedelta(minutes=15))
    assert principal.name == "zhao" and store.get_login_state("zhao") == LoginState()
    assert [o for a, _, o in actions(store) if a == "login_failed"] == ["denied"] * 4 + ["refused", "denied", "refused"]


def test_four_failures_then_the_right_password_signs_in(store: Store, roles: RoleBook) -> None:
    add(store, roles)
    at4 = fail_until(store, roles, 4)
    assert accounts.authenticate(store, "zhao", PASSWORD, roles=roles, remote="r", now=at4 + 8 * S).name == "zhao"
    assert store.get_login_state("zhao").clear


def test_a_new_password_clears_the_lock_and_old_hashes_are_upgraded(store: Store, roles: RoleBook) -> None:
    from argon2 import PasswordHasher

    add(store, roles)
    fail_until(store, roles, 5)
    accounts.set_password(store, "zhao", "a brand new secret", actor=ADMIN)
    assert store.get_login_state("zhao").clear
    user = store.get_user("zhao")
    assert user is not None
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("a brand new secret")
    store.update_user(replace(user, password_hash=weak))
    accounts.authenticate(store, "zhao", "a brand new secret", roles=roles, remote="r")
    upgraded = store.get_user("zhao")
    assert upgraded is not None and upgraded.password_hash != weak
    assert upgraded.password_hash.startswith("$argon2id$v=19$m=65536")


def test_set_role_and_ensure_user(store: Store, roles: RoleBook) -> None:
    add(store, roles)
    with pytest.raises(BadInput, match="requires a scope"):
        accounts.set_role(store, roles, "zhao", "district_officer", scope=(), actor=ADMIN)
    user = accounts.set_role(store, roles, "zhao", "planner", actor=ADMIN)
    assert (user.role, user.scope) == ("planner", ("110105",))  # the scope stays unless given
    first = accounts.ensure_user(store, roles, name="bench", role="commander", actor=ADMIN)
    assert accounts.authenticate(store, "bench", first, roles=roles, remote="r").role == "commander"
    accounts.set_disabled(store, "bench", True, actor=ADMIN)
    second = accounts.ensure_user(store, roles, name="bench", role="viewer", actor=ADMIN)
    assert second != first
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(store, "bench", first, roles=roles, remote="r", now=T0)
    assert accounts.authenticate(store, "bench", second, roles=roles, remote="r", now=T0 + S).role == "viewer"
    assert hash_password(second) != second


# -- API tokens ----------------------------------------------------------------------------


def test_token_life_cycle(store: Store, roles: RoleBook) -> None:
    add(store, roles, role="commander", scope=())
    record, secret = accounts.create_token(store, roles, user="zhao", name="nightly export", role="viewer",
                                           scope=["110105"], expires_at=T0 + timedelta(days=1), actor=ADMIN, now=T0)
    assert store.get_token(record.token_id) == record and secret not in str(store.list_tokens())
    principal = accounts.principal_for_token(store, secret, roles=roles, now=T0 + S)
    assert principal is not None and principal.role == "viewer" and principal.scope == ("110105",)
    assert principal.actor == f"zhao/token:{record.token_id}"
    touched = store.get_token(record.token_id)
    assert touched is not None and touched.last_used_at == T0 + S
    accounts.principal_for_token(store, secret, roles=roles, now=T0 + 59 * S)  # not a write per request
    assert store.get_token(record.token_id) == touched
    accounts.principal_for_token(store, secret, roles=roles, now=T0 + 61 * S)
    assert store.get_token(record.token_id).last_used_at == T0 + 61 * S  # type: ignore[union-attr]
    accounts.revoke_token(store, record.token_id, actor=ADMIN, now=T0 + 100 * S)
    assert accounts.principal_for_token(store, secret, roles=roles, now=T0 + 101 * S) is None
    again = accounts.revoke_token(store, record.token_id, actor=ADMIN)
    assert again.revoked_at == T0 + 100 * S
    assert [a for a, _, _ in actions(store)] == ["user_add", "token_create", "token_revoke"]
    with pytest.raises(NotFound):
        accounts.revoke_token(store, "000000000000", actor=ADMIN)


@pytest.mark.parametrize(("after", "valid"), [(-S, True), (timedelta(0), False), (S, False)])
def test_token_expiry_to_the_second(store: Store, roles: RoleBook, after: timedelta, valid: bool) -> None:
    add(store, roles)
    expires = T0 + timedelta(hours=1)
    _, secret = accounts.create_token(store, roles, user="zhao", name="n", expires_at=expires, actor=ADMIN, now=T0)
    assert (accounts.principal_for_token(store, secret, roles=roles, now=expires + after) is not None) is valid


def test_tokens_never_exceed_their_user(store: Store, roles: RoleBook) -> None:
    add(store, roles)  # a district officer of 110105
    for kw, fragment in (({"role": "admin"}, "grants more than"), ({"scope": ["110108"]}, "not within"),
                         ({"scope": []}, "not within"), ({"name": " "}, "token name"),
                         ({"expires_at": T0}, "not in the future")):
        with pytest.raises(BadInput, match=fragment):
            accounts.create_token(store, roles, **{"user": "zhao", "name": "n", "actor": ADMIN, "now": T0, **kw})
    with pytest.raises(NotFound):
        accounts.create_token(store, roles, user="qian", name="n", actor=ADMIN)
    _, secret = accounts.create_token(store, roles, user="zhao", name="n", role="viewer", actor=ADMIN, now=T0)
    assert accounts.principal_for_token(store, secret, roles=roles, now=T0) is not None
    accounts.set_role(store, roles, "zhao", "viewer", scope=["110105"], actor=ADMIN)
    assert accounts.principal_for_token(store, secret, roles=roles, now=T0) is not None  # viewer covers viewer
    accounts.set_role(store, roles, "zhao", "viewer", scope=["110101"], actor=ADMIN)
    assert accounts.principal_for_token(store, secret, roles=roles, now=T0) is None  # scope now outside the user's
    accounts.set_role(store, roles, "zhao", "district_officer", scope=["110105"], actor=ADMIN)
    assert accounts.principal_for_token(store, secret, roles=roles, now=T0) is not None
    accounts.set_disabled(store, "zhao", True, actor=ADMIN)
    assert accounts.principal_for_token(store, secret, roles=roles, now=T0) is None


def test_token_ids_that_clash_or_share_a_prefix(store: Store, roles: RoleBook) -> None:
    add(store, roles)
    first, first_secret = accounts.create_token(store, roles, user="zhao", name="a", token_ids=["abcdef012345"],
                                                actor=ADMIN)
    clash, _ = accounts.create_token(store, roles, user="zhao", name="b", token_ids=["abcdef012345"], actor=ADMIN)
    assert first.token_id == "abcdef012345" and clash.token_id != first.token_id  # a fresh id instead
    _, near_secret = accounts.create_token(store, roles, user="zhao", name="c", token_ids=["abcdef012346"],
                                           actor=ADMIN)
    assert accounts.principal_for_token(store, first_secret, roles=roles).token_id == "abcdef012345"  # type: ignore[union-attr]
    assert accounts.principal_for_token(store, near_secret, roles=roles).token_id == "abcdef012346"  # type: ignore[union-attr]
    forged = first_secret[:-6] + near_secret[-6:]  # right id, wrong secret
    for bad in (forged, "rmt_abcdef01234_" + first_secret[-43:], first_secret.replace("rmt_", ""), "", "Bearer x"):
        assert accounts.principal_for_token(store, bad, roles=roles) is None


# -- schema upgrades -----------------------------------------------------------------------


def _alembic(url: str, action: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, make_url

    from geo.stores.postgis import MIGRATIONS

    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
    finally:
        engine.dispose()


def test_postgis_upgrades_from_0004_and_downgrades_again(make_pg_database: Callable[..., str],
                                                          roles: RoleBook) -> None:
    from sqlalchemy import inspect

    url = make_pg_database()
    _alembic(url, "upgrade", "0004")
    store = PostGISStore(url)
    try:
        store.init_schema()
        assert store.info().schema_version == "0005"
        add(store, roles)
        assert verify(store).entries == 1
        store.close()
        _alembic(url, "downgrade", "0004")
        tables = set(inspect(store.engine).get_table_names())
        assert not tables & {"riskmap_users", "riskmap_api_tokens", "riskmap_login_failures", "riskmap_audit_log"}
    finally:
        store.close()


def test_a_geopackage_from_before_accounts_gets_the_tables(tmp_path: Path, roles: RoleBook) -> None:
    path = tmp_path / "old.gpkg"
    GeoPackageStore(path).init_schema()
    con = sqlite3.connect(path)
    for table in ("riskmap_audit_log", "riskmap_login_failures", "riskmap_api_tokens", "riskmap_users"):
        con.execute(f"DROP TABLE {table}")  # as files made before schema 0003
    con.execute("UPDATE riskmap_meta SET value = '0002' WHERE name = 'schema_version'")
    con.commit()
    con.close()
    store = GeoPackageStore(path)
    store.init_schema()
    try:
        assert store.info().schema_version == "0003"
        add(store, roles)
        assert verify(store).entries == 1 and store.list_users()[0].name == "zhao"
    finally:
        store.close()
