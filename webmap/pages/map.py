"""HTML pages: the map."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from geo.entities import RISK_LEVELS
from layers.catalog import CATALOG, display_labels
from webmap import context
from webmap.i18n import pick_language, strings, value_labels

pages = Blueprint("pages", __name__)


#: Entities whose rows are written by computation from other entities (area results), never loaded:
#: they hold no synthetic rows of their own (their inputs' flags already count).
_DERIVED_KINDS = frozenset({"area_results"})

#: Words of the map page beyond the shared UI strings (webmap/i18n.py): legend, Leaflet controls.
MAP_STRINGS: dict[str, dict[str, str]] = {
    "legend_show": {"zh": "展开图例", "en": "Show legend"},
    "legend_hide": {"zh": "收起图例", "en": "Hide legend"},
    "legend_empty": {"zh": "未显示图层", "en": "No layer shown"},
    "legend_from_zoom": {"zh": "放大到缩放级别 {zoom} 后显示", "en": "shown from zoom {zoom}"},
    "legend_clusters": {"zh": "聚合(缩放级别低于 {zoom}):圆越大数量越多,颜色为其中最高的{field}",
                        "en": "Clusters (below zoom {zoom}): size shows the count, colour the highest {field} inside"},
    "legend_heatmap": {"zh": "每平方公里风险权重(核密度)", "en": "risk weight per km² (kernel density)"},
    "legend_incident": {"zh": "事故点", "en": "Incident"},
    "legend_rings": {"zh": "查询半径及其一半", "en": "Radius and half radius"},
    "legend_nearest": {"zh": "最近应急资源及连线", "en": "Nearest resources, linked"},
    "zoom_in": {"zh": "放大", "en": "Zoom in"},
    "zoom_out": {"zh": "缩小", "en": "Zoom out"},
    "leaflet_title": {"zh": "交互式网络地图开源库", "en": "A JavaScript library for interactive maps"},
    "request_failed": {"zh": "查询失败,服务器信息:", "en": "Request failed:"},
}


def shows_synthetic_data(kinds: Sequence[str] | None = None) -> bool:
    """Whether ``kinds`` (default: every loaded entity a layer shows) hold synthetic demo rows.

    One store round trip for the versions (``Store.data_versions``); the rows are counted again only
    when one of those versions changed, so a load shows on the next page.
    """
    ctx = context.current()
    kinds = sorted(kinds or {layer.entity for layer in CATALOG} - _DERIVED_KINDS)
    return ctx.cache.get("pages.synthetic", ctx.store.data_versions(kinds), (),
                         lambda: any(ctx.store.count(k, where={"synthetic": True}) for k in kinds))


def map_strings(lang: str) -> dict[str, str]:
    """The shared UI strings and the map page's own, in ``lang``."""
    return strings(lang) | {key: texts[lang] for key, texts in MAP_STRINGS.items()}


@cache
def _page_catalog() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The layers and the field/value labels as the page embeds them (the catalog is fixed at start)."""
    return [layer.as_json() for layer in CATALOG], display_labels()


@pages.get("/")
def map_page() -> ResponseReturnValue:
    settings = context.settings()
    lang = pick_language(request.args.get("lang"), settings.language)
    synthetic = shows_synthetic_data()
    layers, display = _page_catalog()
    return render_template(
        "map.html",
        lang=lang,
        t=map_strings(lang),
        layers=layers,
        levels=[{"code": c, "zh": zh, "en": en, "color": col} for c, zh, en, col in RISK_LEVELS],
        synthetic=synthetic,
        basemap={"url": settings.basemap_url, "datum": settings.basemap_datum},
        labels=value_labels(lang),
        display=display,
        travel={"speed_kmh": settings.response_speed_kmh, "detour_factor": settings.detour_factor},
    )
