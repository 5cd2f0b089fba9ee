"""One cell's value: parse and normalise what bureau files really write.

Pure functions, no I/O, one value at a time (:mod:`geo.etl.parsing` applies them to whole
columns).  A parser either returns the normalised value (``None`` for an empty cell) or
raises :class:`ValidationError`, which names the value, the reason in English and Chinese,
and — once the caller attaches it with :meth:`ValidationError.with_column` — the column.
The rejected-rows report is built from those fields.

What is normalised here:

* unified social credit codes (统一社会信用代码, GB 32100-2015), with the check character;
* risk levels (重大/较大/一般/低, 红/橙/黄/蓝, red/…, 1–4, Ⅰ级–Ⅳ级) and the LS matrix;
* dates (ISO, 2018/3/5, 2018.3.5, 20180305, 2018年3月5日, Excel serial numbers);
* booleans (是/否, 有/无, Y/N, 1/0, 已投保/未投保, …);
* coordinate datums (wgs84 / cgcs2000 / gcj02 / bd09) and coordinate text (decimal or DMS).

File headers are matched in :mod:`geo.etl.headers`.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TypeGuard

import numpy as np
import pandas as pd

from geo.errors import BadInput


class ValidationError(BadInput):
    """A cell value that cannot be accepted.

    ``value`` is the raw value as read, ``reason`` an English sentence and
    ``reason_zh`` its short Chinese counterpart (both shown in the rejected-rows
    report); ``column`` is the canonical column, or ``None`` until the caller
    attaches it with :meth:`with_column`.
    """

    def __init__(self, value: object, reason: str, reason_zh: str, *, column: str | None = None) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason
        self.reason_zh = reason_zh
        self.column = column

    def __reduce__(self) -> tuple[type[ValidationError], tuple[object, str, str], dict[str, object]]:
        # Keeps errors picklable (multiprocessing), which ValueError's default reduce is not here.
        return type(self), (self.value, self.reason, self.reason_zh), {"column": self.column}

    def with_column(self, column: str) -> ValidationError:
        """A copy of this error that names ``column``."""
        return ValidationError(self.value, self.reason, self.reason_zh, column=column)

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"{where}{self.value!r}: {self.reason} ({self.reason_zh})"


# --------------------------------------------------------------------------- text


def fold_text(text: str) -> str:
    """Text folded for comparison: NFKC (full-width → half-width), lower case, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


# Placeholders that spreadsheet exports and pandas write for "no value".
_MISSING_TEXT = frozenset({"", "nan", "nat", "none", "null", "<na>", "-", "--", "—", "——", "/"})


def is_missing(value: object) -> bool:
    """True for an empty cell: None, NaN, NaT, pandas NA, blank text or a placeholder ("-", "/", "nan")."""
    if value is None:
        return True
    if isinstance(value, str):
        return fold_text(value) in _MISSING_TEXT
    missing = pd.isna(value)
    return bool(missing) if isinstance(missing, (bool, np.bool_)) else False


def _is_number(value: object) -> TypeGuard[numbers.Real]:
    """True for int/float/numpy numbers, but not for booleans (which are ints in Python)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _integer_or_none(value: object) -> int | None:
    """The integer a number or numeric text stands for ("3", "3.0", 3.0), else None."""
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(unicodedata.normalize("NFKC", value).strip())
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(number) or number != int(number):
        return None
    return int(number)


# ------------------------------------------------------------- unified social credit code

#: GB 32100-2015 code alphabet: digits and upper-case letters without I, O, Z, S, V.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: GB 32100-2015 weights of positions 1–17 (3**i mod 31).
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_CODE_LENGTH = 18


def _credit_code_problem(code: str, length: int) -> tuple[str, str] | None:
    """Why ``code`` (without any check) is not a well-formed ``length``-character body, or None."""
    if len(code) != length:
        return f"must be {length} characters, got {len(code)}", f"应为{length}位，实际{len(code)}位"
    for position, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_ALPHABET:
            return (
                f"character {char!r} at position {position} is not allowed (I, O, Z, S, V are never used)",
                f"第{position}位字符{char!r}不合法（不使用I、O、Z、S、V）",
            )
    if not code[2:8].isdigit():
        return (
            "characters 3–8 must be the 6-digit administrative division code",
            "第3–8位应为6位数字行政区划码",
        )
    return None


def credit_code_check_digit(code17: str) -> str:
    """The check character (position 18) for the first 17 characters of a credit code.

    GB 32100-2015: C18 = 31 − (Σ value(Cᵢ)·Wᵢ mod 31), where 31 becomes 0, mapped
    back through :data:`CREDIT_CODE_ALPHABET`.  Raises :class:`ValidationError` when
    ``code17`` is not 17 characters of that alphabet with a 6-digit division code.
    """
    problem = _credit_code_problem(code17, CREDIT_CODE_LENGTH - 1)
    if problem:
        raise ValidationError(code17, *problem)
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(code17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def make_credit_code(prefix17: str) -> str:
    """A valid 18-character credit code: ``prefix17`` followed by its check character."""
    return prefix17 + credit_code_check_digit(prefix17)


def normalise_credit_code(value: object) -> str:
    """The credit code in ``value``, stripped, half-width and upper-cased, checked.

    The registration-department and organisation-type characters (positions 1
    and 2) are only checked against the alphabet: the list of departments has
    grown since 2015.  Raises :class:`ValidationError` for an empty value, a
    wrong length, a character outside the alphabet, a non-numeric division code
    or a wrong check character (the reason gives the expected one).
    """
    if is_missing(value):
        raise ValidationError(value, "credit code is empty", "统一社会信用代码为空")
    code = fold_text(str(value)).upper()
    problem = _credit_code_problem(code, CREDIT_CODE_LENGTH)
    if problem:
        raise ValidationError(value, *problem)
    expected = credit_code_check_digit(code[:17])
    if code[17] != expected:
        raise ValidationError(
            value,
            f"check character should be {expected!r}, got {code[17]!r} (GB 32100-2015)",
            f"校验码应为{expected}，实际为{code[17]}",
        )
    return code


def is_valid_credit_code(code: str) -> bool:
    """True if ``code`` is, exactly as given, a valid 18-character credit code (upper case)."""
    try:
        return normalise_credit_code(code) == code
    except ValidationError:
        return False


# ------------------------------------------------------------------------ risk levels

_LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("重大", "重大风险", "红", "红色", "红色风险", "red", "major", "1", "1级", "一级", "i级"),
    "orange": (
        "较大",
        "较大风险",
        "橙",
        "橙色",
        "橙色风险",
        "orange",
        "significant",
        "2",
        "2级",
        "二级",
        "ii级",
    ),
    "yellow": (
        "一般",
        "一般风险",
        "黄",
        "黄色",
        "黄色风险",
        "yellow",
        "general",
        "3",
        "3级",
        "三级",
        "iii级",
    ),
    "blue": ("低", "低风险", "蓝", "蓝色", "蓝色风险", "blue", "low", "4", "4级", "四级", "iv级"),
}
_LEVEL_BY_WORD: dict[str, str] = {word: code for code, words in _LEVEL_WORDS.items() for word in words}

_LEVELS_ACCEPTED = "重大/较大/一般/低, 红/橙/黄/蓝, red/orange/yellow/blue, 1–4 or Ⅰ级–Ⅳ级 (1 = red)"


def _level_error(value: object) -> ValidationError:
    return ValidationError(
        value,
        f"unknown risk level; accepted: {_LEVELS_ACCEPTED}",
        "无法识别的风险等级，可用：重大/较大/一般/低、红/橙/黄/蓝、1–4",
    )


def _level_of_word(word: str) -> str | None:
    number = _integer_or_none(word)
    if number is not None:
        word = str(number)
    return _LEVEL_BY_WORD.get(word)


def normalise_level(value: object) -> str:
    """The risk level code ("red", "orange", "yellow" or "blue") that ``value`` names.

    Accepts the Chinese names with or without 风险, colours in Chinese or English
    (any case), the English names from :data:`geo.entities.RISK_LEVELS`, the
    numbers 1–4 (int, float or text; 1 is red, the highest) and 一级–四级 /
    Ⅰ级–Ⅳ级, where Ⅰ is the highest as in Chinese emergency practice.  A name
    with its colour in brackets ("重大风险（红色）") is accepted when both agree.
    Raises :class:`ValidationError` (listing the accepted values) otherwise.
    """
    if isinstance(value, (bool, np.bool_)) or is_missing(value):
        raise _level_error(value)
    text = fold_text(str(value))
    bracketed = re.fullmatch(r"(.+?)[(\[【](.+?)[)\]】]", text)
    parts = bracketed.groups() if bracketed else (text,)
    level = _level_of_word(parts[0])
    if level is None or any(_level_of_word(part) != level for part in parts[1:]):
        raise _level_error(value)
    return level


#: Default LS-matrix thresholds, highest first: R = L × S at or above → level; below all → blue.
#: DOMAIN.md "Risk levels": R ≥ 20 red, 15–16 orange, 9–12 yellow, ≤ 8 blue (common provincial
#: practice; GB/T 42768-2023 describes a 5×5 matrix producing four colours).  R is a product of
#: two values in 1–5, so no R falls between the listed bands.
LS_LEVEL_THRESHOLDS: tuple[tuple[int, str], ...] = ((20, "red"), (15, "orange"), (9, "yellow"))
LS_SCALE = range(1, 6)


def _ls_factor(value: object, name: str, name_zh: str) -> int:
    number = None if isinstance(value, (bool, np.bool_)) else _integer_or_none(value)
    if number is None or number not in LS_SCALE:
        raise ValidationError(value, f"{name} must be an integer from 1 to 5", f"{name_zh}应为1–5的整数")
    return number


def level_from_ls(
    likelihood: object,
    severity: object,
    *,
    thresholds: Sequence[tuple[int, str]] = LS_LEVEL_THRESHOLDS,
) -> str:
    """The risk level for likelihood L and severity S (each 1–5) by R = L × S.

    ``thresholds`` are (minimum R, level) pairs, highest first; an R below all of
    them is "blue".  A rules file may pass its own.  Raises
    :class:`ValidationError` when L or S is not an integer in 1–5.
    """
    risk = _ls_factor(likelihood, "likelihood L", "可能性L") * _ls_factor(severity, "severity S", "严重性S")
    for minimum, level in thresholds:
        if risk >= minimum:
            return level
    return "blue"


# ------------------------------------------------------------------------------ dates

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 once the 1900 leap-year bug is allowed for
#: Excel serial numbers accepted as dates: 1950-01-01 … 2100-12-31 (1900 date system).
EXCEL_SERIAL_RANGE = ((date(1950, 1, 1) - _EXCEL_EPOCH).days, (date(2100, 12, 31) - _EXCEL_EPOCH).days)
_YEAR_RANGE = range(1900, 2101)
_TIME_SUFFIX = r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_PATTERNS = (
    re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})" + _TIME_SUFFIX),
    re.compile(r"(\d{4})\s*(年)\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?" + _TIME_SUFFIX),
    re.compile(r"(\d{4})()(\d{2})(\d{2})"),
)
_DATE_FORMATS = "YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYYMMDD, YYYY年M月D日 or an Excel date"


def _date_error(value: object) -> ValidationError:
    return ValidationError(
        value, f"unrecognised date; use {_DATE_FORMATS}", "无法识别的日期格式，请用YYYY-MM-DD"
    )


def _make_date(value: object, year: int, month: int, day: int) -> date:
    if year not in _YEAR_RANGE:
        raise ValidationError(value, f"year {year} is outside 1900–2100", f"年份{year}不在1900–2100之间")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError(value, f"no such date: {year}-{month:02d}-{day:02d}", "日期不存在") from None


def _date_from_number(value: object, number: float) -> date:
    low, high = EXCEL_SERIAL_RANGE
    if not math.isfinite(number):
        raise _date_error(value)
    if number == int(number) and 19000101 <= number <= 21001231:
        whole = int(number)
        return _make_date(value, whole // 10000, whole // 100 % 100, whole % 100)
    if low <= number < high + 1:
        return _EXCEL_EPOCH + timedelta(days=int(number))  # a fraction is the time of day
    raise ValidationError(
        value,
        f"number is neither an Excel date serial ({low}–{high}, i.e. 1950–2100) nor YYYYMMDD",
        "数字既不是Excel日期序列号也不是YYYYMMDD格式",
    )


def _date_from_text(value: object, text: str) -> date:
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, _, month, day = match.groups()
            return _make_date(value, int(year), int(month), int(day))
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _date_from_number(value, float(text))
    raise _date_error(value)


def parse_date(value: object) -> date | None:
    """The calendar date in ``value``; ``None`` for an empty cell (or 无).

    Accepts ``date``/``datetime``/``pandas.Timestamp``/``numpy.datetime64`` (the
    time of day is dropped), text as in ``_DATE_FORMATS`` (full-width digits too,
    optionally followed by a time), integers YYYYMMDD and Excel serial numbers of
    the 1900 date system between 1950 and 2100.  Raises :class:`ValidationError`
    for anything else, an impossible date (2018-02-30) or a year outside 1900–2100.
    """
    if is_missing(value):
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if _is_number(value):
        return _date_from_number(value, float(value))
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        return None if text == "无" else _date_from_text(value, text)
    raise _date_error(value)


# --------------------------------------------------------------------------- booleans

_TRUE_WORDS = frozenset({"是", "有", "y", "yes", "true", "t", "1", "已投保", "投保", "√", "✓", "在营"})
_FALSE_WORDS = frozenset({"否", "无", "没有", "n", "no", "false", "f", "0", "未投保", "×", "✗", "停业"})


def parse_bool(value: object) -> bool | None:
    """True / False for a yes-no cell; ``None`` for an empty one.

    Accepts booleans, 1/0 (numbers or text), 是/否, 有/无, Y/N, yes/no, true/false,
    已投保/未投保, √/× and 在营/停业, in any case and width.  Raises
    :class:`ValidationError` for anything else.
    """
    if is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    number = _integer_or_none(value)
    text = str(number) if number is not None else fold_text(str(value))
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    raise ValidationError(
        value,
        "not a yes/no value; accepted: 是/否, 有/无, Y/N, yes/no, true/false, 1/0, 已投保/未投保",
        "无法识别的是/否值",
    )


# ----------------------------------------------------------------------------- datums

_DATUM_WORDS: dict[str, tuple[str, ...]] = {
    "wgs84": ("wgs84", "wgs1984", "gps", "epsg4326", "4326"),
    "cgcs2000": ("cgcs2000", "cgcs", "2000国家大地", "国家2000", "国家大地2000", "2000", "epsg4490", "4490"),
    "gcj02": ("gcj02", "gcj", "火星", "高德", "腾讯", "国测局", "amap", "gaode", "tencent"),
    "bd09": ("bd09", "bd09ll", "百度", "baidu"),
}
_DATUM_BY_WORD = {word: datum for datum, words in _DATUM_WORDS.items() for word in words}
_DATUM_SUFFIX = re.compile(r"(坐标系统|坐标系|坐标|地图)$")


def normalise_datum(value: object) -> str:
    """The datum code ("wgs84", "cgcs2000", "gcj02" or "bd09") that ``value`` names.

    Case, width, spaces, hyphens, underscores, colons and a trailing 坐标/坐标系 are
    ignored, so "WGS-84", "GPS", "EPSG:4326", "2000国家大地坐标系", "GCJ-02", "高德坐标"
    and "百度坐标系" are all understood.  Raises :class:`ValidationError` otherwise,
    including for Beijing 1954 and Xi'an 1980, which need a proper transformation.
    """
    word = "" if is_missing(value) else _DATUM_SUFFIX.sub("", re.sub(r"[-_:]", "", fold_text(str(value))))
    if word in _DATUM_BY_WORD:
        return _DATUM_BY_WORD[word]
    raise ValidationError(
        value,
        "unknown coordinate datum; accepted: WGS84 (GPS), CGCS2000, GCJ-02 (高德/腾讯), BD-09 (百度)",
        "无法识别的坐标系，可用：WGS84、CGCS2000、GCJ-02、BD-09",
    )


# ------------------------------------------------------------------------ coordinates

_HEMISPHERES = {"e": 1, "n": 1, "w": -1, "s": -1, "东经": 1, "北纬": 1, "西经": -1, "南纬": -1}
_COORDINATE = re.compile(
    r"""(?P<sign>[+-])?
        (?P<deg>\d+(?:\.\d+)?)
        (?:°(?:(?P<min>\d+(?:\.\d+)?)'(?:(?P<sec>\d+(?:\.\d+)?)")?)?)?""",
    re.VERBOSE,
)
_SYMBOLS = str.maketrans(
    {"度": "°", "º": "°", "˚": "°", "分": "'", "′": "'", "’": "'", "秒": '"', "″": '"', "”": '"'}
)


def _coordinate_error(value: object, reason: str = "") -> ValidationError:
    return ValidationError(
        value,
        reason or "not a coordinate; use decimal degrees (116.40) or degrees-minutes-seconds (116°24'36\"E)",
        "无法识别的坐标，请用十进制度（116.40）或度分秒（116°24′36″E）",
    )


def _split_hemisphere(text: str) -> tuple[int | None, str]:
    """(+1 / −1 / None when absent, the rest) for a text with a hemisphere marker at either end."""
    for word, sign in _HEMISPHERES.items():
        if text.startswith(word):
            return sign, text[len(word) :]
        if text.endswith(word):
            return sign, text[: -len(word)]
    return None, text


def _coordinate_text(value: str) -> str:
    """Coordinate text with 度分秒 and primes as °'", half-width, lower case, no spaces."""
    text = unicodedata.normalize("NFKC", value.translate(_SYMBOLS)).replace("''", '"')
    if re.search(r"[\d.]\s+[\d.]", text):
        raise _coordinate_error(value, "digits separated by spaces; mark degrees, minutes and seconds")
    return fold_text(text)


def parse_coordinate(value: object) -> float | None:
    """Decimal degrees from a longitude or latitude cell; ``None`` for an empty one.

    Accepts numbers, decimal text ("116.40", full-width digits too) and
    degrees[-minutes[-seconds]] with °'" or 度分秒 and either a sign or a
    hemisphere (E/N/W/S or 东经/北纬/西经/南纬; W and S give negative values).
    Minutes and seconds must be below 60.  Range and region checks are the
    caller's.  Raises :class:`ValidationError` for anything else.
    """
    if is_missing(value):
        return None
    if _is_number(value):
        number = float(value)
        if not math.isfinite(number):
            raise _coordinate_error(value)
        return number
    if not isinstance(value, str):
        raise _coordinate_error(value)
    hemisphere, text = _split_hemisphere(_coordinate_text(value))
    match = _COORDINATE.fullmatch(text)
    if not match or (hemisphere is not None and match["sign"]):
        raise _coordinate_error(value)
    minutes, seconds = (float(match[part] or 0) for part in ("min", "sec"))
    if minutes >= 60 or seconds >= 60:
        raise _coordinate_error(value, "minutes and seconds must be below 60")
    sign = -1 if match["sign"] == "-" else (hemisphere or 1)
    return sign * (float(match["deg"]) + minutes / 60 + seconds / 3600)

