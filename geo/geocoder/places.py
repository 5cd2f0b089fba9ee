"""Gazetteer entries (:class:`Place`) and how they are built from entity frames in
WGS-84 (EPSG:4326): admin areas, named points (POIs) and road lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import shapely

from geo.geocoder.address import normalise_address

#: Line types (``lines.line_type``) read as streets when a road network is loaded.
ROAD_LINE_TYPES: frozenset[str] = frozenset({"road", "street"})
_ADMIN_LEVELS = ["province", "city", "district", "township"]


@dataclass(frozen=True)
class Place:
    """One gazetteer entry with its point (WGS-84).

    ``level`` is province/city/district/township/poi/road; ``county_code`` and
    ``township_code`` locate POIs and roads; ``point_kind`` says what the point is.
    """

    code: str
    name: str
    level: str
    lon: float
    lat: float
    parent_code: str | None = None
    county_code: str | None = None
    township_code: str | None = None
    point_kind: str = ""


class Polygons(NamedTuple):
    """Polygons of one admin level (WGS-84) and their codes, for point-in-polygon look-ups."""

    geoms: list[Any]
    codes: list[str]


def require_wgs84(frames: Iterable[gpd.GeoDataFrame | None]) -> None:
    """Raise ValueError naming the CRS of the first frame that is not EPSG:4326 (frames
    without a CRS and ``None`` pass)."""
    for frame in frames:
        if frame is not None and frame.crs is not None and frame.crs.to_epsg() != 4326:
            raise ValueError(f"gazetteer frames must be EPSG:4326, got {frame.crs}")


def admin_places(
    areas: gpd.GeoDataFrame, township_centres: gpd.GeoDataFrame | None
) -> tuple[list[Place], Polygons, Polygons]:
    """Provinces, cities, districts and townships of ``areas`` (numeric 6- or 9-digit
    codes; zones and empty geometries left out), with the district and township polygons.

    A township's point is its centre from ``township_centres`` (``code``, point) when
    that lies in its polygon, else the polygon's ``representative_point``; every other
    level gets its ``representative_point`` (inside the polygon, unlike the centroid).
    """
    admin = areas[areas["area_type"].isin(_ADMIN_LEVELS)]
    admin = admin[admin["area_code"].astype(str).str.fullmatch(r"\d{6}|\d{9}")]
    centres: dict[str, Any] = {}
    if township_centres is not None and len(township_centres):
        centres = dict(zip(township_centres["code"].astype(str), township_centres.geometry, strict=True))
    places: list[Place] = []
    districts, townships = Polygons([], []), Polygons([], [])
    for code, name, level, parent, geom in zip(
        admin["area_code"].astype(str), admin["name"], admin["area_type"], admin["parent_code"],
        admin.geometry, strict=True,
    ):  # fmt: skip
        if geom is None or geom.is_empty:
            continue
        if level in ("district", "township"):
            polygons = districts if level == "district" else townships
            polygons.geoms.append(geom)
            polygons.codes.append(code)
        places.append(_admin_place(code, str(name), str(level), parent, geom, centres.get(code)))
    return places, districts, townships


def _admin_place(code: str, name: str, level: str, parent: Any, geom: Any, centre: Any) -> Place:
    point, kind = geom.representative_point(), "representative_point"
    if level == "township" and centre is not None and not centre.is_empty and geom.covers(centre):
        point, kind = centre, "township_centre"
    parent_code = _code_or_none(parent)
    if level == "township":
        parent_code = parent_code or code[:6]
    return Place(code, name, level, float(point.x), float(point.y), parent_code,
                 county_code=code[:6] if level in ("district", "township") else None,
                 township_code=code if level == "township" else None, point_kind=kind)


def _code_or_none(value: Any) -> str | None:
    """A code column's value as text; None for missing (None or NaN)."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def poi_places(frame: gpd.GeoDataFrame, townships: Polygons) -> list[Place]:
    """Named points of ``frame`` (``key``, ``name``, optional ``county_code``) as POIs,
    each with the township containing it; the county falls back to that township's."""
    frame = frame[frame.geometry.notna() & frame["name"].notna()]
    if frame.empty:
        return []
    points = frame.geometry.representative_point().to_numpy()
    township_of = containing(points, townships)
    counties = frame["county_code"] if "county_code" in frame.columns else [None] * len(frame)
    out = []
    for key, name, county, pt, township in zip(frame["key"], frame["name"], counties, points, township_of,
                                               strict=True):
        county_code = _code_or_none(county)
        out.append(Place(str(key), str(name), "poi", float(pt.x), float(pt.y),
                         county_code=county_code or (township[:6] if township else None),
                         township_code=township, point_kind="poi_point"))
    return out


def road_places(roads: gpd.GeoDataFrame, districts: Polygons, townships: Polygons) -> list[Place]:
    """Named streets of the ``lines`` entity (``line_type`` in :data:`ROAD_LINE_TYPES`),
    one point each at the middle of the line, with the district and township containing it."""
    roads = roads[roads["line_type"].isin(list(ROAD_LINE_TYPES)) & roads["name"].notna() & roads.geometry.notna()]
    if roads.empty:
        return []
    points = shapely.line_interpolate_point(roads.geometry.to_numpy(), 0.5, normalized=True)
    county_of = containing(points, districts)
    township_of = containing(points, townships)
    codes = roads["line_code"] if "line_code" in roads.columns else roads["key"]
    return [
        Place(str(code), normalise_address(str(name)), "road", float(pt.x), float(pt.y), county_code=county,
              township_code=township, point_kind="road_midpoint")
        for code, name, pt, county, township in zip(codes, roads["name"], points, county_of, township_of,
                                                    strict=True)
    ]  # fmt: skip


def containing(points: Any, polygons: Polygons) -> list[str | None]:
    """Code of the polygon containing each point (the first if several), else None."""
    out: list[str | None] = [None] * len(points)
    if not polygons.geoms or not len(points):
        return out
    tree = shapely.STRtree(polygons.geoms)
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    for pi, gi in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
        if out[pi] is None:
            out[pi] = polygons.codes[gi]
    return out
