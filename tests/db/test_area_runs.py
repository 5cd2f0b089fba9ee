"""Area risk runs through both stores: same results, persisted by key, earlier rows retired."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import area_risk as ar
from geo.capabilities import area_risk as area_runs
from geo.entities import LEVEL_CODES, make_key
from geo.files.reference import read_reference
from geo.stores.protocol import LoadBatch, Store
from webmap.settings import Settings

PATHS = Settings().paths
#: The area-risk parameters and the population raster every run reads.
SOURCES = {"config": area_runs.load_config(PATHS.area_config_path), "reference_dir": PATHS.reference_dir}

CORE = ("110101", "110102")  # 东城区, 西城区


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="area_runs_fixture.csv", sha256="2" * 64,
                     loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def fixture_frames() -> dict[str, gpd.GeoDataFrame]:
    """Beijing, its districts, the townships of Dongcheng and Xicheng, and deterministic
    points inside those two districts."""
    areas = read_reference("areas", PATHS.reference_dir)
    keep = (areas["area_code"] == "110000") | ((areas["area_type"] == "district") & (areas["parent_code"] == "110100"))
    keep |= (areas["area_type"] == "township") & areas["parent_code"].isin(CORE)
    rng = np.random.default_rng(11)
    n = 240
    lon = 116.36 + rng.random(n) * 0.07
    lat = 39.89 + rng.random(n) * 0.05
    credit = [f"91110101FIX{i % 40:05d}" for i in range(n)]
    codes = [f"RS{i:04d}" for i in range(n)]
    sources = gpd.GeoDataFrame({
        "key": [make_key((c, s)) for c, s in zip(credit, codes, strict=True)], "credit_code": credit,
        "source_code": codes, "name": [f"风险源{i}" for i in range(n)],
        "level": [LEVEL_CODES[i % 7 % 4] for i in range(n)], "synthetic": True,
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    units = gpd.GeoDataFrame({
        "key": [f"91110101FIX{i:05d}" for i in range(40)], "credit_code": [f"91110101FIX{i:05d}" for i in range(40)],
        "name": [f"单位{i}" for i in range(40)], "insured": [i % 3 != 0 for i in range(40)], "synthetic": True,
    }, geometry=gpd.points_from_xy(lon[:40], lat[:40]), crs="EPSG:4326")
    hazards = gpd.GeoDataFrame({
        "key": [f"HZ{i}" for i in range(12)], "hazard_code": [f"HZ{i}" for i in range(12)],
        "status": ["open" if i % 2 else "closed" for i in range(12)], "synthetic": True,
    }, geometry=gpd.points_from_xy(lon[40:52], lat[40:52]), crs="EPSG:4326")
    resources = gpd.GeoDataFrame({
        "key": ["T1", "T2", "D1"], "resource_code": ["T1", "T2", "D1"], "name": ["救援队一", "救援队二", "物资库"],
        "resource_type": ["team", "team", "supply_depot"], "synthetic": True,
    }, geometry=gpd.points_from_xy([116.37, 116.42, 116.40], [39.90, 39.93, 39.91]), crs="EPSG:4326")
    hazchem = gpd.GeoDataFrame({
        "key": ["C1|S1", "C2|S2"], "credit_code": ["C1", "C2"], "site_code": ["S1", "S2"], "name": ["液氨库", "加油站"],
        "chemicals": [json.dumps([{"name": "液氨", "tonnes": 50}, {"name": "氯气", "tonnes": 10}], ensure_ascii=False),
                      json.dumps([{"name": "汽油", "tonnes": 150}], ensure_ascii=False)],
        "synthetic": True,
    }, geometry=gpd.points_from_xy([116.40, 116.38], [39.91, 39.92]), crs="EPSG:4326")
    return {"areas": areas[keep].reset_index(drop=True), "risk_sources": sources, "units": units,
            "hidden_hazards": hazards, "resources": resources, "hazchem_sites": hazchem}


FRAMES = fixture_frames()


def load(store: Store) -> Store:
    for kind, frame in FRAMES.items():
        store.upsert(kind, frame, batch=_batch(kind))
    return store


def _comparable(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    cols = ["key", "area_code", "name", "parent_code", "level", "score", *(f"count_{c}" for c in LEVEL_CODES),
            "population", "area_km2"]
    return frame[cols].sort_values("key").reset_index(drop=True)


def test_every_unit_and_method_gives_the_same_results_on_both_stores(
    make_store: Callable[[str], Store],
) -> None:
    results: dict[str, dict[tuple[str, str], gpd.GeoDataFrame]] = {}
    for kind in ("postgis", "geopackage"):
        store = load(make_store(kind))
        runs = area_runs.run_area_risk(store, **SOURCES, cell_m=1000, h3_res=8)
        assert {(r.unit, r.method) for r in runs} == {(u, m) for u in ar.UNITS for m in ar.METHODS}
        results[kind] = {(u, m): area_runs.read_area_results(store, u, m) for u in ar.UNITS for m in ar.METHODS}
    for key, pg in results["postgis"].items():
        gp = results["geopackage"][key]
        assert len(pg) > 0, key
        pd.testing.assert_frame_equal(_comparable(pg), _comparable(gp), check_exact=False, rtol=1e-9)
        assert [json.loads(e) for e in pg["explanation"]] == [json.loads(e) for e in gp["explanation"]], key
    districts = results["postgis"][("district", "highest")]
    assert set(districts["area_code"]) >= {"110101", "110102", "110100-ETDA"}
    dongcheng = districts[districts["area_code"] == "110101"].iloc[0]
    assert dongcheng["level"] == "red" and dongcheng["population"] > 500_000
    townships = results["postgis"][("township", "density")]
    assert set(townships["parent_code"]) == set(CORE)
    # every source inside the townships is counted once (they tile the two districts)
    tiles = shapely.union_all(FRAMES["areas"].loc[FRAMES["areas"]["area_type"] == "township"].geometry.values)
    inside = int(shapely.intersects(tiles, FRAMES["risk_sources"].geometry.values).sum())
    assert int(townships[[f"count_{c}" for c in LEVEL_CODES]].to_numpy().sum()) == inside > 200


def test_latest_run_replaces_rows_and_retires_the_rest(store: Store) -> None:
    load(store)
    first = area_runs.run_area_risk(store, **SOURCES, units=["grid"], methods=["density"], cell_m=1000)[0]
    fine = area_runs.read_area_results(store, "grid", "density")
    assert len(fine) == first.areas and fine["area_code"].str.startswith("1000m:").all()
    again = area_runs.run_area_risk(store, **SOURCES, units=["grid"], methods=["density"], cell_m=1000)[0]
    assert again.retired == 0 and store.count("area_results") == first.areas
    coarse_run = area_runs.run_area_risk(store, **SOURCES, units=["grid"], methods=["density"], cell_m=2000)[0]
    assert coarse_run.retired == first.areas
    coarse = area_runs.read_area_results(store, "grid", "density")
    assert len(coarse) == coarse_run.areas and coarse["area_code"].str.startswith("2000m:").all()
    assert set(coarse["run_id"]) == {coarse_run.run_id}
    retired = store.read("area_results", where={"unit": "grid", "method": "density", "level": None})
    assert len(retired) == first.areas
    assert all(json.loads(e) == {"retired_by": coarse_run.run_id} for e in retired["explanation"])
    assert retired["score"].isna().all() and (retired["count_red"] == 0).all()


def test_params_record_the_run_and_the_data_used(store: Store) -> None:
    load(store)
    (run,) = area_runs.run_area_risk(store, **SOURCES, units=["township"], methods=["composite"])
    rows = area_runs.read_area_results(store, "township", "composite")
    assert set(rows["run_id"]) == {run.run_id}
    recorded = store.read_runs([run.run_id, "no such run"])
    assert list(recorded) == [run.run_id] and recorded[run.run_id].kind == "area_results"
    assert recorded[run.run_id].run_at == rows["run_at"].iloc[0]
    params = recorded[run.run_id].params
    assert params["run"]["run_id"] == run.run_id
    assert params["data_versions"]["risk_sources"] == store.data_version("risk_sources")
    assert params["batches"]["risk_sources"] and params["batches"]["hidden_hazards"]
    assert params["method_params"]["indicators"]["team_distance"]["unit"] == "m"
    assert rows["run_at"].iloc[0].endswith("+00:00")
    explanation = json.loads(rows["explanation"].iloc[0])
    assert set(explanation["components"]) == set(ar.DIMENSIONS)
    # the top sources are named as loaded
    names = dict(zip(FRAMES["risk_sources"]["key"], FRAMES["risk_sources"]["name"], strict=True))
    tops = [s for e in rows["explanation"] for s in json.loads(e)["top_sources"]]
    assert tops and all(s["name"] == names[s["key"]] for s in tops)


def test_major_hazard_grades_use_the_population_raster(store: Store) -> None:
    load(store)
    table = area_runs.assess_major_hazards(store, **SOURCES).set_index("key")
    ammonia = table.loc["C1|S1"]
    # central Beijing: far more than 100 people within 500 m → α 2.0; R = 2 × (2 × 5 + 4 × 2) = 36 → 三级
    assert ammonia["population_known"] and ammonia["people_500m"] > 100
    assert ammonia["alpha"] == 2.0 and math.isclose(ammonia["r"], 36.0) and ammonia["grade_zh"] == "三级"
    gas = table.loc["C2|S2"]
    assert not gas["is_major"] and pd.isna(gas["grade"])


def test_major_hazard_grades_are_written_back_once(store: Store) -> None:
    load(store)
    version = store.data_version("hazchem_sites")
    first = area_runs.write_major_hazard_grades(store, area_runs.assess_major_hazards(store, **SOURCES))
    assert (first.inserted, first.updated, first.unchanged) == (0, 1, 1)  # 液氨库 gets 三级; 加油站 stays empty
    sites = store.read("hazchem_sites", columns=("major_hazard_grade", "name", "batch_id")).set_index("key")
    assert sites.loc["C1|S1", "major_hazard_grade"] == 3 and sites.loc["C1|S1", "batch_id"] == first.batch_id
    assert pd.isna(sites.loc["C2|S2", "major_hazard_grade"]) and sites.loc["C2|S2", "batch_id"] != first.batch_id
    assert sites.loc["C1|S1", "name"] == "液氨库"  # the rest of the row as loaded
    assert store.data_version("hazchem_sites") > version
    version = store.data_version("hazchem_sites")
    again = area_runs.write_major_hazard_grades(store, area_runs.assess_major_hazards(store, **SOURCES))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert store.data_version("hazchem_sites") == version


@pytest.mark.parametrize("bad", [{"units": ["county"]}, {"methods": ["average"]}])
def test_unknown_unit_or_method_is_named(make_store: Callable[[str], Store], bad: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match=r"county|average"):
        area_runs.run_area_risk(make_store("geopackage"), **SOURCES, **bad)  # type: ignore[arg-type]
