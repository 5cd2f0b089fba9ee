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

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from geo import border as bd
from geo.capabilities import border as bq
from geo.errors import BadInput
from geo.files.exports import Export
from webmap import context
from webmap.api.downloads import answer_format, download
from webmap.params import get_float, get_int

blueprint = Blueprint("api_border", __name__)


def _pair(default: str | None = "beijing-hebei") -> str | None:
    raw = request.args.get("pair") or default
    if raw is None:
        return None
    if raw.strip().lower() not in bd.PAIRS:
        raise BadInput(f"parameter 'pair': {raw!r} is not one of {', '.join(bd.PAIRS)}")
    return raw.strip().lower()


def _answer(data: Any, fmt: str | None, stem: str, export: Callable[[Any], Export]) -> ResponseReturnValue:
    """``data`` as JSON (``fmt`` None) or its export in ``fmt``, named ``stem``."""
    return jsonify(data) if fmt is None else download(export(data), fmt, stem)


def _weights() -> dict[str, float]:
    """The risk-level weights of the app's area-risk parameters (the defaults when it cannot be read)."""
    ctx = context.current()
    return bq.level_weights(ctx.paths.area_config_path, cache=ctx.cache)


def _km() -> float:
    return get_float(request.args, "km", default=10.0, lo=0.1, hi=bd.MAX_ZONE_KM)


@blueprint.get("/border")
def border_zone() -> ResponseReturnValue:
    pair, km, fmt = _pair(), _km(), answer_format()
    assert pair is not None
    report = bq.border_zone(context.store(), pair, km=km, cache=context.cache())
    if fmt is None:
        return jsonify(report.as_dict())
    return download(bq.zone_export(report), fmt, f"border-{pair}-{km:g}km")


@blueprint.get("/border/crossings")
def border_crossings() -> ResponseReturnValue:
    corridor = get_float(request.args, "corridor_m", default=500.0, lo=1.0, hi=bd.MAX_CORRIDOR_M)
    pair, fmt = _pair(default=None), answer_format()
    store, cache = context.store(), context.cache()
    items = bq.crossing_lines(store, corridor_m=corridor, pair_name=pair, cache=cache)
    answer = bq.crossings_as_dict(items, names=bq.read_geography(store, cache=cache).names)
    return _answer(answer, fmt, f"border-crossings-{corridor:g}m", bq.crossings_export)


@blueprint.get("/border/profile")
def border_profile() -> ResponseReturnValue:
    pair, km, fmt = _pair(), _km(), answer_format()
    assert pair is not None
    segment_km = get_float(request.args, "segment_km", default=5.0, lo=0.5, hi=100.0)
    top = get_int(request.args, "top", default=5, lo=1, hi=100)
    answer = bq.border_profile(context.store(), pair, segment_km=segment_km, km=km, weights=_weights(), top=top,
                               cache=context.cache())
    return _answer(answer, fmt, f"border-profile-{pair}", bq.profile_export)


@blueprint.get("/border/all")
def border_all() -> ResponseReturnValue:
    km = _km()
    segment_km = get_float(request.args, "segment_km", default=5.0, lo=0.5, hi=100.0)
    corridor = get_float(request.args, "corridor_m", default=500.0, lo=1.0, hi=bd.MAX_CORRIDOR_M)
    answer = bq.analyse_all_pairs(context.store(), km=km, segment_km=segment_km, corridor_m=corridor,
                                  weights=_weights(), cache=context.cache())
    return jsonify(answer.summary())


@blueprint.get("/border/pilot")
def border_pilot() -> ResponseReturnValue:
    return jsonify(bq.pilot_region(context.store()))


@blueprint.get("/mutual-aid")
def mutual_aid() -> ResponseReturnValue:
    lon = get_float(request.args, "lon", lo=-180.0, hi=180.0)
    lat = get_float(request.args, "lat", lo=-90.0, hi=90.0)
    k = get_int(request.args, "k", default=3, lo=1, hi=20)
    fmt = answer_format()
    types = [t for t in (request.args.get("types") or "").split(",") if t.strip()] or None
    try:
        answer = bq.mutual_aid(context.store(), lon, lat, k=k, types=types, cache=context.cache())
    except ValueError as exc:
        raise BadInput(f"parameter 'types': {exc}") from None
    return _answer(answer, fmt, "mutual-aid", bq.mutual_aid_export)
