"""The JSON API (``/api/v1``): health, the layer catalog, features."""

from __future__ import annotations

import platform
from importlib.metadata import version

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo.scope import scoped_layer_where
from layers.catalog import CATALOG, get_layer
from webmap import context
from webmap.geojson import feature_collection
from webmap.routes import BBOX, PUBLIC, Param, args, declare

api = Blueprint("api", __name__)

#: The deepest page of features one may ask for (rows skipped).
MAX_OFFSET = 10_000_000


@api.get("/health")
@declare(PUBLIC, "Store kind, schema version and library versions", tags=("system",))
def health() -> ResponseReturnValue:
    info = context.store().info()
    return jsonify(
        status="ok",
        store={"kind": info.kind, "location": info.location, "schema_version": info.schema_version},
        versions={**info.versions, "python": platform.python_version(), "riskmap": version("riskmap")},
    )


@api.get("/layers")
@declare("map.view", "The layer catalog: every map layer, its style, popup fields and zoom range", tags=("layers",))
def layers() -> ResponseReturnValue:
    return jsonify(layers=[layer.as_json() for layer in CATALOG])


@api.get("/layers/<layer_id>/features")
@declare("map.view", "A layer's features as GeoJSON (WGS-84), paged",
         Param("layer_id", "string", "a layer of the catalog (GET /layers); an unknown one is 404",
               location="path", max_length=64),
         Param("limit", "integer", "features per page", default=1000, minimum=1, maximum=10_000),
         Param("offset", "integer", "features skipped", default=0, minimum=0, maximum=MAX_OFFSET),
         BBOX, tags=("layers",))
def features(layer_id: str) -> ResponseReturnValue:
    layer = get_layer(layer_id)  # NotFound (404) naming the known layers
    a = args()
    frame = context.store().read(layer.entity, bbox=a["bbox"], limit=a["limit"], offset=a["offset"],
                                 where=scoped_layer_where(context.scope(), layer.id, layer.where))
    return jsonify(feature_collection(frame, columns=list(layer.tile_columns)))
