"""Regular analysis cells: square cells in EPSG:4548 and H3 hexagons.

Square cells live in CGCS2000 / 3-degree Gauss-Krüger CM 117E (EPSG:4548, metres),
aligned to multiples of the cell size, so a cell's code names the same square in
every run: ``"1000m:436:4420"`` is the 1 km square whose south-west corner is at
E 436 000 m, N 4 420 000 m.  H3 cells (Uber's hexagonal grid, h3 4.x) are named by
their index string; their polygons are WGS-84 (EPSG:4326).

Pure functions: no file or database access.
"""

from __future__ import annotations

from collections.abc import Sequence

import h3
import h3.api.basic_int as h3_int
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.errors import BadInput

#: Allowed square-cell sizes, metres.
MIN_CELL_M = 250.0
MAX_CELL_M = 5000.0
#: Allowed H3 resolutions (around Beijing res 6 ≈ 26 km², res 9 ≈ 0.08 km² per cell).
H3_RESOLUTIONS = (6, 7, 8, 9)


class GridError(BadInput):
    """A cell size or resolution outside the allowed range."""


def check_cell_size(cell_m: float) -> float:
    """``cell_m`` if within 250 m – 5 km, else :class:`GridError` naming it."""
    if not (MIN_CELL_M <= cell_m <= MAX_CELL_M):
        raise GridError(f"cell size {cell_m:g} m outside {MIN_CELL_M:g}–{MAX_CELL_M:g} m")
    return float(cell_m)


def check_h3_resolution(res: int) -> int:
    """``res`` if one of 6–9, else :class:`GridError` naming it."""
    if res not in H3_RESOLUTIONS:
        raise GridError(f"H3 resolution {res} outside {H3_RESOLUTIONS[0]}–{H3_RESOLUTIONS[-1]}")
    return int(res)


# --------------------------------------------------------------------------------------
# Square cells (EPSG:4548)
# --------------------------------------------------------------------------------------


def square_cell_indices(x_m: np.ndarray, y_m: np.ndarray, *, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Column and row index (``floor(x / cell)``, ``floor(y / cell)``) of EPSG:4548 points."""
    check_cell_size(cell_m)
    return (np.floor(np.asarray(x_m, float) / cell_m).astype(np.int64),
            np.floor(np.asarray(y_m, float) / cell_m).astype(np.int64))


def square_cell_code(ix: int, iy: int, *, cell_m: float) -> str:
    """Stable text code of the square cell (``"1000m:436:4420"``)."""
    return f"{cell_m:g}m:{ix}:{iy}"


def parse_square_cell_code(code: str) -> tuple[float, int, int]:
    """(cell size m, column, row) from a code made by :func:`square_cell_code`; ValueError if malformed."""
    try:
        size, ix, iy = code.split(":")
        if not size.endswith("m"):
            raise ValueError(code)
        return float(size[:-1]), int(ix), int(iy)
    except ValueError:
        raise GridError(f"not a square cell code: {code!r}") from None


def square_cells(
    ix: np.ndarray, iy: np.ndarray, *, cell_m: float, clip: BaseGeometry | None = None
) -> list[MultiPolygon]:
    """EPSG:4548 polygons of the cells (``ix``, ``iy``), each cut to ``clip`` (EPSG:4548) when given.

    Cells wholly inside ``clip`` stay squares; edge cells are intersected; a cell
    outside ``clip`` comes back empty.
    """
    boxes = shapely.box(ix * cell_m, iy * cell_m, (ix + 1) * cell_m, (iy + 1) * cell_m)
    if clip is None:
        return [MultiPolygon([b]) for b in boxes]
    shapely.prepare(clip)
    inside = shapely.contains(clip, boxes)
    out: list[MultiPolygon] = []
    for box, whole in zip(boxes, inside, strict=True):
        out.append(MultiPolygon([box]) if whole else _polygons(shapely.intersection(box, clip)))
    return out


def cover_extent(extent_m: BaseGeometry, *, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(``ix``, ``iy``) of every cell that intersects ``extent_m`` (EPSG:4548), row-major from the south-west."""
    check_cell_size(cell_m)
    minx, miny, maxx, maxy = extent_m.bounds
    ixs = np.arange(int(np.floor(minx / cell_m)), int(np.ceil(maxx / cell_m)))
    iys = np.arange(int(np.floor(miny / cell_m)), int(np.ceil(maxy / cell_m)))
    mesh_x, mesh_y = np.meshgrid(ixs, iys)
    gx, gy = mesh_x.ravel(), mesh_y.ravel()
    boxes = shapely.box(gx * cell_m, gy * cell_m, (gx + 1) * cell_m, (gy + 1) * cell_m)
    shapely.prepare(extent_m)
    hit = shapely.intersects(extent_m, boxes)
    return gx[hit], gy[hit]


def _polygons(geometry: BaseGeometry) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon) and not p.is_empty]
    return MultiPolygon(parts)


# --------------------------------------------------------------------------------------
# H3 cells (WGS-84)
# --------------------------------------------------------------------------------------


def h3_cell_ints(lon: np.ndarray, lat: np.ndarray, *, res: int) -> np.ndarray:
    """H3 index (as uint64) of each WGS-84 point at resolution ``res``.

    h3 4.x converts one point per call; the integer API is ~3× faster than the string one.
    """
    check_h3_resolution(res)
    to_cell = h3_int.latlng_to_cell
    lat_list = np.asarray(lat, float).tolist()
    lon_list = np.asarray(lon, float).tolist()
    return np.fromiter((to_cell(a, o, res) for a, o in zip(lat_list, lon_list, strict=True)), dtype=np.uint64,
                       count=len(lat_list))


def h3_cell_indices(lon: np.ndarray, lat: np.ndarray, *, res: int) -> np.ndarray:
    """H3 index string of each WGS-84 point at resolution ``res`` (object array)."""
    ints = h3_cell_ints(lon, lat, res=res)
    unique, inverse = np.unique(ints, return_inverse=True)
    names = np.array([h3.int_to_str(int(c)) for c in unique], dtype=object)
    return names[inverse]


def h3_polygons(cells: Sequence[str]) -> list[MultiPolygon]:
    """WGS-84 (lon, lat) polygon of each H3 cell (hexagons built in one vectorised call)."""
    rings = [h3.cell_to_boundary(c) for c in cells]
    out: list[MultiPolygon | None] = [None] * len(rings)
    hexes = [i for i, r in enumerate(rings) if len(r) == 6]
    if hexes:
        coords = np.array([rings[i] for i in hexes], dtype=float)[:, :, ::-1]  # (lat, lng) → (lng, lat)
        closed = np.concatenate([coords, coords[:, :1]], axis=1)
        polys = shapely.multipolygons(shapely.polygons(closed)[:, None])
        for i, p in zip(hexes, polys, strict=True):
            out[i] = p
    for i, ring in enumerate(rings):
        if out[i] is None:  # pentagons and cells with distortion vertices
            out[i] = MultiPolygon([Polygon([(lng, lat) for lat, lng in ring])])
    return [p for p in out if p is not None]


def h3_area_km2(cells: Sequence[str]) -> np.ndarray:
    """Area of each H3 cell on the authalic sphere (h3's ``cell_area``), km²."""
    return np.array([h3.cell_area(c, unit="km^2") for c in cells], dtype=float)


def h3_centres(cells: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) arrays of the cell centres, WGS-84."""
    pts = np.array([h3.cell_to_latlng(c) for c in cells], dtype=float).reshape(-1, 2)
    return pts[:, 1], pts[:, 0]
