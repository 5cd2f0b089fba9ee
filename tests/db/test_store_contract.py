"""The store contract: every behaviour on PostGIS and on the GeoPackage, same answers.

Each test runs against both stores on the same fixtures; the cross-store tests
also compare the two answers directly (ids, order, distances to 0.01 m, decoded
tiles).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import geopandas as gpd
import mapbox_vector_tile
import mercantile
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, box

from geo.entities import UnknownColumnError, UnknownEntityError, make_key
from geo.stores.protocol import ClusterSpec, DuplicateKeyError, LoadBatch, RunRecord, Store

GEOD = Geod(ellps="WGS84")
LEVELS = ("red", "orange", "yellow", "blue")


def batch(kind: str, name: str = "fixture.csv") -> LoadBatch:
    return LoadBatch(kind=kind, file_name=name, sha256="0" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def risk_sources(n: int = 200, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` risk sources scattered over central Beijing, deterministic."""
    rng = np.random.default_rng(seed)
    lon = 116.30 + rng.random(n) * 0.25
    lat = 39.82 + rng.random(n) * 0.18
    credit = [f"91110105MA0{i:07d}" for i in range(n)]
    codes = [f"RS{i:04d}" for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "key": [make_key((c, s)) for c, s in zip(credit, codes, strict=True)],
            "credit_code": credit,
            "source_code": codes,
            "name": [f"风险源{i}" for i in range(n)],
            "level": [LEVELS[i % 4] for i in range(n)],
            "likelihood": [i % 5 + 1 if i % 7 else None for i in range(n)],
            "severity": [(i * 3) % 5 + 1 for i in range(n)],
            "synthetic": True,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def districts() -> gpd.GeoDataFrame:
    """Two adjoining boxes and one empty box far away."""
    polys = [box(116.30, 39.82, 116.42, 40.00), box(116.42, 39.82, 116.55, 40.00), box(117.0, 40.5, 117.1, 40.6)]
    codes = ["A", "B", "EMPTY"]
    return gpd.GeoDataFrame(
        {"key": codes, "area_code": codes, "name": ["甲", "乙", "空"], "area_type": "district",
         "population": [1000.0, 2000.0, None], "approximate": [False, False, True]},
        geometry=polys, crs="EPSG:4326",
    )


def pipelines() -> gpd.GeoDataFrame:
    lines = [LineString([(116.35, 39.85), (116.50, 39.95)]), LineString([(116.0, 39.5), (116.1, 39.6)])]
    return gpd.GeoDataFrame(
        {"key": ["P1", "P2"], "line_code": ["P1", "P2"], "name": ["一号管线", "二号管线"],
         "line_type": "gas_pipeline"},
        geometry=lines, crs="EPSG:4326",
    )


@pytest.fixture
def loaded(store: Store) -> Store:
    store.upsert("risk_sources", risk_sources(), batch=batch("risk_sources"))
    store.upsert("areas", districts(), batch=batch("areas"))
    store.upsert("lines", pipelines(), batch=batch("lines"))
    return store


@pytest.fixture
def both(make_store: Callable[[str], Store]) -> tuple[Store, Store]:
    """A PostGIS and a GeoPackage store holding the same fixtures."""
    stores = []
    for kind in ("postgis", "geopackage"):
        s = make_store(kind)
        s.upsert("risk_sources", risk_sources(), batch=batch("risk_sources"))
        s.upsert("areas", districts(), batch=batch("areas"))
        s.upsert("lines", pipelines(), batch=batch("lines"))
        stores.append(s)
    return stores[0], stores[1]


def geod_m(lon: float, lat: float, points: gpd.GeoSeries) -> np.ndarray:
    _, _, d = GEOD.inv(np.full(len(points), lon), np.full(len(points), lat), points.x.values, points.y.values)
    return np.asarray(d)


# -- schema and writes ---------------------------------------------------------------------------------


def test_init_schema_is_idempotent_and_reports_versions(store: Store) -> None:
    store.init_schema()
    info = store.info()
    assert info.kind == store.kind
    assert info.schema_version == {"postgis": "0005", "geopackage": "0003"}[store.kind]  # 0005: accounts, audit log
    assert "geos" in info.versions and "proj" in info.versions


def test_upsert_counts_inserted_unchanged_updated(store: Store) -> None:
    rows = risk_sources(50)
    first = store.upsert("risk_sources", rows, batch=batch("risk_sources"))
    assert (first.inserted, first.updated, first.unchanged) == (50, 0, 0)
    version = store.data_version("risk_sources")

    again = store.upsert("risk_sources", rows, batch=batch("risk_sources"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 50)
    assert store.data_version("risk_sources") == version  # nothing changed, caches stay valid

    changed = rows.copy()
    changed.loc[3, "level"] = "red"
    changed.loc[4, "geometry"] = Point(116.4, 39.9)
    more = pd.concat([changed, risk_sources(60).iloc[50:]], ignore_index=True)
    third = store.upsert("risk_sources", gpd.GeoDataFrame(more, crs="EPSG:4326"), batch=batch("risk_sources"))
    expected_updates = int(rows.loc[3, "level"] != "red") + 1
    assert (third.inserted, third.updated, third.unchanged) == (10, expected_updates, 50 - expected_updates)
    assert store.count("risk_sources") == 60
    assert store.data_version("risk_sources") > version
    moved = store.read("risk_sources", where={"key": rows.loc[4, "key"]})
    assert moved.geometry.iloc[0].equals(Point(116.4, 39.9))
    assert moved["batch_id"].iloc[0] == third.batch_id


def test_duplicate_keys_write_nothing(store: Store) -> None:
    rows = risk_sources(5)
    rows.loc[4, "key"] = rows.loc[0, "key"]
    with pytest.raises(DuplicateKeyError, match="duplicate"):
        store.upsert("risk_sources", rows, batch=batch("risk_sources"))
    assert store.count("risk_sources") == 0


def test_failed_batch_leaves_store_as_it_was(store: Store) -> None:
    store.upsert("risk_sources", risk_sources(10), batch=batch("risk_sources"))
    bad = risk_sources(20)
    bad["likelihood"] = bad["likelihood"].astype(object)
    bad.loc[15, "likelihood"] = "not a number"
    with pytest.raises(ValueError):
        store.upsert("risk_sources", bad, batch=batch("risk_sources"))
    assert store.count("risk_sources") == 10


def test_polygons_promoted_to_multipolygons(loaded: Store) -> None:
    areas = loaded.read("areas")
    assert set(areas.geom_type) == {"MultiPolygon"}
    assert areas.crs == "EPSG:4326"


def test_unknown_kind_and_column_are_named(loaded: Store) -> None:
    with pytest.raises(UnknownEntityError, match="nope"):
        loaded.count("nope")
    with pytest.raises(UnknownColumnError, match="colour"):
        loaded.read("risk_sources", where={"colour": "red"})


# -- reads ---------------------------------------------------------------------------------------------


def test_read_bbox_filter_limit_offset(loaded: Store) -> None:
    src = risk_sources()
    bbox = (116.35, 39.85, 116.45, 39.95)
    inside = src.cx[bbox[0]:bbox[2], bbox[1]:bbox[3]]
    reds = sorted(inside.loc[inside["level"] == "red", "key"])
    got = loaded.read("risk_sources", bbox=bbox, where={"level": "red"})
    assert got["key"].tolist() == reds
    page = loaded.read("risk_sources", where={"level": ["red", "blue"]}, limit=7, offset=5)
    every = sorted(src.loc[src["level"].isin(["red", "blue"]), "key"])
    assert page["key"].tolist() == every[5:12]
    assert loaded.count("risk_sources", where={"likelihood": None}) == int(src["likelihood"].isna().sum())


def test_nearest_orders_by_true_distance(loaded: Store) -> None:
    lon, lat = 116.40, 39.90
    got = loaded.nearest("risk_sources", lon, lat, k=10)
    src = risk_sources()
    d = geod_m(lon, lat, src.geometry)
    expected = src.assign(d=d).sort_values(["d", "key"]).head(10)
    assert got["key"].tolist() == expected["key"].tolist()
    np.testing.assert_allclose(got["distance_m"], expected["d"], atol=0.01)


def test_nearest_with_filter_and_far_away_point(loaded: Store) -> None:
    got = loaded.nearest("risk_sources", 119.5, 39.5, k=3, where={"level": "orange"})
    src = risk_sources()
    oranges = src[src["level"] == "orange"]
    d = geod_m(119.5, 39.5, oranges.geometry)
    assert got["key"].tolist() == oranges.assign(d=d).sort_values(["d", "key"])["key"].head(3).tolist()
    assert (got["level"] == "orange").all()
    assert len(loaded.nearest("risk_sources", 116.4, 39.9, k=1000)) == len(src)


def test_nearest_per_group_is_nearest_for_each_value_as_plain_records(both: tuple[Store, Store]) -> None:
    lon, lat = 116.40, 39.90
    answers = [s.nearest_per_group("risk_sources", lon, lat, k=3, column="level", values=["red", "blue", "none"],
                                   fields=("key", "name", "likelihood", "synthetic")) for s in both]
    src = risk_sources()
    for level in ("red", "blue"):
        rows = src[src["level"] == level]
        expected = rows.assign(d=geod_m(lon, lat, rows.geometry)).sort_values(["d", "key"]).head(3)
        for answer in answers:
            got = answer[level]
            assert [r["key"] for r in got] == expected["key"].tolist()
            np.testing.assert_allclose([r["distance_m"] for r in got], expected["d"], atol=0.01)
            assert [(r["lon"], r["lat"]) for r in got] == [(p.x, p.y) for p in expected.geometry]
    assert answers[0]["none"] == answers[1]["none"] == []
    assert _rounded(answers[0]) == _rounded(answers[1])  # same values and Python types on both stores


def _rounded(answer: dict) -> dict:
    return {g: [{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in rows]
            for g, rows in answer.items()}


def test_within_distance_of_point_and_polygon(loaded: Store) -> None:
    src = risk_sources()
    d = geod_m(116.40, 39.90, src.geometry)
    got = loaded.within_distance("risk_sources", Point(116.40, 39.90), 3000)
    assert sorted(got["key"]) == sorted(src.loc[d <= 3000, "key"])
    assert got["distance_m"].is_monotonic_increasing
    np.testing.assert_allclose(got["distance_m"], np.sort(d[d <= 3000]), atol=0.01)

    parcel = box(116.40, 39.88, 116.41, 39.89)
    near = loaded.within_distance("risk_sources", parcel, 1000)
    assert (near["distance_m"] <= 1000).all()
    inside = src[src.within(parcel)]
    assert set(inside["key"]) <= set(near.loc[near["distance_m"] == 0, "key"])


def test_within_distance_of_a_line(loaded: Store) -> None:
    got = loaded.within_distance("lines", Point(116.42, 39.90), 5000)
    assert got["key"].tolist() == ["P1"]
    # Distance from the point to the segment, checked against a densely sampled geodesic minimum.
    line = pipelines().geometry.iloc[0]
    samples = [line.interpolate(f, normalized=True) for f in np.linspace(0, 1, 20001)]
    _, _, d = GEOD.inv([116.42] * len(samples), [39.90] * len(samples), [p.x for p in samples],
                       [p.y for p in samples])
    assert got["distance_m"].iloc[0] == pytest.approx(min(d), abs=0.05)


def test_count_and_sum_per_polygon(loaded: Store) -> None:
    src = risk_sources()
    out = loaded.count_per_polygon("risk_sources", "areas", sum_column="likelihood")
    assert out["polygon_key"].tolist() == ["A", "B", "EMPTY"]
    polys = districts().set_index("key").geometry
    for key in ("A", "B"):
        hit = src[src.intersects(polys[key])]
        row = out[out["polygon_key"] == key].iloc[0]
        assert row["count"] == len(hit)
        assert row["sum"] == pytest.approx(hit["likelihood"].sum())
    empty = out[out["polygon_key"] == "EMPTY"].iloc[0]
    assert empty["count"] == 0 and np.isnan(empty["sum"])

    by_level = loaded.count_per_polygon("risk_sources", "areas", group_column="level",
                                        polygon_where={"key": ["A", "B"]})
    total = by_level.groupby("polygon_key")["count"].sum()
    assert total.to_dict() == out.set_index("polygon_key")["count"].drop("EMPTY").to_dict()
    assert set(by_level["group"]) == set(LEVELS)


def test_tile_contains_points_with_properties(loaded: Store) -> None:
    tile = loaded.tile("risk_sources", 12, 3373, 1552, columns=("key", "level", "likelihood"))
    layer = mapbox_vector_tile.decode(tile)["risk_sources"]
    assert layer["extent"] == 4096
    assert len(layer["features"]) > 0
    first = layer["features"][0]["properties"]
    assert {"key", "level"} <= set(first)
    assert loaded.tile("risk_sources", 12, 0, 0) == b""


# -- the same answers on both stores -------------------------------------------------------------------


def test_both_stores_give_identical_answers(both: tuple[Store, Store]) -> None:
    pg, gp = both
    rng = np.random.default_rng(3)
    for lon, lat in zip(116.3 + rng.random(20) * 0.3, 39.8 + rng.random(20) * 0.2, strict=True):
        a, b = pg.nearest("risk_sources", lon, lat, k=8), gp.nearest("risk_sources", lon, lat, k=8)
        assert a["key"].tolist() == b["key"].tolist()
        np.testing.assert_allclose(a["distance_m"], b["distance_m"], atol=0.01)
        q = shapely.buffer(Point(lon, lat), 0.003)
        a, b = pg.within_distance("risk_sources", q, 1500), gp.within_distance("risk_sources", q, 1500)
        assert a["key"].tolist() == b["key"].tolist()
        np.testing.assert_allclose(a["distance_m"], b["distance_m"], atol=0.01)
    pd.testing.assert_frame_equal(pg.read("risk_sources").drop(columns="geometry"),
                                  gp.read("risk_sources").drop(columns="geometry"))
    pd.testing.assert_frame_equal(
        pg.count_per_polygon("risk_sources", "areas", sum_column="severity", group_column="level"),
        gp.count_per_polygon("risk_sources", "areas", sum_column="severity", group_column="level"),
    )


@pytest.mark.parametrize(("z", "x", "y"), [(8, 210, 96), (11, 1686, 775), (12, 3373, 1552), (14, 13492, 6208)])
def test_both_stores_encode_the_same_tiles(both: tuple[Store, Store], z: int, x: int, y: int) -> None:
    pg, gp = both
    cols = ("key", "name", "level", "likelihood", "synthetic")
    for kind, columns in (("risk_sources", cols), ("lines", ("key", "name"))):
        a = mapbox_vector_tile.decode(pg.tile(kind, z, x, y, columns=columns))
        b = mapbox_vector_tile.decode(gp.tile(kind, z, x, y, columns=columns))
        assert _features(a) == _features(b)


def _features(decoded: dict) -> list[tuple]:
    out = []
    for name, layer in decoded.items():
        for f in layer["features"]:
            out.append((name, f["geometry"]["type"], str(f["geometry"]["coordinates"]),
                        tuple(sorted(f["properties"].items()))))
    return sorted(out)


CLUSTER = ClusterSpec(cell=512, column="level", values=LEVELS)


@pytest.mark.parametrize(("z", "x", "y"), [(8, 210, 96), (10, 843, 387), (11, 1686, 775)])
def test_clustered_tiles_count_every_point_once(both: tuple[Store, Store], z: int, x: int, y: int) -> None:
    decoded = [mapbox_vector_tile.decode(s.tile("risk_sources", z, x, y, cluster=CLUSTER)) for s in both]
    assert _features(decoded[0]) == _features(decoded[1])
    features = decoded[0]["risk_sources"]["features"] if decoded[0] else []
    for f in features:
        p = f["properties"]
        assert p["count"] == sum(p[f"n_{v}"] for v in LEVELS)
        assert p["key"].startswith(f"cluster:{z}/")



def test_clusters_of_all_tiles_count_every_source_once(loaded: Store) -> None:
    clusters: dict[str, int] = {}
    for t in mercantile.tiles(116.29, 39.81, 116.56, 40.01, zooms=9):
        tile = mapbox_vector_tile.decode(loaded.tile("risk_sources", t.z, t.x, t.y, cluster=CLUSTER))
        for f in tile.get("risk_sources", {"features": []})["features"]:
            # a cluster near a tile edge is drawn by both tiles, identically
            assert clusters.setdefault(f["properties"]["key"], f["properties"]["count"]) == f["properties"]["count"]
    assert sum(clusters.values()) == len(risk_sources())


def test_search_orders_exact_prefix_substring(both: tuple[Store, Store]) -> None:
    pg, gp = both
    for s in both:
        hits = s.search("risk_sources", "风险源1", columns=("name", "credit_code"), limit=5)
        assert hits["name"].tolist()[:2] == ["风险源1", "风险源10"]
        assert len(hits) == 5
        assert s.search("risk_sources", "91110105MA00000042", columns=("name", "credit_code"))["key"].tolist() == [
            "91110105MA00000042|RS0042"]
        assert s.search("risk_sources", "100%_", columns=("name",)).empty
    a = pg.search("risk_sources", "源2", columns=("name",), limit=50)
    b = gp.search("risk_sources", "源2", columns=("name",), limit=50)
    assert a["key"].tolist() == b["key"].tolist()


def test_kept_cluster_cells_follow_every_load(both: tuple[Store, Store]) -> None:
    """Low-zoom tiles come from cell counts kept per data version: a load changes them at once."""
    tile = (9, 421, 194)
    before = [mapbox_vector_tile.decode(s.tile("risk_sources", *tile, cluster=CLUSTER)) for s in both]
    total = sum(f["properties"]["count"] for f in before[0]["risk_sources"]["features"])
    extra = risk_sources(3).assign(key=["extra-1", "extra-2", "extra-3"], level="red")
    extra = extra.set_geometry(gpd.points_from_xy([116.40] * 3, [39.90] * 3), crs="EPSG:4326")
    for s in both:
        s.upsert("risk_sources", extra, batch=batch("risk_sources", "extra.csv"))
    after = [mapbox_vector_tile.decode(s.tile("risk_sources", *tile, cluster=CLUSTER)) for s in both]
    assert _features(after[0]) == _features(after[1])
    assert sum(f["properties"]["count"] for f in after[0]["risk_sources"]["features"]) == total + 3


def test_cluster_tiles_exist_only_up_to_the_base_zoom(loaded: Store) -> None:
    with pytest.raises(ValueError, match="base zoom"):
        loaded.tile("risk_sources", 13, 6744, 3104, cluster=CLUSTER)


def test_data_versions_in_one_call_match_each_layers_version(loaded: Store) -> None:
    kinds = ["risk_sources", "areas", "units"]
    assert loaded.data_versions(kinds) == {k: loaded.data_version(k) for k in kinds}
    assert loaded.data_versions(kinds)["units"] == 0 < loaded.data_versions(kinds)["risk_sources"]


def test_run_log_keeps_a_run_once_and_replaces_it_on_a_second_record(store: Store) -> None:
    first = RunRecord("20260101T000000-aaaa", "area_results", "2026-01-01T00:00:00+00:00",
                      {"method_params": {"weights": {"red": 100}}, "名称": "区域风险", "batches": {"units": [1, 2]}})
    store.record_run(first)
    assert store.read_runs([first.run_id]) == {first.run_id: first}
    again = RunRecord(first.run_id, "area_results", "2026-01-02T00:00:00+00:00", {"method_params": {}})
    store.record_run(again)
    assert store.read_runs([first.run_id, "never recorded"]) == {first.run_id: again}
    assert store.read_runs([]) == {}


def test_last_loaded_is_the_latest_batch_time_per_layer_in_utc(store: Store) -> None:
    from datetime import timedelta, timezone

    assert store.last_loaded(["risk_sources", "units"]) == {"risk_sources": None, "units": None}
    beijing = timezone(timedelta(hours=8))
    for day in (1, 3, 2):  # the latest batch counts, not the largest time
        loaded_at = datetime(2026, 1, day, 8, tzinfo=beijing)
        store.upsert("risk_sources", risk_sources(5), batch=LoadBatch(
            kind="risk_sources", file_name="f.csv", sha256="0" * 64, loaded_at=loaded_at))
    assert store.last_loaded(["units", "risk_sources"]) == {"units": None, "risk_sources": "2026-01-02T00:00:00Z"}
    with pytest.raises(UnknownEntityError):
        store.last_loaded(["nonsense"])
