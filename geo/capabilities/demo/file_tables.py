"""From the synthetic true values to the tables of the files a bureau hands over.

A generator's table holds true values (WGS-84 ``lon``/``lat``, clean cells); a
:class:`FileLayout` says how one file shows them — Chinese headers, the coordinate
datum (one for the file, or a 坐标系 column per row), the address-only share, the
dirty-row rates, the encoding.  :func:`bureau_file` turns one into a :class:`DemoFile`:
the cells as written, 合成数据 = 是 in every row (the data is synthetic), the dirty
rows planted, and what the loader should make of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.capabilities.demo.cells import SYNTHETIC_COLUMN, format_coords, table, to_datum
from geo.capabilities.demo.dirty import DIRTY_OUTCOMES, DirtyTarget, DuplicateChange, plant_dirty
from geo.capabilities.demo.sampling import choice
from geo.etl.values import level_from_ls, normalise_level

FileFormat = Literal["csv", "xlsx", "geojson"]
#: The per-row datum column of a file without one datum, and its values' shares and labels.
DATUM_COLUMN = "坐标系"
_ROW_DATUM_SHARES = {"wgs84": 0.55, "gcj02": 0.30, "bd09": 0.10, "cgcs2000": 0.05}
_DATUM_LABELS = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}


@dataclass(frozen=True)
class FileLayout:
    """How one demo file is laid out and handed over.

    ``headers``: canonical column → Chinese header, in file order; ``datum``: the
    coordinates' datum (the loader's ``--datum``), or None for a 坐标系 column per row;
    ``address_only``: share of rows without coordinates; ``rates``: dirty-row reason →
    share of rows (*assumptions*); ``name_col``: the header emptied by ``missing_name``;
    ``duplicate_change``: how a duplicated row differs; ``title``/``sheet``: a title row
    above the header and the sheet name (spreadsheets); ``vocabulary``: header → the
    Chinese values of an enumerated column and what they mean.
    """

    name: str
    kind: str
    headers: dict[str, str]
    datum: str | None
    description: str
    lon: str = "经度"
    lat: str = "纬度"
    address_only: float = 0.0
    fmt: FileFormat = "csv"
    encoding: str | None = "utf-8"
    rates: dict[str, float] = field(default_factory=dict)
    name_col: str | None = None
    duplicate_change: DuplicateChange | None = None
    title: str | None = None
    sheet: str | None = None
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class DemoFile:
    """One input file as a bureau would hand it over.

    ``frame`` holds the cells under the file's own (Chinese) headers, in file order;
    for GeoJSON it is a GeoDataFrame in WGS-84.  ``datum`` is the ``--datum`` to pass
    to the loader, or None when ``datum_column`` states it per row.  ``dirty`` counts
    the planted problems by reason (see :data:`DIRTY_OUTCOMES`); ``address_only`` the
    rows without coordinates (the loader geocodes them); ``dirty_reasons`` the reason
    of every row ("" for a clean one); ``warnings`` what the loader should warn about in
    rows that are otherwise clean (an assessor's level that differs from L × S).
    """

    name: str
    kind: str
    format: FileFormat
    encoding: str | None
    datum: str | None
    frame: pd.DataFrame
    description: str
    datum_column: str | None = None
    dirty: dict[str, int] = field(default_factory=dict)
    address_only: int = 0
    title: str | None = None  # a title row above the header (spreadsheets)
    sheet: str | None = None
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)
    dirty_reasons: NDArray[np.object_] | None = None
    warnings: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def first_row(self) -> int:
        """The row number the loader gives the first record: CSV 2 (after the header),
        XLSX 2 or 3 (after a title row), GeoJSON 1 (features count from 1)."""
        if self.format == "geojson":
            return 1
        return 3 if self.title else 2

    def dirty_rows_at(self) -> dict[str, list[int]]:
        """Reason → the file row numbers (as the loader reports them) of the planted rows."""
        if self.dirty_reasons is None:
            return {}
        out: dict[str, list[int]] = {}
        for position, reason in enumerate(self.dirty_reasons.tolist()):
            if reason:
                out.setdefault(reason, []).append(position + self.first_row)
        return out

    @property
    def expected_rejected(self) -> int:
        return sum(n for reason, n in self.dirty.items() if DIRTY_OUTCOMES[reason] == "rejected")


def bureau_file(
    rng: np.random.Generator, layout: FileLayout, true: pd.DataFrame, *, district_names: list[str]
) -> DemoFile:
    """The file ``layout`` describes, from the true values ``true``, with its dirty rows
    planted (``district_names``: the Beijing districts a ``district_mismatch`` picks from)."""
    frame, address_only = file_frame(rng, true, layout)
    target = DirtyTarget(
        lon=layout.lon,
        lat=layout.lat,
        datum=layout.datum or "wgs84",
        name_col=layout.name_col,
        district_names=district_names,
    )
    frame, dirty, reasons = plant_dirty(
        rng, frame, layout.rates, address_only=address_only, target=target, duplicate_change=layout.duplicate_change
    )
    return DemoFile(
        name=layout.name,
        kind=layout.kind,
        format=layout.fmt,
        encoding=layout.encoding,
        datum=layout.datum,
        datum_column=DATUM_COLUMN if layout.datum is None else None,
        frame=frame,
        description=layout.description,
        dirty=dirty,
        address_only=int(address_only.sum()),
        title=layout.title,
        sheet=layout.sheet,
        vocabulary=layout.vocabulary,
        dirty_reasons=reasons,
        warnings=ls_warnings(frame, reasons),
    )


def file_frame(
    rng: np.random.Generator, true: pd.DataFrame, layout: FileLayout
) -> tuple[pd.DataFrame, NDArray[np.bool_]]:
    """The file table: Chinese headers, coordinates in the file's datum as text, 合成数据 = 是.

    Returns the table and a mask of the address-only rows.
    """
    n = len(true)
    lon = true["lon"].to_numpy(dtype=float)
    lat = true["lat"].to_numpy(dtype=float)
    address_only = rng.random(n) < layout.address_only if layout.address_only else np.zeros(n, dtype=bool)
    columns: dict[str, object] = {zh: true[col].to_numpy() for col, zh in layout.headers.items()}
    if layout.datum is None:
        datum = choice(rng, list(_ROW_DATUM_SHARES), list(_ROW_DATUM_SHARES.values()), n)
        x, y = lon.copy(), lat.copy()
        for d in ("gcj02", "bd09"):
            idx = np.flatnonzero(datum == d)
            x[idx], y[idx] = to_datum(lon[idx], lat[idx], d)
        datum_text = np.asarray([_DATUM_LABELS[d] for d in datum], dtype=object)
        datum_text[address_only] = ""
    else:
        x, y = to_datum(lon, lat, layout.datum)
    x[address_only], y[address_only] = np.nan, np.nan
    columns[layout.lon], columns[layout.lat] = format_coords(x, y)
    if layout.datum is None:
        columns[DATUM_COLUMN] = datum_text
    columns[SYNTHETIC_COLUMN] = "是"
    return table(columns), address_only


def ls_warnings(frame: pd.DataFrame, reasons: NDArray[np.object_]) -> dict[str, int]:
    """Clean rows whose stated level differs from L × S (the loader keeps the stated one and warns)."""
    if not {"风险等级", "可能性L", "严重性S"} <= set(frame.columns):
        return {}
    clean = (reasons == "") & (frame["可能性L"] != "").to_numpy()
    differs = sum(
        level_from_ls(lk, sv) != normalise_level(lv)
        for lk, sv, lv in zip(frame["可能性L"][clean], frame["严重性S"][clean], frame["风险等级"][clean], strict=True)
    )
    return {"level_differs_from_ls": int(differs)}
