"""The regional analyst's cross-border page (registered by webmap.app): ``/border``."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from geo.border import PAIRS
from geo.capabilities.border import SYNTHETIC_NOTICE
from geo.entities import RISK_LEVELS
from layers.overlays import BORDER_OVERLAYS, overlays_json
from webmap.pages.base import page_config, page_language, render_page
from webmap.pages.map import shows_synthetic_data
from webmap.routes import PAGE_LANG, Param, declare

page_blueprint = Blueprint("pages_border", __name__)


@page_blueprint.get("/border")
@declare("border.read", "The regional analyst's cross-border page (京津冀跨界分析)", PAGE_LANG,
         Param("view", "string", "a preset view: pilot", optional=True, max_length=16), produces="text/html",
         tags=("pages",))
def border_page() -> ResponseReturnValue:
    lang = page_language()
    config = page_config(
        "border", lang, synthetic=shows_synthetic_data(("risk_sources", "lines")),
        strings={"synthetic": SYNTHETIC_NOTICE[lang]},
        view="pilot" if request.args.get("view") == "pilot" else None,
        pairs=[{"name": p.name, "label": p.zh if lang == "zh" else p.en} for p in PAIRS.values()],
        levels=[{"code": c, "label": zh if lang == "zh" else en, "colour": col} for c, zh, en, col in RISK_LEVELS],
        overlays=overlays_json(BORDER_OVERLAYS),
    )
    return render_page("border.html", config)
