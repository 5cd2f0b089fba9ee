"""The Flask app on a small embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from auth_support import AdminClient
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import Point, box

from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.settings import Settings


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="web.csv", sha256="1" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    store = GeoPackageStore(tmp_path / "web.gpkg")
    store.init_schema()
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": ["C1|R1", "C1|R2"], "credit_code": ["C1", "C1"], "source_code": ["R1", "R2"],
         "name": ["液氨储罐", "配电室"], "level": ["red", "blue"], "synthetic": True},
        geometry=[Point(116.40, 39.90), Point(116.41, 39.91)], crs="EPSG:4326"), batch=_batch("risk_sources"))
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110101"], "area_code": ["110101"], "name": ["东城区"], "area_type": ["district"],
         "province_code": ["110000"]},
        geometry=[box(116.38, 39.85, 116.45, 39.97)], crs="EPSG:4326"), batch=_batch("areas"))
    store.upsert("resources", gpd.GeoDataFrame(
        {"key": ["F1", "F2", "T1"], "resource_code": ["F1", "F2", "T1"],
         "name": ["东单消防站", "崇文消防站", "危化救援队"],
         "resource_type": ["fire_station", "fire_station", "team"], "speciality": [None, None, "危化品"]},
        geometry=[Point(116.41, 39.91), Point(116.43, 39.89), Point(116.38, 39.93)], crs="EPSG:4326"),
        batch=_batch("resources"))
    app = create_app(Settings(gpkg_path=tmp_path / "web.gpkg"), store=store)
    return app.test_client()




@pytest.fixture(scope="session", autouse=True)
def signed_in_test_clients() -> Iterator[None]:
    """Every ``app.test_client()`` of the web tests signs in as an administrator with an API token
    (``auth_support.AdminClient``); ``auth_support`` makes clients of other roles, sessions and
    anonymous ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "test_client_class", AdminClient)
        yield
