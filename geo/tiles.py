"""Web-Mercator tile maths and the in-process Mapbox Vector Tile encoder.

The embedded store encodes tiles here; it reproduces what PostGIS does with
``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y), extent,
buffer, true))``: the same envelope, the same affine map to tile units (y down),
integer rounding to the nearest unit (half to even, like C's ``rint``), and
clipping to the tile plus its buffer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.errors import BadInput

#: Half the side of the Web-Mercator square, metres (EPSG:3857).
MERCATOR_HALF = 20037508.342789244
MAX_ZOOM = 24
#: Square tile units below which a polygon ring is dropped from a tile: ST_AsMVTGeom (its
#: clipper, Wagyu) drops a triangle of half a unit and keeps one of a whole unit.
MIN_RING_AREA = 1.0


class TileRangeError(BadInput):
    """z/x/y outside the tile pyramid."""


def check_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`TileRangeError` unless 0 <= z <= 24 and 0 <= x, y < 2**z."""
    if not 0 <= z <= MAX_ZOOM:
        raise TileRangeError(f"zoom {z} outside 0..{MAX_ZOOM}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise TileRangeError(f"tile {z}/{x}/{y}: x and y must be in 0..{n - 1}")


def tile_envelope(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Tile bounds in EPSG:3857 metres (minx, miny, maxx, maxy), as ST_TileEnvelope."""
    check_tile(z, x, y)
    size = 2 * MERCATOR_HALF / (1 << z)
    minx = -MERCATOR_HALF + x * size
    maxy = MERCATOR_HALF - y * size
    return minx, maxy - size, minx + size, maxy


@lru_cache(maxsize=2)
def _mercator(inverse: bool) -> Transformer:
    src, dst = ("EPSG:3857", "EPSG:4326") if inverse else ("EPSG:4326", "EPSG:3857")
    return Transformer.from_crs(src, dst, always_xy=True)


def tile_bbox_lonlat(z: int, x: int, y: int, *, buffer_fraction: float = 0.0) -> tuple[float, float, float, float]:
    """The tile (grown by ``buffer_fraction`` of its side, but not beyond the edge of the
    Web-Mercator world, where it would wrap round to the other side) as a lon/lat box."""
    minx, miny, maxx, maxy = tile_envelope(z, x, y)
    pad = (maxx - minx) * buffer_fraction
    xs = np.clip([minx - pad, maxx + pad], -MERCATOR_HALF, MERCATOR_HALF)
    ys = np.clip([miny - pad, maxy + pad], -MERCATOR_HALF, MERCATOR_HALF)
    lon, lat = _mercator(True).transform(xs, ys)
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def to_tile_coords(geoms: np.ndarray, z: int, x: int, y: int, *, extent: int) -> np.ndarray:
    """WGS-84 geometries -> tile units (origin top-left, y down), rounded to integers.

    Lines and polygons are snapped as ST_AsMVTGeom (PostGIS 3.3) does: vertices rounded,
    consecutive duplicates and then vertices on a straight line between their neighbours
    removed; a ring left with fewer than 4 vertices (a polygon smaller than the tile's
    resolution) or a line with one point is dropped (:func:`snap_to_units`).
    """
    minx, miny, maxx, maxy = tile_envelope(z, x, y)
    fwd = _mercator(False)

    def affine(xy: np.ndarray) -> np.ndarray:
        mx, my = fwd.transform(xy[:, 0], xy[:, 1])
        tx = (np.asarray(mx) - minx) * extent / (maxx - minx)
        ty = (maxy - np.asarray(my)) * extent / (maxy - miny)
        return np.column_stack([tx, ty])

    units = shapely.transform(geoms, affine)
    out = np.empty(len(units), dtype=object)
    for i, g in enumerate(units):
        out[i] = shapely.transform(g, np.rint) if g.geom_type == "Point" else snap_to_units(g)
    return out


def _without_collinear(xy: np.ndarray) -> np.ndarray:
    """Drop each vertex lying on the segment from the last vertex kept to the next one
    (liblwgeom's simplify at tolerance 0); the first and last vertices stay."""
    if len(xy) < 3:
        return xy
    kept = [0]
    for i in range(1, len(xy) - 1):
        a, c, b = xy[kept[-1]], xy[i], xy[i + 1]
        ab, ac = b - a, c - a
        dot = float(ac @ ab)
        if dot < 0.0 or dot > float(ab @ ab) or ac[0] * ab[1] - ac[1] * ab[0] != 0:
            kept.append(i)
    kept.append(len(xy) - 1)
    return xy[kept]


def _snapped_line(xy: np.ndarray, *, ring: bool) -> np.ndarray | None:
    """One line's or ring's vertices snapped (see :func:`snap_to_units`); None: dropped."""
    xy = np.rint(xy)
    xy = xy[np.r_[True, (np.diff(xy, axis=0) != 0).any(axis=1)]]
    if len(xy) < (4 if ring else 2):
        return None
    xy = _without_collinear(xy)
    if ring:
        return xy if len(xy) >= 4 else None
    return None if len(xy) == 2 and np.array_equal(xy[0], xy[1]) else xy


def _rebuild(geom: BaseGeometry, fix: Any) -> BaseGeometry:
    """``geom`` with each line and ring's vertices passed through ``fix`` (vertices -> vertices
    or None: dropped); a polygon whose shell is dropped, a collection with no part left: empty."""
    kind = geom.geom_type
    if kind == "LineString":
        xy = fix(shapely.get_coordinates(geom), ring=False)
        return shapely.LineString(xy) if xy is not None else shapely.LineString()
    if kind == "Polygon":
        shell = fix(shapely.get_coordinates(geom.exterior), ring=True)
        if shell is None:
            return shapely.Polygon()
        holes = [h for h in (fix(shapely.get_coordinates(r), ring=True) for r in geom.interiors) if h is not None]
        return shapely.Polygon(shell, holes)
    if kind.startswith("Multi") or kind == "GeometryCollection":
        parts = [p for p in (_rebuild(g, fix) for g in geom.geoms) if not p.is_empty]
        return type(geom)(parts) if parts else type(geom)()
    return geom


def snap_to_units(geom: BaseGeometry) -> BaseGeometry:
    """A line or polygon (in tile units) snapped as ST_AsMVTGeom does: vertices rounded to
    whole units (half to even), consecutive duplicates removed, then vertices on a straight
    line between their neighbours; a ring left with fewer than 4 vertices or a line with one
    point is dropped (a polygon whose outer ring goes is empty)."""
    return _rebuild(geom, _snapped_line)


def parts_of_dimension(geom: BaseGeometry, dim: int) -> BaseGeometry:
    """The parts of ``geom`` of dimension ``dim`` (0 points, 1 lines, 2 polygons), as one
    geometry of that basic type — what ST_AsMVTGeom keeps of a clipped or repaired
    geometry: a polygon cut to a sliver keeps no line, a collection from a clip is reduced
    to its polygons.  Nothing left: an empty geometry.  Parts keep their order."""
    parts = np.asarray([geom], dtype=object)
    while (shapely.get_type_id(parts) >= 4).any():  # Multi* and collections: one level at a time
        parts = shapely.get_parts(parts)
    parts = parts[(shapely.get_dimensions(parts) == dim) & ~shapely.is_empty(parts)]
    if not len(parts):
        return shapely.GeometryCollection()
    if len(parts) == 1:
        return parts[0]
    combine = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim]
    return combine(parts)


def clip_to_tile(geoms: np.ndarray, *, extent: int, buffer: int) -> np.ndarray:
    """Clip tile-unit geometries to [-buffer, extent + buffer] as ST_AsMVTGeom does.

    Points outside become empty.  A polygon, which rounding to tile units may have made
    invalid, is repaired, clipped and repaired again, keeping only polygons each time
    (:func:`parts_of_dimension`); a line keeps only lines.  So every geometry stays of
    its own basic type, or becomes empty and is left out of the tile.
    """
    lo, hi = -buffer, extent + buffer
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        if g.geom_type == "Point":
            inside = lo <= g.x <= hi and lo <= g.y <= hi
            out[i] = g if inside else shapely.Point()
            continue
        dim = int(shapely.get_dimensions(g))
        if dim == 2:
            g = _repaired_polygons(g)
        g = parts_of_dimension(shapely.clip_by_rect(g, lo, lo, hi, hi), dim)
        out[i] = _without_small_rings(_repaired_polygons(g)) if dim == 2 else g
    return out


def _without_small_rings(geom: BaseGeometry) -> BaseGeometry:
    """Polygons without rings under MIN_RING_AREA square tile units: a polygon whose outer
    ring is that small goes, a hole that small is filled (as PostGIS's clipper, Wagyu, does)."""
    if geom.is_empty:
        return geom
    kept = []
    for polygon in shapely.get_parts(geom):
        if abs(shapely.area(shapely.Polygon(polygon.exterior))) < MIN_RING_AREA:
            continue
        holes = [r for r in polygon.interiors if shapely.Polygon(r).area >= MIN_RING_AREA]
        kept.append(shapely.Polygon(polygon.exterior, holes))
    if not kept:
        return shapely.GeometryCollection()
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def _repaired_polygons(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of ``geom`` made valid; parts collapsed by rounding to tile units (to a
    point or a line) are dropped, not turned into lines ("structure" repair: the default
    one refuses such mixed input — "Overlay input is mixed-dimension")."""
    if geom.is_empty or shapely.is_valid(geom):
        return geom
    return parts_of_dimension(shapely.make_valid(geom, method="structure", keep_collapsed=False), 2)


def encode_tile(
    layer_name: str,
    geoms: Sequence[BaseGeometry],
    properties: Sequence[Mapping[str, Any]],
    *,
    extent: int,
) -> bytes:
    """Encode tile-unit geometries (already clipped and rounded) as one MVT layer."""
    features = [
        {"geometry": g, "properties": {k: v for k, v in p.items() if v is not None}}
        for g, p in zip(geoms, properties, strict=True)
        if not g.is_empty
    ]
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": layer_name, "features": features}],
        default_options={"extents": extent, "y_coord_down": True, "quantize_bounds": None},
    )


@dataclass(frozen=True)
class ClusterCells:
    """Points counted in square cells of one zoom level, by global cell index.

    ``i`` counts cells from the west edge of the Web-Mercator world, ``j`` from its north
    edge; ``counts[:, k]`` holds the points whose value is ``values[k]``; ``n`` every point.
    """

    z: int
    i: np.ndarray
    j: np.ndarray
    n: np.ndarray
    counts: np.ndarray

    @staticmethod
    def empty(z: int, n_values: int) -> ClusterCells:
        none = np.zeros(0, dtype=np.int64)
        return ClusterCells(z, none, none, none, np.zeros((0, n_values), dtype=np.int64))


def cluster_base_cells(
    lon: np.ndarray, lat: np.ndarray, values: Sequence[Any] | None, *, base_zoom: int, extent: int, cell: int,
    value_set: Sequence[str],
) -> ClusterCells:
    """Count WGS-84 points in the cells of ``base_zoom``.

    A point's position is its Web-Mercator coordinate in tile units of ``base_zoom``
    (``extent`` units per tile), rounded half up to an integer as a tile would draw it;
    its cell is that position floor-divided by ``cell``.  Cells nest: the cell of a point
    at a lower zoom z is its base cell shifted right by ``base_zoom - z`` bits
    (:func:`coarser_cells`), so a cluster never changes with the tile that draws it.
    """
    mx, my = _mercator(False).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    scale = ((1 << base_zoom) * extent) / (2 * MERCATOR_HALF)
    px = np.floor((np.asarray(mx) + MERCATOR_HALF) * scale + 0.5).astype(np.int64)
    py = np.floor((MERCATOR_HALF - np.asarray(my)) * scale + 0.5).astype(np.int64)
    flags = np.zeros((len(px), len(value_set)), dtype=np.int64)
    if values is not None:
        vals = np.asarray(values, dtype=object)
        for k, v in enumerate(value_set):
            flags[:, k] = vals == v
    return _group_cells(base_zoom, px // cell, py // cell, np.ones(len(px), dtype=np.int64), flags)


def _group_cells(z: int, i: np.ndarray, j: np.ndarray, n: np.ndarray, counts: np.ndarray) -> ClusterCells:
    if not len(i):
        return ClusterCells.empty(z, counts.shape[1])
    ij, which = np.unique(np.column_stack([i, j]), axis=0, return_inverse=True)
    which = which.ravel()
    total = np.zeros(len(ij), dtype=np.int64)
    np.add.at(total, which, n)
    per_value = np.zeros((len(ij), counts.shape[1]), dtype=np.int64)
    np.add.at(per_value, which, counts)
    return ClusterCells(z, ij[:, 0].astype(np.int64), ij[:, 1].astype(np.int64), total, per_value)


def coarser_cells(cells: ClusterCells, z: int) -> ClusterCells:
    """The same points counted in the cells of zoom ``z`` (<= ``cells.z``)."""
    if z > cells.z:
        raise ValueError(f"zoom {z} is finer than the cells' zoom {cells.z}")
    shift = cells.z - z
    return _group_cells(z, cells.i >> shift, cells.j >> shift, cells.n, cells.counts)


def cluster_tile_features(
    cells: ClusterCells, x: int, y: int, *, extent: int, cell: int, value_set: Sequence[str],
) -> tuple[list[BaseGeometry], list[dict[str, Any]]]:
    """The clusters tile ``cells.z``/x/y draws: its cells and the complete ring of cells
    around it (so a cluster at a tile edge is the same, uncut, in both tiles), each a
    point at the cell centre (tile units, y down) with ``count``, ``n_<value>`` and a
    ``key`` that is the same in every tile (``cluster:z/i/j``), ordered by i, j."""
    per_tile = extent // cell
    i0, j0 = x * per_tile, y * per_tile
    inside = (cells.i >= i0 - 1) & (cells.i <= i0 + per_tile) & (cells.j >= j0 - 1) & (cells.j <= j0 + per_tile)
    idx = np.flatnonzero(inside)
    idx = idx[np.lexsort((cells.j[idx], cells.i[idx]))]
    half = cell // 2
    geoms: list[BaseGeometry] = []
    props: list[dict[str, Any]] = []
    for k in idx:
        i, j = int(cells.i[k]), int(cells.j[k])
        geoms.append(shapely.Point((i - i0) * cell + half, (j - j0) * cell + half))
        props.append({"count": int(cells.n[k]),
                      **{f"n_{v}": int(cells.counts[k, m]) for m, v in enumerate(value_set)},
                      "key": f"cluster:{cells.z}/{i}/{j}"})
    return geoms, props


def encode_clusters(
    layer_name: str, cells: ClusterCells, x: int, y: int, *, extent: int, cell: int, value_set: Sequence[str],
) -> bytes:
    """One MVT layer of the clusters tile ``cells.z``/x/y draws (:func:`cluster_tile_features`)."""
    geoms, props = cluster_tile_features(cells, x, y, extent=extent, cell=cell, value_set=value_set)
    return encode_tile(layer_name, geoms, props, extent=extent)
