"""Parsing request parameters: every failure is a BadInput (400) naming the parameter and value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from geo.errors import BadInput

N = TypeVar("N", int, float)


def _get_number(args: Mapping[str, str], name: str, parse: Callable[[str], N], kind: str, *,
                default: N | None, lo: N | None, hi: N | None) -> N:
    raw = args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadInput(f"missing parameter {name!r}")
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise BadInput(f"parameter {name!r}: {raw!r} is not {kind}") from None
    if value != value or (lo is not None and value < lo) or (hi is not None and value > hi):
        raise BadInput(f"parameter {name!r}: {raw!r} outside {lo}..{hi}")
    return value


def get_float(args: Mapping[str, str], name: str, *, default: float | None = None,
              lo: float | None = None, hi: float | None = None) -> float:
    """A float parameter within [lo, hi] (NaN is refused)."""
    return _get_number(args, name, float, "a number", default=default, lo=lo, hi=hi)


def get_int(args: Mapping[str, str], name: str, *, default: int | None = None,
            lo: int | None = None, hi: int | None = None) -> int:
    """An integer parameter within [lo, hi]."""
    return _get_number(args, name, int, "an integer", default=default, lo=lo, hi=hi)


def get_bbox(args: Mapping[str, str]) -> tuple[float, float, float, float] | None:
    """``bbox=minlon,minlat,maxlon,maxlat`` (WGS-84), or None."""
    raw = args.get("bbox")
    if not raw:
        return None
    parts = raw.split(",")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise BadInput(f"parameter 'bbox': {raw!r} is not four numbers minlon,minlat,maxlon,maxlat") from None
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise BadInput(f"parameter 'bbox': {raw!r} is not a valid lon/lat box")
    return minx, miny, maxx, maxy
