"""Cross-border analysis for Jing-Jin-Ji: border zones, lines that cross, the border profile.

Pure (no store, no files).  Every geometry is WGS-84 lon/lat (EPSG:4326); every
distance and length is in metres on the WGS-84 ellipsoid, correct anywhere in the
region (113.5–119.9 °E):

* **Lengths** are geodesic (``pyproj.Geod``), vertex to vertex.
* **Distances to a line** (a border, a pipeline): the line is cut into pieces of at
  most a few kilometres; each piece (densified to ~110 m, so that it runs straight in
  lon/lat as drawn on a map, as :func:`geo.distance.to_aeqd` does) and the points near
  it are projected into an ellipsoidal transverse Mercator centred on the piece, and
  the planar distance is divided by the mean scale factor along the way
  (1 + x²/2R², x the distance from the central meridian).  Within 30 km of a piece's
  centre this is the geodesic distance to better than a millimetre — unlike one
  projection for the whole 800 km border — and the projection is 5–10× cheaper than
  an azimuthal-equidistant one.

Sides are jurisdictions: a feature's side is its ``province_code`` (computed by the
loader from the reference polygons, :mod:`geo.jurisdiction`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from geo.distance import MIN_METRES_PER_DEGREE, SEGMENT_DEGREES, WGS84_GEOD, degree_box, to_aeqd
from geo.entities import LEVEL_CODES
from geo.errors import BadInput

#: Default weight of one risk source per level (as ``data/config/area_risk.yaml`` level_weights).
DEFAULT_LEVEL_WEIGHTS: dict[str, float] = {"red": 100.0, "orange": 30.0, "yellow": 10.0, "blue": 1.0}

#: Pieces a line is cut into for distance measurement (metres, geodesic).
DISTANCE_PIECE_M = 5000.0

#: Largest border-zone half-width accepted (km).
MAX_ZONE_KM = 50.0

#: Largest corridor half-width accepted for crossing lines (metres).
MAX_CORRIDOR_M = 10_000.0

OTHER_SIDE = "other"


@dataclass(frozen=True)
class BorderPair:
    """Two provinces sharing a border; ``a`` < ``b`` by code, as in the border ``line_code``."""

    name: str  # "beijing-hebei"
    a: str  # province code
    b: str
    zh: str
    en: str

    @property
    def line_code(self) -> str:
        """``line_code`` of the border line in ``lines`` (``border:110000-130000``)."""
        return f"border:{self.a}-{self.b}"

    def side_of(self, province_code: object) -> str:
        """``a`` / ``b`` code for a province code on either side, else :data:`OTHER_SIDE`."""
        return str(province_code) if province_code in (self.a, self.b) else OTHER_SIDE


PROVINCE_NAMES: dict[str, tuple[str, str]] = {
    "110000": ("北京市", "Beijing"),
    "120000": ("天津市", "Tianjin"),
    "130000": ("河北省", "Hebei"),
}

PAIRS: dict[str, BorderPair] = {
    p.name: p
    for p in (
        BorderPair("beijing-hebei", "110000", "130000", "北京—河北", "Beijing–Hebei"),
        BorderPair("beijing-tianjin", "110000", "120000", "北京—天津", "Beijing–Tianjin"),
        BorderPair("tianjin-hebei", "120000", "130000", "天津—河北", "Tianjin–Hebei"),
    )
}


class UnknownPairError(BadInput):
    """A border pair name that is not one of :data:`PAIRS`."""

    def __init__(self, value: str) -> None:
        super().__init__(f"unknown border pair {value!r}; known: {', '.join(PAIRS)}")
        self.value = value


def get_pair(name: str) -> BorderPair:
    """The pair called ``name`` (``beijing-hebei`` …); :class:`UnknownPairError` otherwise."""
    try:
        return PAIRS[str(name).strip().lower()]
    except KeyError:
        raise UnknownPairError(name) from None


# --------------------------------------------------------------------------------------
# Lines: parts, geodesic length, cutting
# --------------------------------------------------------------------------------------


def line_parts(geometry: BaseGeometry) -> list[LineString]:
    """The non-empty LineStrings of a (Multi)LineString or collection, merged where they join."""
    if geometry is None or geometry.is_empty:
        return []
    lines = [g for g in shapely.get_parts(geometry) if g.geom_type in ("LineString", "MultiLineString")]
    if not lines:
        return []
    merged = shapely.line_merge(shapely.union_all(lines)) if len(lines) > 1 else lines[0]
    return [g for g in shapely.get_parts(merged) if g.geom_type == "LineString" and not g.is_empty]


def shared_border(polygon_a: BaseGeometry, polygon_b: BaseGeometry) -> MultiLineString:
    """The boundary two (Multi)Polygons share, as a MultiLineString (empty if they only touch at points)."""
    common = shapely.intersection(polygon_a.boundary, polygon_b.boundary)
    return MultiLineString(line_parts(common))


def geodesic_length_m(geometry: BaseGeometry) -> float:
    """Geodesic length in metres of a WGS-84 line (0 for points and empty geometries)."""
    if geometry is None or geometry.is_empty:
        return 0.0
    return float(WGS84_GEOD.geometry_length(geometry))


@dataclass(frozen=True)
class LinePiece:
    """A piece of a line: geometry, start and end as geodesic metres along the whole line."""

    geometry: LineString
    start_m: float
    end_m: float

    @property
    def length_m(self) -> float:
        return self.end_m - self.start_m


def _cumulative_m(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    _, _, d = WGS84_GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    return np.concatenate([[0.0], np.cumsum(np.asarray(d, dtype=float))])


def cut_line(geometry: BaseGeometry, piece_m: float) -> list[LinePiece]:
    """Cut a (Multi)LineString into consecutive pieces of ``piece_m`` geodesic metres.

    Each part is cut from its start; its last piece is the remainder (shorter).  Pieces
    do not span parts; ``start_m``/``end_m`` run on across parts in order.  Cut points
    are placed along the line densified to ~110 m, so a piece's geodesic length equals
    ``piece_m`` to well under a metre.
    """
    if not piece_m > 0:
        raise BadInput(f"piece length must be > 0 m, got {piece_m}")
    pieces: list[LinePiece] = []
    offset = 0.0
    for part in line_parts(geometry):
        dense = shapely.segmentize(part, 0.001)
        coords = np.asarray(dense.coords, dtype=float)[:, :2]
        cum = _cumulative_m(coords)
        total = float(cum[-1])
        if total <= 0:
            continue
        cuts = np.append(np.arange(0.0, total, piece_m), total)
        if len(cuts) > 2 and cuts[-1] - cuts[-2] < 1e-6:
            cuts = cuts[:-1]
        lon_at = np.interp(cuts, cum, coords[:, 0])
        lat_at = np.interp(cuts, cum, coords[:, 1])
        for i in range(len(cuts) - 1):
            inner = (cum > cuts[i]) & (cum < cuts[i + 1])
            xy = np.vstack([[lon_at[i], lat_at[i]], coords[inner], [lon_at[i + 1], lat_at[i + 1]]])
            pieces.append(LinePiece(LineString(xy), offset + float(cuts[i]), offset + float(cuts[i + 1])))
        offset += total
    return pieces


# --------------------------------------------------------------------------------------
# Distances from points to line pieces
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PiecePairs:
    """Every (point, piece) within the search distance: indices and metres."""

    point: NDArray[np.int64]
    piece: NDArray[np.int64]
    distance_m: NDArray[np.float64]

    def nearest(self, n_points: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Per point: distance (m, ``inf`` if none within range) and index of the nearest piece (-1)."""
        dist = np.full(n_points, np.inf)
        piece = np.full(n_points, -1, dtype=np.int64)
        if len(self.point):
            order = np.lexsort((self.piece, self.distance_m, self.point))
            p, first = np.unique(self.point[order], return_index=True)
            dist[p] = self.distance_m[order][first]
            piece[p] = self.piece[order][first]
        return dist, piece


@lru_cache(maxsize=4096)
def _tm_transformer(lon: float, lat: float) -> Transformer:
    """WGS-84 degrees → ellipsoidal transverse Mercator metres centred on (lon, lat), scale 1 on the meridian."""
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=tmerc +lat_0={lat:.9f} +lon_0={lon:.9f} +k_0=1 +x_0=0 +y_0=0 +ellps=WGS84"
    )


def _gauss_radius_m(lat: float) -> float:
    """Gaussian mean radius of curvature √(M·N) of the WGS-84 ellipsoid at ``lat`` (metres)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    w = 1 - e2 * np.sin(np.radians(lat)) ** 2
    return float(a * np.sqrt(1 - e2) / w)


def scaled_query_radius(max_m: float, lat_abs_max: float) -> tuple[float, float]:
    """(k, r): points and lines scaled to ``(lon · k, lat)`` with ``k = cos(lat_abs_max)``
    lie within ``r`` scaled degrees of each other whenever they are within ``max_m``
    metres (true, on the WGS-84 ellipsoid) — for latitudes up to ``lat_abs_max``.

    Why: a degree of latitude is at least 110 574 m and a degree of longitude at least
    111 319 m · cos φ, so with ``k = cos φ_max`` every scaled degree is at least
    110 574 m in any direction.  A filter with it keeps every true pair and only ~5 %
    more (the scale varies by that much across 38.5–41.1 °N).
    """
    k = float(np.cos(np.radians(min(lat_abs_max, 89.0))))
    return k, (max_m * (1.0 + 1e-5) + 0.01) / MIN_METRES_PER_DEGREE + 1e-6


#: Vertices of a projected piece closer than this (metres) to the line through their
#: neighbours are dropped before measuring (Douglas–Peucker): distances change by less.
_BEND_M = 0.0005


def _polyline_distance(px: NDArray[np.float64], py: NDArray[np.float64], lx: NDArray[np.float64],
                       ly: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Planar distance from each point (px, py) to the polyline through (lx, ly), and the
    x of the nearest point on it; vectorised."""
    if len(lx) == 1:
        return np.hypot(px - lx[0], py - ly[0]), np.full(len(px), lx[0])
    ax, ay = lx[:-1], ly[:-1]
    dx, dy = lx[1:] - ax, ly[1:] - ay
    seg2 = dx * dx + dy * dy
    inv = np.divide(1.0, seg2, out=np.zeros_like(seg2), where=seg2 > 0)
    dist, qx = np.empty(len(px)), np.empty(len(px))
    step = max(1, 1_000_000 // len(ax))  # bound the n × m work arrays
    for i in range(0, len(px), step):
        x, y = px[i:i + step, None] - ax, py[i:i + step, None] - ay
        t = np.clip((x * dx + y * dy) * inv, 0.0, 1.0)
        d2 = (x - t * dx) ** 2 + (y - t * dy) ** 2
        best = np.argmin(d2, axis=1)
        rows = np.arange(len(best))
        dist[i:i + step] = np.sqrt(d2[rows, best])
        qx[i:i + step] = ax[best] + t[rows, best] * dx[best]
    return dist, qx


def point_piece_distances(lon: NDArray[np.float64], lat: NDArray[np.float64], pieces: Sequence[BaseGeometry],
                          max_m: float) -> PiecePairs:
    """All (point, piece) pairs with the point within ``max_m`` metres of the piece.

    ``lon``/``lat`` WGS-84 degrees; ``pieces`` WGS-84 LineStrings each at most a few tens
    of km long (see :func:`cut_line`), taken as straight in lon/lat between vertices.
    Candidates are the points in each piece's box (in the scaled plane of
    :func:`scaled_query_radius`); each piece and its candidates are projected into a
    transverse Mercator centred on the piece, and the planar distance divided by the mean
    scale factor along the way, which gives the geodesic distance to better than a
    millimetre within 30 km of the piece.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    empty = PiecePairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, float))
    if len(lon) == 0 or len(pieces) == 0:
        return empty
    lines = np.asarray(pieces, dtype=object)
    bounds = shapely.bounds(lines)
    reach = (max_m * 1.01 + 1.0) / MIN_METRES_PER_DEGREE
    k, radius = scaled_query_radius(max_m, float(np.nanmax(np.abs(bounds[:, [1, 3]]))) + reach)
    tree = shapely.STRtree(shapely.points(lon * k, lat))
    boxes = shapely.box(bounds[:, 0] * k - radius, bounds[:, 1] - radius, bounds[:, 2] * k + radius,
                        bounds[:, 3] + radius)
    which_piece, which_point = tree.query(boxes)
    order = np.lexsort((which_point, which_piece))
    which_piece, which_point = which_piece[order], which_point[order]
    starts = np.searchsorted(which_piece, np.arange(len(lines) + 1))
    out_p, out_s, out_d = [], [], []
    for j in np.flatnonzero(np.diff(starts)):
        idx = which_point[starts[j]:starts[j + 1]]
        piece = lines[j]
        centre = piece.centroid
        tr = _tm_transformer(round(centre.x, 9), round(centre.y, 9))
        line_xy = shapely.get_coordinates(shapely.segmentize(piece, SEGMENT_DEGREES))
        lx, ly = tr.transform(line_xy[:, 0], line_xy[:, 1])
        # the densified line is straight to well under a millimetre over most of its length:
        # drop the vertices that do not bend it by more than that (distances change < 1 mm)
        bent = shapely.get_coordinates(shapely.simplify(LineString(np.column_stack([lx, ly])), _BEND_M))
        px, py = tr.transform(lon[idx], lat[idx])
        px, py = np.asarray(px), np.asarray(py)
        d, qx = _polyline_distance(px, py, bent[:, 0], bent[:, 1])
        # scale factor 1 + x²/2R² on the way from P to its nearest point Q, averaged (x linear in between)
        d = d * (1.0 - (px * px + px * qx + qx * qx) / (6.0 * _gauss_radius_m(centre.y) ** 2))
        keep = d <= max_m
        out_p.append(idx[keep])
        out_s.append(np.full(int(keep.sum()), j, dtype=np.int64))
        out_d.append(d[keep])
    if not out_p:
        return empty
    return PiecePairs(np.concatenate(out_p).astype(np.int64), np.concatenate(out_s), np.concatenate(out_d))


def distance_to_line_m(lon: NDArray[np.float64], lat: NDArray[np.float64], line: BaseGeometry,
                       max_m: float) -> NDArray[np.float64]:
    """Distance in metres from each point to ``line`` (``inf`` beyond ``max_m``)."""
    pieces = [p.geometry for p in cut_line(line, DISTANCE_PIECE_M)]
    return point_piece_distances(lon, lat, pieces, max_m).nearest(len(np.asarray(lon)))[0]


# --------------------------------------------------------------------------------------
# Regions to read: every point within a distance of some lines, as lon/lat boxes
# --------------------------------------------------------------------------------------

#: Segments per quarter circle of the reach polygon's round caps.
_QUAD_SEGS = 4


def reach_polygon(geometry: BaseGeometry, max_m: float) -> BaseGeometry:
    """A WGS-84 polygon containing every point within ``max_m`` metres of ``geometry``.

    Conservative (a few per cent wider, never narrower): the buffer is taken in the
    scaled plane of :func:`scaled_query_radius` and widened so that its chords stay
    outside the true circle.  For choosing what to read; distances are measured exactly later.
    """
    if geometry is None or geometry.is_empty:
        return Polygon()
    _, y0, _, y1 = geometry.bounds
    reach = (max_m * 1.01 + 1.0) / MIN_METRES_PER_DEGREE
    k, radius = scaled_query_radius(max_m, max(abs(y0), abs(y1)) + reach)
    scale = np.array([k, 1.0])
    # simplified within `tolerance` first (a wiggly line's buffer is slow), so widened by it too
    tolerance = radius / 4
    scaled = shapely.simplify(shapely.transform(geometry, lambda xy: xy * scale), tolerance)
    widened = (radius + tolerance) / np.cos(np.pi / (4 * _QUAD_SEGS)) * 1.001
    buffered = shapely.buffer(scaled, widened, quad_segs=_QUAD_SEGS)
    return shapely.transform(buffered, lambda xy: xy / scale)


# --------------------------------------------------------------------------------------
# Feature tallies
# --------------------------------------------------------------------------------------

#: The tallies of one group of features (a side, a county pair, a corridor).
TALLY_KEYS = ("risk_sources", *(f"risk_{lv}" for lv in LEVEL_CODES), "hazchem_sites", "hidden_hazards_open",
              "protection_targets")


def _lonlat(frame: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    geoms = np.asarray(frame.geometry.values, dtype=object) if len(frame) else np.zeros(0, dtype=object)
    return np.asarray(shapely.get_x(geoms), dtype=float), np.asarray(shapely.get_y(geoms), dtype=float)


@dataclass(frozen=True)
class Features:
    """The point features an analysis counts (WGS-84 frames as a store returns them).

    ``risk_sources`` needs ``level``; ``hidden_hazards`` should hold open hazards only;
    every frame needs ``province_code``/``county_code`` for sides and county pairs.
    """

    risk_sources: pd.DataFrame
    hazchem_sites: pd.DataFrame
    hidden_hazards: pd.DataFrame
    protection_targets: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"risk_sources": self.risk_sources, "hazchem_sites": self.hazchem_sites,
                "hidden_hazards_open": self.hidden_hazards, "protection_targets": self.protection_targets}


def tally(frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Counts per :data:`TALLY_KEYS` for frames keyed like :meth:`Features.frames`."""
    out = dict.fromkeys(TALLY_KEYS, 0)
    for name, frame in frames.items():
        out[name] = len(frame)
        if name == "risk_sources" and len(frame):
            levels = frame["level"].astype(object).to_numpy()
            for lv in LEVEL_CODES:
                out[f"risk_{lv}"] = int((levels == lv).sum())
    return out


def level_weights_of(levels: np.ndarray, weights: Mapping[str, float]) -> NDArray[np.float64]:
    """Weight of each risk level (0 for an unknown or missing level)."""
    return np.array([float(weights.get(str(v), 0.0)) if v is not None else 0.0 for v in levels], dtype=float)


# --------------------------------------------------------------------------------------
# Border zones
# --------------------------------------------------------------------------------------


def county_pairs_of_pieces(pieces: Sequence[BaseGeometry], pair: BorderPair, districts: pd.DataFrame, *,
                           search_m: float = 2000.0) -> list[tuple[str | None, str | None]]:
    """For each border piece: the county (district) code on side ``a`` and on side ``b``.

    ``districts``: WGS-84 polygons with ``area_code`` and ``province_code`` (or
    ``parent_code`` chains starting with the province's two digits).  The county of a
    side is the district of that province nearest to the piece's midpoint (within
    ``search_m``; a lone candidate only has to reach the search window), None when there is none.
    """
    out: list[tuple[str | None, str | None]] = []
    codes = districts["area_code"].astype(str).to_numpy() if len(districts) else np.zeros(0, dtype=object)
    six = np.array([len(c) == 6 and c.isdigit() for c in codes], dtype=bool)
    geoms = np.asarray(districts.geometry.values, dtype=object)[six] if len(districts) else np.zeros(0, object)
    codes = codes[six]
    prefix = np.array([c[:2] for c in codes], dtype=object)
    tree = shapely.STRtree(geoms)
    for piece in pieces:
        mid = shapely.line_interpolate_point(piece, 0.5, normalized=True)
        x0, y0, x1, y1 = degree_box(mid.x, mid.y, search_m)
        window = shapely.box(x0, y0, x1, y1)
        near = tree.query(window)
        sides: list[str | None] = []
        for province in (pair.a, pair.b):
            cand = near[prefix[near] == province[:2]] if len(near) else near
            if not len(cand):
                sides.append(None)
                continue
            if len(cand) == 1 and shapely.intersects(geoms[cand[0]], window):
                sides.append(str(codes[cand[0]]))
                continue
            # clipped to the search window first: a district's far edges never matter
            clipped = shapely.intersection(geoms[cand], window)
            d = shapely.distance(to_aeqd(mid, mid.x, mid.y), to_aeqd(clipped, mid.x, mid.y))
            d = np.where(shapely.is_empty(clipped), np.inf, d)
            best = int(np.argmin(d))
            sides.append(str(codes[cand][best]) if d[best] <= search_m else None)
        out.append((sides[0], sides[1]))
    return out


@dataclass(frozen=True)
class BorderPieces:
    """A pair's border cut into :data:`DISTANCE_PIECE_M` pieces, with the counties facing
    each other on each piece (``(None, None)`` when no districts were given)."""

    pair: BorderPair
    border: BaseGeometry  # the whole line, WGS-84
    pieces: list[LinePiece]
    county: list[tuple[str | None, str | None]]

    @property
    def geometries(self) -> list[LineString]:
        return [p.geometry for p in self.pieces]

    @property
    def length_m(self) -> float:
        """Geodesic length of the border in metres."""
        return float(sum(p.length_m for p in self.pieces))


def border_pieces(border: BaseGeometry, pair: BorderPair, districts: pd.DataFrame | None = None) -> BorderPieces:
    """``border`` (WGS-84) cut into 5 km pieces with their county pairs (see :func:`county_pairs_of_pieces`)."""
    cut = cut_line(border, DISTANCE_PIECE_M)
    geoms = [p.geometry for p in cut]
    county: list[tuple[str | None, str | None]] = (
        county_pairs_of_pieces(geoms, pair, districts) if districts is not None else [(None, None)] * len(cut))
    return BorderPieces(pair, border, cut, county)


@dataclass(frozen=True)
class BorderBand:
    """The features within ``km`` of a border and every (point, piece) pair within ``km``.

    Point indices run over the features' frames concatenated in :meth:`Features.frames`
    order (risk sources first); pieces are ``pieces.pieces``.  A zone (nearest piece per
    point) and a 5 km profile (every piece near a point) are both read off these pairs.
    """

    pieces: BorderPieces
    km: float
    features: Features
    pairs: PiecePairs

    @property
    def sizes(self) -> list[int]:
        return [len(f) for f in self.features.frames().values()]


def _check_km(km: float) -> None:
    if not 0 < km <= MAX_ZONE_KM:
        raise BadInput(f"km must be in (0, {MAX_ZONE_KM:g}], got {km}")


def _concat_lonlat(frames: Sequence[pd.DataFrame]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    coords = [_lonlat(f) for f in frames]
    if not coords:
        return np.zeros(0), np.zeros(0)
    return np.concatenate([c[0] for c in coords]), np.concatenate([c[1] for c in coords])


def border_band(features: Features, pieces: BorderPieces, *, km: float) -> BorderBand:
    """Measure every feature against ``pieces`` once (distances in metres, AEQD per piece)."""
    _check_km(km)
    lon, lat = _concat_lonlat(list(features.frames().values()))
    pairs = point_piece_distances(lon, lat, pieces.geometries, km * 1000.0)
    return BorderBand(pieces, km, features, pairs)


def _level_array(frame: pd.DataFrame) -> NDArray[np.object_]:
    if not len(frame) or "level" not in frame:
        return np.full(len(frame), None, dtype=object)
    return np.asarray(frame["level"].astype(object).to_numpy(), dtype=object)


@dataclass
class ZoneResult:
    """Features within ``km`` of a pair's border: per feature the side, distance and county pair."""

    pair: BorderPair
    km: float
    border_length_m: float
    #: kind → the features in the zone, with ``side``, ``distance_m``, ``county_a``, ``county_b``.
    features: dict[str, pd.DataFrame]

    def by_side(self) -> dict[str, dict[str, int]]:
        """Tallies for side ``a``, side ``b`` and :data:`OTHER_SIDE` (a third province near a tri-point)."""
        return {side: tally({k: f[f["side"].to_numpy() == side] for k, f in self.features.items()})
                for side in (self.pair.a, self.pair.b, OTHER_SIDE)}

    def by_county_pair(self) -> list[dict[str, object]]:
        """Tallies per (county on a, county on b) and side, ordered by county pair."""
        parts = []
        for kind, f in self.features.items():
            parts.append(pd.DataFrame({
                "ca": f["county_a"].astype(object).fillna("").astype(str).to_numpy(),
                "cb": f["county_b"].astype(object).fillna("").astype(str).to_numpy(),
                "side": f["side"].to_numpy(dtype=object), "kind": kind,
                "level": _level_array(f) if kind == "risk_sources" else np.full(len(f), None, dtype=object)}))
        rows_all = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["ca", "cb", "side", "kind", "level"])
        keys = sorted(set(zip(rows_all["ca"], rows_all["cb"], strict=True)))
        counted = rows_all[rows_all["side"].isin([self.pair.a, self.pair.b])]
        by_kind = counted.groupby(["ca", "cb", "side", "kind"]).size().to_dict()
        risk = counted[counted["kind"] == "risk_sources"]
        by_level = risk.groupby(["ca", "cb", "side", "level"]).size().to_dict()
        rows: list[dict[str, object]] = []
        for ca, cb in keys:
            for side in (self.pair.a, self.pair.b):
                counts = dict.fromkeys(TALLY_KEYS, 0)
                for kind in self.features:
                    counts[kind] = int(by_kind.get((ca, cb, side, kind), 0))
                for lv in LEVEL_CODES:
                    counts[f"risk_{lv}"] = int(by_level.get((ca, cb, side, lv), 0))
                if any(counts.values()):
                    rows.append({"county_a": ca or None, "county_b": cb or None, "side": side, **counts})
        return rows


def zone_of_band(band: BorderBand) -> ZoneResult:
    """The border zone read off a :class:`BorderBand`: each feature's nearest piece and distance."""
    pair = band.pieces.pair
    sizes = band.sizes
    all_dist, all_piece = band.pairs.nearest(sum(sizes))
    county_a = np.array([c[0] for c in band.pieces.county] + [None], dtype=object)
    county_b = np.array([c[1] for c in band.pieces.county] + [None], dtype=object)
    out: dict[str, pd.DataFrame] = {}
    start = 0
    for (name, frame), n in zip(band.features.frames().items(), sizes, strict=True):
        dist, piece = all_dist[start:start + n], all_piece[start:start + n]
        start += n
        inside = np.flatnonzero(np.isfinite(dist))
        keys = frame["key"].to_numpy(dtype=object)[inside] if "key" in frame else np.zeros(len(inside))
        inside = inside[np.lexsort((keys, dist[inside]))]  # nearest first, then by key
        sub = frame.iloc[inside]
        province = sub["province_code"] if "province_code" in sub else pd.Series([None] * len(sub), dtype=object)
        sub = sub.assign(
            distance_m=dist[inside],
            side=np.where(province.isin([pair.a]).to_numpy(), pair.a,
                          np.where(province.isin([pair.b]).to_numpy(), pair.b, OTHER_SIDE)).astype(object),
            county_a=county_a[piece[inside]], county_b=county_b[piece[inside]])
        out[name] = sub
    return ZoneResult(pair, band.km, band.pieces.length_m, out)


def border_zone(features: Features, border: BaseGeometry, pair: BorderPair, *, km: float,
                districts: pd.DataFrame | None = None) -> ZoneResult:
    """Features within ``km`` kilometres of ``border`` (WGS-84), classified by side.

    Side is the feature's ``province_code`` (``pair.a``, ``pair.b`` or ``other``);
    ``distance_m`` the metres to the border; ``county_a``/``county_b`` the counties
    facing each other on the border piece (5 km) nearest the feature (needs ``districts``).
    """
    _check_km(km)
    return zone_of_band(border_band(features, border_pieces(border, pair, districts), km=km))


# --------------------------------------------------------------------------------------
# Lines that cross
# --------------------------------------------------------------------------------------


def crossing_points(line: BaseGeometry, border: BaseGeometry) -> list[tuple[float, float]]:
    """Where ``line`` meets ``border`` (both WGS-84, any (Multi)LineString): lon/lat points, sorted.

    A stretch where the line runs along the border counts once, at the stretch's midpoint.
    """
    if line.is_empty or border.is_empty:
        return []
    meet = shapely.intersection(line, border)
    out: set[tuple[float, float]] = set()
    for g in shapely.get_parts(meet):
        if g.is_empty:
            continue
        if g.geom_type == "Point":
            out.add((round(g.x, 7), round(g.y, 7)))
        else:
            mid = shapely.line_interpolate_point(g, 0.5, normalized=True) if g.geom_type == "LineString" \
                else g.representative_point()
            out.add((round(mid.x, 7), round(mid.y, 7)))
    return sorted(out)


def length_by_polygon_m(line: BaseGeometry, polygons: Mapping[str, BaseGeometry]) -> dict[str, float]:
    """Geodesic metres of ``line`` inside each polygon (code → WGS-84 polygon), plus ``outside``."""
    out = {code: geodesic_length_m(shapely.intersection(line, poly)) for code, poly in polygons.items()}
    out["outside"] = max(0.0, geodesic_length_m(line) - sum(out.values()))
    return out


def crossing_lines(lines: pd.DataFrame, borders: Mapping[str, BaseGeometry],
                   provinces: Mapping[str, BaseGeometry], features: Features, *,
                   corridor_m: float) -> list[dict[str, object]]:
    """Lines (pipelines, hazmat routes) that cross any of ``borders`` (pair name → WGS-84 line).

    For each crossing line: the pairs crossed with their crossing points, the geodesic
    length in each province (``provinces``: code → polygon), and the features within
    ``corridor_m`` metres of the line (tallies plus the frames, nearest first).  Every
    crossing line is measured in one pass over all their 5 km pieces.
    """
    if not 0 < corridor_m <= MAX_CORRIDOR_M:
        raise BadInput(f"corridor_m must be in (0, {MAX_CORRIDOR_M:g}], got {corridor_m}")
    crossing: list[tuple[int, BaseGeometry, dict[str, list[tuple[float, float]]]]] = []
    for i in range(len(lines)):
        geom = lines.geometry.iloc[i]
        found = {name: pts for name, b in borders.items() if (pts := crossing_points(geom, b))}
        if found:
            crossing.append((i, geom, found))
    if not crossing:
        return []
    piece_geoms: list[LineString] = []
    piece_line: list[int] = []
    for n, (_, geom, _found) in enumerate(crossing):
        cut = [p.geometry for p in cut_line(geom, DISTANCE_PIECE_M)]
        piece_geoms.extend(cut)
        piece_line.extend([n] * len(cut))
    frames = features.frames()
    sizes = [len(f) for f in frames.values()]
    lon, lat = _concat_lonlat(list(frames.values()))
    pairs = point_piece_distances(lon, lat, piece_geoms, corridor_m)
    # nearest piece of the same line per (line, point): sorted by line, point, distance
    line_of = np.asarray(piece_line, dtype=np.int64)[pairs.piece]
    order = np.lexsort((pairs.distance_m, pairs.point, line_of))
    line_of, near_point, dist = line_of[order], pairs.point[order], pairs.distance_m[order]
    first = np.ones(len(near_point), dtype=bool)
    first[1:] = (line_of[1:] != line_of[:-1]) | (near_point[1:] != near_point[:-1])
    line_of, near_point, dist = line_of[first], near_point[first], dist[first]
    bounds = np.searchsorted(line_of, np.arange(len(crossing) + 1))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    out: list[dict[str, object]] = []
    for n, (i, geom, found) in enumerate(crossing):
        row = lines.iloc[i]
        hits, dst = near_point[bounds[n]:bounds[n + 1]], dist[bounds[n]:bounds[n + 1]]
        near: dict[str, pd.DataFrame] = {}
        for k, (name, frame) in enumerate(frames.items()):
            mine = (hits >= offsets[k]) & (hits < offsets[k + 1])
            rows, d = hits[mine] - offsets[k], dst[mine]
            order = np.lexsort((rows, d))  # nearest first, then in frame order
            near[name] = frame.iloc[rows[order]].assign(distance_m=d[order])
        out.append({
            "key": row.get("key"), "line_code": row.get("line_code"), "name": row.get("name"),
            "line_type": row.get("line_type"), "operator": row.get("operator"),
            "synthetic": bool(row.get("synthetic")) if row.get("synthetic") is not None else None,
            "length_m": geodesic_length_m(geom),
            "length_by_province_m": length_by_polygon_m(geom, provinces),
            "crossings": found, "corridor_m": corridor_m,
            "corridor": tally(near), "corridor_features": near, "geometry": geom,
        })
    return out


# --------------------------------------------------------------------------------------
# Border profile
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileSegment:
    """One segment of the border: position along it (m), risk score and counts within the zone."""

    index: int
    geometry: LineString
    start_m: float
    end_m: float
    score: float
    counts: dict[str, int]


def _profile(segments: Sequence[LinePiece], levels: NDArray[np.object_], pairs: PiecePairs,
             weights: Mapping[str, float]) -> list[ProfileSegment]:
    w = level_weights_of(levels, weights)
    score = np.bincount(pairs.piece, weights=w[pairs.point], minlength=len(segments))
    counts = {lv: np.bincount(pairs.piece, weights=(levels[pairs.point] == lv).astype(float),
                              minlength=len(segments)) for lv in LEVEL_CODES}
    return [ProfileSegment(i, s.geometry, s.start_m, s.end_m, float(score[i]),
                           {lv: int(counts[lv][i]) for lv in LEVEL_CODES}) for i, s in enumerate(segments)]


def _check_segment_km(segment_km: float) -> None:
    if not 0 < segment_km <= 100:
        raise BadInput(f"segment_km must be in (0, 100], got {segment_km}")


def border_profile(risk_sources: pd.DataFrame, border: BaseGeometry, *, segment_km: float, km: float,
                   weights: Mapping[str, float] = DEFAULT_LEVEL_WEIGHTS) -> list[ProfileSegment]:
    """The border cut into ``segment_km`` segments (geodesic), each scored by the risk near it.

    A segment's score is Σ weight(level) over the risk sources within ``km`` kilometres
    of the segment, on either side (a source near two segments counts in both);
    ``counts`` the number of sources per level.
    """
    _check_segment_km(segment_km)
    _check_km(km)
    segments = cut_line(border, segment_km * 1000.0)
    lon, lat = _lonlat(risk_sources)
    pairs = point_piece_distances(lon, lat, [s.geometry for s in segments], km * 1000.0)
    return _profile(segments, _level_array(risk_sources), pairs, weights)


def profile_of_band(band: BorderBand, *, segment_km: float,
                    weights: Mapping[str, float] = DEFAULT_LEVEL_WEIGHTS) -> list[ProfileSegment]:
    """:func:`border_profile` for a band's border and risk sources, reusing the band's
    pairs when the segments are the band's 5 km pieces (the default)."""
    _check_segment_km(segment_km)
    sources = band.features.risk_sources
    if segment_km * 1000.0 != DISTANCE_PIECE_M:
        return border_profile(sources, band.pieces.border, segment_km=segment_km, km=band.km, weights=weights)
    mine = band.pairs.point < len(sources)
    pairs = PiecePairs(band.pairs.point[mine], band.pairs.piece[mine], band.pairs.distance_m[mine])
    return _profile(band.pieces.pieces, _level_array(sources), pairs, weights)


def hottest(segments: Sequence[ProfileSegment], n: int = 5) -> list[ProfileSegment]:
    """The ``n`` segments with the highest score (ties: earlier along the border), score > 0 only."""
    ranked = sorted((s for s in segments if s.score > 0), key=lambda s: (-s.score, s.start_m))
    return ranked[:n]


# --------------------------------------------------------------------------------------
# Mutual aid
# --------------------------------------------------------------------------------------


def province_at(lon: float, lat: float, provinces: Mapping[str, BaseGeometry]) -> str | None:
    """Code of the province polygon containing (lon, lat) (lowest code on a shared edge), or None."""
    p = Point(lon, lat)
    for code in sorted(provinces):
        if shapely.intersects(provinces[code], p):
            return code
    return None
