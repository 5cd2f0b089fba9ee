"""Reference geography built from boundaries and points: pure functions, no file I/O.

Everything here takes and returns shapely geometries, GeoDataFrames and numpy arrays.
Vector inputs and outputs are WGS-84 longitude/latitude (EPSG:4326; CGCS2000,
EPSG:4490, is treated as identical — they differ by < 0.1 m).  Metric work (Voronoi
bisectors, the population grid, candidate spacing) happens in CGCS2000 / 3-degree
Gauss-Krüger CM 117E (EPSG:4548), which fits Beijing; lengths and areas are geodesic
on the WGS-84 ellipsoid.

What lives here:

* OSM ``fclass`` → protection-target type and GB 36894-2018 sensitivity class;
* province borders as the shared edges of two province polygons;
* township centres (name matching, then a farthest-point fill) and approximate
  township polygons (Voronoi cells clipped to their district);
* the digitised zones (5th Ring Road, Tongzhou sub-centre, Economic-Technological
  Development Area), all approximate;
* dasymetric population allocation on a grid, exact per district;
* the GeoJSON text of the vendored files (and of the demo files written like them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import Geod
from rasterio import features
from scipy import ndimage
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from geo.coords import BEIJING_METRIC_CRS, WGS84

#: CGCS2000 / 3-degree Gauss-Kruger CM 117E: the metric CRS for Beijing.
_GEOD = Geod(ellps="WGS84")

# --------------------------------------------------------------------------------------
# OSM classes → protection targets and stations
# --------------------------------------------------------------------------------------

#: OSM (Geofabrik) ``fclass`` → (target_type, GB 36894-2018 sensitivity class), *default*.
#: GB 36894 classes: high (schools, kindergartens, hospitals, care homes, prisons),
#: important (cultural relics, military), general1/2/3 (residential and public places
#: of >= 100, 30-99, < 30 people).  Residential areas and malls are taken as >= 100
#: people; industrial land use (a workplace of unknown size, not a protection target
#: in the standard's narrow sense) gets the lowest general class.  Order matters: when
#: one OSM object carries several classes the first listed here wins.
OSM_TARGET_CLASSES: dict[str, tuple[str, str]] = {
    "kindergarten": ("kindergarten", "high"),
    "school": ("school", "high"),
    "hospital": ("hospital", "high"),
    "nursing_home": ("care_home", "high"),
    "university": ("university", "high"),
    "college": ("college", "high"),
    "prison": ("prison", "high"),
    "military": ("military", "important"),
    "mall": ("crowded_place", "general1"),
    "stadium": ("crowded_place", "general1"),
    "residential": ("residential", "general1"),
    "industrial": ("industrial_landuse", "general3"),
}

#: OSM ``fclass`` → (resource_type, speciality) for emergency resources.
OSM_RESOURCE_CLASSES: dict[str, tuple[str, str | None]] = {
    "fire_station": ("fire_station", "fire"),
    "police": ("police_station", None),
}

SENSITIVITY_CLASSES: tuple[str, ...] = ("high", "important", "general1", "general2", "general3")


def classify_target(fclass: str) -> tuple[str, str] | None:
    """(target_type, sensitivity) for an OSM ``fclass``, or ``None`` if it is no target."""
    return OSM_TARGET_CLASSES.get(fclass)


def pick_osm_rows(pois: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Rows of ``pois`` whose ``fclass`` is in ``classes``, one per ``osm_id``.

    Geofabrik repeats an object once per class (a fire station is also a
    ``building``); when one ``osm_id`` has several wanted classes the earliest in
    ``classes`` wins.  Result ordered by numeric ``osm_id``.
    """
    rank = {c: i for i, c in enumerate(classes)}
    rows = pois[pois["fclass"].isin(rank)].copy()
    rows["_rank"] = rows["fclass"].map(rank)
    rows["_id"] = rows["osm_id"].astype("int64")
    rows = rows.sort_values(["_id", "_rank"], kind="stable").drop_duplicates("_id", keep="first")
    return rows.drop(columns=["_rank", "_id"])


# --------------------------------------------------------------------------------------
# Geodesic measures
# --------------------------------------------------------------------------------------


def geodesic_length_km(geometry: BaseGeometry) -> float:
    """Length of a WGS-84 (multi)line on the WGS-84 ellipsoid, in kilometres."""
    return float(_GEOD.geometry_length(geometry)) / 1000.0


def geodesic_area_km2(geometry: BaseGeometry) -> float:
    """Area of a WGS-84 (multi)polygon on the WGS-84 ellipsoid, in square kilometres."""
    area, _ = _GEOD.geometry_area_perimeter(shapely.orient_polygons(geometry))
    return abs(float(area)) / 1e6


# --------------------------------------------------------------------------------------
# Province borders
# --------------------------------------------------------------------------------------


def shared_border(
    a: BaseGeometry, b: BaseGeometry, *, tolerance_deg: float = 1e-6, min_piece_km: float = 0.01
) -> MultiLineString:
    """The part of polygon ``a``'s boundary that runs along polygon ``b``, merged.

    Robust whether or not the two polygons share exact vertices: ``a``'s boundary is
    first snapped to ``b``'s within ``tolerance_deg`` degrees (1e-6 ° ≈ 0.1 m), then
    the overlapping linework is kept and merged; pieces shorter than
    ``min_piece_km`` are dropped.  Returns an empty MultiLineString when the polygons do not meet.
    """
    cut = shapely.snap(a.boundary, b.boundary, tolerance_deg).intersection(b.boundary)
    pieces = [g for g in shapely.get_parts(cut) if isinstance(g, LineString | MultiLineString)]
    lines = [p for g in pieces for p in shapely.get_parts(g) if not p.is_empty]
    if not lines:
        return MultiLineString()
    merged = linemerge(lines)
    parts = [p for p in shapely.get_parts(merged) if geodesic_length_km(p) >= min_piece_km]
    parts.sort(key=lambda p: (-geodesic_length_km(p), p.coords[0]))
    return MultiLineString(parts)


# --------------------------------------------------------------------------------------
# Townships: names, centres, polygons
# --------------------------------------------------------------------------------------

_TOWNSHIP_SUFFIX = re.compile(r"(民族乡|回族乡|满族乡|街道|地区|镇|乡)$")
_SEAT_SUFFIXES = ("街道办事处", "地区办事处", "镇人民政府", "镇政府", "乡人民政府", "乡政府", "办事处")


def township_base_name(name: str) -> str:
    """``name`` without its 街道/地区/镇/乡 suffix (清河街道 → 清河, 仁和地区 → 仁和)."""
    return _TOWNSHIP_SUFFIX.sub("", name.strip())


def township_name_variants(name: str) -> list[str]:
    """Spellings a township may go by elsewhere: itself, then base + 地区/镇/乡/街道.

    A 地区 (area office) usually shares its territory with the 镇 of the same name.
    """
    base = township_base_name(name)
    variants = [name, *(base + s for s in ("地区", "镇", "乡", "街道"))]
    return list(dict.fromkeys(v for v in variants if len(v) > 1))


def match_seat(name: str, seat_names: Sequence[str]) -> int | None:
    """Index in ``seat_names`` of the office (办事处/人民政府) of township ``name``, if any.

    A seat matches when its name ends with a seat suffix and contains the township's
    base name followed by that suffix's type (清河街道办事处 for 清河街道).
    """
    base = township_base_name(name)
    if len(base) < 2:
        return None
    for i, seat in enumerate(seat_names):
        if not seat.endswith(_SEAT_SUFFIXES):
            continue
        if any(f"{base}{kind}" in seat for kind in ("街道", "地区", "镇", "乡")):
            return i
    return None


def locate_township_centres(
    townships: pd.DataFrame,
    districts: gpd.GeoDataFrame,
    *,
    seats: gpd.GeoDataFrame,
    bbox_centres: Mapping[str, tuple[float, float]],
    min_separation_m: float = 300.0,
) -> gpd.GeoDataFrame:
    """Approximate centre of every township, each inside its district, with its precision.

    ``townships``: columns ``code``, ``name``, ``district_code``.  ``districts``:
    ``area_code`` and WGS-84 polygons.  ``seats``: WGS-84 points with ``name`` (OSM
    government offices).  ``bbox_centres``: place name → (lon, lat) centre of a
    bounding box (sizhi).  Tried in order, accepting only points inside the district
    and at least ``min_separation_m`` metres from centres already placed there:

    1. ``osm_seat``: an OSM office named after the township (its real seat);
    2. ``bbox_centre``: the centre of a same-named bounding box;
    3. ``district_fill``: the point of the district farthest from the centres already
       placed (a stand-in so the Voronoi cells stay sensible; not a location).

    Returns a WGS-84 GeoDataFrame (``code``, ``name``, ``district_code``,
    ``precision``), in the order of ``townships``.
    """
    district_geom = dict(zip(districts["area_code"], districts.geometry, strict=True))
    seat_names = list(seats["name"])
    placed: dict[str, list[Point]] = {code: [] for code in district_geom}
    points: list[Point | None] = []
    precision: list[str] = []
    for row in townships.itertuples(index=False):
        geom = district_geom[row.district_code]
        point, how = _named_centre(row.name, geom, seats, seat_names, bbox_centres)
        if point is not None and not _far_enough(point, placed[row.district_code], min_separation_m):
            point, how = None, ""
        if point is not None:
            placed[row.district_code].append(point)
        points.append(point)
        precision.append(how)
    for i, row in enumerate(townships.itertuples(index=False)):
        if points[i] is None:
            point = farthest_point_inside(district_geom[row.district_code], placed[row.district_code])
            placed[row.district_code].append(point)
            points[i], precision[i] = point, "district_fill"
    return gpd.GeoDataFrame(
        {
            "code": list(townships["code"]),
            "name": list(townships["name"]),
            "district_code": list(townships["district_code"]),
            "precision": precision,
        },
        geometry=points,
        crs=WGS84,
    )


def _named_centre(
    name: str,
    district: BaseGeometry,
    seats: gpd.GeoDataFrame,
    seat_names: Sequence[str],
    bbox_centres: Mapping[str, tuple[float, float]],
) -> tuple[Point | None, str]:
    inside = [i for i, g in enumerate(seats.geometry) if district.contains(g)]
    hit = match_seat(name, [seat_names[i] for i in inside])
    if hit is not None:
        return seats.geometry.iloc[inside[hit]], "osm_seat"
    for variant in township_name_variants(name):
        if variant in bbox_centres:
            point = Point(bbox_centres[variant])
            if district.contains(point):
                return point, "bbox_centre"
    return None, ""


def _far_enough(point: Point, others: Sequence[Point], min_m: float) -> bool:
    return all(_GEOD.inv(point.x, point.y, o.x, o.y)[2] >= min_m for o in others)


def farthest_point_inside(
    polygon: BaseGeometry, existing: Sequence[Point], *, spacing_m: float = 250.0
) -> Point:
    """The point of a grid (``spacing_m`` metres, EPSG:4548) inside ``polygon`` that is
    farthest from every point of ``existing`` (WGS-84); with none, the grid point
    nearest the polygon's representative point.  Deterministic; returns WGS-84.
    """
    poly_m = gpd.GeoSeries([polygon], crs=WGS84).to_crs(BEIJING_METRIC_CRS).iloc[0]
    minx, miny, maxx, maxy = poly_m.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    grid = shapely.points(gx.ravel(), gy.ravel())
    grid = grid[shapely.contains_xy(poly_m, gx.ravel(), gy.ravel())]
    if len(grid) == 0:
        return polygon.representative_point()
    if existing:
        ex = gpd.GeoSeries(list(existing), crs=WGS84).to_crs(BEIJING_METRIC_CRS)
        exy = shapely.get_coordinates(ex.values)
    else:
        exy = shapely.get_coordinates(poly_m.representative_point())
    gxy = shapely.get_coordinates(grid)
    dist = np.min(np.hypot(gxy[:, None, 0] - exy[None, :, 0], gxy[:, None, 1] - exy[None, :, 1]), axis=1)
    best = int(np.argmin(dist)) if not existing else int(np.argmax(dist))
    return gpd.GeoSeries([grid[best]], crs=BEIJING_METRIC_CRS).to_crs(WGS84).iloc[0]


def voronoi_cells(
    points: Sequence[Point], clip: BaseGeometry, *, densify_m: float = 1000.0
) -> list[MultiPolygon]:
    """Voronoi cell of each WGS-84 point, clipped to the WGS-84 polygon ``clip``.

    Bisectors are computed in EPSG:4548 (metres, so cells are fair on the ground),
    densified every ``densify_m`` metres, brought back to WGS-84 and cut with
    ``clip`` there, so the cells tile ``clip`` exactly.  Cells are in input order.
    """
    if len(points) == 1:
        return [as_multipolygon(clip)]
    pts_m = gpd.GeoSeries(list(points), crs=WGS84).to_crs(BEIJING_METRIC_CRS)
    clip_m = gpd.GeoSeries([clip], crs=WGS84).to_crs(BEIJING_METRIC_CRS).iloc[0]
    frame = shapely.box(*clip_m.buffer(5000).bounds)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(pts_m)), extend_to=frame, ordered=True)
    cells_m = [shapely.segmentize(c, densify_m) for c in shapely.get_parts(cells)]
    cells_wgs = gpd.GeoSeries(cells_m, crs=BEIJING_METRIC_CRS).to_crs(WGS84)
    return [as_multipolygon(shapely.make_valid(c).intersection(clip)) for c in cells_wgs]


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    """The polygons of any geometry (collections flattened, lines and points dropped)."""
    polys: list[Polygon] = []
    for part in shapely.get_parts(geometry):
        if isinstance(part, Polygon) and not part.is_empty:
            polys.append(part)
        elif isinstance(part, MultiPolygon | shapely.GeometryCollection):
            polys.extend(as_multipolygon(part).geoms)
    return MultiPolygon(polys)


# --------------------------------------------------------------------------------------
# Digitised zones (all approximate, WGS-84)
# --------------------------------------------------------------------------------------

#: The 5th Ring Road (五环路), clockwise from the north-west (香泉环岛), digitised by hand
#: from general knowledge of its course at roughly 1–2 km accuracy; ≈ 670 km² inside.
FIFTH_RING_VERTICES: tuple[tuple[float, float], ...] = (
    (116.214, 39.985), (116.232, 40.000), (116.255, 40.012), (116.285, 40.022),
    (116.320, 40.028), (116.360, 40.031), (116.400, 40.029), (116.440, 40.025),
    (116.474, 40.018), (116.498, 40.004), (116.518, 39.985), (116.535, 39.965),
    (116.546, 39.945), (116.552, 39.920), (116.554, 39.893), (116.550, 39.865),
    (116.540, 39.840), (116.522, 39.820), (116.498, 39.806), (116.470, 39.797),
    (116.440, 39.791), (116.405, 39.786), (116.370, 39.783), (116.335, 39.786),
    (116.300, 39.795), (116.270, 39.808), (116.245, 39.826), (116.226, 39.850),
    (116.214, 39.878), (116.209, 39.910), (116.210, 39.940), (116.212, 39.965),
)  # fmt: skip

#: Beijing city sub-centre (北京城市副中心, planned ≈ 155 km²) in Tongzhou, centred on
#: the old town and the administrative centre at 潞城, east to the 潮白河; hand-digitised,
#: approximate (≈ 154 km²).
TONGZHOU_SUBCENTRE_VERTICES: tuple[tuple[float, float], ...] = (
    (116.622, 39.925), (116.638, 39.950), (116.668, 39.965), (116.710, 39.966),
    (116.748, 39.955), (116.772, 39.930), (116.775, 39.890), (116.758, 39.858),
    (116.722, 39.838), (116.678, 39.836), (116.645, 39.848), (116.624, 39.880),
)  # fmt: skip

#: Beijing Economic-Technological Development Area (北京经济技术开发区, 亦庄), its core
#: area as run by the ETDA in 2018, between the 5th and 6th Ring Roads on the
#: Daxing/Tongzhou line; hand-digitised, approximate (≈ 60–70 km²).
ETDA_VERTICES: tuple[tuple[float, float], ...] = (
    (116.478, 39.812), (116.500, 39.818), (116.525, 39.812), (116.550, 39.798),
    (116.572, 39.782), (116.590, 39.764), (116.588, 39.745), (116.566, 39.735),
    (116.540, 39.738), (116.515, 39.748), (116.492, 39.762), (116.476, 39.780),
    (116.470, 39.797),
)  # fmt: skip


def digitised_polygon(
    vertices: Sequence[tuple[float, float]], *, within: BaseGeometry | None = None
) -> MultiPolygon:
    """WGS-84 polygon through ``vertices`` (lon, lat), optionally clipped to ``within``."""
    polygon: BaseGeometry = Polygon(vertices)
    if within is not None:
        polygon = polygon.intersection(within)
    return as_multipolygon(shapely.orient_polygons(polygon))


def polygon_ring(polygon: BaseGeometry) -> MultiLineString:
    """The exterior ring(s) of a (multi)polygon as a MultiLineString (for ring roads)."""
    return MultiLineString([p.exterior for p in shapely.get_parts(polygon)])


# --------------------------------------------------------------------------------------
# Dasymetric population on a grid
# --------------------------------------------------------------------------------------


def grid_transform(bounds: tuple[float, float, float, float], cell: float) -> tuple[Affine, int, int]:
    """North-up grid covering ``bounds`` (minx, miny, maxx, maxy, metres) with square
    cells of ``cell`` metres, edges snapped outward to multiples of ``cell``.

    Returns (affine transform, width, height).
    """
    minx = np.floor(bounds[0] / cell) * cell
    miny = np.floor(bounds[1] / cell) * cell
    maxx = np.ceil(bounds[2] / cell) * cell
    maxy = np.ceil(bounds[3] / cell) * cell
    width = round(float((maxx - minx) / cell))
    height = round(float((maxy - miny) / cell))
    return Affine(cell, 0.0, float(minx), 0.0, -cell, float(maxy)), width, height


def rasterize_zones(
    geometries: Sequence[BaseGeometry], transform: Affine, shape: tuple[int, int]
) -> np.ndarray:
    """int32 raster: 1 + index of the geometry whose interior holds each cell centre,
    0 elsewhere.  Geometries must be in the grid's CRS and must not overlap; each cell
    belongs to one zone, so per-zone sums of an allocation are exact.
    """
    shapes = [(g, i + 1) for i, g in enumerate(geometries)]
    return features.rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="int32")


def point_density(
    xy: np.ndarray,
    weights: np.ndarray,
    transform: Affine,
    shape: tuple[int, int],
    *,
    sigma_cells: float,
) -> np.ndarray:
    """Sum of point ``weights`` per cell, smoothed by a Gaussian of ``sigma_cells``.

    ``xy``: (n, 2) coordinates in the grid's CRS.  Points off the grid are ignored.
    Returns a float64 array of ``shape``.
    """
    grid = np.zeros(shape, dtype=np.float64)
    if transform.b != 0 or transform.d != 0:
        raise ValueError("point_density needs a north-up grid (no rotation)")
    cols = np.floor((xy[:, 0] - transform.c) / transform.a).astype(np.int64)
    rows = np.floor((xy[:, 1] - transform.f) / transform.e).astype(np.int64)
    ok = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    np.add.at(grid, (rows[ok], cols[ok]), weights[ok])
    if sigma_cells > 0:
        grid = ndimage.gaussian_filter(grid, sigma=sigma_cells, mode="constant")
    return grid


def allocate_dasymetric(
    zone_ids: np.ndarray,
    totals: Mapping[int, float],
    weights: np.ndarray,
    *,
    uniform_share: float = 0.1,
) -> np.ndarray:
    """Spread each zone's total over its cells in proportion to ``weights``.

    ``zone_ids``: int raster (0 = no zone), ``totals``: zone id → people.  A share
    ``uniform_share`` of each total is spread evenly over the zone (people living
    where the weights see nothing, e.g. villages missing from OSM); the rest follows
    ``weights``.  A zone whose weights sum to zero is spread evenly.  Cells outside
    every zone are NaN.  Per-zone sums equal the totals up to float rounding.
    Raises ValueError if a zone with a total has no cell.
    """
    out = np.full(zone_ids.shape, np.nan, dtype=np.float64)
    for zone, total in totals.items():
        mask = zone_ids == zone
        n = int(mask.sum())
        if n == 0:
            raise ValueError(f"zone {zone} has a total of {total} but no cell on the grid")
        w = np.clip(weights[mask], 0.0, None)
        even = np.full(n, 1.0 / n)
        share = even if w.sum() <= 0 else (1 - uniform_share) * w / w.sum() + uniform_share * even
        out[mask] = total * share
    return out


def zonal_sums(values: np.ndarray, zone_ids: np.ndarray, n_zones: int) -> np.ndarray:
    """Sum of ``values`` (NaN as 0) per zone id 1..``n_zones``; index 0 of the result is zone 1."""
    v = np.nan_to_num(values.astype(np.float64), nan=0.0)
    return np.bincount(zone_ids.ravel(), weights=v.ravel(), minlength=n_zones + 1)[1:]


# --------------------------------------------------------------------------------------
# GeoJSON text with deterministic bytes
# --------------------------------------------------------------------------------------


def feature_collection_text(
    gdf: gpd.GeoDataFrame,
    *,
    value: Callable[[Any], Any] = lambda v: v,
    geometry: Callable[[BaseGeometry], BaseGeometry] = lambda g: g,
) -> str:
    """``gdf`` as a GeoJSON FeatureCollection, one compact feature per line in row order,
    properties in column order, non-ASCII text as is, no timestamps: the same frame
    gives the same text.

    ``value`` converts each property value to something JSON can hold; ``geometry``
    is applied to each geometry first (e.g. rounding its coordinates).  Coordinates
    are written as they are: the caller states the CRS (RFC 7946 wants WGS-84).
    """
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    lines = []
    for props, geom in zip(gdf[columns].itertuples(index=False), gdf.geometry, strict=True):
        feature = {
            "type": "Feature",
            "properties": {c: value(v) for c, v in zip(columns, props, strict=True)},
            "geometry": json.loads(shapely.to_geojson(geometry(geom))),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
