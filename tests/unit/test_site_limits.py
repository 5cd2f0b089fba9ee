"""Site limits and GeoJSON parsing in the pure veto core: every limit at the limit and one
step either side, malformed GeoJSON named (422), never an exception of a library."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon, box, mapping

from geo.veto import (
    MAX_SITE_AREA_M2,
    MAX_SITE_EXTENT_M,
    MAX_SITE_VERTICES,
    GeometryError,
    SiteLimitError,
    check_site_geometry,
    site_area_m2,
    site_extent_m,
    site_from_geojson,
)

GEOD = Geod(ellps="WGS84")
LAT = 40.0


def _ring_polygon(n_coordinates: int, *, radius_deg: float = 0.005) -> Polygon:
    """A valid polygon near Beijing with exactly ``n_coordinates`` coordinates (the closing one included)."""
    t = np.linspace(0, 2 * math.pi, n_coordinates - 1, endpoint=False)
    return Polygon(np.column_stack([116.4 + radius_deg * np.cos(t), LAT + radius_deg * np.sin(t)]))


def _width_deg(metres: float) -> float:
    """Degrees of longitude along the parallel LAT that are ``metres`` long (as site_extent_m measures)."""
    phi = math.radians(LAT)
    radius = GEOD.a * math.cos(phi) / math.sqrt(1 - GEOD.es * math.sin(phi) ** 2)
    return math.degrees(metres / radius)


@pytest.mark.parametrize(("n", "ok"), [(MAX_SITE_VERTICES - 1, True), (MAX_SITE_VERTICES, True),
                                       (MAX_SITE_VERTICES + 1, False)])
def test_vertex_limit_at_and_either_side(n: int, ok: bool) -> None:
    polygon = _ring_polygon(n)
    assert len(polygon.exterior.coords) == n
    if ok:
        assert check_site_geometry(polygon).equals(polygon)
        assert site_from_geojson(json.loads(json.dumps(mapping(polygon)))).equals(polygon)
        return
    for call in (lambda: check_site_geometry(polygon), lambda: site_from_geojson(mapping(polygon))):
        with pytest.raises(SiteLimitError) as info:
            call()
        assert (info.value.limit, info.value.found, info.value.maximum) == ("vertices", n, MAX_SITE_VERTICES)
        assert info.value.details()["limit"] == "vertices" and f"{MAX_SITE_VERTICES:,}" in str(info.value)


def test_vertices_are_counted_before_anything_is_built() -> None:
    """A MultiPolygon of many tiny parts is refused while its JSON is walked, by count."""
    part = [[[116.4, 40.0], [116.4001, 40.0], [116.4001, 40.0001], [116.4, 40.0]]]
    parts = [part] * (MAX_SITE_VERTICES // 4 + 1)
    with pytest.raises(SiteLimitError, match="vertices"):
        site_from_geojson({"type": "MultiPolygon", "coordinates": parts})


@pytest.mark.parametrize(("step_m", "ok"), [(-0.01, True), (0.0, True), (0.01, False)])
def test_extent_limit_east_west_at_and_either_side(step_m: float, ok: bool) -> None:
    site = box(116.0, LAT, 116.0 + _width_deg(MAX_SITE_EXTENT_M + step_m), LAT + 0.001)
    assert site_extent_m(site) == pytest.approx(MAX_SITE_EXTENT_M + step_m, abs=1e-6)
    if ok:
        check_site_geometry(site)
    else:
        with pytest.raises(SiteLimitError) as info:
            check_site_geometry(site)
        assert info.value.limit == "extent" and info.value.unit == "m"
        assert "20,000 m" in str(info.value) and info.value.found == pytest.approx(MAX_SITE_EXTENT_M + step_m)


@pytest.mark.parametrize(("step_m", "ok"), [(-0.01, True), (0.0, True), (0.01, False)])
def test_extent_limit_north_south_at_and_either_side(step_m: float, ok: bool) -> None:
    north = GEOD.fwd(116.0, LAT, 0.0, MAX_SITE_EXTENT_M + step_m)[1]
    site = box(116.0, LAT, 116.001, north)
    if ok:
        check_site_geometry(site)
    else:
        with pytest.raises(SiteLimitError, match="site extent"):
            check_site_geometry(site)


def _box_of_area(area_m2: float, *, width_m: float = 15_000.0) -> Polygon:
    """A lon/lat box ``width_m`` wide at LAT whose geodesic area is ``area_m2`` (to 1e-4 m²)."""
    west, east = 116.0, 116.0 + _width_deg(width_m)
    lo, hi = LAT, LAT + 0.2
    for _ in range(200):
        mid = (lo + hi) / 2
        if site_area_m2(box(west, LAT, east, mid)) < area_m2:
            lo = mid
        else:
            hi = mid
    return box(west, LAT, east, (lo + hi) / 2)


@pytest.mark.parametrize(("step_m2", "ok"), [(-1.0, True), (0.0, True), (1.0, False)])
def test_area_limit_at_and_either_side(step_m2: float, ok: bool) -> None:
    site = _box_of_area(MAX_SITE_AREA_M2 + step_m2)
    assert site_area_m2(site) == pytest.approx(MAX_SITE_AREA_M2 + step_m2, abs=1e-3)
    assert site_extent_m(site) < MAX_SITE_EXTENT_M
    if ok:
        check_site_geometry(site)
    else:
        with pytest.raises(SiteLimitError) as info:
            check_site_geometry(site)
        assert info.value.limit == "area" and "100,000,000 m²" in str(info.value)


@pytest.mark.parametrize("coordinates", [
    [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]],
    [[-100, 0], [179, 0], [179, 60], [-100, 60], [-100, 0]],
])
def test_the_world_and_a_hemisphere_are_not_sites(coordinates: list[list[float]]) -> None:
    with pytest.raises(SiteLimitError, match="site extent"):
        site_from_geojson({"type": "Polygon", "coordinates": [coordinates]})


def test_measures() -> None:
    assert site_extent_m(Point(116.4, 40.0)) == 0.0 and site_area_m2(Point(116.4, 40.0)) == 0.0
    # the widest parallel of a box across the equator is the equator
    assert site_extent_m(box(10.0, -0.01, 10.5, 0.01)) == pytest.approx(GEOD.a * math.radians(0.5), rel=1e-12)
    # never the short way round: 279° of longitude is 279°, not 81°
    assert site_extent_m(box(-100.0, 0.0, 179.0, 1.0)) == pytest.approx(GEOD.a * math.radians(279), rel=1e-12)
    assert site_area_m2(box(116.0, 40.0, 116.01, 40.01)) == pytest.approx(
        abs(GEOD.geometry_area_perimeter(box(116.0, 40.0, 116.01, 40.01))[0]))


@pytest.mark.parametrize(("geometry", "problem"), [
    ({"type": "Nope", "coordinates": [116.4, 40.0]}, "unknown geometry type 'Nope'"),
    ({"type": "", "coordinates": [116.4, 40.0]}, "unknown geometry type ''"),
    ({"type": None, "coordinates": [116.4, 40.0]}, "unknown geometry type None"),
    ({"type": ["Point"], "coordinates": [116.4, 40.0]}, "unknown geometry type ['Point']"),
    ({"type": "GeometryCollection", "coordinates": [116.4, 40.0]}, "GeometryCollection is not a site"),
    ({"type": "LineString", "coordinates": [[116.4, 40.0], [116.5, 40.0]]}, "LineString is not a site"),
    ({"type": "Point"}, "no 'coordinates'"),
    ({"type": "Point", "coordinates": []}, "a position is 2 or 3 numbers, got []"),
    ({"type": "Point", "coordinates": ["116.4", 40.0]}, "a position is 2 or 3 numbers"),
    ({"type": "Point", "coordinates": [True, 40.0]}, "a position is 2 or 3 numbers"),
    ({"type": "Point", "coordinates": [10 ** 400, 40.0]}, "a position is 2 or 3 numbers"),
    ({"type": "Point", "coordinates": [116.4, 40.0, 1.0, 2.0]}, "a position is 2 or 3 numbers"),
    ({"type": "Point", "coordinates": [1e400, 40.0]}, "not a finite number"),
    ({"type": "Polygon", "coordinates": [[116.4, 40.0]]}, "nested lists 3 deep; found float"),
    ({"type": "Polygon", "coordinates": {"ring": 1}}, "nested lists 3 deep; found dict"),
    ({"type": "MultiPolygon", "coordinates": "116.4 40"}, "nested lists 4 deep; found str"),
    ({"type": "Point", "coordinates": [[[[[[116.4, 40.0]]]]]]}, "a position is 2 or 3 numbers, got [[…]]"),
    ({"type": "Feature", "geometry": None}, "missing geometry"),
    ([116.4, 40.0], "GeoJSON object with 'type' and 'coordinates'"),
    ("POINT (116.4 40)", "GeoJSON object with 'type' and 'coordinates'"),
])
def test_malformed_geojson_is_named(geometry: Any, problem: str) -> None:
    with pytest.raises(GeometryError) as info:
        site_from_geojson(geometry)
    assert problem in info.value.problem


def test_coordinates_nested_deeply_are_refused_without_recursion() -> None:
    deep: Any = [116.4, 40.0]
    for _ in range(900):  # still readable JSON; shapely would recurse into it
        deep = [deep]
    with pytest.raises(GeometryError, match="a position is 2 or 3 numbers"):
        site_from_geojson({"type": "Point", "coordinates": deep})
    with pytest.raises(GeometryError, match="a position is 2 or 3 numbers"):
        site_from_geojson({"type": "Polygon", "coordinates": deep})
