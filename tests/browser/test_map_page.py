"""The map page in real headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from browser_support import new_page, wait_until
from playwright.sync_api import Browser, Page

from geo import coords
from geo.entities import RISK_LEVELS
from layers.catalog import CATALOG


def test_map_loads_draws_tiles_and_opens_a_popup(browser: Browser, live_server: str, artifacts: Path) -> None:
    page = new_page(browser, live_server, viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)

    page.goto(live_server + "/")
    wait_until(page, "window.riskmap && window.riskmap.ready")
    page.evaluate("window.riskmap.map.setView([39.9, 116.4], 12)")
    page.wait_for_load_state("networkidle")

    assert page.locator("#synthetic-badge").is_visible()
    assert page.locator("#legend").inner_text().count("重大") == 1  # risk sources' classes, once
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


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # ideographs and full-width punctuation
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
UNITS_AND_NAMES = {"km", "WGS", "OSM"}  # may stand in Chinese text


def _untranslated(lang: str, texts: dict[str, str]) -> dict[str, list[str]]:
    """Per place, the words in the other language: any Chinese in English mode; English words other
    than units and proper names in Chinese mode."""
    found = {}
    for where, text in texts.items():
        words = CJK.findall(text) if lang == "en" else \
            [w for w in LATIN_WORD.findall(text) if w not in UNITS_AND_NAMES]
        if words:
            found[where] = words
    return found


def _legend_entries(page: Page) -> list[str]:
    return page.evaluate("Array.from(document.querySelectorAll('#legend .legend-layer')).map(e => e.dataset.layer)")


def _wait_legend(page: Page, condition: str) -> None:
    """The legend is redrawn on the next animation frame after a layer or zoom change."""
    wait_until(page, f"() => {{ const q = s => document.querySelector('#legend ' + s); return {condition}; }}")


def test_legend_follows_the_layer_switcher_and_the_zoom(browser: Browser, live_server: str,
                                                        artifacts: Path) -> None:
    errors: list[str] = []
    page = _open(browser, live_server + "/", errors)
    layers = {layer.id: layer for layer in CATALOG}
    assert _legend_entries(page) == [layer.id for layer in CATALOG if layer.default_on]
    risk = page.locator("#legend [data-layer=risk_sources]")
    assert "安全风险源" in risk.inner_text() and "风险等级" in risk.inner_text()
    # the classes' symbols in the catalog's colours, then the clusters explained (map zoom 8 < 13)
    fills = risk.locator(".legend-items circle").evaluate_all("cs => cs.map(c => c.getAttribute('fill'))")
    assert fills[:4] == [colour for *_, colour in RISK_LEVELS]
    assert "聚合" in risk.inner_text() and "最高的风险等级" in risk.inner_text()
    # a line layer: its colour and dash; a layer not drawn at this zoom says from which zoom it is
    page.check("#layer-switcher input[data-layer=hazmat_routes]")
    page.check("#layer-switcher input[data-layer=townships]")
    _wait_legend(page, "q('[data-layer=hazmat_routes]') && q('[data-layer=townships]')")
    line = page.locator("#legend [data-layer=hazmat_routes] line")
    assert line.get_attribute("stroke") == layers["hazmat_routes"].style.color
    assert line.get_attribute("stroke-dasharray") == "6 4"
    assert "legend-inactive" in (page.locator("#legend [data-layer=townships]").get_attribute("class") or "")
    assert "缩放级别 9" in page.locator("#legend [data-layer=townships]").inner_text()
    page.uncheck("#layer-switcher input[data-layer=risk_sources]")
    _wait_legend(page, "!q('[data-layer=risk_sources]')")
    # zoomed in: townships drawn, risk sources drawn one by one (no cluster note)
    page.check("#layer-switcher input[data-layer=risk_sources]")
    page.evaluate("window.riskmap.map.setView([39.9, 116.4], 14)")
    _wait_legend(page, "q('[data-layer=risk_sources]') && !q('[data-layer=townships].legend-inactive')")
    assert "聚合" not in page.locator("#legend [data-layer=risk_sources]").inner_text()
    # an analysis overlay adds its entry while it is drawn
    page.check("#coverage-toggle")
    _wait_legend(page, "q('[data-layer=coverage]')")
    assert "消防5分钟覆盖盲区" in page.locator("#legend [data-layer=coverage]").inner_text()
    page.uncheck("#coverage-toggle")
    _wait_legend(page, "!q('[data-layer=coverage]')")
    # collapsible on screen, printed open
    page.click("#legend .legend-toggle")
    assert page.locator("#legend .legend-body").is_hidden()
    page.emulate_media(media="print")
    assert page.locator("#legend .legend-body").is_visible()
    page.screenshot(path=str(artifacts / "legend_print.png"))
    page.emulate_media(media="screen")
    page.click("#legend .legend-toggle")
    assert page.locator("#legend .legend-body").is_visible()
    assert errors == []


def test_each_language_shows_no_words_of_the_other(browser: Browser, live_server: str) -> None:
    errors: list[str] = []
    for lang in ("en", "zh"):
        page = _open(browser, f"{live_server}/?lang={lang}", errors)
        for layer in CATALOG:  # every layer's legend entry
            page.check(f"#layer-switcher input[data-layer={layer.id}]")
        _wait_legend(page, f"document.querySelectorAll('#legend .legend-layer').length === {len(CATALOG)}")
        texts = {"legend": page.locator("#legend").inner_text(),
                 "switcher": page.locator("#layer-switcher").inner_text(),
                 "controls": " ".join(page.evaluate("""Array.from(document.querySelectorAll(
                     '#topbar [title], #topbar [placeholder], .leaflet-control [title], .leaflet-control a'))
                     .map(e => (e.title || '') + ' ' + (e.placeholder || ''))"""))}
        page.evaluate("window.riskmap.map.setView([39.9, 116.4], 14)")
        _click_feature(page, "risk_sources", "116.35,39.85,116.45,39.95")
        # names and addresses are data (Chinese in the fixture): the field labels, the title and coded values
        texts["popup"] = page.evaluate("""() => { const p = document.querySelector('.leaflet-popup-content');
            return [p.querySelector('b').textContent, ...Array.from(p.querySelectorAll('tr')).map(tr =>
              tr.cells[0].textContent + ' ' + (['Risk level', 'Location precision', '风险等级', '定位精度']
              .includes(tr.cells[0].textContent) ? tr.cells[1].textContent : ''))].join(' '); }""")
        page.evaluate("window.riskmap.map.closePopup()")
        page.evaluate("window.riskmap.runIncident(39.91, 116.40)")
        page.wait_for_selector("#incident-targets", state="attached")
        panel_words = """() => Array.from(document.querySelectorAll(['h2', 'h3', 'th', '.note', 'label', 'p', '.badge',
            'button'].map(s => '#side-panel ' + s).join(','))).map(e => e.textContent).join(' ')"""
        texts["incident"] = page.evaluate(panel_words)
        if lang == "zh":  # the fixture's names are Chinese: all of the panel must be
            texts["incident (all)"] = page.locator("#side-panel").inner_text()
        page.click("#stats-button")
        page.wait_for_selector("#stats-table")
        texts["statistics"] = page.evaluate(panel_words)
        if lang == "zh":
            texts["statistics (all)"] = page.locator("#side-panel").inner_text()
        assert _untranslated(lang, texts) == {}, lang
        page.close()
    assert errors == []


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
    page = new_page(browser, url, viewport={"width": 1280, "height": 800})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    wait_until(page, "window.riskmap && window.riskmap.commanderReady")
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
    assert page.evaluate("window.riskmap.incidentLayer.getLayers().length") >= 3  # rings and the point
    assert "事故点" in page.locator("#legend").inner_text()
    page.click("#incident-button")  # incident mode off: its drawing and legend entry go
    assert page.evaluate("window.riskmap.incidentLayer.getLayers().length") == 0
    assert "事故点" not in page.locator("#legend").inner_text()
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
    wait_until(page, "window.riskmap.map.getZoom() >= 15")
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
    got = page.evaluate("pts => { const d = window.riskmapBase.datum('gcj02');"
                        " return pts.map(p => d.toMap(p[1], p[0])); }",
                        [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(np.array(got), np.column_stack([glat, glon]), atol=1e-9)
    back = page.evaluate("p => { const d = window.riskmapBase.datum('gcj02');"
                         " const w = d.fromMap(L.latLng(p[0], p[1])); return [w.lat, w.lng]; }",
                         [float(glat[0]), float(glon[0])])
    np.testing.assert_allclose(back, [lat[0], lon[0]], atol=1e-8)
    assert errors == []
