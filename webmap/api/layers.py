"""The JSON API (``/api/v1``): health, the layer catalog, features.

Health tells everyone that the server answers, its store kind and schema version; where the
store is (a file path, a database's host and user) and the library versions only an
administrator (:data:`ADMIN_PERMISSION`).  The catalog lists the layers the caller's role may
see; features of another layer are refused before the view (:mod:`webmap.auth`).
"""

from __future__ import annotations

import platform
from importlib.metadata import version

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from geo.scope import scoped_layer_where
from layers.catalog import CATALOG, Layer, get_layer
from webmap import context
from webmap.geojson import feature_collection
from webmap.routes import BBOX, PUBLIC, Param, args, declare

api = Blueprint("api", __name__)

#: The permission that marks an administrator (who may see where the store is).
ADMIN_PERMISSION = "users.manage"
#: The deepest page of features one may ask for (rows skipped).
MAX_OFFSET = 10_000_000


@api.get("/health")
@declare(PUBLIC, "Store kind and schema version; for an administrator also where the store is and the "
         "library versions", tags=("system",))
def health() -> ResponseReturnValue:
    info = context.store().info()
    principal = context.principal()
    if principal is None or not principal.can(ADMIN_PERMISSION):  # no file path, host or user for others
        return jsonify(status="ok", store={"kind": info.kind, "schema_version": info.schema_version})
    return jsonify(
        status="ok",
        store={"kind": info.kind, "location": info.location, "schema_version": info.schema_version},
        versions={**info.versions, "python": platform.python_version(), "riskmap": version("riskmap")},
    )


def visible_layers() -> list[Layer]:
    """The catalog's layers the request's principal may see (:meth:`geo.accounts.Principal.sees`)."""
    principal = context.principal()
    return [layer for layer in CATALOG if principal is not None and principal.sees(layer.id)]


@api.get("/layers")
@declare("map.view", "The layer catalog: every map layer the caller's role may see, its style, popup fields and "
         "zoom range", tags=("layers",))
def layers() -> ResponseReturnValue:
    return jsonify(layers=[layer.as_json() for layer in visible_layers()])


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
