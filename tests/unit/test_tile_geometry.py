"""The embedded store's tile geometry, as ST_AsMVTGeom (PostGIS 3.3, Wagyu) makes it:
each feature keeps its own basic type, slivers and sub-unit polygons go, and a tile's
buffer never wraps round the antimeridian."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geo import tiles


def _clip(geom: shapely.Geometry, *, extent: int = 4096, buffer: int = 64) -> shapely.Geometry:
    return tiles.clip_to_tile(np.array([geom], dtype=object), extent=extent, buffer=buffer)[0]


def test_a_clip_that_leaves_a_collection_keeps_only_polygons() -> None:
    # a polygon touching the clip edge in a line and in an area: GEOS returns a collection
    shape = Polygon([(-200, 0), (-64, 0), (-64, 10), (-100, 10), (-100, 20), (10, 20), (10, 30), (-200, 30)])
    clipped = _clip(shape)
    assert clipped.geom_type == "Polygon" and clipped.area > 0


def test_mixed_collections_are_reduced_to_the_basic_type() -> None:
    mixed = shapely.GeometryCollection([Polygon([(0, 0), (4, 0), (4, 4)]), LineString([(0, 0), (9, 9)]), Point(1, 1),
                                        MultiPolygon([Polygon([(10, 10), (14, 10), (14, 14)])])])
    assert tiles.parts_of_dimension(mixed, 2).geom_type == "MultiPolygon"
    assert tiles.parts_of_dimension(mixed, 1).equals(LineString([(0, 0), (9, 9)]))
    assert tiles.parts_of_dimension(LineString([(0, 0), (1, 1)]), 2).is_empty


def test_rounding_that_collapses_or_twists_a_polygon_drops_it() -> None:
    """The shapes of two Tianjin districts at zoom 0: a bow tie and a spike round a half-unit triangle."""
    bow_tie = Polygon([(3381, 1563), (3381, 1564), (3382, 1563), (3382, 1564), (3381, 1564), (3381, 1563)])
    spike = Polygon([(3382, 1563), (3381, 1563), (3382, 1563), (3381, 1564), (3381, 1563), (3382, 1563)])
    assert _clip(bow_tie).is_empty and _clip(tiles.snap_to_units(spike)).is_empty


def test_polygons_under_one_square_unit_go() -> None:
    """What ST_AsMVTGeom answers on PostGIS 3.3.2: a half-unit triangle goes, a whole unit stays."""
    assert _clip(Polygon([(10, 10), (11, 10), (10, 11)])).is_empty
    assert _clip(Polygon([(10, 10), (12, 10), (10, 11)])).area == 1.0
    assert _clip(Polygon([(10, 10), (11, 10), (11, 11), (10, 11)])).area == 1.0
    with_hole = Polygon([(0, 0), (20, 0), (20, 20), (0, 20)], [[(5, 5), (6, 5), (5, 6)]])
    assert not _clip(with_hole).interiors


def test_snapping_rounds_dedupes_and_drops_collapsed_rings() -> None:
    snapped = tiles.snap_to_units(Polygon([(0.2, 0.1), (5.4, 0.2), (5.6, 0.3), (10.1, 0.2), (9.8, 9.9), (0.1, 10.2)]))
    assert list(snapped.exterior.coords) == [(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)]  # (5, 0) is collinear
    assert tiles.snap_to_units(Polygon([(0.1, 0.1), (0.3, 0.2), (0.2, 0.4)])).is_empty
    assert tiles.snap_to_units(LineString([(0.1, 0.1), (0.3, 0.2)])).is_empty


def test_the_buffer_of_an_edge_tile_does_not_wrap_round() -> None:
    west, south, east, north = tiles.tile_bbox_lonlat(1, 1, 0, buffer_fraction=64 / 4096)
    assert (west, east) == (-2.8125, 180.0) and north > 85 and south < 0
    west, _, east, _ = tiles.tile_bbox_lonlat(0, 0, 0, buffer_fraction=64 / 4096)
    assert (west, east) == (-180.0, 180.0)
