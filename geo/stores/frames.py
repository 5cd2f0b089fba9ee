"""Row preparation and result normalisation shared by both stores.

Both stores write the same prepared values and return frames normalised the same
way, which is what makes their answers comparable row for row:

* text -> ``object`` (str or None); int -> ``Int64``; float -> ``float64``;
  bool -> ``boolean``; date -> ``object`` ISO ``YYYY-MM-DD`` strings or None.
* geometry -> shapely, CRS EPSG:4326; ``row_hash`` is a SHA-1 over every column
  but ``batch_id`` and ``row_hash`` plus the geometry's WKB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from geopandas.array import from_shapely

from geo.coords import STORAGE_CRS
from geo.entities import Column, Entity
from geo.errors import BadInput
from geo.scope import ANY_OF
from geo.stores.bounds import check_text, check_where_values

#: Columns the stores fill in themselves; callers need not supply them.
STORE_MANAGED = ("batch_id", "row_hash")


def date_text(value: Any) -> str | None:
    """A date (date, datetime, Timestamp or text) as ISO ``YYYY-MM-DD``; None when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return date.fromisoformat(text[:10]).isoformat() if text else None


def normalise_column(series: pd.Series, column: Column) -> pd.Series:
    """Coerce one column to the canonical dtype of its declared type."""
    if column.type == "int":
        return pd.to_numeric(series, errors="raise").astype("Int64")
    if column.type == "float":
        return pd.to_numeric(series, errors="raise").astype("float64")
    if column.type == "bool":
        return series.astype("boolean")
    if column.type == "date":
        return pd.Series([date_text(v) for v in series], index=series.index, dtype=object)
    missing = series.isna().to_numpy()
    values = series.to_numpy(dtype=object, na_value=None, copy=True)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):  # numbers etc. -> text
        values = np.array([v if v is None or isinstance(v, str) else str(v) for v in values], dtype=object)
    values[missing] = None
    return pd.Series(values, index=series.index, dtype=object)


def _typed(values: Sequence[Any], column: Column) -> Any:
    """Driver values of one declared type (None for missing) -> the canonical array."""
    if column.type == "int":
        return pd.array(values, dtype="Int64")
    if column.type == "float":
        return _floats(values)
    if column.type == "bool":
        return pd.array(values, dtype="boolean")
    if column.type == "date":
        return pd.Series([date_text(v) for v in values], dtype=object)
    return pd.Series(values, dtype=object)  # not pandas' inferred string dtype


def typed_columns(entity: Entity, data: Mapping[str, Sequence[Any]], *, extra: Sequence[str] = (),
                  columns: Sequence[str] | None = None) -> dict[str, Any]:
    """The columns :func:`normalise_frame` gives (geometry aside), built straight from a
    database driver's typed column values (ints, floats, bools, dates, str or None) — no
    per-value checks.  ``extra`` columns are floats."""
    out: dict[str, Any] = {c.name: _typed(data[c.name], c) for c in select_columns(entity, columns)}
    for name in extra:
        out[name] = _floats(data[name])
    return out


def typed_frame(entity: Entity, data: Mapping[str, Sequence[Any]], geometry: np.ndarray, *,
                extra: Sequence[str] = (), columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """:func:`typed_columns` with their geometry, as a WGS-84 GeoDataFrame."""
    return geo_frame(typed_columns(entity, data, extra=extra, columns=columns), geometry)


def point_frame(columns: Mapping[str, Any], lon: Any, lat: Any) -> pd.DataFrame:
    """What :meth:`geo.stores.protocol.Store.read_points` returns: ``columns`` plus float
    ``lon``/``lat`` (WGS-84 degrees)."""
    return pd.DataFrame({**columns, "lon": np.asarray(lon, dtype=float), "lat": np.asarray(lat, dtype=float)})


def check_point_layer(entity: Entity) -> None:
    """Raise ValueError unless ``entity`` is a point layer (``read_points`` needs one)."""
    if entity.geometry_type != "Point":
        raise ValueError(f"{entity.kind}: read_points needs a point layer, not {entity.geometry_type}")


def _floats(values: Sequence[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype="float64")


_STORAGE_CRS = pyproj.CRS.from_user_input(STORAGE_CRS)


def geo_frame(columns: Mapping[str, Any], geometry: Any) -> gpd.GeoDataFrame:
    """A WGS-84 GeoDataFrame of ``columns`` and ``geometry`` (shapely array), built the
    cheap way (a CRS parsed once; 1 ms rather than 3 for small frames)."""
    return gpd.GeoDataFrame({**columns, "geometry": from_shapely(np.asarray(geometry), crs=_STORAGE_CRS)},
                            geometry="geometry")


def select_columns(entity: Entity, columns: Sequence[str] | None) -> tuple[Column, ...]:
    """The entity's columns to return: all, or ``key`` plus ``columns`` (validated), in canonical order."""
    if columns is None:
        return entity.all_columns
    wanted = {"key", *columns}
    for name in wanted:
        entity.column(name)
    return tuple(c for c in entity.all_columns if c.name in wanted)


def normalise_frame(entity: Entity, frame: pd.DataFrame, *, extra: Sequence[str] = (),
                    columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Select the entity's columns (or ``key`` + ``columns``), plus float ``extra`` columns,
    in canonical order and dtypes."""
    data: dict[str, pd.Series] = {}
    for column in select_columns(entity, columns):
        series = frame[column.name] if column.name in frame else pd.Series([None] * len(frame), index=frame.index)
        data[column.name] = normalise_column(series, column)
    for name in extra:  # extras are computed measures (e.g. distance_m): always float64
        data[name] = pd.to_numeric(frame[name]).astype("float64")
    geometry = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame["geometry"]
    return geo_frame({k: v.reset_index(drop=True) for k, v in data.items()}, geometry)


def prepare_rows(entity: Entity, features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Validate and normalise a batch for writing; fills ``row_hash``.

    Raises ValueError when a key is missing, the CRS is not WGS-84 or a geometry is
    missing or empty.
    """
    if features.crs is None or not features.crs.equals(STORAGE_CRS):
        raise BadInput(f"{entity.kind}: features must be in {STORAGE_CRS}, got {features.crs}")
    if "key" not in features or features["key"].isna().any():
        raise BadInput(f"{entity.kind}: every row needs a 'key'")
    geoms = features.geometry.values
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise BadInput(f"{entity.kind}: {int(bad.sum())} rows without geometry")
    rows = normalise_frame(entity, features)
    for column in entity.all_columns:
        if column.type == "text":
            nul = rows[column.name].str.contains("\x00", regex=False, na=False).to_numpy(dtype=bool)
            if nul.any():
                i = int(np.argmax(nul))
                check_text(f"{entity.kind} {rows['key'].iloc[i]!r} {column.name}", rows[column.name].iloc[i])
    rows = rows.set_geometry(conform_geometries(entity, rows.geometry.values))
    rows["row_hash"] = hash_rows(entity, rows)
    return rows


_SINGLE_TO_MULTI = {"Polygon": shapely.MultiPolygon, "LineString": shapely.MultiLineString}


def conform_geometries(entity: Entity, geoms: np.ndarray) -> np.ndarray:
    """Promote single parts to the entity's Multi* type; reject other geometry types."""
    if entity.geometry_type == "Geometry":
        return geoms
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        kind = g.geom_type
        if kind != entity.geometry_type and _SINGLE_TO_MULTI.get(kind, type(None)).__name__ == entity.geometry_type:
            g = _SINGLE_TO_MULTI[kind]([g])
        elif kind != entity.geometry_type:
            raise BadInput(f"{entity.kind}: expected {entity.geometry_type} geometries, got {kind}")
        out[i] = g
    return out


def hash_rows(entity: Entity, rows: gpd.GeoDataFrame) -> list[str]:
    """Content hash per row: SHA-1 of the WKB and the repr of the tuple of every column
    but the store-managed ones (as plain Python values, None for missing)."""
    names = [c.name for c in entity.all_columns if c.name not in STORE_MANAGED]
    wkb = shapely.to_wkb(rows.geometry.values, byte_order=1, output_dimension=2)
    values = zip(*(python_list(rows[n]) for n in names), strict=True)
    return [hashlib.sha1(geom + repr(v).encode()).hexdigest() for geom, v in zip(wkb, values, strict=True)]


def python_list(series: pd.Series) -> list[Any]:
    """A column as plain Python values, None for every kind of missing."""
    return series.to_numpy(dtype=object, na_value=None).tolist()


def python_value(value: Any) -> Any:
    """A plain Python value (None for every kind of missing) for DB drivers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def records(entity: Entity, rows: gpd.GeoDataFrame) -> list[tuple[Any, ...]]:
    """Rows as tuples of Python values in ``entity.column_names`` order (geometry excluded)."""
    return list(zip(*(python_list(rows[name]) for name in entity.column_names), strict=True))


def check_where(entity: Entity, where: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate a ``where`` filter against the entity's columns (raises UnknownColumnError)
    and its text values (BadInput for a NUL character, see :mod:`geo.stores.bounds`); its
    :data:`geo.scope.ANY_OF` value must be a list of filters without one (ValueError)."""
    if not where:
        return {}
    for name, value in where.items():
        if name != ANY_OF:
            entity.column(name)
            continue
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
            raise ValueError(f"where[{ANY_OF!r}] must be a list of filters, got {type(value).__name__}")
        for alternative in value:
            if not isinstance(alternative, Mapping) or ANY_OF in alternative:
                raise ValueError(f"where[{ANY_OF!r}]: each filter is a mapping of columns without {ANY_OF!r}")
            check_where(entity, alternative)
    check_where_values(where)
    return dict(where)


def where_columns(where: Mapping[str, Any]) -> list[str]:
    """The columns a checked ``where`` reads, its :data:`geo.scope.ANY_OF` filters' included."""
    names = [n for n in where if n != ANY_OF]
    for alternative in where.get(ANY_OF, ()):
        names.extend(alternative)
    return list(dict.fromkeys(names))


def canonical_where(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """``where`` with its keys sorted and each list of values sorted (the filters under
    :data:`geo.scope.ANY_OF` kept in their order): the form a kept answer is keyed by."""
    out: dict[str, Any] = {}
    for k, v in sorted((where or {}).items()):
        if k == ANY_OF:
            out[k] = [canonical_where(alternative) for alternative in v]
        else:
            out[k] = sorted(v) if isinstance(v, list | tuple | set | frozenset) else v
    return out


def filter_frame(frame: pd.DataFrame, where: Mapping[str, Any]) -> np.ndarray:
    """Boolean mask of rows matching ``where`` (value, list of values, or None; the filters
    under :data:`geo.scope.ANY_OF`: any one of them)."""
    mask = np.ones(len(frame), dtype=bool)
    for name, value in where.items():
        if name == ANY_OF:
            either = np.zeros(len(frame), dtype=bool)
            for alternative in value:
                either |= filter_frame(frame, alternative)
            mask &= either
            continue
        col = frame[name]
        if value is None:
            mask &= col.isna().to_numpy()
        elif isinstance(value, list | tuple | set | frozenset):
            mask &= col.isin(list(value)).fillna(False).to_numpy(dtype=bool)
        else:
            mask &= (col == value).fillna(False).to_numpy(dtype=bool)
    return mask


def order_counts(out: pd.DataFrame, *, grouped: bool, summed: bool) -> pd.DataFrame:
    """Canonical column order, dtypes and row order of ``count_per_polygon``."""
    cols = ["polygon_key", *(["group"] if grouped else []), "count", *(["sum"] if summed else [])]
    out = out[cols].copy()
    out["count"] = out["count"].astype("int64")
    if summed:
        out["sum"] = out["sum"].astype("float64")
    sort_cols = ["polygon_key", *(["group"] if grouped else [])]
    if grouped:
        out["group"] = out["group"].astype(object).where(out["group"].notna(), None)
        out["_g"] = out["group"].map(lambda v: (v is None, "" if v is None else str(v)))
        out = out.sort_values(["polygon_key", "_g"], kind="stable").drop(columns="_g")
    else:
        out = out.sort_values(sort_cols, kind="stable")
    return out.reset_index(drop=True)


def point_records(frame: gpd.GeoDataFrame, fields: Sequence[str]) -> list[dict[str, Any]]:
    """Rows with a ``distance_m`` column as plain dicts: ``fields``, ``lon``/``lat`` of a
    point on each geometry's surface (WGS-84) and ``distance_m``."""
    points = shapely.point_on_surface(frame.geometry.values)
    columns = [python_list(frame[f]) for f in fields]
    return [
        {**{f: col[n] for f, col in zip(fields, columns, strict=True)},
         "lon": float(x), "lat": float(y), "distance_m": float(d)}
        for n, (x, y, d) in enumerate(zip(shapely.get_x(points), shapely.get_y(points),
                                          frame["distance_m"].to_numpy(dtype=float), strict=True))
    ]
