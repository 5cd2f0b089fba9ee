"""The problems a load finds: one :class:`Issue` per row and reason, collected column by column.

An issue is a ``reject`` (the row is not loaded) or a ``warning`` (the row is loaded, but
something was fixed or looks wrong); file-level issues have no row.  Every reason is given
in English and Chinese.  The checks record issues by row *position* (0-based, into the
table) with :class:`IssueCollector`; :meth:`IssueCollector.issues` turns them into the
report's order and the file's own row numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from geo.etl.values import ValidationError

Severity = Literal["reject", "warning"]
#: Row positions (0-based, into the table) and the cell values that go with them.
Positions = Sequence[int] | NDArray[Any]
Values = Sequence[Any] | NDArray[Any] | None


@dataclass(frozen=True)
class Issue:
    """One problem with one row (or with the whole file when ``row`` is None).

    ``column`` is the canonical column, ``header`` the file's header for it,
    ``value`` the cell text as read.
    """

    row: int | None
    column: str | None
    header: str | None
    value: str | None
    reason: str
    reason_zh: str
    severity: Severity


class IssueCollector:
    """Problems per row position, collected column by column.

    ``rows`` are the source row numbers of the table's rows, ``headers`` the file's
    header of each canonical column; ``rejected``/``warned`` say per position whether
    the row has a reject / a warning so far (the checks read ``rejected`` to skip rows).
    """

    def __init__(self, rows: NDArray[np.int64], headers: Mapping[str, str]) -> None:
        self.rows = rows
        self.headers = headers
        self.rejected = np.zeros(len(rows), dtype=bool)
        self.warned = np.zeros(len(rows), dtype=bool)
        self.items: list[tuple[int, int, str | None, str | None, str, str, Severity]] = []
        self.file_level: list[Issue] = []
        self._seq = 0

    def add(
        self,
        positions: Positions,
        column: str | None,
        values: Values,
        reason: str,
        reason_zh: str,
        *,
        severity: Severity = "reject",
    ) -> None:
        """One issue per position (``values``: the cell text shown for each, or None)."""
        positions = np.asarray(positions, dtype=np.int64)
        if positions.size == 0:
            return
        (self.rejected if severity == "reject" else self.warned)[positions] = True
        vals = values if values is not None else [None] * len(positions)
        for pos, value in zip(positions.tolist(), vals, strict=True):
            self._seq += 1
            text = None if value is None else str(value)
            self.items.append((pos, self._seq, column, text, reason, reason_zh, severity))

    def add_error(self, positions: Positions, column: str, values: Values, err: ValidationError) -> None:
        """Reject the rows at ``positions`` with the reasons of ``err``."""
        self.add(positions, column, values, err.reason, err.reason_zh)

    def note(self, reason: str, reason_zh: str, *, column: str | None = None, severity: Severity = "warning") -> None:
        """A file-level issue (no row)."""
        header = self.headers.get(column) if column else None
        self.file_level.append(Issue(None, column, header, None, reason, reason_zh, severity))

    def issues(self) -> list[Issue]:
        """File-level issues first, then row issues by row position in the order they were found."""
        ordered = sorted(self.items, key=lambda item: (item[0], item[1]))
        out = list(self.file_level)
        for pos, _, column, value, reason, reason_zh, severity in ordered:
            header = self.headers.get(column) if column else None
            out.append(Issue(int(self.rows[pos]), column, header, value, reason, reason_zh, severity))
        return out


class SubsetIssues(IssueCollector):
    """Issues for a subset of rows, reported against the full table's positions."""

    def __init__(self, parent: IssueCollector, positions: NDArray[np.int64]) -> None:
        self.parent = parent
        self.positions = positions

    def add(self, positions: Positions, column: str | None, values: Values,
            reason: str, reason_zh: str, *, severity: Severity = "reject") -> None:
        """Record on the parent, at the full table's positions."""
        self.parent.add(self.positions[np.asarray(positions, dtype=np.int64)], column, values, reason, reason_zh,
                        severity=severity)
