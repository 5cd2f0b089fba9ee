"""Every catalog layer's tiles over Jing-Jin-Ji on both stores: no errors, the same features.

The demo (real reference geography, synthetic bureau files at 1 % of the seed scale,
area risk) is built into a PostGIS database and a GeoPackage; then every tile that
intersects Jing-Jin-Ji at zoom 0–7 (675 tiles over 25 layers; 8–10 add another 17,550,
about a minute per store, so only Beijing's tiles of them here) is rendered through the
app's tile function on each store, decoded, and its features counted per layer.  Low
zooms are where the embedded store answered 500 ("Overlay input is mixed-dimension",
"Encoding geometry collections not supported") and Beijing's districts vanished.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import mapbox_vector_tile
import mercantile
import pytest

from geo.capabilities.demo.build import build_demo
from geo.capabilities.tiles import render_tile
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import Store
from layers.catalog import CATALOG, Layer
from webmap.settings import Settings

JJJ = (113.4, 36.0, 119.9, 42.7)  # lon/lat box of Beijing, Tianjin and Hebei
BEIJING = (115.4, 39.4, 117.5, 41.1)


@pytest.fixture(scope="module")
def stores(make_pg_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[dict[str, Store]]:
    """The same small demo in both stores."""
    folder = tmp_path_factory.mktemp("grid")
    built: dict[str, Store] = {"postgis": PostGISStore(make_pg_database()),
                               "geopackage": GeoPackageStore(folder / "grid.gpkg")}
    for kind, store in built.items():
        store.init_schema()
        build_demo(store, work_dir=folder / kind, paths=Settings().paths, scale=0.01, say=lambda _: None)
    yield built
    for store in built.values():
        store.close()


def _features(store: Store, layer: Layer, tile: mercantile.Tile) -> int:
    body = render_tile(store, layer.entity, tile.z, tile.x, tile.y, version=0, datum="wgs84",
                       columns=layer.tile_columns, where=layer.where, layer_name=layer.id,
                       cluster=layer.cluster_spec(tile.z), zoom_range=(layer.min_zoom, layer.max_zoom))
    decoded = mapbox_vector_tile.decode(body) if body else {}
    assert set(decoded) <= {layer.id}
    return len(decoded[layer.id]["features"]) if decoded else 0


def _grid(box: tuple[float, float, float, float], zooms: range) -> list[mercantile.Tile]:
    return [t for z in zooms for t in mercantile.tiles(*box, zooms=z)]


@pytest.mark.parametrize(("box", "zooms"), [(JJJ, range(0, 8)), (BEIJING, range(8, 11))],
                         ids=["jjj-z0-7", "beijing-z8-10"])
def test_every_layer_renders_the_same_features_on_both_stores(stores: dict[str, Store], box: tuple[float, ...],
                                                              zooms: range) -> None:
    grid = _grid(box, zooms)
    differ: list[str] = []
    drawn = 0
    for layer in CATALOG:
        for tile in grid:
            counts = {kind: _features(store, layer, tile) for kind, store in stores.items()}
            drawn += counts["postgis"]
            if counts["postgis"] != counts["geopackage"]:
                differ.append(f"{layer.id} {tile.z}/{tile.x}/{tile.y}: {counts}")
    assert not differ, differ
    assert drawn > 1000  # the grid is not empty


def test_beijing_districts_are_drawn_at_every_low_zoom(stores: dict[str, Store]) -> None:
    """The 16 districts + the development area in the tile holding Beijing at zooms 0–7."""
    layer = next(layer for layer in CATALOG if layer.id == "districts")
    for z in range(0, 8):
        tile = mercantile.tile(116.4, 39.9, z)
        for store in stores.values():
            body = render_tile(store, "areas", z, tile.x, tile.y, version=0, datum="wgs84",
                               columns=layer.tile_columns, where=layer.where, layer_name="d", cluster=None,
                               zoom_range=(0, 22))
            keys = {f["properties"]["key"] for f in mapbox_vector_tile.decode(body)["d"]["features"]}
            beijing = {k for k in keys if k.startswith("1101")}
            assert len(beijing) == 17, (store.kind, z, sorted(beijing))

