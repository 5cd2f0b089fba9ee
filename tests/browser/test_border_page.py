"""The cross-border analyst page (/border) in real headless Chromium.

The fixture store holds the real reference geography (provinces, cities, districts and
the three province borders from ``data/reference``) and a few synthetic features on
both sides of the Beijing–Hebei border at Tongzhou / Sanhe, a pipeline crossing it, and
fire stations in Beijing, Hebei and Tianjin.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from browser_support import open_page, serving, wait_until
from playwright.sync_api import Browser, Page
from shapely.geometry import LineString, MultiLineString, Point

from geo import border as bd
from geo.files.reference import read_reference
from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

BEIJING, TIANJIN, HEBEI = "110000", "120000", "130000"
#: A pipeline from Tongzhou (Beijing) east into Dachang / Sanhe (Hebei); the border is at ~116.78 °E here.
PIPELINE = LineString([(116.65, 39.90), (116.80, 39.915), (116.95, 39.93)])
#: Synthetic risk sources (name, level, lon, lat); their province is found from the polygons.
SOURCES = [("通州液氨储罐", "red", 116.74, 39.89), ("通州油库", "orange", 116.72, 39.93),
           ("通州仓库", "yellow", 116.80, 39.80), ("三河化工厂", "red", 116.85, 39.93),
           ("大厂加气站", "orange", 116.90, 39.90), ("香河仓储", "blue", 116.98, 39.78),
           ("武清物流园", "yellow", 117.05, 39.55)]
STATIONS = [("F-TZ", "通州消防站", 116.70, 39.88), ("F-SH", "三河消防站", 116.88, 39.93),
            ("F-WQ", "武清消防站", 117.08, 39.42)]
INCIDENT = (116.76, 39.90)  # Beijing side, 2 km from the border
_MEDIA = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "geojson": "application/geo+json"}


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="border-browser.csv", sha256="9" * 64, loaded_at=datetime.now(UTC))


def _jurisdiction(points: list[Point], areas: gpd.GeoDataFrame) -> tuple[list[str | None], list[str | None]]:
    """Province and county code of each point from the reference polygons."""
    out: list[tuple[str | None, str | None]] = []
    for p in points:
        hit = areas[shapely.contains_xy(areas.geometry.values, p.x, p.y)]
        province = hit.loc[hit["area_type"] == "province", "area_code"]
        county = hit.loc[hit["area_type"] == "district", "area_code"]
        out.append((province.iloc[0] if len(province) else None, county.iloc[0] if len(county) else None))
    return [o[0] for o in out], [o[1] for o in out]


def _frame(rows: dict[str, list[object]], geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def _fixture_store(path: Path) -> GeoPackageStore:
    store = GeoPackageStore(path)
    store.init_schema()
    areas = read_reference("areas", REFERENCE_DIR)
    areas = areas[areas["area_type"].isin(["province", "city", "district"])].reset_index(drop=True)
    store.upsert("areas", areas, batch=_batch("areas"))
    lines = read_reference("lines", REFERENCE_DIR)
    borders = lines[lines["line_type"] == "border"].reset_index(drop=True)
    pipe = _frame({"key": ["GP-TZ-SH"], "line_code": ["GP-TZ-SH"], "name": ["通州—三河输气管道"],
                   "line_type": ["gas_pipeline"], "operator": ["演示燃气公司"], "synthetic": [True]},
                  [MultiLineString([PIPELINE])])
    store.upsert("lines", gpd.GeoDataFrame(pd.concat([borders, pipe], ignore_index=True), geometry="geometry",
                                           crs="EPSG:4326"), batch=_batch("lines"))

    points = [Point(lon, lat) for *_, lon, lat in SOURCES]
    province, county = _jurisdiction(points, areas)
    n = len(SOURCES)
    store.upsert("risk_sources", _frame(
        {"key": [f"C{i}|R{i}" for i in range(n)], "credit_code": [f"C{i}" for i in range(n)],
         "source_code": [f"R{i}" for i in range(n)], "name": [s[0] for s in SOURCES],
         "level": [s[1] for s in SOURCES], "province_code": province, "county_code": county, "synthetic": True},
        points), batch=_batch("risk_sources"))
    sites = [Point(116.74, 39.90), Point(116.86, 39.92)]
    province, county = _jurisdiction(sites, areas)
    store.upsert("hazchem_sites", _frame(
        {"key": ["C0|W1", "C3|W2"], "credit_code": ["C0", "C3"], "site_code": ["W1", "W2"],
         "name": ["通州危化仓库", "三河加油站"], "site_type": ["storage", "gas_station"], "province_code": province,
         "county_code": county, "synthetic": True}, sites), batch=_batch("hazchem_sites"))
    hazards = [Point(116.84, 39.94)]
    province, county = _jurisdiction(hazards, areas)
    store.upsert("hidden_hazards", _frame(
        {"key": ["H1"], "hazard_code": ["H1"], "unit_name": ["三河化工厂"], "severity": ["major"],
         "status": ["open"], "province_code": province, "county_code": county, "synthetic": True}, hazards),
        batch=_batch("hidden_hazards"))
    targets = [Point(116.745, 39.915)]
    province, county = _jurisdiction(targets, areas)
    store.upsert("protection_targets", _frame(
        {"key": ["T1"], "target_code": ["T1"], "name": ["通州第一小学"], "target_type": ["school"],
         "province_code": province, "county_code": county, "synthetic": True}, targets),
        batch=_batch("protection_targets"))
    stations = [Point(lon, lat) for *_, lon, lat in STATIONS]
    province, county = _jurisdiction(stations, areas)
    assert province == [BEIJING, HEBEI, TIANJIN], province  # the fixture's premise
    store.upsert("resources", _frame(
        {"key": [s[0] for s in STATIONS], "resource_code": [s[0] for s in STATIONS], "name": [s[1] for s in STATIONS],
         "resource_type": "fire_station", "province_code": province, "county_code": county, "synthetic": True},
        stations), batch=_batch("resources"))
    return store


@pytest.fixture(scope="module")
def border_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("border_browser") / "border.gpkg"
    store = _fixture_store(path)
    lines = store.read("lines", where={"line_code": ["GP-TZ-SH", "border:110000-130000"]})
    border = lines[lines["line_code"] == "border:110000-130000"].geometry.iloc[0]
    assert bd.crossing_points(PIPELINE, border), "the fixture pipeline must cross the Beijing–Hebei border"
    with serving(create_app(Settings(gpkg_path=path), store=store)) as url:
        yield url


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    return open_page(browser, url, ready="window.borderPage && window.borderPage.ready", width=1500, height=900)


def _cells(page: Page, table: str) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        f"#{table} tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))")
    return rows


def _check_zone_counts(page: Page, url: str) -> None:
    """Choose the pair and the distance, run: the counts by side are the API's."""
    page.select_option("#pair", "beijing-hebei")
    page.fill("#km", "10")
    page.click("#run")
    wait_until(page, "document.querySelector('#sides').dataset.query === 'pair=beijing-hebei&km=10'")
    sides = {r[0]: r for r in _cells(page, "sides")}
    api = page.request.get(f"{url}/api/v1/border?pair=beijing-hebei&km=10").json()
    expected = {s["side"]: s for s in api["by_side"]}
    beijing = next(r for k, r in sides.items() if k.startswith("北京市"))
    hebei = next(r for k, r in sides.items() if k.startswith("河北省"))
    assert int(beijing[1]) == expected[BEIJING]["risk_sources"] >= 3
    assert int(hebei[1]) == expected[HEBEI]["risk_sources"] >= 2
    assert int(beijing[2]) == expected[BEIJING]["risk_red"] >= 1  # the 重大 column
    assert int(hebei[6]) == expected[HEBEI]["hazchem_sites"] == 1
    assert int(hebei[7]) == expected[HEBEI]["hidden_hazards_open"] == 1
    assert int(beijing[8]) == expected[BEIJING]["protection_targets"] == 1
    assert page.locator("#county-pairs tbody tr").count() >= 2


def _check_profile(page: Page, url: str) -> None:
    """The profile chart is drawn, the hottest segments are listed, the segments are on the map."""
    drawn = page.evaluate("""() => { const c = document.getElementById('profile-chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }""")
    assert drawn > 500
    assert page.locator("#hottest tbody tr").count() >= 1
    profile = page.request.get(f"{url}/api/v1/border/profile?pair=beijing-hebei&km=10&segment_km=5").json()
    on_map = page.evaluate("[window.borderPage.layers.segments.getLayers().length, "
                           "window.borderPage.layers.lines.getLayers().length]")
    assert on_map[0] == len(profile["segments"]["features"]) > 100  # every segment coloured on the map
    assert on_map[1] == 2  # the crossing pipeline and its crossing point


def _check_crossings_and_exports(page: Page, url: str) -> None:
    """The crossing pipeline with its length in each province; every export link answers."""
    crossings = _cells(page, "crossings")
    assert len(crossings) == 1 and crossings[0][0].startswith("通州—三河输气管道")
    assert "北京市" in crossings[0][1] and "河北省" in crossings[0][1] and "天津市" not in crossings[0][1]
    assert crossings[0][2] == "1"
    links = page.eval_on_selector_all(".exports a", "as => as.map(a => a.getAttribute('href'))")
    assert len(links) == 9
    for href in links:
        resp = page.request.get(url + href)
        fmt = href.rsplit("format=", 1)[1]
        assert resp.status == 200, href
        assert resp.headers["content-type"].startswith(_MEDIA[fmt]), (href, resp.headers["content-type"])
        assert len(resp.body()) > 0


def _check_mutual_aid_typed(page: Page, url: str) -> None:
    """Mutual aid for a typed point: resources labelled with their jurisdiction."""
    page.fill("#aid-point", f"{INCIDENT[0]},{INCIDENT[1]}")
    page.click("#aid-go")
    page.wait_for_selector("#aid tbody tr")
    by_name = {r[0].split()[0]: r for r in _cells(page, "aid")}
    assert {"通州消防站", "三河消防站", "武清消防站"} <= set(by_name)
    assert by_name["通州消防站"][1] == "北京市"
    assert by_name["三河消防站"][1].startswith("河北省") and "跨界" in by_name["三河消防站"][1]
    assert by_name["武清消防站"][1].startswith("天津市") and "跨界" in by_name["武清消防站"][1]
    assert page.locator("#aid tr.across").count() == 2
    for href in page.eval_on_selector_all("#aid-exports a", "as => as.map(a => a.getAttribute('href'))"):
        assert page.request.get(url + href).status == 200


def _check_mutual_aid_clicked(page: Page) -> None:
    """Mutual aid for a point clicked in Tianjin: Tianjin's own station is not across."""
    wuqing = STATIONS[2]
    page.evaluate(f"() => {{ window.borderPage.map.setView([{wuqing[3]}, {wuqing[2]}], 10); }}")
    point = page.evaluate(f"window.borderPage.map.latLngToContainerPoint([{wuqing[3] + 0.01}, {wuqing[2]}])")
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    wait_until(page, "document.querySelector('#aid').dataset.incident !== undefined && "
                           "!document.querySelector('#aid').dataset.incident.includes('lon=116.760000')")
    aid = {r[0].split()[0]: r for r in _cells(page, "aid")}
    assert aid["武清消防站"][1] == "天津市"
    assert "跨界" in aid["通州消防站"][1]


def test_border_page_zone_profile_crossings_exports_and_mutual_aid(
        browser: Browser, border_server: str, artifacts: Path) -> None:
    page, errors = _open(browser, f"{border_server}/border")
    assert page.locator("#synthetic-badge").is_visible()  # synthetic demo data is labelled
    overview = _cells(page, "overview")  # the overview of all three borders
    assert [r[0] for r in overview] == ["北京—河北", "北京—天津", "天津—河北"]
    _check_zone_counts(page, border_server)
    _check_profile(page, border_server)
    _check_crossings_and_exports(page, border_server)
    _check_mutual_aid_typed(page, border_server)
    _check_mutual_aid_clicked(page)
    page.evaluate(f"() => {{ window.borderPage.map.setView([{INCIDENT[1]}, {INCIDENT[0]}], 10); }}")
    page.screenshot(path=str(artifacts / "border_page.png"))
    assert errors == []
    page.close()


def test_pilot_preset_view(browser: Browser, border_server: str, artifacts: Path) -> None:
    page, errors = _open(browser, f"{border_server}/border?view=pilot&lang=en")
    assert "Tongzhou–Wuqing–Langfang" in page.inner_text("#pilot-areas")
    for name in ("通州区", "武清区", "廊坊市"):
        assert name in page.inner_text("#pilot-areas")
    bounds = page.evaluate("(() => { const b = window.borderPage.map.getBounds(); "
                           "return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; })()")
    west, south, east, north = bounds
    assert west < 116.8 and east > 117.2 and south < 39.4 and north > 39.9  # Tongzhou, Wuqing and Langfang
    assert east - west < 4  # zoomed to the sub-region, not the whole region
    page.screenshot(path=str(artifacts / "border_pilot.png"))
    assert errors == []
    page.close()
