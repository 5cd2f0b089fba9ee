"""Benchmark the cross-border analysis on a loaded store (seed scale: `riskmap demo --scale 1`).

Usage:  python scripts/bench_border.py [--gpkg FILE | --database-url URL] [--km 10] [--repeat 3]

"All pairs" is what the analyst page computes for every border: the zone (counts by
side and county pair), the 5 km profile and the crossing lines with their corridors,
for Beijing–Hebei, Beijing–Tianjin and Tianjin–Hebei (geo.capabilities.border.analyse_all_pairs).
Each run starts with the analysis cache empty (as after a data load) on a store that is
already open (a running server); the first row also pays for opening the store.  Prints
the median wall and CPU seconds of the runs, then the page's per-pair requests with an
empty cache and with the cache filled.  The machine's other load shows in wall time:
CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo import border as bd
from geo.capabilities import border as bq
from geo.capabilities.cache import Cache
from geo.stores import open_store


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def _row(label: str, runs: list[tuple[float, float, Any]], result: str) -> None:
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    spread = f"{min(r[0] for r in runs):.2f}–{max(r[0] for r in runs):.2f}" if len(runs) > 1 else ""
    print(f"{label:<44}{len(runs):>5}{wall:>9.2f}{cpu:>9.2f}  {spread:<11} {result}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpkg", type=Path, default=None)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--km", type=float, default=10.0)
    ap.add_argument("--corridor-m", type=float, default=500.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    def opened() -> Any:
        return open_store(database_url=args.database_url,
                          gpkg_path=args.gpkg or Path.home() / ".local/share/riskmap/riskmap.gpkg")

    cache = Cache()

    def all_pairs(store: Any) -> bq.AllPairs:
        return bq.analyse_all_pairs(store, km=args.km, segment_km=5.0, corridor_m=args.corridor_m, cache=cache)

    holder: list[Any] = []
    first = _timed(lambda: all_pairs(holder.append(opened()) or holder[0]))
    store = holder[0]
    sizes = {k: store.count(k) for k in ("risk_sources", "hazchem_sites", "hidden_hazards", "protection_targets",
                                         "lines")}
    print(f"store {store.kind}; rows: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print(f"machine: {os.cpu_count()} cores (shared with other work); median of {args.repeat} runs; seconds")
    print(f"{'query':<44}{'runs':>5}{'wall':>9}{'cpu':>9}  {'wall range':<11} result")
    out = first[2]
    _row("all pairs, store just opened", [first], "")

    runs = []
    for _ in range(args.repeat):
        cache.clear()
        runs.append(_timed(lambda: all_pairs(store)))
    out = runs[-1][2]
    summary = out.summary()
    result = "; ".join(f"{p['pair']['name']} " + "/".join(str(s["risk_sources"]) for s in p["by_side"])
                       for p in summary["pairs"]) + f"; {summary['crossing_lines']} crossing lines"
    _row(f"all pairs ±{args.km:g} km, empty cache", runs, result)
    _row("all pairs, cached", [_timed(lambda: all_pairs(store)) for _ in range(args.repeat)], "")

    # What the page asks for one pair (zone, profile, crossings of that pair), empty cache each time.
    for name in bd.PAIRS:
        def page(n: str = name) -> tuple[Any, Any, Any]:
            return (bq.border_zone(store, n, km=args.km, cache=cache),
                    bq.border_profile(store, n, km=args.km, cache=cache),
                    bq.crossing_lines(store, corridor_m=args.corridor_m, pair_name=n, cache=cache))

        runs = []
        for _ in range(args.repeat):
            cache.clear()
            runs.append(_timed(page))
        zone, profile, crossing = runs[-1][2]
        sides = "/".join(str(s["risk_sources"]) for s in zone.as_dict()["by_side"])
        top = profile["hottest"][0]["score"] if profile["hottest"] else 0
        _row(f"page requests {name}, empty cache", runs,
             f"sides {sides}; {len(profile['segments']['features'])} segments, top {top}; "
             f"{len(crossing)} crossing lines")
    store.close()


if __name__ == "__main__":
    main()
