"""Dirty rows planted in the synthetic demo files, so the loader has something to reject,
fix or flag: a wrong credit-code check character, an unknown risk level, a point far
outside Jing-Jin-Ji, a missing name, an impossible date, a duplicated key, swapped
longitude/latitude, a district that does not contain the point.

:data:`DIRTY_OUTCOMES` says what the loader should do with each; the manifest lists the
rows planted, by reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.capabilities.demo.cells import format_coords, to_datum
from geo.etl.values import CREDIT_CODE_ALPHABET

#: What the loader is expected to do with each planted problem.
DIRTY_OUTCOMES: dict[str, str] = {
    "bad_credit_code": "rejected",
    "unknown_level": "rejected",
    "out_of_region": "rejected",
    "missing_name": "rejected",
    "bad_date": "rejected",
    "duplicate_key": "rejected",
    "swapped_lonlat": "fixed_with_warning",
    "district_mismatch": "flagged",
}
#: Coordinates far outside Jing-Jin-Ji (Shanghai, Guangzhou, Chengdu), WGS-84.
_FAR_AWAY = ((121.4737, 31.2304), (113.2644, 23.1291), (104.0665, 30.5723))
_UNKNOWN_LEVELS = ("中等", "待评估", "较高", "高风险", "未定级")
_BAD_DATES = ("2017-02-30", "2018/13/05", "去年11月", "2017.11.31", "待定")
#: A file with at least this many rows gets at least one row of each reason it has a rate for.
_MIN_ROWS_FOR_ONE_EACH = 20

#: A duplicate's change: (column, new value from the old) — a re-exported record differs a little.
DuplicateChange = tuple[str, Callable[[str], str]]


@dataclass(frozen=True)
class DirtyTarget:
    """Where the planters write in one file: the coordinate columns and the file's
    datum (for far-away points), the name column, and the district names to mix up."""

    lon: str = "经度"
    lat: str = "纬度"
    datum: str = "wgs84"
    name_col: str | None = None
    district_names: Sequence[str] = ()


def plant_dirty(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    rates: dict[str, float],
    *,
    address_only: NDArray[np.bool_],
    target: DirtyTarget,
    duplicate_change: DuplicateChange | None = None,
) -> tuple[pd.DataFrame, dict[str, int], NDArray[np.object_]]:
    """Plant problems in distinct rows with coordinates (one problem per row, none in an
    address-only row) and append duplicate-key rows.

    ``rates`` maps a reason of :data:`DIRTY_OUTCOMES` to the share of rows; files with
    ≥ 20 rows get at least one of each.  Returns the new table, the counts and the
    reason of every row of the new table ("" for a clean one).  Raises ValueError for
    a reason no planter knows.
    """
    n = len(frame)
    frame = frame.copy()
    counts: dict[str, int] = {}
    wanted = {
        r: (max(1, round(rate * n)) if n >= _MIN_ROWS_FOR_ONE_EACH else round(rate * n)) for r, rate in rates.items()
    }
    free = np.ones(n, dtype=bool)
    reason_of = np.full(n, "", dtype=object)
    for reason, k in wanted.items():
        if reason == "duplicate_key" or k == 0:
            continue
        if reason not in _PLANTERS:  # pragma: no cover - a typo in a rates table
            raise ValueError(f"unknown dirty-row reason {reason!r}")
        pool = np.flatnonzero(free & ~address_only)  # keeps dirty and address-only rows apart
        rows = np.sort(rng.choice(pool, size=min(k, pool.size), replace=False))
        free[rows] = False
        reason_of[rows] = reason
        counts[reason] = int(rows.size)
        _PLANTERS[reason](rng, frame, rows, target)
    k = wanted.get("duplicate_key", 0)
    if k:
        pool = np.flatnonzero(free & ~address_only)
        frame, reason_of, counts["duplicate_key"] = _append_duplicates(rng, frame, reason_of, pool, k, duplicate_change)
    return frame, counts, reason_of


def _append_duplicates(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    reason_of: NDArray[np.object_],
    pool: NDArray[np.int64],
    k: int,
    change: DuplicateChange | None,
) -> tuple[pd.DataFrame, NDArray[np.object_], int]:
    """Copies of ``k`` rows of ``pool`` (changed by ``change``), each placed somewhere after
    its original.  Returns the new table, the reasons of its rows and the copies made."""
    n = len(frame)
    originals = np.sort(rng.choice(pool, size=min(k, pool.size), replace=False))
    dups = frame.iloc[originals].copy()
    if change:
        col, new_value = change
        dups[col] = [new_value(str(v)) for v in dups[col]]
    # each copy lands somewhere after its original, as a re-exported record would
    order = np.concatenate([np.arange(n, dtype=float), originals + rng.uniform(0.5, n - originals + 0.5)])
    position = np.argsort(order, kind="stable")
    frame = pd.concat([frame, dups], ignore_index=True).iloc[position].reset_index(drop=True)
    reason_of = np.concatenate([reason_of, np.full(originals.size, "duplicate_key", dtype=object)])[position]
    return frame, reason_of, int(originals.size)


# Each planter changes ``rows`` of ``frame`` in place; they draw from ``rng`` in row order.


def _bad_credit_code(rng: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], _: DirtyTarget) -> None:
    """A wrong GB 32100 check character (the 18th)."""
    col = frame.columns.get_loc("统一社会信用代码")
    for r in rows:
        code = str(frame.iat[r, col])
        wrong = [ch for ch in CREDIT_CODE_ALPHABET if ch != code[-1]]
        frame.iat[r, col] = code[:-1] + wrong[int(rng.integers(0, len(wrong)))]


def _unknown_level(rng: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], _: DirtyTarget) -> None:
    frame.iloc[rows, frame.columns.get_loc("风险等级")] = np.asarray(_UNKNOWN_LEVELS, dtype=object)[
        rng.integers(0, len(_UNKNOWN_LEVELS), rows.size)
    ]


def _missing_name(_: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], target: DirtyTarget) -> None:
    frame.iloc[rows, frame.columns.get_loc(target.name_col)] = ""


def _bad_date(rng: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], _: DirtyTarget) -> None:
    frame.iloc[rows, frame.columns.get_loc("排查日期")] = np.asarray(_BAD_DATES, dtype=object)[
        rng.integers(0, len(_BAD_DATES), rows.size)
    ]


def _swapped_lonlat(_: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], target: DirtyTarget) -> None:
    lon, lat = frame.columns.get_loc(target.lon), frame.columns.get_loc(target.lat)
    x = frame.iloc[rows, lon].to_numpy()
    frame.iloc[rows, lon] = frame.iloc[rows, lat].to_numpy()
    frame.iloc[rows, lat] = x


def _out_of_region(rng: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], target: DirtyTarget) -> None:
    """A real city far away (Shanghai, Guangzhou, Chengdu), in the file's datum."""
    far = np.asarray(_FAR_AWAY)[rng.integers(0, len(_FAR_AWAY), rows.size)]
    fx, fy = to_datum(far[:, 0], far[:, 1], target.datum)
    lon, lat = frame.columns.get_loc(target.lon), frame.columns.get_loc(target.lat)
    frame.iloc[rows, lon], frame.iloc[rows, lat] = format_coords(fx, fy)


def _district_mismatch(
    rng: np.random.Generator, frame: pd.DataFrame, rows: NDArray[np.int64], target: DirtyTarget
) -> None:
    """Another Beijing district's name in 所属区."""
    col = frame.columns.get_loc("所属区")
    for r in rows:
        others = [d for d in target.district_names if d != frame.iat[r, col]]
        frame.iat[r, col] = others[int(rng.integers(0, len(others)))]


_PLANTERS: dict[str, Callable[[np.random.Generator, pd.DataFrame, NDArray[np.int64], DirtyTarget], None]] = {
    "bad_credit_code": _bad_credit_code,
    "unknown_level": _unknown_level,
    "missing_name": _missing_name,
    "bad_date": _bad_date,
    "swapped_lonlat": _swapped_lonlat,
    "out_of_region": _out_of_region,
    "district_mismatch": _district_mismatch,
}
