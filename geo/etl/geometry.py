"""Geometry of a table's rows: coordinates, datums and shapes, all ending in WGS-84 (EPSG:4326).

* point kinds take ``lon``/``lat`` columns (or point geometries of a spatial file);
  a per-row ``datum`` column (坐标系) overrides the file's datum, which defaults to WGS-84;
* lines, areas and parcels take the file's geometries or a ``wkt`` column, converted
  from the file's CRS and then from the stated datum to WGS-84;
* swapped lon/lat (:func:`geo.coords.detect_swapped`) are swapped back with a warning;
* anything outside the Jing-Jin-Ji box (:data:`geo.coords.JJJ_BBOX`) is rejected.

CGCS2000 is taken as WGS-84 (they differ by centimetres); GCJ-02 and BD-09 are converted
with :func:`geo.coords.convert`.  Rows with a problem are rejected through the
:class:`geo.etl.issues.IssueCollector` passed in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from geo import coords
from geo.coords import STORAGE_CRS
from geo.entities import Entity
from geo.etl.issues import IssueCollector, SubsetIssues
from geo.etl.parsing import apply_parser
from geo.etl.values import normalise_datum, parse_coordinate

#: ``Entity.geometry_type`` of the point kinds (coordinates or an address to geocode).
POINT_GEOMETRY_TYPE = "Point"
#: Datums taken as WGS-84 as they are (CGCS2000 differs by centimetres).
_AS_WGS84 = ("wgs84", "cgcs2000")
#: Geometry types accepted per ``Entity.geometry_type`` (others accept only their own).
_GEOMETRY_TYPES: dict[str, tuple[str, ...]] = {
    "MultiLineString": ("LineString", "MultiLineString"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
    "Geometry": ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"),
}
#: shapely type ids → names.
_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
                        "MultiPolygon", "GeometryCollection"], dtype=object)
_JJJ_TEXT = "outside Jing-Jin-Ji (113.4–119.9°E, 36.0–42.7°N)"
_JJJ_TEXT_ZH = "坐标不在京津冀范围内（东经113.4–119.9°，北纬36.0–42.7°）"
_SWAPPED_TEXT = "longitude and latitude were swapped; swapped back"
_SWAPPED_TEXT_ZH = "经纬度填反，已自动更正"


# ------------------------------------------------------------------------------- datums


def datum_per_row(
    cells: pd.DataFrame, n: int, default: str, issues: IssueCollector
) -> NDArray[np.object_]:
    """Datum code per row: the row's 坐标系 when given and known, else ``default``."""
    datums = np.full(n, default, dtype=object)
    if "datum" in cells:
        parsed = apply_parser(cells, "datum", normalise_datum, issues)
        given = np.array([v is not None for v in parsed], dtype=bool)
        datums[given] = parsed[given]
    return datums


def geometry_transformer(crs: str | None) -> Transformer | None:
    """A transformer from ``crs`` to WGS-84 lon/lat, or None when it already is (or CGCS2000)."""
    if crs is None:
        return None
    source = CRS.from_user_input(crs)
    if source.is_geographic and (
        source.to_epsg() in (4326, 4490) or source.equals(CRS.from_epsg(4326), ignore_axis_order=True)
    ):
        return None
    return Transformer.from_crs(source, STORAGE_CRS, always_xy=True)


# ------------------------------------------------------------------ a file without CRS

#: Projected CRSs a bureau's file from Jing-Jin-Ji is likely to be in, the likeliest first:
#: CGCS2000 3-degree Gauss-Krüger zones CM 117°E (Beijing), 114°E and 120°E, without and
#: with the zone number before the easting, then UTM zone 50N (WGS 84).
PROJECTED_CANDIDATES: tuple[str, ...] = ("EPSG:4548", "EPSG:4547", "EPSG:4549", "EPSG:4527", "EPSG:4526",
                                         "EPSG:4528", "EPSG:32650")


def projected_sample(geometry: NDArray[np.object_]) -> NDArray[np.float64]:
    """Coordinates of the file's geometries (up to 1,000 vertices) that cannot be degrees
    (|x| > 180 or |y| > 90): what a file in projected metres without its CRS shows."""
    present = ~shapely.is_missing(np.asarray(geometry, dtype=object))
    xy = shapely.get_coordinates(np.asarray(geometry, dtype=object)[present])
    xy = xy[np.isfinite(xy).all(axis=1)]
    return xy[(np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)][:1000]


def guess_projected_crs(xy: NDArray[np.float64]) -> str | None:
    """The first of PROJECTED_CANDIDATES that puts most of the points ``xy`` (metres) in
    Jing-Jin-Ji, or None."""
    if not len(xy):
        return None
    minx, miny, maxx, maxy = coords.JJJ_BBOX
    for candidate in PROJECTED_CANDIDATES:
        lon, lat = Transformer.from_crs(candidate, STORAGE_CRS, always_xy=True).transform(xy[:, 0], xy[:, 1])
        inside = (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)
        if inside.mean() > 0.5:
            return candidate
    return None


# ------------------------------------------------------------------------------- points


def coordinate_array(cells: pd.DataFrame, column: str, issues: IssueCollector) -> NDArray[np.float64]:
    """Decimal degrees per row, NaN where empty or bad (bad cells rejected)."""
    raw = cells[column].to_numpy(dtype=object)
    fast = np.array(pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce"), dtype=np.float64)
    # only what is not a plain number goes through the (slower) DMS parser
    slow = np.flatnonzero(np.isnan(fast) & pd.notna(raw))
    if slow.size:
        parsed = apply_parser(cells.iloc[slow].reset_index(drop=True), column, parse_coordinate,
                              SubsetIssues(issues, slow))
        fast[slow] = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
    return fast


def _convert_points(lon: NDArray[np.float64], lat: NDArray[np.float64], datums: NDArray[np.object_],
                    mask: NDArray[np.bool_]) -> None:
    """Convert the rows in ``mask`` from their datum to WGS-84, in place."""
    for datum in sorted({str(d) for d in datums[mask]}):
        rows = mask & (datums == datum)
        if datum in _AS_WGS84 or not rows.any():
            continue
        x, y = coords.convert(lon[rows], lat[rows], src=datum, dst="wgs84")
        lon[rows], lat[rows] = x, y


def _points_from_file(
    geometry: NDArray[np.object_], crs: str | None, lon: NDArray[np.float64], lat: NDArray[np.float64],
    issues: IssueCollector,
) -> None:
    """Fill ``lon``/``lat`` in place from a spatial file's point geometries (in ``crs``);
    rows with another geometry type are rejected."""
    n = len(lon)
    geoms = np.asarray(geometry, dtype=object)
    present = ~shapely.is_missing(geoms)
    types = np.full(n, -1)
    types[present] = shapely.get_type_id(geoms[present])
    not_point = present & (types != 0)
    issues.add(np.flatnonzero(not_point), "geometry", _TYPE_NAMES[types[not_point]],
               "expected a point geometry", "应为点几何")
    points = present & (types == 0)
    lon[points] = shapely.get_x(geoms[points])
    lat[points] = shapely.get_y(geoms[points])
    transformer = geometry_transformer(crs)
    if transformer is not None and points.any():
        lon[points], lat[points] = transformer.transform(lon[points], lat[points])


def _points_from_cells(
    cells: pd.DataFrame, lon: NDArray[np.float64], lat: NDArray[np.float64], issues: IssueCollector
) -> None:
    """Fill the rows of ``lon``/``lat`` still NaN from the lon/lat cells, in place; a row
    with only one of the two is rejected (and left without coordinates)."""
    from_cells = np.isnan(lon)
    clon = coordinate_array(cells, "lon", issues)
    clat = coordinate_array(cells, "lat", issues)
    lon[from_cells] = clon[from_cells]
    lat[from_cells] = clat[from_cells]
    half = np.isnan(lon) != np.isnan(lat)
    half_pos = np.flatnonzero(half & ~issues.rejected)
    issues.add(half_pos, "lon", None,
               "only one of longitude and latitude is given", "经度、纬度只填了一个")
    lon[half] = np.nan
    lat[half] = np.nan


def point_coordinates(
    cells: pd.DataFrame,
    geometry: NDArray[np.object_] | None,
    crs: str | None,
    datums: NDArray[np.object_],
    issues: IssueCollector,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """(lon, lat, has_coordinates) in WGS-84 degrees for point rows; rows with a problem are rejected.

    The file's point geometries come first, lon/lat cells fill the rest; swapped pairs are
    swapped back (warning), each row is converted from its datum, and a point outside the
    Jing-Jin-Ji box is rejected.
    """
    n = len(cells)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if geometry is not None:
        _points_from_file(geometry, crs, lon, lat, issues)
    if "lon" in cells and "lat" in cells:
        _points_from_cells(cells, lon, lat, issues)
    has = ~np.isnan(lon) & ~np.isnan(lat)
    swapped = coords.detect_swapped(lon, lat)
    if swapped.any():
        pos = np.flatnonzero(swapped)
        issues.add(pos, "lon", [f"{a}, {b}" for a, b in zip(lon[pos], lat[pos], strict=True)],
                   _SWAPPED_TEXT, _SWAPPED_TEXT_ZH, severity="warning")
        lon[swapped], lat[swapped] = lat[swapped].copy(), lon[swapped].copy()
    _convert_points(lon, lat, datums, has)
    minx, miny, maxx, maxy = coords.JJJ_BBOX
    outside = has & ~((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
    pos = np.flatnonzero(outside)
    raw_lon = cells["lon"].to_numpy(dtype=object) if "lon" in cells else lon
    raw_lat = cells["lat"].to_numpy(dtype=object) if "lat" in cells else lat
    issues.add(pos, "lon", [f"{raw_lon[p]}, {raw_lat[p]}" for p in pos], _JJJ_TEXT, _JJJ_TEXT_ZH)
    return lon, lat, has


# ------------------------------------------------------------------------------- shapes


def shape_geometries(
    entity: Entity,
    cells: pd.DataFrame,
    geometry: NDArray[np.object_] | None,
    crs: str | None,
    datums: NDArray[np.object_],
    issues: IssueCollector,
) -> NDArray[np.object_]:
    """WGS-84 line/polygon geometries per row (None where rejected).

    Read by :func:`_read_shapes`, then checked in turn: present, of the entity's type, not
    empty, lon/lat not swapped (else swapped back, warning), converted from the row's datum,
    valid (else repaired with a warning when the repair keeps the type), inside Jing-Jin-Ji.
    """
    geoms = _read_shapes(entity, cells, geometry, crs, issues)
    missing = shapely.is_missing(geoms) & ~issues.rejected
    issues.add(np.flatnonzero(missing), "geometry", None, "no geometry", "缺少几何图形")
    present = ~shapely.is_missing(geoms)
    geoms[present] = shapely.force_2d(geoms[present])
    allowed = _GEOMETRY_TYPES.get(entity.geometry_type, (entity.geometry_type,))
    present = _drop_wrong_types(geoms, present, allowed, issues)
    present = _drop_empty(geoms, present, issues)
    _swap_back(geoms, present, issues)
    _convert_shapes(geoms, present, datums)
    present = _repair_invalid(geoms, present, allowed, issues)
    if present.any():
        outside = present.copy()
        outside[present] = ~shapely.intersects(geoms[present], shapely.box(*coords.JJJ_BBOX))
        issues.add(np.flatnonzero(outside), "geometry", None, _JJJ_TEXT, _JJJ_TEXT_ZH)
    return geoms


def _read_shapes(
    entity: Entity,
    cells: pd.DataFrame,
    geometry: NDArray[np.object_] | None,
    crs: str | None,
    issues: IssueCollector,
) -> NDArray[np.object_]:
    """Geometry per row, None where there is none: the file's (converted from ``crs`` to
    WGS-84), else the ``wkt`` cell (bad text rejected), else — for kinds of any geometry
    type — a point from the lon/lat cells."""
    geoms = np.full(len(cells), None, dtype=object)
    if geometry is not None:
        geoms[:] = np.asarray(geometry, dtype=object)
        transformer = geometry_transformer(crs)
        present = ~shapely.is_missing(geoms)
        if transformer is not None and present.any():
            geoms[present] = shapely.transform(
                geoms[present], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
            )
    if "wkt" in cells:
        raw = cells["wkt"].to_numpy(dtype=object)
        todo = shapely.is_missing(geoms) & pd.notna(raw)
        if todo.any():
            parsed = shapely.from_wkt(raw[todo].astype(str), on_invalid="ignore")
            geoms[todo] = parsed
            bad = np.flatnonzero(todo)[shapely.is_missing(parsed)]
            issues.add(bad, "wkt", raw[bad], "not valid WKT geometry text", "不是有效的WKT几何文本")
    if entity.geometry_type == "Geometry" and "lon" in cells and "lat" in cells:
        todo = shapely.is_missing(geoms) & ~issues.rejected
        if todo.any():
            lon = coordinate_array(cells, "lon", issues)
            lat = coordinate_array(cells, "lat", issues)
            ok = todo & ~np.isnan(lon) & ~np.isnan(lat)
            geoms[ok] = shapely.points(lon[ok], lat[ok])
    return geoms


def _drop_wrong_types(
    geoms: NDArray[np.object_], present: NDArray[np.bool_], allowed: tuple[str, ...], issues: IssueCollector
) -> NDArray[np.bool_]:
    """Reject (and clear) geometries whose type is not ``allowed``; returns the rows still present."""
    type_names = np.full(len(geoms), None, dtype=object)
    type_names[present] = _TYPE_NAMES[np.asarray(shapely.get_type_id(geoms[present])).astype(int)]
    wrong = present & ~np.isin(type_names.astype(str), allowed)
    issues.add(np.flatnonzero(wrong), "geometry", type_names[wrong],
               f"expected {' or '.join(allowed)} geometry", f"几何类型应为{'/'.join(allowed)}")
    geoms[wrong] = None
    return present & ~wrong


def _drop_empty(
    geoms: NDArray[np.object_], present: NDArray[np.bool_], issues: IssueCollector
) -> NDArray[np.bool_]:
    """Reject (and clear) empty geometries; returns the rows still present."""
    empty = present.copy()
    empty[present] = shapely.is_empty(geoms[present])
    issues.add(np.flatnonzero(empty), "geometry", None, "empty geometry", "几何图形为空")
    geoms[empty] = None
    return present & ~empty


def _swap_xy(coordinates: NDArray[np.float64]) -> NDArray[np.float64]:
    return coordinates[:, ::-1].copy()


def _swap_back(geoms: NDArray[np.object_], present: NDArray[np.bool_], issues: IssueCollector) -> None:
    """Swap lon/lat back, in place, where a representative point of the geometry looks swapped."""
    if not present.any():
        return
    rep = shapely.point_on_surface(geoms[present])
    swapped_sub = coords.detect_swapped(shapely.get_x(rep), shapely.get_y(rep))
    if swapped_sub.any():
        idx = np.flatnonzero(present)[swapped_sub]
        geoms[idx] = shapely.transform(geoms[idx], _swap_xy)
        issues.add(idx, "geometry", None, _SWAPPED_TEXT, _SWAPPED_TEXT_ZH, severity="warning")


def _convert_shapes(geoms: NDArray[np.object_], present: NDArray[np.bool_], datums: NDArray[np.object_]) -> None:
    """Convert the present geometries from their row's datum to WGS-84, in place."""
    for datum in sorted({str(d) for d in datums[present]}):
        if datum in _AS_WGS84:
            continue
        idx = np.flatnonzero(present & (datums == datum))
        geoms[idx] = shapely.transform(
            geoms[idx], lambda xy, d=datum: np.column_stack(coords.convert(xy[:, 0], xy[:, 1], src=d, dst="wgs84"))
        )


def _repair_invalid(
    geoms: NDArray[np.object_], present: NDArray[np.bool_], allowed: tuple[str, ...], issues: IssueCollector
) -> NDArray[np.bool_]:
    """Repair invalid geometries in place when the repair keeps an ``allowed`` type (warning),
    else reject them; returns the rows still present."""
    if not present.any():
        return present
    invalid = present.copy()
    invalid[present] = ~shapely.is_valid(geoms[present])
    for i in np.flatnonzero(invalid):
        fixed = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        if fixed.is_empty or fixed.geom_type not in allowed:
            issues.add([int(i)], "geometry", None, "invalid geometry that cannot be repaired",
                       "几何图形无效且无法修复")
            geoms[i] = None
        else:
            geoms[i] = fixed
            issues.add([int(i)], "geometry", None, "invalid geometry (e.g. self-intersecting) repaired",
                       "几何图形无效（如自相交），已修复", severity="warning")
    return present & ~shapely.is_missing(geoms)
