"""Emergency response: arrival-time estimates and coverage gaps.

Travel time is estimated, not routed: straight-line distance × a detour factor at a
mean speed.  Both numbers are parameters and are stated wherever a time is shown.
Defaults: 40 km/h and detour factor 1.4 (assumptions for urban Beijing — replace
with measured values); the fire-service target is to reach the edge of a station's
area within 5 minutes (建标152-2017 / GB 51080-2015, see DOMAIN.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from geo.errors import BadInput

#: Fire-station response target in minutes (建标152-2017 / GB 51080-2015).
FIRE_RESPONSE_MINUTES = 5.0

#: Emergency-resource types, in display order: code -> (Chinese, English).  The one table of their words: the
#: layer catalog's labels (``layers/catalog.py``) and every answer that names a type read it.
RESOURCE_TYPE_WORDS: dict[str, tuple[str, str]] = {
    "fire_station": ("消防站", "fire station"),
    "team": ("救援队伍", "rescue team"),
    "expert": ("专家", "expert"),
    "equipment_depot": ("应急装备库", "equipment depot"),
    "supply_depot": ("应急物资库", "supply depot"),
    "shelter": ("应急避难场所", "shelter"),
    "police_station": ("派出所", "police station"),
    "social": ("社会应急资源", "social resource"),
}
#: Resource types in their order, with their Chinese words.
RESOURCE_TYPES: dict[str, str] = {code: zh for code, (zh, _) in RESOURCE_TYPE_WORDS.items()}


@dataclass(frozen=True)
class TravelModel:
    """Straight-line distance × detour factor at a mean speed."""

    speed_kmh: float = 40.0
    detour_factor: float = 1.4

    def __post_init__(self) -> None:
        if not self.speed_kmh > 0:
            raise BadInput(f"speed must be > 0 km/h, got {self.speed_kmh}")
        if not self.detour_factor >= 1:
            raise BadInput(f"detour factor must be >= 1, got {self.detour_factor}")

    def minutes(self, distance_m: np.ndarray | float) -> np.ndarray:
        """Estimated travel minutes for straight-line distances in metres."""
        return np.asarray(distance_m, dtype=float) * self.detour_factor / (self.speed_kmh * 1000.0 / 60.0)

    def reach_m(self, minutes: float) -> float:
        """Straight-line metres reachable within ``minutes``."""
        return minutes * self.speed_kmh * 1000.0 / 60.0 / self.detour_factor


@dataclass(frozen=True)
class CoverageGap:
    """Cells of a metric grid farther than a time limit from every station."""

    uncovered: np.ndarray  # bool mask over the grid
    minutes: float
    reach_m: float
    uncovered_km2: float
    uncovered_population: float
    total_km2: float
    total_population: float


def coverage_gap(
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    cell_population: np.ndarray,
    station_xy: np.ndarray,
    *,
    cell_area_m2: float,
    minutes: float,
    travel: TravelModel,
) -> CoverageGap:
    """Which cells (centres in a metric CRS, metres) no station reaches within ``minutes``.

    ``cell_x``/``cell_y``/``cell_population`` are same-shaped arrays for the cells to
    test (NaN population is treated as 0).  With no stations every cell is uncovered.
    """
    shape = np.shape(cell_x)
    xy = np.column_stack([np.ravel(cell_x), np.ravel(cell_y)])
    reach = travel.reach_m(minutes)
    if len(station_xy) == 0:
        uncovered = np.ones(len(xy), dtype=bool)
    else:
        distance, _ = cKDTree(np.asarray(station_xy, dtype=float)).query(xy, k=1, workers=-1)
        uncovered = distance > reach
    population = np.nan_to_num(np.ravel(cell_population).astype(float))
    km2 = cell_area_m2 / 1e6
    return CoverageGap(
        uncovered=uncovered.reshape(shape),
        minutes=minutes,
        reach_m=reach,
        uncovered_km2=float(uncovered.sum() * km2),
        uncovered_population=float(population[uncovered].sum()),
        total_km2=float(len(xy) * km2),
        total_population=float(population.sum()),
    )
