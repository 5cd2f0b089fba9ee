"""Benchmark the datum conversions in geo.coords on random Jing-Jin-Ji points.

Usage: python scripts/bench_coords.py [--n 1000000] [--seed 0] [--repeat 3]

Prints one row per conversion: points converted, best wall-clock time of
``--repeat`` runs on one core, the CPU time of that run (a check when the machine
is busy), throughput, and the largest round-trip error in metres (geodesic,
WGS 84): the output converted back with the opposite function, against the input.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# numpy's elementwise maths is single-threaded anyway; pin BLAS pools for honesty.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo import coords  # noqa: E402
from geo.distance import geodesic_m  # noqa: E402

Conversion = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def best_time(
    fn: Conversion, lon: np.ndarray, lat: np.ndarray, repeat: int
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(wall seconds, CPU seconds) of the fastest of ``repeat`` runs, and its result."""
    best = (float("inf"), float("inf"))
    out: tuple[np.ndarray, np.ndarray] = (lon, lat)
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn(lon, lat)
        best = min(best, (time.perf_counter() - w0, time.process_time() - c0))
    return best[0], best[1], np.asarray(out[0]), np.asarray(out[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="points per conversion")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per conversion; the best is reported")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    minx, miny, maxx, maxy = coords.JJJ_BBOX
    wlon = rng.uniform(minx, maxx, args.n)
    wlat = rng.uniform(miny, maxy, args.n)
    glon, glat = coords.wgs84_to_gcj02(wlon, wlat)
    blon, blat = coords.wgs84_to_bd09(wlon, wlat)

    # (name, function, its input, the opposite function for the round trip)
    cases: list[tuple[str, Conversion, tuple[np.ndarray, np.ndarray], Conversion]] = [
        ("wgs84_to_gcj02", coords.wgs84_to_gcj02, (wlon, wlat), coords.gcj02_to_wgs84),
        ("gcj02_to_wgs84", coords.gcj02_to_wgs84, (glon, glat), coords.wgs84_to_gcj02),
        ("gcj02_to_bd09", coords.gcj02_to_bd09, (glon, glat), coords.bd09_to_gcj02),
        ("bd09_to_gcj02", coords.bd09_to_gcj02, (blon, blat), coords.gcj02_to_bd09),
        ("wgs84_to_bd09", coords.wgs84_to_bd09, (wlon, wlat), coords.bd09_to_wgs84),
        ("bd09_to_wgs84", coords.bd09_to_wgs84, (blon, blat), coords.wgs84_to_bd09),
    ]
    header = f"{'function':<16} {'n':>9} {'seconds':>8} {'cpu s':>7} {'points/s':>12} {'max round-trip m':>17}"
    print(header)
    print("-" * len(header))
    for name, fn, (lon, lat), back in cases:
        seconds, cpu, x, y = best_time(fn, lon, lat, args.repeat)
        rx, ry = back(x, y)
        err = float(np.max(geodesic_m(lon, lat, rx, ry)))
        print(f"{name:<16} {args.n:>9} {seconds:>8.3f} {cpu:>7.3f} {args.n / seconds:>12,.0f} {err:>17.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
