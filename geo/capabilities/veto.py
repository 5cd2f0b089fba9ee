"""Site-veto queries against a store, parcel files in, verdict files out.

* :func:`read_rule_set` / :func:`check_rule_file` — the YAML rule set on disk.
* :func:`evaluate_one` — one site: one ``within_distance`` query per hazard layer
  the land use's rules measure from, at the largest distance those rules can
  require (an attribute distance such as ``external_distance_m`` uses the layer's
  largest value, kept in the :class:`~geo.capabilities.cache.Cache` passed in per data
  version), then :func:`geo.veto.evaluate_candidates`.
* :func:`evaluate_parcels` — a batch: each hazard layer is read once for the
  batch's box widened by the search distance, then :func:`geo.veto.evaluate_many`
  measures every parcel the same way (same AEQD distances as the stores).
* :func:`audit_conflicts` — existing protection targets already inside a hazard's
  required distance, per district.
* :func:`read_parcels` (GeoJSON, GeoPackage, CSV with WKT or lon/lat, zipped
  Shapefile, via pyogrio) and :func:`verdicts_export` / :func:`audit_export` (what
  :func:`geo.files.exports.export` writes as GeoJSON, GeoPackage, XLSX or CSV).

Geometries in and out are WGS-84 (EPSG:4326); files in another CRS are
transformed, CSV files (no CRS) are taken as WGS-84 unless a datum is given.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geo.capabilities.cache import Cache, cached, file_stamp
from geo.coords import STORAGE_CRS, convert
from geo.distance import degree_box
from geo.errors import BadInput
from geo.files.exports import Export, plain_value
from geo.scope import Scope, scoped_where
from geo.stores.protocol import Store, utc_stamp
from geo.veto import (
    VERDICT_LABELS,
    AreaContext,
    GeometryError,
    HazardHit,
    LandUse,
    RuleSet,
    RuleSetError,
    UnknownLandUseError,
    Verdict,
    audit_rules,
    check_site_geometry,
    coverage_state,
    evaluate_candidates,
    evaluate_many,
    existing_target_use,
    hazard_columns,
    layer_rules,
    merged_where,
    parse_rule_set,
    search_distances,
)

#: What a verdict's message says instead of the name of a hazard outside the caller's scope.
WITHHELD_HAZARD = "a hazard outside your area / 辖区外危险源"
SYNTHETIC_NOTICE = {"zh": "危险源含合成演示数据，非真实数据，结论仅供演示",
                    "en": "Hazards include synthetic demo data, not real; the verdict is a demonstration"}


def read_rule_set(path: Path, *, cache: Cache | None = None) -> RuleSet:
    """The rule set in ``path`` (the app's is ``DataPaths.rules_path``); with ``cache``,
    parsed again only when the file changes.  Raises FileNotFoundError or
    :class:`geo.veto.RuleSetError`."""
    path = Path(path)
    return cached(cache, "veto.rule_set", {}, file_stamp(path),
                  lambda: parse_rule_set(path.read_text(encoding="utf-8")))


def check_rule_file(path: Path) -> list[str]:
    """Problems with the rule set in ``path`` (empty when valid), one line each."""
    try:
        parse_rule_set(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{path}: no such file"]
    except RuleSetError as exc:
        return exc.errors
    return []


# --------------------------------------------------------------------------------------
# Cached reads (keyed by the layer's data version)
# --------------------------------------------------------------------------------------


def context_areas(store: Store, rule_set: RuleSet, *, version: int | None = None,
                  cache: Cache | None = None) -> gpd.GeoDataFrame:
    """Coverage areas (the rule set's province codes), zones and risk contours (WGS-84),
    kept in ``cache`` until the areas change."""
    version = store.data_version("areas") if version is None else version
    codes = sorted({*rule_set.coverage.jjj, *rule_set.coverage.beijing})

    def build() -> gpd.GeoDataFrame:
        frames = [store.read("areas", where={"area_code": codes}),
                  store.read("areas", where={"area_type": ["zone", "risk_contour"]})]
        both = pd.concat(frames, ignore_index=True).drop_duplicates("key")
        return gpd.GeoDataFrame(both, geometry="geometry", crs=STORAGE_CRS).reset_index(drop=True)

    return cached(cache, "veto.context_areas", {"areas": version}, tuple(codes), build)


def attribute_max(store: Store, kind: str, column: str, *, version: int | None = None,
                  cache: Cache | None = None) -> float:
    """Largest value of ``kind.column`` (metres; 0 when none), kept in ``cache`` until ``kind`` changes."""
    version = store.data_version(kind) if version is None else version

    def build() -> float:
        values = pd.to_numeric(store.read(kind)[column], errors="coerce")
        return float(values.max()) if values.notna().any() else 0.0

    return cached(cache, "veto.attribute_max", {kind: version}, column, build)


@dataclass
class DataStamp:
    """What data a verdict was computed on: layer data versions, when each layer was last
    loaded (UTC; None if never) and the evaluation time (UTC)."""

    versions: dict[str, int]
    loaded_at: dict[str, str | None] = field(default_factory=dict)
    evaluated_at: str = field(default_factory=lambda: utc_stamp(datetime.now(UTC)))

    @classmethod
    def of(cls, store: Store, versions: dict[str, int]) -> DataStamp:
        return cls(versions, store.last_loaded(list(versions)))

    def as_dict(self) -> dict[str, Any]:
        return {"data_versions": self.versions, "data_loaded_at": self.loaded_at, "evaluated_at": self.evaluated_at}


def _attribute_maxima(store: Store, rules: Sequence[Any], versions: dict[str, int],
                      cache: Cache | None) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for rule in rules:
        if rule.hazard is not None and rule.test.attribute_distance is not None:
            kind, col = rule.hazard.layer, rule.test.attribute_distance.attribute
            out[(kind, col)] = attribute_max(store, kind, col, version=versions.get(kind), cache=cache)
    return out


def resolve_land_use(rule_set: RuleSet, land_use: str | LandUse) -> LandUse:
    return land_use if isinstance(land_use, LandUse) else rule_set.land_use(land_use)


def evaluate_one(
    store: Store, rule_set: RuleSet, geometry: BaseGeometry | None, land_use: str | LandUse, *,
    name: str | None = None, cache: Cache | None = None, scope: Scope | None = None,
) -> tuple[Verdict, DataStamp]:
    """The verdict for one site (WGS-84 point or polygon) proposed for ``land_use``;
    ``cache`` keeps the context areas and attribute maxima between calls.  Every hazard
    counts whatever ``scope``; those outside it are withheld (:func:`withhold_outside`).

    Raises :class:`geo.veto.GeometryError` for an invalid geometry and
    :class:`geo.veto.UnknownLandUseError` for an unknown land use.
    """
    site = check_site_geometry(geometry)
    use = resolve_land_use(rule_set, land_use)
    rules = rule_set.rules_for(use)
    groups = layer_rules(rules)
    versions = store.data_versions(["areas", *groups])
    stamp = DataStamp.of(store, versions)
    areas = context_areas(store, rule_set, version=versions["areas"], cache=cache)
    search = search_distances(rules, _attribute_maxima(store, rules, versions, cache))
    candidates: dict[str, gpd.GeoDataFrame] = {}
    covered, _, _ = coverage_state(rule_set, site, AreaContext.for_site(site, areas))
    if covered:  # outside (or reaching beyond) the coverage the verdict is OUTSIDE_COVERAGE: no queries
        for kind, group in groups.items():
            where = merged_where([r.hazard.where for r in group if r.hazard is not None])
            candidates[kind] = store.within_distance(kind, site, search[kind], where=where or None,
                                                     columns=hazard_columns(kind, group))
    unloaded = [kind for kind in groups if versions[kind] == 0]
    verdict = evaluate_candidates(rule_set, site, use, candidates=candidates, areas=areas, search_m=search,
                                  unloaded=unloaded, name=name)
    return withhold_outside(store, [verdict], scope)[0], stamp


def withhold_outside(store: Store, verdicts: list[Verdict], scope: Scope | None) -> list[Verdict]:
    """``verdicts`` with every hit on a hazard outside ``scope`` withheld
    (:meth:`geo.veto.HazardHit.withhold`: distance and outcome kept, identity not): a
    verdict still rests on every hazard, the caller learns only of their own."""
    if scope is None:
        return verdicts
    hits = [h for v in verdicts for r in v.results for h in [*r.hits, *([r.nearest] if r.nearest else [])]]
    keys: dict[str, set[str]] = {}
    for h in hits:
        if scope.filters_kind(h.layer):
            keys.setdefault(h.layer, set()).add(h.key)
    if not keys:
        return verdicts
    shown = {kind: set(store.read(kind, where=scoped_where(scope, kind, {"key": sorted(ks)}), columns=())["key"])
             for kind, ks in keys.items()}

    def outside(h: HazardHit) -> bool:
        return h.layer in shown and h.key not in shown[h.layer]

    for v in verdicts:
        for r in v.results:
            for h in [*r.hits, *([r.nearest] if r.nearest else [])]:
                if outside(h):  # the message names the hazard as a hit does
                    r.message = r.message.replace(h.name or h.key, WITHHELD_HAZARD)
            r.hits = [h.withhold() if outside(h) else h for h in r.hits]
            r.nearest = r.nearest.withhold() if r.nearest is not None and outside(r.nearest) else r.nearest
    return verdicts


# --------------------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------------------


@dataclass
class ParcelResult:
    """One parcel of a batch: its id, name, land use as given, geometry, and either a
    verdict or the error that kept it from one."""

    parcel_id: str
    name: str | None
    land_use_raw: str | None
    geometry: BaseGeometry | None
    verdict: Verdict | None = None
    error: str | None = None


@dataclass
class BatchResult:
    parcels: list[ParcelResult]
    stamp: DataStamp
    rule_set_version: str

    @property
    def synthetic(self) -> bool:
        return any(p.verdict.synthetic for p in self.parcels if p.verdict is not None)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.parcels:
            code = p.verdict.verdict if p.verdict is not None else "ERROR"
            out[code] = out.get(code, 0) + 1
        return out


def _box_around(geoms: Sequence[BaseGeometry], distance_m: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
    lo, hi = degree_box(minx, miny, distance_m), degree_box(maxx, maxy, distance_m)
    return min(lo[0], hi[0]), min(lo[1], hi[1]), max(lo[2], hi[2]), max(lo[3], hi[3])


def evaluate_sites(
    store: Store, rule_set: RuleSet, sites: Sequence[BaseGeometry], land_uses: Sequence[LandUse], *,
    names: Sequence[str | None] | None = None, cache: Cache | None = None, scope: Scope | None = None,
) -> tuple[list[Verdict], DataStamp]:
    """Verdicts for many checked sites: each hazard layer read once (box of all sites
    widened by the largest search distance), then measured in-process.

    ``scope``: only the hazards it leaves visible are measured — for the audit of existing
    conflicts, never for a verdict on a proposed site (a hazard outside the caller's scope
    still vetoes a site: a scope must not turn a VETO into a PASS).
    """
    rules = [r for use in {u.code: u for u in land_uses}.values() for r in rule_set.rules_for(use)]
    groups = layer_rules({r.id: r for r in rules}.values())
    versions = store.data_versions(["areas", *groups])
    areas = context_areas(store, rule_set, version=versions["areas"], cache=cache)
    search = search_distances(rules, _attribute_maxima(store, rules, versions, cache))
    hazards: dict[str, gpd.GeoDataFrame] = {}
    if len(sites):
        for kind, group in groups.items():
            where = merged_where([r.hazard.where for r in group if r.hazard is not None])
            hazards[kind] = store.read(kind, bbox=_box_around(sites, search[kind]),
                                       where=scoped_where(scope, kind, where), columns=hazard_columns(kind, group))
    unloaded = [kind for kind in groups if versions[kind] == 0]
    verdicts = evaluate_many(rule_set, sites, land_uses, hazards=hazards, areas=areas, unloaded=unloaded,
                             names=names)
    return verdicts, DataStamp.of(store, versions)


def evaluate_parcels(store: Store, rule_set: RuleSet, parcels: gpd.GeoDataFrame, *,
                     land_use_column: str | None = None, default_land_use: str | None = None,
                     cache: Cache | None = None, scope: Scope | None = None) -> BatchResult:
    """Verdicts for every parcel of ``parcels`` (as :func:`read_parcels` returns it); hazards
    outside ``scope`` count but are withheld (:func:`withhold_outside`).

    The land use comes from ``land_use_column`` (default: ``land_use`` or ``用地性质``)
    or ``default_land_use``.  A parcel with an unreadable or invalid geometry or an
    unknown land use gets an error, not a verdict; the rest of the batch goes on.
    Raises ValueError when the land-use column is missing and no default is given.
    """
    column = land_use_column or next((c for c in ("land_use", "用地性质", "landuse") if c in parcels.columns), None)
    if column is not None and column not in parcels.columns:
        raise BadInput(f"land-use column {column!r} not in the file; columns: {', '.join(map(str, parcels.columns))}")
    if column is None and default_land_use is None:
        raise BadInput("no land-use column (land_use / 用地性质) in the file; name one or give a land use")
    results: list[ParcelResult] = []
    ok_sites: list[BaseGeometry] = []
    ok_uses: list[LandUse] = []
    ok_index: list[int] = []
    raw_uses = parcels[column] if column is not None else pd.Series([default_land_use] * len(parcels))
    for i, (pid, pname, raw, geom) in enumerate(zip(parcels["parcel_id"], parcels["name"], raw_uses,
                                                   parcels.geometry.values, strict=True)):
        raw_text = None if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw).strip()
        item = ParcelResult(str(pid), None if pname is None or pname != pname else str(pname), raw_text, geom)
        results.append(item)
        try:
            site = check_site_geometry(geom)
            use = rule_set.land_use(raw_text or default_land_use or "")
        except (GeometryError, UnknownLandUseError) as exc:
            item.error = str(exc)
            continue
        ok_sites.append(site)
        ok_uses.append(use)
        ok_index.append(i)
    verdicts, stamp = evaluate_sites(store, rule_set, ok_sites, ok_uses, names=[results[i].name for i in ok_index],
                                     cache=cache)
    for i, v in zip(ok_index, withhold_outside(store, verdicts, scope), strict=True):
        results[i].verdict = v
    return BatchResult(results, stamp, rule_set.version)


_WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "几何", "空间范围", "坐标")
_LON_COLUMNS = ("lon", "lng", "longitude", "经度", "x")
_LAT_COLUMNS = ("lat", "latitude", "纬度", "y")
_ID_COLUMNS = ("parcel_id", "parcel_code", "地块编号", "编号", "id", "fid")
_NAME_COLUMNS = ("name", "名称", "地块名称", "项目名称")


def _pick(columns: Sequence[str], wanted: Sequence[str]) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[w] for w in wanted if w in lower), None)


def _read_csv(data: bytes) -> gpd.GeoDataFrame:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, encoding=encoding, keep_default_na=False)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise BadInput("CSV is neither UTF-8 nor GB18030")
    frame = frame.replace({"": None})
    wkt_col = _pick(frame.columns, _WKT_COLUMNS)
    lon_col, lat_col = _pick(frame.columns, _LON_COLUMNS), _pick(frame.columns, _LAT_COLUMNS)
    if wkt_col is not None:
        geoms = shapely.from_wkt(frame[wkt_col].to_numpy(dtype=object), on_invalid="ignore")
        frame = frame.drop(columns=[wkt_col])
    elif lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(frame[lon_col], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(frame[lat_col], errors="coerce").to_numpy(dtype=float)
        geoms = np.array([shapely.Point(x, y) if np.isfinite(x) and np.isfinite(y) else None
                          for x, y in zip(lon, lat, strict=True)], dtype=object)
    else:
        raise BadInput("CSV needs a WKT column (wkt/geometry/几何) or lon/lat columns (lon, lat / 经度, 纬度);"
                         f" found {', '.join(map(str, frame.columns))}")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms), crs=None)


def read_parcels(path: Path | str, *, data: bytes | None = None, layer: str | None = None,
                 datum: str = "wgs84") -> gpd.GeoDataFrame:
    """Parcels from a GeoJSON, GeoPackage, CSV (WKT or lon/lat) or zipped Shapefile.

    ``path`` names the file (its suffix picks the reader); ``data``, when given, holds
    its bytes (an upload).  Returns a WGS-84 GeoDataFrame with ``parcel_id`` and
    ``name`` columns added (from the file's id/name columns, else the row number) and
    the file's other columns kept.  Files with a CRS are transformed to WGS-84; files
    without (CSV, a Shapefile without .prj) are read as WGS-84; ``datum`` (wgs84,
    cgcs2000, gcj02, bd09) converts coordinates first.  Unreadable geometries become
    missing (each such parcel gets an error).  Raises ValueError for an unsupported
    file type or a file pyogrio cannot read.
    """
    name = Path(path).name
    suffix = Path(name).suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".csv", ".zip", ".shp"):
        raise BadInput(f"{name}: unsupported file type {suffix or '(none)'}; "
                         "use GeoJSON, GeoPackage, CSV (WKT or lon/lat) or a zipped Shapefile")
    if suffix == ".csv":
        frame = _read_csv(data if data is not None else Path(path).read_bytes())
    else:
        frame = _read_vector(Path(path), data, suffix, layer)
    if frame.crs is None:
        frame = frame.set_crs(STORAGE_CRS)
    elif not frame.crs.equals(STORAGE_CRS):
        frame = frame.to_crs(STORAGE_CRS)
    if datum.strip().lower() not in ("wgs84", "cgcs2000"):
        def shift(xy: np.ndarray) -> np.ndarray:
            x, y = convert(xy[:, 0], xy[:, 1], src=datum, dst="wgs84")
            return np.column_stack([x, y])

        frame = frame.set_geometry(shapely.transform(frame.geometry.values, shift))
    id_col, name_col = _pick(frame.columns, _ID_COLUMNS), _pick(frame.columns, _NAME_COLUMNS)
    ids = frame[id_col].astype(str) if id_col else pd.Series([str(i + 1) for i in range(len(frame))])
    frame = frame.assign(parcel_id=ids.to_numpy(),
                         name=frame[name_col].to_numpy(dtype=object) if name_col else None)
    return frame.reset_index(drop=True)


def _read_vector(path: Path, data: bytes | None, suffix: str, layer: str | None) -> gpd.GeoDataFrame:
    try:
        if data is None:
            source = f"/vsizip/{path}" if suffix == ".zip" else str(path)
            return pyogrio.read_dataframe(source, layer=layer)
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / f"upload{suffix}"
            target.write_bytes(data)
            source = f"/vsizip/{target}" if suffix == ".zip" else str(target)
            return pyogrio.read_dataframe(source, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise BadInput(f"{path.name}: cannot read: {exc}") from None


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def _summary(verdict: Verdict, lang: str) -> str:
    parts = []
    for r in verdict.hits:
        name = r.rule.name.zh if lang == "zh" else r.rule.name.en
        worst = min(r.hits, key=lambda h: h.distance_m) if r.hits else None
        if worst is not None and worst.required_m is not None:
            parts.append(f"{r.rule.id} {name}: {worst.name or worst.key} {worst.distance_m:.1f} m < "
                         f"{worst.required_m:.1f} m ({r.rule.citation.as_text()})")
        else:
            where = f": {worst.name or worst.key}" if worst is not None else ""
            parts.append(f"{r.rule.id} {name}{where} ({r.rule.citation.as_text()})")
    return "; ".join(parts)


def verdict_table(result: BatchResult, *, lang: str = "zh") -> pd.DataFrame:
    """One row per parcel: id, name, land use, verdict, rules hit, nearest offending
    distance (metres), a summary with citations, error, WKT (WGS-84)."""
    rows = []
    for p in result.parcels:
        v = p.verdict
        hit_distances = [h.distance_m for r in (v.hits if v else []) for h in r.hits if h.required_m is not None]
        rows.append({
            "parcel_id": p.parcel_id, "name": p.name, "land_use_given": p.land_use_raw,
            "land_use": v.land_use.code if v else None,
            "protection_class": v.land_use.protection_class if v else None,
            "verdict": v.verdict if v else "ERROR",
            "verdict_label": VERDICT_LABELS[v.verdict][lang] if v else ("错误" if lang == "zh" else "error"),
            "rules_hit": ";".join(r.rule.id for r in v.hits) if v else "",
            "min_distance_m": round(min(hit_distances), 2) if hit_distances else None,
            "summary": _summary(v, lang) if v else "",
            "error": p.error,
            "synthetic": v.synthetic if v else False,
            "wkt": None if p.geometry is None else shapely.to_wkt(p.geometry, rounding_precision=7),
        })
    return pd.DataFrame(rows)


def hit_table(result: BatchResult) -> pd.DataFrame:
    """One row per (parcel, rule hit, hazard)."""
    rows = []
    for p in result.parcels:
        if p.verdict is None:
            continue
        for r in p.verdict.hits:
            hazards: list[HazardHit | None] = list(r.hits) or [None]
            for h in hazards:
                rows.append({
                    "parcel_id": p.parcel_id, "rule_id": r.rule.id, "rule_zh": r.rule.name.zh,
                    "rule_en": r.rule.name.en, "outcome": r.rule.outcome,
                    "hazard_layer": h.layer if h else None, "hazard_key": h.key if h else None,
                    "hazard_name": h.name if h else None,
                    "distance_m": round(h.distance_m, 2) if h else None,
                    "required_m": round(h.required_m, 2) if h and h.required_m is not None else None,
                    "citation": r.rule.citation.as_text(), "synthetic": h.synthetic if h else False,
                })
    return pd.DataFrame(rows, columns=["parcel_id", "rule_id", "rule_zh", "rule_en", "outcome", "hazard_layer",
                                       "hazard_key", "hazard_name", "distance_m", "required_m", "citation",
                                       "synthetic"])


def _meta(rule_set_version: str, stamp: DataStamp, synthetic: bool) -> dict[str, Any]:
    return {"rule_set_version": rule_set_version, **stamp.as_dict(), "synthetic": synthetic,
            "notice": SYNTHETIC_NOTICE if synthetic else None, "crs": STORAGE_CRS}


def verdicts_export(result: BatchResult, *, lang: str = "zh") -> Export:
    """The batch's verdicts for :func:`geo.files.exports.export`: tables 结果 verdicts (one
    row per parcel, see :func:`verdict_table`; the CSV) and 命中 hits; features: each
    parcel's geometry with its verdict and every rule hit, the metadata alongside."""
    meta = _meta(result.rule_set_version, result.stamp, result.synthetic)
    table = verdict_table(result, lang=lang)
    features = []
    for p, row in zip(result.parcels, table.drop(columns=["wkt"]).to_dict("records"), strict=True):
        props = {k: plain_value(v) for k, v in row.items()}
        props["rules"] = [r.as_dict() for r in p.verdict.hits] if p.verdict else []
        geom = shapely.geometry.mapping(p.geometry) if p.geometry is not None else None
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    return Export("veto_verdicts", {"结果 verdicts": table, "命中 hits": hit_table(result)},
                  features={"type": "FeatureCollection", "metadata": meta, "features": features}, meta=meta)


# --------------------------------------------------------------------------------------
# Audit of existing conflicts
# --------------------------------------------------------------------------------------


@dataclass
class AuditResult:
    """Existing protection targets inside a hazard's required distance (one row per
    target × rule × hazard, WGS-84 target points) and a per-district summary."""

    conflicts: gpd.GeoDataFrame
    summary: pd.DataFrame
    stamp: DataStamp
    rule_set_version: str
    targets_checked: int

    @property
    def synthetic(self) -> bool:
        return bool(self.conflicts["synthetic"].any()) if len(self.conflicts) else False


_AUDIT_COLUMNS = ["district", "target_key", "target_name", "target_type", "sensitivity", "rule_id", "rule_zh",
                  "rule_en", "outcome", "hazard_layer", "hazard_key", "hazard_name", "distance_m", "required_m",
                  "citation", "synthetic"]


def audit_conflicts(store: Store, rule_set: RuleSet, *, district: str | None = None,
                    cache: Cache | None = None, scope: Scope | None = None) -> AuditResult:
    """Protection targets already inside a hazard's required distance.

    ``district`` filters targets by district name (e.g. 朝阳区) or county code
    (e.g. 110105).  Only rules that select protection classes and measure a
    distance or a risk contour take part (see :func:`geo.veto.audit_rules`).
    ``scope``: only conflicts with the hazards it leaves visible (the caller's own
    enterprises; a target across the line from one of them included).
    """
    where = None
    if district:
        where = {"county_code": district} if district.strip().isdigit() else {"district": district.strip()}
    targets = store.read("protection_targets", where=where)
    audit_set = rule_set.model_copy(update={"rules": tuple(audit_rules(rule_set))})
    uses = [existing_target_use(rule_set, t, s) for t, s in zip(targets["target_type"], targets["sensitivity"],
                                                                 strict=True)]
    keep = [i for i, u in enumerate(uses) if u is not None]
    sites = list(targets.geometry.values[keep])
    verdicts, stamp = evaluate_sites(store, audit_set, sites, [uses[i] for i in keep],  # type: ignore[misc]
                                     cache=cache, scope=scope)
    rows: list[dict[str, Any]] = []
    geoms: list[BaseGeometry] = []
    for i, v in zip(keep, verdicts, strict=True):
        t = targets.iloc[i]
        for r in v.hits:
            for h in r.hits:
                rows.append({
                    "district": t["district"], "target_key": t["key"], "target_name": t["name"],
                    "target_type": t["target_type"], "sensitivity": t["sensitivity"], "rule_id": r.rule.id,
                    "rule_zh": r.rule.name.zh, "rule_en": r.rule.name.en, "outcome": r.rule.outcome,
                    "hazard_layer": h.layer, "hazard_key": h.key, "hazard_name": h.name,
                    "distance_m": round(h.distance_m, 2),
                    "required_m": None if h.required_m is None else round(h.required_m, 2),
                    "citation": r.rule.citation.as_text(), "synthetic": h.synthetic,
                })
                geoms.append(t.geometry)
    conflicts = gpd.GeoDataFrame(pd.DataFrame(rows, columns=_AUDIT_COLUMNS), geometry=gpd.GeoSeries(geoms),
                                 crs=STORAGE_CRS)
    if len(conflicts):
        grouped = conflicts.groupby("district", dropna=False)
        summary = pd.DataFrame({
            "targets_in_conflict": grouped["target_key"].nunique(),
            "veto_conflicts": grouped["outcome"].apply(lambda s: int((s == "VETO").sum())),
            "conditional_conflicts": grouped["outcome"].apply(lambda s: int((s == "CONDITIONAL").sum())),
        }).reset_index().sort_values("district", kind="stable").reset_index(drop=True)
    else:
        summary = pd.DataFrame(columns=["district", "targets_in_conflict", "veto_conflicts", "conditional_conflicts"])
    return AuditResult(conflicts, summary, stamp, rule_set.version, len(keep))


def audit_export(result: AuditResult) -> Export:
    """The audit for :func:`geo.files.exports.export`: tables 冲突 conflicts (one row per
    conflict; the CSV) and 分区 districts; features: the target points with their conflict,
    the metadata and the per-district summary alongside."""
    meta = {**_meta(result.rule_set_version, result.stamp, result.synthetic),
            "targets_checked": result.targets_checked}
    frame = pd.DataFrame(result.conflicts.drop(columns="geometry"))
    features = [{"type": "Feature", "properties": {k: plain_value(v) for k, v in row.items()},
                 "geometry": shapely.geometry.mapping(g)}
                for row, g in zip(frame.to_dict("records"), result.conflicts.geometry.values, strict=True)]
    summary = [{k: plain_value(v) for k, v in row.items()} for row in result.summary.to_dict("records")]
    collection = {"type": "FeatureCollection", "metadata": {**meta, "districts": summary}, "features": features}
    return Export("veto_audit", {"冲突 conflicts": frame, "分区 districts": result.summary}, features=collection,
                  meta=meta)
