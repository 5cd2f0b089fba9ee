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
from webmap.cache import cached
from webmap.i18n import pick_language, strings, value_labels

pages = Blueprint("pages", __name__, static_folder="static", static_url_path="/static",
                  template_folder="templates")


def shows_synthetic_data(kinds: Sequence[str] | None = None) -> bool:
    """Whether ``kinds`` (default: every layer's) hold synthetic demo rows (cached until the data changes)."""
    store = context.store()
    kinds = sorted(kinds or {layer.entity for layer in CATALOG})
    version = tuple(store.data_version(k) for k in kinds)
    return cached(f"synthetic:{','.join(kinds)}", version,
                  lambda: any(store.count(k, where={"synthetic": True}) for k in kinds))


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
        t=strings(lang),
        layers=layers,
        levels=[{"code": c, "zh": zh, "en": en, "color": col} for c, zh, en, col in RISK_LEVELS],
        synthetic=synthetic,
        basemap={"url": settings.basemap_url, "datum": settings.basemap_datum},
        labels=value_labels(lang),
        display=display,
        travel={"speed_kmh": settings.response_speed_kmh, "detour_factor": settings.detour_factor},
    )
