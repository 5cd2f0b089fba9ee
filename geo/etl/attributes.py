"""A table's attribute columns: parsed, completed by what can be derived, checked for required values.

* each column the entity has (and ``synthetic``) is parsed with its column's parser
  (:func:`geo.etl.parsing.parser_for`); a bad cell rejects the row, an unknown word of an
  open vocabulary is kept as given with a warning;
* what can be derived is filled in: ``synthetic`` (False), a risk source's level from
  L × S (a stated level that differs is kept, with a warning), a risk source's code from
  its name (``"N:" + name``, stable while the name is), a hazardous-chemical site's code
  (``"main"``), a hidden hazard's status from its rectification date;
* a required column left empty rejects the row.

Values are kept per column as object arrays (None for empty), one entry per table row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.entities import Entity
from geo.etl.headers import column_label
from geo.etl.issues import IssueCollector
from geo.etl.parsing import NOT_IN_VOCABULARY, apply_parser, parser_for
from geo.etl.values import level_from_ls
from geo.etl.vocabularies import vocabulary_for

#: Parsed values per canonical column, one entry per table row (None where empty or bad).
ColumnValues = dict[str, NDArray[np.object_]]

#: Prefix of a risk-source code derived from the source's name when the file has none.
DERIVED_SOURCE_CODE_PREFIX = "N:"
#: Site code of a hazardous-chemical unit's only site when the file names none.
DEFAULT_SITE_CODE = "main"


def attribute_columns(entity: Entity, cells: pd.DataFrame) -> list[str]:
    """The canonical columns of ``cells`` that are attributes of ``entity`` (and ``synthetic``)."""
    columns = [c.name for c in entity.columns if c.name in cells]
    if "synthetic" in cells:
        columns.append("synthetic")
    return columns


def parse_attributes(
    entity: Entity,
    cells: pd.DataFrame,
    columns: Sequence[str],
    issues: IssueCollector,
    *,
    on_column: Callable[[int], None] | None = None,
) -> ColumnValues:
    """Parse ``columns`` of ``cells`` in order; ``on_column(done)`` is called after each."""
    values: ColumnValues = {}
    for i, column in enumerate(columns):
        values[column] = _parse_column(entity, cells, column, issues)
        if on_column:
            on_column(i + 1)
    return values


def _parse_column(entity: Entity, cells: pd.DataFrame, column: str, issues: IssueCollector) -> NDArray[np.object_]:
    """One column parsed; words an open vocabulary does not know are kept as given (warning)."""
    parsed = apply_parser(cells, column, parser_for(entity, column), issues)
    if any(v is NOT_IN_VOCABULARY for v in parsed):
        unknown = np.array([v is NOT_IN_VOCABULARY for v in parsed], dtype=bool)
        raw = cells[column].to_numpy(dtype=object)
        parsed[unknown] = raw[unknown]
        vocab = vocabulary_for(entity.kind, column)
        accepted = vocab.accepted() if vocab else ""
        issues.add(np.flatnonzero(unknown), column, raw[unknown],
                   f"unknown category kept as given; known: {accepted}", "未知类别，按原文保留",
                   severity="warning")
    return parsed


# -------------------------------------------------------------------------- derived


def derive_columns(kind: str, values: ColumnValues, issues: IssueCollector, n: int) -> None:
    """Fill what can be derived, in place: synthetic (False), risk level from L × S, source and
    site codes, a hidden hazard's status from its rectification date."""
    if "synthetic" not in values:
        values["synthetic"] = np.full(n, False, dtype=object)
    else:
        values["synthetic"] = np.array([False if v is None else v for v in values["synthetic"]], dtype=object)
    if kind == "risk_sources":
        _derive_level(values, issues, n)
        if "source_code" not in values:
            names = values.get("name", np.full(n, None, dtype=object))
            values["source_code"] = np.array(
                [None if v is None else DERIVED_SOURCE_CODE_PREFIX + str(v) for v in names], dtype=object
            )
    if kind == "hazchem_sites":
        site = values.get("site_code", np.full(n, None, dtype=object))
        values["site_code"] = np.array([DEFAULT_SITE_CODE if v is None else v for v in site], dtype=object)
    if kind == "hidden_hazards":
        _derive_status(values, issues, n)


def _derive_status(values: ColumnValues, issues: IssueCollector, n: int) -> None:
    """A hidden hazard's status: as stated, else closed when it has a rectification date, else
    open; a rectification before the hazard was found is a warning."""
    rectified = values.get("rectified_date", np.full(n, None, dtype=object))
    status = values.get("status", np.full(n, None, dtype=object))
    values["status"] = np.array(
        [s if s is not None else ("closed" if r is not None else "open") for s, r in zip(status, rectified,
                                                                                       strict=True)],
        dtype=object,
    )
    found = values.get("found_date")
    if found is not None and "rectified_date" in values:
        before = [i for i in range(n) if found[i] and rectified[i] and rectified[i] < found[i]]
        issues.add(before, "rectified_date", [rectified[i] for i in before],
                   "rectified before it was found", "整改完成日期早于发现日期", severity="warning")


def _derive_level(values: ColumnValues, issues: IssueCollector, n: int) -> None:
    """A risk source's level: as stated, else from L × S (:func:`geo.etl.values.level_from_ls`);
    a stated level that differs from L × S is kept, with a warning."""
    level = values.get("level", np.full(n, None, dtype=object))
    likelihood = values.get("likelihood")
    severity = values.get("severity")
    if likelihood is None or severity is None:
        values["level"] = level
        return
    both = np.array([a is not None and b is not None for a, b in zip(likelihood, severity, strict=True)])
    pairs = {(int(likelihood[i]), int(severity[i])) for i in np.flatnonzero(both)}
    by_pair = {p: level_from_ls(*p) for p in pairs}
    derived = np.full(n, None, dtype=object)
    for i in np.flatnonzero(both):
        derived[i] = by_pair[(int(likelihood[i]), int(severity[i]))]
    fill = np.array([v is None for v in level]) & both & ~issues.rejected
    level = level.copy()
    level[fill] = derived[fill]
    differs = np.flatnonzero(both & ~fill & np.array([v is not None for v in level]) & (level != derived))
    issues.add(differs, "level", [f"{level[i]} (L×S → {derived[i]})" for i in differs],
               "stated risk level differs from the L × S matrix; stated level kept",
               "填报的风险等级与L×S矩阵计算结果不一致，保留填报值", severity="warning")
    values["level"] = level


# ------------------------------------------------------------------------- required


def check_required(entity: Entity, cells: pd.DataFrame, values: ColumnValues, issues: IssueCollector) -> None:
    """Reject rows whose required column is empty (a cell that failed to parse already is)."""
    for column in [c.name for c in entity.columns if c.required]:
        column_values = values.get(column)
        if column_values is None or (column not in cells and column != "level"):
            continue  # derived columns (source code from the name, site code "main") are checked via their source
        raw = cells[column].to_numpy(dtype=object) if column in cells else np.full(len(column_values), None)
        # a cell that failed to parse is already rejected with its own reason
        empty = np.array([v is None for v in column_values], dtype=bool) & pd.isna(raw)
        if column == "level" and entity.kind == "risk_sources":
            reason = "risk level is empty (and no likelihood L and severity S to derive it)"
            reason_zh = "风险等级为空（且无可能性L、严重性S可推算）"
        else:
            reason = f"required field {column_label(entity, column)} is empty"
            reason_zh = f"必填项“{entity.column(column).zh}”为空"
        issues.add(np.flatnonzero(empty), column, None, reason, reason_zh)
