"""The tamper-evident audit log on both stores: the chain verifies, an entry edited by hand
(raw SQL) makes verify name it, concurrent appends keep one chain, and the stores refuse
UPDATE and DELETE on the log."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.audit_log import GENESIS, AuditQuery
from geo.capabilities.audit_log import append, log_export, read_log, record_file_version, verify
from geo.errors import BadInput
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import Store

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)


def fill(store: Store, n: int = 5) -> None:
    for i in range(1, n + 1):
        append(store, "zhao" if i % 2 else "qian/token:0123456789ab", "veto" if i % 3 else "export",
               target=f"site {i}", details={"verdict": "VETO", "distance_m": 12.5 + i, "rules": ["GS-50"]},
               remote="10.0.0.7", at=T0 + timedelta(minutes=i))


def raw_sql(store: Store, *statements: str) -> None:
    """Run SQL on the store's tables as their owner would, around the code."""
    if isinstance(store, PostGISStore):
        with store.engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    else:
        assert isinstance(store, GeoPackageStore)
        con = sqlite3.connect(store.path)
        try:
            for statement in statements:
                con.execute(statement)
            con.commit()
        finally:
            con.close()


def unprotect(store: Store) -> list[str]:
    """What a database owner (PostGIS) or anyone with the file (GeoPackage) does first to edit the log."""
    if isinstance(store, PostGISStore):
        return ["ALTER TABLE riskmap_audit_log DISABLE TRIGGER riskmap_audit_log_no_change"]
    return ["DROP TRIGGER riskmap_audit_log_no_update", "DROP TRIGGER riskmap_audit_log_no_delete"]


def test_entries_chain_and_verify(store: Store) -> None:
    assert verify(store).entries == 0 and verify(store).last_hash == GENESIS
    fill(store)
    entries = read_log(store)
    assert [e.id for e in entries] == [1, 2, 3, 4, 5] and entries[0].prev_hash == GENESIS
    assert entries[0].details == {"verdict": "VETO", "distance_m": 13.5, "rules": ["GS-50"]}
    assert entries[0].at == T0 + timedelta(minutes=1) and entries[0].remote == "10.0.0.7"
    check = verify(store, page=2)  # across pages
    assert check.broken is None and check.entries == 5 and check.last_hash == entries[-1].hash
    stamped = append(store, "cli:root", "load", details={"sha256": "ab" * 32})
    assert abs((stamped.at - datetime.now(UTC)).total_seconds()) < 60 and stamped.prev_hash == entries[-1].hash


def test_filters(store: Store) -> None:
    fill(store, 7)
    def ids(**kw: object) -> list[int]:
        return [e.id for e in read_log(store, AuditQuery(**kw))]  # type: ignore[arg-type]
    assert ids(user="zhao") == [1, 3, 5, 7] and ids(user="qian") == [2, 4, 6] and ids(user="qia") == []
    assert ids(action="export") == [3, 6]
    assert ids(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)) == [2, 3]  # until excluded
    assert ids(after_id=5) == [6, 7] and ids(limit=2) == [1, 2]
    every = read_log(store)
    for query in (AuditQuery(user="qian", action="veto"), AuditQuery(since=T0 + timedelta(minutes=3, seconds=1))):
        assert read_log(store, query) == [e for e in every if query.matches(e)]


@pytest.mark.parametrize(("column", "value"), [
    ("details", """'{"distance_m":13.5,"rules":["GS-50"],"verdict":"PASS"}'"""),
    ("actor", "'mallory'"),
    ("outcome", "'denied'"),
])
def test_an_entry_edited_by_hand_is_named(store: Store, column: str, value: str) -> None:
    fill(store)
    raw_sql(store, *unprotect(store), f"UPDATE riskmap_audit_log SET {column} = {value} WHERE id = 3")
    check = verify(store)
    assert check.broken is not None and check.broken.id == 3 and check.entries == 2
    assert check.broken.at == T0 + timedelta(minutes=3)
    assert "content differs from its hash" in check.broken.reason


def test_a_deleted_entry_is_named(store: Store) -> None:
    fill(store)
    if isinstance(store, PostGISStore):
        raw_sql(store, "SET session_replication_role = replica", "DELETE FROM riskmap_audit_log WHERE id = 2")
    else:
        raw_sql(store, *unprotect(store), "DELETE FROM riskmap_audit_log WHERE id = 2")
    broken = verify(store).broken
    assert broken is not None and broken.id == 3 and "entries 2-2 are missing" in broken.reason


def test_the_log_refuses_update_and_delete(store: Store) -> None:
    fill(store, 2)
    statements = ["UPDATE riskmap_audit_log SET actor = 'mallory' WHERE id = 1", "DELETE FROM riskmap_audit_log"]
    if isinstance(store, PostGISStore):
        statements.append("TRUNCATE riskmap_audit_log")
    for statement in statements:
        error: type[Exception] = DBAPIError if isinstance(store, PostGISStore) else sqlite3.DatabaseError
        with pytest.raises(error, match="append-only"):
            raw_sql(store, statement)
    assert verify(store).entries == 2 and read_log(store)[0].actor == "zhao"


def test_postgis_gives_public_no_rights_on_the_log(make_store: Callable[[str], Store]) -> None:
    store = make_store("postgis")
    assert isinstance(store, PostGISStore)
    with store.engine.connect() as conn:
        grants = conn.execute(text("SELECT count(*) FROM information_schema.role_table_grants WHERE "
                                   "table_name = 'riskmap_audit_log' AND grantee = 'PUBLIC'")).scalar_one()
        triggers = conn.execute(text("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'riskmap_audit_log'::regclass"
                                     " AND NOT tgisinternal")).scalar_one()
    assert grants == 0 and triggers == 2


def test_concurrent_appends_keep_one_chain(store: Store) -> None:
    threads, per_thread = 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                append(store, f"user{n}", "veto", target=f"{n}-{i}", details={"n": n, "i": i})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    entries = read_log(store)
    assert [e.id for e in entries] == list(range(1, threads * per_thread + 1))
    assert len({e.target for e in entries}) == threads * per_thread
    check = verify(store)
    assert check.broken is None and check.entries == threads * per_thread


def test_bad_entries_are_refused_before_the_store(store: Store) -> None:
    with pytest.raises(BadInput, match="outcome"):
        append(store, "zhao", "veto", outcome="maybe")
    with pytest.raises(BadInput, match="not plain JSON"):
        append(store, "zhao", "veto", details={"x": float("inf")})
    assert read_log(store) == []


def test_exports(store: Store) -> None:
    fill(store, 3)
    entries = read_log(store)
    csv = log_export(entries, "csv").decode("utf-8-sig").splitlines()
    assert csv[0] == "id,at,actor,remote,action,target,outcome,details,prev_hash,hash" and len(csv) == 4
    assert csv[1].startswith("1,2026-03-01T08:01:00.000000Z,zhao,10.0.0.7,veto,site 1,ok,")
    import json

    assert json.loads(log_export(entries, "json"))[2]["hash"] == entries[2].hash
    assert log_export(entries, "xlsx")[:2] == b"PK"
    with pytest.raises(BadInput, match="'pdf'"):
        log_export(entries, "pdf")


def test_rule_and_config_file_changes_are_recorded_once_per_content(store: Store, tmp_path: Path) -> None:
    rules, other = tmp_path / "rules.yaml", tmp_path / "other.yaml"
    rules.write_text("version: 1\n", encoding="utf-8")
    other.write_text("version: 1\n", encoding="utf-8")
    first = record_file_version(store, "rules_change", rules, actor="cli:root")
    assert first is not None and first.details["previous_sha256"] is None and first.target == "rules.yaml"
    assert record_file_version(store, "rules_change", rules, actor="cli:root") is None
    rules.write_text("version: 2\n", encoding="utf-8")
    second = record_file_version(store, "rules_change", rules, actor="cli:root")
    assert second is not None and second.details["previous_sha256"] == first.details["sha256"]
    assert record_file_version(store, "rules_change", other, actor="cli:root") is not None  # per path
    assert record_file_version(store, "config_change", rules, actor="cli:root") is not None  # per action
    assert [e.action for e in read_log(store)] == ["rules_change"] * 3 + ["config_change"]
