"""Every page over a GCJ-02 basemap in real headless Chromium: one base script, the datum handled.

The app is set up as with ``RISKMAP_BASEMAP_DATUM=gcj02`` and a ``RISKMAP_BASEMAP_URL``; the basemap is
served by the app itself (a blank tile, no internet).  On such a basemap a ground point is drawn at its
GCJ-02 position, some 500 m from its WGS-84 coordinates in Beijing: a site the planner draws there must
be judged at the ground point, not at the GCJ-02 coordinates taken as WGS-84.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from browser_support import open_page, serving, wait_until
from flask import Response
from playwright.sync_api import Browser, Page
from shapely.geometry import Point, box

from geo import coords
from geo.distance import geodesic_m
from geo.files.reference import read_reference
from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.routes import PUBLIC, declare
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

#: A gas station in Changping (Beijing); a school must be at least 50 m from it (rule GS-SENSITIVE-50).
STATION = (116.30, 40.30)
#: The ground point of the school site: 42.6 m west of the station, inside the 50 m limit (a veto).
SITE = (116.2995, 40.30)
#: A blank 1 x 1 PNG: the basemap's tiles.
BLANK_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAA"
                             "SUVORK5CYII=")
BASEMAP_URL = "/test-basemap/{z}/{x}/{y}.png"


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="datum.csv", sha256="5" * 64, loaded_at=datetime.now(UTC))


def _store(path: Path) -> GeoPackageStore:
    """The real provinces, cities, districts and borders, a zone and the gas station."""
    store = GeoPackageStore(path)
    store.init_schema()
    areas = read_reference("areas", REFERENCE_DIR)
    areas = areas[areas["area_type"].isin(["province", "city", "district"])]
    zone = gpd.GeoDataFrame({"key": ["zone:5th-ring"], "area_code": ["zone:5th-ring"], "name": ["五环路以内"],
                             "area_type": ["zone"]}, geometry=[box(116.21, 39.78, 116.55, 40.03)], crs="EPSG:4326")
    store.upsert("areas", gpd.GeoDataFrame(pd.concat([areas, zone], ignore_index=True), geometry="geometry",
                                           crs="EPSG:4326"), batch=_batch("areas"))
    lines = read_reference("lines", REFERENCE_DIR)
    store.upsert("lines", lines[lines["line_type"] == "border"].reset_index(drop=True), batch=_batch("lines"))
    store.upsert("hazchem_sites", gpd.GeoDataFrame(
        {"key": ["C1|G1"], "credit_code": ["C1"], "site_code": ["G1"], "name": ["演示加油站"],
         "site_type": ["gas_station"], "gas_station_grade": [2], "synthetic": [True]},
        geometry=[Point(*STATION)], crs="EPSG:4326"), batch=_batch("hazchem_sites"))
    return store


@pytest.fixture(scope="module")
def gcj_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The app over a GCJ-02 basemap it serves itself; yields its URL and the basemap tiles asked for."""
    path = tmp_path_factory.mktemp("datum_browser") / "datum.gpkg"
    app = create_app(Settings(gpkg_path=path, basemap_url=BASEMAP_URL, basemap_datum="gcj02"), store=_store(path))
    tiles: list[str] = []

    def tile(z: int, x: int, y: int) -> Response:
        tiles.append(f"{z}/{x}/{y}")
        return Response(BLANK_PNG, mimetype="image/png")

    # a route added after start-up declares itself like every other (undeclared, the check refuses it: 503)
    app.add_url_rule("/test-basemap/<int:z>/<int:x>/<int:y>.png", view_func=declare(PUBLIC, "test basemap")(tile))
    with serving(app) as url:
        yield url, tiles


READY = {"/": "window.riskmap && window.riskmap.commanderReady", "/veto": "window.vetoPage !== undefined",
         "/border": "window.borderPage && window.borderPage.ready"}


@pytest.mark.parametrize("path", list(READY))
def test_every_page_loads_the_base_script_and_states_its_datum(browser: Browser, gcj_server: tuple[str, list[str]],
                                                              path: str) -> None:
    url, tiles = gcj_server
    page, errors = open_page(browser, url + path, ready=READY[path], width=1400, height=850)
    scripts = page.eval_on_selector_all("script[src]", "ss => ss.map(s => new URL(s.src).pathname)")
    assert "/static/js/base.js" in scripts
    assert not any(s.endswith("/datum.js") for s in scripts)  # folded into the base script
    assert page.evaluate("window.riskmapBase.config().basemap") == {"url": BASEMAP_URL, "datum": "gcj02"}
    assert "GCJ-02" in page.inner_text("#datum-note")  # the page says what it does with the datum
    wait_until(page, "document.querySelectorAll('.leaflet-tile-loaded').length > 0")
    assert tiles  # the basemap is drawn
    page.mouse.move(700, 400)
    assert "WGS-84" in page.inner_text(".coords-readout")
    assert errors == []
    page.close()


def _gcj(lon: float, lat: float) -> tuple[float, float]:
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    return float(glon), float(glat)


def _api_verdict(page: Page, url: str, lon: float, lat: float) -> dict[str, Any]:
    body = {"land_use": "school", "geometry": {"type": "Point", "coordinates": [lon, lat]}}
    token = page.evaluate("window.riskmapBase.config().csrf")  # the session's, as the page sends it
    verdict: dict[str, Any] = page.request.post(f"{url}/api/v1/veto", data=body,
                                                headers={"X-CSRF-Token": token}).json()
    return verdict


def _markers(page: Page) -> list[list[float]]:
    """[lon, lat] of the site markers drawn on the veto page's map (map positions, GCJ-02 here)."""
    found: list[list[float]] = page.evaluate("""() => { const out = [];
        window.vetoPage.map.eachLayer(l => {
          if (l instanceof L.Marker) { const p = l.getLatLng(); out.push([p.lng, p.lat]); } });
        return out; }""")
    return found


def test_a_site_drawn_on_a_gcj02_basemap_gets_the_verdict_of_its_ground_point(
        browser: Browser, gcj_server: tuple[str, list[str]], artifacts: Path) -> None:
    url, _ = gcj_server
    page, errors = open_page(browser, f"{url}/veto", ready=READY["/veto"], width=1400, height=850)
    ground = _api_verdict(page, url, *SITE)
    assert ground["verdict"] == "VETO"
    # the premise: read as WGS-84, the GCJ-02 coordinates of the same point are hundreds of metres off
    # and get another verdict
    glon, glat = _gcj(*SITE)
    assert 300 < geodesic_m(SITE[0], SITE[1], glon, glat) < 800
    assert _api_verdict(page, url, glon, glat)["verdict"] != ground["verdict"]

    # draw a marker where the basemap shows the ground point: its GCJ-02 position
    page.select_option("#land-use", "school")
    page.evaluate(f"void window.vetoPage.map.setView([{glat}, {glon}], 18, {{ animate: false }})")
    page.click(".leaflet-draw-draw-marker")
    point = page.evaluate(f"window.vetoPage.map.latLngToContainerPoint([{glat}, {glon}])")
    box_ = page.locator("#map").bounding_box()
    assert box_ is not None
    page.mouse.click(box_["x"] + point["x"], box_["y"] + point["y"])
    wait_until(page, "window.vetoPage.site !== null")
    sent = page.evaluate("window.vetoPage.site.coordinates")
    assert geodesic_m(sent[0], sent[1], *SITE) < 2  # the site goes to the API in WGS-84 (a click is ~0.5 m)
    page.click("#evaluate")
    page.wait_for_selector("#sheet-verdict .verdict")
    assert page.get_attribute("#sheet-verdict .verdict", "class") == f"verdict verdict-{ground['verdict']}"
    hit = next(h for r in ground["rules"] if r["hit"] for h in r["hits"])
    assert abs(float(page.inner_text(".distance-label").split()[0]) - hit["distance_m"]) < 2
    page.screenshot(path=str(artifacts / "veto_gcj02_drawn.png"))

    # the same ground point entered as coordinates (WGS-84): drawn at its GCJ-02 position, same verdict
    page.evaluate(f"window.vetoPage.setSite({{type: 'Point', coordinates: [{SITE[0]}, {SITE[1]}]}})")
    (mlon, mlat), = _markers(page)
    assert geodesic_m(mlon, mlat, glon, glat) < 0.01
    page.evaluate("window.drawnVerdict = window.vetoPage.lastVerdict")
    page.click("#evaluate")
    wait_until(page, "window.vetoPage.lastVerdict !== window.drawnVerdict")
    assert page.evaluate("window.vetoPage.lastVerdict.verdict") == ground["verdict"]
    assert errors == []
    page.close()


def test_a_click_on_the_border_page_over_a_gcj02_basemap_asks_for_its_ground_point(
        browser: Browser, gcj_server: tuple[str, list[str]]) -> None:
    url, _ = gcj_server
    page, errors = open_page(browser, f"{url}/border", ready=READY["/border"], width=1400, height=850)
    ground = (116.76, 39.90)  # Tongzhou, 2 km from the Hebei border
    glon, glat = _gcj(*ground)
    page.evaluate(f"void window.borderPage.map.setView([{glat}, {glon}], 17, {{ animate: false }})")
    point = page.evaluate(f"window.borderPage.map.latLngToContainerPoint([{glat}, {glon}])")
    box_ = page.locator("#map").bounding_box()
    assert box_ is not None
    page.mouse.click(box_["x"] + point["x"], box_["y"] + point["y"])
    wait_until(page, "document.querySelector('#aid').dataset.incident !== undefined")
    lon, lat = map(float, page.input_value("#aid-point").split(","))
    assert geodesic_m(lon, lat, *ground) < 3  # the incident is asked for in WGS-84
    marker = page.evaluate("(() => { let p = null; window.borderPage.layers.aid.eachLayer(l => {"
                           " if (l instanceof L.Marker) { p = l.getLatLng(); } }); return [p.lng, p.lat]; })()")
    assert geodesic_m(marker[0], marker[1], glon, glat) < 3  # and drawn where it was clicked
    assert errors == []
    page.close()
