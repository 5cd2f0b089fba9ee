"""Benchmark what a region scope costs a tile: cached tiles of a scoped principal against
unscoped ones, the first (cold) scoped low-zoom tiles, and the recount of kept cluster cells
at a load once many scopes have asked for tiles.

Usage:
    python scripts/bench_scope.py [--store geopackage] [--store postgis] [--database-url URL]
                                  [--rounds 5] [--max-tiles 200] [--seed 0]

Data: the 162,699 synthetic risk sources of ``bench_tiles.py`` (seed scale) with their
jurisdiction codes from the reference districts (:func:`geo.jurisdiction.assign_jurisdiction`,
as the loader gives them), next to the reference geography, in a temporary GeoPackage and/or
a fresh PostGIS database on the server of ``--database-url`` (dropped at the end).

In process, through the app's test client (the same views, cache and store as ``riskmap
serve``; no HTTP server, so the figures are the app's own work): the principal is set in
``flask.g.principal`` by a first ``before_request`` — a district officer scoped to 朝阳区
110105, or nobody (unauthenticated, every row, as before sign-in).  Sign-in's own cost (the
session or token lookup) is not in these figures.

1. cached: every sampled tile of ``risk_sources`` at z8, z11 and z14 (at most ``--max-tiles``
   per zoom, covering Beijing's built-up area) is requested once by each principal to fill
   the cache, then ``--rounds`` rounds request them all again (repeated to 400 requests a
   round), unscoped and scoped in turn (ABBA);
   CPU milliseconds per tile (``time.process_time``), median and minimum of the rounds, and
   their ratios, per zoom (the 2-core machine is shared: the minimum is the steadier figure).
2. cold: the first z8/z11 tiles of the scoped principal (its cluster cells counted on the first
   tile: the scope's own ``where``) against the unscoped ones on an empty tile cache (cluster
   cells already counted at start-up, as ``create_app`` does); wall milliseconds per tile.
3. load: an upsert of 100 changed risk sources with only the unscoped cluster cells kept, then
   with the cells of every Beijing district's scope kept (16 scopes + the unscoped): on PostGIS
   every kept spec is recounted inside the load; the GeoPackage recounts on the next tile.
   Wall seconds, and the kept cell rows per spec (PostGIS ``riskmap_cluster_cell``).

Target (issue 15): a cached tile of an authenticated, scoped principal costs at most 10 % more
than an unauthenticated one did.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import geopandas as gpd  # noqa: E402
import mercantile  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_tiles  # noqa: E402
from flask import Flask, g  # noqa: E402
from flask import request as http_request  # noqa: E402

from geo.accounts import Principal, parse_roles  # noqa: E402
from geo.files.reference import read_reference  # noqa: E402
from geo.jurisdiction import assign_jurisdiction, build_jurisdiction_index  # noqa: E402
from geo.stores.geopackage import GeoPackageStore  # noqa: E402
from geo.stores.postgis import PostGISStore  # noqa: E402
from geo.stores.protocol import LoadBatch, Store  # noqa: E402
from layers.catalog import CATALOG, get_layer  # noqa: E402
from webmap.app import create_app  # noqa: E402
from webmap.settings import Settings  # noqa: E402

LAYER = get_layer("risk_sources")
BEIJING_DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
                     "110113", "110114", "110115", "110116", "110117", "110118", "110119")


def with_codes(data: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """``data`` with province/city/county codes from the reference districts (as the loader gives them)."""
    index = build_jurisdiction_index(read_reference("areas", bench_tiles.REFERENCE_DIR))
    out = {}
    for kind, frame in data.items():
        placed = assign_jurisdiction(index, np.asarray(frame.geometry.values, dtype=object))
        out[kind] = frame.assign(province_code=placed.province_code, city_code=placed.city_code,
                                 county_code=placed.county_code)
    return out


def principals() -> dict[str, Principal | None]:
    roles = parse_roles((ROOT / "data" / "roles.yaml").read_text(encoding="utf-8"),
                        layers=[layer.id for layer in CATALOG])
    officer = roles.role("district_officer")
    made: dict[str, Principal | None] = {"unscoped": None}
    for code in BEIJING_DISTRICTS:
        made[code] = Principal(f"officer{code}", "officer", officer.name, officer.permissions, (code,),
                               officer.layers, officer.scoped_layers)
    return made


def app_for(store: Store, gpkg_path: Path, who: dict[str, Principal | None]) -> Flask:
    app = create_app(Settings(gpkg_path=gpkg_path), store=store)

    def set_principal() -> None:
        g.principal = who.get(http_request.headers.get("X-Bench-Principal", "unscoped"))

    app.before_request_funcs.setdefault(None, []).insert(0, set_principal)
    return app


def tiles_of(z: int, max_tiles: int, seed: int) -> list[mercantile.Tile]:
    return bench_tiles.tile_list(z, max_tiles, np.random.default_rng(seed + z))


def fetch_all(client: object, tiles: list[mercantile.Tile], who: str) -> None:
    get: Callable[..., object] = client.get  # type: ignore[attr-defined]
    headers = {"X-Bench-Principal": who}
    for t in tiles:
        r = get(f"/tiles/{LAYER.id}/{t.z}/{t.x}/{t.y}.pbf", headers=headers)
        assert r.status_code == 200  # type: ignore[attr-defined]


def cpu_ms_per_tile(client: object, tiles: list[mercantile.Tile], who: str, *, at_least: int = 400) -> float:
    """CPU milliseconds per request of ``tiles``, asked for ``at_least`` times in all (the
    list repeated), so that one measurement is long enough to time."""
    repeat = max(1, -(-at_least // len(tiles)))
    t0 = time.process_time()
    for _ in range(repeat):
        fetch_all(client, tiles, who)
    return (time.process_time() - t0) * 1000.0 / (repeat * len(tiles))


def bench_cached(app: Flask, args: argparse.Namespace) -> None:
    print("\n| zoom | tiles | unscoped CPU ms/tile, median (min) | scoped 110105 | scoped / unscoped |")
    print("| --- | --- | --- | --- | --- |")
    client = app.test_client()
    for z in (8, 11, 14):
        tiles = tiles_of(z, args.max_tiles, args.seed)
        for who in ("unscoped", "110105"):
            fetch_all(client, tiles, who)  # fill the cache
        runs: dict[str, list[float]] = {"unscoped": [], "110105": []}
        for i in range(args.rounds):  # ABBA: neither goes first every time
            for who in (("unscoped", "110105") if i % 2 == 0 else ("110105", "unscoped")):
                runs[who].append(cpu_ms_per_tile(client, tiles, who))
        a, b = (float(np.median(runs[w])) for w in ("unscoped", "110105"))
        a_min, b_min = (min(runs[w]) for w in ("unscoped", "110105"))
        print(f"| z{z} | {len(tiles)} | {a:.3f} ({a_min:.3f}) | {b:.3f} ({b_min:.3f}) | {b / a:.3f} "
              f"({b_min / a_min:.3f}) |", flush=True)


def bench_cold(app: Flask, args: argparse.Namespace) -> None:
    print("\n| zoom | tiles | unscoped cold ms/tile | scoped cold ms/tile (first: counts the scope's cells) |")
    print("| --- | --- | --- | --- |")
    for z in (8, 11):
        tiles = tiles_of(z, args.max_tiles, args.seed)
        client = app.test_client()
        app.extensions["riskmap.context"].cache.clear()
        row = []
        for who in ("unscoped", "110101"):  # a district no earlier step asked for
            t0 = time.perf_counter()
            fetch_all(client, tiles, who)
            row.append((time.perf_counter() - t0) * 1000.0 / len(tiles))
        print(f"| z{z} | {len(tiles)} | {row[0]:.1f} | {row[1]:.1f} |", flush=True)


def _changed(store: Store, n: int, round_: int) -> gpd.GeoDataFrame:
    rows = store.read("risk_sources", limit=n)
    return rows.assign(name=[f"{v}·{round_}" for v in rows["name"]])


def bench_load(app: Flask, store: Store, args: argparse.Namespace) -> None:
    client = app.test_client()
    batch = LoadBatch(kind="risk_sources", file_name="bench_scope", sha256="0" * 64,
                      loaded_at=datetime.now(UTC), rows=100)
    z8 = tiles_of(8, args.max_tiles, args.seed)

    def load(round_: int) -> float:
        changed = _changed(store, 100, round_)
        t0 = time.perf_counter()
        store.upsert("risk_sources", changed, batch=batch)
        seconds = time.perf_counter() - t0
        fetch_all(client, z8, "unscoped")  # the unscoped cells, recounted (in the load or now)
        return seconds

    alone = [load(1), load(2)]
    for code in BEIJING_DISTRICTS:  # every district's scope keeps its own cells
        fetch_all(client, z8, code)
    many = [load(3), load(4)]
    t0 = time.perf_counter()
    for code in BEIJING_DISTRICTS:  # each scope's first tile after the load recounts its cells
        fetch_all(client, z8[:1], code)
    first = (time.perf_counter() - t0) / len(BEIJING_DISTRICTS)
    print("\n| load of 100 changed sources (two loads) | seconds |")
    print("| --- | --- |")
    print(f"| unscoped cluster cells kept | {alone[0]:.2f}, {alone[1]:.2f} |")
    print(f"| + 16 district scopes' cells kept | {many[0]:.2f}, {many[1]:.2f} |")
    print(f"| a scope's first z8 tile after the load (recounts its cells), mean | {first:.2f} |")
    if isinstance(store, PostGISStore):
        from sqlalchemy import text

        with store.engine.connect() as conn:
            rows = conn.execute(text("SELECT spec, count(*) FROM riskmap_cluster_cell GROUP BY spec "
                                     "ORDER BY 2 DESC")).all()
        counts = [int(n) for _, n in rows]
        print(f"\nkept cluster cells: {len(counts)} specs, {sum(counts):,} rows (largest {counts[0]:,}, "
              f"median of the district scopes {int(np.median(counts[1:])):,})")


@contextmanager
def open_store(kind: str, args: argparse.Namespace, tmp: Path) -> Iterator[Store]:
    with ExitStack() as stack:
        store: Store
        if kind == "postgis":
            url = stack.enter_context(bench_tiles.fresh_database(args.database_url, keep=False))
            store = PostGISStore(url)
        else:
            store = GeoPackageStore(tmp / "bench_scope.gpkg")
        stack.callback(store.close)
        yield store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", action="append", choices=["postgis", "geopackage"])
    parser.add_argument("--database-url", default=os.environ.get("RISKMAP_DATABASE_URL")
                        or bench_tiles.DEV_DATABASE_URL)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--max-tiles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    data = with_codes(bench_tiles.synthetic_data(args.seed))
    who = principals()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.store or ["geopackage"]:
            with open_store(kind, args, Path(tmp)) as store:
                loaded = bench_tiles.load_store(store, data)
                print(f"\n## {kind}: {len(data['risk_sources']):,} risk sources loaded in {loaded:.1f} s")
                app = app_for(store, Path(tmp) / "unused.gpkg", who)
                bench_cached(app, args)
                bench_cold(app, args)
                bench_load(app, store, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
