"""Per-district statistics for the commander's statistics panel."""

from __future__ import annotations

from typing import Any

from geo.capabilities.cache import Cache, cached
from geo.entities import LEVEL_CODES
from geo.response import RESOURCE_TYPES
from geo.scope import Scope, scope_key, scoped_where
from geo.stores.protocol import Store

#: The district table as the seeds read it: Beijing's 16 districts and the 开发区.
BEIJING_DISTRICTS = {"area_type": "district", "province_code": "110000"}
#: The layers the statistics count (their data versions key the cache).
COUNTED_KINDS = ("risk_sources", "hidden_hazards", "resources", "areas")


def district_statistics(store: Store, *, cache: Cache | None = None, scope: Scope | None = None) -> dict[str, Any]:
    """Counts per Beijing district: risk sources by level, open hidden hazards, resources by type;
    kept in ``cache`` until one of :data:`COUNTED_KINDS` changes.

    A point on a shared boundary counts in both districts; the 开发区 overlaps
    大兴/通州, so its rows are also counted there (as the seeds' tables do).

    ``scope``: only rows in scope are counted, and only the districts in scope are listed,
    with any other district where one of the scope's risk sources or open hidden hazards
    lies (a row kept by its own district attribute whose point lies across the line);
    kept per scope.
    """
    return cached(cache, "statistics.districts", store.data_versions(COUNTED_KINDS),
                  scope_key(scope, COUNTED_KINDS), lambda: _district_statistics(store, scope))


def _district_statistics(store: Store, scope: Scope | None) -> dict[str, Any]:
    districts = store.read("areas", where=BEIJING_DISTRICTS)
    levels = store.count_per_polygon("risk_sources", "areas", group_column="level", polygon_where=BEIJING_DISTRICTS,
                                     where=scoped_where(scope, "risk_sources"))
    hazards = store.count_per_polygon("hidden_hazards", "areas", where=scoped_where(scope, "hidden_hazards",
                                                                                   {"status": "open"}),
                                      polygon_where=BEIJING_DISTRICTS)
    resources = store.count_per_polygon("resources", "areas", group_column="resource_type",
                                        polygon_where=BEIJING_DISTRICTS, where=scoped_where(scope, "resources"))
    rows = []
    for d in districts.itertuples(index=False):
        lv = levels[levels["polygon_key"] == d.key]
        rs = resources[resources["polygon_key"] == d.key]
        row = {
            "area_code": d.area_code,
            "name": d.name,
            "approximate": d.approximate is True,
            "risk_sources": {level: int(lv.loc[lv["group"] == level, "count"].sum()) for level in LEVEL_CODES},
            "open_hidden_hazards": int(hazards.loc[hazards["polygon_key"] == d.key, "count"].sum()),
            "resources": {t: int(rs.loc[rs["group"] == t, "count"].sum()) for t in RESOURCE_TYPES},
        }
        if scope is None or scope.areas.holds_area(str(d.area_code)) or _counts_any(row):
            rows.append(row)
    return {"levels": list(LEVEL_CODES), "resource_types": RESOURCE_TYPES, "districts": rows}


def _counts_any(row: dict[str, Any]) -> bool:
    """True when the district ``row`` counts a risk source or an open hidden hazard."""
    return bool(sum(row["risk_sources"].values()) or row["open_hidden_hazards"])
