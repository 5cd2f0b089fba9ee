"""Vector tiles ``/tiles/<layer>/<z>/<x>/<y>.pbf`` with ETag and Cache-Control.

The ETag and the server-side cache key (the app's one cache, see
:func:`geo.capabilities.tiles.render_tile`) carry the layer's data version, so a load
invalidates every cached tile (in browsers through revalidation, here by key).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from geo.capabilities.tiles import render_tile
from geo.errors import BadInput
from geo.tiles import check_tile
from layers.catalog import get_layer
from webmap import context

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
    body = render_tile(store, layer.entity, z, x, y, version=version, datum=datum, columns=layer.tile_columns,
                       where=layer.where, layer_name=layer.id, cluster=layer.cluster_spec(z),
                       zoom_range=(layer.min_zoom, layer.max_zoom), cache=context.cache())
    response = Response(body, mimetype=MVT_TYPE)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=60, must-revalidate"
    return response
