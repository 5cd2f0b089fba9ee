"""Site-veto API (registered under /api/v1 by webmap.app).

``POST /veto``            one site → verdict JSON
``POST /veto/batch``      a parcel file (multipart ``file``) → verdicts, ``?format=geojson|xlsx|csv``
``GET  /veto/rules``      the rule set and the land uses
``GET  /audit``           existing protection targets in conflict, ``?district=&format=geojson|xlsx|csv``

Invalid geometry → 422 naming the problem and where; unknown land use → 400 naming
it; a site outside the covered region → 200 with verdict ``OUTSIDE_COVERAGE``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from geo.capabilities.veto import (
    OUTPUT_FORMATS,
    SYNTHETIC_NOTICE,
    audit_conflicts,
    evaluate_one,
    evaluate_parcels,
    read_parcels,
    write_audit,
    write_verdicts,
)
from geo.veto import GeometryError, RuleSet, RuleSetError, UnknownLandUseError, site_from_geojson
from webmap import context
from webmap.errors import BadRequest

blueprint = Blueprint("api_veto", __name__)

_MEDIA = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class Unprocessable(ValueError):
    """Well-formed input that cannot be evaluated (422)."""


@blueprint.errorhandler(GeometryError)
def _geometry_error(exc: GeometryError) -> ResponseReturnValue:
    return jsonify(error=str(exc), problem=exc.problem, location=exc.location, status=422), 422


@blueprint.errorhandler(Unprocessable)
def _unprocessable(exc: Unprocessable) -> ResponseReturnValue:
    return jsonify(error=str(exc), status=422), 422


@blueprint.errorhandler(UnknownLandUseError)
def _unknown_land_use(exc: UnknownLandUseError) -> ResponseReturnValue:
    return jsonify(error=str(exc), land_use=str(exc.value), known=exc.known, status=400), 400


@blueprint.errorhandler(RuleSetError)
def _bad_rules(exc: RuleSetError) -> ResponseReturnValue:
    return jsonify(error=f"rule set invalid: {exc}", status=503), 503


def rule_set() -> RuleSet:
    """The app's rule set (``Settings.paths.rules_path``, parsed again when the file changes)."""
    return context.current().rule_set()


def _format(default: str) -> str:
    fmt = (request.args.get("format") or default).lower()
    if fmt not in OUTPUT_FORMATS:
        raise BadRequest(f"parameter 'format': {fmt!r} is not one of {', '.join(OUTPUT_FORMATS)}")
    return fmt


def _download(data: bytes, fmt: str, stem: str) -> Response:
    disposition = "inline" if fmt == "geojson" else "attachment"
    return Response(data, mimetype=_MEDIA[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{stem}.{fmt}"'})


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


@blueprint.post("/veto")
def veto() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object {geometry, land_use, name?, address?}")
    if not body.get("land_use"):
        raise BadRequest("missing 'land_use'")
    geocoded = None
    if body.get("geometry") is None and body.get("address"):
        site, geocoded = _geocode(str(body["address"]))
    else:
        try:
            site = site_from_geojson(body.get("geometry"), datum=str(body.get("datum") or "wgs84"))
        except GeometryError:
            raise
        except ValueError as exc:  # unknown datum
            raise BadRequest(f"'datum': {exc}") from None
    verdict, stamp = evaluate_one(context.store(), rule_set(), site, str(body["land_use"]), name=body.get("name"),
                                  cache=context.cache())
    out = {**verdict.as_dict(), **stamp.as_dict(), "address": body.get("address"), "geocode": geocoded,
           "notice": SYNTHETIC_NOTICE if verdict.synthetic else None}
    return jsonify(out)


@blueprint.post("/veto/batch")
def veto_batch() -> ResponseReturnValue:
    fmt = _format("geojson")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("missing multipart file field 'file' (GeoJSON, GeoPackage, CSV or zipped Shapefile)")
    try:
        parcels = read_parcels(upload.filename, data=upload.read(), datum=request.form.get("datum", "wgs84"))
        result = evaluate_parcels(context.store(), rule_set(), parcels,
                                  land_use_column=request.form.get("land_use_column") or None,
                                  default_land_use=request.form.get("land_use") or None, cache=context.cache())
    except ValueError as exc:
        if isinstance(exc, GeometryError | UnknownLandUseError):
            raise
        raise BadRequest(str(exc)) from None
    return _download(write_verdicts(result, fmt, lang=request.args.get("lang", "zh")), fmt, "veto_verdicts")


@blueprint.get("/veto/rules")
def veto_rules() -> ResponseReturnValue:
    return jsonify(rule_set().as_dict())


@blueprint.get("/audit")
def audit() -> ResponseReturnValue:
    fmt = _format("geojson")
    result = audit_conflicts(context.store(), rule_set(), district=request.args.get("district") or None,
                             cache=context.cache())
    return _download(write_audit(result, fmt), fmt, "veto_audit")
