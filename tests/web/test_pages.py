"""The pages: the synthetic-data badge (one store round trip, right after a load), the base every page
loads, their words and the one table of words for coded values."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from flask.testing import FlaskClient
from shapely.geometry import Point, box
from web_support import STORE_KINDS, OpenLoadedStore

from geo.stores.protocol import LoadBatch, Store
from geo.veto import VERDICT_LABELS
from layers.catalog import VALUE_LABELS
from layers.overlays import BORDER_OVERLAYS, MAP_OVERLAYS, VERDICT_COLOURS, VETO_OVERLAYS
from webmap.app import create_app
from webmap.i18n import BARE_VALUE_FIELDS, string_table, value_labels
from webmap.settings import Settings


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="pages.csv", sha256="4" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _counting(store: Store, calls: Counter[str]) -> None:
    """Count the page's calls of the store's version and count methods (instance attributes shadow the
    methods; calls the store makes of itself inside one are not counted)."""
    depth = [0]
    for name in ("data_version", "data_versions", "count"):
        method = getattr(store, name)

        def counted(*args: Any, _method: Any = method, _name: str = name, **kwargs: Any) -> Any:
            if depth[0] == 0:
                calls[_name] += 1
            depth[0] += 1
            try:
                return _method(*args, **kwargs)
            finally:
                depth[0] -= 1

        setattr(store, name, counted)


def _load_real_only(store: Store) -> None:
    """Dongcheng, a reference row (not synthetic)."""
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110101"], "area_code": ["110101"], "name": ["东城区"], "area_type": ["district"],
         "province_code": ["110000"], "synthetic": [False]},
        geometry=[box(116.38, 39.85, 116.45, 39.97)], crs="EPSG:4326"), batch=_batch("areas"))


@pytest.fixture(params=STORE_KINDS)
def real_only(request: pytest.FixtureRequest, tmp_path: Path, open_loaded_store: OpenLoadedStore
              ) -> Iterator[tuple[FlaskClient, Store]]:
    """A store with reference rows only (no synthetic ones)."""
    with open_loaded_store(request.param, tmp_path, _load_real_only) as (store, settings):
        yield create_app(settings, store=store).test_client(), store


def test_the_badge_appears_on_the_next_page_after_a_synthetic_load(real_only: tuple[FlaskClient, Store]
                                                                   ) -> None:
    client, store = real_only
    assert 'id="synthetic-badge"' not in client.get("/").get_data(as_text=True)
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": ["C1|R1"], "credit_code": ["C1"], "source_code": ["R1"], "name": ["演示储罐"], "level": ["red"],
         "synthetic": [True]}, geometry=[Point(116.40, 39.90)], crs="EPSG:4326"), batch=_batch("risk_sources"))
    assert 'id="synthetic-badge"' in client.get("/").get_data(as_text=True)
    assert 'id="synthetic-badge"' in client.get("/?lang=en").get_data(as_text=True)


def test_a_page_asks_the_versions_in_one_call_and_counts_only_after_a_change(
        real_only: tuple[FlaskClient, Store]) -> None:
    client, store = real_only
    calls: Counter[str] = Counter()
    _counting(store, calls)
    client.get("/")
    assert calls["data_versions"] == 1 and calls["data_version"] == 0
    assert 0 < calls["count"] <= 7  # the loaded entities a layer shows; area results are computed, never synthetic
    calls.clear()
    client.get("/")
    assert calls == Counter({"data_versions": 1})  # unchanged data: nothing counted again


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_the_page_carries_legend_words_in_its_language(client: FlaskClient) -> None:
    zh = _config(client.get("/").get_data(as_text=True))
    en = _config(client.get("/?lang=en").get_data(as_text=True))
    map_strings = string_table()["common"] | string_table()["map"]
    for key in map_strings:
        assert zh["t"][key] == map_strings[key]["zh"] and en["t"][key] == map_strings[key]["en"]
    assert zh["t"]["legend"] == "图例" and en["t"]["legend"] == "Legend"
    # in English no Chinese, but for the language switch (it names the other language in its own words)
    assert not re.search(r"[\u4e00-\u9fff]", "".join(map_strings[k]["en"] for k in map_strings if k != "language"))
    risk = next(layer for layer in en["layers"] if layer["id"] == "risk_sources")
    assert [c["en"] for c in risk["legend"]["classes"]] == ["major", "significant", "general", "low"]


def _page_config(html: str, page: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{page}-config" type="application/json">(.*?)</script>', html, re.S)
    assert found, page
    return json.loads(found.group(1))


@pytest.mark.parametrize(("path", "page"), [("/", "map"), ("/veto", "veto"), ("/border", "border")])
def test_every_page_loads_the_base_and_carries_its_basemap_datum_words_and_labels(
        tmp_path: Path, path: str, page: str) -> None:
    settings = Settings(gpkg_path=tmp_path / "base.gpkg", basemap_url="/tiles-gcj/{z}/{x}/{y}.png",
                        basemap_datum="gcj02")
    client = create_app(settings).test_client()
    for lang in ("zh", "en"):
        html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        cfg = _page_config(html, page)
        assert cfg["page"] == page and cfg["lang"] == lang
        assert cfg["basemap"] == {"url": "/tiles-gcj/{z}/{x}/{y}.png", "datum": "gcj02"}
        words = string_table()["common"] | string_table()[page]
        assert {k: cfg["t"][k] for k in words if k != "synthetic"} == \
            {k: v[lang] for k, v in words.items() if k != "synthetic"}
        assert cfg["labels"] == value_labels(lang)
        scripts = re.findall(r'<script src="([^"]+)"', html)
        assert scripts[:2] == ["/static/vendor/leaflet/leaflet.js", "/static/js/base.js"]  # then the page's own
        assert 'href="/static/css/base.css"' in html


def test_the_words_for_coded_values_are_the_catalogs_one_table() -> None:
    for lang, index in (("zh", 0), ("en", 1)):
        words = value_labels(lang)
        for field in BARE_VALUE_FIELDS:
            for value in VALUE_LABELS[field]:
                first = next(f for f in BARE_VALUE_FIELDS if value in VALUE_LABELS[f])  # the first naming it
                assert words[value] == VALUE_LABELS[first][value][index], (field, value)
    assert value_labels("zh")["equipment_depot"] == "应急装备库" and value_labels("en")["equipment_depot"] == \
        "equipment depot"  # the catalog's words (the map's old second table said 装备库)
    assert all(re.search(r"[\u4e00-\u9fff]", w) for w in value_labels("zh").values())  # no code on a Chinese page


def test_the_verdict_overlays_colour_every_verdict_with_the_rules_words() -> None:
    assert set(VERDICT_COLOURS) == set(VERDICT_LABELS)
    parcels = VETO_OVERLAYS["parcels"].legend()["classes"]
    assert [(c["value"], c["zh"]) for c in parcels[:-1]] == [(v, VERDICT_LABELS[v]["zh"]) for v in VERDICT_COLOURS]
    for overlays in (VETO_OVERLAYS, BORDER_OVERLAYS, MAP_OVERLAYS):
        for overlay in overlays.values():
            assert overlay.zh and overlay.en and overlay.geometry in ("point", "line", "polygon")
            assert set(overlay.style.colors) <= set(overlay.words), overlay.id  # every colour named
            assert len(overlay.breaks) in (0, len(overlay.style.colors)), overlay.id
