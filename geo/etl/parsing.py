"""Parse a table's columns: each distinct cell value once, with the parser its column needs.

A column's parser (:func:`parser_for`) takes one stripped, non-empty cell text and returns
the value to store, or raises :class:`geo.etl.values.ValidationError`; :func:`apply_parser`
runs it over a column and rejects the rows whose cell fails.  Work is per distinct value
(:func:`parse_unique`): a 160,000-row file has ~10,000 credit codes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.entities import Entity
from geo.etl.issues import IssueCollector
from geo.etl.values import (
    ValidationError,
    fold_text,
    is_missing,
    normalise_credit_code,
    normalise_level,
    parse_bool,
    parse_date,
)
from geo.etl.vocabularies import Vocabulary, vocabulary_for

ParseFn = Callable[[str], Any]

_GRADE_WORDS = {1: ("一级", "1级", "i级", "ⅰ级", "i"), 2: ("二级", "2级", "ii级", "ⅱ级", "ii"),
                3: ("三级", "3级", "iii级", "ⅲ级", "iii"), 4: ("四级", "4级", "iv级", "ⅳ级", "iv")}
#: Integer columns with a closed range (and word forms for grades).
_INT_RANGES: dict[str, tuple[int, int]] = {
    "likelihood": (1, 5),
    "major_hazard_grade": (1, 4),
    "gas_station_grade": (1, 3),
}
_NON_NEGATIVE = ("capacity", "item_count", "external_distance_m", "population")
_ASCII_CODE = re.compile(r"[a-z][a-z0-9_]*")
#: What the parser of an open vocabulary returns for a word it does not know (kept as given).
NOT_IN_VOCABULARY = object()


def parse_unique(
    values: NDArray[np.object_], parse: ParseFn
) -> tuple[NDArray[np.object_], dict[int, ValidationError], NDArray[np.intp]]:
    """Parse each distinct non-empty value once: (parsed per row, errors by unique index, codes)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed: list[Any] = []
    errors: dict[int, ValidationError] = {}
    for i, value in enumerate(uniques):
        try:
            parsed.append(parse(value))
        except ValidationError as err:
            errors[i] = err
            parsed.append(None)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[: len(uniques)] = parsed
    table[len(uniques)] = None
    return table[codes], errors, codes


def apply_parser(
    cells: pd.DataFrame, column: str, parse: ParseFn, issues: IssueCollector
) -> NDArray[np.object_]:
    """Parsed values of ``column`` (None where empty or bad); bad cells are rejected."""
    raw = cells[column].to_numpy(dtype=object)
    out, errors, codes = parse_unique(raw, parse)
    for unique, err in errors.items():
        positions = np.flatnonzero(codes == unique)
        issues.add_error(positions, column, raw[positions], err)
    return out


def clean_text(value: object) -> str | None:
    """Cell text without surrounding whitespace; empty and placeholders ("-", "/", "null") → None."""
    if value is None:
        return None
    text = str(value).strip()
    # placeholders are at most four characters; longer text never needs the (slower) check
    return None if len(text) <= 6 and is_missing(text) else text


def _number(text: str) -> float:
    """A number in text with full-width digits and thousands separators ("1,200" → 1200.0)."""
    return float(unicodedata.normalize("NFKC", text).replace(",", "").strip())


def _int_parser(column: str) -> ParseFn:
    low_high = _INT_RANGES.get(column)
    grades = {fold_text(w): n for n, words in _GRADE_WORDS.items() for w in words} if column.endswith("_grade") else {}

    def parse(text: str) -> int:
        folded = fold_text(text)
        if folded in grades:
            number = float(grades[folded])
        else:
            try:
                number = _number(text)
            except ValueError:
                raise ValidationError(text, "not a whole number", "不是整数") from None
        if not math.isfinite(number) or number != int(number):
            raise ValidationError(text, "not a whole number", "不是整数")
        value = int(number)
        if low_high and not low_high[0] <= value <= low_high[1]:
            raise ValidationError(
                text, f"must be between {low_high[0]} and {low_high[1]}", f"应在{low_high[0]}–{low_high[1]}之间"
            )
        if column in _NON_NEGATIVE and value < 0:
            raise ValidationError(text, "must not be negative", "不能为负数")
        return value

    return parse


def _float_parser(column: str) -> ParseFn:
    def parse(text: str) -> float:
        try:
            number = _number(text)
        except ValueError:
            raise ValidationError(text, "not a number", "不是数字") from None
        if not math.isfinite(number):
            raise ValidationError(text, "not a finite number", "不是有效数字")
        if column in _NON_NEGATIVE and number < 0:
            raise ValidationError(text, "must not be negative", "不能为负数")
        return number

    return parse


def _date_parser(text: str) -> str | None:
    parsed = parse_date(text)
    return None if parsed is None else parsed.isoformat()


def _bool_parser(text: str) -> bool | None:
    return parse_bool(text)


def _vocabulary_parser(vocab: Vocabulary, column: str) -> ParseFn:
    table = vocab.lookup()

    def parse(text: str) -> object:
        folded = fold_text(text)
        code = table.get(folded) or table.get(folded.replace(" ", "_"))
        if code:
            return code
        if vocab.open and _ASCII_CODE.fullmatch(folded):
            return folded
        if vocab.open:
            return NOT_IN_VOCABULARY
        raise ValidationError(text, f"unknown {column}; accepted: {vocab.accepted()}",
                              f"无法识别的取值，可用：{'、'.join(w[0] for w in vocab.codes.values())}")

    return parse


def parser_for(entity: Entity, column: str) -> ParseFn:
    """The parser of ``column`` in files of ``entity``: by the column's name, its vocabulary
    (an open one returns :data:`NOT_IN_VOCABULARY` for an unknown word), else its type."""
    if column == "credit_code":
        return normalise_credit_code
    if column == "level":
        return normalise_level
    if column == "synthetic":
        return _bool_parser
    vocab = vocabulary_for(entity.kind, column)
    if vocab is not None:
        return _vocabulary_parser(vocab, column)
    if entity.kind == "risk_sources" and column == "severity":
        return _int_parser("likelihood")  # same 1–5 scale
    ctype = entity.column(column).type
    if ctype == "int":
        return _int_parser(column)
    if ctype == "float":
        return _float_parser(column)
    if ctype == "bool":
        return _bool_parser
    if ctype == "date":
        return _date_parser
    return lambda text: text
