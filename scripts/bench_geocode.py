"""Benchmark the offline geocoder on one core: cold (no cache), warm cache, and a batch
with repeats (geocode_many de-duplicates).

Usage: python scripts/bench_geocode.py [--n 50000] [--seed 11] [--repeat 3]

Modes: *cold* — every address seen for the first time (result cache off); *warm* —
every address already cached; *batch with repeats* — each address about twice, through
``geocode_many`` on a fresh geocoder.

Addresses come from the labelled-set generator of scripts/eval_geocode.py (Beijing
townships, districts, streets and numbers, named places, Tianjin/Hebei counties).  Each
row reports the best of ``--repeat`` runs: wall-clock and CPU seconds (CPU time is the
honest figure on a busy machine) and addresses per second by both.  Target: ≥ 20,000
addresses/s cold on one core.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval_geocode import build_labelled_set

from geo.capabilities.geocoding import build_gazetteer
from geo.geocoder import Geocoder
from webmap.settings import load_settings

TARGET_PER_S = 20_000


def best_of(repeat: int, setup: Callable[[], Callable[[], object]]) -> tuple[float, float]:
    """(wall s, CPU s) of the fastest of ``repeat`` runs; ``setup`` returns the timed call."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        run = setup()
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50_000, help="distinct addresses")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    w0, c0 = time.perf_counter(), time.process_time()
    gazetteer = build_gazetteer(load_settings().paths.reference_dir)
    build_wall, build_cpu = time.perf_counter() - w0, time.process_time() - c0
    addresses = list(dict.fromkeys(r.address for r in build_labelled_set(gazetteer, n=args.n, seed=args.seed)))
    rng = random.Random(args.seed)
    batch = [rng.choice(addresses) for _ in range(2 * len(addresses))]  # every address ~2 times

    def cold() -> Callable[[], object]:
        geocoder = Geocoder(gazetteer, cache_size=0)
        return lambda: [geocoder.geocode(a) for a in addresses]

    warm_geocoder = Geocoder(gazetteer, cache_size=len(addresses) + 1)
    warm_geocoder.geocode_many(addresses)

    def warm() -> Callable[[], object]:
        return lambda: [warm_geocoder.geocode(a) for a in addresses]

    def repeated() -> Callable[[], object]:
        geocoder = Geocoder(gazetteer, cache_size=100_000)
        return lambda: geocoder.geocode_many(batch)

    rows = [
        ("cold (cache off)", len(addresses), *best_of(args.repeat, cold)),
        ("warm (all cached)", len(addresses), *best_of(args.repeat, warm)),
        ("batch with repeats", len(batch), *best_of(args.repeat, repeated)),
    ]
    print(f"gazetteer: {gazetteer.counts()}; built in {build_wall:.2f} s wall / {build_cpu:.2f} s CPU "
          f"from data/reference")
    print(f"{len(addresses):,} distinct addresses (seed {args.seed}); best of {args.repeat} runs; one core\n")
    print(f"{'mode':20s} {'addresses':>10s} {'wall s':>8s} {'CPU s':>8s} {'addr/s (CPU)':>13s} {'addr/s (wall)':>14s}")
    for name, count, wall, cpu in rows:
        print(f"{name:20s} {count:10,d} {wall:8.3f} {cpu:8.3f} {count / cpu:13,.0f} {count / wall:14,.0f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak_mb:,.0f} MB; target ≥ {TARGET_PER_S:,} addresses/s cold: "
          f"{'met' if rows[0][1] / rows[0][3] >= TARGET_PER_S else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
