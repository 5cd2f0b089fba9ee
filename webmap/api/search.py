"""Search API: units, sites, targets and areas by name or credit code; addresses through the geocoder."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from geo.capabilities.search import search_features
from geo.errors import BadInput
from webmap import context
from webmap.params import get_int

blueprint = Blueprint("api_search", __name__)


@blueprint.get("/search")
def search() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()
    if not q:
        raise BadInput("missing parameter 'q'")
    if len(q) > 200:
        raise BadInput("parameter 'q' is longer than 200 characters")
    limit = get_int(request.args, "limit", default=10, lo=1, hi=50)
    ctx = context.current()
    return jsonify(query=q, results=search_features(ctx.store, q, limit=limit, geocoder=ctx.geocoder()))
