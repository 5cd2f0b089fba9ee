"""API endpoints for the Jing-Jin-Ji cross-border analysis (registered under /api/v1 by webmap.app).

``GET /border?pair=beijing-hebei&km=10``               counts by side and county pair
``GET /border/crossings?corridor_m=500[&pair=]``        pipelines / hazmat routes crossing a border
``GET /border/profile?pair=&segment_km=5&km=10&top=5``  border segments scored by nearby risk
``GET /border/all?km=10&segment_km=5&corridor_m=500``  every pair at once: counts by side, hottest
                                                        segment, crossing lines (fills the cache)
``GET /border/pilot``                                   the Tongzhou–Wuqing–Langfang preset
``GET /mutual-aid?lon=&lat=&k=3[&types=a,b]``           nearest resources from every province

Each accepts ``format=geojson|csv|xlsx|gpkg`` for a download.  Bad ``pair``/``km``/… → 400
naming the parameter and value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo import border as bd
from geo.capabilities import border as bq
from geo.files.exports import Export
from geo.response import RESOURCE_TYPES
from webmap import context
from webmap.api.downloads import ANSWER_FORMAT, download, requested_format
from webmap.routes import LAT, LON, Param, args, declare

blueprint = Blueprint("api_border", __name__)

PAIR = Param("pair", "string", "border pair", default="beijing-hebei", choices=tuple(bd.PAIRS))
ANY_PAIR = Param("pair", "string", "border pair (default: every pair)", optional=True, choices=tuple(bd.PAIRS))
KM = Param("km", "number", "zone width each side of the border, km", default=10.0, minimum=0.1,
           maximum=bd.MAX_ZONE_KM)
SEGMENT_KM = Param("segment_km", "number", "length of the border segments, km", default=5.0, minimum=0.5,
                   maximum=100.0)
CORRIDOR_M = Param("corridor_m", "number", "corridor either side of a line, metres", default=500.0, minimum=1.0,
                   maximum=bd.MAX_CORRIDOR_M)


def _answer(data: Any, fmt: str | None, stem: str, export: Callable[[Any], Export]) -> ResponseReturnValue:
    """``data`` as JSON (``fmt`` None) or its export in ``fmt``, named ``stem``."""
    return jsonify(data) if fmt is None else download(export(data), fmt, stem)


def _weights() -> dict[str, float]:
    """The risk-level weights of the app's area-risk parameters (the defaults when it cannot be read)."""
    ctx = context.current()
    return bq.level_weights(ctx.paths.area_config_path, cache=ctx.cache)


@blueprint.get("/border")
@declare("border.read", "Counts by side and county pair within km of a provincial border", PAIR, KM, ANSWER_FORMAT,
         tags=("border",))
def border_zone() -> ResponseReturnValue:
    pair, km, fmt = args()["pair"], args()["km"], requested_format()
    report = bq.border_zone(context.store(), pair, km=km, cache=context.cache(), scope=context.scope())
    if fmt is None:
        return jsonify(report.as_dict())
    return download(bq.zone_export(report), fmt, f"border-{pair}-{km:g}km")


@blueprint.get("/border/crossings")
@declare("border.read", "Pipelines and hazmat routes crossing a border, with their length in each province",
         CORRIDOR_M, ANY_PAIR, ANSWER_FORMAT, tags=("border",))
def border_crossings() -> ResponseReturnValue:
    corridor, pair, fmt = args()["corridor_m"], args()["pair"], requested_format()
    store, cache = context.store(), context.cache()
    items = bq.crossing_lines(store, corridor_m=corridor, pair_name=pair, cache=cache, scope=context.scope())
    answer = bq.crossings_as_dict(items, names=bq.read_geography(store, cache=cache).names)
    return _answer(answer, fmt, f"border-crossings-{corridor:g}m", bq.crossings_export)


@blueprint.get("/border/profile")
@declare("border.read", "Border segments scored by the risk near them; the hottest first", PAIR, SEGMENT_KM, KM,
         Param("top", "integer", "hottest segments listed", default=5, minimum=1, maximum=100), ANSWER_FORMAT,
         tags=("border",))
def border_profile() -> ResponseReturnValue:
    pair, km, fmt = args()["pair"], args()["km"], requested_format()
    segment_km, top = args()["segment_km"], args()["top"]
    answer = bq.border_profile(context.store(), pair, segment_km=segment_km, km=km, weights=_weights(), top=top,
                               cache=context.cache(), scope=context.scope())
    return _answer(answer, fmt, f"border-profile-{pair}", bq.profile_export)


@blueprint.get("/border/all")
@declare("border.read", "Every pair at once: counts by side, hottest segment, crossing lines", KM, SEGMENT_KM,
         CORRIDOR_M, tags=("border",))
def border_all() -> ResponseReturnValue:
    km, segment_km, corridor = args()["km"], args()["segment_km"], args()["corridor_m"]
    answer = bq.analyse_all_pairs(context.store(), km=km, segment_km=segment_km, corridor_m=corridor,
                                  weights=_weights(), cache=context.cache(), scope=context.scope())
    return jsonify(answer.summary())


@blueprint.get("/border/pilot")
@declare("border.read", "The Tongzhou–Wuqing–Langfang pilot region", tags=("border",))
def border_pilot() -> ResponseReturnValue:
    return jsonify(bq.pilot_region(context.store()))


@blueprint.get("/mutual-aid")
@declare("border.read", "The nearest resources from every province for a point, across borders", LON, LAT,
         Param("k", "integer", "resources per type and province", default=3, minimum=1, maximum=20),
         Param("types", "list", "resource types (comma-separated)", optional=True, choices=tuple(RESOURCE_TYPES),
               max_items=len(RESOURCE_TYPES)), ANSWER_FORMAT, tags=("border",))
def mutual_aid() -> ResponseReturnValue:
    a, fmt = args(), requested_format()
    answer = bq.mutual_aid(context.store(), a["lon"], a["lat"], k=a["k"], types=a["types"] or None,
                           cache=context.cache(), scope=context.scope())
    return _answer(answer, fmt, "mutual-aid", bq.mutual_aid_export)
