"""Coordinate reference systems and Chinese datum shifts for Jing-Jin-Ji.

Everything is stored in WGS 84 (EPSG:4326).  CGCS2000 (EPSG:4490) differs from
WGS 84 by well under a metre (about 10 cm in Beijing), so it is treated as the
same datum here and converted as the identity.  Chinese web sources mostly
publish coordinates in two obfuscated datums:

* GCJ-02 (Amap/Gaode, Tencent, Google China): WGS 84 plus a smooth offset,
  460–670 m across Jing-Jin-Ji.
* BD-09 (Baidu): GCJ-02 plus a further offset, 830–910 m across Jing-Jin-Ji.

The forward shifts (``wgs84_to_gcj02``, ``gcj02_to_bd09``) are the published
formulas, with the Krasovsky semi-major axis 6378245 m.  Their inverses are not
closed-form; here they are solved by fixed-point iteration on the forward
function until the last correction is below 1e-9 degree (about 0.1 mm), so a
round trip returns within 0.01 m.  The usual one-step inverses found in most
libraries are off by up to a few metres.

Points outside China's rectangle (lon 72.004–137.8347 °E, lat 0.8293–55.8271 °N;
the datum shifts are defined only inside it) pass through every conversion
unchanged, as do NaN and infinite coordinates.  Other bad input is numpy's to
reject: lon and lat that do not broadcast together raise ValueError, values that
are not numbers raise ValueError or TypeError.

Distances across the region belong to :mod:`geo.distance`; this module only
names the CRSs and shifts coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from geo.errors import BadInput

#: WGS 84 longitude/latitude (degrees): the CRS of GPS, OSM and the vendored reference files.
WGS84 = "EPSG:4326"
#: Geographic CRS everything is stored in (WGS 84, degrees), and its SRID in PostGIS.
STORAGE_CRS = WGS84
STORAGE_SRID = 4326
#: Metric CRS for Beijing: CGCS2000 / 3-degree Gauss-Kruger CM 117E (metres, x east).
#: Its zone is 115.5–118.5 °E, which fits Beijing and Tianjin; across all of
#: Jing-Jin-Ji (113.5–119.9 °E) use the geodesic distances of :mod:`geo.distance`.
BEIJING_METRIC_CRS = "EPSG:4548"

#: (min lon, min lat, max lon, max lat) in WGS 84 degrees.  Jing-Jin-Ji: Hebei spans
#: 113.46–119.85 °E, 36.05–42.61 °N (data/reference/areas_admin.geojson) and surrounds
#: Beijing and Tianjin; the box adds 0.05–0.09 degree of margin.
JJJ_BBOX: tuple[float, float, float, float] = (113.4, 36.0, 119.9, 42.7)
#: Beijing municipality: 115.41–117.51 °E, 39.44–41.06 °N, plus a margin.
BEIJING_BBOX: tuple[float, float, float, float] = (115.3, 39.4, 117.6, 41.1)

#: Datum names accepted by :func:`convert`.  ``cgcs2000`` is treated as ``wgs84``.
DATUMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

#: Coordinates in or out: a numpy array, or a numpy float64 scalar for scalar input.
Coord = float | NDArray[np.float64]
_F = NDArray[np.float64]
_Pair = tuple[_F, _F]
_Kernel = Callable[[_F, _F], _Pair]

# The rectangle inside which the datum shifts apply.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# GCJ-02 constants: Krasovsky 1940 semi-major axis and first eccentricity squared.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_LAT_SCALE = 180.0 / (_GCJ_A * (1.0 - _GCJ_EE) * math.pi)
_LON_SCALE = 180.0 / (_GCJ_A * math.pi)
_E35 = complex(math.cos(math.radians(35.0)), math.sin(math.radians(35.0)))  # exp(i 35°)

# BD-09 constants.
_BD_K = math.pi * 3000.0 / 180.0
_BD_PERIOD = 360.0 / 3000.0  # degrees: sin(_BD_K * v) repeats every 0.12 degree
_BD_DLON = 0.0065
_BD_DLAT = 0.006
_BD_DR = 0.00002
_BD_DTHETA = 0.000003

#: Iterative inverses stop once a point's last correction is below this (degrees).
INVERSE_TOL_DEG = 1e-9
#: ... or after this many passes (never reached in China: each pass gains 2+ digits);
#: a point still moving then keeps its last estimate.
INVERSE_MAX_ITER = 30

_PI = math.pi


# ---------------------------------------------------------------------------
# Input handling


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> _Pair:
    """Broadcast to float64 arrays the caller may modify (always copies)."""
    lo, la = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.array(lo, dtype=np.float64), np.array(la, dtype=np.float64)


def _result(lon: _F, lat: _F) -> tuple[Coord, Coord]:
    """0-d results become numpy float64 scalars; arrays keep their shape."""
    if lon.ndim == 0:
        return lon[()], lat[()]
    return lon, lat


def _in_china(lon: _F, lat: _F) -> NDArray[np.bool_]:
    """True where the datum shifts apply; NaN compares False, so NaN is 'outside'."""
    return (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) degrees lie outside the rectangle the datum shifts apply to.

    NaN coordinates count as outside (they pass through conversions unchanged).
    """
    lo, la = _as_arrays(lon, lat)
    return ~_in_china(lo, la)


# Points per block: numpy temporaries of this size stay in the CPU cache, which
# makes the arithmetic between the trig calls two to three times faster.
_BLOCK = 1 << 14


def _blockwise(fn: _Kernel, lon: _F, lat: _F) -> _Pair:
    """Apply ``fn`` to 1-d arrays in blocks of ``_BLOCK`` points."""
    out_lon = np.empty_like(lon)
    out_lat = np.empty_like(lat)
    for start in range(0, lon.size, _BLOCK):
        block = slice(start, start + _BLOCK)
        out_lon[block], out_lat[block] = fn(lon[block], lat[block])
    return out_lon, out_lat


def _apply_inside(fn: _Kernel, lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """Apply ``fn`` to the points inside China; the rest pass through unchanged."""
    lo, la = _as_arrays(lon, lat)
    flat_lo, flat_la = lo.reshape(-1), la.reshape(-1)  # views: lo and la are fresh contiguous copies
    inside = _in_china(flat_lo, flat_la)
    if inside.all():  # the common case: no fancy indexing
        flat_lo[:], flat_la[:] = _blockwise(fn, flat_lo, flat_la)
    elif inside.any():
        flat_lo[inside], flat_la[inside] = _blockwise(fn, flat_lo[inside], flat_la[inside])
    return _result(lo, la)


# ---------------------------------------------------------------------------
# GCJ-02


def _sin3(s: _F) -> _F:
    """sin(3t) from s = sin(t)."""
    return s * (3.0 - 4.0 * s * s)


def _phasor(t: _F) -> NDArray[np.complex128]:
    """exp(i t) from one cos and one sin (np.exp on complex input is slower)."""
    e = np.empty(t.shape, dtype=np.complex128)
    e.real = np.cos(t)
    e.imag = np.sin(t)
    return e


def _gcj_offset(lon: _F, lat: _F) -> _Pair:
    """GCJ-02 minus WGS-84 at the WGS-84 point (lon, lat), in degrees (points inside China).

    The published formula, rearranged for speed.  Its sines are the cost, and
    every angle is an integer multiple of pi x / 60 or pi y / 180 (x = lon - 105,
    y = lat - 35; the latitude itself is pi y / 180 plus a constant), so each
    family comes from one cos/sin pair raised to integer powers by complex
    multiplication: four libm calls instead of twelve.  The powers (up to 120)
    cost < 2e-14 in accuracy, far below a micrometre.
    """
    x = lon - 105.0
    y = lat - 35.0
    ex = _phasor(x * (_PI / 60.0))
    e2 = ex * ex
    e5 = e2 * e2 * ex
    e20 = np.square(np.square(e5))
    e120 = np.square(e20 * e20 * e20)
    sx30, sx12, sx3, s2x = e2.imag, e5.imag, e20.imag, e120.imag  # sin(pi x / 30) ... sin(2 pi x)
    ey = _phasor(y * (_PI / 180.0))
    e3 = ey * ey * ey
    e6 = e3 * e3
    e15 = np.square(e6) * e3
    e60 = np.square(np.square(e15))
    sy30, sy12, sy3 = e6.imag, e15.imag, e60.imag  # sin(pi y / 30), sin(pi y / 12), sin(pi y / 3)
    elat = ey * _E35  # exp(i * latitude in radians)

    # 2/3 (20 sin(6 pi x) + 20 sin(2 pi x)), in both components
    common = (40.0 / 3.0) * (_sin3(s2x) + s2x)
    xy01 = 0.1 * x * y
    sqrt_abs_x = np.sqrt(np.abs(x))
    ret_lon = (
        common
        + (40.0 / 3.0) * _sin3(sx3)  # 2/3 * 20 sin(pi x)
        + (80.0 / 3.0) * sx3
        + 100.0 * sx12
        + 200.0 * sx30
        + (300.0 + x + 2.0 * y + 0.1 * x * x + xy01 + 0.1 * sqrt_abs_x)
    )
    ret_lat = (
        common
        + (40.0 / 3.0) * _sin3(sy3)  # 2/3 * 20 sin(pi y)
        + (80.0 / 3.0) * sy3
        + (320.0 / 3.0) * sy12
        + (640.0 / 3.0) * sy30
        + (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + xy01 + 0.2 * sqrt_abs_x)
    )
    sin_lat = elat.imag
    cos_lat = elat.real
    magic = 1.0 - _GCJ_EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    dlat = ret_lat * (magic * sqrt_magic * _LAT_SCALE)
    dlon = ret_lon * (sqrt_magic * _LON_SCALE) / cos_lat
    return dlon, dlat


def _wgs_to_gcj(lon: _F, lat: _F) -> _Pair:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs(glon: _F, glat: _F) -> _Pair:
    # Solve w + offset(w) = g by w <- g - offset(w).  The offset changes by at
    # most ~0.5 % of a step, so each pass gains 2-3 digits: ~700 m, 3 m, 2 cm,
    # 0.1 mm, ...  Points drop out of the loop as they converge.
    dlon, dlat = _gcj_offset(glon, glat)
    wlon = glon - dlon
    wlat = glat - dlat
    active = np.arange(glon.size)
    for _ in range(INVERSE_MAX_ITER - 1):
        gl, ga, wl, wa = glon[active], glat[active], wlon[active], wlat[active]
        dlon, dlat = _gcj_offset(wl, wa)
        nl = gl - dlon
        na = ga - dlat
        correction = np.maximum(np.abs(nl - wl), np.abs(na - wa))
        wlon[active] = nl
        wlat[active] = na
        active = active[correction >= INVERSE_TOL_DEG]
        if active.size == 0:
            break
    return wlon, wlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS-84 (or CGCS2000) degrees to GCJ-02 degrees, vectorised.

    ``lon`` and ``lat`` are scalars or arrays that broadcast together (a
    ValueError otherwise); scalars give numpy float64 scalars back.  Points
    outside China and NaN pass through unchanged.
    """
    return _apply_inside(_wgs_to_gcj, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """GCJ-02 degrees to WGS-84 degrees, exact inverse of :func:`wgs84_to_gcj02`.

    Iterates until the last correction is below ``INVERSE_TOL_DEG`` (1e-9 degree,
    ~0.1 mm), at most ``INVERSE_MAX_ITER`` times, so ``wgs84_to_gcj02`` of the
    result reproduces the input within 0.01 m.  Broadcasting, scalars, NaN and
    points outside China (tested on the GCJ-02 input) as in :func:`wgs84_to_gcj02`.
    """
    return _apply_inside(_gcj_to_wgs, lon, lat)


# ---------------------------------------------------------------------------
# BD-09
#
# Baidu's shift in polar form about (0, 0): radius + 2e-5 sin(k lat), angle +
# 3e-6 cos(k lon), then translate by (0.0065, 0.006).  The angle change is at most
# 3e-6 rad, so cos/sin of the rotated angle come from a second-order expansion
# (error < 1e-15 degree) instead of atan2, cos and sin: two trig calls per pass.


def _bd_angle(v: _F) -> _F:
    """_BD_K * v reduced to [-pi, pi], where np.sin is faster than on ~2000 rad."""
    return (v - _BD_PERIOD * np.rint(v / _BD_PERIOD)) * _BD_K


def _gcj_to_bd(lon: _F, lat: _F) -> _Pair:
    r = np.hypot(lon, lat)
    h = _BD_DTHETA * np.cos(_bd_angle(lon))
    scale = 1.0 + _BD_DR * np.sin(_bd_angle(lat)) / r  # (r + 2e-5 sin) / r
    cos_h = 1.0 - 0.5 * h * h
    return (
        scale * (lon * cos_h - lat * h) + _BD_DLON,
        scale * (lat * cos_h + lon * h) + _BD_DLAT,
    )


def _bd_to_gcj(blon: _F, blat: _F) -> _Pair:
    # Target radius and direction of the shifted point; solve for (lon, lat) with
    # r = R - 2e-5 sin(k lat) and angle = A - 3e-6 cos(k lon).  The first pass is
    # the classic closed-form inverse (off by up to ~0.2 m); each further pass
    # gains about 1.7 digits.
    bx = blon - _BD_DLON
    by = blat - _BD_DLAT
    big_r = np.hypot(bx, by)
    cos_a = bx / big_r
    sin_a = by / big_r
    lon = bx.copy()
    lat = by.copy()
    active = np.arange(blon.size)
    for _ in range(INVERSE_MAX_ITER):
        lo, la = lon[active], lat[active]
        rr = big_r[active] - _BD_DR * np.sin(_bd_angle(la))
        h = _BD_DTHETA * np.cos(_bd_angle(lo))
        cos_h = 1.0 - 0.5 * h * h
        ca, sa = cos_a[active], sin_a[active]
        nl = rr * (ca * cos_h + sa * h)
        na = rr * (sa * cos_h - ca * h)
        correction = np.maximum(np.abs(nl - lo), np.abs(na - la))
        lon[active] = nl
        lat[active] = na
        active = active[correction >= INVERSE_TOL_DEG]
        if active.size == 0:
            break
    return lon, lat


def _wgs_to_bd(lon: _F, lat: _F) -> _Pair:
    return _gcj_to_bd(*_wgs_to_gcj(lon, lat))


def _bd_to_wgs(lon: _F, lat: _F) -> _Pair:
    return _gcj_to_wgs(*_bd_to_gcj(lon, lat))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """GCJ-02 degrees to BD-09 degrees, vectorised.

    Broadcasting, scalars, NaN and points outside China as in :func:`wgs84_to_gcj02`
    (Baidu's own formula has no China test; this one leaves outside points alone
    so that every conversion here treats the same points the same way).
    """
    return _apply_inside(_gcj_to_bd, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """BD-09 degrees to GCJ-02 degrees, exact inverse of :func:`gcj02_to_bd09`.

    The classic closed form is refined by iteration until the last correction is
    below 1e-9 degree, so a round trip returns within 0.01 m.  Broadcasting,
    scalars, NaN and points outside China as in :func:`wgs84_to_gcj02`.
    """
    return _apply_inside(_bd_to_gcj, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """WGS-84 (or CGCS2000) degrees to BD-09 degrees: GCJ-02 shift, then Baidu's."""
    return _apply_inside(_wgs_to_bd, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Coord, Coord]:
    """BD-09 degrees to WGS-84 degrees, both inverses iterated (round trip within 0.01 m).

    China test on the BD-09 input; otherwise as :func:`bd09_to_gcj02`.
    """
    return _apply_inside(_bd_to_wgs, lon, lat)


_CONVERSIONS: dict[tuple[str, str], Callable[[ArrayLike, ArrayLike], tuple[Coord, Coord]]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def _datum(name: str) -> str:
    key = str(name).strip().lower()
    if key not in DATUMS:
        raise BadInput(f"unknown datum {name!r}; expected one of {', '.join(DATUMS)}")
    return "wgs84" if key == "cgcs2000" else key


def convert(lon: ArrayLike, lat: ArrayLike, *, src: str, dst: str) -> tuple[Coord, Coord]:
    """Convert (lon, lat) degrees from datum ``src`` to datum ``dst``.

    Datums are named as in :data:`DATUMS` (case-insensitive): ``wgs84``,
    ``cgcs2000`` (treated as identical to WGS 84; the real difference is about
    10 cm), ``gcj02`` and ``bd09``.  An unknown name raises ValueError naming it.
    Converting a datum to itself returns copies.
    """
    s, d = _datum(src), _datum(dst)
    if s == d:
        return _result(*_as_arrays(lon, lat))
    return _CONVERSIONS[(s, d)](lon, lat)


# ---------------------------------------------------------------------------
# Swapped coordinates


def _in_bbox(lon: _F, lat: _F, bbox: tuple[float, float, float, float]) -> NDArray[np.bool_]:
    minx, miny, maxx, maxy = bbox
    return (lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy)


def detect_swapped(
    lon: ArrayLike, lat: ArrayLike, *, bbox: tuple[float, float, float, float] = JJJ_BBOX
) -> NDArray[np.bool_]:
    """True where (lon, lat) lies outside ``bbox`` but (lat, lon) lies inside it.

    ``bbox`` is (min lon, min lat, max lon, max lat) in degrees, default
    Jing-Jin-Ji.  NaN gives False; a point in neither order is not flagged (it
    is out of the region, not swapped).  Always returns an array.
    """
    lo, la = _as_arrays(lon, lat)
    return np.asarray(~_in_bbox(lo, la, bbox) & _in_bbox(la, lo, bbox))


def fix_swapped(
    lon: ArrayLike, lat: ArrayLike, *, bbox: tuple[float, float, float, float] = JJJ_BBOX
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Swap back the points :func:`detect_swapped` flags; returns (lon, lat, mask) arrays.

    The inputs are not modified.
    """
    lo, la = _as_arrays(lon, lat)
    mask = detect_swapped(lo, la, bbox=bbox)
    lo[mask], la[mask] = la[mask], lo[mask]
    return lo, la, mask


# ---------------------------------------------------------------------------
# Datum check against claimed districts


@dataclass(frozen=True)
class DatumGuess:
    """Outcome of :func:`guess_datum`.

    ``shares`` maps each candidate datum to the fraction of points that land in
    their claimed polygon when read in that datum; ``best`` has the highest
    share (ties go to the earlier candidate); ``margin`` is best minus runner-up;
    ``decisive`` says whether that margin is large enough to act on.
    """

    best: str
    shares: dict[str, float]
    n: int
    margin: float
    decisive: bool


def guess_datum(
    lon: ArrayLike,
    lat: ArrayLike,
    claimed_polygons: Sequence[BaseGeometry] | NDArray[np.object_],
    *,
    candidates: Sequence[str] = ("wgs84", "gcj02", "bd09"),
    min_margin: float = 0.05,
    min_points: int = 10,
) -> DatumGuess:
    """Guess the datum of a batch of points from the districts they claim to be in.

    ``claimed_polygons`` holds one WGS-84 polygon per point (e.g. the district
    named in the record's address).  For each candidate datum the points are
    converted from it to WGS 84 and counted inside (or on the boundary of) their
    polygon.

    The datum offsets are only hundreds of metres, so a point well inside its
    district is inside under every hypothesis: the check is decisive only when
    many points lie within a few hundred metres of a district boundary.  The
    result is ``decisive`` when the best share beats the runner-up by at least
    ``min_margin`` *and* that margin amounts to at least ``min_points`` points;
    otherwise read ``shares`` and decide.

    Raises ValueError for no points, a polygon count that does not match the
    points, fewer than two candidates or an unknown datum name.
    """
    lo, la = _as_arrays(lon, lat)
    lo, la = lo.ravel(), la.ravel()
    polys = np.asarray(claimed_polygons, dtype=object).ravel()
    if lo.size == 0:
        raise BadInput("guess_datum needs at least one point")
    if polys.size != lo.size:
        raise BadInput(f"{polys.size} claimed polygons for {lo.size} points; need one per point")
    names = [str(c).strip().lower() for c in candidates]
    for c in names:
        _datum(c)
    if len(set(names)) < 2:
        raise BadInput(f"guess_datum needs at least two different candidates, got {list(candidates)}")
    shapely.prepare(polys)
    shares: dict[str, float] = {}
    for c in names:
        x, y = convert(lo, la, src=c, dst="wgs84")
        inside = shapely.intersects_xy(polys, x, y)
        shares[c] = float(np.count_nonzero(inside)) / lo.size
    ranked = sorted(names, key=lambda c: -shares[c])  # stable: ties keep candidate order
    best, runner_up = ranked[0], ranked[1]
    margin = shares[best] - shares[runner_up]
    decisive = margin >= min_margin and margin * lo.size >= min_points
    return DatumGuess(best=best, shares=shares, n=int(lo.size), margin=margin, decisive=decisive)
