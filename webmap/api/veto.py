"""Site-veto API (registered under /api/v1 by webmap.app).

``POST /veto``            one site → verdict JSON
``POST /veto/batch``      a parcel file (multipart ``file``) → verdicts, ``?format=geojson|csv|xlsx|gpkg``
``GET  /veto/rules``      the rule set and the land uses
``GET  /audit``           existing protection targets in conflict, ``?district=&format=geojson|csv|xlsx|gpkg``

Invalid geometry → 422 naming the problem and where; unknown land use → 400 naming
it; a site outside the covered region → 200 with verdict ``OUTSIDE_COVERAGE``.

Each verdict is in the audit log once: ``veto`` (:func:`geo.capabilities.audit_log.veto_details`)
here; ``veto_batch`` and ``veto_audit`` with their file (:func:`webmap.api.downloads.download`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from geo.capabilities.audit_log import batch_details, conflicts_details, veto_details
from geo.capabilities.veto import (
    SYNTHETIC_NOTICE,
    audit_conflicts,
    audit_export,
    evaluate_one,
    evaluate_parcels,
    read_parcels,
    verdicts_export,
)
from geo.errors import BadInput, RiskmapError, Unavailable, Unprocessable
from geo.veto import GeometryError, RuleSet, RuleSetError, site_from_geojson
from webmap import context
from webmap.api.downloads import FILE_FORMAT, Action, download, requested_format
from webmap.auth import record
from webmap.routes import LANG, Param, args, declare, json_body

blueprint = Blueprint("api_veto", __name__)


def rule_set() -> RuleSet:
    """The app's rule set (``Settings.paths.rules_path``, parsed again when the file changes).

    An invalid rule file is the server's fault, not the caller's: :class:`Unavailable` (503).
    """
    try:
        return context.current().rule_set()
    except RuleSetError as exc:
        raise Unavailable(f"rule set invalid: {exc}") from None


def _geocode(address: str) -> tuple[Any, dict[str, Any]]:
    """(point, geocode result dict) for ``address``; 422 when no geocoder or no match."""
    try:
        geocoder = context.current().store_geocoder()
    except ImportError:
        raise Unprocessable("address geocoding unavailable") from None
    except (ValueError, FileNotFoundError) as exc:
        raise Unprocessable(f"address geocoding unavailable: {exc}") from None
    found = geocoder.geocode(address)
    if found.lon is None or found.lat is None:
        raise Unprocessable(f"address {address!r} could not be geocoded ({found.precision})")
    import shapely

    return shapely.Point(found.lon, found.lat), found.as_dict()


#: The JSON body of POST /veto (JSON Schema; the OpenAPI document shows it).
VETO_BODY = {
    "type": "object", "required": ["land_use"],
    "properties": {
        "land_use": {"type": "string", "maxLength": 64, "description": "proposed land use (GET /veto/rules)"},
        "geometry": {"type": "object", "description": "GeoJSON Point or Polygon (or Multi-), in `datum`"},
        "datum": {"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"], "default": "wgs84"},
        "name": {"type": "string", "maxLength": 200},
        "address": {"type": "string", "maxLength": 200, "description": "instead of a geometry"},
    },
}
#: The multipart form of POST /veto/batch.
BATCH_FORM = {
    "type": "object", "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "GeoJSON, GeoPackage, CSV (WKT or lon/lat) or zipped Shapefile"},
        "land_use": {"type": "string", "description": "land use of every parcel without a land-use column"},
        "land_use_column": {"type": "string"},
        "datum": {"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"], "default": "wgs84"},
    },
}


@blueprint.post("/veto")
@declare("veto.run", "Site veto (一票否决) of one site: every rule, hit or not, with distances and citations",
         body=VETO_BODY, tags=("veto",))
def veto() -> ResponseReturnValue:
    body = json_body()
    if not body.get("land_use"):
        raise BadInput("missing 'land_use'")
    geocoded = None
    if body.get("geometry") is None and body.get("address"):
        site, geocoded = _geocode(str(body["address"]))
    else:
        try:
            site = site_from_geojson(body.get("geometry"), datum=str(body.get("datum") or "wgs84"))
        except GeometryError:
            raise
        except ValueError as exc:  # unknown datum
            raise BadInput(f"'datum': {exc}") from None
    verdict, stamp = evaluate_one(context.store(), rule_set(), site, str(body["land_use"]), name=body.get("name"),
                                  cache=context.cache(), scope=context.scope())
    record("veto", target=str(body.get("name") or ""), details=veto_details(verdict, stamp))
    out = {**verdict.as_dict(), **stamp.as_dict(), "address": body.get("address"), "geocode": geocoded,
           "notice": SYNTHETIC_NOTICE if verdict.synthetic else None}
    return jsonify(out)


@blueprint.post("/veto/batch")
@declare("veto.run", "Site veto of every parcel of a file; the verdicts as a file", FILE_FORMAT, LANG,
         body=BATCH_FORM, body_type="multipart", tags=("veto",))
def veto_batch() -> ResponseReturnValue:
    fmt = requested_format() or "geojson"
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadInput("missing multipart file field 'file' (GeoJSON, GeoPackage, CSV or zipped Shapefile)")
    land_use_column = request.form.get("land_use_column") or None
    try:
        parcels = read_parcels(upload.filename, data=upload.read(), datum=request.form.get("datum", "wgs84"))
        result = evaluate_parcels(context.store(), rule_set(), parcels, land_use_column=land_use_column,
                                  default_land_use=request.form.get("land_use") or None, cache=context.cache(),
                                  scope=context.scope())
    except RiskmapError:
        raise
    except ValueError as exc:  # a library's complaint about the file
        raise BadInput(str(exc)) from None
    return download(verdicts_export(result, lang=args()["lang"]), fmt, "veto_verdicts",
                    action=Action("veto_batch", upload.filename,
                                  batch_details(result, source=upload.filename, land_use_column=land_use_column)))


@blueprint.get("/veto/rules")
@declare("veto.run", "The rule set: rules, land uses, protection classes, citations", tags=("veto",))
def veto_rules() -> ResponseReturnValue:
    return jsonify(rule_set().as_dict())


@blueprint.get("/audit")
@declare("veto.audit", "Existing protection targets in conflict with the rules, by district", FILE_FORMAT,
         Param("district", "string", "a district code (default: all)", optional=True, max_length=12),
         tags=("veto",))
def audit() -> ResponseReturnValue:
    fmt, district = requested_format() or "geojson", args()["district"]
    result = audit_conflicts(context.store(), rule_set(), district=district, cache=context.cache(),
                             scope=context.scope())
    return download(audit_export(result), fmt, "veto_audit",
                    action=Action("veto_audit", district or "", conflicts_details(result, district=district)))
