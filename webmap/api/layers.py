"""The JSON API (``/api/v1``): health, the layer catalog, features."""

from __future__ import annotations

import platform
from importlib.metadata import version

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from layers.catalog import CATALOG, get_layer
from webmap import context
from webmap.geojson import feature_collection
from webmap.params import get_bbox, get_int

api = Blueprint("api", __name__)


@api.get("/health")
def health() -> ResponseReturnValue:
    info = context.store().info()
    return jsonify(
        status="ok",
        store={"kind": info.kind, "location": info.location, "schema_version": info.schema_version},
        versions={**info.versions, "python": platform.python_version(), "riskmap": version("riskmap")},
    )


@api.get("/layers")
def layers() -> ResponseReturnValue:
    return jsonify(layers=[layer.as_json() for layer in CATALOG])


@api.get("/layers/<layer_id>/features")
def features(layer_id: str) -> ResponseReturnValue:
    layer = get_layer(layer_id)  # NotFound (404) naming the known layers
    limit = get_int(request.args, "limit", default=1000, lo=1, hi=10000)
    offset = get_int(request.args, "offset", default=0, lo=0)
    frame = context.store().read(
        layer.entity, bbox=get_bbox(request.args), where=layer.where, limit=limit, offset=offset
    )
    return jsonify(feature_collection(frame, columns=list(layer.tile_columns)))
