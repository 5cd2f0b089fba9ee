"""Web-Mercator tile maths and the in-process Mapbox Vector Tile encoder.

The embedded store encodes tiles here; it reproduces what PostGIS does with
``ST_AsMVT(ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y), extent,
buffer, true))``: the same envelope, the same affine map to tile units (y down),
integer rounding to the nearest unit (half to even, like C's ``rint``), and
clipping to the tile plus its buffer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

#: Half the side of the Web-Mercator square, metres (EPSG:3857).
MERCATOR_HALF = 20037508.342789244
MAX_ZOOM = 24


class TileRangeError(ValueError):
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
    """The tile (grown by ``buffer_fraction`` of its side) as a lon/lat box."""
    minx, miny, maxx, maxy = tile_envelope(z, x, y)
    pad = (maxx - minx) * buffer_fraction
    lon, lat = _mercator(True).transform([minx - pad, maxx + pad], [miny - pad, maxy + pad])
    return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])


def to_tile_coords(geoms: np.ndarray, z: int, x: int, y: int, *, extent: int) -> np.ndarray:
    """WGS-84 geometries -> tile units (origin top-left, y down), rounded to integers."""
    minx, miny, maxx, maxy = tile_envelope(z, x, y)
    fwd = _mercator(False)

    def affine(xy: np.ndarray) -> np.ndarray:
        mx, my = fwd.transform(xy[:, 0], xy[:, 1])
        tx = (np.asarray(mx) - minx) * extent / (maxx - minx)
        ty = (maxy - np.asarray(my)) * extent / (maxy - miny)
        return np.rint(np.column_stack([tx, ty]))

    return shapely.transform(geoms, affine)


def clip_to_tile(geoms: np.ndarray, *, extent: int, buffer: int) -> np.ndarray:
    """Clip tile-unit geometries to [-buffer, extent + buffer]; points outside become empty."""
    lo, hi = -buffer, extent + buffer
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        if g.geom_type == "Point":
            inside = lo <= g.x <= hi and lo <= g.y <= hi
            out[i] = g if inside else shapely.Point()
        else:
            out[i] = shapely.make_valid(shapely.clip_by_rect(g, lo, lo, hi, hi)) \
                if g.geom_type.endswith("Polygon") else shapely.clip_by_rect(g, lo, lo, hi, hi)
    return out


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


def cluster_key(z: int, x: int, y: int, i: int, j: int, *, extent: int, cell: int) -> str:
    """The key of a cluster square: the same in every tile that draws it."""
    n = extent // cell
    return f"cluster:{z}/{x * n + i}/{y * n + j}"


def cluster_cells(
    tile_xy: np.ndarray, values: Sequence[Any] | None, *, extent: int, cell: int, value_set: Sequence[str]
) -> tuple[list[BaseGeometry], list[dict[str, Any]], list[tuple[int, int]]]:
    """Group tile-unit points into ``cell``-sized squares.

    The squares of the tile and the ring of squares around it are all complete (points
    from ``-cell`` to ``extent + cell``), so a cluster drawn at a tile's edge is the same
    in both tiles and its circle is not cut at the tile border.  ``extent`` must be a
    multiple of ``cell``.  Returns the square centres (integer tile units), their
    properties (``count`` and ``n_<value>`` per value) and their (i, j) indices within
    the tile (-1 .. extent/cell), ordered by i, j.
    """
    xy = np.asarray(tile_xy, dtype=float).reshape(-1, 2)
    lo, hi = -cell, extent + cell
    inside = (xy[:, 0] >= lo) & (xy[:, 0] < hi) & (xy[:, 1] >= lo) & (xy[:, 1] < hi)
    ij = np.floor(xy[inside] / cell).astype(np.int64)
    cells, which = np.unique(ij, axis=0, return_inverse=True)
    which = which.ravel()
    counts = np.bincount(which, minlength=len(cells))
    per_value: dict[str, np.ndarray] = {}
    if values is not None:
        vals = np.asarray(values, dtype=object)[inside]
        for v in value_set:
            per_value[v] = np.bincount(which, weights=(vals == v).astype(float), minlength=len(cells))
    half = cell // 2
    geoms: list[BaseGeometry] = [shapely.Point(int(i) * cell + half, int(j) * cell + half) for i, j in cells]
    props = [
        {"count": int(counts[n]), **{f"n_{v}": int(per_value[v][n]) if v in per_value else 0 for v in value_set}}
        for n in range(len(cells))
    ]
    return geoms, props, [(int(i), int(j)) for i, j in cells]
