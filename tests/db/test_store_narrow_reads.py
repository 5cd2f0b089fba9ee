"""Reads of a few columns (what the area-risk engine does) and updates, on both stores.

The GeoPackage store reads only the columns asked for and adds others to its layer
snapshot on demand; these tests check that a narrow read equals the same columns of
a full read in every order of calls, that a write in between is seen, and that the
file's own R-tree (used by GDAL and QGIS) follows updated geometries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import Point

from geo.entities import make_key
from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch, Store

LEVELS = ("red", "orange", "yellow", "blue", None)


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="narrow_reads.csv", sha256="3" * 64,
                     loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def sources(n: int = 120, seed: int = 5) -> gpd.GeoDataFrame:
    """Risk sources with text, int (some missing), bool and missing values; keys not in insertion order."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    credit = [f"91110105NR{i:07d}" for i in order]
    codes = [f"RS{i:04d}" for i in order]
    return gpd.GeoDataFrame({
        "key": [make_key((c, s)) for c, s in zip(credit, codes, strict=True)], "credit_code": credit,
        "source_code": codes, "name": [f"风险源{i}" if i % 9 else None for i in order],
        "level": [LEVELS[i % 5] for i in order], "likelihood": [i % 5 + 1 if i % 4 else None for i in order],
        "synthetic": [bool(i % 2) for i in order],
    }, geometry=gpd.points_from_xy(116.3 + rng.random(n) * 0.2, 39.8 + rng.random(n) * 0.2), crs="EPSG:4326")


def test_narrow_read_equals_the_columns_of_a_full_read(make_store: Callable[[str], Store]) -> None:
    full = {}
    for kind in ("postgis", "geopackage"):
        store = make_store(kind)
        store.upsert("risk_sources", sources(), batch=_batch("risk_sources"))
        narrow = store.read("risk_sources", columns=("name", "level", "batch_id"))  # first read: narrow
        full[kind] = store.read("risk_sources")  # then every column (added to the same snapshot)
        assert narrow.columns.tolist() == ["key", "name", "level", "batch_id", "geometry"]
        assert narrow["key"].is_monotonic_increasing
        pd.testing.assert_frame_equal(narrow, full[kind][narrow.columns.tolist()])
        again = store.read("risk_sources", columns=("likelihood",), where={"level": ["red", "blue"]})
        expect = full[kind][full[kind]["level"].isin(["red", "blue"])]
        pd.testing.assert_frame_equal(again, expect[["key", "likelihood", "geometry"]].reset_index(drop=True))
        assert store.count("risk_sources", where={"synthetic": True}) == int(full[kind]["synthetic"].sum())
    pd.testing.assert_frame_equal(full["postgis"].drop(columns="batch_id"), full["geopackage"].drop(columns="batch_id"))


def test_narrow_read_sees_a_write_made_after_it(store: Store) -> None:
    rows = sources(40)
    store.upsert("risk_sources", rows, batch=_batch("risk_sources"))
    before = store.read("risk_sources", columns=("level",))
    changed = rows.copy()
    changed.loc[0, "level"] = "red" if rows.loc[0, "level"] != "red" else "blue"
    changed.loc[1, "geometry"] = Point(116.5, 40.1)
    extra = sources(41).iloc[[40]]
    store.upsert("risk_sources", gpd.GeoDataFrame(pd.concat([changed, extra], ignore_index=True), crs="EPSG:4326"),
                 batch=_batch("risk_sources"))
    after = store.read("risk_sources", columns=("level",))
    assert len(after) == len(before) + 1
    got = after.set_index("key")
    assert got.loc[changed.loc[0, "key"], "level"] == changed.loc[0, "level"]
    assert got.loc[changed.loc[1, "key"], "geometry"].equals(Point(116.5, 40.1))
    boxed = store.read("risk_sources", bbox=(116.49, 40.09, 116.51, 40.11), columns=("name",))
    assert boxed["key"].tolist() == [changed.loc[1, "key"]]


def test_updated_geometries_move_in_the_files_rtree(make_store: Callable[[str], Store]) -> None:
    store = make_store("geopackage")
    assert isinstance(store, GeoPackageStore)
    rows = sources(30)
    store.upsert("risk_sources", rows, batch=_batch("risk_sources"))
    moved = rows.copy()
    moved["geometry"] = shapely.points(shapely.get_coordinates(rows.geometry.values) + np.array([1.0, 0.5]))
    result = store.upsert("risk_sources", moved, batch=_batch("risk_sources"))
    assert result.updated == 30
    # pyogrio's bbox filter goes through GDAL's spatial index (the file's R-tree)
    old_box = pyogrio.read_dataframe(store.path, layer="risk_sources", bbox=(116.29, 39.79, 116.51, 40.01))
    new_box = pyogrio.read_dataframe(store.path, layer="risk_sources", bbox=(117.29, 40.29, 117.51, 40.51))
    assert len(old_box) == 0
    assert sorted(new_box["key"]) == sorted(rows["key"])


def test_read_points_equals_a_read_with_its_coordinates(store: Store) -> None:
    store.upsert("risk_sources", sources(), batch=_batch("risk_sources"))
    where = {"level": ["red", "blue", None]}
    points = store.read_points("risk_sources", where=where, columns=("name", "likelihood", "synthetic"))
    frame = store.read("risk_sources", where=where, columns=("name", "likelihood", "synthetic"))
    assert points.columns.tolist() == ["key", "name", "likelihood", "synthetic", "lon", "lat"]
    assert points["key"].is_monotonic_increasing
    pd.testing.assert_frame_equal(points.drop(columns=["lon", "lat"]), pd.DataFrame(frame.drop(columns="geometry")))
    np.testing.assert_array_equal(points["lon"].to_numpy(), shapely.get_x(frame.geometry.values))
    np.testing.assert_array_equal(points["lat"].to_numpy(), shapely.get_y(frame.geometry.values))
    every = store.read_points("risk_sources")
    assert every.columns.tolist() == [*store.read("risk_sources").columns.drop("geometry"), "lon", "lat"]
    assert store.read_points("risk_sources", where={"level": "no such level"}).empty


def test_read_points_refuses_a_layer_that_is_not_points(store: Store) -> None:
    import pytest

    with pytest.raises(ValueError, match="point layer"):
        store.read_points("areas")


def test_postgis_returns_keys_in_byte_order_on_a_database_with_a_locale(make_pg_database: Callable[..., str],
                                                                          make_store: Callable[[str], Store]) -> None:
    from sqlalchemy import create_engine, text

    from geo.stores.postgis import PostGISStore

    keys = ["a|z", "ab", "A1", "a1", "中", "z", "Z"]  # ICU en-US order: a|z a1 A1 ab z Z 中
    rows = sources(len(keys))
    rows["key"] = keys
    expect = sorted(keys)  # Python's order: code points, i.e. UTF-8 bytes
    url = make_pg_database(icu_locale="en-US")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:  # an ICU database: its own text order is not byte order
        assert conn.execute(text("SELECT datlocprovider FROM pg_database WHERE datname = current_database()"
                                 )).scalar() == "i"
    engine.dispose()
    postgis = PostGISStore(url)
    postgis.init_schema()
    try:
        postgis.upsert("risk_sources", rows, batch=_batch("risk_sources"))
        assert postgis.read("risk_sources")["key"].tolist() == expect
        assert postgis.read("risk_sources", limit=3, offset=2)["key"].tolist() == expect[2:5]
        assert postgis.read_points("risk_sources")["key"].tolist() == expect
    finally:
        postgis.close()
    embedded = make_store("geopackage")
    embedded.upsert("risk_sources", rows, batch=_batch("risk_sources"))
    assert embedded.read("risk_sources")["key"].tolist() == expect


def test_migration_0004_puts_existing_keys_in_byte_order(make_pg_database: Callable[..., str]) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from geo.stores.postgis import MIGRATIONS, PostGISStore

    url = make_pg_database(icu_locale="en-US")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # a database made before 0004: keys in the database's collation
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
        conn.execute(text('ALTER TABLE risk_sources ALTER COLUMN key TYPE text COLLATE "default"'))
    store = PostGISStore(url)
    store.init_schema()
    store.close()
    collation = ("SELECT coalesce(collation_name, 'default') FROM information_schema.columns "
                 "WHERE table_name = :t AND column_name = 'key'")
    with engine.connect() as conn:
        assert conn.execute(text(collation), {"t": "risk_sources"}).scalar() == "C"
        assert conn.execute(text(collation), {"t": "area_results"}).scalar() == "C"
    engine.dispose()
