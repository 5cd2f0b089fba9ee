"""Outages: a store that goes away answers 503 with Retry-After, one log line a request and no
traceback, and serves again by itself when it comes back.

PostGIS: a throwaway cluster of this test's own (``scripts/postgis_cluster.sh``) is stopped
while the app serves and started again.  GeoPackage: another process holds the file's
write lock.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from flask.testing import FlaskClient
from shapely.geometry import Point, box

from geo.stores.geopackage import GeoPackageStore
from geo.stores.outages import RETRY_AFTER_S, StoreUnavailable
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app
from webmap.settings import Settings

CLUSTER_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgis_cluster.sh"
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))
#: Database-backed requests of every kind: health, features, a tile, nearest, search,
#: statistics and a site veto.
REQUESTS: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/api/v1/health", None),
    ("GET", "/api/v1/layers/risk_sources/features?limit=5", None),
    ("GET", "/tiles/districts/10/843/387.pbf", None),
    ("GET", "/api/v1/nearest?lon=116.4&lat=39.9", None),
    ("GET", "/api/v1/search?q=%E5%8C%96%E5%B7%A5", None),
    ("GET", "/api/v1/stats/districts", None),
    ("POST", "/api/v1/veto", {"geometry": {"type": "Point", "coordinates": [116.41, 39.91]}, "land_use": "school"}),
)


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="outage.csv", sha256="4" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _fill(store: Store) -> None:
    store.init_schema()
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110000", "110101"], "area_code": ["110000", "110101"], "name": ["北京市", "东城区"],
         "area_type": ["province", "district"], "province_code": ["110000", "110000"]},
        geometry=[box(115.4, 39.4, 117.5, 41.1), box(116.38, 39.85, 116.45, 39.97)], crs="EPSG:4326"),
        batch=_batch("areas"))
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": ["C1|R1"], "credit_code": ["C1"], "source_code": ["R1"], "name": ["化工储罐"], "level": ["red"]},
        geometry=[Point(116.40, 39.90)], crs="EPSG:4326"), batch=_batch("risk_sources"))
    store.upsert("resources", gpd.GeoDataFrame(
        {"key": ["F1"], "resource_code": ["F1"], "name": ["东单消防站"], "resource_type": ["fire_station"]},
        geometry=[Point(116.41, 39.91)], crs="EPSG:4326"), batch=_batch("resources"))


def _send(client: FlaskClient, method: str, url: str, body: Any) -> Any:
    return client.post(url, json=body) if method == "POST" else client.get(url)


def _as_owner(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class Cluster:
    """The throwaway cluster: its folder, port and URL; ``stop`` / ``start`` keep its data."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        out = subprocess.run(["bash", str(CLUSTER_SCRIPT), "start", str(folder)], check=True, capture_output=True,
                             text=True).stdout
        self.url = out.strip().split("=", 1)[1]
        self.port = (folder / "port").read_text().strip()

    def stop(self) -> None:
        subprocess.run(_as_owner(str(PGBIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop"),
                       check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_owner(str(PGBIN / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                                 str(self.folder / "postgres.log"), "-o", options, "-w", "start"),
                       check=True, capture_output=True)

    def remove(self) -> None:
        subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop", str(self.folder)], check=False, capture_output=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster(Path("/tmp") / f"riskmap-outage-{uuid.uuid4().hex[:8]}")  # the postgres user must reach it
    try:
        yield made
    finally:
        made.remove()


def _assert_one_line_each(records: list[logging.LogRecord], requests: int) -> None:
    assert not [r for r in records if r.exc_info or r.exc_text], "a traceback was logged"
    warnings = [r for r in records if r.levelno >= logging.WARNING]
    assert len(warnings) == requests, [r.getMessage() for r in warnings]
    assert all("-> 503" in r.getMessage() and "\n" not in r.getMessage() for r in warnings)


def test_postgis_stopped_while_serving_is_503_then_recovers(cluster: Cluster, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    store = PostGISStore(cluster.url)
    _fill(store)
    client = create_app(Settings(gpkg_path=tmp_path / "unused.gpkg"), store=store).test_client()
    for method, url, body in REQUESTS:
        assert _send(client, method, url, body).status_code == 200, url
    cluster.stop()
    time.sleep(1.1)  # past the remembered data versions (VERSION_TTL_S)
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        for method, url, body in REQUESTS:
            r = _send(client, method, url, body)
            assert r.status_code == 503, (url, r.status_code, r.data[:300])
            assert r.headers["Retry-After"] == str(RETRY_AFTER_S)
            assert "unavailable" in r.get_json()["error"] and cluster.port in r.get_json()["error"]
    _assert_one_line_each([r for r in caplog.records if r.levelno >= logging.WARNING], len(REQUESTS))
    with pytest.raises(StoreUnavailable):  # every caller, not only the app: the CLI prints it in one line
        store.count("units")
    cluster.start()
    back = time.monotonic()
    while _send(client, *REQUESTS[0]).status_code != 200:
        assert time.monotonic() - back < 5, "not serving 5 s after PostgreSQL returned"
        time.sleep(0.1)
    for method, url, body in REQUESTS:
        assert _send(client, method, url, body).status_code == 200, url
    store.close()


def test_geopackage_locked_by_another_writer_is_503_then_recovers(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "locked.gpkg"
    store = GeoPackageStore(path, busy_timeout_s=0.2)
    _fill(store)
    client = create_app(Settings(gpkg_path=path), store=store).test_client()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the store waits
    try:
        with pytest.raises(StoreUnavailable, match=r"locked\.gpkg: database is locked"):
            store.upsert("resources", store.read("resources"), batch=_batch("resources"))
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            for method, url, body in REQUESTS:
                r = _send(client, method, url, body)
                assert r.status_code == 503 and "database is locked" in r.get_json()["error"], url
                assert r.headers["Retry-After"] == str(RETRY_AFTER_S)
        _assert_one_line_each([r for r in caplog.records if r.levelno >= logging.WARNING], len(REQUESTS))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for method, url, body in REQUESTS:
        assert _send(client, method, url, body).status_code == 200, url
    store.close()
