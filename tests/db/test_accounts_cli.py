"""`riskmap user | token | audit-log` and the audit entries of load, veto and the demo, in-process
(CliRunner) on both stores."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from geo.capabilities.demo.build import DemoSummary
from geo.stores.geopackage import GeoPackageStore
from webmap.cli.main import main
from webmap.settings import load_settings, open_context

PASSWORD = "correct horse battery"
Run = Callable[..., Result]


@pytest.fixture(params=("geopackage", "postgis"))
def cli(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        make_pg_database: Callable[..., str]) -> Iterator[Run]:
    """``riskmap`` in-process on a fresh store of each kind; ``run(*args, input=...)``."""
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(tmp_path / "cli.gpkg"))
    if request.param == "postgis":
        monkeypatch.setenv("RISKMAP_DATABASE_URL", make_pg_database())

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input)

    yield run


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.output, result.stderr


def test_users(cli: Run) -> None:
    added = ok(cli("user", "add", "zhao", "--role", "district_officer", "--scope", "110105",
                   "--display-name", "赵安监", "--password-stdin", input=PASSWORD + "\n"))
    assert "user zhao added: district_officer (区级安监), scope 110105" in added.stdout
    prompted = ok(cli("user", "add", "qian", "--role", "commander", input=f"{PASSWORD}\n{PASSWORD}\n"))
    assert PASSWORD not in prompted.output  # the prompt does not echo
    listed = json.loads(ok(cli("user", "list", "--json")).stdout)
    assert [(u["name"], u["role"], u["scope"], u["disabled"]) for u in listed] == [
        ("qian", "commander", [], False), ("zhao", "district_officer", ["110105"], False)]
    assert "password" not in json.dumps(listed) and "argon2" not in ok(cli("user", "list")).stdout
    ok(cli("user", "disable", "zhao"))
    assert "zhao" in ok(cli("user", "list")).stdout and "disabled" in ok(cli("user", "list")).stdout
    ok(cli("user", "enable", "zhao"))
    ok(cli("user", "passwd", "zhao", "--password-stdin", input="another good secret\n"))
    role = ok(cli("user", "role", "zhao", "planner", "--scope", "110105,110108"))
    assert "user zhao: planner (规划审查), scope 110105,110108" in role.stdout
    log = json.loads(ok(cli("audit-log", "--format", "json")).stdout)
    assert [e["action"] for e in log] == ["config_change", "user_add", "user_add", "user_disable", "user_enable",
                                          "user_passwd", "user_role"]
    assert log[0]["target"] == "roles.yaml" and len(log[0]["details"]["sha256"]) == 64
    assert all(e["actor"].startswith("cli:") and e["remote"] == "cli" for e in log)
    assert PASSWORD not in json.dumps(log)


def test_user_errors_are_one_line(cli: Run) -> None:
    one_line_error(cli("user", "add", "zhao", "--role", "district_officer", "--password-stdin", input=PASSWORD),
                   "requires a scope")
    one_line_error(cli("user", "add", "zhao", "--role", "pilot"), "unknown role 'pilot'")  # before any prompt
    one_line_error(cli("user", "add", "zhao", "--role", "viewer", "--password-stdin", input=""),
                   "standard input is empty")
    one_line_error(cli("user", "add", "zhao", "--role", "viewer", "--password-stdin", input="short\n"),
                   "password: 10-1024 characters (got 5)")
    one_line_error(cli("user", "passwd", "nobody", "--password-stdin", input=PASSWORD), "no user 'nobody'")
    one_line_error(cli("user", "disable", "nobody"), "no user 'nobody'")
    ok(cli("user", "add", "zhao", "--role", "viewer", "--password-stdin", input=PASSWORD))
    one_line_error(cli("user", "add", "zhao", "--role", "viewer", "--password-stdin", input=PASSWORD),
                   "exists already")
    never_in_argv = cli("user", "add", "sun", "--role", "viewer", "--password", PASSWORD)
    assert never_in_argv.exit_code == 2 and "No such option" in never_in_argv.output


def test_tokens(cli: Run) -> None:
    ok(cli("user", "add", "zhao", "--role", "commander", "--password-stdin", input=PASSWORD))
    created = ok(cli("token", "create", "--user", "zhao", "--name", "nightly", "--role", "viewer",
                     "--expires-days", "1"))
    secret = created.stdout.strip()
    assert secret.startswith("rmt_") and len(secret.splitlines()) == 1  # alone on stdout: TOKEN=$(riskmap …)
    assert "shown once" in created.stderr and "role viewer" in created.stderr
    listed = json.loads(ok(cli("token", "list", "--json")).stdout)
    assert [(t["user"], t["role"], t["state"], t["name"]) for t in listed] == [("zhao", "viewer", "active", "nightly")]
    assert secret not in json.dumps(listed) and secret[-43:] not in ok(cli("token", "list")).stdout
    token_id = listed[0]["id"]
    assert f"token {token_id} of zhao revoked" in ok(cli("token", "revoke", token_id)).stdout
    assert json.loads(ok(cli("token", "list", "--user", "zhao", "--json")).stdout)[0]["state"] == "revoked"
    one_line_error(cli("token", "revoke", "000000000000"), "no token '000000000000'")
    one_line_error(cli("token", "create", "--user", "zhao", "--name", "x", "--role", "admin"), "grants more than")
    one_line_error(cli("token", "create", "--user", "nobody", "--name", "x"), "no user 'nobody'")
    bad_days = cli("token", "create", "--user", "zhao", "--name", "x", "--expires-days", "0")
    assert bad_days.exit_code == 2
    actions = [e["action"] for e in json.loads(ok(cli("audit-log", "--format", "json")).stdout)]
    assert actions == ["config_change", "user_add", "token_create", "token_revoke"]


def test_audit_log_listing_filters_and_files(cli: Run, tmp_path: Path) -> None:
    for name in ("zhao", "qian"):
        ok(cli("user", "add", name, "--role", "viewer", "--password-stdin", input=PASSWORD))
    ok(cli("user", "disable", "qian"))
    table = ok(cli("audit-log")).stdout.splitlines()
    assert len(table) == 4 and "config_change" in table[0] and "user_add" in table[1] and "zhao" in table[1]
    assert len(ok(cli("audit-log", "--action", "user_add")).stdout.splitlines()) == 2
    assert ok(cli("audit-log", "--since", "2999-01-01")).stdout == ""
    assert len(ok(cli("audit-log", "--until", "2999-01-01T00:00:00+08:00")).stdout.splitlines()) == 4
    csv_out, xlsx_out = tmp_path / "log.csv", tmp_path / "log.xlsx"
    assert "4 entries" in ok(cli("audit-log", "--out", str(csv_out))).stderr
    assert csv_out.read_text(encoding="utf-8-sig").startswith("id,at,actor,remote,action,target,outcome,details")
    ok(cli("audit-log", "--format", "xlsx", "--out", str(xlsx_out)))
    assert xlsx_out.read_bytes()[:2] == b"PK"
    assert ok(cli("audit-log", "--format", "csv")).stdout.startswith("id,at,actor")
    one_line_error(cli("audit-log", "--out", str(tmp_path / "log.pdf")), "suffix must be .csv, .xlsx or .json")
    one_line_error(cli("audit-log", "--format", "xlsx"), "needs --out")
    one_line_error(cli("audit-log", "--since", "yesterday"), "'yesterday' is not a time")


def _tamper(store: Any) -> None:
    if isinstance(store, GeoPackageStore):
        con = sqlite3.connect(store.path)
        con.execute("DROP TRIGGER riskmap_audit_log_no_update")
        con.execute("UPDATE riskmap_audit_log SET target = 'someone else' WHERE id = 2")
        con.commit()
        con.close()
    else:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE riskmap_audit_log DISABLE TRIGGER riskmap_audit_log_no_change")
            conn.exec_driver_sql("UPDATE riskmap_audit_log SET target = 'someone else' WHERE id = 2")


def test_audit_log_verify(cli: Run) -> None:
    assert ok(cli("audit-log", "verify")).stdout.startswith("ok, 0 entries")
    for name in ("zhao", "qian", "sun"):
        ok(cli("user", "add", name, "--role", "viewer", "--password-stdin", input=PASSWORD))
    assert ok(cli("audit-log", "verify")).stdout.startswith("ok, 4 entries (last hash ")
    ctx = open_context(load_settings())
    try:
        _tamper(ctx.store)
    finally:
        ctx.close()
    broken = cli("audit-log", "verify")
    assert broken.exit_code == 1 and broken.stdout == ""
    assert "audit log broken at entry 2 (" in broken.stderr and "content differs from its hash" in broken.stderr
    assert "1 entries before it verify" in broken.stderr


def test_load_and_veto_are_audited(cli: Run, tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text("单位名称,统一社会信用代码,经度,纬度\n某单位,91110105000000001X,116.3975,39.9087\n",
                     encoding="utf-8")
    ok(cli("load", "units", str(units), "--no-geocode", "--report", str(tmp_path / "reports")))
    ok(cli("veto", "--lon", "116.3975", "--lat", "39.9087", "--land-use", "幼儿园", "--name", "新幼儿园"))
    parcels = tmp_path / "parcels.geojson"
    parcels.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"用地性质": "幼儿园"},
        "geometry": {"type": "Point", "coordinates": [116.3975, 39.9087]}}]}), encoding="utf-8")
    ok(cli("veto-batch", str(parcels), "--out", str(tmp_path / "verdicts.csv")))
    ok(cli("audit", "--out", str(tmp_path / "conflicts.csv")))
    log = json.loads(ok(cli("audit-log", "--format", "json")).stdout)
    load, rules, veto, batch, conflicts = log
    assert (rules["action"], rules["target"]) == ("rules_change", "veto_rules.yaml")  # first read: recorded
    assert (batch["action"], batch["target"], batch["details"]["parcels"]) == ("veto_batch", "parcels.geojson", 1)
    assert batch["details"]["verdicts"] == {"OUTSIDE_COVERAGE": 1} and batch["details"]["rule_set_version"]
    assert conflicts["action"] == "veto_audit" and conflicts["details"]["conflicts"] == 0
    assert (load["action"], load["target"], load["outcome"]) == ("load", "units", "ok")
    assert load["details"]["file"].endswith("units.csv") and len(load["details"]["sha256"]) == 64
    assert {"rows", "inserted", "rejected"} <= set(load["details"])
    assert (veto["action"], veto["target"]) == ("veto", "新幼儿园")
    assert veto["details"]["land_use"] == "kindergarten" and veto["details"]["verdict"] == "OUTSIDE_COVERAGE"
    assert {"rule_set_version", "data_versions", "site_bounds"} <= set(veto["details"])


def test_demo_prints_one_account_per_role_once_and_resets_them(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import geo.capabilities.demo.build as build

    monkeypatch.setattr(build, "build_demo", lambda store, **kw: DemoSummary(seconds={"loads": 0.0}))
    first = ok(cli("demo", "--no-serve"))
    assert first.output.index("demo ready") < first.output.index("demo accounts")  # then the map is served
    lines = first.stdout.splitlines()
    assert lines[0].startswith("demo accounts") and len(lines) == 7
    accounts = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert set(accounts) == {f"demo_{r}" for r in ("admin", "commander", "planner", "analyst", "district_officer",
                                                   "viewer")}
    assert "scope 110105" in next(line for line in lines if "demo_district_officer" in line)
    again = ok(cli("demo", "--no-serve"))
    renewed = {line.split()[0]: line.split()[1] for line in again.stdout.splitlines()[1:]}
    assert set(renewed) == set(accounts) and all(renewed[n] != accounts[n] for n in accounts)
    users = json.loads(ok(cli("user", "list", "--json")).stdout)
    assert len(users) == 6 and all(password not in json.dumps(users) for password in renewed.values())
    from geo.capabilities.accounts import authenticate, read_roles
    from layers.catalog import CATALOG

    ctx = open_context(load_settings())
    try:
        roles = read_roles(ctx.paths.roles_path, layers=[lay.id for lay in CATALOG])
        officer = authenticate(ctx.store, "demo_district_officer", renewed["demo_district_officer"], roles=roles,
                               remote="test")
        assert officer.scope == ("110105",) and officer.role == "district_officer"
    finally:
        ctx.close()
