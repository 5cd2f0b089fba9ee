"""Vector tiles of a layer, cached by its data version; shifted to GCJ-02 for a GCJ-02 basemap.

Chinese web basemaps (Amap/Gaode, Tencent) are drawn in GCJ-02; WGS-84 data drawn on
them is off by hundreds of metres.  The store holds WGS-84; only what is displayed is
shifted, here, for both stores alike (rows read from the store, encoded in-process).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from geo import tiles
from geo.capabilities.cache import Cache, cached
from geo.coords import wgs84_to_gcj02
from geo.scope import Scope, layer_scope_key, scoped_layer_where
from geo.stores.geopackage import encode_rows
from geo.stores.protocol import ClusterSpec, Store, Where

#: GCJ-02 offsets in Jing-Jin-Ji stay under ~700 m; read this much more around the tile.
_SHIFT_MARGIN_DEG = 0.01


def shift_to_gcj02(geoms: np.ndarray) -> np.ndarray:
    """WGS-84 shapely geometries -> GCJ-02 (outside China unchanged)."""
    def shift(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, shift)


def gcj02_tile(
    store: Store,
    kind: str,
    z: int,
    x: int,
    y: int,
    *,
    columns: Sequence[str],
    where: Where,
    layer_name: str,
    cluster: ClusterSpec | None,
    extent: int = 4096,
    buffer: int = 64,
) -> bytes:
    """The tile z/x/y of ``kind`` with every geometry shifted to GCJ-02."""
    if cluster is not None:
        buffer = max(buffer, cluster.cell)
    minx, miny, maxx, maxy = tiles.tile_bbox_lonlat(z, x, y, buffer_fraction=buffer / extent)
    m = _SHIFT_MARGIN_DEG
    wanted = list(dict.fromkeys([*columns, *([cluster.column] if cluster and cluster.column else [])]))
    rows = store.read(kind, bbox=(minx - m, miny - m, maxx + m, maxy + m), where=where, columns=wanted)
    rows = rows.set_geometry(shift_to_gcj02(rows.geometry.values), crs=None)
    return encode_rows(rows, z, x, y, columns=columns, layer_name=layer_name, extent=extent, buffer=buffer,
                       cluster=cluster)


def render_tile(
    store: Store,
    kind: str,
    z: int,
    x: int,
    y: int,
    *,
    version: int,
    datum: str,
    columns: Sequence[str],
    where: Where,
    layer_name: str,
    cluster: ClusterSpec | None,
    zoom_range: tuple[int, int],
    cache: Cache | None = None,
    scope: Scope | None = None,
) -> bytes:
    """The Mapbox vector tile z/x/y of ``kind`` as layer ``layer_name`` (the catalog layer's
    id), kept in ``cache`` until ``kind`` changes (``version``: its data version, which the
    caller's ETag carries too).

    ``datum``: ``wgs84`` (the store's own tiles) or ``gcj02`` (:func:`gcj02_tile`); outside
    ``zoom_range`` (min, max zoom) the tile is empty.  ``scope``: when it filters the layer,
    only its rows in scope are drawn (and counted in clusters), and the tile is kept under
    the scope's area codes, so no tile is served to a principal of another scope.
    """
    def compute() -> bytes:
        if not zoom_range[0] <= z <= zoom_range[1]:
            return b""
        rows = scoped_layer_where(scope, layer_name, where)
        if datum == "gcj02":  # drawn on a GCJ-02 basemap: shift what is displayed
            return gcj02_tile(store, kind, z, x, y, columns=columns, where=rows, layer_name=layer_name,
                              cluster=cluster)
        return store.tile(kind, z, x, y, columns=columns, where=rows, layer_name=layer_name, cluster=cluster)

    return cached(cache, "tiles", {kind: version}, (layer_name, datum, z, x, y, layer_scope_key(scope, layer_name)),
                  compute)
