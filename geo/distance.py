"""True distances in metres between WGS-84 geometries.

One method everywhere (both stores, the veto engine, the incident panel): project
the geometries into an azimuthal-equidistant (AEQD) projection on the WGS-84
ellipsoid centred on the *query* geometry's centroid, then take the planar
distance.  Distances from the centre are exact geodesic distances (PROJ's AEQD
uses Karney's geodesic algorithms), so point-to-anything distances from a query
point are exact; polygon-to-geometry distances over a few kilometres differ from
the geodesic by far less than a centimetre.  This works across the whole
Jing-Jin-Ji extent (113.5–119.9 °E), where one Gauss-Krüger zone would not.

PostGIS computes the same thing with ``ST_Transform(geom, aeqd_proj(...))``, so
the two stores agree to well under 0.01 m.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

from geo.errors import BadInput

WGS84_GEOD = Geod(ellps="WGS84")

#: Segments are taken as straight in lon/lat (as drawn on a map) and densified to this
#: many degrees (~110 m) before projection, so the AEQD distance matches that reading.
SEGMENT_DEGREES = 0.001

#: Metres per degree of latitude, a lower bound over the globe (for search boxes).
MIN_METRES_PER_DEGREE = 110_574.0


def aeqd_proj(lon: float, lat: float) -> str:
    """PROJ string of the AEQD projection centred on (lon, lat), WGS-84, metres.

    Coordinates are rounded to 1e-9 degree so that the same centre always gives
    the same string (and the same cached transformer).
    """
    return (
        f"+proj=aeqd +lat_0={lat:.9f} +lon_0={lon:.9f} +x_0=0 +y_0=0 "
        "+datum=WGS84 +units=m +no_defs +type=crs"
    )


@lru_cache(maxsize=4096)
def _transformer(lon: float, lat: float) -> Transformer:
    # The operation PROJ builds for EPSG:4326 -> aeqd_proj(lon, lat) (no datum shift: both
    # WGS-84), built directly as a pipeline: ~0.1 ms instead of ~18 ms with from_crs.
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={lat:.9f} +lon_0={lon:.9f} +x_0=0 +y_0=0 +ellps=WGS84"
    )


def query_centre(geometry: BaseGeometry) -> tuple[float, float]:
    """The centre used for a query geometry: the point itself, or its centroid."""
    if geometry.is_empty:
        raise BadInput("empty query geometry")
    c = geometry if geometry.geom_type == "Point" else geometry.centroid
    return float(c.x), float(c.y)


def to_aeqd(geoms: np.ndarray | BaseGeometry, lon: float, lat: float) -> np.ndarray | BaseGeometry:
    """Project WGS-84 shapely geometries into the AEQD centred on (lon, lat), densified first."""
    tr = _transformer(round(lon, 9), round(lat, 9))
    geoms = shapely.segmentize(geoms, SEGMENT_DEGREES)
    return shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def distances_m(query: BaseGeometry, geoms: np.ndarray) -> np.ndarray:
    """Distance in metres from ``query`` to each of ``geoms`` (all WGS-84).

    From a point to points this is the geodesic distance itself (what the AEQD centred
    on the point gives); otherwise geometries are projected as described above, and a
    polygon's distance is from its edge (0 inside).
    """
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return np.zeros(0, dtype=float)
    if query.geom_type == "Point" and bool(np.all(shapely.get_type_id(arr) == 0)):
        return geodesic_m(query.x, query.y, shapely.get_x(arr), shapely.get_y(arr))
    lon, lat = query_centre(query)
    q = to_aeqd(query, lon, lat)
    projected = to_aeqd(arr, lon, lat)
    return shapely.distance(q, projected)


def geodesic_m(lon1: np.ndarray | float, lat1: np.ndarray | float,
               lon2: np.ndarray | float, lat2: np.ndarray | float) -> np.ndarray:
    """Geodesic distance in metres between point pairs on WGS-84 (vectorised)."""
    a, b, c, d = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    _, _, dist = WGS84_GEOD.inv(a.ravel(), b.ravel(), c.ravel(), d.ravel())
    return np.asarray(dist, dtype=float).reshape(a.shape)


def degree_box(lon: float, lat: float, distance_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box that surely contains every point within ``distance_m`` of (lon, lat).

    Conservative (1 % and 1 m wider) so a box filter never loses a true hit.
    """
    d = distance_m * 1.01 + 1.0
    dlat = d / MIN_METRES_PER_DEGREE
    coslat = max(np.cos(np.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = d / (MIN_METRES_PER_DEGREE * coslat)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat
