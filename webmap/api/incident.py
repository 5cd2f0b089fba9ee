"""The commander's incident API: nearest resources, the incident report, fire-station coverage gaps."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from geo.capabilities.incident import coverage_report, incident_report, nearest_resources
from geo.errors import BadInput
from geo.response import FIRE_RESPONSE_MINUTES, RESOURCE_TYPES, TravelModel
from webmap import context
from webmap.geojson import feature_collection
from webmap.params import get_float, get_int

blueprint = Blueprint("api_incident", __name__)


def _travel() -> TravelModel:
    s = context.settings()
    return TravelModel(
        speed_kmh=get_float(request.args, "speed_kmh", default=s.response_speed_kmh, lo=1, hi=200),
        detour_factor=get_float(request.args, "detour", default=s.detour_factor, lo=1, hi=5),
    )


def _point() -> tuple[float, float]:
    return get_float(request.args, "lon", lo=-180, hi=180), get_float(request.args, "lat", lo=-90, hi=90)


def _types() -> list[str]:
    raw = request.args.get("types") or ",".join(RESOURCE_TYPES)
    types = [t.strip() for t in raw.split(",") if t.strip()]
    for t in types:
        if t not in RESOURCE_TYPES:
            raise BadInput(f"parameter 'types': unknown resource type {t!r}; known: {', '.join(RESOURCE_TYPES)}")
    return types


@blueprint.get("/nearest")
def nearest() -> ResponseReturnValue:
    lon, lat = _point()
    k = get_int(request.args, "k", default=5, lo=1, hi=100)
    travel = _travel()
    found = nearest_resources(context.store(), lon, lat, types=_types(), k=k, travel=travel)
    return jsonify(lon=lon, lat=lat, k=k, travel={"speed_kmh": travel.speed_kmh,
                                                    "detour_factor": travel.detour_factor}, resources=found)


@blueprint.get("/incident")
def incident() -> ResponseReturnValue:
    lon, lat = _point()
    radius = get_float(request.args, "radius", default=1000, lo=1, hi=50_000)
    k = get_int(request.args, "k", default=3, lo=1, hi=20)
    return jsonify(incident_report(context.store(), lon, lat, radius_m=radius, k=k, travel=_travel()))



@blueprint.get("/coverage")
def coverage() -> ResponseReturnValue:
    minutes = get_float(request.args, "minutes", default=FIRE_RESPONSE_MINUTES, lo=1, hi=120)
    types = _types() if request.args.get("types") else ["fire_station"]
    ctx = context.current()
    polygons, summary = coverage_report(ctx.store, minutes=minutes, types=types, travel=_travel(),
                                        reference_dir=ctx.paths.reference_dir, cache=ctx.cache)
    return jsonify({"summary": summary, "uncovered": feature_collection(polygons)})
