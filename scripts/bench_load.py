"""Load benchmark of ``riskmap serve`` (gunicorn, the default workers) on both stores.

Usage:
    python scripts/bench_load.py [--duration 60] [--warmup 5] [--connections 8] [--store postgis]
                                 [--store geopackage] [--phase mix] [--phase nearest] [--database-url URL]
                                 [--use-database URL] [--gpkg PATH] [--seed 0]

Steps (everything on 127.0.0.1; the server and the bench database are removed at the end):

1. Data: the seed-scale synthetic data of ``scripts/bench_tiles.py`` (162,699 risk sources of 9,911
   units around Beijing's OSM residential and industrial points, 300 rescue teams, next to the reference
   geography) plus the hazards of ``scripts/bench_veto.py`` (1,000 gas stations, 1,027 hazardous-chemical
   sites, 87 fireworks points, 40 pipelines), loaded into a fresh PostGIS database (ANALYZEd) and a
   temporary GeoPackage with those scripts' own helpers.
2. ``riskmap serve`` as a subprocess (``python -m webmap.cli.main serve``; RISKMAP_WORKERS and
   RISKMAP_THREADS as in the environment, by default one worker per core), access log on stderr (the
   default) into the server's log file.
3. A load generator in this process (asyncio, HTTP/1.1 keep-alive, ``--connections`` connections, each
   sending its next request when the last is answered) for ``--warmup`` seconds (not measured: the pools
   open and every worker reads its layers), then ``--duration`` seconds per phase:
   * ``mix``: each request drawn at random: 30 % risk-source tiles, 20 % district tiles (random tiles at
     z8-z14 over Beijing's built-up area 116.0-116.8 E, 39.6-40.2 N: the low zooms soon cached, z14
     mostly not), 30 % ``/api/v1/nearest?types=fire_station,team&k=5`` at random points, 20 %
     ``POST /api/v1/veto`` of a random point with a random land use;
   * ``nearest``: ``/api/v1/nearest`` alone (the target below is for it alone).
   Latencies are from sending the request to reading the whole answer (the client's own queueing is
   not included: one request at a time per connection). Any status other than 200 and any connection
   error counts as an error.
4. The server's RSS (sum of the worker processes, and their PSS: shared pages counted once) when it is
   ready, and after each phase.

Targets (issue 16): 0 errors; ``/nearest`` >= 150 req/s with p99 <= 100 ms on both stores; tiles p99
< 150 ms. The machine's cores are shared by the server, PostgreSQL and this load generator: its own CPU
is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_tiles
import bench_veto
import mercantile
import numpy as np

BBOX = bench_tiles.BUILT_UP_BBOX
TILE_ZOOMS = range(8, 15)
#: The mix: endpoint -> share of the requests.
MIX = {"tiles risk_sources": 0.30, "tiles districts": 0.20, "nearest": 0.30, "veto": 0.20}
NEAREST_SUFFIX = "&types=fire_station,team&k=5"
LAND_USES = bench_veto.LAND_USES
TARGET_NEAREST_PER_S, TARGET_NEAREST_P99_MS, TARGET_TILE_P99_MS = 150.0, 100.0, 150.0


# -- requests --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    endpoint: str
    method: str
    path: str
    body: bytes = b""

    def wire(self) -> bytes:
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n"
        if self.body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
        return (head + "\r\n").encode("ascii") + self.body


def random_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(BBOX[0], BBOX[2]), rng.uniform(BBOX[1], BBOX[3])


def make_request(endpoint: str, rng: random.Random) -> Request:
    """One request of ``endpoint`` at a random place."""
    lon, lat = random_point(rng)
    if endpoint.startswith("tiles "):
        t = mercantile.tile(lon, lat, rng.choice(TILE_ZOOMS))
        return Request(endpoint, "GET", f"/tiles/{endpoint[6:]}/{t.z}/{t.x}/{t.y}.pbf")
    if endpoint == "nearest":
        return Request(endpoint, "GET", f"/api/v1/nearest?lon={lon:.6f}&lat={lat:.6f}{NEAREST_SUFFIX}")
    body = {"geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "land_use": rng.choice(LAND_USES)}
    return Request(endpoint, "POST", "/api/v1/veto", json.dumps(body).encode())


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Status, body bytes and whether the server keeps the connection (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        size = 0
        while True:
            n = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(n + 2)
            size += n
            if n == 0:
                break
    else:
        size = int(headers.get("content-length", "0"))
        await reader.readexactly(size)
    return status, size, headers.get("connection", "").lower() != "close"


# -- load ------------------------------------------------------------------------------------------

@dataclass
class Tally:
    """Latencies (ms) and errors of one endpoint."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def merged(tallies: Iterable[Tally]) -> Tally:
    """All endpoints' latencies and errors as one tally."""
    out = Tally()
    for t in tallies:
        out.latencies_ms += t.latencies_ms
        for what, n in t.errors.items():
            out.errors[what] = out.errors.get(what, 0) + n
    return out


async def connection(port: int, pick: Callable[[random.Random], Request], rng: random.Random,
                     until: float, tallies: dict[str, Tally]) -> None:
    """One client connection: a request, its answer, the next request, until ``until``."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.perf_counter() < until:
        request = pick(rng)
        tally = tallies.setdefault(request.endpoint, Tally())
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            t0 = time.perf_counter()
            writer.write(request.wire())
            status, _, keep = await read_response(reader)
            tally.latencies_ms.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                tally.error(f"HTTP {status}")
            if not keep:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            tally.error(type(exc).__name__)
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.05)
    if writer is not None:
        writer.close()


def run_load(port: int, pick: Callable[[random.Random], Request], *, connections: int, seconds: float,
             seed: int) -> tuple[dict[str, Tally], float]:
    """``connections`` connections for ``seconds``; the tallies per endpoint and the seconds taken."""
    tallies: dict[str, Tally] = {}

    async def main() -> float:
        t0 = time.perf_counter()
        until = t0 + seconds
        await asyncio.gather(*(connection(port, pick, random.Random(seed * 1000 + i), until, tallies)
                               for i in range(connections)))
        return time.perf_counter() - t0

    return tallies, asyncio.run(main())


def mix_picker(rng: random.Random) -> Request:
    return make_request(rng.choices(list(MIX), weights=list(MIX.values()))[0], rng)


def nearest_picker(rng: random.Random) -> Request:
    return make_request("nearest", rng)


PHASES: dict[str, Callable[[random.Random], Request]] = {"mix": mix_picker, "nearest": nearest_picker}


# -- server memory ----------------------------------------------------------------------------------

def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS (MB) of process ``pid`` (0 when it is gone)."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    except OSError:
        return 0.0, 0.0
    return int(fields["Rss"].split()[0]) / 1024, int(fields["Pss"].split()[0]) / 1024


def workers_memory(server: Any) -> str:
    """``RSS (PSS) MB`` summed over the server's worker processes, and how many there are."""
    pids = children(server.proc.pid)
    rss, pss = (sum(values) for values in zip(*(memory_mb(p) for p in pids), strict=True)) if pids else (0.0, 0.0)
    return f"{rss:.0f} ({pss:.0f}) MB in {len(pids)}"


def wait_for_workers(server: Any, timeout_s: float = 120.0) -> int:
    """Wait until every worker has booted (the configured count of children); returns it."""
    expected = int(os.environ.get("RISKMAP_WORKERS") or len(os.sched_getaffinity(0)))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(children(server.proc.pid)) >= expected:
            return expected
        time.sleep(0.2)
    raise RuntimeError(f"{server.name}: fewer than {expected} workers after {timeout_s:.0f} s; see {server.log}")


def our_server(store: str, database_url: str | None, gpkg: Path | None, tmp: Path) -> Any:
    """bench_tiles' ``riskmap serve`` subprocess, keeping RISKMAP_WORKERS / RISKMAP_THREADS if set."""
    server = bench_tiles.our_server(store, database_url, gpkg, tmp)
    server.env.update({k: v for k, v in os.environ.items() if k in ("RISKMAP_WORKERS", "RISKMAP_THREADS")})
    return server


# -- the benchmark ----------------------------------------------------------------------------------

@dataclass
class Row:
    store: str
    phase: str
    endpoint: str
    tally: Tally
    seconds: float

    def cells(self) -> list[str]:
        t = self.tally
        errors = " ".join(f"{k} {v}" for k, v in sorted(t.errors.items())) or "0"
        return [self.store, self.phase, self.endpoint, str(len(t.latencies_ms)),
                f"{len(t.latencies_ms) / self.seconds:.1f}", f"{t.percentile(50):.1f}", f"{t.percentile(99):.1f}",
                errors]


def bench_store(store: str, args: argparse.Namespace, database_url: str | None, gpkg: Path | None, tmp: Path,
                rows: list[Row], notes: list[str]) -> None:
    """Serve ``store``, warm it up, run each phase; rows per endpoint, memory and CPU in the notes."""
    server = our_server(store, database_url, gpkg, tmp)
    server.start()
    try:
        workers = wait_for_workers(server)
        memory = [f"ready {workers_memory(server)}"]
        run_load(server.port, mix_picker, connections=args.connections, seconds=args.warmup, seed=args.seed + 99)
        for phase in args.phase or list(PHASES):
            cpu0 = time.process_time()
            tallies, seconds = run_load(server.port, PHASES[phase], connections=args.connections,
                                        seconds=args.duration, seed=args.seed)
            client_cpu = time.process_time() - cpu0
            for endpoint in sorted(tallies):
                rows.append(Row(store, phase, endpoint, tallies[endpoint], seconds))
            total = sum(len(t.latencies_ms) for t in tallies.values())
            rows.append(Row(store, phase, "all", merged(tallies.values()), seconds))
            memory.append(f"after {phase} {workers_memory(server)}")
            notes.append(f"{store} {phase}: {total} requests in {seconds:.1f} s; load generator CPU "
                         f"{client_cpu / seconds * 100:.0f} % of a core")
        notes.append(f"{store}: {workers} workers; server RSS (PSS) of the workers: " + ", ".join(memory)
                     + f"; started in {server.starts[0]:.1f} s")
    finally:
        server.stop()
    notes.extend(bench_tiles.log_problems(server))


def target_rows(rows: list[Row]) -> list[list[str]]:
    """Per store: errors; /nearest alone req/s and p99; the worst tile p99 of the mix."""
    out = []
    for store in dict.fromkeys(r.store for r in rows):
        mine = [r for r in rows if r.store == store and r.endpoint != "all"]
        errors = sum(sum(r.tally.errors.values()) for r in mine)
        out.append([store, "errors", "0", str(errors), "yes" if errors == 0 else "NO"])
        for r in (r for r in mine if r.phase == "nearest"):
            per_s = len(r.tally.latencies_ms) / r.seconds
            out.append([store, "/nearest alone req/s", f">= {TARGET_NEAREST_PER_S:.0f}", f"{per_s:.1f}",
                        "yes" if per_s >= TARGET_NEAREST_PER_S else "NO"])
            p99 = r.tally.percentile(99)
            out.append([store, "/nearest alone p99 ms", f"<= {TARGET_NEAREST_P99_MS:.0f}", f"{p99:.1f}",
                        "yes" if p99 <= TARGET_NEAREST_P99_MS else "NO"])
        tiles = [r.tally.percentile(99) for r in mine if r.endpoint.startswith("tiles")]
        if tiles:
            out.append([store, "tiles p99 ms (mix, worst layer)", f"< {TARGET_TILE_P99_MS:.0f}", f"{max(tiles):.1f}",
                        "yes" if max(tiles) < TARGET_TILE_P99_MS else "NO"])
    return out


def prepare_stores(stack: ExitStack, args: argparse.Namespace, stores: list[str], tmp: Path,
                   notes: list[str]) -> tuple[str | None, Path | None]:
    """The loaded PostGIS database and GeoPackage, as asked (through bench_tiles' helpers)."""
    data = bench_tiles.synthetic_data(args.seed)
    data |= bench_veto.synthetic_hazards(np.random.default_rng(args.seed))
    print(f"# {len(data['risk_sources']):,} risk sources, {len(data['resources'])} teams, "
          f"{len(data['hazchem_sites']):,} hazardous-chemical sites, {len(data['lines'])} pipelines", flush=True)
    tiles_args = argparse.Namespace(use_database=args.use_database, database_url=args.database_url, keep=False,
                                    jit="default", gpkg=args.gpkg)
    database_url, gpkg = bench_tiles.prepare_stores(stack, tiles_args, stores, False, data, tmp, notes)
    return database_url, gpkg


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("RISKMAP_DATABASE_URL")
                        or bench_tiles.DEV_DATABASE_URL, help="PostgreSQL server to create the bench database on")
    parser.add_argument("--use-database", metavar="URL", help="serve this already loaded database")
    parser.add_argument("--gpkg", type=Path, help="GeoPackage to load and keep (served as it is if it exists)")
    parser.add_argument("--store", action="append", choices=["postgis", "geopackage"],
                        help="store(s) to serve (repeatable; default both)")
    parser.add_argument("--phase", action="append", choices=list(PHASES), help="phase(s) (default: mix, nearest)")
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds of the mix first")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stores = args.store or ["postgis", "geopackage"]
    started = time.perf_counter()
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start; "
          f"{args.connections} connections x {args.duration:.0f} s per phase", flush=True)
    rows: list[Row] = []
    notes: list[str] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_load_")))
        database_url, gpkg = prepare_stores(stack, args, stores, tmp, notes)
        for store in stores:
            bench_store(store, args, database_url, gpkg, tmp, rows, notes)
    print()
    print(f"## riskmap serve under load: {args.connections} connections, each request after the last answer")
    bench_tiles.print_table(["store", "phase", "endpoint", "n", "req/s", "p50 ms", "p99 ms", "errors"],
                            [r.cells() for r in rows])
    print()
    print("## Targets")
    bench_tiles.print_table(["store", "what", "target", "measured", "met"], target_rows(rows))
    print()
    for note in notes:
        print(f"# {note}")
    print(f"# total {time.perf_counter() - started:.0f} s; load average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
