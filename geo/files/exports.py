"""Export files: a result's tables and features as CSV, XLSX, GeoJSON or GeoPackage.

Every download of the platform (the veto's verdicts and audit, the border tables, …) is
one :class:`Export` — named tables, the features they describe and what they were
computed from — written by :func:`export` in one of :data:`FORMATS`:

* ``csv``: the first table, UTF-8 with a byte-order mark (so Excel reads the Chinese
  text), a header row, no index column.
* ``xlsx``: every table as a sheet (header row frozen), then a sheet ``说明 about``
  holding the metadata, one key per row.
* ``geojson``: the features as a FeatureCollection (RFC 7946: WGS-84 lon/lat).
* ``gpkg``: the features as one GeoPackage layer in EPSG:4326, with the metadata as the
  layer's metadata.

A cell is written as a plain value: missing values (None, NaN, ``pd.NA``, ``NaT``) are
empty, numpy scalars become Python scalars, dicts and lists become JSON text.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.coords import WGS84
from geo.errors import BadInput

#: The export formats, each also the file suffix.
FORMATS: tuple[str, ...] = ("geojson", "csv", "xlsx", "gpkg")

#: Content type of each format.
MEDIA_TYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}

#: Features: a GeoDataFrame (any CRS; written in WGS-84) or a GeoJSON FeatureCollection (lon/lat).
Features: TypeAlias = gpd.GeoDataFrame | Mapping[str, Any]

_EMPTY_COLLECTION: dict[str, Any] = {"type": "FeatureCollection", "features": []}


@dataclass(frozen=True)
class Export:
    """What one export holds, whatever the format.

    ``layer``: the GeoPackage layer's name.  ``tables``: sheet title → table, in order;
    the first is the CSV file.  ``features``: the GeoJSON and GeoPackage content.
    ``meta``: the XLSX ``说明 about`` sheet and the GeoPackage layer's metadata.
    """

    layer: str
    tables: Mapping[str, pd.DataFrame]
    features: Features | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def check_format(fmt: str) -> str:
    """``fmt`` in lower case; :class:`geo.errors.BadInput` naming it unless one of :data:`FORMATS`."""
    key = fmt.lower()
    if key not in FORMATS:
        raise BadInput(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return key


def format_of(path: Path | str) -> str:
    """The format a file name's suffix names (``out.xlsx`` → ``xlsx``); :class:`geo.errors.BadInput`
    naming the file for any other suffix."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise BadInput(f"{path}: suffix must be one of .{', .'.join(FORMATS)}")
    return fmt


def file_name(stem: str, fmt: str) -> str:
    """The download's file name: ``stem`` and the format as suffix."""
    return f"{stem}.{check_format(fmt)}"


def plain_value(value: Any) -> Any:
    """``value`` as a plain Python value: None for every kind of missing, numpy scalars as Python ones."""
    value = value.item() if isinstance(value, np.generic) else value
    missing = value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))
    return None if missing else value


def cell_value(value: Any) -> Any:
    """``value`` as one spreadsheet cell: :func:`plain_value`, with dicts and lists as JSON text."""
    value = plain_value(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def export(data: Export, fmt: str) -> bytes:
    """``data`` as a file in ``fmt`` (one of :data:`FORMATS`, any case); BadInput otherwise."""
    match check_format(fmt):
        case "csv":
            return write_csv(next(iter(data.tables.values())))
        case "xlsx":
            return write_xlsx(data.tables, meta=data.meta)
        case "geojson":
            return write_geojson(data.features)
        case _:  # gpkg
            return write_gpkg(data.features, layer=data.layer, meta=data.meta)


def write_csv(table: pd.DataFrame) -> bytes:
    """``table`` as CSV: UTF-8 with a byte-order mark, a header row, no index column."""
    plain = table.copy()
    for i, dtype in enumerate(table.dtypes):
        if pd.api.types.is_object_dtype(dtype):  # typed columns are pandas' to write: an Int64 3 stays "3"
            plain.isetitem(i, pd.Series([cell_value(v) for v in table.iloc[:, i]], index=table.index, dtype=object))
    return plain.to_csv(index=False).encode("utf-8-sig")


def write_xlsx(tables: Mapping[str, pd.DataFrame], *, meta: Mapping[str, Any]) -> bytes:
    """Each of ``tables`` as a sheet named by its title (cut to Excel's 31 characters), with
    the header row frozen, then a sheet ``说明 about`` with one row per ``meta`` key."""
    from openpyxl import Workbook  # imported when asked for: most requests write no spreadsheet

    book = Workbook()
    for i, (title, table) in enumerate(tables.items()):
        sheet = book.active if i == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = title[:31]
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            sheet.append([cell_value(v) for v in row])
        sheet.freeze_panes = "A2"
    about = book.create_sheet("说明 about")
    for key, value in meta.items():
        about.append([key, cell_value(value)])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def write_geojson(features: Features | None) -> bytes:
    """``features`` as a GeoJSON FeatureCollection (UTF-8, non-ASCII text as is); a
    GeoDataFrame is written in WGS-84 without feature ids, a FeatureCollection as given."""
    if isinstance(features, gpd.GeoDataFrame):
        return _in_wgs84(features).to_json(ensure_ascii=False, drop_id=True).encode("utf-8")
    return json.dumps(features or _EMPTY_COLLECTION, ensure_ascii=False).encode("utf-8")


def write_gpkg(features: Features | None, *, layer: str, meta: Mapping[str, Any]) -> bytes:
    """``features`` as the GeoPackage layer ``layer`` in EPSG:4326: numbers, booleans and
    text keep their types, dicts and lists are JSON text; ``meta`` becomes the layer's
    metadata (text values as they are, others as JSON)."""
    frame = _feature_frame(features)
    metadata = {str(k): v if isinstance(v, str) else json.dumps(plain_value(v), ensure_ascii=False, default=str)
                for k, v in meta.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", layer_metadata=metadata or None)
        return path.read_bytes()


def _in_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ValueError("features without a CRS cannot be exported")
    return frame if frame.crs.equals(WGS84) else frame.to_crs(WGS84)


def _feature_frame(features: Features | None) -> gpd.GeoDataFrame:
    """``features`` as a WGS-84 GeoDataFrame with columns a GeoPackage can hold."""
    if isinstance(features, gpd.GeoDataFrame):
        frame = _in_wgs84(features)
    else:
        collection = features or _EMPTY_COLLECTION
        frame = gpd.GeoDataFrame.from_features(collection["features"], crs=WGS84)
    columns = {name: _gpkg_column(frame[name]) for name in frame.columns if name != frame.geometry.name}
    return gpd.GeoDataFrame(columns, geometry=frame.geometry.values, crs=WGS84)


def _gpkg_column(values: pd.Series) -> pd.Series:
    """A column GeoPackage can hold: booleans and integers with gaps as nullable types,
    floats with gaps as floats, anything else mixed as text (dicts and lists as JSON)."""
    if not pd.api.types.is_object_dtype(values.dtype):
        return values
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "boolean":
        return values.astype("boolean")
    if kind == "integer":
        return values.astype("Int64")
    if kind in ("floating", "mixed-integer-float"):
        return pd.to_numeric(values).astype("float64")
    return values.map(_text)


def _text(value: Any) -> str | None:
    value = cell_value(value)
    return value if value is None or isinstance(value, str) else str(value)
