"""Statistics API: per district, risk sources by level, open hidden hazards, resources by type."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo.capabilities.statistics import district_statistics
from webmap import context
from webmap.routes import declare

blueprint = Blueprint("api_statistics", __name__)


@blueprint.get("/stats/districts")
@declare("map.view", "Per district: risk sources by level, open hidden hazards, resources by type",
         tags=("statistics",))
def district_stats() -> ResponseReturnValue:
    return jsonify(district_statistics(context.store(), cache=context.cache(), scope=context.scope()))
