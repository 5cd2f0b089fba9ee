"""Vector tiles ``/tiles/<layer>/<z>/<x>/<y>.pbf`` with ETag and Cache-Control.

The ETag and the server-side cache key carry the layer's data version, so a load
invalidates every cached tile (in browsers through revalidation, here by key).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from geo.capabilities.tiles import gcj02_tile
from geo.errors import BadInput
from geo.tiles import check_tile
from layers.catalog import get_layer
from webmap import context
from webmap.cache import BytesLRU

tiles = Blueprint("tiles", __name__)

MVT_TYPE = "application/vnd.mapbox-vector-tile"


@tiles.get("/<layer_id>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.pbf")
def tile(layer_id: str, z: int, x: int, y: int) -> ResponseReturnValue:
    layer = get_layer(layer_id)  # NotFound (404) naming the known layers
    check_tile(z, x, y)
    datum = request.args.get("datum", "wgs84")
    if datum not in ("wgs84", "gcj02"):
        raise BadInput(f"parameter 'datum': {datum!r} must be wgs84 or gcj02")
    store = context.store()
    version = store.data_version(layer.entity)
    etag = hashlib.sha1(f"{layer.id}/{version}/{datum}/{z}/{x}/{y}".encode()).hexdigest()
    if etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    cache: BytesLRU = current_app.extensions.setdefault("riskmap.tiles", BytesLRU())
    key = (layer.id, version, datum, z, x, y)
    body = cache.get(key)
    if body is None:
        if z < layer.min_zoom or z > layer.max_zoom:
            body = b""
        elif datum == "gcj02":  # drawn on a GCJ-02 basemap: shift what is displayed
            body = gcj02_tile(store, layer.entity, z, x, y, columns=layer.tile_columns, where=layer.where,
                              layer_name=layer.id, cluster=layer.cluster_spec(z))
        else:
            body = store.tile(layer.entity, z, x, y, columns=layer.tile_columns, where=layer.where,
                              layer_name=layer.id, cluster=layer.cluster_spec(z))
        cache.put(key, body)
    response = Response(body, mimetype=MVT_TYPE)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60, must-revalidate"
    return response
