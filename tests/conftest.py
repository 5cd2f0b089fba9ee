"""Shared fixtures: a real PostGIS (from scripts/test.sh) and the embedded store.

Database tests never skip: without RISKMAP_TEST_DATABASE_URL they fail, saying how
to get one (``bash scripts/test.sh`` starts a throwaway cluster).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from auth_support import AdminClient
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import Store

STORE_KINDS = ("postgis", "geopackage")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier from its folder (unit / db / web / browser)."""
    for item in items:
        tier = Path(str(item.fspath)).parent.name
        if tier in ("unit", "db", "web", "browser"):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    import os

    url = os.environ.get("RISKMAP_TEST_DATABASE_URL")
    if not url:
        pytest.fail("RISKMAP_TEST_DATABASE_URL is not set: run the suite with `bash scripts/test.sh`, "
                    "which starts a throwaway PostGIS cluster")
    return url


@pytest.fixture(scope="session")
def make_pg_database(pg_admin_url: str) -> Iterator[Callable[..., str]]:
    """Factory of fresh, empty PostGIS databases (dropped at the end of the session);
    ``make(icu_locale="en-US")`` gives one whose default collation is that ICU locale,
    ``make(template=name)`` a copy of database ``name`` (which must have no open connection)."""
    admin = create_engine(make_url(pg_admin_url).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make(icu_locale: str | None = None, template: str | None = None) -> str:
        name = f"rm_{uuid.uuid4().hex[:12]}"
        locale = f" LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}' TEMPLATE template0" if icu_locale else ""
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else locale)))
        created.append(name)
        url = make_url(pg_admin_url).set(database=name)
        if template:
            return url.render_as_string(hide_password=False)
        engine = create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE EXTENSION postgis"))
        engine.dispose()
        return url.render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def make_store(make_pg_database: Callable[..., str], tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Factory: ``make_store("postgis" | "geopackage")`` -> a fresh, initialised store."""
    stores: list[Store] = []

    def make(kind: str) -> Store:
        store: Store
        if kind == "postgis":
            store = PostGISStore(make_pg_database())
        else:
            store = GeoPackageStore(tmp_path / f"{uuid.uuid4().hex[:8]}.gpkg")
        store.init_schema()
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    """A fresh store of each kind in turn."""
    return make_store(request.param)


@pytest.fixture(scope="session", autouse=True)
def signed_in_test_clients() -> Iterator[None]:
    """Every ``app.test_client()`` of the tests (web, db, browser) signs in as an administrator with an API token
    (``auth_support.AdminClient``); ``auth_support`` makes clients of other roles, sessions and
    anonymous ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "test_client_class", AdminClient)
        yield
