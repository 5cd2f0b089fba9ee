"""Search API: units, sites, targets and areas by name or credit code; addresses through the geocoder."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo.capabilities.search import search_features
from webmap import context
from webmap.routes import Param, args, declare

blueprint = Blueprint("api_search", __name__)


@blueprint.get("/search")
@declare("map.view", "Units, sites, targets and areas by name or credit code; addresses through the geocoder",
         Param("q", "string", "what to look for", max_length=200),
         Param("limit", "integer", "results at most", default=10, minimum=1, maximum=50), tags=("search",))
def search() -> ResponseReturnValue:
    a = args()
    ctx = context.current()
    return jsonify(query=a["q"], results=search_features(ctx.store, a["q"], limit=a["limit"],
                                                         geocoder=ctx.geocoder(), scope=context.scope()))
