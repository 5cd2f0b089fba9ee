"""Area risk (区域风险): a level and a score per district, township, grid cell or H3
cell, with the reasons for it.

Three methods (``DOMAIN.md``, parameters in ``data/config/area_risk.yaml``):

``highest`` (就高)
    An area takes the highest level of the risk sources inside it; a parent takes the
    highest of its own sources and its children's levels, as ThinkHazard! does for
    administrative units.  Score: 4 red, 3 orange, 2 yellow, 1 blue, 0 none.
``density``
    Score = Σ weight(level) / area (km²), weights *default* red 100, orange 30,
    yellow 10, blue 1; optionally × exposed population / ``population_unit``.
    Level by absolute thresholds or by quantiles of the non-zero scores.
``composite`` (INFORM-style)
    Score = ∛(HE · V · LCC), each dimension 0–10: hazard & exposure (weighted source
    density, population density), vulnerability (open hidden hazards per km², share
    of units without work-safety liability insurance 安责险), lack of coping capacity
    (distance to the nearest rescue team, scarcity of emergency resources per km²).
    Each indicator is scaled 0–10 between goalposts (linear or log), a dimension is
    the mean of its available indicators.  Level by thresholds on the score (*default*
    INFORM's classes: ≥ 6.5 very high → red, ≥ 5 high → orange, ≥ 3.5 medium → yellow).

Every area's explanation names the top contributing sources and their weights, the
numbers used and the thresholds crossed.

Inputs are plain arrays: points as WGS-84 longitude/latitude, areas with WGS-84
polygons.  Membership of points in polygons is by intersection (a point on a shared
edge belongs to both, as in the stores' ``count_per_polygon``).  Pure: no file or
database access.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator
from pyproj import Transformer
from pyproj.enums import TransformDirection
from rasterio import features
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo import grids
from geo.config_models import ConfigModel, Number, PositiveNumber, config_problems
from geo.coords import BEIJING_METRIC_CRS, WGS84
from geo.distance import geodesic_m
from geo.entities import LEVEL_CODES
from geo.errors import BadInput
from geo.major_hazard import MajorHazardConfig
from geo.reference import as_multipolygon, geodesic_area_km2

UNITS = ("district", "township", "grid", "h3")
METHODS = ("highest", "density", "composite")
#: Score of each level in the ``highest`` method.
HIGHEST_SCORE = {"red": 4.0, "orange": 3.0, "yellow": 2.0, "blue": 1.0}



@functools.cache
def _metric_transformer() -> Transformer:
    """WGS-84 ↔ EPSG:4548 (one transformer, both directions; built on first use: 0.14 s)."""
    return Transformer.from_crs(WGS84, BEIJING_METRIC_CRS, always_xy=True)


def _metric_xy(xy: np.ndarray) -> np.ndarray:
    """(n, 2) WGS-84 lon/lat → EPSG:4548 x/y, for ``shapely.transform``."""
    return np.column_stack(_metric_transformer().transform(xy[:, 0], xy[:, 1]))


def _wgs84_xy(xy: np.ndarray) -> np.ndarray:
    """(n, 2) EPSG:4548 x/y → WGS-84 lon/lat, for ``shapely.transform``."""
    return np.column_stack(_metric_transformer().transform(xy[:, 0], xy[:, 1], direction=TransformDirection.INVERSE))


class AreaConfigError(BadInput):
    """``area_risk.yaml`` is missing a value or has a bad one; lists every problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


class Goalposts(ConfigModel):
    """Scaling of one indicator to 0–10: values ≤ ``lo`` → 0, ≥ ``hi`` → 10, linear or
    on log(1 + v) in between; ``invert`` turns it round (10 at ``lo``).  Needs
    0 ≤ ``lo`` < ``hi``, in the indicator's ``unit``."""

    lo: Number
    hi: Number
    log: bool = False
    invert: bool = False
    unit: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Goalposts:
        if self.hi <= self.lo or self.lo < 0:
            raise ValueError(f"needs 0 <= lo < hi, got lo={self.lo:g}, hi={self.hi:g}")
        return self

    def scale(self, values: np.ndarray) -> np.ndarray:
        v = np.clip(np.asarray(values, float), self.lo, self.hi)
        if self.log:
            out = (np.log1p(v) - math.log1p(self.lo)) / (math.log1p(self.hi) - math.log1p(self.lo))
        else:
            out = (v - self.lo) / (self.hi - self.lo)
        out = 10.0 * out
        return 10.0 - out if self.invert else out


#: Composite indicators, grouped by INFORM dimension.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "hazard_exposure": ("hazard", "exposure"),
    "vulnerability": ("open_hazards", "uninsured"),
    "lack_of_coping": ("team_distance", "resources"),
}
#: Every composite indicator, in dimension order.
INDICATORS: tuple[str, ...] = tuple(name for names in DIMENSIONS.values() for name in names)
#: Levels with a threshold (blue is everything above zero, or everything).
THRESHOLD_LEVELS: tuple[str, ...] = ("red", "orange", "yellow")


def _table_of(keys: tuple[str, ...], *, descending: bool = False) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A check that a mapping holds exactly ``keys`` (returned in that order) and, with
    ``descending``, that its values do not increase along them."""

    def check(table: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in table if k not in keys]
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)} (expected {', '.join(keys)})")
        missing = [k for k in keys if k not in table]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        ordered = {k: table[k] for k in keys}
        values = list(ordered.values())
        if descending and any(a < b for a, b in pairwise(values)):
            raise ValueError(f"must not increase from {keys[0]} to {keys[-1]}")
        return ordered

    return check


#: Weight of one source per level (red … blue), > 0, not increasing.
LevelWeights = Annotated[dict[str, PositiveNumber], AfterValidator(_table_of(LEVEL_CODES, descending=True))]
#: Density thresholds (weight per km², or per km² and population unit), > 0, not increasing.
DensityThresholds = Annotated[dict[str, PositiveNumber], AfterValidator(_table_of(THRESHOLD_LEVELS, descending=True))]
#: Quantiles of the non-zero scores, strictly between 0 and 1, not increasing.
Quantiles = Annotated[
    dict[str, Annotated[float, Field(strict=True, gt=0, lt=1)]],
    AfterValidator(_table_of(THRESHOLD_LEVELS, descending=True)),
]
#: Composite score thresholds on the 0–10 scale, not increasing.
ScoreThresholds = Annotated[
    dict[str, Annotated[float, Field(strict=True, ge=0, le=10)]],
    AfterValidator(_table_of(THRESHOLD_LEVELS, descending=True)),
]


class DensityConfig(ConfigModel):
    """Method 2 (``density``): exposure, population unit (persons), level mode, and the
    thresholds and quantiles for it."""

    exposure: Literal["none", "population"] = "none"
    population_unit: PositiveNumber = 10_000.0
    mode: Literal["thresholds", "quantiles"] = "thresholds"
    thresholds: DensityThresholds
    quantiles: Quantiles


class CompositeConfig(ConfigModel):
    """Method 3 (``composite``): the goalposts of every indicator, the score thresholds
    and the ``resource_type`` values that count as rescue teams."""

    indicators: Annotated[dict[str, Goalposts], AfterValidator(_table_of(INDICATORS))]
    thresholds: ScoreThresholds
    team_types: tuple[str, ...]

    @field_validator("team_types")
    @classmethod
    def _some_team_types(cls, team_types: tuple[str, ...]) -> tuple[str, ...]:
        if not team_types:
            raise ValueError("needs a list of resource_type values")
        return team_types


class HeatmapConfig(ConfigModel):
    """Weighted kernel density: raster cell and kernel radius (metres, EPSG:4548), kernel."""

    cell_m: PositiveNumber
    bandwidth_m: PositiveNumber
    kernel: Literal["quartic", "gaussian"] = "quartic"


class UnitsConfig(ConfigModel):
    """Square cells (metres, EPSG:4548, 250–5000) and the H3 resolution (6–9)."""

    grid_cell_m: Annotated[PositiveNumber, AfterValidator(grids.check_cell_size)]
    h3_res: Annotated[int, Field(strict=True), AfterValidator(grids.check_h3_resolution)]


class AreaRiskConfig(ConfigModel):
    """Everything the methods need, parsed and checked from ``area_risk.yaml`` (one field
    per section; ``weights`` is ``level_weights``, ``top_n`` is ``explain_top_n``)."""

    weights: LevelWeights = Field(validation_alias="level_weights")
    density: DensityConfig
    composite: CompositeConfig
    heatmap: HeatmapConfig
    units: UnitsConfig
    major_hazard: MajorHazardConfig
    top_n: int = Field(default=5, strict=True, ge=1, le=50, validation_alias="explain_top_n")

    @property
    def grid_cell_m(self) -> float:
        """Square cell size, metres (EPSG:4548)."""
        return self.units.grid_cell_m

    @property
    def h3_res(self) -> int:
        """H3 resolution."""
        return self.units.h3_res

    def weight_of(self, level_idx: np.ndarray) -> np.ndarray:
        """Weight of each level index (0 red … 3 blue, -1 unknown → 0)."""
        table = np.array([*(self.weights[c] for c in LEVEL_CODES), 0.0])
        return table[np.where(level_idx < 0, 4, level_idx)]


def parse_config(data: Mapping[str, Any]) -> AreaRiskConfig:
    """Check and build the configuration from the parsed YAML; raises
    :class:`AreaConfigError` listing every problem, one line each naming the key and the
    bad value (``units.h3_res: 12 — H3 resolution 12 outside 6–9``)."""
    if not isinstance(data, Mapping):
        raise AreaConfigError(["top level: expected a mapping"])
    try:
        return AreaRiskConfig.model_validate(data)
    except ValidationError as exc:
        raise AreaConfigError(config_problems(exc)) from None


# --------------------------------------------------------------------------------------
# Inputs: points and areas
# --------------------------------------------------------------------------------------


def level_indices(levels: Sequence[object] | np.ndarray) -> np.ndarray:
    """0 red, 1 orange, 2 yellow, 3 blue, -1 anything else (int8)."""
    values = np.asarray(levels, dtype=object)
    out = np.full(len(values), -1, dtype=np.int8)
    for i, code in enumerate(LEVEL_CODES):
        out[values == code] = i
    return out


@dataclass
class Points:
    """Point features as arrays, in key order: WGS-84 lon/lat plus named attributes."""

    key: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    attrs: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, columns: Sequence[str] = ()) -> Points:
        """From a GeoDataFrame of points (WGS-84) or a frame with ``lon``/``lat``; sorted by key.

        Rows without a geometry are dropped.
        """
        if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame:
            geoms = frame.geometry.values
            ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            frame = frame[ok]
            xy = shapely.get_coordinates(frame.geometry.values)
            lon, lat = xy[:, 0], xy[:, 1]
        else:
            lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        keys = frame["key"].astype(str).to_numpy(dtype=object)
        in_order = len(keys) < 2 or bool((keys[1:] >= keys[:-1]).all())  # as the stores return them
        order = slice(None) if in_order else np.argsort(keys, kind="stable")
        attrs = {c: frame[c].to_numpy(dtype=object)[order] for c in columns}
        return cls(keys[order], np.asarray(lon, float)[order], np.asarray(lat, float)[order], attrs)

    def subset(self, mask: np.ndarray) -> Points:
        return Points(self.key[mask], self.lon[mask], self.lat[mask], {k: v[mask] for k, v in self.attrs.items()})

    @classmethod
    def empty(cls, columns: Sequence[str] = ()) -> Points:
        e = np.array([], dtype=object)
        return cls(e, np.array([], float), np.array([], float), {c: e for c in columns})


@dataclass
class Membership:
    """Which point lies in which area: parallel arrays of (point index, area index)."""

    point: np.ndarray
    area: np.ndarray

    def counts(self, n_areas: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Points per area (optionally only points where ``mask[point]``)."""
        area = self.area if mask is None else self.area[mask[self.point]]
        return np.bincount(area, minlength=n_areas).astype(np.int64)


@dataclass
class AreaSet:
    """The areas of one unit: codes, names, parents, WGS-84 polygons, km², people, and
    how to find which of them a point falls in."""

    unit: str
    code: np.ndarray
    name: np.ndarray
    parent: np.ndarray
    geometry: np.ndarray  # WGS-84 MultiPolygons
    area_km2: np.ndarray
    population: np.ndarray  # NaN: unknown
    anchor_lon: np.ndarray  # a point inside each area (distances start here)
    anchor_lat: np.ndarray
    assign: Callable[[np.ndarray, np.ndarray], Membership]
    params: dict[str, Any] = field(default_factory=dict)
    #: membership of the points the cells were built from (grid, h3), saving a second pass
    built_from: Membership | None = None

    def __len__(self) -> int:
        return len(self.code)


def polygon_membership(lon: np.ndarray, lat: np.ndarray, polygons: np.ndarray) -> Membership:
    """Pairs (point, polygon) where the WGS-84 point intersects the WGS-84 polygon,
    ordered by polygon then point.

    A bounding-box filter per polygon, then ``shapely.intersects_xy`` on the candidates
    (much faster than building point geometries for an STRtree query).
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    pts: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    if len(lon) and len(polygons):
        bounds = shapely.bounds(polygons)
        shapely.prepare(polygons)
        for i, (minx, miny, maxx, maxy) in enumerate(bounds):
            idx = np.flatnonzero((lon >= minx) & (lon <= maxx) & (lat >= miny) & (lat <= maxy))
            if len(idx):
                idx = idx[shapely.intersects_xy(polygons[i], lon[idx], lat[idx])]
                pts.append(idx)
                owners.append(np.full(len(idx), i, dtype=np.int64))
    if not pts:
        return Membership(np.array([], np.int64), np.array([], np.int64))
    return Membership(np.concatenate(pts).astype(np.int64), np.concatenate(owners))


def polygon_areas(
    unit: str,
    code: Sequence[str],
    name: Sequence[str],
    parent: Sequence[str | None],
    geometry: Sequence[BaseGeometry],
    *,
    population: Sequence[float] | None = None,
) -> AreaSet:
    """An :class:`AreaSet` of WGS-84 polygons (districts, townships); geodesic km²."""
    geoms = np.array([as_multipolygon(g) for g in geometry], dtype=object)
    shapely.prepare(geoms)
    anchors = shapely.get_coordinates(shapely.point_on_surface(geoms)).reshape(-1, 2)
    pop = np.full(len(geoms), np.nan) if population is None else np.asarray(population, float)
    return AreaSet(
        unit=unit,
        code=np.asarray(code, dtype=object),
        name=np.asarray(name, dtype=object),
        parent=np.asarray(parent, dtype=object),
        geometry=geoms,
        area_km2=np.array([geodesic_area_km2(g) for g in geoms]),
        population=pop,
        anchor_lon=anchors[:, 0],
        anchor_lat=anchors[:, 1],
        assign=lambda lon, lat: polygon_membership(lon, lat, geoms),
    )


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 lon/lat → EPSG:4548 x/y metres."""
    x, y = _metric_transformer().transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def _lookup_membership(point_codes: np.ndarray, area_codes: np.ndarray) -> Membership:
    """Membership by exact code match (each point in at most one area)."""
    order = np.argsort(area_codes)
    sorted_codes = area_codes[order]
    pos = np.searchsorted(sorted_codes, point_codes)
    pos = np.clip(pos, 0, max(len(sorted_codes) - 1, 0))
    hit = (sorted_codes[pos] == point_codes) if len(sorted_codes) else np.zeros(len(point_codes), bool)
    pi = np.flatnonzero(hit)
    return Membership(pi.astype(np.int64), order[pos[hit]].astype(np.int64))


def _sorted_membership(m: Membership) -> Membership:
    order = np.lexsort((m.point, m.area))
    return Membership(m.point[order], m.area[order])


def _cell_keys(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    return (ix.astype(np.int64) << 32) + (iy.astype(np.int64) & 0xFFFFFFFF)


def square_grid_areas(lon: np.ndarray, lat: np.ndarray, *, cell_m: float, extent: BaseGeometry) -> AreaSet:
    """The EPSG:4548 square cells of ``cell_m`` metres that hold at least one of the
    WGS-84 points and meet ``extent`` (WGS-84 polygon, e.g. Beijing), cut to it.

    Area in km² is measured in EPSG:4548 (scale error < 0.03 % over Beijing).  Codes
    from :func:`geo.grids.square_cell_code`; polygons returned in WGS-84.
    """
    grids.check_cell_size(cell_m)
    extent_m = shapely.transform(extent, _metric_xy)
    shapely.prepare(extent_m)
    x, y = to_metric(lon, lat)
    inside = shapely.contains_xy(extent_m, x, y) if len(x) else np.zeros(0, bool)
    ix, iy = grids.square_cell_indices(x[inside], y[inside], cell_m=cell_m)
    keys, inverse = np.unique(_cell_keys(ix, iy), return_inverse=True)
    built_from = Membership(np.flatnonzero(inside).astype(np.int64), inverse.ravel().astype(np.int64))
    cix, ciy = (keys >> 32).astype(np.int64), (keys & 0xFFFFFFFF).astype(np.int64)
    ciy = np.where(ciy >= 2**31, ciy - 2**32, ciy)
    cells_m = np.array(grids.square_cells(cix, ciy, cell_m=cell_m, clip=extent_m), dtype=object)
    area_km2 = shapely.area(cells_m) / 1e6
    cells = shapely.transform(cells_m, _wgs84_xy)
    anchors_m = shapely.get_coordinates(shapely.point_on_surface(cells_m)).reshape(-1, 2)
    alon, alat = _wgs84_xy(anchors_m).T
    codes = np.array([grids.square_cell_code(int(a), int(b), cell_m=cell_m) for a, b in zip(cix, ciy, strict=True)],
                     dtype=object)

    def assign(plon: np.ndarray, plat: np.ndarray) -> Membership:
        px, py = to_metric(plon, plat)
        ok = shapely.contains_xy(extent_m, px, py) if len(px) else np.zeros(0, bool)
        jx, jy = grids.square_cell_indices(px, py, cell_m=cell_m)
        m = _lookup_membership(_cell_keys(jx, jy), keys)
        keep = ok[m.point]
        return Membership(m.point[keep], m.area[keep])

    return AreaSet(
        unit="grid", code=codes, name=codes.copy(), parent=np.full(len(codes), None, dtype=object),
        geometry=cells, area_km2=area_km2, population=np.full(len(codes), np.nan),
        anchor_lon=np.asarray(alon), anchor_lat=np.asarray(alat), assign=assign, params={"cell_m": cell_m},
        built_from=_sorted_membership(built_from),
    )


def h3_areas(lon: np.ndarray, lat: np.ndarray, *, res: int) -> AreaSet:
    """The H3 cells at resolution ``res`` that hold at least one of the WGS-84 points;
    parent code is the cell's parent one resolution up."""
    import h3

    ints, inverse = np.unique(grids.h3_cell_ints(lon, lat, res=res), return_inverse=True)
    built_from = Membership(np.arange(len(inverse), dtype=np.int64), inverse.ravel().astype(np.int64))
    codes = np.array([h3.int_to_str(int(c)) for c in ints], dtype=object)
    clon, clat = grids.h3_centres(list(codes))

    def assign(plon: np.ndarray, plat: np.ndarray) -> Membership:
        return _lookup_membership(grids.h3_cell_ints(plon, plat, res=res), ints)

    return AreaSet(
        unit="h3", code=codes, name=codes.copy(),
        parent=np.array([h3.cell_to_parent(c, res - 1) for c in codes], dtype=object),
        geometry=np.array(grids.h3_polygons(list(codes)), dtype=object), area_km2=grids.h3_area_km2(list(codes)),
        population=np.full(len(codes), np.nan), anchor_lon=clon, anchor_lat=clat, assign=assign,
        params={"h3_res": res}, built_from=_sorted_membership(built_from),
    )


def zonal_population(
    geometry: np.ndarray, population: np.ndarray, transform: Affine, *, may_overlap: bool = True
) -> np.ndarray:
    """People per WGS-84 polygon from a raster of people per cell (EPSG:4548, NaN = no
    data): the sum over the cells whose centre lies inside.  NaN where no cell with data
    lies inside (e.g. outside Beijing's raster).

    ``may_overlap``: polygons that may overlap (districts and the ETDA) are burnt one by
    one in their own window; a partition (grid or H3 cells) is burnt in one pass.
    """
    n = len(geometry)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    geoms_m = shapely.transform(geometry, _metric_xy)
    values = np.nan_to_num(population.astype(np.float64), nan=0.0)
    valid = (~np.isnan(population)).astype(np.float64)
    height, width = population.shape
    shapes = polygon_mappings(geoms_m)
    if not may_overlap:
        zones = features.rasterize([(g, i + 1) for i, g in enumerate(shapes) if g["coordinates"]],
                                   out_shape=population.shape, transform=transform, fill=0, dtype="int32")
        sums = np.bincount(zones.ravel(), weights=values.ravel(), minlength=n + 1)[1:]
        covered = np.bincount(zones.ravel(), weights=valid.ravel(), minlength=n + 1)[1:]
        return np.where(covered > 0, sums, np.nan)
    inverse = ~transform
    for i, (g, shape) in enumerate(zip(geoms_m, shapes, strict=True)):
        if not shape["coordinates"]:
            continue
        minx, miny, maxx, maxy = g.bounds
        c0, r0 = inverse @ (minx, maxy)
        c1, r1 = inverse @ (maxx, miny)
        c0, r0 = max(int(np.floor(c0)), 0), max(int(np.floor(r0)), 0)
        c1, r1 = min(int(np.ceil(c1)), width), min(int(np.ceil(r1)), height)
        if c1 <= c0 or r1 <= r0:
            continue
        window_transform = transform @ Affine.translation(c0, r0)
        mask = features.rasterize([(shape, 1)], out_shape=(r1 - r0, c1 - c0), transform=window_transform, fill=0,
                                  dtype="uint8").astype(bool)
        if valid[r0:r1, c0:c1][mask].sum() > 0:
            out[i] = values[r0:r1, c0:c1][mask].sum()
    return out


def polygon_mappings(geometry: np.ndarray) -> list[dict[str, Any]]:
    """GeoJSON-like MultiPolygon mappings of (Multi)Polygons, built from their coordinate
    arrays in one pass — what ``rasterio.features.rasterize`` reads, at a tenth of the
    cost of each geometry's ``__geo_interface__``.  An empty geometry has no coordinates."""
    parts, part_of = shapely.get_parts(geometry, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    starts = np.searchsorted(coord_of, np.arange(len(rings) + 1)).tolist()
    xy = coords.tolist()
    polygons: list[list[list[list[float]]]] = [[] for _ in range(len(parts))]
    for r, p in enumerate(ring_of.tolist()):
        polygons[p].append(xy[starts[r]:starts[r + 1]])
    out: list[dict[str, Any]] = [{"type": "MultiPolygon", "coordinates": []} for _ in range(len(geometry))]
    for polygon, g in zip(polygons, part_of.tolist(), strict=True):
        out[g]["coordinates"].append(polygon)
    return out


def nearest_distance_m(lon: np.ndarray, lat: np.ndarray, target_lon: np.ndarray, target_lat: np.ndarray,
                       *, candidates: int = 4) -> np.ndarray:
    """Geodesic distance (m, WGS-84) from each point to its nearest target; inf when there
    is no target.  Candidates come from a KD-tree on the unit sphere, re-ranked by the
    ellipsoidal distance."""
    if len(target_lon) == 0:
        return np.full(len(lon), np.inf)
    if len(lon) == 0:
        return np.array([], float)
    k = min(candidates, len(target_lon))
    tree = cKDTree(_unit_vectors(target_lon, target_lat))
    _, idx = tree.query(_unit_vectors(lon, lat), k=k)
    idx = np.asarray(idx).reshape(len(lon), k)
    d = geodesic_m(np.repeat(lon, k), np.repeat(lat, k), target_lon[idx.ravel()], target_lat[idx.ravel()])
    return np.asarray(d).reshape(len(lon), k).min(axis=1)


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


# --------------------------------------------------------------------------------------
# Levels from scores
# --------------------------------------------------------------------------------------


def levels_from_thresholds(score: np.ndarray, thresholds: Mapping[str, float], *, blue_above: float | None = 0.0
                           ) -> np.ndarray:
    """Level per score: red ≥ t_red, orange ≥ t_orange, yellow ≥ t_yellow, else blue when
    score > ``blue_above`` (``None``: always blue), else None.  NaN → None."""
    out = np.full(len(score), None, dtype=object)
    s = np.asarray(score, float)
    assigned = np.isnan(s)
    for code in ("red", "orange", "yellow"):
        hit = ~assigned & (s >= thresholds[code])
        out[hit] = code
        assigned |= hit
    blue = ~assigned if blue_above is None else ~assigned & (s > blue_above)
    out[blue] = "blue"
    return out


def quantile_thresholds(score: np.ndarray, quantiles: Mapping[str, float]) -> dict[str, float]:
    """Score cut-offs at the given quantiles of the positive scores (inf when none)."""
    positive = np.asarray(score, float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    if positive.size == 0:
        return {c: math.inf for c in ("red", "orange", "yellow")}
    return {c: float(np.quantile(positive, quantiles[c], method="linear")) for c in ("red", "orange", "yellow")}


def thresholds_crossed(score: float | None, thresholds: Mapping[str, float], *, blue_above: float | None = 0.0
                       ) -> dict[str, Any]:
    """Which thresholds ``score`` meets (highest first) and the next one up, e.g.
    ``{"crossed": ["yellow", "blue"], "next": {"level": "orange", "at": 100.0}}``."""
    s = -math.inf if score is None or score != score else score
    crossed = [c for c in ("red", "orange", "yellow") if s >= thresholds[c]]
    if blue_above is None or s > blue_above:
        crossed.append("blue")
    nxt = next(({"level": c, "at": _num(thresholds[c])} for c in ("yellow", "orange", "red") if s < thresholds[c]),
               None)
    return {"crossed": crossed, "next": nxt}


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), 6)


def _nums(values: np.ndarray) -> list[float | None]:
    """Rounded Python floats, None for NaN/inf (for JSON)."""
    v = np.round(np.asarray(values, float), 6)
    return [None if not math.isfinite(x) else x for x in v.tolist()]


# --------------------------------------------------------------------------------------
# The methods
# --------------------------------------------------------------------------------------


@dataclass
class CompositeInputs:
    """What the composite method needs beyond the risk sources (all WGS-84 points)."""

    open_hazards: Points
    units: Points  # attrs: insured (True/False/None)
    resources: Points  # attrs: resource_type


@dataclass
class AreaResult:
    """One method's result over one :class:`AreaSet`: per-area arrays plus explanations.

    ``params`` holds what is the same for every area (weights, threshold values,
    goalposts); each explanation holds what is particular to its area.
    """

    unit: str
    method: str
    areas: AreaSet
    level: np.ndarray
    score: np.ndarray
    counts: np.ndarray  # (n_areas, 4): red, orange, yellow, blue
    explanation: list[dict[str, Any]]
    params: dict[str, Any]

    def frame(self) -> gpd.GeoDataFrame:
        """The result as rows of the ``area_results`` entity (explanation as a dict), WGS-84."""
        a = self.areas
        text = _object_series
        data = {
            "unit": self.unit, "method": self.method, "area_code": text(a.code), "name": text(a.name),
            "parent_code": text(a.parent), "level": text(self.level), "score": self.score,
            **{f"count_{c}": self.counts[:, i] for i, c in enumerate(LEVEL_CODES)},
            "population": a.population, "area_km2": a.area_km2, "explanation": self.explanation,
        }
        return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(a.geometry, crs=WGS84), crs=WGS84)


def _object_series(values: Any) -> pd.Series:
    """Text as an object Series (str/None), not pandas' Arrow-backed string dtype, which
    the stores would only convert back."""
    return pd.Series(values, dtype=object)


def level_counts(sources: Points, membership: Membership, n_areas: int) -> np.ndarray:
    """(n_areas, 4) counts of sources per level (red, orange, yellow, blue) per area."""
    lvl = sources.attrs["level_idx"][membership.point]
    ok = lvl >= 0
    flat = membership.area[ok] * 4 + lvl[ok].astype(np.int64)
    return np.bincount(flat, minlength=n_areas * 4).reshape(n_areas, 4).astype(np.int64)


def top_members(membership: Membership, rank_value: np.ndarray, n_areas: int, top_n: int) -> list[list[int]]:
    """Per area, the indices of its ``top_n`` points by ``rank_value`` (descending, ties by
    point index, i.e. key order)."""
    if len(membership.point) == 0:
        return [[] for _ in range(n_areas)]
    order = np.lexsort((membership.point, -rank_value[membership.point], membership.area))
    area_sorted = membership.area[order]
    starts = np.searchsorted(area_sorted, np.arange(n_areas), side="left")
    ends = np.minimum(np.searchsorted(area_sorted, np.arange(n_areas), side="right"), starts + top_n)
    pts = membership.point[order].tolist()
    return [pts[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


class _SourceTable:
    """Risk-source attributes as Python lists, for building explanations quickly."""

    def __init__(self, sources: Points, weights: np.ndarray) -> None:
        self.key = sources.key.tolist()
        names = sources.attrs.get("name")
        self.name = names.tolist() if names is not None else [None] * len(sources)
        self.level = [LEVEL_CODES[i] if i >= 0 else None for i in sources.attrs["level_idx"].tolist()]
        self.weight = np.asarray(weights, float).tolist()

    def entries(self, idx: list[int], total: float) -> list[dict[str, Any]]:
        return [{"key": self.key[i], "name": self.name[i], "level": self.level[i], "weight": self.weight[i],
                 "share": round(self.weight[i] / total, 6) if total > 0 else None} for i in idx]


def _counts_dicts(counts: np.ndarray) -> list[dict[str, int]]:
    return [dict(zip(LEVEL_CODES, row, strict=True)) for row in counts.tolist()]


def highest_level(
    areas: AreaSet, sources: Points, config: AreaRiskConfig, *, children: AreaResult | None = None,
    membership: Membership | None = None,
) -> AreaResult:
    """就高: each area takes the highest level among its sources and, when ``children``
    is given (e.g. townships for districts), among the children whose ``parent`` is the
    area's code.  Explanation: the top sources at that level, the children at it."""
    n = len(areas)
    m = membership or areas.assign(sources.lon, sources.lat)
    counts = level_counts(sources, m, n)
    has = counts > 0
    own_best = np.where(has.any(axis=1), np.argmax(has, axis=1), 4)
    best = own_best.copy()
    kids: dict[str, list[tuple[int, str, str]]] = {}
    if children is not None:
        pos = {c: i for i, c in enumerate(areas.code.tolist())}
        for code, parent, lvl, name in zip(children.areas.code.tolist(), children.areas.parent.tolist(),
                                           children.level.tolist(), children.areas.name.tolist(), strict=True):
            if lvl is None or parent not in pos:
                continue
            li = LEVEL_CODES.index(lvl)
            kids.setdefault(parent, []).append((li, code, name))
            best[pos[parent]] = min(best[pos[parent]], li)
    level_idx = sources.attrs["level_idx"]
    weights = config.weight_of(level_idx)
    table = _SourceTable(sources, weights)
    # rank by level (red first) so the top sources are those that set the level
    rank = np.where(level_idx >= 0, 4 - level_idx.astype(float), -1.0)
    tops = top_members(m, rank, n, config.top_n)
    level = np.array([LEVEL_CODES[b] if b < 4 else None for b in best.tolist()], dtype=object)
    score = np.array([HIGHEST_SCORE[lv] if lv else 0.0 for lv in level])
    explanation = []
    for i, (b, own, cnt, top) in enumerate(zip(best.tolist(), own_best.tolist(), _counts_dicts(counts), tops,
                                               strict=True)):
        at_level = [j for j in top if table.level[j] == level[i]]
        exp: dict[str, Any] = {
            "method": "highest", "level": level[i], "score": float(score[i]), "counts": cnt,
            "top_sources": table.entries(at_level, float(sum(table.weight[j] for j in at_level))),
            "thresholds": {"crossed": list(LEVEL_CODES[b:]) if b < 4 else [], "next": None},
        }
        mine = sorted(kids.get(areas.code[i], []))
        if mine:
            exp["children"] = [{"area_code": c, "name": nm, "level": LEVEL_CODES[li]}
                               for li, c, nm in mine if li == mine[0][0]][: config.top_n]
            exp["driven_by"] = "children" if mine[0][0] < own else "own sources"
        explanation.append(exp)
    params = {"rule": "an area takes the highest level of the sources in it and of its children",
              "scores": HIGHEST_SCORE, "children_unit": children.unit if children else None}
    return AreaResult(areas.unit, "highest", areas, level, score, counts, explanation, params)


def weighted_density(
    areas: AreaSet, sources: Points, config: AreaRiskConfig, *, membership: Membership | None = None
) -> AreaResult:
    """Σ weight(level) per km² (optionally × people / population_unit); level by thresholds
    or quantiles.  Explanation: the top sources by weight with their share of the sum."""
    n = len(areas)
    dc = config.density
    m = membership or areas.assign(sources.lon, sources.lat)
    counts = level_counts(sources, m, n)
    weights = config.weight_of(sources.attrs["level_idx"])
    wsum = np.bincount(m.area, weights=weights[m.point], minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(areas.area_km2 > 0, wsum / areas.area_km2, 0.0)
    score = density
    if dc.exposure == "population":
        score = density * np.nan_to_num(areas.population, nan=0.0) / dc.population_unit
    thresholds = dc.thresholds if dc.mode == "thresholds" else quantile_thresholds(score, dc.quantiles)
    level = levels_from_thresholds(score, thresholds)
    table = _SourceTable(sources, weights)
    tops = top_members(m, weights, n, config.top_n)
    explanation = []
    for i, (s, ws, dens, km2, pop, cnt) in enumerate(zip(
            _nums(score), wsum.tolist(), _nums(density), _nums(areas.area_km2), _nums(areas.population),
            _counts_dicts(counts), strict=True)):
        explanation.append({
            "method": "density", "level": level[i], "score": s, "counts": cnt,
            "inputs": {"weight_sum": ws, "area_km2": km2, "density_per_km2": dens, "population": pop},
            "top_sources": table.entries(tops[i], ws),
            "thresholds": thresholds_crossed(s, thresholds),
        })
    params = {"formula": "Σ weight(level) / area_km2" + (" × population / population_unit"
                                                          if dc.exposure == "population" else ""),
              "weights": config.weights, "exposure": dc.exposure, "population_unit": dc.population_unit,
              "mode": dc.mode, "thresholds": {k: _num(v) for k, v in thresholds.items()},
              **({"quantiles": dc.quantiles} if dc.mode == "quantiles" else {})}
    return AreaResult(areas.unit, "density", areas, level, score, counts, explanation, params)


def composite_indicators(
    areas: AreaSet, sources: Points, inputs: CompositeInputs, config: AreaRiskConfig,
    *, membership: Membership | None = None,
) -> dict[str, np.ndarray]:
    """Raw indicator values per area (NaN where not measurable):

    hazard: Σ weight / km²; exposure: people / km²; open_hazards: open hidden hazards
    per km²; uninsured: share (0–1) of units without 安责险 among units with a known
    status; team_distance: metres from the area's anchor point to the nearest rescue
    team (resource types ``team_types``; inf when there is none); resources: emergency
    resources per km².
    """
    n = len(areas)
    m = membership or areas.assign(sources.lon, sources.lat)
    weights = config.weight_of(sources.attrs["level_idx"])
    wsum = np.bincount(m.area, weights=weights[m.point], minlength=n)
    km2 = np.where(areas.area_km2 > 0, areas.area_km2, np.nan)
    hm = areas.assign(inputs.open_hazards.lon, inputs.open_hazards.lat)
    um = areas.assign(inputs.units.lon, inputs.units.lat)
    insured = inputs.units.attrs.get("insured", np.full(len(inputs.units), None, dtype=object))
    flags = pd.array(list(insured), dtype="boolean")
    known = ~np.asarray(pd.isna(flags), dtype=bool)
    uninsured = known & ~np.asarray(flags.fillna(True), dtype=bool)
    n_known = um.counts(n, known)
    n_uninsured = um.counts(n, uninsured)
    rm = areas.assign(inputs.resources.lon, inputs.resources.lat)
    rtype = inputs.resources.attrs.get("resource_type", np.full(len(inputs.resources), None, dtype=object))
    is_team = np.isin(rtype.astype(str), list(config.composite.team_types))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "hazard": wsum / km2,
            "exposure": areas.population / km2,
            "open_hazards": hm.counts(n) / km2,
            "uninsured": np.where(n_known > 0, n_uninsured / np.maximum(n_known, 1), np.nan),
            "team_distance": nearest_distance_m(areas.anchor_lon, areas.anchor_lat,
                                                inputs.resources.lon[is_team], inputs.resources.lat[is_team]),
            "resources": rm.counts(n) / km2,
        }


def composite(
    areas: AreaSet, sources: Points, inputs: CompositeInputs, config: AreaRiskConfig,
    *, membership: Membership | None = None,
) -> AreaResult:
    """INFORM-style ∛(HE·V·LCC) with each dimension the mean of its 0–10 indicators.

    A dimension with no measurable indicator is left out of the geometric mean (and
    named under ``missing`` in the explanation); as in INFORM a dimension at 0 makes
    the score 0.  No rescue team at all counts as the far goalpost.
    """
    n = len(areas)
    cc = config.composite
    m = membership or areas.assign(sources.lon, sources.lat)
    raw = composite_indicators(areas, sources, inputs, config, membership=m)
    raw["team_distance"] = np.where(np.isinf(raw["team_distance"]), cc.indicators["team_distance"].hi,
                                    raw["team_distance"])
    scaled = {k: np.where(np.isnan(v), np.nan, cc.indicators[k].scale(np.nan_to_num(v))) for k, v in raw.items()}
    dims: dict[str, np.ndarray] = {}
    for dim, names in DIMENSIONS.items():
        stack = np.vstack([scaled[k] for k in names])
        ok = ~np.isnan(stack)
        n_ok = ok.sum(axis=0)
        dims[dim] = np.where(n_ok > 0, np.where(ok, stack, 0.0).sum(axis=0) / np.maximum(n_ok, 1), np.nan)
    dstack = np.vstack(list(dims.values()))
    present = ~np.isnan(dstack)
    n_present = present.sum(axis=0)
    logs = np.where(present, np.log(np.maximum(np.nan_to_num(dstack), 1e-300)), 0.0)
    score = np.where(n_present > 0, np.exp(logs.sum(axis=0) / np.maximum(n_present, 1)), np.nan)
    score = np.round(np.where((present & (np.nan_to_num(dstack) <= 0)).any(axis=0), 0.0, score), 9)
    level = levels_from_thresholds(score, cc.thresholds, blue_above=None)
    counts = level_counts(sources, m, n)
    weights = config.weight_of(sources.attrs["level_idx"])
    wsum = np.bincount(m.area, weights=weights[m.point], minlength=n).tolist()
    table = _SourceTable(sources, weights)
    tops = top_members(m, weights, n, config.top_n)
    raw_l = {k: _nums(v) for k, v in raw.items()}
    scaled_l = {k: _nums(v) for k, v in scaled.items()}
    dims_l = {k: _nums(v) for k, v in dims.items()}
    explanation = []
    for i, (s, cnt) in enumerate(zip(_nums(score), _counts_dicts(counts), strict=True)):
        components = {
            dim: {"score": dims_l[dim][i],
                  "indicators": {k: {"raw": raw_l[k][i], "scaled": scaled_l[k][i]} for k in names}}
            for dim, names in DIMENSIONS.items()
        }
        explanation.append({
            "method": "composite", "level": level[i], "score": s, "counts": cnt, "components": components,
            "missing": [d for d in DIMENSIONS if dims_l[d][i] is None],
            "top_sources": table.entries(tops[i], wsum[i]),
            "thresholds": thresholds_crossed(s, cc.thresholds, blue_above=None),
        })
    params = {"formula": "∛(hazard_exposure × vulnerability × lack_of_coping), each 0–10",
              "dimensions": {d: list(v) for d, v in DIMENSIONS.items()}, "weights": config.weights,
              "thresholds": cc.thresholds, "team_types": list(cc.team_types),
              "indicators": {k: g.model_dump() for k, g in cc.indicators.items()}}
    return AreaResult(areas.unit, "composite", areas, level, score, counts, explanation, params)


def run_method(
    method: str, areas: AreaSet, sources: Points, config: AreaRiskConfig, *,
    inputs: CompositeInputs | None = None, children: AreaResult | None = None,
    membership: Membership | None = None,
) -> AreaResult:
    """Dispatch to one of :data:`METHODS`; ValueError naming an unknown method."""
    if method == "highest":
        return highest_level(areas, sources, config, children=children, membership=membership)
    if method == "density":
        return weighted_density(areas, sources, config, membership=membership)
    if method == "composite":
        if inputs is None:
            raise ValueError("the composite method needs open hazards, units and resources")
        return composite(areas, sources, inputs, config, membership=membership)
    raise BadInput(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
