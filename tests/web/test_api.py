"""The Flask app through its test client, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pytest
from flask.testing import FlaskClient
from shapely.geometry import Point

from geo import coords, tiles
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.settings import Settings


def test_health_reports_store_and_versions(client: FlaskClient) -> None:
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok"
    kind = client.application.extensions["riskmap.context"].store.kind
    assert body["store"]["kind"] == kind
    # the store's own libraries: GDAL's for the file, PostGIS's in the database (the app's GDAL is not told there)
    own = {"geopackage": {"gdal", "sqlite"}, "postgis": {"postgresql", "postgis"}}[kind]
    assert {"geos", "proj", "python"} | own <= set(body["versions"])


def test_layers_are_listed_with_tile_urls(client: FlaskClient) -> None:
    layers = client.get("/api/v1/layers").get_json()["layers"]
    ids = [layer["id"] for layer in layers]
    assert "risk_sources" in ids and "districts" in ids
    risk = layers[ids.index("risk_sources")]
    assert risk["tile_url"] == "/tiles/risk_sources/{z}/{x}/{y}.pbf"
    assert risk["style"]["colors"]["red"] == "#d7191c"


def test_features_as_geojson(client: FlaskClient) -> None:
    body = client.get("/api/v1/layers/risk_sources/features?bbox=116.39,39.89,116.405,39.905").get_json()
    assert [f["properties"]["key"] for f in body["features"]] == ["C1|R1"]
    assert body["features"][0]["properties"]["name"] == "液氨储罐"


def test_low_zoom_tiles_carry_clusters_with_counts_per_level(client: FlaskClient) -> None:
    clusters = {}
    for t in mercantile.tiles(116.39, 39.89, 116.42, 39.92, zooms=10):
        tile = mapbox_vector_tile.decode(client.get(f"/tiles/risk_sources/{t.z}/{t.x}/{t.y}.pbf").data)
        clusters |= {f["properties"]["key"]: f for f in tile.get("risk_sources", {"features": []})["features"]}
    features = list(clusters.values())
    assert sum(f["properties"]["count"] for f in features) == 2
    assert sum(f["properties"]["n_red"] for f in features) == 1
    assert all(f["properties"]["key"].startswith("cluster:") for f in features)


def test_tiles_have_etag_and_revalidate(client: FlaskClient) -> None:
    r = client.get("/tiles/risk_sources/13/6744/3104.pbf")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.mapbox-vector-tile"
    assert "max-age" in r.headers["Cache-Control"]
    features = mapbox_vector_tile.decode(r.data)["risk_sources"]["features"]
    assert {f["properties"]["level"] for f in features} == {"red", "blue"}
    again = client.get("/tiles/risk_sources/13/6744/3104.pbf", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("url", "status", "fragment"),
    [
        ("/tiles/risk_sources/25/0/0.pbf", 400, "'25' outside 0..24"),
        ("/tiles/risk_sources/3/8/0.pbf", 400, "0..7"),
        ("/tiles/risk_sources/3/-1/0.pbf", 400, "0..7"),
        ("/tiles/nope/3/1/1.pbf", 404, "nope"),
        ("/api/v1/layers/nope/features", 404, "nope"),
        ("/api/v1/layers/risk_sources/features?bbox=1,2,3", 400, "bbox"),
        ("/api/v1/layers/risk_sources/features?limit=abc", 400, "abc"),
        ("/api/v1/nothing", 404, ""),
    ],
)
def test_bad_input_is_a_named_4xx(client: FlaskClient, url: str, status: int, fragment: str) -> None:
    r = client.get(url)
    assert r.status_code == status
    assert fragment in r.get_json()["error"]


def test_map_page_is_chinese_by_default_with_synthetic_badge(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "北京安全风险一张图" in html
    assert 'id="synthetic-badge"' in html
    assert "cdn" not in html.lower() and "unpkg" not in html
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Beijing work-safety risk map" in english


def test_a_load_invalidates_cached_tiles(client: FlaskClient) -> None:
    url = "/tiles/risk_sources/13/6744/3104.pbf"
    before = client.get(url)
    store = client.application.extensions["riskmap.context"].store
    more = gpd.GeoDataFrame(
        {"key": ["C2|R1"], "credit_code": ["C2"], "source_code": ["R1"], "name": ["新增储罐"], "level": ["orange"]},
        geometry=[Point(116.401, 39.901)], crs="EPSG:4326")
    batch = LoadBatch(kind="risk_sources", file_name="more.csv", sha256="3" * 64,
                      loaded_at=datetime(2026, 1, 2, tzinfo=UTC))
    store.upsert("risk_sources", more, batch=batch)
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    names = {f["properties"]["name"] for f in mapbox_vector_tile.decode(after.data)["risk_sources"]["features"]}
    assert "新增储罐" in names


def test_tiles_for_a_gcj02_basemap_are_shifted(client: FlaskClient) -> None:
    lon, lat = coords.wgs84_to_gcj02(116.40, 39.90)
    t = mercantile.tile(float(lon), float(lat), 16)
    plain = client.get(f"/tiles/risk_sources/16/{t.x}/{t.y}.pbf")
    shifted = client.get(f"/tiles/risk_sources/16/{t.x}/{t.y}.pbf?datum=gcj02")
    assert shifted.status_code == 200 and shifted.headers["ETag"] != plain.headers["ETag"]
    opts = {"y_coord_down": True}
    feature = next(f for f in mapbox_vector_tile.decode(shifted.data, default_options=opts)["risk_sources"]["features"]
                   if f["properties"]["key"] == "C1|R1")
    expected = tiles.to_tile_coords(np.array([Point(float(lon), float(lat))]), 16, t.x, t.y, extent=4096)[0]
    assert feature["geometry"]["coordinates"] == [int(expected.x), int(expected.y)]
    assert client.get("/tiles/risk_sources/16/0/0.pbf?datum=bd09").status_code == 400


def test_map_page_tells_the_browser_the_basemap_datum(tmp_path: Path) -> None:
    settings = Settings(gpkg_path=tmp_path / "g.gpkg", basemap_url="http://127.0.0.1:9/{z}/{x}/{y}.png",
                        basemap_datum="gcj02")
    html = create_app(settings).test_client().get("/").get_data(as_text=True)
    assert '"datum": "gcj02"' in html


def test_heat_map_without_the_beijing_boundary_is_a_409_naming_what_to_load(client: FlaskClient) -> None:
    for path in ("/api/v1/heatmap", "/api/v1/heatmap.png"):
        response = client.get(path)
        assert response.status_code == 409
        assert "riskmap reference load" in response.get_json()["error"]
