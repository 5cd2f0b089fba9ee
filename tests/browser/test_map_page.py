"""The map page in real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from playwright.sync_api import Browser, Page

from geo import coords


def test_map_loads_draws_tiles_and_opens_a_popup(browser: Browser, live_server: str, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)

    page.goto(live_server + "/")
    page.wait_for_function("window.riskmap && window.riskmap.ready")
    page.evaluate("window.riskmap.map.setView([39.9, 116.4], 12)")
    page.wait_for_load_state("networkidle")

    assert page.locator("#synthetic-badge").is_visible()
    assert page.locator("#legend").inner_text().count("重大") == 1
    assert page.locator(".leaflet-control-scale").is_visible()
    assert tiles and all(status in (200, 304) for _, status in tiles)
    # Every default layer asked for its tiles: 512-pixel tiles one zoom up (z7 for the first view at
    # map zoom 8, z11 at map zoom 12).
    default_on = page.evaluate("window.riskmap.cfg.layers.filter(l => l.default_on).map(l => l.id)")
    assert len(default_on) == 5
    for layer_id in default_on:
        zooms = {int(url.split(f"/tiles/{layer_id}/")[1].split("/")[0]) for url, _ in tiles
                 if f"/tiles/{layer_id}/" in url}
        assert zooms == {7, 11}, (layer_id, zooms)
    # Every default layer with data in the fixture drew pixels in its own tile canvases.
    drawn = page.evaluate("""() => Object.fromEntries(Object.entries(window.riskmap.layers)
        .filter(([id, l]) => window.riskmap.map.hasLayer(l))
        .map(([id, l]) => [id, Object.values(l._tiles).some(t => {
            const c = t.el, d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; }
            return false; })]))""")
    assert set(drawn) == set(default_on)
    assert drawn["risk_sources"] and drawn["districts"] and drawn["fire_stations"], drawn

    # Click a risk source: project its lon/lat to a container point and click there.
    feature = page.evaluate("""async () => {
        const r = await fetch('/api/v1/layers/risk_sources/features?bbox=116.35,39.85,116.45,39.95&limit=1');
        return (await r.json()).features[0]; }""")
    lon, lat = feature["geometry"]["coordinates"]
    point = page.evaluate(f"window.riskmap.map.latLngToContainerPoint([{lat}, {lon}])")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert feature["properties"]["name"] in page.locator(".leaflet-popup-content").inner_text()
    page.mouse.move(box["x"] + 200, box["y"] + 200)
    assert "116." in page.locator("#coords").inner_text()
    page.screenshot(path=str(artifacts / "map_page.png"))
    assert errors == []


def test_english_switch(browser: Browser, live_server: str) -> None:
    page = browser.new_page()
    page.goto(live_server + "/?lang=en")
    page.wait_for_function("window.riskmap && window.riskmap.ready")
    assert "Risk level" in page.locator("#legend").inner_text()
    assert "Layers" in page.locator("#layer-switcher").inner_text()


def _click_feature(page: Page, layer_id: str, bbox: str) -> dict:
    feature = page.evaluate(f"""async () => {{
        const r = await fetch('/api/v1/layers/{layer_id}/features?bbox={bbox}&limit=1');
        return (await r.json()).features[0]; }}""")
    lon, lat = feature["geometry"]["coordinates"]
    point = page.evaluate(f"window.riskmap.map.latLngToContainerPoint([{lat}, {lon}])")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    return feature


def _popup_rows(page: Page) -> dict[str, str]:
    return dict(page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-popup-content tr'))
        .map(tr => [tr.cells[0].textContent, tr.cells[1].textContent])"""))


LEVEL_WORDS = {"zh": {"red": "重大", "orange": "较大", "yellow": "一般", "blue": "低"},
               "en": {"red": "major", "orange": "significant", "yellow": "general", "blue": "low"}}


def test_popups_label_fields_and_coded_values_in_both_languages(browser: Browser, live_server: str) -> None:
    errors: list[str] = []
    for lang, expected in (("en", {"Name", "Risk level", "Unit", "Location precision"}),
                           ("zh", {"风险源名称", "风险等级", "单位名称", "定位精度"})):
        page = _open(browser, f"{live_server}/?lang={lang}", errors)
        page.evaluate("window.riskmap.map.setView([39.9, 116.4], 14)")
        feature = _click_feature(page, "risk_sources", "116.35,39.85,116.45,39.95")
        rows = _popup_rows(page)
        assert expected <= set(rows), rows
        assert not {"level", "unit_name", "geocode_precision"} & set(rows), rows  # no raw field names
        level_label = "Risk level" if lang == "en" else "风险等级"
        assert rows[level_label] == LEVEL_WORDS[lang][feature["properties"]["level"]]
        # a resource: its type in words
        page.evaluate("window.riskmap.map.closePopup(); window.riskmap.map.setView([39.91, 116.41], 15)")
        _click_feature(page, "fire_stations", "116.40,39.90,116.42,39.92")
        rows = _popup_rows(page)
        assert rows["Resource type" if lang == "en" else "资源类型"] == ("fire station" if lang == "en" else "消防站")
        page.close()
    assert errors == []


def test_layer_switcher_groups_and_toggles_layers(browser: Browser, live_server: str) -> None:
    errors: list[str] = []
    page = _open(browser, live_server + "/", errors)
    legends = page.locator("#layer-switcher legend").all_inner_texts()
    assert {"行政区划与边界", "风险源与危险源", "应急资源", "分析"} <= set(legends)
    assert not page.evaluate("window.riskmap.map.hasLayer(window.riskmap.layers.hidden_hazards)")
    page.check("#layer-switcher input[data-layer=hidden_hazards]")
    assert page.evaluate("window.riskmap.map.hasLayer(window.riskmap.layers.hidden_hazards)")
    page.uncheck("#layer-switcher input[data-layer=risk_sources]")
    assert not page.evaluate("window.riskmap.map.hasLayer(window.riskmap.layers.risk_sources)")
    assert errors == []


def _open(browser: Browser, url: str, errors: list[str]) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.riskmap && window.riskmap.commanderReady")
    return page


def test_incident_mode_lists_nearest_resources(browser: Browser, live_server: str, artifacts: Path) -> None:
    errors: list[str] = []
    page = _open(browser, live_server + "/", errors)
    page.evaluate("window.riskmap.map.setView([39.91, 116.40], 13)")
    page.click("#incident-button")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + 640, box["y"] + 380)
    page.wait_for_selector("#incident-targets", state="attached")
    panel = page.locator("#side-panel").inner_text()
    assert "事故点周边情况简报" in panel
    assert "消防站" in panel and "分钟" in panel  # nearest fire stations with ETA
    assert "km/h" in panel  # the travel assumptions are stated
    page.screenshot(path=str(artifacts / "incident_mode.png"))
    # The printable briefing: controls hidden, the briefing and the map (with its rings) shown.
    page.emulate_media(media="print")
    assert page.locator("#side-panel").is_visible() and page.locator("#map").is_visible()
    assert not page.locator("#layer-switcher").is_visible() and not page.locator("#incident-button").is_visible()
    assert page.locator("#print-button").is_hidden()
    page.pdf(path=str(artifacts / "incident_briefing.pdf"))
    page.emulate_media(media="screen")
    assert errors == []


def test_search_flies_to_a_unit_and_opens_its_popup(browser: Browser, live_server: str, artifacts: Path) -> None:
    errors: list[str] = []
    page = _open(browser, live_server + "/", errors)
    page.fill("#search-input", "演示风险源17")
    page.press("#search-input", "Enter")
    first = page.locator("#search-results .result").first
    first.wait_for()
    assert first.inner_text().startswith("演示风险源17 ")  # the exact match is listed first
    first.click()
    page.wait_for_selector(".leaflet-popup-content")
    assert "演示风险源17" in page.locator(".leaflet-popup-content").inner_text()
    page.wait_for_function("window.riskmap.map.getZoom() >= 15")
    page.screenshot(path=str(artifacts / "search.png"))
    assert errors == []


def test_statistics_panel_shows_districts_and_chart(browser: Browser, live_server: str) -> None:
    errors: list[str] = []
    page = _open(browser, live_server + "/", errors)
    page.click("#stats-button")
    page.wait_for_selector("#stats-table")
    assert "东城区" in page.locator("#stats-table").inner_text()
    assert page.locator("#stats-chart").is_visible()
    assert errors == []


def test_browser_gcj02_shift_matches_the_python_converter(browser: Browser, live_server: str) -> None:
    errors: list[str] = []
    page = _open(browser, live_server + "/", errors)
    rng = np.random.default_rng(5)
    lon, lat = 115.5 + rng.random(50) * 4, 38.0 + rng.random(50) * 3
    got = page.evaluate("pts => { const d = window.riskmapDatum('gcj02'); return pts.map(p => d.toMap(p[1], p[0])); }",
                        [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(np.array(got), np.column_stack([glat, glon]), atol=1e-9)
    back = page.evaluate("p => { const d = window.riskmapDatum('gcj02'); const w = d.fromMap(L.latLng(p[0], p[1]));"
                         " return [w.lat, w.lng]; }", [float(glat[0]), float(glon[0])])
    np.testing.assert_allclose(back, [lat[0], lon[0]], atol=1e-8)
    assert errors == []
