"""Cross-border analysis on a store: fetch what :mod:`geo.border` needs, run it, shape the answers.

Province polygons come from the store's ``areas`` (``area_type = province``), districts
from ``area_type = district``, borders from ``lines`` (``line_type = border``,
``line_code = border:<a>-<b>``; when a border line is missing it is derived from the
two province polygons).  Features near a line are fetched with ``Store.read`` on
lon/lat boxes covering the line's reach (index-backed on both stores) and kept when
inside it; every distance is then measured by :mod:`geo.border` — so PostGIS and the
GeoPackage give the same answers.

Each layer is read once per question: :func:`analyse_all_pairs` reads the reach of all
three borders and of the lines crossing them in one pass.  Geography, bands (features
measured against a border), zones, crossing lines and all-pairs answers are kept in the
:class:`~geo.capabilities.cache.Cache` passed in, keyed by the data versions of
:data:`BORDER_KINDS`, so the page's zone, profile and crossing requests for one pair share
one read, and nothing is recomputed until the data change.  Without a cache each call
still shares its own reads.

Everything is WGS-84 (EPSG:4326); distances and lengths in metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo import border as bd
from geo.capabilities.cache import Cache
from geo.coords import STORAGE_CRS
from geo.entities import LEVEL_CODES
from geo.errors import BadInput, NotFound
from geo.files.exports import Export
from geo.response import RESOURCE_TYPES, TravelModel
from geo.scope import Scope, scope_key, scoped_where
from geo.stores.frames import python_value
from geo.stores.protocol import Store

SYNTHETIC_NOTICE = {"zh": "含合成演示数据，非真实数据，结论仅供演示",
                    "en": "Includes synthetic demo data, not real; results are a demonstration"}

#: Pipelines and hazmat routes (``lines.line_type``) checked for crossings.
CROSSING_LINE_TYPES = ("oil_pipeline", "gas_pipeline", "water_pipeline", "hazmat_route")

#: The Tongzhou–Wuqing–Langfang pilot sub-region (通武廊): its area codes.
PILOT_AREA_CODES = ("110112", "120114", "131000")
PILOT_NAME = {"zh": "通武廊（通州—武清—廊坊）", "en": "Tongzhou–Wuqing–Langfang"}
#: Its lon/lat box when the store has no areas (approximate, WGS-84).
PILOT_FALLBACK_BBOX = (116.25, 38.45, 117.35, 40.05)

#: The columns each answer or export uses (read nothing else: reads cost per value on PostGIS).
_COLUMNS = {
    "risk_sources": ("name", "level", "province_code", "county_code", "synthetic"),
    "hazchem_sites": ("name", "province_code", "county_code", "synthetic"),
    "hidden_hazards": ("unit_name", "province_code", "county_code", "synthetic"),
    "protection_targets": ("name", "province_code", "county_code", "synthetic"),
}
_WHERE: dict[str, dict[str, Any] | None] = {"hidden_hazards": {"status": "open"}}

#: Kinds whose rows the answers depend on (their data versions key the cache).
BORDER_KINDS = ("risk_sources", "hazchem_sites", "hidden_hazards", "protection_targets", "areas", "lines")

Versions = dict[str, int]


def _own(cache: Cache | None) -> Cache:
    """``cache``, or one for this call only (so one call still reads each layer once)."""
    return cache if cache is not None else Cache()


def _versions(store: Store) -> Versions:
    return store.data_versions(BORDER_KINDS)


# --------------------------------------------------------------------------------------
# Reference geometry from the store
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BorderGeography:
    """Province polygons, districts (with names), and the border line of each pair (WGS-84)."""

    provinces: dict[str, BaseGeometry]
    districts: gpd.GeoDataFrame
    borders: dict[str, BaseGeometry]
    names: dict[str, str]  # area code → Chinese name
    _pieces: dict[str, bd.BorderPieces] = field(default_factory=dict, compare=False, repr=False)

    def pieces(self, pair: bd.BorderPair) -> bd.BorderPieces:
        """The pair's border in 5 km pieces with their county pairs (computed once)."""
        found = self._pieces.get(pair.name)
        if found is None:
            found = self._pieces[pair.name] = bd.border_pieces(_border_of(self, pair), pair, self.districts)
        return found


def _read_geography(store: Store) -> BorderGeography:
    areas = store.read("areas", where={"area_type": ["province", "district", "city"]},
                       columns=["area_code", "name", "area_type", "parent_code"])
    names = {str(c): str(n) for c, n in zip(areas["area_code"], areas["name"], strict=True)}
    prov = areas[areas["area_type"] == "province"]
    provinces = {str(c): g for c, g in zip(prov["area_code"], prov.geometry, strict=True)}
    districts = areas[areas["area_type"] == "district"].reset_index(drop=True)
    lines = store.read("lines", where={"line_type": "border"}, columns=["line_code"])
    by_code = {str(c): g for c, g in zip(lines["line_code"], lines.geometry, strict=True)}
    borders: dict[str, BaseGeometry] = {}
    for pair in bd.PAIRS.values():
        if pair.line_code in by_code:
            borders[pair.name] = by_code[pair.line_code]
        elif pair.a in provinces and pair.b in provinces:
            borders[pair.name] = bd.shared_border(provinces[pair.a], provinces[pair.b])
    for code, (zh, _) in bd.PROVINCE_NAMES.items():
        names.setdefault(code, zh)
    return BorderGeography(provinces, districts, borders, names)


def read_geography(store: Store, *, cache: Cache | None = None) -> BorderGeography:
    """Provinces, districts and border lines from ``store`` (kept in ``cache`` until areas or lines change)."""
    geography: BorderGeography = _own(cache).get("border.geography", store.data_versions(["areas", "lines"]), (),
                                                 lambda: _read_geography(store))
    return geography


class MissingBorderError(NotFound):
    """The store has neither the border line nor both province polygons of a pair."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no border line"


def _border_of(geo: BorderGeography, pair: bd.BorderPair) -> BaseGeometry:
    line = geo.borders.get(pair.name)
    if line is None or line.is_empty:
        raise MissingBorderError(f"no border line for {pair.name} in the store (load the reference data)")
    return line


# --------------------------------------------------------------------------------------
# Reading the features of a region
# --------------------------------------------------------------------------------------


def read_regions(store: Store, kinds: dict[str, Sequence[str] | None], region: BaseGeometry, *,
                 where: dict[str, dict[str, Any] | None] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Rows of each kind (→ its columns) whose point lies in ``region`` (a WGS-84 polygon)
    and match ``where[kind]``, by key: one ``Store.read(region=…)`` per kind, filtered by
    the store's spatial index and the polygon itself."""
    wheres = where or {}
    return {kind: store.read(kind, region=region, where=wheres.get(kind), columns=columns)
            for kind, columns in kinds.items()}


def read_region(store: Store, kind: str, region: BaseGeometry, *, where: dict[str, Any] | None = None,
                columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Rows of ``kind`` whose point lies in ``region`` (a WGS-84 polygon), by key (see :func:`read_regions`)."""
    return read_regions(store, {kind: columns}, region, where={kind: where})[kind]


def read_near(store: Store, kind: str, line: BaseGeometry, max_m: float, *,
              where: dict[str, Any] | None = None, columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
    """Rows of ``kind`` that may lie within ``max_m`` metres of ``line`` (a superset, by key)."""
    return read_region(store, kind, bd.reach_polygon(line, max_m), where=where, columns=columns)


def features_in(store: Store, region: BaseGeometry, *, scope: Scope | None = None) -> bd.Features:
    """Risk sources, hazchem sites, open hidden hazards and protection targets in ``region``
    (those ``scope`` leaves visible).

    Plain DataFrames (the ``geometry`` column holds WGS-84 shapely points): the analysis
    slices them many times, and a GeoDataFrame's bookkeeping would cost more than the slicing.
    """
    where = {kind: scoped_where(scope, kind, _WHERE.get(kind)) for kind in _COLUMNS}
    frames = read_regions(store, {kind: list(cols) for kind, cols in _COLUMNS.items()}, region, where=where)
    return bd.Features(**{kind: pd.DataFrame(frame) for kind, frame in frames.items()})


def features_near(store: Store, line: BaseGeometry, max_m: float, *, scope: Scope | None = None) -> bd.Features:
    """Risk sources, hazchem sites, open hidden hazards and protection targets that may lie near ``line``."""
    return features_in(store, bd.reach_polygon(line, max_m), scope=scope)


def _scope_key(scope: Scope | None) -> Any:
    """What a border answer's rows depend on of ``scope`` (a cache parameter)."""
    return scope_key(scope, _COLUMNS)


def _subset(features: bd.Features, region: BaseGeometry) -> bd.Features:
    """The features inside ``region`` (a part of what was read)."""
    out = {}
    for name, frame in zip(("risk_sources", "hazchem_sites", "hidden_hazards", "protection_targets"),
                           features.frames().values(), strict=True):
        geoms = np.asarray(frame.geometry.values, dtype=object)
        inside = shapely.intersects_xy(region, shapely.get_x(geoms), shapely.get_y(geoms)) if len(frame) else []
        out[name] = frame[inside].reset_index(drop=True) if len(frame) else frame
    return bd.Features(**out)


def _synthetic(frames: Sequence[pd.DataFrame]) -> bool:
    return any(bool(f["synthetic"].fillna(False).astype(bool).any()) for f in frames if len(f))


# --------------------------------------------------------------------------------------
# Bands: the features near one border, measured once
# --------------------------------------------------------------------------------------


def _band(store: Store, geo: BorderGeography, pair: bd.BorderPair, km: float, versions: Versions, cache: Cache,
          *, features: bd.Features | None = None, scope: Scope | None = None) -> bd.BorderBand:
    """The band of ``pair`` at ``km`` (cached per scope); ``features``: already read (in
    ``scope``), covering the band."""

    def compute() -> bd.BorderBand:
        line = _border_of(geo, pair)
        region = bd.reach_polygon(line, km * 1000.0)
        found = _subset(features, region) if features is not None else features_in(store, region, scope=scope)
        return bd.border_band(found, geo.pieces(pair), km=km)

    band: bd.BorderBand = cache.get("border.band", versions, (pair.name, float(km), _scope_key(scope)), compute)
    return band


# --------------------------------------------------------------------------------------
# Border zones
# --------------------------------------------------------------------------------------


@dataclass
class ZoneReport:
    """A border-zone answer: the pure result plus names for display."""

    result: bd.ZoneResult
    names: dict[str, str]

    @property
    def synthetic(self) -> bool:
        return _synthetic(list(self.result.features.values()))

    def as_dict(self) -> dict[str, Any]:
        r, pair = self.result, self.result.pair
        sides = r.by_side()
        return {
            "pair": {"name": pair.name, "zh": pair.zh, "en": pair.en, "a": pair.a, "b": pair.b},
            "km": r.km, "border_length_m": round(r.border_length_m, 1),
            "by_side": [{"side": side, "name": self.names.get(side) if side != bd.OTHER_SIDE else "其他",
                         **counts} for side, counts in sides.items()],
            "by_county_pair": [{**row, "county_a_name": self.names.get(str(row["county_a"])),
                                "county_b_name": self.names.get(str(row["county_b"]))}
                               for row in r.by_county_pair()],
            "synthetic": self.synthetic, "notice": SYNTHETIC_NOTICE if self.synthetic else None,
            "crs": "EPSG:4326",
            "distance": "metres, WGS-84 ellipsoid (transverse Mercator per 5 km border piece, scale-corrected)",
        }

    def feature_rows(self) -> gpd.GeoDataFrame:
        """One row per feature in the zone: kind, key, name, level, side, distance_m, county pair."""
        rows = []
        for kind, f in self.result.features.items():
            if not len(f):
                continue
            name = f["name"] if "name" in f else f.get("unit_name")
            rows.append(gpd.GeoDataFrame({
                "kind": kind, "key": f["key"].to_numpy(), "name": np.asarray(name, dtype=object),
                "level": f["level"].to_numpy() if "level" in f else None,
                "side": f["side"].to_numpy(), "distance_m": np.round(f["distance_m"].to_numpy(), 2),
                "province_code": f["province_code"].to_numpy(), "county_code": f["county_code"].to_numpy(),
                "county_a": f["county_a"].to_numpy(), "county_b": f["county_b"].to_numpy(),
                "synthetic": f["synthetic"].to_numpy(),
            }, geometry=f.geometry.to_numpy(), crs="EPSG:4326"))
        if not rows:
            return gpd.GeoDataFrame({"kind": []}, geometry=[], crs="EPSG:4326")
        return gpd.GeoDataFrame(pd.concat(rows, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def _check_km(km: float) -> None:
    if not 0 < km <= bd.MAX_ZONE_KM:
        raise BadInput(f"km must be in (0, {bd.MAX_ZONE_KM:g}], got {km}")


def _zone(store: Store, geo: BorderGeography, pair: bd.BorderPair, km: float, versions: Versions, cache: Cache,
          features: bd.Features | None = None, scope: Scope | None = None) -> ZoneReport:
    def compute() -> ZoneReport:
        band = _band(store, geo, pair, km, versions, cache, features=features, scope=scope)
        return ZoneReport(bd.zone_of_band(band), geo.names)

    report: ZoneReport = cache.get("border.zone", versions, (pair.name, float(km), _scope_key(scope)), compute)
    return report


def border_zone(store: Store, pair_name: str, *, km: float = 10.0, geography: BorderGeography | None = None,
                cache: Cache | None = None, scope: Scope | None = None) -> ZoneReport:
    """Features within ``km`` km of the border of ``pair_name`` by side and county pair
    (those ``scope`` leaves visible: protection targets on both sides, a scope's own
    enterprises only).

    Raises :class:`geo.border.UnknownPairError` for an unknown pair, ValueError for a bad
    ``km``, :class:`MissingBorderError` when the store lacks the border.
    """
    pair = bd.get_pair(pair_name)
    _check_km(km)
    cache = _own(cache)
    geo = geography or read_geography(store, cache=cache)
    _border_of(geo, pair)
    return _zone(store, geo, pair, km, _versions(store), cache, scope=scope)


# --------------------------------------------------------------------------------------
# Lines that cross
# --------------------------------------------------------------------------------------


def _crossing_candidates(store: Store, borders: dict[str, BaseGeometry]) -> gpd.GeoDataFrame:
    """The pipelines and hazmat routes that cross any of ``borders``."""
    lines = store.read("lines", where={"line_type": list(CROSSING_LINE_TYPES)},
                       columns=["line_code", "name", "line_type", "operator", "synthetic"])
    crossing = [any(bd.crossing_points(g, b) for b in borders.values()) for g in lines.geometry]
    return lines[np.asarray(crossing, dtype=bool)].reset_index(drop=True) if len(lines) else lines


def _corridor_region(lines: gpd.GeoDataFrame, corridor_m: float) -> BaseGeometry:
    return shapely.union_all([bd.reach_polygon(g, corridor_m) for g in lines.geometry])


def _crossings(store: Store, geo: BorderGeography, borders: dict[str, BaseGeometry], corridor_m: float,
               versions: Versions, cache: Cache, *, lines: gpd.GeoDataFrame | None = None,
               features: bd.Features | None = None, scope: Scope | None = None) -> list[dict[str, Any]]:
    def compute() -> list[dict[str, Any]]:
        found = lines if lines is not None else _crossing_candidates(store, borders)
        if not len(found):
            return []
        region = _corridor_region(found, corridor_m)
        near = _subset(features, region) if features is not None else features_in(store, region, scope=scope)
        return bd.crossing_lines(found, borders, geo.provinces, near, corridor_m=corridor_m)

    params = (tuple(sorted(borders)), float(corridor_m), _scope_key(scope))
    items: list[dict[str, Any]] = cache.get("border.crossings", versions, params, compute)
    return items


def crossing_lines(store: Store, *, corridor_m: float = 500.0, pair_name: str | None = None,
                   geography: BorderGeography | None = None, cache: Cache | None = None,
                   scope: Scope | None = None) -> list[dict[str, Any]]:
    """Pipelines and hazmat routes crossing a border (all pairs, or ``pair_name``), see
    :func:`geo.border.crossing_lines`; ``corridor_features`` holds the frames near each line
    (those ``scope`` leaves visible; the lines themselves are reference data)."""
    if not 0 < corridor_m <= bd.MAX_CORRIDOR_M:
        raise BadInput(f"corridor_m must be in (0, {bd.MAX_CORRIDOR_M:g}], got {corridor_m}")
    pairs = [bd.get_pair(pair_name)] if pair_name else list(bd.PAIRS.values())
    cache = _own(cache)
    geo = geography or read_geography(store, cache=cache)
    borders = {p.name: geo.borders[p.name] for p in pairs if p.name in geo.borders}
    return _crossings(store, geo, borders, corridor_m, _versions(store), cache, scope=scope)


def crossings_as_dict(items: Sequence[dict[str, Any]], *, names: dict[str, str] | None = None,
                      list_limit: int = 50) -> dict[str, Any]:
    """The crossing lines as JSON-ready dicts (features near each line: first ``list_limit``)."""
    names = names or {}
    lines = []
    synthetic = False
    for item in items:
        near = item["corridor_features"]
        synthetic = synthetic or bool(item.get("synthetic")) or _synthetic(list(near.values()))
        lines.append({
            **{k: python_value(item[k]) for k in ("key", "line_code", "name", "line_type", "operator", "synthetic")},
            "length_m": round(item["length_m"], 1),
            "length_by_province_m": {k: round(v, 1) for k, v in item["length_by_province_m"].items()},
            "province_names": {k: names.get(k) for k in item["length_by_province_m"] if k != "outside"},
            "crossings": [{"pair": p, "points": [list(xy) for xy in pts]} for p, pts in item["crossings"].items()],
            "corridor_m": item["corridor_m"], "corridor": item["corridor"],
            "near": {kind: [{"key": python_value(r.key), "name": python_value(getattr(r, "name", None)
                                                                               or getattr(r, "unit_name", None)),
                             "level": python_value(getattr(r, "level", None)),
                             "distance_m": round(float(r.distance_m), 2)}
                            for r in f.head(list_limit).itertuples(index=False)]
                     for kind, f in near.items()},
            "geometry": mapping(item["geometry"]),
        })
    return {"lines": lines, "count": len(lines), "synthetic": synthetic,
            "notice": SYNTHETIC_NOTICE if synthetic else None, "crs": "EPSG:4326"}


# --------------------------------------------------------------------------------------
# Border profile
# --------------------------------------------------------------------------------------


def _profile_answer(band: bd.BorderBand, zone: ZoneReport, *, segment_km: float, weights: dict[str, float],
                    top: int) -> dict[str, Any]:
    pair = band.pieces.pair
    segments = bd.profile_of_band(band, segment_km=segment_km, weights=weights)
    synthetic = _synthetic([zone.result.features["risk_sources"]])

    def props(s: bd.ProfileSegment) -> dict[str, Any]:
        return {"index": s.index, "start_km": round(s.start_m / 1000, 3), "end_km": round(s.end_m / 1000, 3),
                "length_m": round(s.end_m - s.start_m, 1),
                "score": round(s.score, 3), **{f"count_{lv}": s.counts[lv] for lv in LEVEL_CODES}}

    return {
        "pair": {"name": pair.name, "zh": pair.zh, "en": pair.en, "a": pair.a, "b": pair.b},
        "segment_km": segment_km, "km": band.km, "weights": weights,
        "segments": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": mapping(s.geometry), "properties": props(s)} for s in segments]},
        "hottest": [props(s) for s in bd.hottest(segments, top)],
        "synthetic": synthetic, "notice": SYNTHETIC_NOTICE if synthetic else None, "crs": "EPSG:4326",
    }


def border_profile(store: Store, pair_name: str, *, segment_km: float = 5.0, km: float = 10.0,
                   weights: dict[str, float] | None = None, top: int = 5,
                   geography: BorderGeography | None = None, cache: Cache | None = None,
                   scope: Scope | None = None) -> dict[str, Any]:
    """The border of ``pair_name`` in ``segment_km`` segments scored by the risk within ``km``
    km (the risk sources in ``scope``).

    ``weights``: per risk level (default :data:`geo.border.DEFAULT_LEVEL_WEIGHTS`; the app
    passes :func:`level_weights` of its area-risk parameters).  Returns ``segments`` (a
    GeoJSON FeatureCollection: index, start_km, end_km, score, counts per level),
    ``hottest`` (the ``top`` highest-scoring segments) and the weights.
    """
    pair = bd.get_pair(pair_name)
    if not 0 < segment_km <= 100:
        raise BadInput(f"segment_km must be in (0, 100], got {segment_km}")
    _check_km(km)
    weights = dict(weights or bd.DEFAULT_LEVEL_WEIGHTS)
    cache = _own(cache)
    geo = geography or read_geography(store, cache=cache)
    _border_of(geo, pair)
    versions = _versions(store)
    band = _band(store, geo, pair, km, versions, cache, scope=scope)
    return _profile_answer(band, _zone(store, geo, pair, km, versions, cache, scope=scope), segment_km=segment_km,
                           weights=weights, top=top)


def level_weights(config_path: Path, *, cache: Cache | None = None) -> dict[str, float]:
    """Risk-level weights of the area-risk parameters at ``config_path``
    (:data:`geo.border.DEFAULT_LEVEL_WEIGHTS` when the file cannot be read)."""
    from geo.capabilities.area_risk import load_config

    try:
        return dict(load_config(config_path, cache=cache).weights)
    except (OSError, ValueError):  # a broken config must not break the border page
        return dict(bd.DEFAULT_LEVEL_WEIGHTS)


# --------------------------------------------------------------------------------------
# All pairs at once
# --------------------------------------------------------------------------------------


@dataclass
class AllPairs:
    """Zones and profiles of every pair whose border the store holds, and the crossing lines."""

    km: float
    segment_km: float
    corridor_m: float
    zones: dict[str, ZoneReport]
    profiles: dict[str, dict[str, Any]]
    crossings: list[dict[str, Any]]
    names: dict[str, str]

    def summary(self) -> dict[str, Any]:
        """Per pair: border length, counts by side, the hottest segment; the crossing lines' count."""
        pairs = []
        for name, zone in self.zones.items():
            d = zone.as_dict()
            hot = self.profiles[name]["hottest"]
            pairs.append({"pair": d["pair"], "border_length_m": d["border_length_m"], "by_side": d["by_side"],
                          "hottest": hot[0] if hot else None,
                          "crossing_lines": sum(1 for c in self.crossings if name in c["crossings"])})
        synthetic = any(z.synthetic for z in self.zones.values())
        return {"km": self.km, "segment_km": self.segment_km, "corridor_m": self.corridor_m, "pairs": pairs,
                "crossing_lines": len(self.crossings), "synthetic": synthetic,
                "notice": SYNTHETIC_NOTICE if synthetic else None, "crs": "EPSG:4326"}


def analyse_all_pairs(store: Store, *, km: float = 10.0, segment_km: float = 5.0, corridor_m: float = 500.0,
                      weights: dict[str, float] | None = None, top: int = 5, cache: Cache | None = None,
                      scope: Scope | None = None) -> AllPairs:
    """Zones, profiles and crossing lines of all three borders, reading each layer once
    (the rows ``scope`` leaves visible; kept per scope).

    One region — every border's reach at ``km`` and the corridors of the lines that
    cross — is read per layer; each pair's band and the crossings are then computed
    from it (and cached, so the per-pair requests that follow are answered at once).
    """
    _check_km(km)
    if not 0 < corridor_m <= bd.MAX_CORRIDOR_M:
        raise BadInput(f"corridor_m must be in (0, {bd.MAX_CORRIDOR_M:g}], got {corridor_m}")
    if not 0 < segment_km <= 100:
        raise BadInput(f"segment_km must be in (0, 100], got {segment_km}")
    weights = dict(weights or bd.DEFAULT_LEVEL_WEIGHTS)
    cache = _own(cache)
    geo = read_geography(store, cache=cache)
    versions = _versions(store)

    def compute() -> AllPairs:
        pairs = [p for p in bd.PAIRS.values() if p.name in geo.borders and not geo.borders[p.name].is_empty]
        borders = {p.name: geo.borders[p.name] for p in pairs}
        lines = _crossing_candidates(store, borders)
        parts = [bd.reach_polygon(borders[p.name], km * 1000.0) for p in pairs]
        if len(lines):
            parts.append(_corridor_region(lines, corridor_m))
        features = features_in(store, shapely.union_all(parts), scope=scope) if parts else None
        zones: dict[str, ZoneReport] = {}
        profiles: dict[str, dict[str, Any]] = {}
        for p in pairs:
            band = _band(store, geo, p, km, versions, cache, features=features, scope=scope)
            zones[p.name] = _zone(store, geo, p, km, versions, cache, features=features, scope=scope)
            profiles[p.name] = _profile_answer(band, zones[p.name], segment_km=segment_km, weights=weights, top=top)
        crossings = _crossings(store, geo, borders, corridor_m, versions, cache, lines=lines, features=features,
                               scope=scope)
        return AllPairs(km, segment_km, corridor_m, zones, profiles, crossings, geo.names)

    params = (float(km), float(segment_km), float(corridor_m), tuple(sorted(weights.items())), top,
              _scope_key(scope))
    result: AllPairs = cache.get("border.all", versions, params, compute)
    return result


# --------------------------------------------------------------------------------------
# Mutual aid
# --------------------------------------------------------------------------------------


def mutual_aid(store: Store, lon: float, lat: float, *, k: int = 3, types: Sequence[str] | None = None,
               travel: TravelModel | None = None, geography: BorderGeography | None = None,
               cache: Cache | None = None, scope: Scope | None = None) -> dict[str, Any]:
    """For an incident at (lon, lat): the ``k`` nearest resources of each type from every
    province (of those ``scope`` leaves visible: a commander's resources cross every border).

    Each resource carries its ``province_code``/name, ``distance_m`` (geodesic) and
    ``eta_min``; ``across_border`` is true when its province is not the incident's.
    """
    types = list(types or RESOURCE_TYPES)
    unknown = [t for t in types if t not in RESOURCE_TYPES]
    if unknown:
        raise BadInput(f"unknown resource type {unknown[0]!r}; known: {', '.join(RESOURCE_TYPES)}")
    travel = travel or TravelModel()
    geo = geography or read_geography(store, cache=cache)
    home = bd.province_at(lon, lat, geo.provinces)
    provinces = sorted(bd.PROVINCE_NAMES)
    items: list[dict[str, Any]] = []
    for t in types:
        for code in provinces:
            near = store.nearest("resources", lon, lat, k=k,
                                 where=scoped_where(scope, "resources", {"resource_type": t, "province_code": code}))
            for i, row in enumerate(near.itertuples(index=False)):
                g = near.geometry.iloc[i]
                items.append({
                    "key": row.key, "name": python_value(row.name), "resource_type": t,
                    "resource_type_zh": RESOURCE_TYPES[t], "speciality": python_value(row.speciality),
                    "province_code": code, "province_name": geo.names.get(code, code),
                    "county_code": python_value(row.county_code), "county_name": geo.names.get(str(row.county_code)),
                    "distance_m": round(float(row.distance_m), 2),
                    "eta_min": round(float(travel.minutes(row.distance_m)), 1),
                    "across_border": home is not None and code != home,
                    "synthetic": python_value(row.synthetic), "lon": round(g.x, 7), "lat": round(g.y, 7),
                })
    items.sort(key=lambda r: (r["resource_type"], r["distance_m"], r["key"]))
    synthetic = any(bool(r["synthetic"]) for r in items)
    return {"incident": {"lon": lon, "lat": lat, "province_code": home,
                         "province_name": geo.names.get(home) if home else None},
            "k": k, "travel": {"speed_kmh": travel.speed_kmh, "detour_factor": travel.detour_factor},
            "resources": items, "synthetic": synthetic, "notice": SYNTHETIC_NOTICE if synthetic else None,
            "crs": "EPSG:4326"}


def pilot_region(store: Store) -> dict[str, Any]:
    """The Tongzhou–Wuqing–Langfang pilot sub-region: codes, names, bbox (lon/lat) and outline."""
    areas = store.read("areas", where={"area_code": list(PILOT_AREA_CODES)}, columns=["area_code", "name"])
    if len(areas):
        outline = shapely.union_all(np.asarray(areas.geometry.values, dtype=object))
        bbox = tuple(round(float(v), 6) for v in outline.bounds)
        geometry = mapping(outline.simplify(0.001))
    else:
        bbox, geometry = PILOT_FALLBACK_BBOX, None
    return {"name": PILOT_NAME, "area_codes": list(PILOT_AREA_CODES),
            "areas": [{"area_code": c, "name": n} for c, n in zip(areas["area_code"], areas["name"], strict=True)],
            "bbox": list(bbox), "geometry": geometry, "crs": "EPSG:4326"}


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------


def zone_export(report: ZoneReport) -> Export:
    """A border zone for :func:`geo.files.exports.export`: tables features (the CSV), by
    side and county pairs; features: the features in the zone."""
    d = report.as_dict()
    feats = report.feature_rows()
    table = pd.DataFrame(feats.drop(columns="geometry"))
    if len(feats):
        table["lon"] = np.round(feats.geometry.x.to_numpy(), 7)
        table["lat"] = np.round(feats.geometry.y.to_numpy(), 7)
    sheets = {"features": table, "by side": pd.DataFrame(d["by_side"]),
              "county pairs": pd.DataFrame(d["by_county_pair"])}
    meta = {k: d[k] for k in ("pair", "km", "border_length_m", "synthetic", "notice", "crs", "distance")}
    return Export("border_zone", sheets, features=feats, meta=meta)


def crossings_export(answer: dict[str, Any]) -> Export:
    """Crossing lines (:func:`crossings_as_dict`) for :func:`geo.files.exports.export`: one
    row per line; features: the lines."""
    rows = []
    for line in answer["lines"]:
        rows.append({
            **{k: line[k] for k in ("line_code", "name", "line_type", "operator", "length_m", "corridor_m")},
            **{f"length_m_{k}": v for k, v in line["length_by_province_m"].items()},
            "crossings": ";".join(f"{c['pair']}:" + " ".join(f"{x:.5f},{y:.5f}" for x, y in c["points"])
                                  for c in line["crossings"]),
            **line["corridor"], "synthetic": line["synthetic"],
        })
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": line["geometry"], "properties": row} for line, row in
        zip(answer["lines"], rows, strict=True)]}
    meta = {k: answer[k] for k in ("count", "synthetic", "notice", "crs")}
    return Export("border_crossings", {"crossing lines": pd.DataFrame(rows)}, features=fc, meta=meta)


def profile_export(answer: dict[str, Any]) -> Export:
    """A border profile (:func:`border_profile`) for :func:`geo.files.exports.export`:
    tables segments (the CSV) and hottest; features: the segment lines."""
    seg = pd.DataFrame([f["properties"] for f in answer["segments"]["features"]])
    meta = {k: answer[k] for k in ("pair", "segment_km", "km", "weights", "synthetic", "notice", "crs")}
    return Export("border_profile", {"segments": seg, "hottest": pd.DataFrame(answer["hottest"])},
                  features=answer["segments"], meta=meta)


def mutual_aid_export(answer: dict[str, Any]) -> Export:
    """Mutual-aid resources (:func:`mutual_aid`) for :func:`geo.files.exports.export`: one
    row per resource; features: the resource points."""
    table = pd.DataFrame(answer["resources"])
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]}, "properties": r}
        for r in answer["resources"]]}
    meta = {"incident": answer["incident"], "k": answer["k"], "travel": answer["travel"],
            "synthetic": answer["synthetic"], "notice": answer["notice"], "crs": STORAGE_CRS}
    return Export("mutual_aid", {"resources": table}, features=fc, meta=meta)
