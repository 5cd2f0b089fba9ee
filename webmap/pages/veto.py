"""The planner's site-veto page (registered by webmap.app): ``/veto``."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from geo.capabilities.veto import SYNTHETIC_NOTICE
from geo.veto import VERDICT_LABELS
from layers.catalog import get_layer
from layers.overlays import VETO_OVERLAYS, overlays_json
from webmap.api.veto import rule_set
from webmap.pages.base import page_config, page_language, render_page
from webmap.pages.map import shows_synthetic_data
from webmap.routes import PAGE_LANG, declare

page_blueprint = Blueprint("pages_veto", __name__)

#: Catalog layers the page draws under the site, for orientation.
CONTEXT_LAYERS = ("zones",)


@page_blueprint.get("/veto")
@declare("veto.run", "The planner's site-veto page (一票否决审查)", PAGE_LANG, produces="text/html",
         tags=("pages",))
def veto_page() -> ResponseReturnValue:
    lang = page_language()
    rules = rule_set()
    config = page_config(
        "veto", lang, synthetic=shows_synthetic_data(("hazchem_sites", "lines")),
        strings={"synthetic": SYNTHETIC_NOTICE[lang]}, verdicts=VERDICT_LABELS,
        land_uses=[u.as_dict() for u in rules.land_uses],
        protection_classes={k: v.model_dump() for k, v in rules.protection_classes.items()},
        rule_set_version=rules.version,
        # drawn under the site for orientation (5th Ring, core, sub-centre), from the catalog
        context_layers=[get_layer(layer_id).as_json() for layer_id in CONTEXT_LAYERS],
        overlays=overlays_json(VETO_OVERLAYS),
    )
    return render_page("veto.html", config)
