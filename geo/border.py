"""Cross-border analysis for Jing-Jin-Ji: border zones, lines that cross, the border profile.

Pure (no store, no files).  Every geometry is WGS-84 lon/lat (EPSG:4326); every
distance and length is in metres on the WGS-84 ellipsoid, correct anywhere in the
region (113.5–119.9 °E):

* **Lengths** are geodesic (``pyproj.Geod``), vertex to vertex.
* **Distances to a line** (a border, a pipeline): the line is cut into pieces of at
  most a few kilometres; each piece and the points near it are projected into an
  azimuthal-equidistant projection centred on the piece (:func:`geo.distance.to_aeqd`)
  and measured there.  Within 50 km of a piece's centre the AEQD distorts by less than
  1e-5, so a point's distance to the line is right to well under a metre at 50 km and
  to centimetres at 10 km — unlike one projection for the whole 800 km border.

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
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry

from geo.distance import SEGMENT_DEGREES, WGS84_GEOD, degree_box, to_aeqd
from geo.entities import LEVEL_CODES

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


class UnknownPairError(ValueError):
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
        raise ValueError(f"piece length must be > 0 m, got {piece_m}")
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
def _aeqd_transformer(lon: float, lat: float) -> Transformer:
    """WGS-84 degrees → AEQD metres centred on (lon, lat) (the projection of :func:`geo.distance.aeqd_proj`)."""
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=aeqd +lat_0={lat:.9f} +lon_0={lon:.9f} +x_0=0 +y_0=0 +ellps=WGS84"
    )


def point_piece_distances(lon: NDArray[np.float64], lat: NDArray[np.float64], pieces: Sequence[BaseGeometry],
                          max_m: float) -> PiecePairs:
    """All (point, piece) pairs with the point within ``max_m`` metres of the piece.

    ``lon``/``lat`` WGS-84 degrees; ``pieces`` WGS-84 lines each at most a few tens of
    km long (see :func:`cut_line`); distances measured in an AEQD centred on each piece
    (the piece densified to ~110 m first, as :func:`geo.distance.to_aeqd` does).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    empty = PiecePairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, float))
    if len(lon) == 0 or len(pieces) == 0:
        return empty
    tree = shapely.STRtree(shapely.points(lon, lat))
    boxes = []
    for piece in pieces:
        x0, y0, x1, y1 = piece.bounds
        lat_ref = y0 if abs(y0) > abs(y1) else y1  # the widest degree box: nearest the pole
        bx0, by0, _, _ = degree_box(x0, lat_ref, max_m)
        dlon, dlat = x0 - bx0, lat_ref - by0
        boxes.append(shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat))
    which_piece, which_point = tree.query(np.asarray(boxes, dtype=object))
    order = np.argsort(which_piece, kind="stable")
    which_piece, which_point = which_piece[order], which_point[order]
    bounds = np.searchsorted(which_piece, np.arange(len(pieces) + 1))
    out_p, out_s, out_d = [], [], []
    for j, piece in enumerate(pieces):
        idx = which_point[bounds[j]:bounds[j + 1]]
        if len(idx) == 0:
            continue
        centre = piece.centroid
        tr = _aeqd_transformer(round(centre.x, 9), round(centre.y, 9))
        line_xy = shapely.get_coordinates(shapely.segmentize(piece, SEGMENT_DEGREES))
        lx, ly = tr.transform(line_xy[:, 0], line_xy[:, 1])
        px, py = tr.transform(lon[idx], lat[idx])
        d = shapely.distance(LineString(np.column_stack([lx, ly])), shapely.points(px, py))
        keep = d <= max_m
        out_p.append(idx[keep])
        out_s.append(np.full(int(keep.sum()), j, dtype=np.int64))
        out_d.append(np.asarray(d[keep], dtype=float))
    if not out_p:
        return empty
    return PiecePairs(np.concatenate(out_p).astype(np.int64), np.concatenate(out_s), np.concatenate(out_d))


def distance_to_line_m(lon: NDArray[np.float64], lat: NDArray[np.float64], line: BaseGeometry,
                       max_m: float) -> NDArray[np.float64]:
    """Distance in metres from each point to ``line`` (``inf`` beyond ``max_m``)."""
    pieces = [p.geometry for p in cut_line(line, DISTANCE_PIECE_M)]
    return point_piece_distances(lon, lat, pieces, max_m).nearest(len(np.asarray(lon)))[0]


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
        return {side: tally({k: f[f["side"] == side] for k, f in self.features.items()})
                for side in (self.pair.a, self.pair.b, OTHER_SIDE)}

    def by_county_pair(self) -> list[dict[str, object]]:
        """Tallies per (county on a, county on b) and side, ordered by county pair."""
        keys: set[tuple[str, str]] = set()
        for f in self.features.values():
            keys.update(zip(f["county_a"].fillna("").astype(str), f["county_b"].fillna("").astype(str),
                            strict=True))
        rows: list[dict[str, object]] = []
        for ca, cb in sorted(keys):
            for side in (self.pair.a, self.pair.b):
                sub = {k: f[(f["county_a"].fillna("") == ca) & (f["county_b"].fillna("") == cb)
                            & (f["side"] == side)] for k, f in self.features.items()}
                counts = tally(sub)
                if any(counts.values()):
                    rows.append({"county_a": ca or None, "county_b": cb or None, "side": side, **counts})
        return rows


def border_zone(features: Features, border: BaseGeometry, pair: BorderPair, *, km: float,
                districts: pd.DataFrame | None = None) -> ZoneResult:
    """Features within ``km`` kilometres of ``border`` (WGS-84), classified by side.

    Side is the feature's ``province_code`` (``pair.a``, ``pair.b`` or ``other``);
    ``distance_m`` the metres to the border; ``county_a``/``county_b`` the counties
    facing each other on the border piece (5 km) nearest the feature (needs ``districts``).
    """
    if not 0 < km <= MAX_ZONE_KM:
        raise ValueError(f"km must be in (0, {MAX_ZONE_KM:g}], got {km}")
    max_m = km * 1000.0
    cut = cut_line(border, DISTANCE_PIECE_M)
    pieces = [p.geometry for p in cut]
    county = (county_pairs_of_pieces(pieces, pair, districts) if districts is not None
              else [(None, None)] * len(pieces))
    frames = features.frames()
    coords = [_lonlat(f) for f in frames.values()]
    lon = np.concatenate([c[0] for c in coords]) if coords else np.zeros(0)
    lat = np.concatenate([c[1] for c in coords]) if coords else np.zeros(0)
    # one pass over the pieces for every kind at once
    all_dist, all_piece = point_piece_distances(lon, lat, pieces, max_m).nearest(len(lon))
    out: dict[str, pd.DataFrame] = {}
    start = 0
    for name, frame in frames.items():
        dist, piece = all_dist[start:start + len(frame)], all_piece[start:start + len(frame)]
        start += len(frame)
        inside = np.isfinite(dist)
        sub = frame.iloc[np.flatnonzero(inside)].copy()
        sub["distance_m"] = dist[inside]
        sub["side"] = [pair.side_of(v) for v in sub["province_code"]] if len(sub) else []
        sub["county_a"] = [county[i][0] for i in piece[inside]]
        sub["county_b"] = [county[i][1] for i in piece[inside]]
        out[name] = sub.sort_values(["distance_m", "key"] if "key" in sub else ["distance_m"], kind="stable")
    return ZoneResult(pair, km, sum(p.length_m for p in cut), out)


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
    ``corridor_m`` metres of the line (tallies plus the keys, nearest first).
    """
    if not 0 < corridor_m <= MAX_CORRIDOR_M:
        raise ValueError(f"corridor_m must be in (0, {MAX_CORRIDOR_M:g}], got {corridor_m}")
    frames = features.frames()
    coords = {name: _lonlat(f) for name, f in frames.items()}
    out: list[dict[str, object]] = []
    for i in range(len(lines)):
        row = lines.iloc[i]
        geom = lines.geometry.iloc[i]
        crossings = {name: pts for name, b in borders.items() if (pts := crossing_points(geom, b))}
        if not crossings:
            continue
        pieces = [p.geometry for p in cut_line(geom, DISTANCE_PIECE_M)]
        near: dict[str, pd.DataFrame] = {}
        for name, frame in frames.items():
            lon, lat = coords[name]
            dist, _ = point_piece_distances(lon, lat, pieces, corridor_m).nearest(len(frame))
            hit = np.flatnonzero(np.isfinite(dist))
            sub = frame.iloc[hit].copy()
            sub["distance_m"] = dist[hit]
            near[name] = sub.sort_values("distance_m", kind="stable")
        out.append({
            "key": row.get("key"), "line_code": row.get("line_code"), "name": row.get("name"),
            "line_type": row.get("line_type"), "operator": row.get("operator"),
            "synthetic": bool(row.get("synthetic")) if row.get("synthetic") is not None else None,
            "length_m": geodesic_length_m(geom),
            "length_by_province_m": length_by_polygon_m(geom, provinces),
            "crossings": crossings, "corridor_m": corridor_m,
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


def border_profile(risk_sources: pd.DataFrame, border: BaseGeometry, *, segment_km: float, km: float,
                   weights: Mapping[str, float] = DEFAULT_LEVEL_WEIGHTS) -> list[ProfileSegment]:
    """The border cut into ``segment_km`` segments (geodesic), each scored by the risk near it.

    A segment's score is Σ weight(level) over the risk sources within ``km`` kilometres
    of the segment, on either side (a source near two segments counts in both);
    ``counts`` the number of sources per level.
    """
    if not 0 < segment_km <= 100:
        raise ValueError(f"segment_km must be in (0, 100], got {segment_km}")
    if not 0 < km <= MAX_ZONE_KM:
        raise ValueError(f"km must be in (0, {MAX_ZONE_KM:g}], got {km}")
    segments = cut_line(border, segment_km * 1000.0)
    lon, lat = _lonlat(risk_sources)
    levels = risk_sources["level"].astype(object).to_numpy() if len(risk_sources) else np.zeros(0, object)
    w = level_weights_of(levels, weights)
    pairs = point_piece_distances(lon, lat, [s.geometry for s in segments], km * 1000.0)
    score = np.bincount(pairs.piece, weights=w[pairs.point], minlength=len(segments))
    counts = {lv: np.bincount(pairs.piece, weights=(levels[pairs.point] == lv).astype(float),
                              minlength=len(segments)) for lv in LEVEL_CODES}
    return [ProfileSegment(i, s.geometry, s.start_m, s.end_m, float(score[i]),
                           {lv: int(counts[lv][i]) for lv in LEVEL_CODES}) for i, s in enumerate(segments)]


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
