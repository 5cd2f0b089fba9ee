"""Rows for the region-scope tests: every scoped entity in 朝阳区 (110105), 海淀区 (110108),
河北 三河市 (131082) and once without any area code.

Enterprise-level rows carry their area's tag at the start of their key and name
(``CY-`` 朝阳, ``HD-`` 海淀, ``HB-`` 河北, ``NC-`` no code), so an answer leaks a row
exactly when one of the other tags appears in it.  Rows every principal may see
(areas, lines, protection targets, fire stations) carry no tag.

Geography (WGS-84 boxes, not the real outlines): 朝阳 south and 海淀 north of 40.0 °N
between 116.40 and 116.70 °E, 三河 east of the Beijing–Hebei border at 116.70 °E.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
from pyproj import Geod
from shapely.geometry import MultiLineString, MultiPolygon, Point, box

from geo.accounts import Principal, RoleBook, parse_roles
from geo.stores.protocol import LoadBatch, Store
from layers.catalog import CATALOG

GEOD = Geod(ellps="WGS84")

#: tag -> (province, city, county, a point of the area: lon, lat)
AREAS: dict[str, tuple[str | None, str | None, str | None, tuple[float, float]]] = {
    "CY": ("110000", "110100", "110105", (116.65, 39.93)),
    "HD": ("110000", "110100", "110108", (116.65, 40.07)),
    "HB": ("130000", "131000", "131082", (116.75, 39.95)),
    "NC": (None, None, None, (116.60, 39.95)),  # in 朝阳's box, but without codes: in no scope
}
TAGS = tuple(AREAS)
#: Scoped resource types of the district officer (rescue_teams, experts, equipment and supply depots).
SCOPED_RESOURCE_TYPES = ("team", "expert", "equipment_depot", "supply_depot")


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="scope.csv", sha256="5" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def near(tag: str, metres_east: float = 0.0, metres_north: float = 0.0) -> Point:
    """A point ``metres_east``/``metres_north`` of the area's point."""
    lon, lat = AREAS[tag][3]
    if metres_east:
        lon, lat, _ = GEOD.fwd(lon, lat, 90.0 if metres_east > 0 else 270.0, abs(metres_east))
    if metres_north:
        lon, lat, _ = GEOD.fwd(lon, lat, 0.0 if metres_north > 0 else 180.0, abs(metres_north))
    return Point(lon, lat)


def _codes(tag: str) -> dict[str, Any]:
    province, city, county, _ = AREAS[tag]
    return {"province_code": province, "city_code": city, "county_code": county, "synthetic": True}


def _frame(rows: list[dict[str, Any]], geometry: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geometry, crs="EPSG:4326")


def _areas() -> gpd.GeoDataFrame:
    cy, hd = box(116.40, 39.85, 116.70, 40.00), box(116.40, 40.00, 116.70, 40.15)
    hebei = box(116.70, 39.85, 117.00, 40.15)
    rows = [
        ("110000", "北京市", "province", None, "110000", None, box(116.40, 39.85, 116.70, 40.15)),
        ("110100", "北京市", "city", "110000", "110000", "110100", box(116.40, 39.85, 116.70, 40.15)),
        ("110105", "朝阳区", "district", "110100", "110000", "110100", cy),
        ("110108", "海淀区", "district", "110100", "110000", "110100", hd),
        ("130000", "河北省", "province", None, "130000", None, hebei),
        ("131000", "廊坊市", "city", "130000", "130000", "131000", hebei),
        ("131082", "三河市", "district", "131000", "130000", "131000", hebei),
    ]
    return _frame([{"key": c, "area_code": c, "name": n, "area_type": t, "parent_code": p, "province_code": pc,
                    "city_code": cc, "county_code": c if t == "district" else None, "population": 1000.0}
                   for c, n, t, p, pc, cc, _ in rows], [MultiPolygon([g]) for *_, g in rows])


def _lines() -> gpd.GeoDataFrame:
    return _frame([
        {"key": "border:110000-130000", "line_code": "border:110000-130000", "name": "北京—河北",
         "line_type": "border"},
        {"key": "P1", "line_code": "P1", "name": "输气管道", "line_type": "gas_pipeline", "synthetic": True},
    ], [MultiLineString([[(116.70, 39.85), (116.70, 40.15)]]),
        MultiLineString([[(116.60, 39.95), (116.80, 39.95)]])])


def _risk_sources() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for tag in TAGS:
        for i, level in enumerate(("red", "blue")):
            rows.append({"key": f"{tag}-unit|R{i}", "credit_code": f"{tag}-unit", "source_code": f"R{i}",
                         "name": f"{tag}-液氨储罐{i}", "unit_name": f"{tag}-化工厂", "level": level, **_codes(tag)})
            geoms.append(near(tag, metres_east=40.0 * i))
    return _frame(rows, geoms)


def _hazchem_sites() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for tag in TAGS:
        for i, site_type in enumerate(("production", "gas_station", "fireworks")):
            rows.append({"key": f"{tag}-unit|S{i}", "credit_code": f"{tag}-unit", "site_code": f"S{i}",
                         "name": f"{tag}-化工场所{i}", "site_type": site_type, "gas_station_grade": 2,
                         "operating": True, **_codes(tag)})
            geoms.append(near(tag, metres_north=300.0 * (i + 1)))
    return _frame(rows, geoms)


def _hidden_hazards() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for tag in TAGS:
        for i, status in enumerate(("open", "closed")):
            rows.append({"key": f"{tag}-H{i}", "hazard_code": f"{tag}-H{i}", "unit_name": f"{tag}-化工厂",
                         "severity": "major", "description": f"{tag}-隐患", "status": status, **_codes(tag)})
            geoms.append(near(tag, metres_north=-200.0 * (i + 1)))
    return _frame(rows, geoms)


def _resources() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for tag in TAGS:
        for i, kind in enumerate(SCOPED_RESOURCE_TYPES):
            rows.append({"key": f"{tag}-{kind}", "resource_code": f"{tag}-{kind}", "name": f"{tag}-救援{i}",
                         "resource_type": kind, **_codes(tag)})
            geoms.append(near(tag, metres_east=-250.0 * (i + 1)))
        # a fire station in every area: never filtered for the district officer
        rows.append({"key": f"FS{tag.lower()}", "resource_code": f"FS{tag.lower()}", "name": f"消防站{tag.lower()}",
                     "resource_type": "fire_station", **_codes(tag)})
        geoms.append(near(tag, metres_east=-1500.0))
    return _frame(rows, geoms)


def _units() -> gpd.GeoDataFrame:
    return _frame([{"key": f"{tag}-unit", "credit_code": f"{tag}-unit", "name": f"{tag}-化工厂", **_codes(tag)}
                   for tag in TAGS], [near(tag, metres_north=-600.0) for tag in TAGS])


def _protection_targets() -> gpd.GeoDataFrame:
    # a school 30 m from each gas station (site S1): a conflict of rule GS-SENSITIVE-50 in the audit
    return _frame([{"key": f"T{tag.lower()}", "target_code": f"T{tag.lower()}", "name": f"学校{tag.lower()}",
                    "target_type": "school", "sensitivity": "high", **_codes(tag)} for tag in TAGS],
                  [_east_of(near(tag, metres_north=600.0), 30.0) for tag in TAGS])


def _east_of(point: Point, metres: float) -> Point:
    lon, lat, _ = GEOD.fwd(point.x, point.y, 90.0, metres)
    return Point(lon, lat)


def _area_results() -> gpd.GeoDataFrame:
    def top(*tags: str) -> list[dict[str, Any]]:
        return [{"key": f"{t}-unit|R0", "name": f"{t}-液氨储罐0", "level": "red", "weight": 100.0, "share": 0.5}
                for t in tags]

    rows = []
    for code, name, tags in (("110105", "朝阳区", ("CY", "NC")), ("110108", "海淀区", ("HD",)),
                             ("131082", "三河市", ("HB",))):
        explanation = {"method": "highest", "level": "red", "score": 4.0, "top_sources": top(*tags)}
        rows.append({"key": f"district|highest|{code}", "unit": "district", "method": "highest",
                     "area_code": code, "name": name, "level": "red", "score": 4.0, "count_red": len(tags),
                     "explanation": json.dumps(explanation, ensure_ascii=False), "run_id": "run-1",
                     "run_at": "2026-01-01T00:00:00+00:00"})
    explanation = {"method": "density", "level": "red", "score": 9.0, "top_sources": top("CY", "HD", "HB")}
    rows.append({"key": "grid|density|1000m:1:1", "unit": "grid", "method": "density", "area_code": "1000m:1:1",
                 "name": None, "level": "red", "score": 9.0, "count_red": 3,
                 "explanation": json.dumps(explanation, ensure_ascii=False), "run_id": "run-1",
                 "run_at": "2026-01-01T00:00:00+00:00"})
    areas = _areas().set_index("key")
    geoms = [areas.geometry.loc[c] for c in ("110105", "110108", "131082")] + [MultiPolygon([box(116.6, 39.9,
                                                                                                  116.8, 40.1)])]
    return _frame(rows, geoms)


def load_scoped_rows(store: Store) -> None:
    """Write every row of the scope tests into ``store``."""
    for kind, frame in (("areas", _areas()), ("lines", _lines()), ("risk_sources", _risk_sources()),
                        ("hazchem_sites", _hazchem_sites()), ("hidden_hazards", _hidden_hazards()),
                        ("resources", _resources()), ("units", _units()),
                        ("protection_targets", _protection_targets()), ("area_results", _area_results())):
        store.upsert(kind, frame, batch=_batch(kind))


def role_book() -> RoleBook:
    """The project's role file (``data/roles.yaml``)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "data" / "roles.yaml").read_text(encoding="utf-8")
    return parse_roles(text, layers=[layer.id for layer in CATALOG])


def principal(role: str, *scope: str, name: str = "tester") -> Principal:
    """A principal of ``role`` (from the role file) scoped to ``scope`` (empty: everywhere)."""
    r = role_book().role(role)
    return Principal(name, name, r.name, r.permissions, tuple(scope), r.layers, r.scoped_layers)
