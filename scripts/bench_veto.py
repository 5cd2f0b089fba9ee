"""Benchmark the site veto at seed scale on both stores; prints a table.

Data (synthetic hazards, real protection targets): ~1,000 gas stations, 1,027
hazardous-chemical sites (production/storage/business/use, some major-hazard grades
and external safety distances), 87 fireworks retail points, 40 oil/gas pipelines,
the ~12k protection targets of data/reference and the reference provinces and zones,
written into a fresh GeoPackage and a fresh PostGIS database (created on the server of
RISKMAP_DATABASE_URL / --database-url, dropped afterwards unless --keep).

Measures: single-site queries (``evaluate_one``: one within_distance per hazard layer)
p50/p95 wall time and client CPU, and a batch of N parcels (``evaluate_parcels``:
each layer read once, distances in-process).  Timings are noisy on a shared machine.

    python scripts/bench_veto.py [--database-url URL] [--queries 200] [--parcels 10000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import create_engine, make_url, text

from geo.capabilities.cache import Cache
from geo.capabilities.veto import evaluate_one, evaluate_parcels, read_rule_set
from geo.files.reference import read_reference
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import LoadBatch, Store
from webmap.settings import load_settings

PATHS = load_settings().paths

BEIJING_CORE = (115.9, 39.6, 116.9, 40.3)  # where the synthetic hazards are scattered (lon/lat box)
LAND_USES = ["school", "residential", "hospital", "gas_station_grade2", "gas_station_grade1", "hazchem_storage",
             "fireworks_retail", "office", "industrial", "kindergarten"]


def synthetic_hazards(rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    minx, miny, maxx, maxy = BEIJING_CORE

    def points(n: int) -> Any:
        return gpd.points_from_xy(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n))

    n_gs, n_hc, n_fw = 1000, 1027, 87
    gs = pd.DataFrame({"credit_code": [f"GS{i:05d}" for i in range(n_gs)], "site_code": "1",
                       "name": [f"演示加油站{i}" for i in range(n_gs)], "site_type": "gas_station",
                       "gas_station_grade": rng.choice([1, 2, 3], n_gs, p=[0.1, 0.5, 0.4]),
                       "operating": rng.random(n_gs) > 0.3})
    grades = rng.choice([0, 1, 2, 3, 4], n_hc, p=[0.6, 0.05, 0.1, 0.1, 0.15]).astype(float)
    hc = pd.DataFrame({"credit_code": [f"HC{i:05d}" for i in range(n_hc)], "site_code": "1",
                       "name": [f"演示危化品单位{i}" for i in range(n_hc)],
                       "site_type": rng.choice(["production", "storage", "business", "use"], n_hc),
                       "major_hazard_grade": pd.array(np.where(grades > 0, grades, np.nan)).astype("Int64"),
                       "external_distance_m": np.where(rng.random(n_hc) < 0.4, rng.uniform(50, 800, n_hc), np.nan)})
    fw = pd.DataFrame({"credit_code": [f"FW{i:05d}" for i in range(n_fw)], "site_code": "1",
                       "name": [f"演示烟花爆竹零售点{i}" for i in range(n_fw)], "site_type": "fireworks"})
    sites = pd.concat([gs, hc, fw], ignore_index=True)
    geometry = np.concatenate([np.asarray(points(len(gs))), np.asarray(points(len(hc))),
                               np.asarray(points(len(fw)))])
    sites["key"] = sites["credit_code"] + "|" + sites["site_code"]
    sites["synthetic"] = True
    lines = []
    for i in range(40):
        x0, y0 = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        steps = rng.normal(0, 0.01, (30, 2)).cumsum(axis=0) + np.array([x0, y0])
        lines.append({"key": f"PL{i}", "line_code": f"PL{i}", "name": f"演示管线{i}",
                      "line_type": "oil_pipeline" if i % 2 else "gas_pipeline", "synthetic": True,
                      "geometry": shapely.LineString(steps)})
    return {
        "hazchem_sites": gpd.GeoDataFrame(sites, geometry=geometry, crs="EPSG:4326"),
        "lines": gpd.GeoDataFrame(lines, geometry="geometry", crs="EPSG:4326"),
    }


def load_all(store: Store, frames: dict[str, gpd.GeoDataFrame]) -> None:
    store.init_schema()
    for kind, frame in frames.items():
        batch = LoadBatch(kind=kind, file_name="bench_veto", sha256="0" * 64, loaded_at=datetime.now(UTC),
                          rows=len(frame))
        store.upsert(kind, frame, batch=batch)


def sites_and_uses(rng: np.random.Generator, n: int, *, polygons: float) -> tuple[list[Any], list[str]]:
    minx, miny, maxx, maxy = BEIJING_CORE
    xs, ys = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    half = rng.uniform(0.0003, 0.0015, n)
    is_poly = rng.random(n) < polygons
    geoms = [shapely.box(x - h, y - h, x + h, y + h) if p else shapely.Point(x, y)
             for x, y, h, p in zip(xs, ys, half, is_poly, strict=True)]
    return geoms, list(rng.choice(LAND_USES, n))


def time_single(store: Store, rules: Any, sites: list[Any], uses: list[str], cache: Cache) -> dict[str, float]:
    for s, u in zip(sites[:5], uses[:5], strict=True):  # warm caches (snapshots, attribute maxima)
        evaluate_one(store, rules, s, u, cache=cache)
    wall, cpu = [], []
    for s, u in zip(sites, uses, strict=True):
        w0, c0 = time.perf_counter(), time.process_time()
        evaluate_one(store, rules, s, u, cache=cache)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"p50": statistics.median(wall), "p95": float(np.percentile(wall, 95)), "cpu_p50": statistics.median(cpu)}


def time_batch(store: Store, rules: Any, sites: list[Any], uses: list[str], cache: Cache) -> dict[str, float]:
    parcels = gpd.GeoDataFrame({"parcel_id": [str(i) for i in range(len(sites))], "name": None, "land_use": uses},
                               geometry=sites, crs="EPSG:4326")
    w0, c0 = time.perf_counter(), time.process_time()
    result = evaluate_parcels(store, rules, parcels, cache=cache)
    counts = result.counts()
    return {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0, **{k: float(v) for k, v in
                                                                                   counts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("RISKMAP_DATABASE_URL"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--parcels", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database and GeoPackage")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("set RISKMAP_DATABASE_URL or --database-url (a server where we may CREATE DATABASE)")

    rng = np.random.default_rng(2018)
    frames = synthetic_hazards(rng)
    areas = read_reference("areas", PATHS.reference_dir)
    frames["areas"] = areas[areas["area_type"].isin(["province", "zone"])].reset_index(drop=True)
    frames["protection_targets"] = read_reference("protection_targets", PATHS.reference_dir)
    rules = read_rule_set(PATHS.rules_path)
    single_sites, single_uses = sites_and_uses(rng, args.queries, polygons=0.5)
    batch_sites, batch_uses = sites_and_uses(rng, args.parcels, polygons=0.7)

    admin = create_engine(make_url(args.database_url).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    db = f"rm_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    url = make_url(args.database_url).set(database=db)
    eng = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    eng.dispose()
    tmp = Path(tempfile.mkdtemp(prefix="bench_veto_"))
    stores: list[tuple[str, Callable[[], Store]]] = [
        ("postgis", lambda: PostGISStore(url.render_as_string(hide_password=False))),
        ("geopackage", lambda: GeoPackageStore(tmp / "bench.gpkg")),
    ]
    sizes = {k: len(v) for k, v in frames.items()}
    print(f"data: {sizes}; single queries {args.queries} (50 % polygons), batch {args.parcels} parcels "
          f"(70 % polygons); land uses {len(LAND_USES)}; rule set {rules.version}")
    rows = []
    try:
        for name, make in stores:
            store = make()
            t0 = time.perf_counter()
            load_all(store, frames)
            load_s = time.perf_counter() - t0
            cache = Cache()  # as the app's: context areas and attribute maxima kept between requests
            single = time_single(store, rules, single_sites, single_uses, cache)
            batch = time_batch(store, rules, batch_sites, batch_uses, cache)
            rows.append((name, load_s, single, batch))
            store.close()
    finally:
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            for f in tmp.glob("*"):
                f.unlink()
            tmp.rmdir()
        admin.dispose()

    print()
    print(f"| store | load s | single p50 ms | single p95 ms | single client CPU p50 ms | batch {args.parcels} s "
          "| batch CPU s | batch verdicts |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, load_s, single, batch in rows:
        if batch is None:
            print(f"| {name} | – | {single['p50']:.1f} | {single['p95']:.1f} | {single['cpu_p50']:.1f} | – | – | – |")
            continue
        verdicts = ", ".join(f"{k} {int(v)}" for k, v in batch.items() if k not in ("wall", "cpu"))
        print(f"| {name} | {load_s:.1f} | {single['p50']:.1f} | {single['p95']:.1f} | {single['cpu_p50']:.1f} | "
              f"{batch['wall']:.2f} | {batch['cpu']:.2f} | {verdicts} |")
    print("targets: single p50 <= 30 ms, batch of 10,000 <= 10 s.  Machine: 2 shared cores, timings noisy.")


if __name__ == "__main__":
    main()
