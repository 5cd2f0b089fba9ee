"""The embedded store's file is an ordinary GeoPackage: GDAL reads it, its R-tree is right."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from shapely.geometry import Point

from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch


def _sources(n: int, *, offset: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(offset)
    keys = [f"C{i}|R{i}" for i in range(offset, offset + n)]
    return gpd.GeoDataFrame(
        {"key": keys, "credit_code": [k.split("|")[0] for k in keys], "source_code": [k.split("|")[1] for k in keys],
         "name": [f"源{i}" for i in range(n)], "level": "blue"},
        geometry=gpd.points_from_xy(116.2 + rng.random(n) * 0.4, 39.8 + rng.random(n) * 0.3), crs="EPSG:4326")


def test_gdal_reads_what_the_store_wrote_with_a_consistent_spatial_index(tmp_path: Path) -> None:
    path = tmp_path / "store.gpkg"
    store = GeoPackageStore(path)
    store.init_schema()
    batch = LoadBatch(kind="risk_sources", file_name="a.csv", sha256="0" * 64, loaded_at=datetime.now(UTC))
    store.upsert("risk_sources", _sources(500), batch=batch)
    moved = _sources(500).iloc[:10].copy()
    moved["geometry"] = [Point(116.0 + i * 0.001, 40.5) for i in range(10)]
    store.upsert("risk_sources", pd_concat(moved, _sources(200, offset=500)), batch=batch)

    info = pyogrio.read_info(path, layer="risk_sources")
    assert info["features"] == 700 and info["crs"] == "EPSG:4326" and info["geometry_type"] == "Point"
    bbox = (116.25, 39.85, 116.45, 40.0)
    by_gdal = pyogrio.read_dataframe(path, layer="risk_sources", bbox=bbox)  # uses the GeoPackage R-tree
    ours = store.read("risk_sources", bbox=bbox)
    assert sorted(by_gdal["key"]) == ours["key"].tolist()
    moved_gdal = pyogrio.read_dataframe(path, layer="risk_sources", bbox=(115.99, 40.49, 116.02, 40.51))
    assert sorted(moved_gdal["key"]) == sorted(moved["key"])
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM rtree_risk_sources_geom").fetchone()[0] == 700
    triggers = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"rtree_risk_sources_geom_insert", "trigger_insert_feature_count_risk_sources"} <= triggers


def pd_concat(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")


def test_a_file_from_before_the_run_log_loses_the_per_row_parameters(tmp_path: Path) -> None:
    path = tmp_path / "old.gpkg"
    GeoPackageStore(path).init_schema()
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE area_results ADD COLUMN params TEXT")  # as files made before schema 0002 had it
    con.execute("DELETE FROM riskmap_meta")
    con.commit()
    con.close()
    store = GeoPackageStore(path)
    store.init_schema()
    con = sqlite3.connect(path)
    assert "params" not in {row[1] for row in con.execute("PRAGMA table_info(area_results)")}
    assert con.execute("SELECT count(*) FROM riskmap_runs").fetchone()[0] == 0
    assert store.info().schema_version == "0003"
    assert pyogrio.read_info(path, layer="area_results")["fields"].tolist()[-1] == "row_hash"


def test_kept_read_connections_see_other_writers_and_survive_close(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "shared.gpkg"
    reader, writer = GeoPackageStore(path), GeoPackageStore(path)  # as two processes on one file
    reader.init_schema()
    before = reader.data_version("risk_sources")
    batch = LoadBatch(kind="risk_sources", file_name="a.csv", sha256="0" * 64, loaded_at=datetime.now(UTC))
    writer.upsert("risk_sources", _sources(20), batch=batch)
    with ThreadPoolExecutor(4) as pool:  # each thread its own kept connection, each sees the commit
        seen = set(pool.map(lambda _: reader.data_version("risk_sources"), range(16)))
    assert seen == {before + 1}
    reader.close()
    assert reader.data_version("risk_sources") == before + 1 and len(reader.read("risk_sources")) == 20
