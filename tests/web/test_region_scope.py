"""Region scope through the API, on both stores: a 朝阳区 (110105) officer never receives a
海淀区, 河北 or code-less row through features, tiles (decoded), clusters, search, the
incident report, nearest resources, statistics, area explanations, the heat map, border
tables, the veto audit or any export; an unscoped principal still sees everything; two
scopes never get each other's cached tile.

The principal is chosen per request by a test header (``X-Test-Principal``), which the app
fixture turns into that principal's API token — what
sign-in provides in the app.  Rows and tags: :mod:`scoped_rows`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import mercantile
import numpy as np
import openpyxl
import pyogrio
import pytest
from auth_support import token_for
from flask import Flask, g
from flask.testing import FlaskClient
from pyproj import Transformer
from scoped_rows import AREAS, GEOD, TAGS, load_scoped_rows, near, principal

from geo import border as bd
from geo.accounts import Principal
from geo.capabilities import border as bq
from geo.capabilities.area_risk import compute_heatmap
from geo.scope import Scope
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import Store
from layers.catalog import get_layer
from webmap import context
from webmap.app import create_app
from webmap.settings import Settings

PRINCIPALS: dict[str, Principal] = {
    "officer": principal("district_officer", "110105"),
    "officer_hd": principal("district_officer", "110108"),
    "officer_mixed": principal("district_officer", "110105", "131000"),
    "analyst": principal("analyst", "110105"),
    "analyst_hebei": principal("analyst", "130000"),
    "commander": principal("commander", "110105"),
    "planner": principal("planner", "110105"),
    "planner_hd": principal("planner", "110108"),
    "admin": principal("admin"),
}
OFFICER_LAYERS = sorted(PRINCIPALS["officer"].scoped_layers)


@pytest.fixture(scope="module", params=["postgis", "geopackage"])
def app(request: pytest.FixtureRequest, make_pg_database: Callable[..., str],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on each store holding :mod:`scoped_rows` (the tests only read it)."""
    tmp = tmp_path_factory.mktemp("scope")
    store: Store = PostGISStore(make_pg_database()) if request.param == "postgis" else GeoPackageStore(
        tmp / "scope.gpkg")
    store.init_schema()
    load_scoped_rows(store)
    app = create_app(Settings(gpkg_path=tmp / "scope.gpkg"), store=store)
    # Each test principal is a real user with an API token of its role and scope: the test
    # header X-Test-Principal names which one's token the request carries (signed in as the
    # app signs anyone in, through webmap.auth).
    tokens = {who: token_for(app, p.role, p.scope, user=f"t_{who}") for who, p in PRINCIPALS.items()}
    inner = app.wsgi_app

    def with_token(environ: dict[str, Any], start_response: Any) -> Any:
        who = environ.pop("HTTP_X_TEST_PRINCIPAL", "")
        if who:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {tokens[who]}"
        return inner(environ, start_response)

    app.wsgi_app = with_token  # type: ignore[method-assign]
    yield app
    store.close()


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get(client: FlaskClient, who: str | None, url: str, **headers: str) -> Any:
    """GET ``url`` as the principal ``who`` (None: nobody signed in, unrestricted); 200 expected."""
    r = client.get(url, headers={**({"X-Test-Principal": who} if who else {}), **headers})
    assert r.status_code == 200, (url, r.status_code, r.data[:300])
    return r


def tags_in(text: str) -> set[str]:
    """The area tags of the enterprise-level rows named in ``text``."""
    return {t for t in TAGS if f"{t}-" in text}


def store_of(app: Flask) -> Store:
    store: Store = app.extensions["riskmap.context"].store
    return store


def scope_of(who: str) -> Scope:
    with Flask(__name__).test_request_context():
        g.principal = PRINCIPALS[who]
        found = context.scope()
    assert found is not None
    return found


# -- features and tiles --------------------------------------------------------------------


@pytest.mark.parametrize("layer_id", OFFICER_LAYERS)
def test_features_of_every_scoped_layer_are_in_scope(client: FlaskClient, layer_id: str) -> None:
    scoped = get(client, "officer", f"/api/v1/layers/{layer_id}/features").get_json()["features"]
    everyone = get(client, None, f"/api/v1/layers/{layer_id}/features").get_json()["features"]
    assert scoped and {f["properties"]["key"][:3] for f in scoped} == {"CY-"}
    assert tags_in(json.dumps(everyone)) == set(TAGS)
    assert len(everyone) == 4 * len(scoped)


def _tile_features(client: FlaskClient, who: str | None, layer_id: str, z: int) -> list[dict[str, Any]]:
    """Every feature of the tiles of ``layer_id`` at zoom ``z`` that hold a row of the fixture
    (clusters once each: a tile also draws its neighbours' cells)."""
    found: dict[str, dict[str, Any]] = {}
    tiles = {mercantile.tile(*near(tag, dx, dy).coords[0], z) for tag in TAGS
             for dx in (-1500.0, -1000.0, -750.0, -500.0, -250.0, 0.0, 40.0) for dy in (0.0, 300.0, 600.0, 900.0,
                                                                                       -200.0, -400.0, -600.0)}
    for t in tiles:
        data = get(client, who, f"/tiles/{layer_id}/{t.z}/{t.x}/{t.y}.pbf").data
        for f in mapbox_vector_tile.decode(data).get(layer_id, {"features": []})["features"]:
            found[f"{t}:{f['properties']['key']}" if z >= 13 else f["properties"]["key"]] = f
    return list(found.values())


@pytest.mark.parametrize("layer_id", OFFICER_LAYERS)
def test_tiles_of_every_scoped_layer_decode_to_rows_in_scope(client: FlaskClient, layer_id: str) -> None:
    scoped = _tile_features(client, "officer", layer_id, 14)
    everyone = _tile_features(client, "admin", layer_id, 14)
    assert {f["properties"]["key"][:3] for f in scoped} == {"CY-"}
    assert tags_in(json.dumps([f["properties"] for f in everyone])) == set(TAGS)


@pytest.mark.parametrize("z", [8, 11])
def test_cluster_counts_are_counted_in_scope(client: FlaskClient, z: int) -> None:
    def counted(who: str | None) -> tuple[int, int]:
        features = _tile_features(client, who, "risk_sources", z)
        assert all(f["properties"]["key"].startswith("cluster:") for f in features)
        return (sum(f["properties"]["count"] for f in features), sum(f["properties"]["n_red"] for f in features))

    assert counted("officer") == (2, 1)  # 朝阳's red and blue source
    assert counted("analyst_hebei") == (2, 1)
    assert counted("officer_mixed") == (4, 2)  # 朝阳 and 廊坊
    assert counted(None) == counted("admin") == (8, 4)  # every area and the row without codes


def test_two_scopes_never_get_each_others_tile(client: FlaskClient) -> None:
    lon, lat = AREAS["CY"][3]
    t = mercantile.tile(lon, lat, 14)
    url = f"/tiles/risk_sources/14/{t.x}/{t.y}.pbf"
    t_hd = mercantile.tile(*AREAS["HD"][3], 14)
    url_hd = f"/tiles/risk_sources/14/{t_hd.x}/{t_hd.y}.pbf"
    cy = get(client, "officer", url)
    assert {f["properties"]["key"][:3] for f in mapbox_vector_tile.decode(cy.data)["risk_sources"]["features"]} \
        == {"CY-"}
    hd = get(client, "officer_hd", url)  # the same tile, cached for 朝阳 a moment ago
    assert mapbox_vector_tile.decode(hd.data) == {}
    assert cy.headers["ETag"] != hd.headers["ETag"]
    assert client.get(url, headers={"X-Test-Principal": "officer_hd", "If-None-Match": cy.headers["ETag"]}) \
        .status_code == 200
    assert client.get(url, headers={"X-Test-Principal": "officer", "If-None-Match": cy.headers["ETag"]}) \
        .status_code == 304
    assert cy.headers["Cache-Control"].startswith("private")
    own = get(client, "officer_hd", url_hd)
    assert {f["properties"]["key"][:3] for f in mapbox_vector_tile.decode(own.data)["risk_sources"]["features"]} \
        == {"HD-"}
    everyone = get(client, None, url)
    # every signed-in answer is private (webmap.security); the unscoped tile has its own ETag
    assert everyone.headers["Cache-Control"].startswith("private") and everyone.headers["ETag"] != cy.headers["ETag"]
    assert tags_in(json.dumps(mapbox_vector_tile.decode(everyone.data))) == {"CY"}
    # a layer the scope does not filter is one tile for everyone
    districts = f"/tiles/districts/14/{t.x}/{t.y}.pbf"
    assert get(client, "officer", districts).headers["ETag"] == get(client, None, districts).headers["ETag"]


# -- answers -------------------------------------------------------------------------------


def test_search_finds_only_rows_in_scope(client: FlaskClient) -> None:
    scoped = get(client, "officer", "/api/v1/search?q=化工&limit=50").get_json()["results"]
    everyone = get(client, None, "/api/v1/search?q=化工&limit=50").get_json()["results"]
    assert tags_in(json.dumps(scoped, ensure_ascii=False)) == {"CY"}
    assert {r["kind"] for r in scoped} == {"units", "hazchem_sites", "risk_sources"}
    assert tags_in(json.dumps(everyone, ensure_ascii=False)) == set(TAGS)


def test_incident_report_lists_only_hazards_in_scope(client: FlaskClient) -> None:
    lon, lat = AREAS["CY"][3]
    url = f"/api/v1/incident?lon={lon}&lat={lat}&radius=50000&k=5"
    scoped = get(client, "officer", url).get_json()
    assert tags_in(json.dumps(scoped, ensure_ascii=False)) == {"CY"}
    assert scoped["risk_sources"]["count"] == 2 and scoped["hazchem_sites"]["count"] == 3
    assert scoped["protection_targets"]["count"] == 4  # public: every target
    assert {r["key"] for r in scoped["resources"]["fire_station"]} == {"FScy", "FShd", "FShb", "FSnc"}
    assert [r["key"] for r in scoped["resources"]["team"]] == ["CY-team"]
    everyone = get(client, None, url).get_json()
    assert everyone["risk_sources"]["count"] == 8 and tags_in(json.dumps(everyone)) == set(TAGS)


def test_nearest_resources_scoped_by_role(client: FlaskClient) -> None:
    lon, lat = AREAS["CY"][3]
    url = f"/api/v1/nearest?lon={lon}&lat={lat}&k=5&types=team,expert,fire_station"
    officer = get(client, "officer", url).get_json()["resources"]
    assert [r["key"] for r in officer["team"]] == ["CY-team"] and [r["key"] for r in officer["expert"]] == ["CY-expert"]
    assert len(officer["fire_station"]) == 4
    commander = get(client, "commander", url).get_json()["resources"]  # resources across borders stay visible
    assert {r["key"][:3] for r in commander["team"]} == {"CY-", "HD-", "HB-", "NC-"}


def test_coverage_counts_the_resources_the_scope_leaves(client: FlaskClient) -> None:
    def stations(who: str | None, types: str) -> int:
        summary: dict[str, Any] = get(client, who, f"/api/v1/coverage?minutes=5&types={types}").get_json()["summary"]
        return int(summary["stations"])

    assert stations("officer", "team") == 1 and stations(None, "team") == 4
    assert stations("officer", "fire_station") == stations(None, "fire_station") == 4


def test_statistics_count_only_rows_in_scope(client: FlaskClient) -> None:
    scoped = get(client, "officer", "/api/v1/stats/districts").get_json()["districts"]
    assert [d["area_code"] for d in scoped] == ["110105"]
    assert scoped[0]["risk_sources"] == {"red": 1, "orange": 0, "yellow": 0, "blue": 1}
    assert scoped[0]["open_hidden_hazards"] == 1
    assert scoped[0]["resources"]["team"] == 1 and scoped[0]["resources"]["fire_station"] == 2
    everyone = {d["area_code"]: d for d in get(client, None, "/api/v1/stats/districts").get_json()["districts"]}
    assert set(everyone) == {"110105", "110108"}
    assert everyone["110105"]["risk_sources"]["red"] == 2  # the row without codes lies in 朝阳's box
    assert everyone["110108"]["risk_sources"]["red"] == 1


def test_area_explanations_list_only_sources_in_scope(client: FlaskClient) -> None:
    def explanation(who: str | None, unit: str, code: str, method: str) -> dict[str, Any]:
        body: dict[str, Any] = get(client, who, f"/api/v1/areas/{unit}/{code}?method={method}").get_json()
        return body["explanation"]

    own = explanation("officer", "district", "110105", "highest")
    assert [s["key"] for s in own["top_sources"]] == ["CY-unit|R0"] and own["top_sources_withheld"] == 1
    other = explanation("officer", "district", "110108", "highest")
    assert other["top_sources"] == [] and other["top_sources_withheld"] == 1 and other["level"] == "red"
    cell = explanation("officer", "grid", "1000m:1:1", "density")
    assert [s["key"] for s in cell["top_sources"]] == ["CY-unit|R0"] and cell["top_sources_withheld"] == 2
    everyone = explanation(None, "grid", "1000m:1:1", "density")
    assert len(everyone["top_sources"]) == 3 and "top_sources_withheld" not in everyone


def test_heat_map_is_drawn_from_sources_in_scope(app: Flask, client: FlaskClient) -> None:
    scoped = get(client, "officer", "/api/v1/heatmap.png")
    everyone = get(client, None, "/api/v1/heatmap.png")
    assert scoped.data != everyone.data and scoped.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert scoped.headers["Cache-Control"] == "private, no-cache"
    config = app.extensions["riskmap.context"].area_config()
    grid = compute_heatmap(store_of(app), config=config, scope=scope_of("officer"))
    full = compute_heatmap(store_of(app), config=config)
    to_metric = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)

    def weight_at(density: Any, tag: str) -> float:
        x, y = to_metric.transform(*AREAS[tag][3])
        col, row = ~density.transform @ (x, y)
        return float(density.values[int(row), int(col)])

    assert weight_at(grid, "CY") > 0 and weight_at(grid, "HD") == 0.0
    assert weight_at(full, "HD") > 0
    assert float(np.nansum(grid.values)) < float(np.nansum(full.values))


# -- border tables, the veto audit and every export ----------------------------------------


def export_text(data: bytes, fmt: str, tmp_path: Path) -> str:
    """Everything an export file says, as text."""
    if fmt in ("geojson", "csv"):
        return data.decode("utf-8-sig")
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        return " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row)
    path = tmp_path / "export.gpkg"
    path.write_bytes(data)
    return " ".join(pyogrio.read_dataframe(path, layer=name).to_csv() for name, _ in pyogrio.list_layers(path))


FORMATS = ("geojson", "csv", "xlsx", "gpkg")


@pytest.mark.parametrize("fmt", FORMATS)
def test_border_exports_hold_only_rows_in_scope(client: FlaskClient, tmp_path: Path, fmt: str) -> None:
    zone = f"/api/v1/border?pair=beijing-hebei&km=10&format={fmt}"
    assert tags_in(export_text(get(client, "analyst", zone).data, fmt, tmp_path)) == {"CY"}
    assert tags_in(export_text(get(client, "analyst_hebei", zone).data, fmt, tmp_path)) == {"HB"}
    assert tags_in(export_text(get(client, None, zone).data, fmt, tmp_path)) == set(TAGS)
    crossings = f"/api/v1/border/crossings?corridor_m=5000&format={fmt}"
    assert tags_in(export_text(get(client, "analyst", crossings).data, fmt, tmp_path)) <= {"CY"}


def test_border_tables_count_only_rows_in_scope(client: FlaskClient) -> None:
    def sides(who: str | None) -> dict[str, dict[str, Any]]:
        body = get(client, who, "/api/v1/border?pair=beijing-hebei&km=10").get_json()
        return {s["side"]: s for s in body["by_side"]}

    scoped, everyone = sides("analyst"), sides(None)
    assert scoped["110000"]["risk_sources"] == 2 and scoped["110000"]["hidden_hazards_open"] == 1
    assert scoped["130000"]["risk_sources"] == scoped["other"]["risk_sources"] == 0
    assert scoped["130000"]["protection_targets"] == 1  # public: both sides
    assert everyone["110000"]["risk_sources"] == 4 and everyone["130000"]["risk_sources"] == 2
    crossings = get(client, "analyst", "/api/v1/border/crossings?corridor_m=5000").get_json()
    assert tags_in(json.dumps(crossings, ensure_ascii=False)) == {"CY"}
    summary = get(client, "analyst", "/api/v1/border/all?km=10").get_json()
    assert summary["pairs"] and tags_in(json.dumps(summary, ensure_ascii=False)) == set()


def test_border_profile_scores_only_sources_in_scope(app: Flask, client: FlaskClient) -> None:
    profile = get(client, "analyst", "/api/v1/border/profile?pair=beijing-hebei&km=10").get_json()
    store = store_of(app)
    border = store.read("lines", where={"line_type": "border"}).geometry.iloc[0]
    own = store.read("risk_sources", where={"county_code": "110105"})
    expected = bd.border_profile(own, border, segment_km=5.0, km=10.0)
    assert [(f["properties"]["count_red"], f["properties"]["count_blue"]) for f in profile["segments"]["features"]] \
        == [(s.counts["red"], s.counts["blue"]) for s in expected]
    assert sum(s.counts["red"] for s in expected) > 0


def test_mutual_aid_keeps_the_roles_resources(app: Flask, client: FlaskClient) -> None:
    lon, lat = AREAS["CY"][3]
    everyone = get(client, "commander", f"/api/v1/mutual-aid?lon={lon}&lat={lat}&k=5&types=team").get_json()
    assert {r["key"][:3] for r in everyone["resources"]} == {"CY-", "HD-", "HB-"}  # NC: no province
    officer = bq.mutual_aid(store_of(app), lon, lat, k=5, types=["team", "fire_station"], scope=scope_of("officer"))
    assert {r["key"] for r in officer["resources"] if r["resource_type"] == "team"} == {"CY-team"}
    assert {r["key"] for r in officer["resources"] if r["resource_type"] == "fire_station"} == {"FScy", "FShd",
                                                                                                "FShb"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_veto_audit_lists_only_conflicts_in_scope(client: FlaskClient, tmp_path: Path, fmt: str) -> None:
    scoped = export_text(get(client, "officer", f"/api/v1/audit?format={fmt}").data, fmt, tmp_path)
    everyone = export_text(get(client, "admin", f"/api/v1/audit?format={fmt}").data, fmt, tmp_path)
    assert tags_in(scoped) == {"CY"} and "GS-SENSITIVE-50" in scoped
    assert tags_in(everyone) == set(TAGS)


def _site_near_hd_gas_station() -> dict[str, Any]:
    station = near("HD", metres_north=600.0)  # HD-unit|S1, the gas station
    lon, lat, _ = GEOD.fwd(station.x, station.y, 270.0, 40.0)
    return {"type": "Point", "coordinates": [lon, lat]}


def test_a_veto_rests_on_every_hazard_but_names_only_those_in_scope(client: FlaskClient, tmp_path: Path) -> None:
    body = {"geometry": _site_near_hd_gas_station(), "land_use": "school"}
    scoped = client.post("/api/v1/veto", json=body, headers={"X-Test-Principal": "planner"}).get_json()
    own = client.post("/api/v1/veto", json=body, headers={"X-Test-Principal": "planner_hd"}).get_json()
    assert scoped["verdict"] == own["verdict"] == "VETO"  # a scope never turns a VETO into a PASS
    hit = next(h for r in scoped["rules"] for h in r["hits"] if h["layer"] == "hazchem_sites")
    assert hit["withheld"] is True and hit["key"] == "" and hit["name"] is None
    assert hit["distance_m"] == pytest.approx(40.0, abs=0.05)
    assert tags_in(json.dumps(scoped, ensure_ascii=False)) <= {"CY"}
    named = next(h for r in own["rules"] for h in r["hits"] if h["layer"] == "hazchem_sites")
    assert named["name"] == "HD-化工场所1" and named["withheld"] is False
    parcels = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"parcel_id": "p1", "land_use": "school"},
         "geometry": _site_near_hd_gas_station()}]}
    for fmt in FORMATS:
        r = client.post(f"/api/v1/veto/batch?format={fmt}", headers={"X-Test-Principal": "planner"},
                        data={"file": (io.BytesIO(json.dumps(parcels).encode()), "parcels.geojson")})
        assert r.status_code == 200, r.data[:300]
        text = export_text(r.data, fmt, tmp_path)
        assert "VETO" in text and tags_in(text) == set(), fmt


# -- who is scoped -------------------------------------------------------------------------


def test_mixed_and_province_scopes(client: FlaskClient) -> None:
    def keys(who: str) -> set[str]:
        return {f["properties"]["key"][:3]
                for f in get(client, who, "/api/v1/layers/risk_sources/features").get_json()["features"]}

    assert keys("officer_mixed") == {"CY-", "HB-"}
    assert keys("analyst_hebei") == {"HB-"}
    assert keys("admin") == {"CY-", "HD-", "HB-", "NC-"}


def test_unscoped_layers_stay_whole_for_a_scoped_principal(client: FlaskClient) -> None:
    for layer_id in ("districts", "protection_targets", "fire_stations", "borders"):
        scoped = get(client, "officer", f"/api/v1/layers/{layer_id}/features").get_json()
        assert scoped == get(client, None, f"/api/v1/layers/{layer_id}/features").get_json(), layer_id
    assert get_layer("fire_stations").id not in PRINCIPALS["officer"].scoped_layers
