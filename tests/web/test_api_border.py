"""The border API on a small store of each kind: two square provinces sharing 117 °E."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pyproj import Geod
from shapely.geometry import MultiLineString, MultiPolygon, Point, box
from web_support import STORE_KINDS, OpenLoadedStore

from geo.stores import open_store
from geo.stores.postgis import VERSION_TTL_S
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app

GEOD = Geod(ellps="WGS84")


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="web.csv", sha256="3" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def at(lat: float, metres_east: float) -> Point:
    lon, la, _ = GEOD.fwd(117.0, lat, 90.0 if metres_east >= 0 else 270.0, abs(metres_east))
    return Point(lon, la)


def _load_border(store: Store) -> None:
    """Beijing and Hebei sharing 117 °E, Tongzhou, the border line and a pipeline across it, a red
    source 5 km inside Beijing and an orange one 3 km inside Hebei, a fire station on each side."""
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110000", "130000", "110112"], "area_code": ["110000", "130000", "110112"],
         "name": ["北京市", "河北省", "通州区"], "area_type": ["province", "province", "district"]},
        geometry=[MultiPolygon([box(116, 39, 117, 40)]), MultiPolygon([box(117, 39, 118, 40)]),
                  MultiPolygon([box(116, 39, 117, 39.5)])], crs="EPSG:4326"), batch=_batch("areas"))
    store.upsert("lines", gpd.GeoDataFrame(
        {"key": ["border:110000-130000", "P1"], "line_code": ["border:110000-130000", "P1"],
         "name": ["北京—河北", "输气管道"], "line_type": ["border", "gas_pipeline"], "synthetic": [None, True]},
        geometry=[MultiLineString([[(117, 39), (117, 40)]]), MultiLineString([[(116.5, 39.5), (117.5, 39.5)]])],
        crs="EPSG:4326"), batch=_batch("lines"))
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": ["C|1", "C|2"], "credit_code": ["C", "C"], "source_code": ["1", "2"], "name": ["液氨储罐", "油库"],
         "level": ["red", "orange"], "province_code": ["110000", "130000"], "county_code": ["110112", None],
         "synthetic": [True, True]},
        geometry=[at(39.25, -5000), at(39.25, 3000)], crs="EPSG:4326"), batch=_batch("risk_sources"))
    store.upsert("resources", gpd.GeoDataFrame(
        {"key": ["F1", "F2"], "resource_code": ["F1", "F2"], "name": ["通州消防站", "燕郊消防站"],
         "resource_type": ["fire_station", "fire_station"], "province_code": ["110000", "130000"]},
        geometry=[at(39.3, -4000), at(39.3, 2000)], crs="EPSG:4326"), batch=_batch("resources"))


@pytest.fixture(params=STORE_KINDS)
def client(request: pytest.FixtureRequest, tmp_path: Path, open_loaded_store: OpenLoadedStore
           ) -> Iterator[FlaskClient]:
    with open_loaded_store(request.param, tmp_path, _load_border) as (store, settings):
        yield create_app(settings, store=store).test_client()


def test_border_zone(client: FlaskClient) -> None:
    body = client.get("/api/v1/border?pair=beijing-hebei&km=10").get_json()
    sides = {s["side"]: s for s in body["by_side"]}
    assert sides["110000"]["risk_red"] == 1 and sides["130000"]["risk_orange"] == 1
    assert body["synthetic"] is True and body["border_length_m"] == pytest.approx(111_035, abs=30)
    body = client.get("/api/v1/border?pair=beijing-hebei&km=4").get_json()
    assert {s["side"]: s["risk_sources"] for s in body["by_side"]} == {"110000": 0, "130000": 1, "other": 0}


@pytest.mark.parametrize(("query", "named"), [
    ("pair=beijing-shanghai", "beijing-shanghai"), ("km=-3", "'km'"), ("km=abc", "'km'"), ("km=999", "'km'"),
    ("format=pdf", "pdf"),
])
def test_bad_parameters_are_400(client: FlaskClient, query: str, named: str) -> None:
    resp = client.get(f"/api/v1/border?{query}")
    assert resp.status_code == 400
    assert named in resp.get_json()["error"]


def test_missing_border_is_404(client: FlaskClient) -> None:
    resp = client.get("/api/v1/border?pair=tianjin-hebei")
    assert resp.status_code == 404 and "tianjin-hebei" in resp.get_json()["error"]


def test_exports(client: FlaskClient) -> None:
    csv = client.get("/api/v1/border?pair=beijing-hebei&format=csv")
    assert csv.status_code == 200 and "液氨储罐" in csv.data.decode("utf-8-sig")
    xlsx = client.get("/api/v1/border?pair=beijing-hebei&format=xlsx")
    assert load_workbook(io.BytesIO(xlsx.data)).sheetnames == ["features", "by side", "county pairs", "说明 about"]
    gj = client.get("/api/v1/border?pair=beijing-hebei&format=geojson").get_json()
    assert len(gj["features"]) == 2


def test_exports_as_geopackage(client: FlaskClient, tmp_path: Path) -> None:
    r = client.get("/api/v1/border?pair=beijing-hebei&format=gpkg")
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    assert r.headers["Content-Disposition"] == 'attachment; filename="border-beijing-hebei-10km.gpkg"'
    path = tmp_path / "zone.gpkg"
    path.write_bytes(r.data)
    zone = pyogrio.read_dataframe(path, layer="border_zone").set_index("key")
    assert zone.crs.to_epsg() == 4326 and len(zone) == 2
    assert zone.loc["C|1", "name"] == "液氨储罐" and zone.loc["C|1", "side"] == "110000"
    assert zone.loc["C|1", "distance_m"] == pytest.approx(5000, abs=0.5)
    assert zone.loc["C|1", "geometry"].equals_exact(at(39.25, -5000), 1e-9)
    meta = pyogrio.read_info(path, layer="border_zone")["layer_metadata"]
    assert meta["crs"] == "EPSG:4326" and meta["km"] == "10.0" and '"name": "beijing-hebei"' in meta["pair"]
    path = tmp_path / "crossings.gpkg"
    path.write_bytes(client.get("/api/v1/border/crossings?format=gpkg").data)
    lines = pyogrio.read_dataframe(path, layer="border_crossings")
    assert lines.crs.to_epsg() == 4326 and lines["line_code"].tolist() == ["P1"]
    assert lines.geometry.iloc[0].geom_type == "MultiLineString" and lines["crossings"].iloc[0].startswith("beijing")


def test_crossings(client: FlaskClient) -> None:
    body = client.get("/api/v1/border/crossings?corridor_m=500").get_json()
    assert body["count"] == 1 and body["lines"][0]["crossings"][0]["points"] == [[117.0, 39.5]]
    assert body["lines"][0]["province_names"]["110000"] == "北京市"
    assert client.get("/api/v1/border/crossings?corridor_m=0").status_code == 400
    gj = client.get("/api/v1/border/crossings?format=geojson").get_json()
    assert gj["features"][0]["geometry"]["type"] == "MultiLineString"


def test_profile(client: FlaskClient) -> None:
    body = client.get("/api/v1/border/profile?pair=beijing-hebei&segment_km=5&km=10").get_json()
    assert len(body["segments"]["features"]) == 23
    assert body["hottest"][0]["score"] == pytest.approx(130)  # both sources near the same segments
    assert client.get("/api/v1/border/profile?segment_km=0").status_code == 400
    csv = client.get("/api/v1/border/profile?format=csv").data.decode("utf-8-sig")
    assert csv.startswith("index,start_km")


def test_mutual_aid_and_pilot(client: FlaskClient) -> None:
    p = at(39.3, -1000)
    body = client.get(f"/api/v1/mutual-aid?lon={p.x}&lat={p.y}&k=2&types=fire_station").get_json()
    assert body["incident"]["province_code"] == "110000"
    by_key = {r["key"]: r for r in body["resources"]}
    assert by_key["F2"]["across_border"] and not by_key["F1"]["across_border"]
    assert by_key["F1"]["distance_m"] == pytest.approx(3000, abs=0.5)
    assert client.get("/api/v1/mutual-aid?lon=116.5").status_code == 400
    assert client.get(f"/api/v1/mutual-aid?lon={p.x}&lat={p.y}&types=helicopter").status_code == 400
    pilot = client.get("/api/v1/border/pilot").get_json()
    assert pilot["area_codes"] == ["110112", "120114", "131000"] and pilot["bbox"] == [116.0, 39.0, 117.0, 39.5]


def test_border_page(client: FlaskClient) -> None:
    zh = client.get("/border").data.decode()
    assert "跨界" in zh and "vendor/leaflet" in zh and "chart.umd.js" in zh
    assert "cross-border risk analysis" in client.get("/border?lang=en").data.decode()


def test_all_pairs_summary(client: FlaskClient) -> None:
    body = client.get("/api/v1/border/all?km=10").get_json()
    assert [p["pair"]["name"] for p in body["pairs"]] == ["beijing-hebei"]  # the only border in this store
    sides = {s["side"]: s["risk_sources"] for s in body["pairs"][0]["by_side"]}
    assert sides == {"110000": 1, "130000": 1, "other": 0}
    assert body["pairs"][0]["hottest"]["score"] == pytest.approx(130) and body["crossing_lines"] == 1
    assert body["pairs"][0]["crossing_lines"] == 1 and body["synthetic"] is True
    # the per-pair answers agree with the all-pairs pass (which filled the cache)
    zone = client.get("/api/v1/border?pair=beijing-hebei&km=10").get_json()
    assert zone["by_side"] == body["pairs"][0]["by_side"]
    assert client.get("/api/v1/border/all?km=0").status_code == 400
    assert client.get("/api/v1/border/all?corridor_m=x").status_code == 400


def test_answers_follow_the_data(client: FlaskClient, tmp_path: Path) -> None:
    """The cache is keyed by data version: a new risk source shows in the next answer."""
    first = client.get("/api/v1/border?pair=beijing-hebei&km=10").get_json()
    settings = client.application.extensions["riskmap.settings"]  # another process's store, as `riskmap load`
    store = open_store(database_url=settings.database_url, gpkg_path=settings.gpkg_path)
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": ["C|3"], "credit_code": ["C"], "source_code": ["3"], "name": ["新增储罐"], "level": ["red"],
         "province_code": ["130000"], "synthetic": [True]}, geometry=[at(39.6, 2000)], crs="EPSG:4326"),
        batch=_batch("risk_sources"))
    store.close()
    if settings.database_url:
        time.sleep(VERSION_TTL_S)  # PostGIS remembers a layer's version that long; a load elsewhere shows after
    second = client.get("/api/v1/border?pair=beijing-hebei&km=10").get_json()
    count = {s["side"]: s["risk_sources"] for s in first["by_side"]}["130000"]
    assert {s["side"]: s["risk_sources"] for s in second["by_side"]}["130000"] == count + 1


def test_pilot_view_page(client: FlaskClient) -> None:
    page = client.get("/border?view=pilot").data.decode()
    assert '"view": "pilot"' in page and 'id="aid-point"' in page and 'id="overview"' in page
