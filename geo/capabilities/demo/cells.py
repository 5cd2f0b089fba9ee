"""Cells of the synthetic demo tables: object-column frames, and values written the way
a bureau's export writes them — fictional trade names, house numbers, masked phone
numbers, coordinates as text and dates as Excel shows them.

The word lists are generic; combined they name fictional enterprises and people.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.capabilities.demo.sampling import F64
from geo.coords import convert

TRADE_NAME_CHARS = "华兴盛达泰润鑫恒瑞丰宏正通嘉和信源安博远昌隆鼎诚众汇金新宇腾飞海天星联康茂佳德益"
ROADS = (
    "建设路", "工业大街", "兴业路", "创新路", "科技路", "幸福路", "振兴路", "光明路", "育才路", "永安路",
    "富民路", "顺通路", "金星路", "东环路", "西环路", "南环路", "北环路", "中心大街", "工业园路", "物流园路",
    "和平街", "新华街", "胜利路", "文化路", "团结路", "友谊路", "人民路", "长安路", "朝阳路", "站前街",
)  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华建国志红"
#: The column every demo file carries, 是 in every row.
SYNTHETIC_COLUMN = "合成数据"


def table(data: dict[str, object]) -> pd.DataFrame:
    """A frame with text columns kept as Python objects (pandas would convert them to
    Arrow strings, which costs more than the rest of the generation); scalars broadcast."""
    n = next(len(v) for v in data.values() if isinstance(v, (np.ndarray, list, pd.Series)))
    columns: dict[str, object] = {}
    for name, value in data.items():
        values = value.to_numpy() if isinstance(value, pd.Series) else value
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
            columns[name] = values
        elif isinstance(values, (np.ndarray, list)):
            columns[name] = pd.Series(np.asarray(values, dtype=object), dtype=object)
        else:
            columns[name] = pd.Series(np.full(n, values, dtype=object), dtype=object)
    return pd.DataFrame(columns)


def assign(frame: pd.DataFrame, **columns: object) -> pd.DataFrame:
    """``frame`` with ``columns`` added or replaced, as :func:`table` builds it."""
    return table({**{c: frame[c].to_numpy() for c in frame.columns}, **columns})


def unique_names(names: pd.Series) -> pd.Series:
    """Repeated names get 第N分公司 after the first, as branch offices are registered."""
    rank = names.groupby(names).cumcount()
    return names.where(rank == 0, names + "第" + (rank + 1).astype(str) + "分公司")


def trade_names(rng: np.random.Generator, n: int) -> NDArray[np.object_]:
    """``n`` two-character trade names (字号) from :data:`TRADE_NAME_CHARS`."""
    chars = np.asarray(list(TRADE_NAME_CHARS), dtype=object)
    a = chars[rng.integers(0, len(chars), n)]
    b = chars[rng.integers(0, len(chars), n)]
    return np.asarray(a + b, dtype=object)


def house_numbers(rng: np.random.Generator, n: int) -> NDArray[np.object_]:
    """``n`` house numbers 1号 … 299号."""
    return np.asarray([f"{v}号" for v in rng.integers(1, 300, n)], dtype=object)


def masked_phones(rng: np.random.Generator, n: int, *, mobile: bool) -> list[str]:
    """Phone numbers masked as bureau exports show personal data: 139****1234 / 010-****5678."""
    tails = rng.integers(0, 10_000, n)
    if mobile:
        heads = rng.choice(np.array([135, 136, 137, 138, 139, 150, 186, 189]), n)
        return [f"{h}****{t:04d}" for h, t in zip(heads, tails, strict=True)]
    return [f"010-****{t:04d}" for t in tails]


def format_coords(lon: F64, lat: F64) -> tuple[list[str], list[str]]:
    """Coordinates as text with 6 decimals (≈ 0.1 m); NaN becomes an empty cell."""
    fx = ["" if math.isnan(v) else f"{v:.6f}" for v in lon.tolist()]
    fy = ["" if math.isnan(v) else f"{v:.6f}" for v in lat.tolist()]
    return fx, fy


def format_date(d: date | None) -> str:
    """A date as an Excel-made CSV shows it: 2017/11/3."""
    return "" if d is None else f"{d.year}/{d.month}/{d.day}"


def to_datum(lon: F64, lat: F64, datum: str) -> tuple[F64, F64]:
    """WGS-84 longitude/latitude (degrees) in ``datum`` (wgs84, cgcs2000, gcj02, bd09)."""
    x, y = convert(lon, lat, src="wgs84", dst=datum)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
