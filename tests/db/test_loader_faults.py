"""`riskmap load` when things go wrong, on both stores: one line and exit 1, never a traceback,
and the store as it was.

* files: a header without records, a corrupt .zip, a Shapefile without .prj in metres
  (named, then loaded with --crs), GBK rows in a UTF-8 file (kept apart), the wrong
  geometry type (named);
* a full disk: the GeoPackage on a small tmpfs mounted for the test (where this machine
  allows mounts; else SQLite's max_page_count caps the file, in process);
* two loads of one file at once on PostGIS: the second waits for the first's rows and
  reports the conflict in one line (a lock held by the test makes them overlap);
* kill -9 in the middle of the write transaction (held open by a lock of the test): the
  store is unchanged, and loading again inserts everything, then changes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import create_engine, make_url, text
from test_cli_settings import assert_one_line_error, run_cli

from geo.capabilities.loading import load_file
from geo.etl.values import make_credit_code
from geo.stores.geopackage import GeoPackageStore
from geo.stores.outages import StoreUnavailable
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import Store
from webmap.settings import Settings

HEADER = "单位名称,统一社会信用代码,经度,纬度"


def units_csv(path: Path, n: int, *, start: int = 0, lines: list[bytes] | None = None) -> Path:
    """``n`` clean units in 东城区 (UTF-8), plus raw ``lines`` at the end."""
    rows = [f"单位{i},{make_credit_code(f'91110101{i:09d}')},{116.40 + i * 1e-6:.7f},39.9087".encode()
            for i in range(start, start + n)]
    path.write_bytes(b"\n".join([HEADER.encode(), *rows, *(lines or [])]) + b"\n")
    return path


@pytest.fixture(params=["postgis", "geopackage"])
def target(request: pytest.FixtureRequest, make_pg_database: Callable[..., str], tmp_path: Path
           ) -> Iterator[tuple[dict[str, str], Store]]:
    """(CLI environment, the store it points at) for an initialised empty store of each kind."""
    if request.param == "postgis":
        url = make_pg_database()
        store: Store = PostGISStore(url)
        env = {"RISKMAP_DATABASE_URL": url}
    else:
        store = GeoPackageStore(tmp_path / "faults.gpkg")
        env = {"RISKMAP_GPKG_PATH": str(tmp_path / "faults.gpkg")}
    store.init_schema()
    yield env, store
    store.close()


def _load(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("load", *args, "--no-geocode", env=env)


def _no_prj_shapefile(tmp_path: Path) -> Path:
    units = gpd.GeoDataFrame({"name": ["北京化工厂"], "credit": [make_credit_code("91110101000000001")]},
                             geometry=[Point(116.41, 39.91)], crs="EPSG:4326").to_crs("EPSG:4548")
    folder = tmp_path / "shp"
    folder.mkdir()
    units.to_file(folder / "units.shp", encoding="utf-8")
    archive = tmp_path / "units.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            if part.suffix != ".prj":  # the .prj left behind
                zf.write(part, part.name)
    return archive


def test_unreadable_files_are_one_line_each(target: tuple[dict[str, str], Store], tmp_path: Path) -> None:
    env, store = target
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER + "\n", encoding="utf-8")
    assert_one_line_error(_load(env, "units", str(header_only)), "header.csv", "no records")
    corrupt = tmp_path / "parcels.zip"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    assert_one_line_error(_load(env, "parcels", str(corrupt)), "parcels.zip", "not a readable .zip")
    shapefile = _no_prj_shapefile(tmp_path)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("credit: credit_code\n", encoding="utf-8")
    assert_one_line_error(_load(env, "units", str(shapefile), "--mapping", str(mapping)),
                          "no .prj", "projected metres", "EPSG:4548?", "--crs EPSG:4548")
    assert store.count("units") == 0
    loaded = _load(env, "units", str(shapefile), "--mapping", str(mapping), "--crs", "EPSG:4548")
    assert loaded.returncode == 0 and "inserted 1," in loaded.stdout, loaded.stderr
    point = store.read("units").geometry.iloc[0]
    assert (round(point.x, 6), round(point.y, 6)) == (116.41, 39.91)


def test_gbk_rows_in_a_utf8_file_are_reported_the_rest_loaded(target: tuple[dict[str, str], Store],
                                                             tmp_path: Path) -> None:
    env, store = target
    gbk = f"燕山石化,{make_credit_code('91110101999999999')},116.41,39.91".encode("gbk")
    path = units_csv(tmp_path / "mixed.csv", 3, lines=[gbk])
    result = _load(env, "units", str(path))
    assert result.returncode == 0 and "inserted 3," in result.stdout and "rejected 1," in result.stdout
    report = json.loads((tmp_path / "mixed.csv.report.json").read_text(encoding="utf-8"))
    (issue,) = report["issues"]
    assert (issue["row"], issue["column"], issue["header"]) == (5, "name", "单位名称")
    assert issue["value"].startswith("\\xd1\\xe0") and "燕山石化" in issue["reason"]
    assert report["rows"] == 4 and report["rejected"] == 1 and store.count("units") == 3


def test_the_wrong_geometry_type_is_named(target: tuple[dict[str, str], Store], tmp_path: Path) -> None:
    env, _ = target
    path = tmp_path / "units.geojson"
    gpd.GeoDataFrame({"单位名称": ["北京化工厂"], "统一社会信用代码": [make_credit_code("91110101000000002")]},
                     geometry=[box(116.40, 39.90, 116.41, 39.91)], crs="EPSG:4326").to_file(path)
    assert _load(env, "units", str(path)).returncode == 0
    issue = json.loads((tmp_path / "units.geojson.report.json").read_text(encoding="utf-8"))["issues"][0]
    assert (issue["column"], issue["value"], issue["reason"]) == ("geometry", "Polygon", "expected a point geometry")


# ----------------------------------------------------------------------------- full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 12 MB tmpfs folder (None where this machine allows no mount)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(folder)],
                                           capture_output=True).returncode != 0:
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _intact(path: Path) -> int:
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return int(con.execute("SELECT count(*) FROM units").fetchone()[0])
    finally:
        con.close()


def test_a_full_disk_is_one_line_and_the_store_intact(small_disk: Path | None, tmp_path: Path) -> None:
    if small_disk is None:  # no mount here: cap the file's pages instead, in process
        _full_disk_by_page_count(tmp_path)
        return
    path = small_disk / "riskmap.gpkg"
    env = {"RISKMAP_GPKG_PATH": str(path)}
    assert _load(env, "units", str(units_csv(tmp_path / "few.csv", 50))).returncode == 0
    filler = small_disk / "filler"
    free = os.statvfs(small_disk)
    filler.write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 64 * 1024))  # 64 KiB left
    many = units_csv(tmp_path / "many.csv", 9_000, start=1000)  # below the progress lines (10,000)
    assert_one_line_error(_load(env, "units", str(many)), "riskmap.gpkg", "database or disk is full")
    assert _intact(path) == 50
    filler.unlink()
    assert "inserted 9000," in _load(env, "units", str(many)).stdout
    assert _intact(path) == 9_050


def _full_disk_by_page_count(tmp_path: Path) -> None:
    path = tmp_path / "capped.gpkg"

    class Capped(GeoPackageStore):
        def _connect(self) -> sqlite3.Connection:
            con = super()._connect()
            con.execute(f"PRAGMA max_page_count = {os.path.getsize(self.path) // 4096 + 16}")
            return con

    GeoPackageStore(path).init_schema()
    store = Capped(path)
    with pytest.raises(StoreUnavailable, match="database or disk is full") as info:
        load_file(store, "units", units_csv(tmp_path / "many.csv", 20_000), reference=_no_reference())
    assert "\n" not in str(info.value) and _intact(path) == 0


def _no_reference() -> gpd.GeoDataFrame:
    from geo.files.reference import read_reference

    return read_reference("areas", Settings().paths.reference_dir)


# -------------------------------------------------------------- two loads, kill -9 (PostGIS)


def _start_load(env: dict[str, str], path: Path) -> subprocess.Popen[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")} | env
    return subprocess.Popen([sys.executable, "-m", "webmap.cli.main", "load", "units", str(path), "--no-geocode"],
                            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class LayerLock:
    """An open transaction holding the units row of ``riskmap_layer_version``: a load's
    upsert writes its rows, then waits here before it can commit."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
        self.conn = self.engine.connect()
        self.conn.execute(text("SELECT 1 FROM riskmap_layer_version WHERE kind = 'units' FOR UPDATE"))

    def waiting(self, n: int) -> bool:
        """True when ``n`` other sessions wait for a lock."""
        with self.engine.connect() as probe:
            return probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                      " AND pid <> pg_backend_pid()")).scalar_one() >= n

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


def test_two_loads_of_one_file_at_once_on_postgis(make_pg_database: Callable[..., str], tmp_path: Path) -> None:
    url = make_pg_database()
    store = PostGISStore(url)
    store.init_schema()
    path = units_csv(tmp_path / "units.csv", 200)
    lock = LayerLock(url)
    try:
        first = _start_load({"RISKMAP_DATABASE_URL": url}, path)
        _wait_for(lambda: lock.waiting(1), "the first load to write its rows")
        second = _start_load({"RISKMAP_DATABASE_URL": url}, path)
        _wait_for(lambda: lock.waiting(2), "the second load to wait for the first's rows")
    finally:
        lock.release()
    out_first, _ = first.communicate(timeout=60)
    out_second, err_second = second.communicate(timeout=60)
    assert first.returncode == 0 and "inserted 200," in out_first
    assert "Traceback" not in err_second
    if second.returncode == 0:  # it read the keys after the first committed: nothing left to do
        assert "inserted 0, updated 0, unchanged 200," in out_second
    else:  # it collided with the first's new keys: one line, and run again
        assert second.returncode == 1
        (line,) = err_second.strip().splitlines()
        assert "another load is writing the same rows" in line and "run this one again" in line
    assert store.count("units") == 200
    again = _load({"RISKMAP_DATABASE_URL": url}, "units", str(path))
    assert "inserted 0, updated 0, unchanged 200," in again.stdout
    store.close()


def _hold_gpkg(path: Path) -> sqlite3.Connection:
    """A reader inside a transaction: a writer can write but not commit until it ends."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN")
    con.execute("SELECT count(*) FROM units").fetchone()
    return con


def test_kill_9_during_a_load_leaves_the_store_unchanged(target: tuple[dict[str, str], Store],
                                                         tmp_path: Path) -> None:
    env, store = target
    assert "inserted 10," in _load(env, "units", str(units_csv(tmp_path / "first.csv", 10))).stdout
    before = (store.count("units"), store.data_version("units"))
    path = units_csv(tmp_path / "units.csv", 2_000, start=100)
    if isinstance(store, PostGISStore):
        lock = LayerLock(env["RISKMAP_DATABASE_URL"])
        loader = _start_load(env, path)
        _wait_for(lambda: lock.waiting(1), "the load to write its rows")
    else:
        holder = _hold_gpkg(store.path)
        loader = _start_load(env, path)
        journal = store.path.with_name(store.path.name + "-journal")
        _wait_for(journal.exists, "the load's transaction to start")
        time.sleep(0.5)  # writing, then waiting to commit
    loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=30)
    if isinstance(store, PostGISStore):
        lock.release()
    else:
        holder.execute("ROLLBACK")
        holder.close()
    time.sleep(1.1)  # past the remembered data version
    assert (store.count("units"), store.data_version("units")) == before
    assert "inserted 2000," in _load(env, "units", str(path)).stdout
    assert "inserted 0, updated 0, unchanged 2000," in _load(env, "units", str(path)).stdout
    assert store.count("units") == 2_010
