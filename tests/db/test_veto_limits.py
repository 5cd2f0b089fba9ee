"""The site veto fails closed on both stores: what a hostile planner sends is a 4xx naming
the problem or OUTSIDE_COVERAGE, never a PASS on one store and a VETO (or a 500) on the other.

Each store holds the real province polygons (``data/reference``) and one gas station, and
serves the Flask app; every request is sent to both and the answers compared.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import pytest
import shapely
from flask.testing import FlaskClient
from shapely.geometry import Point, box, mapping

from geo.capabilities.veto import evaluate_parcels, read_rule_set
from geo.files.reference import read_reference
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app
from webmap.settings import Settings

SETTINGS = Settings()
RULES = read_rule_set(SETTINGS.paths.rules_path)
STATION = Point(116.6, 40.3)  # a grade-2 gas station in Beijing (Shunyi)
HEBEI_WEST = (113.458702, 36.707447)  # Hebei's westmost vertex: Shanxi lies beyond it
BEIJING_WEST = (115.413811, 39.957645)  # Beijing's westmost vertex, on the border with Hebei


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="limits.geojson", sha256="2" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _fill(store: Store) -> Store:
    areas = read_reference("areas", SETTINGS.paths.reference_dir)
    store.upsert("areas", areas[areas["area_type"].isin(["province", "zone"])].reset_index(drop=True),
                 batch=_batch("areas"))
    store.upsert("hazchem_sites", gpd.GeoDataFrame(
        {"key": ["GS1"], "name": ["加油站"], "site_type": ["gas_station"], "gas_station_grade": [2],
         "synthetic": [True]}, geometry=[STATION], crs="EPSG:4326"), batch=_batch("hazchem_sites"))
    return store


@pytest.fixture(scope="module")
def clients(make_pg_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[dict[str, FlaskClient]]:
    """A Flask test client on each store (PostGIS and GeoPackage), the same data in both."""
    from geo.stores.geopackage import GeoPackageStore
    from geo.stores.postgis import PostGISStore

    folder = tmp_path_factory.mktemp("limits")
    stores: dict[str, Store] = {"postgis": PostGISStore(make_pg_database()),
                                "geopackage": GeoPackageStore(folder / "limits.gpkg")}
    out = {}
    for kind, store in stores.items():
        store.init_schema()
        _fill(store)
        out[kind] = create_app(Settings(gpkg_path=folder / "limits.gpkg"), store=store).test_client()
    yield out
    for store in stores.values():
        store.close()


def _post_both(clients: dict[str, FlaskClient], body: Any) -> dict[str, Any]:
    """The answer of each store, as (status, JSON); raises if the two differ in status."""
    data = body if isinstance(body, str) else json.dumps(body)
    got = {kind: c.post("/api/v1/veto", data=data, content_type="application/json") for kind, c in clients.items()}
    statuses = {kind: r.status_code for kind, r in got.items()}
    assert len(set(statuses.values())) == 1, statuses
    return {kind: (r.status_code, r.get_json()) for kind, r in got.items()}


def _ring(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


@pytest.mark.parametrize("ring", [_ring(-180, -90, 180, 90), _ring(-100, 0, 179, 60)],
                         ids=["the-world", "a-hemisphere"])
def test_region_sized_sites_are_422_on_both_stores(clients: dict[str, FlaskClient], ring: Any) -> None:
    answers = _post_both(clients, {"geometry": {"type": "Polygon", "coordinates": [ring]}, "land_use": "school"})
    for status, body in answers.values():
        assert status == 422 and body["limit"] == "extent" and body["max"] == 20_000
        assert "site extent" in body["error"] and "20,000 m" in body["error"]


@pytest.mark.parametrize(("geometry", "problem"), [
    ({"type": "Nope", "coordinates": [116.4, 40.0]}, "unknown geometry type 'Nope'"),
    ({"type": "", "coordinates": [116.4, 40.0]}, "unknown geometry type ''"),
    ({"type": "GeometryCollection", "coordinates": [116.4, 40.0]}, "GeometryCollection is not a site"),
    ({"type": "Point", "coordinates": ["x", "y"]}, "a position is 2 or 3 numbers"),
])
def test_unknown_and_malformed_geometries_are_422(clients: dict[str, FlaskClient], geometry: Any,
                                                  problem: str) -> None:
    for status, body in _post_both(clients, {"geometry": geometry, "land_use": "school"}).values():
        assert status == 422 and problem in body["error"]


def test_json_nested_50000_deep_is_400(clients: dict[str, FlaskClient]) -> None:
    deep = '{"geometry": ' + "[" * 50_000 + "]" * 50_000 + ', "land_use": "school"}'
    for status, body in _post_both(clients, deep).values():
        assert status == 400 and body["status"] == 400


def _box_around(xy: tuple[float, float], half: float = 0.01) -> dict[str, Any]:
    return mapping(box(xy[0] - half, xy[1] - half, xy[0] + half, xy[1] + half))


def test_a_site_reaching_beyond_the_coverage_never_passes(clients: dict[str, FlaskClient]) -> None:
    """Half in Hebei, half in Shanxi: no verdict on either store (it touched Hebei, so it passed)."""
    for status, body in _post_both(clients, {"geometry": _box_around(HEBEI_WEST), "land_use": "school"}).values():
        assert status == 200 and body["verdict"] == "OUTSIDE_COVERAGE"
        assert any("outside" in note for note in body["notes"])


def test_a_site_across_an_inner_border_is_covered(clients: dict[str, FlaskClient]) -> None:
    """Half in Beijing, half in Hebei: covered by the two together, so it gets a verdict."""
    answers = _post_both(clients, {"geometry": _box_around(BEIJING_WEST), "land_use": "school"})
    assert {body["verdict"] for _, body in answers.values()} == {"PASS"}


def test_a_large_site_gets_the_same_verdict_on_both(clients: dict[str, FlaskClient]) -> None:
    """A 17 km-wide site holding the gas station: VETO on both, the station inside (0 m)."""
    site = mapping(box(STATION.x - 0.1, STATION.y - 0.01, STATION.x + 0.1, STATION.y + 0.01))
    answers = _post_both(clients, {"geometry": site, "land_use": "school"})
    assert {body["verdict"] for _, body in answers.values()} == {"VETO"}
    distances = {kind: body["rules"][0]["hits"][0]["distance_m"] for kind, (_, body) in answers.items()}
    assert distances == {"postgis": 0.0, "geopackage": 0.0}


def test_batch_gives_an_error_row_per_parcel_beyond_a_limit(store: Store) -> None:
    _fill(store)
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["near", "huge", "straddling", "ok"], "name": [None] * 4,
         "land_use": ["school"] * 4},
        geometry=[Point(STATION.x + 0.0003, STATION.y), box(100, 20, 130, 50), shapely.geometry.shape(
            _box_around(HEBEI_WEST)), Point(116.0, 40.5)], crs="EPSG:4326")
    result = evaluate_parcels(store, RULES, parcels)
    got = {p.parcel_id: (p.verdict.verdict if p.verdict else "ERROR", p.error) for p in result.parcels}
    assert got["near"] == ("VETO", None) and got["ok"] == ("PASS", None)
    assert got["straddling"] == ("OUTSIDE_COVERAGE", None)
    assert got["huge"][0] == "ERROR" and "site extent" in got["huge"][1] and "20,000 m" in got["huge"][1]
    assert result.counts() == {"VETO": 1, "PASS": 1, "OUTSIDE_COVERAGE": 1, "ERROR": 1}
