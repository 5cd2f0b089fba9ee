"""The Flask app on a small store of each kind: every test using ``client`` runs on PostGIS
and on the GeoPackage (the modules with fixtures of their own open them with ``open_web_store``)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from flask.testing import FlaskClient
from shapely.geometry import Point, box
from web_support import STORE_KINDS, OpenLoadedStore, OpenWebStore

from geo.entities import ENTITIES
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app
from webmap.settings import Settings


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="web.csv", sha256="1" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def load_small_beijing(store: Store) -> None:
    """Two risk sources, Dongcheng and three resources: the ``client`` fixture's data."""
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


@pytest.fixture(scope="session")
def open_web_store(make_pg_database: Callable[..., str]) -> OpenWebStore:
    """``with open_web_store(kind, folder[, template=...]) as (store, settings)``: a fresh store of
    ``kind`` ("postgis": a new database, a copy of database ``template`` if given; "geopackage":
    ``folder/web.gpkg``, a copy of file ``template`` if given), its schema created, and the
    settings that name it; the store is closed after."""

    @contextmanager
    def open_store(kind: str, folder: Path, *, template: str | None = None) -> Iterator[tuple[Store, Settings]]:
        store: Store
        if kind == "postgis":
            url = make_pg_database(template=template)
            store, settings = PostGISStore(url), Settings(database_url=url)
        else:
            path = folder / "web.gpkg"
            if template:
                shutil.copyfile(template, path)
            store, settings = GeoPackageStore(path), Settings(gpkg_path=path)
        try:
            store.init_schema()
            yield store, settings
        finally:
            store.close()

    return open_store


def _data_versions(database_url: str) -> dict[str, int]:
    """Every layer's data version, read afresh (not through a store's remembered versions)."""
    store = PostGISStore(database_url)
    try:
        return store.data_versions(list(ENTITIES))
    finally:
        store.close()


@pytest.fixture(scope="session")
def open_loaded_store(open_web_store: OpenWebStore, make_pg_database: Callable[..., str],
                      tmp_path_factory: pytest.TempPathFactory) -> OpenLoadedStore:
    """``with open_loaded_store(kind, folder, load) as (store, settings)``: a store of ``kind``
    holding what ``load(store)`` writes and nothing else.

    The data are loaded (and the cluster counts kept, as at every start) once per session into
    a template, and each store is a copy of it: 0.1 s instead of 1.5 s for a new store and its
    loads. A PostGIS copy whose layers a test left as they were (every data version unchanged)
    serves the next test that asks for the same data: dropping a used database costs 0.5-1 s.
    """
    templates: dict[tuple[str, Callable[[Store], None]], tuple[str, dict[str, int]]] = {}
    unchanged: dict[Callable[[Store], None], str] = {}  # a PostGIS copy as loaded, free for reuse

    def template(kind: str, load: Callable[[Store], None]) -> str:
        if (kind, load) not in templates:
            with open_web_store(kind, tmp_path_factory.mktemp("template")) as (store, settings):
                load(store)
                create_app(settings, store=store)
            url = settings.database_url
            templates[kind, load] = ((url.rsplit("/", 1)[1], _data_versions(url)) if url
                                     else (str(settings.gpkg_path), {}))
        return templates[kind, load][0]

    @contextmanager
    def open_store(kind: str, folder: Path, load: Callable[[Store], None]) -> Iterator[tuple[Store, Settings]]:
        if kind != "postgis":
            with open_web_store(kind, folder, template=template(kind, load)) as (store, settings):
                yield store, settings
            return
        url = unchanged.pop(load, None) or make_pg_database(template=template(kind, load))
        pg = PostGISStore(url)
        try:
            pg.init_schema()
            yield pg, Settings(database_url=url)
        finally:
            pg.close()
        if _data_versions(url) == templates[kind, load][1]:
            unchanged[load] = url

    return open_store


@pytest.fixture(params=STORE_KINDS)
def client(request: pytest.FixtureRequest, tmp_path: Path, open_loaded_store: OpenLoadedStore
           ) -> Iterator[FlaskClient]:
    """The app on :func:`load_small_beijing`'s data in a fresh store of each kind."""
    with open_loaded_store(request.param, tmp_path, load_small_beijing) as (store, settings):
        yield create_app(settings, store=store).test_client()
