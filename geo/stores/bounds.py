"""What a store accepts as a query's values, checked the same way in both stores.

The web layer bounds its parameters, but the stores are also called by the CLI and the
capabilities: here every value that reaches SQL (or the embedded store's arrays) is
checked first, so a bad one is a :class:`geo.errors.BadInput` naming it — never a
database error (PostgreSQL refuses an offset beyond 2⁶³−1 and any text holding a NUL
character) and never an answer that differs between the stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from geo.errors import BadInput

#: The most rows an offset, a limit or a ``k`` may name: more than any layer holds
#: (162,699 risk sources at the seed scale), far below the 2⁶³−1 where PostgreSQL fails.
MAX_ROWS = 2**31 - 1
#: The largest search distance, metres: more than half the equator reaches everything.
MAX_DISTANCE_M = 2.1e7


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_rows(name: str, value: Any, *, lo: int = 0) -> int:
    """``value`` as a row count or position in ``lo``..MAX_ROWS; BadInput naming ``name`` otherwise."""
    if not _is_int(value) or not lo <= int(value) <= MAX_ROWS:
        raise BadInput(f"{name} must be a whole number from {lo} to {MAX_ROWS:,}, got {value!r}")
    return int(value)


def check_paging(limit: int | None, offset: int) -> tuple[int | None, int]:
    """A read's ``limit`` (None: no limit) and ``offset``, each 0..MAX_ROWS."""
    return (None if limit is None else check_rows("limit", limit)), check_rows("offset", offset)


def check_distance(distance_m: float) -> float:
    """A search distance in metres: a finite number from 0 to MAX_DISTANCE_M."""
    try:
        value = float(distance_m)
    except (TypeError, ValueError):
        raise BadInput(f"distance must be a number of metres, got {distance_m!r}") from None
    if not 0 <= value <= MAX_DISTANCE_M:  # NaN fails too
        raise BadInput(f"distance must be 0 to {MAX_DISTANCE_M:,.0f} m, got {distance_m!r}")
    return value


def check_lonlat(lon: float, lat: float) -> tuple[float, float]:
    """A WGS-84 point: finite, longitude -180..180, latitude -90..90."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise BadInput(f"point must be two numbers (lon, lat), got {lon!r}, {lat!r}") from None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise BadInput(f"point ({lon!r}, {lat!r}) outside lon -180..180 / lat -90..90")
    return x, y


def check_bbox(bbox: Iterable[float] | None) -> tuple[float, float, float, float] | None:
    """A lon/lat box (minlon, minlat, maxlon, maxlat) of finite numbers in range, min <= max."""
    if bbox is None:
        return None
    values = tuple(bbox)
    try:
        minx, miny, maxx, maxy = (float(v) for v in values)
    except (TypeError, ValueError):
        raise BadInput(f"bbox must be four numbers minlon, minlat, maxlon, maxlat, got {values!r}") from None
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise BadInput(f"bbox {values!r} is not a lon/lat box (min <= max, lon -180..180, lat -90..90)")
    return minx, miny, maxx, maxy


def check_text(name: str, value: Any) -> Any:
    """``value`` unchanged unless it is text holding a NUL character, which PostgreSQL
    cannot store or compare (and the embedded store would then answer differently)."""
    if isinstance(value, str) and "\x00" in value:
        raise BadInput(f"{name}: text contains a NUL character (\\x00) at position {value.index(chr(0))}")
    return value


def check_where_values(where: Mapping[str, Any]) -> None:
    """Every text value of a ``where`` filter (single or in a list) free of NUL characters."""
    for column, value in where.items():
        items = value if isinstance(value, list | tuple | set | frozenset) else [value]
        for item in items:
            check_text(f"where {column}", item)
