"""The stores' own bounds (geo.stores.bounds): every limit at the limit and one step either
side, on both stores alike — a BadInput naming the value, never a database error (an
offset beyond 2⁶³−1, a NUL character in text) and never two different answers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo.errors import BadInput
from geo.stores.bounds import MAX_DISTANCE_M, MAX_ROWS
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app
from webmap.settings import Settings

BATCH = LoadBatch(kind="units", file_name="bounds.csv", sha256="3" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _units(store: Store, names: list[str]) -> Any:
    frame = gpd.GeoDataFrame({"key": [f"U{i}" for i in range(len(names))], "name": names},
                             geometry=[Point(116.4 + i * 0.001, 39.9) for i in range(len(names))], crs="EPSG:4326")
    return store.upsert("units", frame, batch=BATCH)


@pytest.fixture(scope="module")
def stores(make_pg_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[dict[str, Store]]:
    """Both stores holding the same two units (the tests only read them)."""
    from geo.stores.geopackage import GeoPackageStore
    from geo.stores.postgis import PostGISStore

    made: dict[str, Store] = {"postgis": PostGISStore(make_pg_database()),
                              "geopackage": GeoPackageStore(tmp_path_factory.mktemp("bounds") / "bounds.gpkg")}
    for store in made.values():
        store.init_schema()
        _units(store, ["北京化工厂", "燕山石化"])
    yield made
    for store in made.values():
        store.close()


@pytest.fixture(params=["postgis", "geopackage"])
def filled(request: pytest.FixtureRequest, stores: dict[str, Store]) -> Store:
    return stores[request.param]


@pytest.mark.parametrize(("offset", "ok"), [(-1, False), (0, True), (MAX_ROWS, True), (MAX_ROWS + 1, False),
                                            (2**63, False), (True, False), (1.0, False)])
def test_offset_bounds(filled: Store, offset: Any, ok: bool) -> None:
    if ok:
        assert len(filled.read("units", offset=offset)) == (2 if offset == 0 else 0)
    else:
        with pytest.raises(BadInput, match="offset must be a whole number from 0 to 2,147,483,647"):
            filled.read("units", offset=offset)


@pytest.mark.parametrize(("limit", "ok"), [(-1, False), (0, True), (1, True), (MAX_ROWS, True),
                                           (MAX_ROWS + 1, False), (2**63, False)])
def test_limit_bounds(filled: Store, limit: int, ok: bool) -> None:
    if ok:
        assert len(filled.read("units", limit=limit)) == min(limit, 2)
        assert len(filled.search("units", "化", columns=["name"], limit=limit)) == min(limit, 2)
    else:
        with pytest.raises(BadInput, match="limit must be"):
            filled.read("units", limit=limit)
        with pytest.raises(BadInput, match="limit must be"):
            filled.search("units", "化", columns=["name"], limit=limit)


@pytest.mark.parametrize(("k", "ok"), [(0, False), (1, True), (MAX_ROWS, True), (MAX_ROWS + 1, False)])
def test_k_bounds(filled: Store, k: int, ok: bool) -> None:
    if ok:
        assert len(filled.nearest("units", 116.4, 39.9, k=k)) == min(k, 2)
    else:
        with pytest.raises(BadInput, match="k must be"):
            filled.nearest("units", 116.4, 39.9, k=k)


@pytest.mark.parametrize(("distance", "ok"), [(-0.001, False), (0.0, True), (MAX_DISTANCE_M, True),
                                              (MAX_DISTANCE_M + 0.001, False), (math.nan, False),
                                              (math.inf, False)])
def test_distance_bounds(filled: Store, distance: float, ok: bool) -> None:
    if ok:
        assert len(filled.within_distance("units", Point(116.4, 39.9), distance)) == (1 if distance == 0 else 2)
    else:
        with pytest.raises(BadInput, match="distance must be"):
            filled.within_distance("units", Point(116.4, 39.9), distance)


@pytest.mark.parametrize(("lon", "lat", "ok"), [(180.0, 90.0, True), (-180.0, -90.0, True),
                                                (180.000001, 0.0, False), (0.0, -90.000001, False),
                                                (math.nan, 39.9, False)])
def test_point_bounds(filled: Store, lon: float, lat: float, ok: bool) -> None:
    if ok:
        assert len(filled.nearest("units", lon, lat, k=1)) == 1
    else:
        with pytest.raises(BadInput, match=r"outside lon -180\.\.180"):
            filled.nearest("units", lon, lat, k=1)


@pytest.mark.parametrize("bbox", [(116.5, 39.0, 116.4, 40.0), (116.0, 39.0, 181.0, 40.0),
                                  (math.nan, 39.0, 117.0, 40.0), (1, 2, 3)])
def test_bad_boxes_are_named(filled: Store, bbox: Any) -> None:
    with pytest.raises(BadInput, match="bbox"):
        filled.read("units", bbox=bbox)


def test_nul_characters_are_refused_alike(filled: Store) -> None:
    """PostgreSQL cannot hold or compare text with a NUL; the embedded store refuses it too."""
    for text in ("\x00", "化\x00工"):
        with pytest.raises(BadInput, match=r"search text: text contains a NUL character \(\\x00\)"):
            filled.search("units", text, columns=["name"])
    with pytest.raises(BadInput, match="where name: text contains a NUL"):
        filled.read("units", where={"name": ["燕山石化", "x\x00"]})
    with pytest.raises(BadInput, match="units 'U1' name: text contains a NUL"):
        _units(filled, ["北京化工厂", "燕山\x00石化"])
    assert filled.read("units")["name"].tolist() == ["北京化工厂", "燕山石化"]  # nothing written


@pytest.fixture(scope="module")
def clients(stores: dict[str, Store], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    unused = tmp_path_factory.mktemp("apps") / "unused.gpkg"
    return {kind: create_app(Settings(gpkg_path=unused), store=store).test_client() for kind, store in stores.items()}


@pytest.mark.parametrize(("url", "message"), [
    ("/api/v1/layers/risk_sources/features?offset=9223372036854775808", "'offset'"),
    ("/api/v1/search?q=%00", "NUL"),
    ("/api/v1/search?q=%E5%8C%96%00", "NUL"),
    ("/api/v1/audit?district=%00", "NUL"),
])
def test_hostile_parameters_are_400_on_both_stores(clients: dict[str, Any], url: str, message: str) -> None:
    for kind, client in clients.items():
        r = client.get(url)
        assert r.status_code == 400 and message in r.get_json()["error"], (kind, r.status_code, r.data[:200])
