"""The commander's queries: what is dangerous around a point and what can be sent.

Built on the store's metric queries (``nearest``, ``within_distance``), so answers
are the same on PostGIS and the embedded store.  Travel times use
:class:`geo.response.TravelModel`; the model is echoed in every answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from rasterio import features
from shapely.geometry import Point

from geo.capabilities.cache import Cache, cached, file_stamp
from geo.coords import BEIJING_METRIC_CRS
from geo.entities import LEVEL_CODES
from geo.errors import BadInput
from geo.files.reference import population_raster_path, read_population_raster
from geo.response import RESOURCE_TYPES, CoverageGap, TravelModel, coverage_gap
from geo.scope import Scope, scope_key, scoped_where
from geo.stores.frames import point_records
from geo.stores.protocol import Store

#: At most this many features of each kind are listed around an incident (all are counted).
LIST_LIMIT = 200

_RESOURCE_FIELDS = ("key", "name", "resource_type", "speciality", "capacity", "item_count", "contact", "address",
                    "district", "synthetic")
_SOURCE_FIELDS = ("key", "name", "unit_name", "level", "source_type", "district", "address", "synthetic")
_HAZCHEM_FIELDS = ("key", "name", "site_type", "major_hazard_grade", "gas_station_grade", "operating", "district",
                   "synthetic")
_TARGET_FIELDS = ("key", "name", "target_type", "sensitivity", "district", "synthetic")


def _records(frame: gpd.GeoDataFrame, fields: Sequence[str]) -> list[dict[str, Any]]:
    return [_rounded(r) for r in point_records(frame, fields)]


def _rounded(record: dict[str, Any]) -> dict[str, Any]:
    """Coordinates to 1 cm (7 decimals), distances to 1 cm."""
    record["lon"], record["lat"] = round(record["lon"], 7), round(record["lat"], 7)
    record["distance_m"] = round(record["distance_m"], 2)
    return record


def nearest_resources(
    store: Store, lon: float, lat: float, *, types: Sequence[str], k: int, travel: TravelModel,
    scope: Scope | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The ``k`` nearest resources of each type, with distance (m) and estimated minutes;
    with ``scope``, of the resources it leaves visible (a commander's cross every border)."""
    unknown = [t for t in types if t not in RESOURCE_TYPES]
    if unknown:
        raise BadInput(f"unknown resource type {unknown[0]!r}; known: {', '.join(RESOURCE_TYPES)}")
    found = store.nearest_per_group("resources", lon, lat, k=k, column="resource_type", values=list(types),
                                    fields=_RESOURCE_FIELDS, where=scoped_where(scope, "resources"))
    return {t: [_rounded(r | {"eta_min": round(float(travel.minutes(r["distance_m"])), 1)}) for r in records]
            for t, records in found.items()}


def incident_report(
    store: Store, lon: float, lat: float, *, radius_m: float, k: int, travel: TravelModel,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """Everything around an incident point: hazards and targets within ``radius_m``, nearest
    resources; with ``scope``, only the rows it leaves visible (risk sources and sites in scope)."""
    point = Point(lon, lat)
    sources = store.within_distance("risk_sources", point, radius_m, where=scoped_where(scope, "risk_sources"))
    hazchem = store.within_distance("hazchem_sites", point, radius_m, where=scoped_where(scope, "hazchem_sites"))
    targets = store.within_distance("protection_targets", point, radius_m,
                                    where=scoped_where(scope, "protection_targets"))
    return {
        "incident": {"lon": lon, "lat": lat, "radius_m": radius_m},
        "travel": {"speed_kmh": travel.speed_kmh, "detour_factor": travel.detour_factor},
        "risk_sources": {
            "count": len(sources),
            "by_level": {lv: int((sources["level"] == lv).sum()) for lv in LEVEL_CODES},
            "items": _records(sources.head(LIST_LIMIT), _SOURCE_FIELDS),
        },
        "hazchem_sites": {"count": len(hazchem), "items": _records(hazchem.head(LIST_LIMIT), _HAZCHEM_FIELDS)},
        "protection_targets": {
            "count": len(targets),
            "by_type": {str(t): int(n) for t, n in targets["target_type"].value_counts().sort_index().items()},
            "items": _records(targets.head(LIST_LIMIT), _TARGET_FIELDS),
        },
        "resources": nearest_resources(store, lon, lat, types=list(RESOURCE_TYPES), k=k, travel=travel, scope=scope),
    }


PopulationCells = tuple[np.ndarray, np.ndarray, np.ndarray, Any, str, np.ndarray]


def population_cells(reference_dir: Path, *, cache: Cache | None = None) -> PopulationCells:
    """The populated cells of the population raster in ``reference_dir``: centre x, y
    (metres, the raster's CRS), people, the transform, the CRS and the populated mask;
    kept in ``cache`` until the raster file changes."""
    path = population_raster_path(reference_dir)

    def compute() -> PopulationCells:
        values, transform, crs = read_population_raster(reference_dir)
        inside = ~np.isnan(values)
        rows, cols = np.nonzero(inside)
        xs = transform.c + (cols + 0.5) * transform.a
        ys = transform.f + (rows + 0.5) * transform.e
        return xs, ys, values[inside], transform, crs, inside

    return cached(cache, "incident.population_cells", {}, file_stamp(path), compute)


def coverage_report(
    store: Store,
    *,
    minutes: float,
    types: Sequence[str],
    travel: TravelModel,
    reference_dir: Path,
    cache: Cache | None = None,
    scope: Scope | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Areas of Beijing beyond ``minutes`` of every resource of ``types`` (those ``scope``
    leaves visible), with km² and people.

    Measured on the 100 m population grid (EPSG:4548, the raster in ``reference_dir``):
    each populated-grid cell whose centre is farther than the reachable straight-line
    distance from every station.  The answer and the raster's cells are kept in ``cache``
    until the resources or the raster change.
    """
    versions = store.data_versions(["resources"])
    params = (float(minutes), tuple(types), travel, file_stamp(population_raster_path(reference_dir)),
              scope_key(scope, ["resources"]))
    return cached(cache, "incident.coverage", versions, params,
                  lambda: _coverage(store, minutes=minutes, types=types, travel=travel,
                                    cells=population_cells(reference_dir, cache=cache), scope=scope))


def _coverage(store: Store, *, minutes: float, types: Sequence[str], travel: TravelModel,
              cells: PopulationCells, scope: Scope | None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    xs, ys, pop, transform, crs, inside = cells
    stations = store.read("resources", where=scoped_where(scope, "resources", {"resource_type": list(types)}))
    to_metric = Transformer.from_crs("EPSG:4326", crs or BEIJING_METRIC_CRS, always_xy=True)
    sx, sy = to_metric.transform(stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy())
    gap: CoverageGap = coverage_gap(
        xs, ys, pop, np.column_stack([sx, sy]), cell_area_m2=abs(transform.a * transform.e),
        minutes=minutes, travel=travel,
    )
    mask = np.zeros(inside.shape, dtype=np.uint8)
    mask[inside] = gap.uncovered.astype(np.uint8)
    shapes = [shapely.geometry.shape(g) for g, v in features.shapes(mask, mask=mask.astype(bool),
                                                                   transform=transform) if v == 1]
    polygons = gpd.GeoDataFrame(geometry=[shapely.union_all(shapes)] if shapes else [], crs=crs)
    polygons = polygons.to_crs("EPSG:4326")
    summary = {
        "minutes": minutes,
        "types": list(types),
        "stations": len(stations),
        "reach_m": round(gap.reach_m, 1),
        "travel": {"speed_kmh": travel.speed_kmh, "detour_factor": travel.detour_factor},
        "uncovered_km2": round(gap.uncovered_km2, 2),
        "uncovered_population": round(gap.uncovered_population),
        "total_km2": round(gap.total_km2, 2),
        "total_population": round(gap.total_population),
        "grid": "population raster cells, 100 m, EPSG:4548",
    }
    return polygons, summary
