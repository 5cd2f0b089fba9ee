"""Benchmark the area-risk engine and the heat map at seed scale, on both stores.

Usage:
    python scripts/bench_aggregate.py [--scale 1.0] [--seed 0] [--database-url URL]
                                      [--gpkg PATH] [--stores postgis,geopackage] [--no-load]
    python scripts/bench_aggregate.py --memory --scale 10     # engine only, no store

Generates ``round(162,699 × scale)`` synthetic risk sources (DOMAIN.md: 162,699 risk
sources reported in Beijing, 2018) scattered around the real OpenStreetMap residential
and industrial points of Beijing (data/reference/protection_targets_osm.geojson), plus
units (9,911 × scale, 70 % insured), hidden hazards (26,668 × scale, 1 % open) and
rescue teams (5 % of the OSM stations' count × 60), loads them into a fresh
GeoPackage and into the PostGIS database of ``--database-url`` (default
RISKMAP_DATABASE_URL; the database is created if missing and its tables emptied),
loads the reference geography, then times, per store:

* ``read``: reading every input through the Store interface (once per full recompute);
* for every unit × method: ``prepare`` (areas, population zonal sums, point-in-area —
  shared by the methods of a unit), ``compute`` and ``write`` (upsert of the results);
  ``total`` = prepare + compute + write on inputs already read;
* ``one-shot``: what a single ``riskmap aggregate --unit U --method M`` costs after
  Python's imports — a freshly opened store (no cached layer snapshot, new connection
  pool), read (only the layers that method needs) + prepare + compute + write;
* the heat map at 100 m over Beijing (kernel density only, and with PNG rendering).

Wall-clock seconds and, in brackets, process CPU seconds (the machine has 2 cores shared
with other work: CPU time is the steadier figure; PostGIS work happens in the server
process and is not in the CPU column).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo import area_risk as ar  # noqa: E402
from geo.capabilities import area_risk as area_runs  # noqa: E402
from geo.coords import BEIJING_METRIC_CRS  # noqa: E402
from geo.entities import LEVEL_CODES, make_key  # noqa: E402
from geo.files.reference import load_reference, read_reference  # noqa: E402
from geo.stores.protocol import LoadBatch, Store  # noqa: E402
from webmap.settings import load_settings  # noqa: E402

PATHS = load_settings().paths

SEED_SOURCES = 162_699
SEED_UNITS = 9_911
SEED_HAZARDS = 26_668
LEVEL_SHARES = (0.005, 0.03, 0.20, 0.765)  # red, orange, yellow, blue (synthetic)


def _batch(kind: str, rows: int) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="bench_aggregate (synthetic)", sha256="0" * 64,
                     loaded_at=datetime.now(UTC), rows=rows, note="synthetic benchmark data")


def _scatter(anchors: np.ndarray, n: int, rng: np.random.Generator, sigma_m: float) -> tuple[np.ndarray, np.ndarray]:
    """``n`` WGS-84 points around random anchors (EPSG:4548 x/y), Gaussian σ metres."""
    pick = rng.integers(0, len(anchors), n)
    x = anchors[pick, 0] + rng.normal(0, sigma_m, n)
    y = anchors[pick, 1] + rng.normal(0, sigma_m, n)
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=BEIJING_METRIC_CRS).to_crs("EPSG:4326")
    return pts.x.to_numpy(), pts.y.to_numpy()


def synthetic_inputs(scale: float, seed: int) -> dict[str, gpd.GeoDataFrame]:
    """Synthetic units, risk sources, hidden hazards and rescue teams on Beijing's OSM points."""
    rng = np.random.default_rng(seed)
    targets = read_reference("protection_targets", PATHS.reference_dir)
    anchors_wgs = targets[targets["target_type"].isin(["residential", "industrial_landuse"])
                          & (targets["province_code"] == "110000")]
    anchors = np.column_stack([anchors_wgs.geometry.to_crs(BEIJING_METRIC_CRS).x,
                               anchors_wgs.geometry.to_crs(BEIJING_METRIC_CRS).y])
    n_units = max(round(SEED_UNITS * scale), 1)
    ulon, ulat = _scatter(anchors, n_units, rng, 150.0)
    credit = np.array([f"91110000BENCH{i:05d}" for i in range(n_units)], dtype=object)
    units = gpd.GeoDataFrame({
        "key": credit, "credit_code": credit, "name": [f"合成单位{i}" for i in range(n_units)],
        "insured": rng.random(n_units) < 0.7, "synthetic": True,
    }, geometry=gpd.points_from_xy(ulon, ulat), crs="EPSG:4326")

    n_src = round(SEED_SOURCES * scale)
    owner = rng.integers(0, n_units, n_src)
    # sources sit at their unit, spread within ~100 m (several per site)
    slon = ulon[owner] + rng.normal(0, 0.0008, n_src)
    slat = ulat[owner] + rng.normal(0, 0.0006, n_src)
    levels = np.array(LEVEL_CODES, dtype=object)[rng.choice(4, n_src, p=LEVEL_SHARES)]
    codes = np.array([f"RS{i:07d}" for i in range(n_src)], dtype=object)
    sources = gpd.GeoDataFrame({
        "key": [make_key((c, s)) for c, s in zip(credit[owner], codes, strict=True)],
        "credit_code": credit[owner], "source_code": codes, "name": [f"合成风险源{i}" for i in range(n_src)],
        "level": levels, "synthetic": True,
    }, geometry=gpd.points_from_xy(slon, slat), crs="EPSG:4326")

    n_haz = round(SEED_HAZARDS * scale)
    hlon, hlat = _scatter(anchors, n_haz, rng, 300.0)
    hcodes = np.array([f"HZ{i:07d}" for i in range(n_haz)], dtype=object)
    hazards = gpd.GeoDataFrame({
        "key": hcodes, "hazard_code": hcodes, "status": np.where(rng.random(n_haz) < 0.01, "open", "closed"),
        "severity": "general", "synthetic": True,
    }, geometry=gpd.points_from_xy(hlon, hlat), crs="EPSG:4326")

    n_team = max(round(3000 * scale), 1)
    tlon, tlat = _scatter(anchors, n_team, rng, 1000.0)
    tcodes = np.array([f"TEAM{i:06d}" for i in range(n_team)], dtype=object)
    teams = gpd.GeoDataFrame({
        "key": tcodes, "resource_code": tcodes, "name": [f"合成救援队{i}" for i in range(n_team)],
        "resource_type": "team", "synthetic": True,
    }, geometry=gpd.points_from_xy(tlon, tlat), crs="EPSG:4326")
    return {"units": units, "risk_sources": sources, "hidden_hazards": hazards, "resources": teams}


def load_store(store: Store, data: dict[str, gpd.GeoDataFrame]) -> float:
    t0 = time.perf_counter()
    store.init_schema()
    load_reference(store, PATHS.reference_dir)
    for kind, frame in data.items():
        store.upsert(kind, frame, batch=_batch(kind, len(frame)))
    return time.perf_counter() - t0


def open_bench_stores(names: list[str], database_url: str | None,
                      gpkg: Path | None) -> dict[str, Callable[[], Store]]:
    """How to open each store to benchmark (the PostGIS database is created if missing)."""
    from sqlalchemy import create_engine, make_url, text

    from geo.stores.geopackage import GeoPackageStore
    from geo.stores.postgis import PostGISStore

    stores: dict[str, Callable[[], Store]] = {}
    if "geopackage" in names:
        path = gpkg or Path(tempfile.mkdtemp(prefix="bench_aggregate_")) / "bench.gpkg"
        stores["geopackage"] = functools.partial(GeoPackageStore, path)
    if "postgis" in names:
        if not database_url:
            raise SystemExit("postgis: give --database-url or RISKMAP_DATABASE_URL")
        url = make_url(database_url)
        admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
        eng = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        eng.dispose()
        stores["postgis"] = functools.partial(PostGISStore, database_url)
    return stores


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def one_shot(open_store: Callable[[], Store], unit: str, method: str,
             config: ar.AreaRiskConfig) -> tuple[float, float]:
    """Wall and CPU seconds of one ``riskmap aggregate --unit U --method M`` on a fresh store."""
    store = open_store()
    try:
        start = _clock()
        area_runs.run_area_risk(store, units=[unit], methods=[method], config=config,
                                reference_dir=PATHS.reference_dir)
        return _since(start)
    finally:
        store.close()


def bench_store(name: str, store: Store, config: ar.AreaRiskConfig,
                open_store: Callable[[], Store]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    start = _clock()
    inputs = area_runs.read_inputs(store, reference_dir=PATHS.reference_dir)
    wall, cpu = _since(start)
    rows.append({"store": name, "unit": "(inputs)", "method": "read", "areas": len(inputs.sources),
                 "total": f"{wall:.2f} ({cpu:.2f})"})
    for unit in ar.UNITS:
        for method in ar.METHODS:
            start = _clock()
            (run,) = area_runs.run_area_risk(store, units=[unit], methods=[method], config=config, inputs=inputs)
            wall, cpu = _since(start)
            shot_wall, shot_cpu = one_shot(open_store, unit, method, config)
            rows.append({"store": name, "unit": unit, "method": method, "areas": run.areas,
                         "prepare": f"{run.prepare_s:.2f}", "compute": f"{run.compute_s:.2f}",
                         "write": f"{run.write_s:.2f}", "total": f"{wall:.2f} ({cpu:.2f})",
                         "one-shot": f"{shot_wall:.2f} ({shot_cpu:.2f})",
                         "red/or/ye/bl": "/".join(str(run.levels[c]) for c in LEVEL_CODES)})
    extent = area_runs.beijing_extent(inputs.areas)
    start = _clock()
    grid = area_runs.compute_heatmap(config=config, sources=inputs.sources, extent=extent, cell_m=100.0)
    wall, cpu = _since(start)
    rows.append({"store": name, "unit": "heatmap 100 m", "method": "kde", "areas": grid.values.size,
                 "compute": f"{wall:.2f}", "total": f"{wall:.2f} ({cpu:.2f})"})
    start = _clock()
    area_runs.render_heatmap_png(grid)
    wall2, cpu2 = _since(start)
    rows.append({"store": name, "unit": "heatmap 100 m", "method": "png", "areas": grid.values.size,
                 "compute": f"{wall2:.2f}", "total": f"{wall2:.2f} ({cpu2:.2f})"})
    return rows


def memory_inputs(data: dict[str, gpd.GeoDataFrame]) -> area_runs.Inputs:
    """The engine's inputs built straight from the synthetic frames (no store)."""
    from geo.files.reference import read_population_raster

    src = ar.Points.from_frame(data["risk_sources"], ("name", "level"))
    src.attrs["level_idx"] = ar.level_indices(src.attrs.pop("level"))
    hazards = data["hidden_hazards"]
    resources = pd.concat([read_reference("resources", PATHS.reference_dir), data["resources"]], ignore_index=True)
    composite = ar.CompositeInputs(
        ar.Points.from_frame(hazards[hazards["status"] == "open"]),
        ar.Points.from_frame(data["units"], ("insured",)),
        ar.Points.from_frame(gpd.GeoDataFrame(resources, geometry="geometry", crs="EPSG:4326"), ("resource_type",)),
    )
    areas = read_reference("areas", PATHS.reference_dir)
    population, transform, _ = read_population_raster(PATHS.reference_dir)
    return area_runs.Inputs(src, composite, areas[areas["area_type"].isin(["province", "district", "township"])],
                            population, transform, {}, {})


def bench_memory(inputs: area_runs.Inputs, config: ar.AreaRiskConfig) -> list[dict[str, object]]:
    """prepare + compute of every unit × method without a store (no read, no write)."""
    rows: list[dict[str, object]] = []
    for unit in ar.UNITS:
        for method in ar.METHODS:
            start = _clock()
            (run,) = area_runs.run_area_risk(None, units=[unit], methods=[method], config=config,  # type: ignore[arg-type]
                                             inputs=inputs, persist=False)
            wall, cpu = _since(start)
            rows.append({"store": "(memory)", "unit": unit, "method": method, "areas": run.areas,
                         "prepare": f"{run.prepare_s:.2f}", "compute": f"{run.compute_s:.2f}",
                         "total": f"{wall:.2f} ({cpu:.2f})",
                         "red/or/ye/bl": "/".join(str(run.levels[c]) for c in LEVEL_CODES)})
    extent = area_runs.beijing_extent(inputs.areas)
    start = _clock()
    grid = area_runs.compute_heatmap(config=config, sources=inputs.sources, extent=extent, cell_m=100.0)
    wall, cpu = _since(start)
    rows.append({"store": "(memory)", "unit": "heatmap 100 m", "method": "kde", "areas": grid.values.size,
                 "compute": f"{wall:.2f}", "total": f"{wall:.2f} ({cpu:.2f})"})
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    cols = ["store", "unit", "method", "areas", "prepare", "compute", "write", "total", "one-shot", "red/or/ye/bl"]
    frame = pd.DataFrame(rows).reindex(columns=cols).astype(object).fillna("")
    widths = {c: max(len(c), *(len(str(v)) for v in frame[c])) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for _, r in frame.iterrows():
        print("  ".join(str(r[c]).ljust(widths[c]) for c in cols))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 162,699 risk sources")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default=os.environ.get("RISKMAP_DATABASE_URL"))
    parser.add_argument("--gpkg", type=Path, default=None, help="GeoPackage path (default: a temp file)")
    parser.add_argument("--stores", default="postgis,geopackage")
    parser.add_argument("--no-load", action="store_true", help="reuse the data already in the stores")
    parser.add_argument("--memory", action="store_true",
                        help="time the engine on in-memory inputs only (no store: for the 10× scale)")
    args = parser.parse_args(argv)

    config = area_runs.load_config(PATHS.area_config_path)
    if args.memory:
        data = synthetic_inputs(args.scale, args.seed)
        print(f"# {len(data['risk_sources']):,} synthetic risk sources (scale {args.scale}), in memory, "
              f"{os.cpu_count()} CPUs (shared); seconds wall (CPU of this process)")
        print_table(bench_memory(memory_inputs(data), config))
        return 0
    stores = open_bench_stores(args.stores.split(","), args.database_url, args.gpkg)
    data = None if args.no_load else synthetic_inputs(args.scale, args.seed)
    print(f"# {round(SEED_SOURCES * args.scale):,} synthetic risk sources (scale {args.scale}), "
          f"{os.cpu_count()} CPUs (shared); seconds wall (CPU of this process)")
    rows: list[dict[str, object]] = []
    for name, open_store in stores.items():
        store = open_store()
        if data is not None:
            if name == "postgis":
                _empty_postgis(store)
            print(f"# {name}: loaded in {load_store(store, data):.1f} s", flush=True)
        else:
            store.init_schema()
        rows.extend(bench_store(name, store, config, open_store))
        store.close()
    print_table(rows)
    return 0


def _empty_postgis(store: Store) -> None:
    from sqlalchemy import text

    from geo.entities import ENTITIES

    store.init_schema()
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        for entity in ENTITIES.values():
            conn.execute(text(f'TRUNCATE "{entity.table}"'))


if __name__ == "__main__":
    raise SystemExit(main())
