"""Benchmark the cross-border analysis on a loaded store (seed scale: `riskmap demo --scale 1`).

Usage:  python scripts/bench_border.py [--gpkg FILE | --database-url URL] [--km 10] [--repeat 3]

Prints one row per pair and query (zone, profile) and the crossings, with cold (first
call: the GeoPackage store builds its in-memory snapshot) and warm wall / CPU seconds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo import border as bd
from geo.io import border_queries as bq
from geo.io.stores import open_store


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpkg", type=Path, default=None)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--km", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    store = open_store(database_url=args.database_url,
                       gpkg_path=args.gpkg or Path.home() / ".local/share/riskmap/riskmap.gpkg")
    sizes = {k: store.count(k) for k in ("risk_sources", "hazchem_sites", "hidden_hazards", "protection_targets",
                                         "lines")}
    print(f"store {store.kind}; rows: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    cold_wall, _, geography = _timed(lambda: bq.read_geography(store))
    print(f"read_geography: {cold_wall:.2f} s")
    jobs: list[tuple[str, Callable[[], Any]]] = []
    for name in bd.PAIRS:
        jobs.append((f"zone {name} ±{args.km:g} km",
                     lambda n=name: bq.border_zone(store, n, km=args.km, geography=geography)))
        jobs.append((f"profile {name} 5 km",
                     lambda n=name: bq.border_profile(store, n, segment_km=5, km=args.km, geography=geography)))
    jobs.append(("crossings 500 m", lambda: bq.crossing_lines(store, corridor_m=500, geography=geography)))
    print(f"{'query':<32}{'cold s':>8}{'warm s':>8}{'warm cpu s':>11}  result")
    total_warm = 0.0
    for label, fn in jobs:
        cold, _, out = _timed(fn)
        warm = [_timed(fn) for _ in range(args.repeat)]
        best = min(warm, key=lambda x: x[0])
        total_warm += best[0] if label.startswith("zone") else 0.0
        if isinstance(out, bq.ZoneReport):
            result = " ".join(f"{s['side']}:{s['risk_sources']}" for s in out.as_dict()["by_side"])
        elif isinstance(out, dict):
            top = out["hottest"][0]["score"] if out["hottest"] else 0
            result = f"{len(out['segments']['features'])} segments, top {top}"
        else:
            result = f"{len(out)} crossing lines"
        print(f"{label:<32}{cold:>8.2f}{best[0]:>8.2f}{best[1]:>11.2f}  {result}")
    print(f"all three border zones (warm, best of {args.repeat}): {total_warm:.2f} s (target ≤ 2 s)")
    store.close()


if __name__ == "__main__":
    main()
