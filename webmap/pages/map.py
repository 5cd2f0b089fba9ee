"""HTML pages: the map."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue

from geo.entities import RISK_LEVELS
from layers.catalog import CATALOG, display_labels
from layers.overlays import MAP_OVERLAYS, overlays_json
from webmap import context
from webmap.pages.base import page_config, page_language, render_page
from webmap.routes import PAGE_LANG, declare

pages = Blueprint("pages", __name__)

#: Entities whose rows are written by computation from other entities (area results), never loaded:
#: they hold no synthetic rows of their own (their inputs' flags already count).
_DERIVED_KINDS = frozenset({"area_results"})


def shows_synthetic_data(kinds: Sequence[str] | None = None) -> bool:
    """Whether ``kinds`` (default: every loaded entity a layer shows) hold synthetic demo rows.

    One store round trip for the versions (``Store.data_versions``); the rows are counted again only
    when one of those versions changed, so a load shows on the next page.
    """
    ctx = context.current()
    kinds = sorted(kinds or {layer.entity for layer in CATALOG} - _DERIVED_KINDS)
    return ctx.cache.get("pages.synthetic", ctx.store.data_versions(kinds), (),
                         lambda: any(ctx.store.count(k, where={"synthetic": True}) for k in kinds))


@cache
def _page_catalog() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every layer (by id) and the field/value labels as the page embeds them (the catalog is fixed
    at start)."""
    return {layer.id: layer.as_json() for layer in CATALOG}, display_labels()


def page_layers() -> list[dict[str, Any]]:
    """The layers of the catalog the signed-in role may see, as the page embeds them."""
    principal = context.principal()
    every, _ = _page_catalog()
    return [data for layer_id, data in every.items() if principal is not None and principal.sees(layer_id)]


@pages.get("/")
@declare("map.view", "The commander's map (一张图)", PAGE_LANG, produces="text/html", tags=("pages",))
def map_page() -> ResponseReturnValue:
    settings = context.settings()
    lang = page_language()
    _, display = _page_catalog()
    config = page_config(
        "map", lang, synthetic=shows_synthetic_data(), layers=page_layers(), display=display,
        levels=[{"code": c, "zh": zh, "en": en, "color": col} for c, zh, en, col in RISK_LEVELS],
        travel={"speed_kmh": settings.response_speed_kmh, "detour_factor": settings.detour_factor},
        chart_js=url_for("static", filename="vendor/chart.js/chart.umd.js"), overlays=overlays_json(MAP_OVERLAYS),
    )
    return render_page("map.html", config)
