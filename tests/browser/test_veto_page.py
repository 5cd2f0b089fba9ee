"""The site-veto page in real headless Chromium: draw or inject a site, see the verdict."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from browser_support import open_page, serving, wait_until
from playwright.sync_api import Browser, Page
from shapely.geometry import Point, box

from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.settings import Settings

STATION = (116.30, 40.30)


@pytest.fixture(scope="module")
def veto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("veto_browser") / "veto.gpkg"
    store = GeoPackageStore(path)
    store.init_schema()
    batch = LoadBatch(kind="demo", file_name="veto.csv", sha256="3" * 64, loaded_at=datetime.now(UTC))
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110000", "zone:5th-ring"], "area_code": ["110000", "zone:5th-ring"], "name": ["北京市", "五环路以内"],
         "area_type": ["province", "zone"]},
        geometry=[box(115.4, 39.4, 117.5, 41.1), box(116.21, 39.78, 116.55, 40.03)], crs="EPSG:4326"), batch=batch)
    store.upsert("hazchem_sites", gpd.GeoDataFrame(
        {"key": ["C1|G1"], "credit_code": ["C1"], "site_code": ["G1"], "name": ["演示加油站"],
         "site_type": ["gas_station"], "gas_station_grade": [2], "synthetic": [True]},
        geometry=[Point(*STATION)], crs="EPSG:4326"), batch=batch)
    with serving(create_app(Settings(gpkg_path=path), store=store)) as url:
        yield url


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    return open_page(browser, url, ready="window.vetoPage !== undefined", width=1400, height=850)


def test_injected_site_shows_veto_with_distance_line(browser: Browser, veto_server: str, artifacts: Path) -> None:
    page, errors = _open(browser, f"{veto_server}/veto")
    page.select_option("#land-use", "school")
    page.fill("#site-name", "新建小学")
    page.evaluate("window.vetoPage.setSite({type: 'Point', coordinates: [116.2995, 40.3]})")
    page.click("#evaluate")
    page.wait_for_selector("#sheet-verdict .verdict-VETO")
    assert "一票否决" in page.inner_text("#sheet-verdict")
    assert "GS-SENSITIVE-50" in page.inner_text("#sheet-hits")
    label = page.inner_text(".distance-label")
    assert label.endswith(" m") and 40 < float(label.split()[0]) < 45
    assert page.is_visible("#sheet-notice")  # synthetic hazards
    assert "2026.1-default" in page.inner_text("#sheet-meta")
    # each layer's data version (named in words, not by its code) with the time it was last loaded (UTC)
    assert re.search(r"危险化学品单位 v\d+ \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", page.inner_text("#sheet-meta"))
    page.screenshot(path=str(artifacts / "veto_page.png"))
    page.emulate_media(media="print")
    assert not page.is_visible("#panel")
    page.emulate_media(media="screen")
    assert errors == []
    page.close()


def test_drawn_marker_far_from_hazards_passes(browser: Browser, veto_server: str) -> None:
    page, errors = _open(browser, f"{veto_server}/veto?lang=en")
    page.select_option("#land-use", "residential")
    page.click(".leaflet-draw-draw-marker")
    box_ = page.locator("#map").bounding_box()
    assert box_ is not None
    page.mouse.click(box_["x"] + box_["width"] / 2, box_["y"] + box_["height"] / 2)
    wait_until(page, "window.vetoPage.site !== null")
    page.click("#evaluate")
    page.wait_for_selector("#sheet-verdict .verdict")
    assert page.inner_text("#sheet-verdict") in ("Pass", "Veto", "Conditional (needs review)")
    assert "Every rule evaluated" in page.inner_text("#sheet")
    assert errors == []
    page.close()
