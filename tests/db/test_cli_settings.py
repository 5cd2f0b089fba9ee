"""Start-up validation: bad settings give one line naming the setting, exit != 0, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")} | env
    return subprocess.run([sys.executable, "-m", "webmap.cli.main", *args], env=full_env, capture_output=True,
                          text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_bad_url_is_named(tmp_path: Path) -> None:
    result = run_cli("info", env={"RISKMAP_DATABASE_URL": "mysql://user@host/db"})
    assert_one_line_error(result, "RISKMAP_DATABASE_URL", "postgresql://")


def test_unreachable_server_is_named(tmp_path: Path) -> None:
    result = run_cli("info", env={"RISKMAP_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/riskmap"})
    assert_one_line_error(result, "RISKMAP_DATABASE_URL", "cannot connect")


def test_database_without_postgis_is_named(pg_admin_url: str) -> None:
    admin = create_engine(make_url(pg_admin_url).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS rm_no_postgis"))
        conn.execute(text("CREATE DATABASE rm_no_postgis"))
    try:
        url = make_url(pg_admin_url).set(database="rm_no_postgis").render_as_string(hide_password=False)
        result = run_cli("info", env={"RISKMAP_DATABASE_URL": url})
        assert_one_line_error(result, "RISKMAP_DATABASE_URL", "postgis")
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE rm_no_postgis WITH (FORCE)"))
        admin.dispose()


def test_bad_port_is_named(tmp_path: Path) -> None:
    result = run_cli("info", env={"RISKMAP_PORT": "seventy", "RISKMAP_GPKG_PATH": str(tmp_path / "x.gpkg")})
    assert_one_line_error(result, "RISKMAP_PORT")


def test_info_on_both_stores(make_pg_database: Callable[[], str], tmp_path: Path) -> None:
    pg = run_cli("info", env={"RISKMAP_DATABASE_URL": make_pg_database()})
    assert pg.returncode == 0, pg.stderr
    assert json.loads(pg.stdout)["versions"]["postgis"].startswith("3.")
    gp = run_cli("info", env={"RISKMAP_GPKG_PATH": str(tmp_path / "store.gpkg")})
    assert gp.returncode == 0, gp.stderr
    assert json.loads(gp.stdout)["kind"] == "geopackage"
    assert (tmp_path / "store.gpkg").exists()


def test_help_lists_the_commands() -> None:
    result = run_cli("--help", env={})
    assert result.returncode == 0
    for command in ("serve", "init", "info", "reference", "demo"):
        assert command in result.stdout


def test_every_capability_command_is_reachable_by_name() -> None:
    import importlib

    from webmap.cli.main import CAPABILITY_COMMANDS, main

    for module_name in set(CAPABILITY_COMMANDS.values()):
        module = importlib.import_module(module_name)
        for command in module.COMMANDS:
            assert CAPABILITY_COMMANDS.get(command.name) == module_name, command.name
    import click

    with click.Context(main) as ctx:
        assert set(CAPABILITY_COMMANDS) <= set(main.list_commands(ctx))
        assert all(main.get_command(ctx, name) is not None for name in main.list_commands(ctx))


def test_aggregate_does_not_import_the_other_capabilities(tmp_path: Path) -> None:
    code = ("import sys; from click.testing import CliRunner; from webmap.cli.main import main; "
            "r = CliRunner().invoke(main, ['aggregate', '--help']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('webmap.cli.veto', 'webmap.cli.loading', 'webmap.cli.border', 'flask', "
            "'geo.stores.postgis') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_schema_head_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from geo.stores.postgis import MIGRATIONS, SCHEMA_HEAD

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD
