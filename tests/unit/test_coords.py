"""Unit tests for geo.coords: datum shifts against two independent implementations,
round trips, pass-through outside China, the convert dispatcher, swapped lon/lat,
the datum guess, and geo.distance across Jing-Jin-Ji.

Oracles (both pure formula ports, installed in the dev venv):

* ``coordTransform`` (PyPI coordTransform 0.2.1, import ``coordTransform``): arrays in,
  ``(lons, lats)`` lists out, (lon, lat) order, Krasovsky axis 6378245 m like ours.
  Its inverses are the one-step approximations (GCJ-02 -> WGS-84 off by up to ~4 m).
* ``eviltransform`` (PyPI 0.1.1): scalars only, **(lat, lon) order**, WGS-84 axis
  6378137 m (about 1 cm different from ours).  ``gcj2wgs_exact`` bisects each axis
  separately and now and then settles on a wrong branch (up to ~1.6 m off).
"""

from __future__ import annotations

import math

import coordTransform
import eviltransform
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from geo import coords
from geo.coords import (
    BEIJING_BBOX,
    DATUMS,
    JJJ_BBOX,
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert,
    detect_swapped,
    fix_swapped,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    guess_datum,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.distance import distances_m, geodesic_m

N = 10_000
FORWARD_TOL_M = 0.5
ROUND_TRIP_TOL_M = 0.01
GEOD = Geod(ellps="WGS84")

CONVERSIONS = [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84]


def random_points(
    rng: np.random.Generator, n: int, bbox: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = bbox
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


@pytest.fixture(scope="module")
def wgs() -> tuple[np.ndarray, np.ndarray]:
    return random_points(np.random.default_rng(20240601), N, JJJ_BBOX)


@pytest.fixture(scope="module")
def gcj(wgs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return wgs84_to_gcj02(*wgs)


@pytest.fixture(scope="module")
def bd(gcj: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*gcj)


def ct(fn_name: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A coordTransform batch conversion, as two float arrays."""
    out_lon, out_lat = getattr(coordTransform, fn_name)(np.ascontiguousarray(lon), np.ascontiguousarray(lat))
    return np.asarray(out_lon, dtype=float), np.asarray(out_lat, dtype=float)


def evil(fn_name: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An eviltransform conversion point by point; it takes and returns (lat, lon)."""
    fn = getattr(eviltransform, fn_name)
    out = np.array([fn(float(la), float(lo)) for lo, la in zip(lon, lat, strict=True)])
    return out[:, 1], out[:, 0]


def metres(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    return geodesic_m(a[0], a[1], b[0], b[1])


# --------------------------------------------------------------------------- oracles


def test_wgs84_to_gcj02_matches_both_oracles(wgs, gcj):
    assert metres(gcj, ct("wgs84_to_gcj02", *wgs)).max() < FORWARD_TOL_M
    assert metres(gcj, evil("wgs2gcj", *wgs)).max() < FORWARD_TOL_M
    # Same formula and constants as coordTransform: equal to well under a millimetre.
    assert metres(gcj, ct("wgs84_to_gcj02", *wgs)).max() < 1e-3
    # The shift is real: hundreds of metres everywhere in the region.
    shift = metres(wgs, gcj)
    assert shift.min() > 400 and shift.max() < 700


def test_gcj02_to_bd09_matches_both_oracles(gcj, bd):
    assert metres(bd, ct("gcj02_to_bd09", *gcj)).max() < FORWARD_TOL_M
    assert metres(bd, evil("gcj2bd", *gcj)).max() < FORWARD_TOL_M
    assert metres(bd, ct("gcj02_to_bd09", *gcj)).max() < 1e-3


def test_wgs84_to_bd09_matches_both_oracles(wgs, bd):
    assert metres(wgs84_to_bd09(*wgs), bd).max() < 1e-6
    assert metres(bd, ct("wgs84_to_bd09", *wgs)).max() < FORWARD_TOL_M
    assert metres(bd, evil("wgs2bd", *wgs)).max() < FORWARD_TOL_M


def test_gcj02_to_wgs84_is_exact_where_oracles_approximate(wgs, gcj):
    back = gcj02_to_wgs84(*gcj)
    # Exact: both oracles' forward shifts take our answer back onto the input.
    assert metres(ct("wgs84_to_gcj02", *back), gcj).max() < ROUND_TRIP_TOL_M
    assert metres(evil("wgs2gcj", *back), gcj).max() < 0.05  # their axis differs: ~1 cm
    # The oracles' own inverses are approximations; ours sits within their error.
    assert metres(back, ct("gcj02_to_wgs84", *gcj)).max() < 5.0
    to_exact = metres(back, evil("gcj2wgs_exact", *gcj))
    assert np.quantile(to_exact, 0.99) < FORWARD_TOL_M
    assert to_exact.max() < 2.0


def test_bd09_to_gcj02_is_exact_where_oracles_approximate(gcj, bd):
    back = bd09_to_gcj02(*bd)
    assert metres(ct("gcj02_to_bd09", *back), bd).max() < ROUND_TRIP_TOL_M
    assert metres(evil("gcj2bd", *back), bd).max() < ROUND_TRIP_TOL_M
    assert metres(back, ct("bd09_to_gcj02", *bd)).max() < FORWARD_TOL_M
    assert metres(back, evil("bd2gcj", *bd)).max() < FORWARD_TOL_M


def test_bd09_to_wgs84_matches_oracles(wgs, bd):
    back = bd09_to_wgs84(*bd)
    assert metres(ct("wgs84_to_bd09", *back), bd).max() < ROUND_TRIP_TOL_M
    assert metres(back, ct("bd09_to_wgs84", *bd)).max() < 5.0


# ----------------------------------------------------------------------- round trips


def test_round_trips_within_a_centimetre(wgs, gcj, bd):
    assert metres(gcj02_to_wgs84(*gcj), wgs).max() < ROUND_TRIP_TOL_M
    assert metres(bd09_to_wgs84(*bd), wgs).max() < ROUND_TRIP_TOL_M
    assert metres(bd09_to_gcj02(*bd), gcj).max() < ROUND_TRIP_TOL_M
    assert metres(wgs84_to_gcj02(*gcj02_to_wgs84(*wgs)), wgs).max() < ROUND_TRIP_TOL_M


def test_round_trips_across_china():
    # The shift's rectangle, not just Jing-Jin-Ji: nothing in the maths is regional.
    lon, lat = random_points(np.random.default_rng(7), 20_000, (72.1, 0.9, 137.8, 55.8))
    assert metres(gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)), (lon, lat)).max() < ROUND_TRIP_TOL_M
    assert metres(bd09_to_wgs84(*wgs84_to_bd09(lon, lat)), (lon, lat)).max() < ROUND_TRIP_TOL_M
    # coordTransform tests a smaller rectangle; compare inside it.
    inner = (lon > 73.7) & (lon < 135.0) & (lat > 3.9) & (lat < 53.5)
    ours = wgs84_to_gcj02(lon[inner], lat[inner])
    assert metres(ours, ct("wgs84_to_gcj02", lon[inner], lat[inner])).max() < 1e-3


def test_inverse_stops_at_the_tolerance(gcj):
    # Feeding the answer back changes it by less than the stopping tolerance.
    back = gcj02_to_wgs84(*gcj)
    again = coords._gcj_to_wgs(*wgs84_to_gcj02(*back))
    assert np.abs(again[0] - back[0]).max() < 1e-8
    assert np.abs(again[1] - back[1]).max() < 1e-8


# -------------------------------------------------------------- inputs and outside


@pytest.mark.parametrize("fn", CONVERSIONS, ids=lambda f: f.__name__)
def test_outside_china_passes_through(fn):
    lon = np.array([-0.1276, -74.006, 151.2093, 139.6917, 72.0, 140.0, 100.0, 100.0, np.inf, 116.4])
    lat = np.array([51.5072, 40.7128, -33.8688, 35.6895, 30.0, 40.0, 0.5, 56.0, 39.9, -np.inf])
    out_lon, out_lat = fn(lon, lat)
    assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)
    assert out_of_china(lon, lat).all()


@pytest.mark.parametrize("fn", CONVERSIONS, ids=lambda f: f.__name__)
def test_mixed_inside_outside_nan_and_shapes(fn):
    lon = np.array([[116.4, 2.35], [np.nan, 117.2]])
    lat = np.array([[39.9, 48.86], [39.9, 39.1]])
    out_lon, out_lat = fn(lon, lat)
    assert out_lon.shape == (2, 2)
    assert (out_lon[0, 1], out_lat[0, 1]) == (2.35, 48.86)  # Paris untouched
    assert math.isnan(out_lon[1, 0]) and out_lat[1, 0] == 39.9  # NaN passes through
    for i, j in [(0, 0), (1, 1)]:
        single = fn(lon[i, j], lat[i, j])
        assert (single[0], single[1]) == (out_lon[i, j], out_lat[i, j])
        assert 100 < float(geodesic_m(lon[i, j], lat[i, j], out_lon[i, j], out_lat[i, j])) < 2_000


def test_scalars_lists_broadcasting_and_no_mutation():
    lon_s, lat_s = wgs84_to_gcj02(116.397, 39.909)
    assert isinstance(lon_s, float) and isinstance(lat_s, float)
    lons = np.array([116.397, 116.5])
    original = lons.copy()
    out_lon, out_lat = wgs84_to_gcj02(lons, 39.909)  # scalar latitude broadcasts
    assert out_lon.shape == out_lat.shape == (2,)
    assert (out_lon[0], out_lat[0]) == (lon_s, lat_s)
    assert np.array_equal(lons, original)
    from_list = wgs84_to_gcj02([116.397, 116.5], [39.909, 39.909])
    assert np.array_equal(from_list[0], out_lon)
    empty = wgs84_to_gcj02(np.array([]), np.array([]))
    assert empty[0].shape == (0,)
    with pytest.raises(ValueError):
        wgs84_to_gcj02(np.zeros(3), np.zeros(2))


# ------------------------------------------------------------------------- convert


@pytest.mark.parametrize(
    ("src", "dst", "fn"),
    [
        ("wgs84", "gcj02", wgs84_to_gcj02),
        ("gcj02", "wgs84", gcj02_to_wgs84),
        ("gcj02", "bd09", gcj02_to_bd09),
        ("bd09", "gcj02", bd09_to_gcj02),
        ("wgs84", "bd09", wgs84_to_bd09),
        ("bd09", "wgs84", bd09_to_wgs84),
        ("cgcs2000", "gcj02", wgs84_to_gcj02),
        ("bd09", "cgcs2000", bd09_to_wgs84),
    ],
)
def test_convert_dispatches(wgs, src, dst, fn):
    lon, lat = wgs[0][:100], wgs[1][:100]
    got = convert(lon, lat, src=src, dst=dst)
    want = fn(lon, lat)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_convert_identity_and_cgcs2000():
    lon, lat = np.array([116.4, 117.2]), np.array([39.9, 39.1])
    for src, dst in [("wgs84", "cgcs2000"), ("cgcs2000", "wgs84"), ("gcj02", "gcj02"), ("BD09", "bd09")]:
        out_lon, out_lat = convert(lon, lat, src=src, dst=dst)
        assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)
        assert out_lon is not lon
    assert convert(116.4, 39.9, src=" WGS84 ", dst="GCJ02") == wgs84_to_gcj02(116.4, 39.9)
    assert set(DATUMS) == {"wgs84", "cgcs2000", "gcj02", "bd09"}


@pytest.mark.parametrize(("src", "dst", "bad"), [("utm50", "wgs84", "utm50"), ("wgs84", "beijing54", "beijing54")])
def test_convert_unknown_datum_names_it(src, dst, bad):
    with pytest.raises(ValueError, match=bad):
        convert(116.4, 39.9, src=src, dst=dst)


# ---------------------------------------------------------------------- distances


def test_point_distances_match_geod_across_the_region():
    rng = np.random.default_rng(11)
    lon, lat = random_points(rng, 2_000, JJJ_BBOX)
    # Far-apart pairs too: from the western to the eastern edge of Hebei.
    lon[:3], lat[:3] = [119.9, 119.85, 113.5], [42.6, 36.1, 36.05]
    for qlon, qlat in [(113.5, 36.1), (116.4, 39.9), (119.9, 42.6)]:
        got = distances_m(Point(qlon, qlat), shapely.points(lon, lat))
        _, _, want = GEOD.inv(np.full(lon.size, qlon), np.full(lon.size, qlat), lon, lat)
        assert want.max() > 500_000
        assert np.all(np.abs(got - want) <= 1e-3 * want)  # 0.1 %
        assert np.abs(got - want).max() < 1e-3  # and in fact to a millimetre


@pytest.mark.parametrize(
    ("line", "query"),
    [
        (((116.30, 39.90), (116.36, 39.93)), (116.335, 39.912)),  # 6 km line, point ~500 m off
        (((114.0, 37.0), (119.5, 41.0)), (117.0, 38.5)),  # 650 km line, point ~100 km off
    ],
)
def test_point_to_line_matches_densified_geod(line, query):
    (x0, y0), (x1, y1) = line
    got = distances_m(Point(query), np.array([LineString(line)], dtype=object))[0]
    # geo.distance reads a segment as straight in lon/lat (as drawn on the map):
    # sample it densely that way and take the nearest sample's geodesic distance.
    t = np.linspace(0.0, 1.0, 400_001)
    lon, lat = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    dist = geodesic_m(query[0], query[1], lon, lat)
    nearest = int(dist.argmin())
    assert 0 < nearest < t.size - 1  # the foot is inside the segment, not an end
    assert abs(got - dist.min()) < 0.05


# ----------------------------------------------------------------------- swapped


def test_detect_and_fix_swapped():
    lon = np.array([116.4, 39.9, 116.4, 10.0, np.nan, 40.0])
    lat = np.array([39.9, 116.4, 12.0, 20.0, 39.9, 39.9])
    swapped = detect_swapped(lon, lat)
    assert swapped.tolist() == [False, True, False, False, False, False]
    fixed_lon, fixed_lat, mask = fix_swapped(lon, lat)
    assert mask.tolist() == swapped.tolist()
    assert (fixed_lon[1], fixed_lat[1]) == (116.4, 39.9)
    assert np.array_equal(fixed_lon[[0, 2, 3, 5]], lon[[0, 2, 3, 5]])
    assert lon[1] == 39.9  # input untouched
    # A bbox of choice, and scalars give a 0-d array.
    assert detect_swapped(39.9, 116.4, bbox=BEIJING_BBOX).item() is True
    assert detect_swapped(40.0, 118.0, bbox=BEIJING_BBOX).item() is False  # Tangshan, swapped: not Beijing


def test_bboxes_cover_their_regions():
    # Province extents from data/reference/areas_admin.geojson (Hebei; Beijing).
    minx, miny, maxx, maxy = JJJ_BBOX
    assert minx < 113.4587 and miny < 36.0463 and maxx > 119.8467 and maxy > 42.6148
    minx, miny, maxx, maxy = BEIJING_BBOX
    assert minx < 115.4138 and miny < 39.4435 and maxx > 117.5061 and maxy > 41.0586


# -------------------------------------------------------------------- datum guess


def boundary_fixture(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray, list]:
    """Two adjacent ~3 km 'districts' and WGS-84 points truly inside them, all
    within 600 m of an edge (where a few hundred metres of shift matters)."""
    west = box(116.30, 39.90, 116.335, 39.93)
    east = box(116.335, 39.90, 116.37, 39.93)
    lon = np.empty(n)
    lat = np.empty(n)
    claimed = []
    for i in range(n):
        poly = west if i % 2 else east
        minx, miny, maxx, maxy = poly.bounds
        edge = rng.integers(4)
        inset = rng.uniform(0.0001, 0.006)  # degrees: ~10-600 m inside
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if edge == 0:
            x = minx + inset
        elif edge == 1:
            x = maxx - inset
        elif edge == 2:
            y = miny + inset
        else:
            y = maxy - inset
        lon[i], lat[i] = x, y
        claimed.append(poly)
    return lon, lat, claimed


@pytest.mark.parametrize("true_datum", ["wgs84", "gcj02", "bd09"])
def test_guess_datum_finds_the_shift(true_datum):
    lon, lat, claimed = boundary_fixture(np.random.default_rng(3))
    assert shapely.intersects_xy(np.array(claimed, dtype=object), lon, lat).all()
    data_lon, data_lat = convert(lon, lat, src="wgs84", dst=true_datum)
    guess = guess_datum(data_lon, data_lat, claimed)
    assert guess.best == true_datum
    assert guess.shares[true_datum] == 1.0
    assert guess.decisive
    assert guess.n == lon.size
    assert set(guess.shares) == {"wgs84", "gcj02", "bd09"}
    assert guess.margin == pytest.approx(1.0 - sorted(guess.shares.values())[-2])


def test_guess_datum_is_not_decisive_far_from_boundaries():
    rng = np.random.default_rng(5)
    district = box(116.0, 39.6, 116.6, 40.2)  # ~50 km square
    lon, lat = random_points(rng, 200, (116.2, 39.8, 116.4, 40.0))  # all > 15 km inside
    data_lon, data_lat = wgs84_to_gcj02(lon, lat)
    guess = guess_datum(data_lon, data_lat, [district] * lon.size)
    assert all(share == 1.0 for share in guess.shares.values())
    assert guess.margin == 0.0 and not guess.decisive
    assert guess.best == "wgs84"  # a tie goes to the first candidate


def test_guess_datum_needs_enough_points():
    lon, lat, claimed = boundary_fixture(np.random.default_rng(9), n=6)
    data_lon, data_lat = wgs84_to_gcj02(lon, lat)
    guess = guess_datum(data_lon, data_lat, claimed)
    # Right answer and a wide margin, but two points of difference prove little.
    assert guess.best == "gcj02" and guess.margin >= 0.05
    assert guess.margin * guess.n < 10 and not guess.decisive
    assert guess_datum(data_lon, data_lat, claimed, min_points=1).decisive


def test_guess_datum_rejects_bad_input():
    district = box(116.0, 39.6, 116.6, 40.2)
    with pytest.raises(ValueError, match="polygons"):
        guess_datum([116.3, 116.4], [39.9, 39.9], [district])
    with pytest.raises(ValueError, match="'osgb36'"):
        guess_datum([116.3], [39.9], [district], candidates=("wgs84", "osgb36"))
    with pytest.raises(ValueError, match="two"):
        guess_datum([116.3], [39.9], [district], candidates=("gcj02",))
    with pytest.raises(ValueError, match="at least one point"):
        guess_datum([], [], [])
