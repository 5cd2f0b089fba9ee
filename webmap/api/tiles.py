"""Vector tiles ``/tiles/<layer>/<z>/<x>/<y>.pbf`` with ETag and Cache-Control.

The ETag and the server-side cache key (the app's one cache, see
:func:`geo.capabilities.tiles.render_tile`) carry the layer's data version, so a load
invalidates every cached tile (in browsers through revalidation, here by key).  For a
principal whose region scope filters the layer they also carry the scope's area codes, and
the tile is ``private``: no cache, ours or a proxy's, serves it to another scope.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from geo.capabilities.tiles import render_tile
from geo.scope import layer_scope_key
from geo.tiles import MAX_ZOOM, check_tile
from layers.catalog import get_layer
from webmap import context
from webmap.routes import Param, args, declare

tiles = Blueprint("tiles", __name__)

MVT_TYPE = "application/vnd.mapbox-vector-tile"


@tiles.get("/<layer_id>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.pbf")
@declare("map.view", "A layer's Mapbox Vector Tile (ETag, Cache-Control); counted clusters below the layer's "
         "cluster zoom",
         Param("layer_id", "string", "a layer of the catalog (GET /api/v1/layers)", location="path", max_length=64),
         Param("z", "integer", "zoom", location="path", minimum=0, maximum=MAX_ZOOM),
         Param("x", "integer", "column: 0 .. 2^z - 1", location="path"),
         Param("y", "integer", "row: 0 .. 2^z - 1", location="path"),
         Param("datum", "string", "datum of the basemap the tile is drawn on", default="wgs84",
               choices=("wgs84", "gcj02")),
         produces=MVT_TYPE, tags=("tiles",))
def tile(layer_id: str, z: int, x: int, y: int) -> ResponseReturnValue:
    layer = get_layer(layer_id)  # NotFound (404) naming the known layers
    check_tile(z, x, y)
    datum = args()["datum"]
    store, scope = context.store(), context.scope()
    version = store.data_version(layer.entity)
    codes = ",".join(layer_scope_key(scope, layer.id))  # a scoped tile's ETag names its scope
    etag = hashlib.sha1(f"{layer.id}/{version}/{datum}/{z}/{x}/{y}/{codes}".encode()).hexdigest()
    cache_control = f"{'private' if codes else 'public'}, max-age=60, must-revalidate"
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"', "Cache-Control": cache_control})
    body = render_tile(store, layer.entity, z, x, y, version=version, datum=datum, columns=layer.tile_columns,
                       where=layer.where, layer_name=layer.id, cluster=layer.cluster_spec(z),
                       zoom_range=(layer.min_zoom, layer.max_zoom), cache=context.cache(), scope=scope)
    response = Response(body, mimetype=MVT_TYPE)
    response.set_etag(etag)
    # a shared cache (a proxy) must not hand one scope's tile to another user
    response.headers["Cache-Control"] = cache_control
    return response
