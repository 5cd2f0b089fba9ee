"""Vectorised random draws for the synthetic demo records: categories by share,
counts that add up, and points placed near real anchors inside their polygon.

Coordinates are WGS-84 longitude/latitude (EPSG:4326) in degrees; jitter distances
are metres.  Every function draws from the ``rng`` it is given in a fixed order, so a
seeded generator gives the same values.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
#: Metres per degree of latitude (and of longitude at the equator), spherical approximation.
_METRES_PER_DEGREE = 111_320.0


def choice(rng: np.random.Generator, options: Sequence[str], shares: Sequence[float], n: int) -> NDArray[np.object_]:
    """``n`` draws of ``options`` with probabilities proportional to ``shares``."""
    p = np.asarray(shares, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p / p.sum())]


def choice_of(rng: np.random.Generator, table: dict[str, float], n: int) -> NDArray[np.object_]:
    """``n`` draws of the keys of ``table``, weighted by its values."""
    return choice(rng, list(table), list(table.values()), n)


def exact_split(rng: np.random.Generator, total: int, n: int, sigma: float) -> I64:
    """``n`` positive integers summing to ``total`` (≥ n), lognormally spread."""
    weights = rng.lognormal(0.0, sigma, n)
    raw = weights / weights.sum() * (total - n)
    counts = np.floor(raw).astype(np.int64)
    remainder = total - n - int(counts.sum())
    counts[np.argsort(raw - counts)[::-1][:remainder]] += 1
    return counts + 1


def jitter(rng: np.random.Generator, lon: F64, lat: F64, min_m: float, max_m: float) -> tuple[F64, F64]:
    """Points moved min_m–max_m metres in a random direction (local spherical approximation)."""
    n = len(lon)
    bearing = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(min_m, max_m, n)
    dlat = dist * np.cos(bearing) / _METRES_PER_DEGREE
    dlon = dist * np.sin(bearing) / (_METRES_PER_DEGREE * np.cos(np.radians(lat)))
    return lon + dlon, lat + dlat


def keep_inside(
    lon: F64, lat: F64, fallback: tuple[F64, F64], codes: NDArray[np.object_], polygons: dict[str, BaseGeometry]
) -> tuple[F64, F64]:
    """Points outside the polygon of their code go back to their fallback point."""
    lon, lat = lon.copy(), lat.copy()
    for code in sorted(set(codes.tolist())):
        idx = np.flatnonzero(codes == code)
        inside = shapely.contains_xy(polygons[code], lon[idx], lat[idx])
        out = idx[~inside]
        lon[out], lat[out] = fallback[0][out], fallback[1][out]
    return lon, lat


def place_near(
    rng: np.random.Generator,
    anchors: gpd.GeoDataFrame,
    codes: NDArray[np.object_],
    preferred: Sequence[str],
    polygons: dict[str, BaseGeometry],
    jitter_m: tuple[float, float],
) -> tuple[F64, F64]:
    """One point per ``codes`` entry: a random anchor of a ``preferred`` type in that
    district/county (any anchor there if it has none), moved by ``jitter_m`` metres,
    kept inside the polygon."""
    ax = anchors.geometry.x.to_numpy()
    ay = anchors.geometry.y.to_numpy()
    a_codes = anchors["county_code"].to_numpy()
    a_pref = anchors["target_type"].isin(list(preferred)).to_numpy()
    base_x = np.empty(len(codes))
    base_y = np.empty(len(codes))
    for code in sorted(set(codes.tolist())):
        idx = np.flatnonzero(codes == code)
        pool = np.flatnonzero((a_codes == code) & a_pref)
        if pool.size == 0:
            pool = np.flatnonzero(a_codes == code)
        if pool.size == 0:  # no anchor at all: a random point inside the polygon
            pts = random_points_in(rng, polygons[code], idx.size)
            base_x[idx], base_y[idx] = pts
            continue
        pick = pool[rng.integers(0, pool.size, idx.size)]
        base_x[idx], base_y[idx] = ax[pick], ay[pick]
    lon, lat = jitter(rng, base_x, base_y, *jitter_m)
    return keep_inside(lon, lat, (base_x, base_y), codes, polygons)


def random_points_in(rng: np.random.Generator, polygon: BaseGeometry, n: int) -> tuple[F64, F64]:
    """``n`` points uniformly inside ``polygon`` (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = polygon.bounds
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < n:
        x = rng.uniform(minx, maxx, 4 * n)
        y = rng.uniform(miny, maxy, 4 * n)
        ok = shapely.contains_xy(polygon, x, y)
        xs.extend(x[ok].tolist())
        ys.extend(y[ok].tolist())
    return np.asarray(xs[:n]), np.asarray(ys[:n])
