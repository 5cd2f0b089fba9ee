"""A live map server on a free loopback port and a real headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from browser_support import serving
from playwright.sync_api import Browser, sync_playwright
from shapely.geometry import box

from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.settings import Settings

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _fixture_store(path: Path) -> GeoPackageStore:
    store = GeoPackageStore(path)
    store.init_schema()
    batch = LoadBatch(kind="demo", file_name="browser.csv", sha256="2" * 64, loaded_at=datetime.now(UTC))
    rng = np.random.default_rng(1)
    n = 300
    levels = np.array(["red", "orange", "yellow", "blue"])
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": [f"C{i}|R{i}" for i in range(n)], "credit_code": [f"C{i}" for i in range(n)],
         "source_code": [f"R{i}" for i in range(n)], "name": [f"演示风险源{i}" for i in range(n)],
         "level": levels[np.arange(n) % 4], "synthetic": True},
        geometry=gpd.points_from_xy(116.2 + rng.random(n) * 0.4, 39.75 + rng.random(n) * 0.3),
        crs="EPSG:4326"), batch=batch)
    store.upsert("resources", gpd.GeoDataFrame(
        {"key": ["F1", "F2", "T1"], "resource_code": ["F1", "F2", "T1"],
         "name": ["东单消防站", "崇文消防站", "危化救援队"],
         "resource_type": ["fire_station", "fire_station", "team"], "speciality": [None, None, "危化品"],
         "synthetic": [False, False, True]},
        geometry=gpd.points_from_xy([116.41, 116.43, 116.38], [39.91, 39.89, 39.93]), crs="EPSG:4326"), batch=batch)
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110101", "110102"], "area_code": ["110101", "110102"], "name": ["东城区", "西城区"],
         "area_type": "district", "province_code": "110000"},
        geometry=[box(116.38, 39.85, 116.45, 39.97), box(116.32, 39.85, 116.38, 39.97)], crs="EPSG:4326"),
        batch=batch)
    return store


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("browser") / "map.gpkg"
    store = _fixture_store(path)
    with serving(create_app(Settings(gpkg_path=path), store=store)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
