"""Benchmark the map server's vector tiles against tipg, the nearest-resources API and the first render.

Usage:
    python scripts/bench_tiles.py [--database-url URL] [--store postgis] [--store geopackage]
                                  [--duration 12] [--max-tiles 400] [--keep] [--no-tipg] [--no-browser]
                                  [--only render] [--renders 1] [--use-database URL] [--gpkg PATH]

Steps (everything on 127.0.0.1; servers and the database are removed at the end, even on failure):

1. Data: 162,699 synthetic risk sources (DOMAIN.md: the number reported in Beijing, 2018) of 9,911
   synthetic units placed within ~300 m (σ) of Beijing's OpenStreetMap residential and industrial
   points (reference protection targets), each source within ~80 m (σ) of its unit; levels red 1 % /
   orange 6 % / yellow 33 % / blue 60 %; district from the reference districts; plus 300 synthetic
   rescue teams (the reference geography brings the OSM fire and police stations). Loaded with
   ``store.upsert`` next to the reference geography (``load_reference``) into a fresh PostGIS database
   ``bench_tiles_<random>`` created on the server of ``--database-url`` (default RISKMAP_DATABASE_URL,
   else the dev cluster) and dropped at the end unless ``--keep``, then ANALYZEd (as autovacuum would
   do soon after a load); ``--jit off`` disables PostgreSQL's JIT for that database (it costs ~1 s on
   the low-zoom tile queries of both servers). With ``--store geopackage`` the data also goes into a
   temporary GeoPackage (the embedded store) served by a second instance of ours.
2. Our server: ``riskmap serve`` (gunicorn, the default workers; run as ``python -m webmap.cli.main serve``) as a
   subprocess on a free port. If a server is stopped from outside during a run, it is restarted, the
   run is measured again and a note says so.
3. tipg (PyPI) in its own venv (``--tipg-venv``, created with pip when missing), ``uvicorn tipg.main:app``
   on the same database, serving ``public.risk_sources`` with the same properties, extent 4096 and
   buffer 64 as ours, and no feature cap (``TIPG_MAX_FEATURES_PER_TILE`` raised so tiles are complete).
   tipg draws every point at every zoom, ours draws counted grid clusters below z13 (layer
   ``risk_sources``), so at z8 and z11 the two servers do different work: both rows are shown.
   Rows "tipg limit=10000" repeat the cold passes with tipg's default cap of 10,000 features per tile
   (incomplete tiles where more points fall in a tile).
4. Load: ``wrk`` (1 thread, 8 connections) with ``scripts/bench_tiles_wrk.lua`` over the tiles covering
   Beijing's built-up area (116.0-116.8 E, 39.6-40.2 N) at z8, z11 and z14 (at most ``--max-tiles``
   per zoom, a seeded random sample, shuffled).
   * cold: each tile requested exactly once on a server whose tile cache is empty (ours is restarted
     before every pass; z8 has 4 tiles, so 5 passes are merged, z11 2 passes, z14 1 pass). Before each
     pass a 2 s warm-up on z16 tiles opens the database connections, so "cold" means a cold tile
     cache, not a cold process. tipg has no tile cache: its cold passes are the same passes.
   * warm: ``--duration`` seconds cycling over the same tiles (all cached by ours).
   Latency p50/p99 (ms), tiles/s, mean response size, and CPU milliseconds per tile of the server
   process and of the PostgreSQL backends serving it (the machine's 2 cores are shared with other
   work, so wall-clock figures are noisy; CPU per tile is the steadier comparison).
5. ``/api/v1/nearest?lon=&lat=&types=fire_station,team&k=5`` at random points of the built-up area,
   ``--duration`` seconds with 1 connection, then with 8.
6. First map render in headless Chromium (Playwright, /usr/bin/chromium, the browser tests' flags,
   viewport 1280x800, default layers): from navigation start until ``window.riskmap.ready`` and every
   default layer has drawn its first-view tiles (no layer loading), and how long the page's main thread
   was busy until then; on a just-restarted server (cold
   tile cache) and again in a fresh browser context (server cache warm); ``--renders N`` repeats the
   pair N times. ``--only render`` runs this step alone (steps 1, 2 and 6: no tipg, no wrk load runs).

Signing in: each store gets a user ``bench_tiles`` of ``--role`` (default ``admin``; ``--scope 110105``
for a district officer) made with ``ensure_user``, and an API token (``create_token``), as a script
would: wrk and every request of this script send ``Authorization: Bearer <token>``; Chromium signs in
through the login form once (``POST /login``) and renders with that session cookie.

Re-using data: ``--use-database URL`` serves an already loaded database (e.g. one kept with ``--keep``)
instead of creating and loading one (it is not dropped); ``--gpkg PATH`` loads the GeoPackage into PATH
(kept) or, when PATH exists, serves it as it is.

Targets (issue 7): ours >= 1.5x tipg's tiles/s cold; p99 < 150 ms at every zoom; nearest p50 <= 20 ms;
first render <= 2 s.
"""

from __future__ import annotations

import argparse
import ast
import http.cookiejar
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import geopandas as gpd  # noqa: E402
import mercantile  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.coords import BEIJING_METRIC_CRS  # noqa: E402
from geo.entities import make_key  # noqa: E402
from geo.files.reference import load_reference, read_reference  # noqa: E402
from geo.stores.protocol import LoadBatch, Store  # noqa: E402
from layers.catalog import get_layer  # noqa: E402
from webmap.settings import load_settings  # noqa: E402

REFERENCE_DIR = load_settings().paths.reference_dir

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Response

DEV_DATABASE_URL = "postgresql://postgres@127.0.0.1:58835/riskmap"
WRK_SCRIPT = Path(__file__).with_name("bench_tiles_wrk.lua")
CHROMIUM = "/usr/bin/chromium"

SEED_SOURCES = 162_699
SEED_UNITS = 9_911
SEED_TEAMS = 300
LEVEL_SHARES = {"red": 0.01, "orange": 0.06, "yellow": 0.33, "blue": 0.60}
SOURCE_TYPES = {"residential": ("燃气", "电气火灾", "人员密集", "有限空间"),
                "industrial_landuse": ("危险化学品", "粉尘涉爆", "机械伤害", "有限空间", "起重伤害", "燃气")}
TEAM_SPECIALITIES = ("危化品", "矿山", "消防", "建筑坍塌", "水域", "医疗")

BUILT_UP_BBOX = (116.0, 39.6, 116.8, 40.2)  # west, south, east, north (degrees, WGS-84)
ZOOMS = (8, 11, 14)
COLD_PASSES = {8: 5, 11: 2, 14: 1}
WARMUP_ZOOM = 16
CONNECTIONS = 8
TIPG_DEFAULT_CAP = 10_000
LAYER = get_layer("risk_sources")
TIPG_COLLECTION = "public.risk_sources"


# -- data ----------------------------------------------------------------------------------------

def _batch(kind: str, rows: int) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="bench_tiles (synthetic)", sha256="0" * 64,
                     loaded_at=datetime.now(UTC), rows=rows, note="synthetic benchmark data")


def synthetic_data(seed: int) -> dict[str, gpd.GeoDataFrame]:
    """Risk sources and rescue teams around Beijing's OSM residential/industrial points (WGS-84)."""
    rng = np.random.default_rng(seed)
    targets = read_reference("protection_targets", REFERENCE_DIR)
    anchors = targets[targets["target_type"].isin(list(SOURCE_TYPES)) & (targets["province_code"] == "110000")]
    anchors = anchors.reset_index(drop=True)
    metric = anchors.geometry.to_crs(BEIJING_METRIC_CRS)
    ax, ay = metric.x.to_numpy(), metric.y.to_numpy()
    kinds = anchors["target_type"].to_numpy()

    # units sit within ~300 m of an anchor; each unit reports several sources within ~80 m of it
    unit_anchor = rng.integers(0, len(anchors), SEED_UNITS)
    ux = ax[unit_anchor] + rng.normal(0, 300.0, SEED_UNITS)
    uy = ay[unit_anchor] + rng.normal(0, 300.0, SEED_UNITS)
    owner = np.sort(rng.integers(0, SEED_UNITS, SEED_SOURCES))
    sx = ux[owner] + rng.normal(0, 80.0, SEED_SOURCES)
    sy = uy[owner] + rng.normal(0, 80.0, SEED_SOURCES)
    points = gpd.GeoSeries(gpd.points_from_xy(sx, sy), crs=BEIJING_METRIC_CRS).to_crs("EPSG:4326")

    areas = read_reference("areas", REFERENCE_DIR)
    districts = areas[(areas["area_type"] == "district") & (areas["province_code"] == "110000")
                      & ~areas["area_code"].str.contains("-")][["name", "geometry"]]
    located = gpd.sjoin(gpd.GeoDataFrame(geometry=points), districts, how="left", predicate="within")
    district = (located.groupby(level=0)["name"].first().reindex(range(SEED_SOURCES)).fillna("北京市")
                .to_numpy(dtype=object))

    levels = rng.choice(list(LEVEL_SHARES), SEED_SOURCES, p=list(LEVEL_SHARES.values()))
    unit_kind = kinds[unit_anchor][owner]
    source_type = np.array([SOURCE_TYPES[k][int(u * len(SOURCE_TYPES[k]))]
                            for k, u in zip(unit_kind, rng.random(SEED_SOURCES), strict=True)], dtype=object)
    credit = np.array([f"91110000BT{i:06d}X" for i in range(SEED_UNITS)], dtype=object)[owner]
    codes = np.array([f"RS{i:07d}" for i in range(SEED_SOURCES)], dtype=object)
    unit_names = np.array([f"合成单位{i}有限公司" for i in range(SEED_UNITS)], dtype=object)[owner]
    sources = gpd.GeoDataFrame({
        "key": [make_key((c, s)) for c, s in zip(credit, codes, strict=True)],
        "credit_code": credit, "source_code": codes, "unit_name": unit_names,
        "name": [f"{u}{t}风险点{i % 7 + 1}" for i, (u, t) in enumerate(zip(unit_names, source_type, strict=True))],
        "source_type": source_type, "level": levels,
        "likelihood": rng.integers(1, 6, SEED_SOURCES), "severity": rng.integers(1, 6, SEED_SOURCES),
        "district": district, "address": [f"北京市{d}合成路{n}号" for d, n in
                                          zip(district, rng.integers(1, 999, SEED_SOURCES), strict=True)],
        "geocode_precision": "poi", "synthetic": True,
    }, geometry=points.to_numpy(), crs="EPSG:4326")

    pick = rng.integers(0, len(anchors), SEED_TEAMS)
    teams_xy = gpd.GeoSeries(gpd.points_from_xy(ax[pick] + rng.normal(0, 1500.0, SEED_TEAMS),
                                                ay[pick] + rng.normal(0, 1500.0, SEED_TEAMS)),
                             crs=BEIJING_METRIC_CRS).to_crs("EPSG:4326")
    codes = np.array([f"TEAM{i:05d}" for i in range(SEED_TEAMS)], dtype=object)
    teams = gpd.GeoDataFrame({
        "key": codes, "resource_code": codes, "name": [f"合成救援队{i}" for i in range(SEED_TEAMS)],
        "resource_type": "team", "speciality": rng.choice(TEAM_SPECIALITIES, SEED_TEAMS),
        "capacity": rng.integers(10, 120, SEED_TEAMS), "synthetic": True,
    }, geometry=teams_xy.to_numpy(), crs="EPSG:4326")
    return {"risk_sources": sources, "resources": teams}


def load_store(store: Store, data: dict[str, gpd.GeoDataFrame]) -> float:
    """Schema, reference geography and ``data``; returns seconds."""
    t0 = time.perf_counter()
    store.init_schema()
    load_reference(store, REFERENCE_DIR)
    for kind, frame in data.items():
        store.upsert(kind, frame, batch=_batch(kind, len(frame)))
    return time.perf_counter() - t0


def analyze_database(database_url: str, *, jit: str) -> str:
    """ANALYZE (as autovacuum would soon after a load); with ``jit="off"`` disable JIT for new sessions.

    Returns the server's version and the settings that matter for tile queries, as one line.
    """
    from sqlalchemy import create_engine, make_url, text

    url = make_url(database_url)
    eng = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("ANALYZE"))
        if jit == "off":
            conn.execute(text(f'ALTER DATABASE "{url.database}" SET jit = off'))
    eng.dispose()  # a new session sees the database's settings
    with eng.connect() as conn:
        settings = [f"{name} {conn.execute(text(f'SHOW {name}')).scalar_one()}" for name in
                    ("server_version", "jit", "shared_buffers", "work_mem", "max_parallel_workers_per_gather")]
        settings.append(f"postgis {conn.execute(text('SELECT postgis_lib_version()')).scalar_one()}")
    eng.dispose()
    return ", ".join(settings)


@contextmanager
def fresh_database(server_url: str, *, keep: bool) -> Iterator[str]:
    """A new database ``bench_tiles_<random>`` with PostGIS on the server of ``server_url``; dropped after."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(server_url)
    name = f"bench_tiles_{secrets.token_hex(4)}"
    admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    bench_url = url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    try:
        eng = create_engine(url.set(drivername="postgresql+psycopg", database=name))
        with eng.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        eng.dispose()
        yield bench_url
    finally:
        if keep:
            print(f"# kept database {bench_url}", flush=True)
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- processes ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A server subprocess on a free loopback port, in its own process group."""

    name: str
    argv: list[str]  # "{port}" is replaced
    env: dict[str, str]
    health_path: str
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> None:
        self.port = free_port()
        t0 = time.perf_counter()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([a.replace("{port}", str(self.port)) for a in self.argv], env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + self.health_path, timeout=5) as r:
                    if r.status == 200:
                        self.starts.append(time.perf_counter() - t0)
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {self.health_path} within {timeout_s:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group of the process we started, nothing else
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid) if self.proc else 0.0


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected to one database (local server only)."""

    def __init__(self, database_url: str | None) -> None:
        self.engine = None
        self.database = None
        if database_url:
            from sqlalchemy import create_engine, make_url

            url = make_url(database_url)
            self.database = url.database
            self.engine = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                                        pool_size=1)

    def snapshot(self) -> dict[int, float]:
        if self.engine is None:
            return {}
        from sqlalchemy import text

        with self.engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                {"d": self.database}).scalars().all()
        return {int(p): process_cpu_seconds(int(p)) for p in pids}

    @staticmethod
    def delta(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(max(after[p] - before.get(p, 0.0), 0.0) for p in after)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


# -- load runs -----------------------------------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("# installing wrk with apt-get", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    return found


@dataclass
class Run:
    """One measured load: latencies in microseconds, CPU in seconds."""

    requests: int
    seconds: float
    bytes: int
    errors: dict[str, int]  # wrk's counts: connect, read, write, status (HTTP >= 400), timeout
    p50_us: float
    p99_us: float
    app_cpu_s: float
    db_cpu_s: float
    hist: list[tuple[int, int]] | None = None

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_text(self) -> str:
        return " ".join(f"{k} {v}" for k, v in sorted(self.errors.items())) or "0"


def sum_errors(runs: list[Run]) -> dict[str, int]:
    total: dict[str, int] = {}
    for r in runs:
        for k, v in r.errors.items():
            total[k] = total.get(k, 0) + v
    return total


def wrk(
    base_url: str, mode: str, arg: str, suffix: str = "", *, duration_s: float, connections: int = CONNECTIONS,
    authorization: str = "",
) -> dict[str, Any]:
    """Run wrk once with the bench Lua script; the parsed ``BENCH`` line.

    In "once" mode the script creates a marker file after the last answer and signals wrk to stop;
    if wrk's main thread sleeps on, it is signalled again from here, and the pass's duration is the
    time to the marker.
    """
    with tempfile.TemporaryDirectory(prefix="bench_tiles_wrk_") as tmp:
        marker = Path(tmp) / "done"
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{math.ceil(duration_s)}s", "--timeout", "60s",
               "-s", str(WRK_SCRIPT), base_url, "--", mode, arg, suffix, str(marker)]
        t0 = time.perf_counter()
        env = {**os.environ, "BENCH_AUTHORIZATION": authorization}  # the Lua script sends it with every request
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        done_after = None
        deadline = time.monotonic() + duration_s + 120
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if done_after is None and marker.exists():
                    done_after = time.perf_counter() - t0
                    signal_at = time.monotonic() + 0.3
                if done_after is not None and time.monotonic() > signal_at:
                    proc.send_signal(signal.SIGINT)
                    signal_at = time.monotonic() + 0.5
                time.sleep(0.01)
        finally:
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate()
    for line in out.splitlines():
        if line.startswith("BENCH "):
            result: dict[str, Any] = json.loads(line[len("BENCH "):])
            if done_after is not None:
                result["duration_us"] = min(result["duration_us"], done_after * 1e6)
            return result
    raise RuntimeError(f"wrk gave no result (status {proc.returncode}): {out[-500:]} {err[-500:]}")


class ServerDied(RuntimeError):
    """The server under test exited during a run (other jobs on this machine may stop servers by name)."""


def measured(
    server: Server, backends: BackendCpu, mode: str, arg: str, suffix: str = "", *, duration_s: float,
    connections: int = CONNECTIONS, authorization: str = "",
) -> Run:
    """One wrk run against ``server`` with the CPU time it and its database backends spent."""
    app0, db0 = server.cpu_seconds(), backends.snapshot()
    try:
        res = wrk(server.url, mode, arg, suffix, duration_s=duration_s, connections=connections,
                  authorization=authorization)
    except RuntimeError as exc:
        failure: Exception | None = exc
    else:
        failure = None
    status = server.proc.poll() if server.proc else -1
    if status is not None:
        raise ServerDied(f"{server.name} exited with status {status} during a {mode} run")
    if failure is not None:
        tail = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
        raise RuntimeError(f"{server.name} at {server.url}: {failure}\n{server.log}:\n{tail}")
    app, db = server.cpu_seconds() - app0, backends.delta(db0, backends.snapshot())
    e = res["errors"]
    return Run(requests=res["requests"], seconds=res["duration_us"] / 1e6, bytes=res["bytes"],
               errors={k: int(v) for k, v in e.items() if v}, p50_us=res["p50"], p99_us=res["p99"],
               app_cpu_s=app, db_cpu_s=db,
               hist=[(int(v), int(c)) for v, c in res.get("hist", [])] or None)


def merge(runs: list[Run]) -> Run:
    """Cold passes merged: latency percentiles over all their requests (nearest rank)."""
    hist: dict[int, int] = {}
    for r in runs:
        for v, c in r.hist or []:
            hist[v] = hist.get(v, 0) + c
    values = sorted(hist.items())
    n = sum(c for _, c in values)

    def pct(p: float) -> float:
        rank, seen = max(math.ceil(p / 100 * n), 1), 0
        for v, c in values:
            seen += c
            if seen >= rank:
                return float(v)
        return float("nan")

    return Run(requests=sum(r.requests for r in runs), seconds=sum(r.seconds for r in runs),
               bytes=sum(r.bytes for r in runs), errors=sum_errors(runs), p50_us=pct(50),
               p99_us=pct(99), app_cpu_s=sum(r.app_cpu_s for r in runs), db_cpu_s=sum(r.db_cpu_s for r in runs))


def tile_list(z: int, max_tiles: int, rng: np.random.Generator) -> list[mercantile.Tile]:
    tiles = list(mercantile.tiles(*BUILT_UP_BBOX, zooms=[z]))
    if len(tiles) > max_tiles:
        tiles = [tiles[i] for i in sorted(rng.choice(len(tiles), max_tiles, replace=False))]
    return [tiles[i] for i in rng.permutation(len(tiles))]


@dataclass
class Target:
    """How one server names a risk-source tile."""

    label: str
    server: Server
    template: str  # with {z} {x} {y}
    suffix: str = ""
    authorization: str = ""  # the Authorization header ours needs (tipg: none)

    def write_paths(self, tiles: list[mercantile.Tile], path: Path) -> str:
        path.write_text("".join(self.template.format(z=t.z, x=t.x, y=t.y) + "\n" for t in tiles))
        return str(path)


# -- signing in ----------------------------------------------------------------------------------

BENCH_USER = "bench_tiles"


@dataclass(frozen=True)
class Credentials:
    """The bench user of one store: its password (for the login form) and an API token."""

    user: str
    password: str
    token: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


def bench_credentials(store: Store, role: str, scope: tuple[str, ...]) -> Credentials:
    """``bench_tiles`` of ``role`` and ``scope`` in ``store`` with a fresh password and a new API token."""
    from geo.capabilities.accounts import create_token, ensure_user, read_roles
    from layers.catalog import CATALOG

    roles = read_roles(load_settings().paths.roles_path, layers=[layer.id for layer in CATALOG])
    password = ensure_user(store, roles, name=BENCH_USER, role=role, scope=scope, actor="bench_tiles")
    _, token = create_token(store, roles, user=BENCH_USER, name="bench_tiles", actor="bench_tiles")
    return Credentials(BENCH_USER, password, token)


def session_cookie(url: str, credentials: Credentials) -> dict[str, str]:
    """The session cookie of the bench user signed in through the login form at ``url`` (Playwright's form)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{url}/login", timeout=30) as r:
        token = re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode())
    if token is None:
        raise RuntimeError(f"{url}/login has no CSRF field")
    form = urllib.parse.urlencode({"username": credentials.user, "password": credentials.password,
                                   "csrf_token": token.group(1)}).encode()
    opener.open(urllib.request.Request(f"{url}/login", data=form, method="POST"), timeout=30).close()
    cookie = next((c for c in jar if c.name == "riskmap_session"), None)
    if cookie is None or cookie.value is None:
        raise RuntimeError(f"signing in {credentials.user} at {url} gave no session")
    return {"name": cookie.name, "value": cookie.value, "url": url}


# -- browser -------------------------------------------------------------------------------------

READY_PROBE = """
window.__bench = {readyAt: null, drawnAt: null};
(function poll() {
  var r = window.riskmap;
  if (r && r.ready) {
    if (window.__bench.readyAt === null) { window.__bench.readyAt = performance.now(); }
    var busy = false;
    for (var id in r.layers) {
      var l = r.layers[id];
      if (r.map.hasLayer(l) && l.isLoading && l.isLoading()) { busy = true; }
    }
    if (!busy) { window.__bench.drawnAt = performance.now(); return; }
  }
  setTimeout(poll, 5);
})();
"""

TIMINGS = """() => {
  var tiles = performance.getEntriesByType("resource").filter(function (e) { return e.name.indexOf("/tiles/") >= 0; });
  return {ready: window.__bench.readyAt, drawn: window.__bench.drawnAt, tiles: tiles.length,
          lastTile: tiles.reduce(function (m, e) { return Math.max(m, e.responseEnd); }, 0)};
}"""


def chromium_args() -> list[str]:
    """CHROMIUM_ARGS from tests/browser/conftest.py (read, not imported: no pytest fixtures here)."""
    tree = ast.parse((ROOT / "tests" / "browser" / "conftest.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "CHROMIUM_ARGS" for t in node.targets):
            return list(ast.literal_eval(node.value))
    raise RuntimeError("CHROMIUM_ARGS not found in tests/browser/conftest.py")


def first_renders(server: Server, restart: Callable[[], None], credentials: Credentials, *,
                  repeats: int = 1) -> list[dict[str, Any]]:
    """Time the first view (cold tile cache, then warm) in fresh browser contexts, ``repeats`` times."""
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        try:
            for _ in range(repeats):
                restart()
                cookie = session_cookie(server.url, credentials)  # signed in before the clock starts
                results.append({"cache": "cold", **render_once(browser, server.url, cookie)})
                results.append({"cache": "warm", **render_once(browser, server.url, cookie)})
        finally:
            browser.close()
    return results


def render_once(browser: Browser, url: str, cookie: dict[str, str]) -> dict[str, Any]:
    """Open the map in a new context holding the session ``cookie``; milliseconds from navigation start,
    tile statuses, console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies([cookie])  # type: ignore[list-item]
    page = context.new_page()
    statuses: list[int] = []
    errors: list[str] = []

    def on_response(response: Response) -> None:
        if "/tiles/" in response.url:
            statuses.append(response.status)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("response", on_response)
    page.on("console", on_console)
    page.add_init_script(READY_PROBE)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url + "/", wait_until="load", timeout=60_000)
    # polled through the DevTools protocol: wait_for_function evals in the page, which the CSP forbids
    deadline = time.monotonic() + 60
    while not page.evaluate("!!(window.__bench && window.__bench.drawnAt !== null)"):
        if time.monotonic() > deadline:
            raise RuntimeError("the map did not draw within 60 s")
        time.sleep(0.005)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    page.wait_for_load_state("networkidle", timeout=60_000)
    t = page.evaluate(TIMINGS)
    context.close()
    return {"ready_ms": t["ready"], "drawn_ms": t["drawn"], "last_tile_ms": t["lastTile"], "tiles": len(statuses),
            "non_200": sum(s != 200 for s in statuses), "console_errors": len(errors),
            "main_thread_ms": metrics.get("TaskDuration", float("nan")) * 1000}


# -- tipg ----------------------------------------------------------------------------------------

def ensure_tipg(venv: Path) -> Path:
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import tipg, uvicorn"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"# creating {venv} with tipg and uvicorn from PyPI", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "tipg", "uvicorn"], check=True)
    return python


def tipg_version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import tipg, uvicorn; print(tipg.__version__, uvicorn.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip()


# -- the benchmark ----------------------------------------------------------------------------------

@dataclass
class Row:
    server: str
    zoom: int
    cache: str
    run: Run

    def cells(self) -> list[str]:
        r = self.run
        n = max(r.requests, 1)
        return [self.server, str(self.zoom), self.cache, str(r.requests), f"{r.p50_us / 1000:.1f}",
                f"{r.p99_us / 1000:.1f}", f"{r.per_s:.1f}", f"{r.bytes / n / 1024:.1f}",
                f"{r.app_cpu_s * 1000 / n:.2f}", f"{r.db_cpu_s * 1000 / n:.2f}", r.error_text]


HEADER = ["server", "z", "cache", "n", "p50 ms", "p99 ms", "tiles/s", "KB/tile", "app CPU ms/tile",
          "db CPU ms/tile", "errors"]


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def warm_up(target: Target, tmp: Path, rng: np.random.Generator) -> None:
    """2 s on z16 tiles (not measured): opens the connection pool and loads PostGIS in the backends."""
    tiles = tile_list(WARMUP_ZOOM, 200, rng)
    wrk(target.server.url, "loop", target.write_paths(tiles, tmp / f"warmup_{target.label}.txt"), target.suffix,
        duration_s=2, authorization=target.authorization)


@dataclass
class TileBench:
    """Cold passes (ours restarted before each), then warm runs, interleaving ours and tipg."""

    ours: Target
    others: list[Target]
    backends: BackendCpu
    tmp: Path
    max_tiles: int
    duration_s: float
    seed: int
    notes: list[str]
    files: dict[tuple[str, int], str] = field(default_factory=dict)
    cached: set[int] = field(default_factory=set)  # zooms in the cache of ours' current instance

    def run(self) -> list[Row]:
        rng = np.random.default_rng(self.seed)
        targets = (self.ours, *self.others)
        tiles = {z: tile_list(z, self.max_tiles, rng) for z in ZOOMS}
        self.files = {(t.label, z): t.write_paths(tiles[z], self.tmp / f"{t.label}_{z}.txt")
                      for t in targets for z in ZOOMS}
        print("# tiles per pass: " + ", ".join(f"z{z}: {len(tiles[z])}" for z in ZOOMS), flush=True)
        cold: dict[tuple[str, int], list[Run]] = {}
        passes = max(COLD_PASSES.values())
        for i in range(passes):
            for target in targets:
                if target is self.ours:
                    self.restart_ours()
                warm_up(target, self.tmp, rng)
                capped = target.label.endswith(f"limit={TIPG_DEFAULT_CAP}")
                for z in ZOOMS:
                    # every zoom has a pass on ours' last instance, whose cache then serves the warm runs
                    if i >= passes - COLD_PASSES[z] and not (capped and z >= 13):
                        cold.setdefault((target.label, z), []).append(self.measure(target, z, "once"))
            print(f"# cold pass {i + 1} done", flush=True)
        rows = [Row(label, z, "cold", merge(runs)) for (label, z), runs in cold.items()]
        for z in ZOOMS:
            for target in targets:
                if target.label.endswith(f"limit={TIPG_DEFAULT_CAP}"):
                    continue  # the capped variant is only compared cold
                run = self.measure(target, z, "loop")
                rows.append(Row(target.label, z, "warm" if target is self.ours else "warm (no cache)", run))
            print(f"# warm z{z} done", flush=True)
        order = {t.label: n for n, t in enumerate(targets)}
        return sorted(rows, key=lambda r: (r.zoom, order[r.server], r.cache != "cold"))

    def restart_ours(self) -> None:
        self.ours.server.restart()
        self.cached.clear()

    def measure(self, target: Target, z: int, mode: str) -> Run:
        """A measured run; if the server was stopped from outside, restart it and measure again."""
        for _ in range(3):
            if target is self.ours and mode == "loop" and z not in self.cached:
                wrk(target.server.url, "once", self.files[(target.label, z)], duration_s=600,  # refill, unmeasured
                    authorization=target.authorization)
            try:
                run = measured(target.server, self.backends, mode, self.files[(target.label, z)], target.suffix,
                               duration_s=600 if mode == "once" else self.duration_s,
                               authorization=target.authorization)
            except ServerDied as exc:
                self.notes.append(f"{exc}; restarted and measured again (z{z})")
                print(f"# {exc}; restarting", flush=True)
                if target is self.ours:
                    self.restart_ours()
                else:
                    target.server.restart()
                warm_up(target, self.tmp, np.random.default_rng(self.seed))
                continue
            if target is self.ours:
                self.cached.add(z)
            return run
        raise RuntimeError(f"{target.server.name} kept exiting; giving up")


def http_get(url: str, authorization: str = "", timeout: float = 60) -> bytes:
    """The body of GET ``url`` (with ``Authorization`` when given)."""
    request = urllib.request.Request(url, headers={"Authorization": authorization} if authorization else {})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        body: bytes = r.read()
    return body


def bench_nearest(server: Server, backends: BackendCpu, duration_s: float, notes: list[str],
                  authorization: str) -> dict[int, Run]:
    """Nearest fire stations and teams at random points, with 1 and with 8 connections."""
    bbox = ",".join(str(v) for v in BUILT_UP_BBOX)
    suffix = "&types=fire_station,team&k=5"
    answer = json.loads(http_get(f"{server.url}/api/v1/nearest?lon=116.4&lat=39.9{suffix}", authorization, 30))
    if not all(answer["resources"][t] for t in ("fire_station", "team")):
        raise RuntimeError(f"nearest answered without resources: {answer}")
    runs: dict[int, Run] = {}
    for connections in (1, CONNECTIONS):
        for _ in range(3):
            try:
                runs[connections] = measured(server, backends, "nearest", bbox, suffix, duration_s=duration_s,
                                             connections=connections, authorization=authorization)
                break
            except ServerDied as exc:
                notes.append(f"{exc}; restarted and measured again")
                server.restart()
        else:
            raise RuntimeError(f"{server.name} kept exiting; giving up")
    return runs


def our_server(store: str, database_url: str | None, gpkg: Path | None, tmp: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    if store == "postgis":
        env["RISKMAP_DATABASE_URL"] = str(database_url)
    else:
        env["RISKMAP_GPKG_PATH"] = str(gpkg)
    # `riskmap serve` is this click command; run through -m so that other jobs on the machine that
    # stop their servers by name ("riskmap serve") leave this one alone
    argv = [sys.executable, "-m", "webmap.cli.main", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return Server(f"riskmap serve ({store})", argv, env, "/api/v1/health", tmp / f"riskmap_{store}.log")


def tipg_server(python: Path, database_url: str, tmp: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIPG_", "RISKMAP_"))}
    env.update({
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": json.dumps([TIPG_COLLECTION]),
        "TIPG_MAX_FEATURES_PER_TILE": str(SEED_SOURCES * 2),  # complete tiles; see the ?limit= rows
        "TIPG_TILE_BUFFER": "64",  # ours: extent 4096, buffer 64
        "TIPG_TILE_RESOLUTION": "4096",
    })
    return Server("tipg", [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port", "{port}",
                           "--no-access-log", "--log-level", "warning"], env, "/healthz", tmp / "tipg.log")


def log_problems(server: Server) -> list[str]:
    """Errors a server logged during the benchmark (one note with the count and the first one)."""
    if not server.log.exists():
        return []
    lines = server.log.read_text(errors="replace").splitlines()
    tracebacks = sum(line.startswith("Traceback") for line in lines)
    causes = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Timeout)\b", line) or "ERROR" in line]
    if not tracebacks and not causes:
        return []
    return [f"{server.name} logged {tracebacks} tracebacks; first error line: {causes[0][:300] if causes else '?'}"]


def check_same_tile(ours: Target, tipg: Target) -> str:
    """Feature counts of one z14 tile from both servers (a fairness check, printed)."""
    import mapbox_vector_tile

    t = mercantile.tile(116.40, 39.91, 14)
    counts = []
    for target in (ours, tipg):
        url = target.server.url + target.template.format(z=t.z, x=t.x, y=t.y) + target.suffix
        layers = mapbox_vector_tile.decode(http_get(url, target.authorization))
        feats = sum(len(layer["features"]) for layer in layers.values())
        props = sorted({k for layer in layers.values() for f in layer["features"][:1] for k in f["properties"]})
        counts.append(f"{target.label}: {feats} features, properties {props}")
    return f"z14 tile {t.x}/{t.y}: " + "; ".join(counts)


def target_rows(stores: list[str], tile_rows: list[Row]) -> list[list[str]]:
    """Per store and zoom: ours/tipg tiles/s cold (>= 1.5 wanted) and the worst p99 of ours (< 150 ms wanted)."""
    out = []
    for store in stores:
        label = f"ours ({store})"
        for z in ZOOMS:
            mine = {r.cache: r.run for r in tile_rows if r.server == label and r.zoom == z}
            theirs = next((r.run for r in tile_rows if r.server == "tipg" and r.zoom == z and r.cache == "cold"), None)
            capped = next((r.run for r in tile_rows if r.server.startswith("tipg limit") and r.zoom == z
                           and r.cache == "cold"), None)
            ratio = mine["cold"].per_s / theirs.per_s if theirs and theirs.per_s else float("nan")
            ratio_capped = mine["cold"].per_s / capped.per_s if capped and capped.per_s else float("nan")
            worst_p99 = max(r.p99_us for r in mine.values()) / 1000
            out.append([label, str(z), f"{ratio:.2f}", f"{ratio_capped:.2f}",
                        "-" if math.isnan(ratio) else ("yes" if ratio >= 1.5 else "NO"),
                        f"{worst_p99:.1f}", "yes" if worst_p99 < 150 else "NO"])
    return out


def print_report(
    stores: list[str], tile_rows: list[Row], nearest_rows: list[list[str]], render_rows: list[list[str]]
) -> None:
    if tile_rows:
        print()
        print(f"## Risk-source tiles ({LAYER.id}: ours clusters below z{LAYER.cluster_below}, tipg sends every "
              f"point), wrk 1 thread x {CONNECTIONS} connections on 127.0.0.1")
        print_table(HEADER, [r.cells() for r in tile_rows])
        print("(cold: each tile once per pass, passes merged; warm: cycling for the set duration. n and KB/tile "
              "count completed responses, so in short warm runs of tipg's multi-MB z8 tiles they lean to the small "
              "tiles.)")
        print()
        print("## Targets per zoom: ours / tipg tiles/s cold >= 1.5; p99 < 150 ms (ours, worst of cold and warm)")
        print_table(["server", "z", "ours/tipg cold", f"ours/tipg limit={TIPG_DEFAULT_CAP} cold", ">= 1.5x",
                     "worst p99 ms", "< 150 ms"], target_rows(stores, tile_rows))
    if nearest_rows:
        print()
        print("## Nearest resources /api/v1/nearest?types=fire_station,team&k=5 (random points, target p50 <= 20 ms)")
        print_table(["server", "connections", "n", "p50 ms", "p99 ms", "req/s", "app CPU ms/req", "db CPU ms/req",
                     "errors", "met"], nearest_rows)
    if render_rows:
        print()
        print("## First map render in Chromium, default layers, 1280x800 at z8 (ms from navigation start; "
              "target drawn <= 2000 ms)")
        print_table(["server", "tile cache", "ready", "last tile", "drawn", "main thread busy", "tile requests",
                     "non-200", "console errors", "met"], render_rows)
        print("(main thread busy: the page's renderer main thread until drawn (Chromium's TaskDuration), "
              "the part of 'drawn' that is the page's own work; the rest is waiting for the server and the CPU.)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("RISKMAP_DATABASE_URL") or DEV_DATABASE_URL,
                        help="PostgreSQL server to create the bench database on")
    parser.add_argument("--store", action="append", choices=["postgis", "geopackage"],
                        help="store(s) behind our server (repeatable; default postgis)")
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per warm / nearest run")
    parser.add_argument("--max-tiles", type=int, default=400, help="tiles per zoom at most")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tipg-venv", type=Path, default=Path("/tmp/tipg-venv"))
    parser.add_argument("--no-tipg", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the bench database (and print its URL)")
    parser.add_argument("--jit", choices=["default", "off"], default="default",
                        help="PostgreSQL JIT for the bench database (default: the server's setting)")
    parser.add_argument("--only", choices=["all", "render"], default="all",
                        help="'render': only the first map render in Chromium (no tipg, no wrk load runs)")
    parser.add_argument("--renders", type=int, default=1, help="cold + warm first renders per store")
    parser.add_argument("--use-database", metavar="URL",
                        help="serve this already loaded database (not created, loaded nor dropped)")
    parser.add_argument("--gpkg", type=Path, help="GeoPackage to load and keep (served as it is if it exists)")
    parser.add_argument("--role", default="admin", help="role of the bench user (data/roles.yaml)")
    parser.add_argument("--scope", action="append", metavar="CODE",
                        help="area code of the bench user's scope (repeatable; e.g. 110105 with --role "
                             "district_officer)")
    return parser.parse_args(argv)


def prepare_stores(stack: ExitStack, args: argparse.Namespace, stores: list[str], with_tipg: bool,
                   data: dict[str, Any], tmp: Path, notes: list[str]) -> tuple[str | None, Path | None]:
    """The PostGIS database URL (created and loaded, or given) and the GeoPackage path, as asked."""
    database_url = None
    if args.use_database and ("postgis" in stores or with_tipg):
        database_url = args.use_database
        print(f"# postgis: using the loaded database {database_url}", flush=True)
    elif "postgis" in stores or with_tipg:
        database_url = stack.enter_context(fresh_database(args.database_url, keep=args.keep))
        from geo.stores.postgis import PostGISStore

        pg = PostGISStore(database_url)
        print(f"# postgis: loaded in {load_store(pg, data):.1f} s", flush=True)
        pg.close()
        notes.append("PostgreSQL: " + analyze_database(database_url, jit=args.jit))
    gpkg = None
    if "geopackage" in stores:
        from geo.stores.geopackage import GeoPackageStore

        gpkg = args.gpkg or tmp / "bench.gpkg"
        if gpkg.exists():
            print(f"# geopackage: using {gpkg}", flush=True)
        else:
            print(f"# geopackage: loaded in {load_store(GeoPackageStore(gpkg), data):.1f} s", flush=True)
    return database_url, gpkg


def start_tipg(stack: ExitStack, tipg_python: Path | None, database_url: str | None, tmp: Path,
               notes: list[str]) -> list[Target]:
    """tipg on the bench database, as two targets (no feature cap, and tipg's default cap)."""
    if not (tipg_python and database_url):
        return []
    tipg = tipg_server(tipg_python, database_url, tmp)
    stack.callback(tipg.stop)
    tipg.start()
    props = "?properties=" + ",".join(LAYER.tile_columns)
    template = f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"
    capped_props = f"{props}&limit={TIPG_DEFAULT_CAP}"
    notes.append(f"tipg {tipg_version(tipg_python)} (tipg, uvicorn), 1 uvicorn worker, "
                 f"asyncpg pool <= 10; started in {tipg.starts[0]:.1f} s")
    return [Target("tipg", tipg, template, props),
            Target(f"tipg limit={TIPG_DEFAULT_CAP}", tipg, template, capped_props)]


def nearest_row(label: str, conns: int, run: Any) -> list[str]:
    n = max(run.requests, 1)
    return [label, str(conns), str(run.requests), f"{run.p50_us / 1000:.1f}", f"{run.p99_us / 1000:.1f}",
            f"{run.per_s:.1f}", f"{run.app_cpu_s * 1000 / n:.2f}", f"{run.db_cpu_s * 1000 / n:.2f}", run.error_text,
            "yes" if run.p50_us <= 20_000 else "NO"]


def render_row(label: str, r: dict[str, Any]) -> list[str]:
    return [label, r["cache"], f"{r['ready_ms']:.0f}", f"{r['last_tile_ms']:.0f}", f"{r['drawn_ms']:.0f}",
            f"{r['main_thread_ms']:.0f}", str(r["tiles"]), str(r["non_200"]), str(r["console_errors"]),
            "yes" if r["drawn_ms"] <= 2000 else "NO"]


@dataclass
class Report:
    """The rows of the printed tables, and notes."""

    tiles: list[Row] = field(default_factory=list)
    nearest: list[list[str]] = field(default_factory=list)
    renders: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def bench_store(store: str, args: argparse.Namespace, database_url: str | None, gpkg: Path | None, tmp: Path,
                tipg_targets: list[Target], backends: BackendCpu, report: Report) -> None:
    """Serve ``store`` with our server and measure tiles, nearest and first renders against it, signed in
    as the bench user of ``--role`` and ``--scope``."""
    credentials = store_credentials(store, database_url, gpkg, args.role, tuple(args.scope or ()))
    report.notes.append(f"ours ({store}) signed in as {credentials.user}, role {args.role}, scope "
                        f"{','.join(args.scope or ()) or 'everywhere'}: API token for wrk, session for Chromium")
    server = our_server(store, database_url, gpkg, tmp)
    server.start()
    try:
        ours = Target(f"ours ({store})", server, f"/tiles/{LAYER.id}/{{z}}/{{x}}/{{y}}.pbf",
                      authorization=credentials.authorization)
        others = tipg_targets if store == "postgis" else []
        cpu = backends if store == "postgis" else BackendCpu(None)
        if others:
            report.notes.append(check_same_tile(ours, others[0]))
        if args.only != "render":
            report.tiles += TileBench(ours, others, cpu, tmp, args.max_tiles, args.duration, args.seed,
                                      report.notes).run()
            for conns, run in bench_nearest(server, cpu, args.duration, report.notes,
                                            credentials.authorization).items():
                report.nearest.append(nearest_row(ours.label, conns, run))
        if not args.no_browser:
            def restart_warm() -> None:
                server.restart()
                warm_up(ours, tmp, np.random.default_rng(args.seed))

            for r in first_renders(server, restart_warm, credentials, repeats=args.renders):
                report.renders.append(render_row(ours.label, r))
        report.notes.append(f"{server.name}: started in " + ", ".join(f"{s:.1f}" for s in server.starts) + " s")
    finally:
        server.stop()
    report.notes.extend(log_problems(server))


def store_credentials(store: str, database_url: str | None, gpkg: Path | None, role: str,
                      scope: tuple[str, ...]) -> Credentials:
    """The bench user's credentials in the store ``store`` serves."""
    from geo.stores import open_store

    opened = open_store(database_url=database_url if store == "postgis" else None, gpkg_path=gpkg or Path(os.devnull))
    try:
        opened.init_schema()
        return bench_credentials(opened, role, scope)
    finally:
        opened.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stores = args.store or ["postgis"]
    started = time.perf_counter()
    cpu_started = time.process_time()
    render_only = args.only == "render"
    ensure_wrk()  # also warms the server up before the cold render
    tipg_python = None if args.no_tipg or render_only else ensure_tipg(args.tipg_venv)
    data = synthetic_data(args.seed)
    levels = data["risk_sources"]["level"].value_counts()
    print(f"# {len(data['risk_sources']):,} synthetic risk sources ("
          + ", ".join(f"{lv} {levels.get(lv, 0):,}" for lv in LEVEL_SHARES) + f"), {SEED_TEAMS} synthetic teams; "
          f"{os.cpu_count()} CPUs shared with other work (load average {os.getloadavg()[0]:.1f}): "
          "wall-clock figures are noisy, CPU ms per tile is steadier", flush=True)
    report = Report()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_tiles_")))
        database_url, gpkg = prepare_stores(stack, args, stores, tipg_python is not None, data, tmp, report.notes)
        backends = BackendCpu(database_url)
        stack.callback(backends.close)
        tipg_targets = start_tipg(stack, tipg_python, database_url, tmp, report.notes)
        for store in stores:
            bench_store(store, args, database_url, gpkg, tmp, tipg_targets, backends, report)
        if tipg_targets:
            report.notes.extend(log_problems(tipg_targets[0].server))

    print_report(stores, report.tiles, report.nearest, report.renders)
    print()
    for note in report.notes:
        print(f"# {note}")
    print(f"# total {time.perf_counter() - started:.0f} s wall, {time.process_time() - cpu_started:.0f} s CPU "
          f"(this process); load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
