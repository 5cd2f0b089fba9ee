"""Read the files a bureau hands over into one raw table shape.

Every reader returns a :class:`RawTable`: the cells as text (``str``, or ``None``
for an empty cell) under the file's own headers, the 1-based row number of every
record *as a user would find it in the file*, and — for spatial formats — one
shapely geometry per row with its CRS.  Nothing is validated here: that is
:mod:`geo.etl`'s job, which reports problems by these row numbers.

Row numbers:

* CSV and XLSX: the spreadsheet row (the header is row 1 when it is the first row,
  so the first record is row 2; title rows above the header count too).  A quoted
  CSV value spanning lines counts as one row, as Excel shows it.
* GeoJSON, GeoPackage, Shapefile: the feature's position in the layer, from 1.

CSV encodings are detected by trying *strict* decodes in the order UTF-8 with BOM,
UTF-8, GBK, GB18030 (and UTF-16 when the file starts with its BOM, as Excel's
"Unicode text" export does); a file none of them decodes is refused with the byte
offset, never read with replacement characters.  A UTF-8 file with some rows in
another encoding (a GBK row pasted in) keeps the rows that decode: each row that does
not is in ``RawTable.rejects`` (row, column, the bytes, their GBK reading), never
loaded.  Blank records are dropped (their row numbers are simply absent); a file with
a header and no records is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.errors import BadInput
from geo.etl.headers import HEADER_ALIASES, normalise_header
from geo.etl.issues import Issue

#: Encodings tried, in order, on CSV files (the first strict decode that succeeds wins).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "utf-8", "gbk", "gb18030")
#: File suffixes each reader handles (lower case).
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SPATIAL_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
#: How many leading rows of a spreadsheet are searched for the header row.
HEADER_SEARCH_ROWS = 10


class ReadError(BadInput):
    """A file that cannot be read at all (format, encoding, empty, no layer); one line."""


@dataclass
class RawTable:
    """A file's records as text cells.

    ``frame`` has one column per file header (headers as text, in file order) and
    ``str``/``None`` cells; ``rows`` the 1-based source row number of each record;
    ``geometry`` one shapely geometry (or None) per record for spatial formats, in
    ``crs`` (an authority string such as "EPSG:4326", or WKT) — None otherwise;
    ``rejects`` the records that could not be read (not in ``frame``), one issue each.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    format: str
    encoding: str | None = None
    geometry: np.ndarray | None = None
    crs: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    rejects: list[Issue] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)


# ------------------------------------------------------------------------ cells as text


def cell_text(value: Any) -> str | None:
    """A cell value as text: ``None`` for empty; whole floats without ".0"; dates as ISO.

    Numbers keep their full precision (``repr``), so a coordinate read from Excel
    as 116.40123456 stays exactly that; booleans become "true"/"false".
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        return text or None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        if number.is_integer() and abs(number) < 1e16:
            return str(int(number))
        return repr(number)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.datetime64):
        return cell_text(pd.Timestamp(value).to_pydatetime())
    text = str(value).strip()
    return text or None


def _text_frame(columns: Sequence[str], records: Sequence[Sequence[Any]]) -> pd.DataFrame:
    width = len(columns)
    data = {i: [cell_text(r[i]) if i < len(r) else None for r in records] for i in range(width)}
    frame = pd.DataFrame(data, dtype=object)
    frame.columns = list(columns)
    return frame


def _unique_headers(headers: Sequence[Any]) -> list[str]:
    """Header text, with empty headers named 列N and repeats suffixed (地址, 地址.2)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(headers, start=1):
        name = cell_text(h) or f"列{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def find_header_row(records: Sequence[Sequence[Any]], kind: str | None) -> int:
    """Index (0-based) of the header among the first rows: the first row matching at least
    two known headers of ``kind`` (a title row such as "2018年风险源台账" is skipped);
    the first non-empty row when none does or ``kind`` is None."""
    first = next((i for i, r in enumerate(records) if any(cell_text(v) for v in r)), 0)
    if kind is None or kind not in HEADER_ALIASES:
        return first
    aliases = HEADER_ALIASES[kind]
    for i, record in enumerate(records[:HEADER_SEARCH_ROWS]):
        hits = sum(1 for v in record if (t := cell_text(v)) and normalise_header(t) in aliases)
        if hits >= 2:
            return i
    return first


def _table_from_records(
    records: list[list[Any]], *, kind: str | None, fmt: str, encoding: str | None = None, sheet: str | None = None,
    undecoded: bool = False,
) -> RawTable:
    """The table under the header row; ``undecoded``: the text holds bytes kept undecoded
    (see :func:`decode_text`), whose records become ``rejects``."""
    if not records:
        raise ReadError("the file has no rows")
    header_at = find_header_row(records, kind)
    if undecoded and any(_undecoded(cell_text(v)) for v in records[header_at]):
        raise ReadError(f"the header row (row {header_at + 1}) is not {encoding}: save the file as UTF-8")
    headers = _unique_headers(records[header_at])
    body = records[header_at + 1 :]
    frame = _text_frame(headers, body)
    rows = np.arange(header_at + 2, header_at + 2 + len(body), dtype=np.int64)
    keep = frame.notna().any(axis=1).to_numpy() if len(frame.columns) else np.zeros(len(frame), dtype=bool)
    if not keep.any():
        raise ReadError(f"the file has a header row (row {header_at + 1}) but no records below it")
    rejects, bad = _undecodable_rows(frame, rows, encoding) if undecoded else ([], np.zeros(len(frame), bool))
    keep = keep & ~bad
    frame = frame[keep].reset_index(drop=True)
    return RawTable(frame=frame, rows=rows[keep], format=fmt, encoding=encoding, sheet=sheet, rejects=rejects)


_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes kept by errors="surrogateescape"


def _undecoded(text: str | None) -> bool:
    return text is not None and _UNDECODED.search(text) is not None


def _undecodable_rows(frame: pd.DataFrame, rows: np.ndarray, encoding: str | None
                      ) -> tuple[list[Issue], np.ndarray]:
    """One reject per record holding bytes that are not ``encoding`` (at its first such cell,
    showing the bytes and their GBK reading), and which records those are."""
    bad = np.zeros(len(frame), dtype=bool)
    rejects: list[Issue] = []
    for i, record in enumerate(frame.itertuples(index=False)):
        header = next((h for h, v in zip(frame.columns, record, strict=True) if _undecoded(v)), None)
        if header is None:
            continue
        raw = str(frame.at[i, header]).encode("utf-8", "surrogateescape")
        shown = "".join(chr(b) if b < 0x80 else f"\\x{b:02x}" for b in raw)  # the bytes as they are
        gbk = raw.decode("gb18030", "replace")
        bad[i] = True
        rejects.append(Issue(int(rows[i]), None, str(header), shown,
                             f"this row is not {encoding} like the rest of the file (read as GBK: {gbk!r});"
                             " the row is not loaded: save the whole file as UTF-8",
                             f"该行编码不是{encoding}（按GBK读作“{gbk}”），未导入；请将整个文件另存为UTF-8", "reject"))
    return rejects, bad


# ----------------------------------------------------------------------------------- CSV


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) for CSV bytes: the first of :data:`CSV_ENCODINGS` that decodes strictly.

    UTF-8 with BOM is reported as "utf-8-sig" only when the BOM is there; a UTF-16 BOM
    selects UTF-16.  A file that is UTF-8 but for some lines (:func:`_mostly_utf8`) is
    decoded as UTF-8 keeping the other bytes as lone surrogates (``surrogateescape``),
    so their rows can be reported and left out.  Raises :class:`ReadError` naming the
    first undecodable byte offset when none decodes.
    """
    errors: list[str] = []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16", errors="strict"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ReadError(f"the file starts with a UTF-16 BOM but fails to decode at byte {exc.start}") from None
    for encoding in CSV_ENCODINGS:
        if encoding == "utf-8-sig" and not data.startswith(codecs.BOM_UTF8):
            continue
        try:
            return data.decode(encoding, errors="strict"), encoding
        except UnicodeDecodeError as exc:
            errors.append(f"{encoding} fails at byte {exc.start}")
        if encoding == "utf-8" and _mostly_utf8(data):  # a UTF-8 file with some rows in another encoding
            utf8 = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
            return data.decode(utf8, errors="surrogateescape"), utf8
    raise ReadError("cannot decode the file as UTF-8, GBK or GB18030 (" + "; ".join(errors) + ")")


def _mostly_utf8(data: bytes) -> bool:
    """True when more lines with non-ASCII text are valid UTF-8 than are not (GBK text is
    almost never valid UTF-8, so such lines are UTF-8: the file is, but for some rows)."""
    good = bad = 0
    for line in data.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8", errors="strict")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    return good > bad


def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path, *, kind: str | None = None) -> RawTable:
    """A CSV (or tab-separated) file with its encoding detected; see the module docstring."""
    text, encoding = decode_text(Path(path).read_bytes())
    delimiter = _sniff_delimiter(text)
    # The csv module keeps quoted multi-line values as one record (one spreadsheet row),
    # and at ~1 µs per field is fast enough for the seed scale.
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not any(records):
        raise ReadError("the file is empty")
    return _table_from_records(records, kind=kind, fmt="csv", encoding=encoding,
                               undecoded=_UNDECODED.search(text) is not None)


# ---------------------------------------------------------------------------------- XLSX


def read_xlsx(path: Path, *, kind: str | None = None, sheet: str | None = None) -> RawTable:
    """The first worksheet with data (or ``sheet``) of an Excel workbook, values not formulas."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet is not None:
            if sheet not in book.sheetnames:
                raise ReadError(f"no worksheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
            names = [sheet]
        else:
            names = list(book.sheetnames)
        for name in names:
            records = [list(r) for r in book[name].iter_rows(values_only=True)]
            if any(any(v is not None for v in r) for r in records):
                return _table_from_records(records, kind=kind, fmt="xlsx", sheet=name)
    finally:
        book.close()
    raise ReadError("the workbook has no rows")


# ---------------------------------------------------------------- GeoJSON / GPKG / SHP


def _ogr_path(path: Path) -> str:
    """The path GDAL reads: zipped Shapefiles through /vsizip/, the rest as they are."""
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            shapefiles = [n for n in archive.namelist()
                          if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise ReadError(f"not a readable .zip ({exc})") from None
    if not shapefiles:
        raise ReadError("the .zip holds no .shp file")
    if len(shapefiles) > 1:
        raise ReadError(f"the .zip holds {len(shapefiles)} shapefiles; zip one per load: {', '.join(shapefiles)}")
    return f"/vsizip/{path}/{shapefiles[0]}"


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    parsed = CRS.from_user_input(crs)
    authority = parsed.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else parsed.to_wkt()


def read_spatial(path: Path, *, layer: str | None = None) -> RawTable:
    """A GeoJSON, GeoPackage or (zipped) Shapefile layer: attributes as text, geometries as read.

    A GeoPackage with several layers needs ``layer``.  Shapefile attribute encoding
    comes from the .cpg file (GDAL's rule), GBK included.  The CRS is reported as
    read; reprojection is the loader's business.
    """
    source = _ogr_path(Path(path))
    try:
        layers = pyogrio.list_layers(source)
    except pyogrio.errors.DataSourceError as exc:
        raise ReadError(f"not a readable spatial file ({str(exc).splitlines()[0]})") from None
    if layer is None:
        if len(layers) > 1:
            names = ", ".join(str(n) for n in layers[:, 0])
            raise ReadError(f"the file has {len(layers)} layers ({names}); name one")
        layer = str(layers[0, 0]) if len(layers) else None
    try:
        gdf = pyogrio.read_dataframe(source, layer=layer)
    except pyogrio.errors.DataSourceError as exc:
        raise ReadError(f"cannot read layer {layer!r} ({str(exc).splitlines()[0]})") from None
    except UnicodeDecodeError as exc:  # e.g. a .dbf field name cut inside a character (10 bytes at most)
        raise ReadError(f"field names or values are not valid {exc.encoding} ({exc.reason} at byte {exc.start}):"
                        " a Shapefile's field names hold 10 bytes, which cuts Chinese names; rename the fields,"
                        " or add a .cpg file naming the encoding") from None
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    headers = _unique_headers(columns)
    frame = pd.DataFrame(
        {h: [cell_text(v) for v in gdf[c].tolist()] for h, c in zip(headers, columns, strict=True)}, dtype=object
    )
    if frame.empty and len(gdf):
        frame = pd.DataFrame(index=range(len(gdf)))
    geometry = np.asarray(gdf.geometry.values, dtype=object)
    geometry[shapely.is_missing(geometry)] = None
    fmt = {".zip": "shapefile", ".shp": "shapefile", ".gpkg": "geopackage"}.get(Path(path).suffix.lower(), "geojson")
    return RawTable(
        frame=frame.reset_index(drop=True),
        rows=np.arange(1, len(gdf) + 1, dtype=np.int64),
        format=fmt,
        geometry=geometry,
        crs=_crs_text(gdf.crs),
    )


# ------------------------------------------------------------------------------ dispatch

Reader = Callable[[Path], RawTable]


def read_table(path: Path | str, *, kind: str | None = None) -> RawTable:
    """Read ``path`` by its suffix (.csv/.txt/.tsv, .xlsx, .geojson/.json, .gpkg, .zip/.shp).

    ``kind`` helps find the header row of spreadsheets that have title rows above it.
    Raises ``FileNotFoundError`` for a missing file and :class:`ReadError` for an
    unknown suffix or an unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, kind=kind)
    if suffix in XLSX_SUFFIXES:
        return read_xlsx(path, kind=kind)
    if suffix in SPATIAL_SUFFIXES:
        return read_spatial(path)
    known = ", ".join((*CSV_SUFFIXES, *XLSX_SUFFIXES, *SPATIAL_SUFFIXES))
    raise ReadError(f"unknown file type {suffix or '(none)'!r}; known: {known} (a .xls must be saved as .xlsx)")
