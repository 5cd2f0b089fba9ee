"""The layer catalog: popup labels in both languages, words for coded values, the default layers."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from geo.entities import RISK_LEVELS
from layers.catalog import CATALOG, VALUE_LABELS, CatalogError, Layer, Style, display_labels, validate_catalog


def test_every_popup_field_has_a_chinese_and_an_english_label() -> None:
    validate_catalog()
    for layer in CATALOG:
        labels = layer.popup_labels()
        assert list(labels) == list(layer.popup)
        for field, label in labels.items():
            assert label["zh"] and label["en"], (layer.id, field)
            assert label["en"] != field, (layer.id, field)  # a word, not the column name


def test_a_popup_field_without_an_english_label_stops_the_catalog() -> None:
    layer = Layer("x", "测试", "Test", "组", "Group", "units", "point", popup=("name", "industry"))
    with pytest.raises(CatalogError, match="'industry' has no en label"):
        validate_catalog((layer,))


def test_coded_values_have_words_in_both_languages() -> None:
    for field in ("level", "site_type", "resource_type", "target_type", "status", "severity", "line_type"):
        assert VALUE_LABELS[field], field
        for value, (zh, en) in VALUE_LABELS[field].items():
            assert zh and en, (field, value)
    assert VALUE_LABELS["level"]["red"] == ("重大", "major")
    risk = next(layer for layer in CATALOG if layer.id == "risk_sources").as_json()
    assert risk["popup_labels"]["level"] == {"zh": "风险等级", "en": "Risk level"}
    assert risk["popup_values"]["level"]["orange"] == {"zh": "较大", "en": "significant"}
    assert display_labels()["values"]["resource_type"]["fire_station"]["en"] == "fire station"


def test_default_layers_are_the_commanders_essentials() -> None:
    on = {layer.id for layer in CATALOG if layer.default_on}
    assert on == {"provinces", "districts", "risk_sources", "hazchem_sites", "fire_stations"}
    assert all(layer.min_zoom == 0 for layer in CATALOG if layer.default_on)  # drawn on 512-px tiles (map.js)


def _config(html: str) -> dict:
    found = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_the_map_page_embeds_labels_and_loads_chart_js_on_demand(client: FlaskClient) -> None:
    html = client.get("/?lang=en").get_data(as_text=True)
    cfg = _config(html)
    assert cfg["display"]["fields"]["credit_code"]["en"] == "Unified social credit code"
    assert cfg["display"]["values"]["kind"]["units"] == {"zh": "生产经营单位", "en": "unit"}
    risk = next(layer for layer in cfg["layers"] if layer["id"] == "risk_sources")
    assert risk["popup_labels"]["name"]["en"] == "Name"
    assert cfg["chart_js"].endswith("chart.umd.js")
    assert "chart.umd.js\"></script>" not in html  # not loaded with the map
    assert client.get(cfg["chart_js"]).status_code == 200


def test_legend_classes_follow_the_style_with_words_in_both_languages() -> None:
    validate_catalog()
    layers = {layer.id: layer for layer in CATALOG}
    risk = layers["risk_sources"].legend()
    assert risk["by"] == {"zh": "风险等级", "en": "Risk level"}
    # level is required: the four colours, highest first, and no "other" class
    assert [(c["value"], c["zh"], c["en"], c["color"]) for c in risk["classes"]] == list(RISK_LEVELS)
    # an optional attribute: rows without one of the coloured values are drawn in the fixed colour
    hazards = layers["hidden_hazards"].legend()["classes"]
    assert hazards[-1] == {"value": None, "zh": "其他或未填", "en": "other or not given",
                           "color": layers["hidden_hazards"].style.color}
    # a filter that keeps only coloured values: no "other" class
    assert [c["value"] for c in layers["pipelines"].legend()["classes"]] == ["oil_pipeline", "gas_pipeline",
                                                                           "water_pipeline"]
    assert layers["risk_district"].legend()["classes"][-1]["value"] == "blue"
    assert layers["fire_stations"].legend() == {"by": None, "classes": []}
    assert layers["hazmat_routes"].as_json()["style"]["dash"] == "6 4"  # told apart from the red borders


def test_a_coloured_value_without_words_stops_the_catalog() -> None:
    layer = Layer("x", "测试", "Test", "组", "Group", "risk_sources", "point", popup=("name",),
                  style=Style(by="level", colors={"red": "#f00", "purple": "#808"}))
    with pytest.raises(CatalogError, match="'purple'"):
        validate_catalog((layer,))


def test_lines_and_outlines_in_one_colour_are_told_apart() -> None:
    # Layers drawn in a single colour (not by an attribute) differ in colour or dash, so the
    # legend can name each one: e.g. the 5th Ring zone and the 5th Ring road it follows.
    strokes = [(layer.style.color, layer.style.dash) for layer in CATALOG
               if layer.geometry in ("line", "polygon") and layer.style.by is None]
    assert len(strokes) == len(set(strokes))
    zone, road = (next(layer for layer in CATALOG if layer.id == i).style for i in ("zones", "ring_roads"))
    assert (zone.color, zone.dash) != (road.color, road.dash)


def test_resource_type_words_come_from_the_domain_table() -> None:
    from geo.response import RESOURCE_TYPE_WORDS, RESOURCE_TYPES
    from layers.catalog import VALUE_LABELS

    assert VALUE_LABELS["resource_type"] == RESOURCE_TYPE_WORDS
    assert {code: zh for code, (zh, _) in RESOURCE_TYPE_WORDS.items()} == RESOURCE_TYPES
    assert RESOURCE_TYPES["equipment_depot"] == "应急装备库"  # the answers' words are the map's (was 装备库)
