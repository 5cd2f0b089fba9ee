"""Signing in through the page in real Chromium, signing out, the back button after it, and every page
under the Content-Security-Policy without one violation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from browser_support import ACCOUNTS, make_user, new_page, serving, sign_in_over_http, wait_until
from playwright.sync_api import Browser, Page
from shapely.geometry import Point, box

from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.settings import Settings

#: Reports every CSP violation into window.__csp; added before any script of the page runs.
RECORD_VIOLATIONS = """document.addEventListener('securitypolicyviolation', e =>
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' +
                                          e.lineNumber));"""
PASSWORDS: dict[str, str] = {}
READY = {"/": "window.riskmap && window.riskmap.commanderReady", "/veto": "window.vetoPage !== undefined",
         "/border": "window.borderPage && window.borderPage.ready", "/login": "document.readyState === 'complete'"}


@pytest.fixture(scope="module")
def officer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server whose store knows 朝阳区, with a district officer of 110105 (``officer_wang``) and a
    viewer (``viewer_li``); yields its URL and the officer's password (the viewer's is in ``PASSWORDS``)."""
    path = tmp_path_factory.mktemp("sign_in") / "sign_in.gpkg"
    store = GeoPackageStore(path)
    store.init_schema()
    batch = LoadBatch(kind="areas", file_name="a.csv", sha256="6" * 64, loaded_at=datetime.now(UTC))
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110101", "110105"], "area_code": ["110101", "110105"], "name": ["东城区", "朝阳区"],
         "area_type": "district", "province_code": "110000"},
        geometry=[box(116.38, 39.85, 116.45, 39.97), box(116.45, 39.8, 116.6, 40.05)], crs="EPSG:4326"), batch=batch)
    store.upsert("resources", gpd.GeoDataFrame(
        {"key": ["F1"], "resource_code": ["F1"], "name": ["东单消防站"], "resource_type": ["fire_station"]},
        geometry=[Point(116.41, 39.91)], crs="EPSG:4326"), batch=batch)
    app = create_app(Settings(gpkg_path=path), store=store)
    password = make_user(app, "officer_wang", "district_officer", ("110105",))
    PASSWORDS["viewer_li"] = make_user(app, "viewer_li", "viewer")
    with serving(app) as url:
        yield url, password


def _console(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_sign_in_see_the_map_sign_out_and_the_back_button_shows_nothing(
        browser: Browser, officer_server: tuple[str, str], artifacts: Path) -> None:
    url, password = officer_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # no session yet
    page = context.new_page()
    errors = _console(page)
    page.goto(f"{url}/?lang=zh")
    assert page.url.startswith(f"{url}/login?next=") and page.locator("#login-form").is_visible()
    page.fill("#username", "officer_wang")
    page.fill("#password", "wrong-password-1")
    page.click("#login-submit")
    assert "用户名或密码错误" in page.inner_text("#login-message")
    page.wait_for_timeout(1100)  # the back-off after one failure: 1 s (an attempt sooner is refused unchecked)
    page.fill("#password", password)
    page.click("#login-submit")
    wait_until(page, READY["/"])
    assert page.url == f"{url}/?lang=zh"
    assert page.inner_text("#user") == "officer_wang · 区级安监 · 朝阳区"
    page.screenshot(path=str(artifacts / "signed_in_map.png"))

    page.click("#logout")
    page.wait_for_selector("#login-form")
    assert "已退出登录" in page.inner_text("#login-message")
    page.go_back()
    page.wait_for_load_state()
    assert page.locator("#login-form").is_visible()  # asked again (no-store), redirected: no map, no user
    assert page.locator("#user").count() == 0 and page.locator("#map").count() == 0
    assert "officer_wang" not in page.content()
    assert errors == [] or all("401" in e or "UNAUTHORIZED" in e.upper() for e in errors), errors
    context.close()


@pytest.mark.parametrize("path", list(READY))
def test_every_page_runs_under_the_csp_without_a_violation(browser: Browser, live_server: str, path: str) -> None:
    page = new_page(browser, live_server, viewport={"width": 1280, "height": 800})
    page.add_init_script(RECORD_VIOLATIONS)
    errors = _console(page)
    response = page.goto(live_server + path)
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    wait_until(page, READY[path])
    if path == "/":  # open the panels that build HTML: incident, statistics, the legend, a popup
        page.evaluate("window.riskmap.runIncident(39.91, 116.40)")
        page.wait_for_selector("#incident-targets", state="attached")
        page.click("#stats-button")
        page.wait_for_selector("#stats-table")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__csp || []") == []
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []
    # (the border page asks for borders this server's store does not hold: 404s, not the policy's doing)
    assert [e for e in errors if "404" not in e] == [] if path == "/border" else errors == []
    page.close()


def test_a_page_opened_by_someone_signed_in_elsewhere_is_not_shown_to_nobody(browser: Browser,
                                                                           live_server: str) -> None:
    name, _ = ACCOUNTS[live_server]
    page = browser.new_page()
    page.goto(live_server + "/veto")
    assert page.url.startswith(f"{live_server}/login?next=/veto")
    assert name not in page.content()
    page.close()


def test_a_viewer_sees_the_map_with_its_own_layers_only(browser: Browser, officer_server: tuple[str, str]) -> None:
    url, _ = officer_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    cookie = sign_in_over_http(url, "viewer_li", PASSWORDS["viewer_li"])
    context.add_cookies([{"name": "riskmap_session", "value": cookie, "url": url}])
    page = context.new_page()
    errors = _console(page)
    page.goto(url + "/")
    wait_until(page, READY["/"])
    shown = set(page.eval_on_selector_all("#layer-switcher input[data-layer]", "bs => bs.map(b => b.dataset.layer)"))
    assert "districts" in shown and "fire_stations" in shown
    assert not shown & {"risk_sources", "hazchem_sites", "hidden_hazards", "rescue_teams"}
    assert "公众查看" in page.inner_text("#user")
    page.wait_for_load_state("networkidle")
    assert errors == []
    context.close()
