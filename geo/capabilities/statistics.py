"""Per-district statistics for the commander's statistics panel."""

from __future__ import annotations

from typing import Any

from geo.capabilities.cache import Cache, cached
from geo.entities import LEVEL_CODES
from geo.response import RESOURCE_TYPES
from geo.stores.protocol import Store

#: The district table as the seeds read it: Beijing's 16 districts and the 开发区.
BEIJING_DISTRICTS = {"area_type": "district", "province_code": "110000"}
#: The layers the statistics count (their data versions key the cache).
COUNTED_KINDS = ("risk_sources", "hidden_hazards", "resources", "areas")


def district_statistics(store: Store, *, cache: Cache | None = None) -> dict[str, Any]:
    """Counts per Beijing district: risk sources by level, open hidden hazards, resources by type;
    kept in ``cache`` until one of :data:`COUNTED_KINDS` changes.

    A point on a shared boundary counts in both districts; the 开发区 overlaps
    大兴/通州, so its rows are also counted there (as the seeds' tables do).
    """
    return cached(cache, "statistics.districts", store.data_versions(COUNTED_KINDS), (),
                  lambda: _district_statistics(store))


def _district_statistics(store: Store) -> dict[str, Any]:
    districts = store.read("areas", where=BEIJING_DISTRICTS)
    levels = store.count_per_polygon("risk_sources", "areas", group_column="level", polygon_where=BEIJING_DISTRICTS)
    hazards = store.count_per_polygon("hidden_hazards", "areas", where={"status": "open"},
                                      polygon_where=BEIJING_DISTRICTS)
    resources = store.count_per_polygon("resources", "areas", group_column="resource_type",
                                        polygon_where=BEIJING_DISTRICTS)
    rows = []
    for d in districts.itertuples(index=False):
        lv = levels[levels["polygon_key"] == d.key]
        rs = resources[resources["polygon_key"] == d.key]
        rows.append({
            "area_code": d.area_code,
            "name": d.name,
            "approximate": d.approximate is True,
            "risk_sources": {level: int(lv.loc[lv["group"] == level, "count"].sum()) for level in LEVEL_CODES},
            "open_hidden_hazards": int(hazards.loc[hazards["polygon_key"] == d.key, "count"].sum()),
            "resources": {t: int(rs.loc[rs["group"] == t, "count"].sum()) for t in RESOURCE_TYPES},
        })
    return {"levels": list(LEVEL_CODES), "resource_types": RESOURCE_TYPES, "districts": rows}
