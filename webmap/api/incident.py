"""The commander's incident API: nearest resources, the incident report, fire-station coverage gaps."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo.capabilities.incident import coverage_report, incident_report, nearest_resources
from geo.response import FIRE_RESPONSE_MINUTES, RESOURCE_TYPES, TravelModel
from webmap import context
from webmap.geojson import feature_collection
from webmap.routes import LAT, LON, Param, args, declare

blueprint = Blueprint("api_incident", __name__)

#: Resource types, each at most once (a repeated type is counted once).
TYPES = Param("types", "list", "resource types (comma-separated)", optional=True,
              choices=tuple(RESOURCE_TYPES), max_items=len(RESOURCE_TYPES))
#: The travel model's assumptions, each overridable per request (defaults from the settings).
TRAVEL = (Param("speed_kmh", "number", "mean response speed, km/h (default: RISKMAP_RESPONSE_SPEED_KMH)",
                optional=True, minimum=1, maximum=200),
          Param("detour", "number", "road / straight-line distance (default: RISKMAP_DETOUR_FACTOR)",
                optional=True, minimum=1, maximum=5))


def travel_model() -> TravelModel:
    """The request's travel model: its ``speed_kmh``/``detour``, else the settings'."""
    a, s = args(), context.settings()
    return TravelModel(speed_kmh=a["speed_kmh"] or s.response_speed_kmh, detour_factor=a["detour"] or s.detour_factor)


@blueprint.get("/nearest")
@declare("incident.read", "The nearest resources of each type: true distance (m) and estimated arrival",
         LON, LAT, Param("k", "integer", "resources per type", default=5, minimum=1, maximum=100), TYPES, *TRAVEL,
         tags=("incident",))
def nearest() -> ResponseReturnValue:
    a, travel = args(), travel_model()
    types = a["types"] or list(RESOURCE_TYPES)
    found = nearest_resources(context.store(), a["lon"], a["lat"], types=types, k=a["k"], travel=travel,
                              scope=context.scope())
    return jsonify(lon=a["lon"], lat=a["lat"], k=a["k"], resources=found,
                   travel={"speed_kmh": travel.speed_kmh, "detour_factor": travel.detour_factor})


@blueprint.get("/incident")
@declare("incident.read", "Risk sources, hazardous-chemical sites and protection targets within a radius; "
         "the nearest resources", LON, LAT,
         Param("radius", "number", "radius, metres", default=1000.0, minimum=1, maximum=50_000),
         Param("k", "integer", "resources per type", default=3, minimum=1, maximum=20), *TRAVEL, tags=("incident",))
def incident() -> ResponseReturnValue:
    a = args()
    return jsonify(incident_report(context.store(), a["lon"], a["lat"], radius_m=a["radius"], k=a["k"],
                                   travel=travel_model(), scope=context.scope()))


@blueprint.get("/coverage")
@declare("incident.read", "Areas beyond N minutes of every resource of the types (fire stations by default), "
         "with km² and population",
         Param("minutes", "number", "response time, minutes", default=FIRE_RESPONSE_MINUTES, minimum=1, maximum=120),
         TYPES, *TRAVEL, tags=("incident",))
def coverage() -> ResponseReturnValue:
    a, ctx = args(), context.current()
    polygons, summary = coverage_report(ctx.store, minutes=a["minutes"], types=a["types"] or ["fire_station"],
                                        travel=travel_model(), reference_dir=ctx.paths.reference_dir,
                                        cache=ctx.cache, scope=context.scope())
    return jsonify({"summary": summary, "uncovered": feature_collection(polygons)})
