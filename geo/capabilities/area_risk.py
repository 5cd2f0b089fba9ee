"""Run the area-risk methods against a store, persist the results, draw the heat map.

Reads the inputs through the :class:`geo.stores.protocol.Store` interface only (so both
stores give the same answers), computes with the pure core (:mod:`geo.area_risk`,
:mod:`geo.heatmap`, :mod:`geo.major_hazard`) and writes one ``area_results`` row per
area with ``upsert``: the latest run of a (unit, method) replaces the previous rows
by key.  Rows of an earlier run that the latest one no longer produces (a cell that
lost its sources, a different cell size) are *retired*: rewritten with no level, no
score and ``explanation.retired_by`` naming the run, so a map reading the table
directly draws nothing for them; :func:`read_area_results` leaves them out.  Each
run's parameters, input data versions and batches are kept once, in the store's run
log (:meth:`geo.stores.protocol.Store.record_run`); every result row names its ``run_id``.

Rasters: the heat map is written as a GeoTIFF in EPSG:4548 (rasterio) and rendered
for the web map as a palette PNG warped to Web Mercator with its WGS-84 bounds (an
image overlay Leaflet can place), colours :data:`geo.heatmap.HEAT_RAMP`.
"""

from __future__ import annotations

import hashlib
import struct
import time
import uuid
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import rasterio
import shapely
import yaml
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from geo import area_risk as ar
from geo import heatmap as hm
from geo import major_hazard as mh
from geo.capabilities.cache import Cache, cached, file_stamp
from geo.collector import collector_frozen
from geo.entities import LEVEL_CODES, make_key
from geo.errors import BadInput, Conflict
from geo.files.reference import read_population_raster
from geo.scope import Scope, scope_key, scoped_where
from geo.stores.protocol import LoadBatch, RunRecord, Store, UpsertResult

RESULT_KIND = "area_results"
BEIJING_CODE = "110000"
BEIJING_CITY_CODE = "110100"
INPUT_KINDS = ("risk_sources", "hidden_hazards", "units", "resources", "areas")


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


def load_config(path: Path, *, cache: Cache | None = None) -> ar.AreaRiskConfig:
    """Parse and check an ``area_risk.yaml`` (the app's is ``DataPaths.area_config_path``);
    with ``cache``, parsed again only when the file changes.

    Raises FileNotFoundError for a missing file and :class:`geo.area_risk.AreaConfigError`
    (a ValueError) naming every bad entry, including YAML syntax errors.
    """
    path = Path(path)
    return cached(cache, "area_risk.config", {}, file_stamp(path), lambda: _parse_config_file(path))


def _parse_config_file(path: Path) -> ar.AreaRiskConfig:
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ar.AreaConfigError([f"{path}: not valid YAML: {exc}"]) from None
    return ar.parse_config(data or {})


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """Everything the methods read from a store, plus the population raster."""

    sources: ar.Points  # attrs: name, level_idx
    composite: ar.CompositeInputs
    areas: gpd.GeoDataFrame  # district and township and province rows of ``areas``
    population: np.ndarray
    population_transform: Any
    data_versions: dict[str, int]
    batches: dict[str, list[int]]
    read_seconds: float = 0.0


def _batches(frame: pd.DataFrame) -> list[int]:
    """The (last 20) load batches the rows came from."""
    ids = pd.to_numeric(frame.get("batch_id", pd.Series([], dtype=float)), errors="coerce").dropna()
    return np.unique(ids.to_numpy(dtype=np.int64))[-20:].tolist()


def read_sources(store: Store, *, scope: Scope | None = None) -> tuple[ar.Points, list[int]]:
    """Risk sources (those in ``scope``) as :class:`geo.area_risk.Points` with ``name`` and ``level_idx``."""
    frame = store.read_points("risk_sources", columns=("name", "level", "batch_id"),
                              where=scoped_where(scope, "risk_sources"))
    points = ar.Points.from_frame(frame, ("name", "level"))
    points.attrs["level_idx"] = ar.level_indices(points.attrs.pop("level"))
    return points, _batches(frame)


def read_inputs(store: Store, *, reference_dir: Path, composite: bool = True) -> Inputs:
    """Read risk sources, areas, the population raster (in ``reference_dir``) and — for the
    composite method — open hidden hazards, units and resources.

    The smaller reads run in threads while the risk sources are read: the database
    works on the sources' query while this process reads the rest.
    """
    t0 = time.perf_counter()
    versions = store.data_versions(INPUT_KINDS)
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="read_inputs") as pool:
        raster = pool.submit(read_population_raster, reference_dir)
        areas_read = pool.submit(store.read, "areas", where={"area_type": ["province", "district", "township"]})
        composite_read = pool.submit(_read_composite, store) if composite else None
        sources, source_batches = read_sources(store)
        areas = areas_read.result()
        batches = {"risk_sources": source_batches, "areas": _batches(areas)}
        if composite_read is None:
            inputs = ar.CompositeInputs(ar.Points.empty(), ar.Points.empty(("insured",)),
                                        ar.Points.empty(("resource_type",)))
        else:
            inputs, composite_batches = composite_read.result()
            batches |= composite_batches
        population, transform, _ = raster.result()
    return Inputs(sources, inputs, areas, population, transform, versions, batches,
                  read_seconds=time.perf_counter() - t0)


def _read_composite(store: Store) -> tuple[ar.CompositeInputs, dict[str, list[int]]]:
    """Open hidden hazards, units and resources for the composite method, with their batches."""
    hazards = store.read_points("hidden_hazards", where={"status": "open"}, columns=("batch_id",))
    units = store.read_points("units", columns=("insured", "batch_id"))
    resources = store.read_points("resources", columns=("resource_type", "batch_id"))
    inputs = ar.CompositeInputs(
        ar.Points.from_frame(hazards),
        ar.Points.from_frame(units, ("insured",)),
        ar.Points.from_frame(resources, ("resource_type",)),
    )
    return inputs, {"hidden_hazards": _batches(hazards), "units": _batches(units), "resources": _batches(resources)}


class MissingReferenceError(Conflict):
    """The store lacks reference geography an answer needs (load it with `riskmap reference load`)."""


def beijing_extent(areas: gpd.GeoDataFrame) -> Any:
    """Beijing's WGS-84 polygon (the province row, else the union of its districts)."""
    row = areas[areas["area_code"] == BEIJING_CODE]
    if len(row):
        return row.geometry.iloc[0]
    districts = areas[(areas["area_type"] == "district") & (areas["parent_code"] == BEIJING_CITY_CODE)]
    if not len(districts):
        raise MissingReferenceError("no Beijing boundary in the store: run `riskmap reference load` first")
    return shapely.union_all(districts.geometry.values)


def build_areas(unit: str, inputs: Inputs, *, cell_m: float, h3_res: int) -> tuple[ar.AreaSet, ar.Membership]:
    """The :class:`geo.area_risk.AreaSet` of ``unit`` with population from the raster,
    and the membership of the risk sources in it.

    district: Beijing's 16 districts and the ETDA (parent 110100) always, other
    Jing-Jin-Ji counties when they hold a risk source; township: every township;
    grid: ``cell_m`` squares over Beijing holding a source; h3: cells holding a source.
    """
    a = inputs.areas
    src = inputs.sources
    if unit in ("district", "township"):
        rows = a[a["area_type"] == unit].sort_values("area_code", kind="stable")
        if not len(rows):
            raise Conflict(f"no {unit} areas in the store: run `riskmap reference load` first")
        areas = ar.polygon_areas(unit, rows["area_code"].tolist(), rows["name"].tolist(),
                                 rows["parent_code"].tolist(), rows.geometry.tolist(),
                                 population=rows["population"].to_numpy(float))
        membership = areas.assign(src.lon, src.lat)
        if unit == "district":
            keep = areas.parent == BEIJING_CITY_CODE
            keep[np.unique(membership.area)] = True
            areas, membership = _subset(areas, keep, membership)
    elif unit in ("grid", "h3"):
        areas = (ar.square_grid_areas(src.lon, src.lat, cell_m=cell_m, extent=beijing_extent(a)) if unit == "grid"
                 else ar.h3_areas(src.lon, src.lat, res=h3_res))
        membership = areas.built_from or areas.assign(src.lon, src.lat)
    else:
        raise BadInput(f"unknown unit {unit!r}; expected one of {', '.join(ar.UNITS)}")
    raster = ar.zonal_population(areas.geometry, inputs.population, inputs.population_transform,
                                 may_overlap=unit in ("district", "township"))
    areas.population = np.where(np.isnan(raster), areas.population, raster)
    return areas, membership


def _subset(areas: ar.AreaSet, keep: np.ndarray, membership: ar.Membership) -> tuple[ar.AreaSet, ar.Membership]:
    geoms = areas.geometry[keep]
    subset = ar.AreaSet(
        unit=areas.unit, code=areas.code[keep], name=areas.name[keep], parent=areas.parent[keep], geometry=geoms,
        area_km2=areas.area_km2[keep], population=areas.population[keep], anchor_lon=areas.anchor_lon[keep],
        anchor_lat=areas.anchor_lat[keep], assign=lambda lon, lat: ar.polygon_membership(lon, lat, geoms),
        params=areas.params,
    )
    new_index = np.cumsum(keep) - 1
    held = keep[membership.area]
    return subset, ar.Membership(membership.point[held], new_index[membership.area[held]])


# --------------------------------------------------------------------------------------
# Running and persisting
# --------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What one (unit, method) run did, with timings in seconds."""

    unit: str
    method: str
    run_id: str
    areas: int
    levels: dict[str, int]
    retired: int = 0
    prepare_s: float = 0.0
    compute_s: float = 0.0
    write_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "method": self.method, "run_id": self.run_id, "areas": self.areas,
                "levels": self.levels, "retired": self.retired, "prepare_s": round(self.prepare_s, 3),
                "compute_s": round(self.compute_s, 3), "write_s": round(self.write_s, 3)}


def _expand(choice: str, options: Sequence[str]) -> list[str]:
    return list(options) if choice == "all" else [choice]


def run_area_risk(
    store: Store,
    *,
    units: Iterable[str] = ("all",),
    methods: Iterable[str] = ("all",),
    config: ar.AreaRiskConfig,
    cell_m: float | None = None,
    h3_res: int | None = None,
    reference_dir: Path | None = None,
    inputs: Inputs | None = None,
    persist: bool = True,
) -> list[RunSummary]:
    """Compute every requested (unit, method) and upsert the results into ``store``.

    ``units``/``methods``: names from :data:`geo.area_risk.UNITS` / ``METHODS`` or
    ``"all"``; unknown names raise ValueError.  ``cell_m``/``h3_res`` default to the
    config's.  Inputs are read once (pass ``inputs`` to reuse a read; otherwise
    ``reference_dir`` names the folder of the population raster).
    """
    unit_list = [u for choice in units for u in _expand(choice, ar.UNITS)]
    method_list = [m for choice in methods for m in _expand(choice, ar.METHODS)]
    for u in unit_list:
        if u not in ar.UNITS:
            raise BadInput(f"unknown unit {u!r}; expected one of {', '.join(ar.UNITS)}, all")
    for m in method_list:
        if m not in ar.METHODS:
            raise BadInput(f"unknown method {m!r}; expected one of {', '.join(ar.METHODS)}, all")
    cell = ar.grids.check_cell_size(cell_m if cell_m is not None else config.grid_cell_m)
    res = ar.grids.check_h3_resolution(h3_res if h3_res is not None else config.h3_res)
    if inputs is None:
        if reference_dir is None:
            raise ValueError("run_area_risk needs the reference folder (population raster) or inputs")
        inputs = read_inputs(store, reference_dir=reference_dir, composite="composite" in method_list)
    summaries: list[RunSummary] = []
    with collector_frozen():  # the inputs are large and acyclic: full collections need not walk them
        for unit in dict.fromkeys(unit_list):
            t0 = time.perf_counter()
            areas, membership = build_areas(unit, inputs, cell_m=cell, h3_res=res)
            prepare = time.perf_counter() - t0
            for method in dict.fromkeys(method_list):
                t1 = time.perf_counter()
                children = None
                if unit == "district" and method == "highest":
                    townships, in_townships = build_areas("township", inputs, cell_m=cell, h3_res=res)
                    children = ar.highest_level(townships, inputs.sources, config, membership=in_townships)
                result = ar.run_method(method, areas, inputs.sources, config, inputs=inputs.composite,
                                       children=children, membership=membership)
                t2 = time.perf_counter()
                run = RunSummary(unit, method, _run_id(), len(areas), _level_tally(result.level),
                                 prepare_s=prepare, compute_s=t2 - t1)
                if persist:
                    run.retired = write_results(store, result, run, inputs)
                run.write_s = time.perf_counter() - t2
                summaries.append(run)
    return summaries


def _run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def _level_tally(levels: np.ndarray) -> dict[str, int]:
    tally = {c: int(np.sum(levels == c)) for c in LEVEL_CODES}
    tally["none"] = int(sum(v is None for v in levels))
    return tally


def _json(value: Any) -> str:
    """Compact UTF-8 JSON (numpy numbers and arrays as JSON numbers and lists): orjson,
    a quarter of the time of :func:`json.dumps` for the 4,038 explanations of an H3 run."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY, default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_results(store: Store, result: ar.AreaResult, run: RunSummary, inputs: Inputs) -> int:
    """Record the run (parameters, input data versions and batches) in the store's run
    log, upsert ``result`` as the latest run of its (unit, method) and retire rows of
    earlier runs that this one did not produce.  Returns how many rows were retired."""
    run_at = datetime.now(UTC).isoformat(timespec="seconds")
    frame = result.frame()
    params = orjson.loads(_json({  # plain JSON values (the parameters may hold numpy numbers)
        "run": run.as_dict(), "unit_params": result.areas.params, "method_params": result.params,
        "data_versions": inputs.data_versions, "batches": inputs.batches,
    }))
    frame["key"] = [make_key((result.unit, result.method, c)) for c in frame["area_code"]]
    frame["explanation"] = [_json(e) for e in frame["explanation"]]
    frame["run_id"] = run.run_id
    frame["run_at"] = run_at
    frame["synthetic"] = False
    # Finding the rows to retire needs the keys, then the explanations of the rows this
    # run did not produce (retired already, or to retire); whole rows only of those to retire.
    where: dict[str, Any] = {"unit": result.unit, "method": result.method}
    old = store.read(RESULT_KIND, where=where, columns=())
    gone = old.loc[~old["key"].isin(frame["key"]), "key"].tolist()
    stale_keys: list[str] = []
    if gone:
        gone_rows = store.read(RESULT_KIND, where={**where, "key": gone}, columns=("explanation",))
        already = gone_rows["explanation"].fillna("").str.contains('"retired_by"', regex=False)
        stale_keys = gone_rows.loc[~already, "key"].tolist()
    if stale_keys:
        retired = store.read(RESULT_KIND, where={**where, "key": stale_keys}).copy()
        retired["level"] = None
        retired["score"] = np.nan
        for c in LEVEL_CODES:
            retired[f"count_{c}"] = 0
        retired["explanation"] = _json({"retired_by": run.run_id})
        retired["run_id"] = run.run_id
        retired["run_at"] = run_at
        frame = pd.concat([frame, retired[frame.columns]], ignore_index=True)
    store.record_run(RunRecord(run.run_id, RESULT_KIND, run_at, params))
    batch = LoadBatch(kind=RESULT_KIND, file_name=f"riskmap aggregate {result.unit} {result.method}",
                      sha256=hashlib.sha256(run.run_id.encode()).hexdigest(), loaded_at=datetime.now(UTC),
                      rows=len(frame), note=f"area risk run {run.run_id}")
    store.upsert(RESULT_KIND, gpd.GeoDataFrame(frame, geometry="geometry", crs=ar.WGS84), batch=batch)
    return len(stale_keys)


def scoped_explanation(store: Store, explanation: dict[str, Any], scope: Scope | None) -> dict[str, Any]:
    """An area's explanation with only the top sources ``scope`` leaves visible; the others
    are counted in ``top_sources_withheld`` (the level, score and counts stay: they are the
    area's, not a source's).  Without a scope, ``explanation`` itself."""
    top = explanation.get("top_sources") or []
    if scope is None or not scope.filters_kind("risk_sources") or not top:
        return explanation
    keys = [str(s["key"]) for s in top]
    visible = set(store.read("risk_sources", where=scoped_where(scope, "risk_sources", {"key": keys}),
                             columns=())["key"])
    kept = [s for s in top if str(s["key"]) in visible]
    return {**explanation, "top_sources": kept, "top_sources_withheld": len(top) - len(kept)}


def read_area_results(store: Store, unit: str, method: str, *, area_code: str | None = None) -> gpd.GeoDataFrame:
    """The latest run's rows of (unit, method), retired rows left out, ordered by area code."""
    where: dict[str, Any] = {"unit": unit, "method": method}
    if area_code is not None:
        where["area_code"] = area_code
    rows = store.read(RESULT_KIND, where=where)
    live = ~rows["explanation"].fillna("").str.contains('"retired_by"', regex=False)
    return rows[live].sort_values("area_code", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Heat map
# --------------------------------------------------------------------------------------


def compute_heatmap(
    store: Store | None = None,
    *,
    config: ar.AreaRiskConfig,
    cell_m: float | None = None,
    bandwidth_m: float | None = None,
    sources: ar.Points | None = None,
    extent: Any = None,
    scope: Scope | None = None,
) -> hm.DensityGrid:
    """Weighted kernel density of the risk sources (those in ``scope``) over Beijing (EPSG:4548).

    ``sources``/``extent`` (WGS-84) may be given instead of reading them from ``store``.
    """
    if sources is None:
        if store is None:
            raise ValueError("compute_heatmap needs a store or sources")
        sources, _ = read_sources(store, scope=scope)
    if extent is None:
        if store is None:
            raise ValueError("compute_heatmap needs a store or an extent")
        extent = beijing_extent(store.read("areas", where={"area_type": ["province", "district"]}))
    x, y = ar.to_metric(sources.lon, sources.lat)
    minx, miny, maxx, maxy = shapely.transform(
        extent, lambda xy: np.column_stack(ar.to_metric(xy[:, 0], xy[:, 1]))).bounds
    return hm.kernel_density(
        x, y, config.weight_of(sources.attrs["level_idx"]), bounds=(minx, miny, maxx, maxy),
        cell_m=cell_m or config.heatmap.cell_m, bandwidth_m=bandwidth_m or config.heatmap.bandwidth_m,
        kernel=config.heatmap.kernel,
    )


def write_geotiff(grid: hm.DensityGrid, path: Path, *, tags: dict[str, str] | None = None) -> Path:
    """Write the density (float32, weight per km², EPSG:4548) as a deflate GeoTIFF."""
    profile = {
        "driver": "GTiff", "dtype": "float32", "count": 1, "height": grid.values.shape[0],
        "width": grid.values.shape[1], "crs": grid.crs, "transform": grid.transform, "compress": "deflate",
        "predictor": 3, "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid.values, 1)
        dst.update_tags(units="risk weight per km2", method="weighted kernel density", **(tags or {}))
    return path


@dataclass(frozen=True)
class HeatmapImage:
    """A PNG for a Leaflet image overlay: Web Mercator pixels, WGS-84 bounds, class breaks."""

    png: bytes
    bounds: tuple[float, float, float, float]  # west, south, east, north (degrees)
    breaks: list[float]
    colours: list[str]


def render_heatmap_png(grid: hm.DensityGrid, *, max_pixels: int = 2048, opacity: int = 200) -> HeatmapImage:
    """Warp the density to Web Mercator (EPSG:3857, so Leaflet can stretch it linearly
    between its bounds), classify it with :func:`geo.heatmap.ramp_breaks` into the
    colours of :data:`geo.heatmap.HEAT_RAMP` (class 0 transparent) and encode a palette
    PNG.  ``max_pixels`` caps the longer side."""
    h, w = grid.values.shape
    left, bottom, right, top = grid.bounds
    dst_crs = "EPSG:3857"
    transform, width, height = calculate_default_transform(grid.crs, dst_crs, w, h, left, bottom, right, top)
    scale = max(width, height) / max_pixels
    if scale > 1:
        width, height = int(np.ceil(width / scale)), int(np.ceil(height / scale))
        transform, width, height = calculate_default_transform(grid.crs, dst_crs, w, h, left, bottom, right, top,
                                                               dst_width=width, dst_height=height)
    out = np.zeros((height, width), dtype=np.float32)
    reproject(grid.values, out, src_transform=grid.transform, src_crs=grid.crs, dst_transform=transform,
              dst_crs=dst_crs, resampling=Resampling.bilinear)
    breaks = hm.ramp_breaks(grid.values)
    classes = hm.classify(out, breaks)
    west, south, east, north = transform_bounds(dst_crs, "EPSG:4326", transform.c, transform.f + transform.e * height,
                                                transform.c + transform.a * width, transform.f)
    palette = [(0, 0, 0)] + [_rgb(c) for c in hm.HEAT_RAMP]
    alpha = [0] + [opacity] * len(hm.HEAT_RAMP)
    return HeatmapImage(encode_palette_png(classes, palette, alpha), (west, south, east, north),
                        [float(b) for b in breaks], list(hm.HEAT_RAMP))


def heatmap_image(store: Store, *, config: ar.AreaRiskConfig, cell_m: float | None = None,
                  bandwidth_m: float | None = None, cache: Cache | None = None,
                  scope: Scope | None = None) -> HeatmapImage:
    """:func:`compute_heatmap` of ``store`` rendered by :func:`render_heatmap_png`, kept in
    ``cache`` until the risk sources, the areas or the weights and heat-map parameters change.

    ``scope``: drawn from the risk sources in scope only (no weight outside it), kept per scope.
    """
    versions = store.data_versions(["risk_sources", "areas"])
    params = (tuple(sorted(config.weights.items())), config.heatmap, cell_m, bandwidth_m,
              scope_key(scope, ["risk_sources"]))

    def compute() -> HeatmapImage:
        return render_heatmap_png(compute_heatmap(store, config=config, cell_m=cell_m, bandwidth_m=bandwidth_m,
                                                  scope=scope))

    return cached(cache, "area_risk.heatmap", versions, params, compute)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def encode_palette_png(index: np.ndarray, palette: Sequence[tuple[int, int, int]], alpha: Sequence[int]) -> bytes:
    """An 8-bit palette PNG (colour type 3) of ``index`` (uint8 rows × cols) with a tRNS
    chunk for ``alpha``; numpy + zlib only."""
    if index.dtype != np.uint8 or index.ndim != 2:
        raise ValueError("index must be a 2-D uint8 array")
    h, w = index.shape
    raw = np.zeros((h, w + 1), dtype=np.uint8)  # filter byte 0 per row
    raw[:, 1:] = index

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0)),
        chunk(b"PLTE", bytes(v for rgb in palette for v in rgb)),
        chunk(b"tRNS", bytes(alpha)),
        chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
        chunk(b"IEND", b""),
    ])


# --------------------------------------------------------------------------------------
# Major hazard installations
# --------------------------------------------------------------------------------------


def assess_major_hazards(store: Store, *, config: ar.AreaRiskConfig, reference_dir: Path) -> pd.DataFrame:
    """GB 18218-2018 identification and grade of every hazardous-chemical site with an
    inventory: one row per site (key, name, people_500m, s, r, alpha, grade, grade_zh,
    detail JSON), α from the population raster (in ``reference_dir``) within 500 m.  Sites
    outside the raster count 0 people there (α 0.5): such a grade is flagged
    ``population_known`` False."""
    sites = store.read("hazchem_sites")
    sites = sites[sites["chemicals"].notna() & (sites["chemicals"] != "")].reset_index(drop=True)
    population, transform, _ = read_population_raster(reference_dir)
    xy = shapely.get_coordinates(sites.geometry.values)
    x, y = ar.to_metric(xy[:, 0], xy[:, 1])
    people = mh.population_within(x, y, population, transform, radius_m=config.major_hazard.radius_m)
    h, w = population.shape
    col = np.floor((x - transform.c) / transform.a).astype(int)
    row = np.floor((y - transform.f) / transform.e).astype(int)
    on = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    known = on & ~np.isnan(population[np.clip(row, 0, h - 1), np.clip(col, 0, w - 1)])
    rows = []
    for i, site in enumerate(sites.itertuples(index=False)):
        res = mh.assess_site(mh.parse_inventory(site.chemicals), float(people[i]), config.major_hazard)
        rows.append({"key": site.key, "name": site.name, "people_500m": round(float(people[i]), 1),
                     "population_known": bool(known[i]), "s": res.s, "r": res.r, "alpha": res.alpha,
                     "is_major": res.is_major, "grade": res.grade, "grade_zh": res.grade_name,
                     "detail": _json(res.as_dict())})
    return pd.DataFrame(rows, columns=["key", "name", "people_500m", "population_known", "s", "r", "alpha",
                                       "is_major", "grade", "grade_zh", "detail"])


def write_major_hazard_grades(store: Store, table: pd.DataFrame) -> UpsertResult:
    """Write the grades of :func:`assess_major_hazards` (``table``) into
    ``hazchem_sites.major_hazard_grade``: 1–4 for a major hazard installation, empty
    for a site whose inventory does not make it one.

    Only the assessed sites are written, through ``upsert``: a site whose grade did not
    change stays as it was (and keeps its batch), so a re-run reports every site
    unchanged.  A changed site's row records this batch.
    """
    sites = store.read("hazchem_sites")
    grades = table.set_index("key")["grade"]
    sites = sites[sites["key"].isin(grades.index)].copy()
    sites["major_hazard_grade"] = pd.array(sites["key"].map(grades).to_numpy(dtype=object), dtype="Int64")
    pairs = ";".join(f"{k}={g}" for k, g in zip(sites["key"], sites["major_hazard_grade"], strict=True))
    batch = LoadBatch(kind="hazchem_sites", file_name="riskmap major-hazard --write",
                      sha256=hashlib.sha256(pairs.encode()).hexdigest(), loaded_at=datetime.now(UTC),
                      rows=len(sites), note="GB 18218-2018 grades from geo.major_hazard (α from the population raster)")
    return store.upsert("hazchem_sites", gpd.GeoDataFrame(sites, geometry="geometry", crs=ar.WGS84), batch=batch)
