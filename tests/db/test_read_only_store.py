"""A write-protected GeoPackage (a field post's medium) is served and inspected, never written.

The file is made read-only for real: its folder is bind-mounted read-only (a write-protected
medium, which stops root too) when this machine allows mounts; otherwise the file is
chmod 0444 in a 0555 folder — and since root ignores permissions, a root run then also sets
``RISKMAP_READ_ONLY=1`` so the store opens the file with SQLite's ``mode=ro``, which
refuses writes from anyone.  Either way the file's bytes are compared before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from auth_support import ADMIN, bearer, password_hash
from flask.testing import FlaskClient
from shapely.geometry import Point, box
from test_cli_settings import assert_one_line_error, run_cli

from geo.accounts import UserRecord
from geo.capabilities.accounts import create_token, read_roles
from geo.stores.geopackage import SCHEMA_VERSION, GeoPackageStore
from geo.stores.outages import StoreReadOnly
from geo.stores.protocol import LoadBatch, RunRecord, StoreError
from webmap.app import create_app
from webmap.auth import CATALOG_IDS
from webmap.settings import Settings, load_settings


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="field.csv", sha256="5" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _build(path: Path, *, schema_version: str = SCHEMA_VERSION) -> str:
    """Build the store at ``path``; the API token of its administrator (made before the medium is sealed)."""
    store = GeoPackageStore(path)
    store.init_schema()
    now = datetime.now(UTC)
    store.add_user(UserRecord(ADMIN, ADMIN, "admin", (), password_hash(), False, now, now))
    roles = read_roles(Settings().paths.roles_path, layers=sorted(CATALOG_IDS))
    _, secret = create_token(store, roles, user=ADMIN, name="field", actor="tests")
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110101"], "area_code": ["110101"], "name": ["东城区"], "area_type": ["district"]},
        geometry=[box(116.38, 39.85, 116.45, 39.97)], crs="EPSG:4326"), batch=_batch("areas"))
    store.upsert("units", gpd.GeoDataFrame(
        {"key": ["U1"], "credit_code": ["U1"], "name": ["北京化工厂"]}, geometry=[Point(116.40, 39.90)],
        crs="EPSG:4326"), batch=_batch("units"))
    store.close()
    if schema_version != SCHEMA_VERSION:
        con = sqlite3.connect(path)
        con.execute("UPDATE riskmap_meta SET value = ? WHERE name = 'schema_version'", (schema_version,))
        con.commit()
        con.close()
    return secret


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _protect(folder: Path, *, mount: bool) -> tuple[dict[str, str], str]:
    """Make ``folder`` read-only (``mount``: a read-only bind mount where root may mount, else
    permissions); (environment the store needs, the reason it will report)."""
    if mount and os.geteuid() == 0 and subprocess.run(["mount", "-o", "bind,ro", str(folder), str(folder)],
                                                      capture_output=True).returncode == 0:
        return {}, "read-only file system"
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    if os.geteuid() == 0:
        return {"RISKMAP_READ_ONLY": "1"}, "opened read-only"
    return {}, "no write permission"


@pytest.fixture(params=["mounted-read-only", "permissions"])
def field_post(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], str]]:
    """(file, environment, reason): a built store in a folder made read-only; the environment
    holds the administrator's API token (``TOKEN``) and a session key (a sealed medium has no
    room for the key file)."""
    folder = tmp_path / "medium"
    folder.mkdir()
    secret = _build(folder / "riskmap.gpkg")
    _build(folder / "old.gpkg", schema_version="0001")
    env, reason = _protect(folder, mount=request.param == "mounted-read-only")
    env.update(TOKEN=secret, RISKMAP_SECRET_KEY="k" * 32)
    try:
        yield folder / "riskmap.gpkg", env, reason
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)  # lazily: a test that failed left it open
        folder.chmod(0o755)


def test_a_read_only_file_is_served_and_inspected_but_not_written(field_post: tuple[Path, dict[str, str], str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path, env, reason = field_post
    before = _digest(path.parent)
    info = run_cli("info", env={"RISKMAP_GPKG_PATH": str(path), **env})
    assert info.returncode == 0, info.stderr
    shown = json.loads(info.stdout)
    assert shown["schema_version"] == SCHEMA_VERSION and f"(read-only: {reason}" in shown["location"]

    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app(load_settings())
    store = app.extensions["riskmap.context"].store
    assert isinstance(store, GeoPackageStore) and store.read_only
    client = bearer(FlaskClient(app, app.response_class), env["TOKEN"])  # signing in writes nothing
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/layers/districts/features").get_json()["features"][0]["properties"]["name"] == "东城区"
    assert client.get("/api/v1/search?q=化工").get_json()["results"][0]["name"] == "北京化工厂"
    assert client.get("/tiles/districts/10/843/387.pbf").status_code == 200

    with pytest.raises(StoreReadOnly, match=r"riskmap\.gpkg is read-only .*not written"):
        store.upsert("units", store.read("units"), batch=_batch("units"))
    with pytest.raises(StoreReadOnly, match="read-only"):
        store.record_run(RunRecord("r1", "area_results", "2026-01-01T00:00:00Z", {}))
    bureau_file = path.parent.parent / "units.csv"
    bureau_file.write_text("单位名称,统一社会信用代码,经度,纬度\n北京化工二厂,91110000MA0000000H,116.41,39.91\n",
                           encoding="utf-8")
    load = run_cli("load", "units", str(bureau_file), env={"RISKMAP_GPKG_PATH": str(path), **env})
    assert_one_line_error(load, "read-only")
    store.close()
    assert _digest(path.parent) == before  # not a byte written, no journal left beside it


def test_a_read_only_file_with_an_old_schema_is_one_clear_error(field_post: tuple[Path, dict[str, str], str],
                                                                ) -> None:
    path, env, _ = field_post
    old = path.parent / "old.gpkg"
    result = run_cli("info", env={"RISKMAP_GPKG_PATH": str(old), **env})
    assert_one_line_error(result, "RISKMAP_GPKG_PATH", "schema version 0001", f"serves {SCHEMA_VERSION}",
                          "riskmap init")
    with pytest.raises(StoreError, match="schema version 0001"):
        GeoPackageStore(old, read_only=True).init_schema()


def test_a_missing_file_cannot_be_opened_read_only(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such file"):
        GeoPackageStore(tmp_path / "none.gpkg", read_only=True).init_schema()
