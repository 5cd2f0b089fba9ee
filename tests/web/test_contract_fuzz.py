"""Contract fuzzing: schemathesis sends requests generated from the app's own OpenAPI document
(``/api/v1/openapi.json``) to the Flask app in-process (WSGI), on both stores.

Every operation gets the coverage phase (each declared bound, at the limit and one step either
side; every enum value; missing and wrong-typed parameters) and a fixed budget of fuzzed cases,
valid and invalid, from a fixed seed, so a run is deterministic and takes a couple of minutes.
Every answer must be: not a 5xx, a status the document declares, in a declared media type, with
a body matching its declared schema (the error shape for every error), within 5 s.

The store: the real reference geography (provinces, districts, townships, the border lines) and a
handful of synthetic points of every kind a route reads, so the border analysis, the heat map and
the site veto run their real code rather than stop at "nothing loaded".

The run goes through schemathesis' engine (what its CLI runs), not its pytest plugin: the plugin's
lazy schema sets ``request.node._nodeid``, which pytest 9 no longer has. Two runs send the same
requests but for the random multipart boundary of the batch veto.

Every request carries an administrator's API token (the ``api_headers`` fixture): the routes run
their own code; who may call what is the route × role matrix's job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
import schemathesis
from auth_support import token_for
from flask import Flask
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.engine.recorder import CheckFailureInfo
from shapely.geometry import Point

from geo.files.reference import read_reference
from geo.stores.geopackage import GeoPackageStore
from geo.stores.postgis import PostGISStore
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app
from webmap.settings import Settings

#: Slowest answer accepted, seconds.
MAX_RESPONSE_S = 5.0
#: Fuzzed cases per operation and generation mode, after the coverage phase's boundary cases.
FUZZ_EXAMPLES = 5
SEED = 20_260_116

CONFIG = {
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": FUZZ_EXAMPLES, "deterministic": True, "database": "none",
                   "allow-x00": True, "with-security-parameters": False},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "status_code_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "response_headers_conformance": {"enabled": True},
        "max_response_time": MAX_RESPONSE_S,
    },
}

STORE_KINDS = ("postgis", "geopackage")

#: Failures found and reported to their owner, not fixed here: (operation, check) -> why. The
#: strict xfail test below turns red once the cause is gone, so the entry is removed then.
KNOWN_FINDINGS: dict[tuple[str, str], str] = {}


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="fuzz.csv", sha256="f" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _frame(columns: dict[str, list[object]], lonlat: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(x, y) for x, y in lonlat], crs="EPSG:4326")


def _fill(store: Store, reference_dir: Path) -> None:
    """Reference areas and border lines, then a few synthetic points of each kind near the
    Beijing–Hebei border (Tongzhou / Sanhe) and in the centre."""
    for kind in ("areas", "lines"):
        store.upsert(kind, read_reference(kind, reference_dir), batch=_batch(kind))
    places = [(116.40, 39.90), (116.41, 39.91), (116.72, 39.90), (116.95, 39.95), (116.80, 40.05)]
    store.upsert("risk_sources", _frame(
        {"key": [f"C{i}|R{i}" for i in range(5)], "credit_code": [f"C{i}" for i in range(5)],
         "source_code": [f"R{i}" for i in range(5)], "name": [f"演示风险源{i}" for i in range(5)],
         "level": ["red", "orange", "yellow", "blue", "red"], "synthetic": True}, places), batch=_batch("risk_sources"))
    store.upsert("resources", _frame(
        {"key": ["F1", "F2", "T1", "E1"], "resource_code": ["F1", "F2", "T1", "E1"],
         "name": ["东单消防站", "三河消防站", "危化救援队", "应急装备库"],
         "resource_type": ["fire_station", "fire_station", "team", "equipment_depot"],
         "speciality": [None, None, "危化品", None], "synthetic": True},
        [(116.41, 39.91), (117.00, 39.98), (116.38, 39.93), (116.70, 39.88)]), batch=_batch("resources"))
    store.upsert("hazchem_sites", _frame(
        {"key": ["C9|G1"], "credit_code": ["C9"], "site_code": ["G1"], "name": ["演示加油站"],
         "site_type": ["gas_station"], "gas_station_grade": [2], "synthetic": [True]}, [(116.42, 39.92)]),
        batch=_batch("hazchem_sites"))
    store.upsert("protection_targets", _frame(
        {"key": ["S1", "H1"], "target_code": ["S1", "H1"], "name": ["演示学校", "演示医院"],
         "target_type": ["school", "hospital"], "sensitivity": ["high", "high"], "synthetic": True},
        [(116.4203, 39.9203), (116.71, 39.89)]), batch=_batch("protection_targets"))


@pytest.fixture(scope="module", params=STORE_KINDS)
def fuzz_app(request: pytest.FixtureRequest, make_pg_database: Callable[..., str],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a filled store of each kind (one per module: the fuzzing only reads)."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.gpkg"
    store: Store = PostGISStore(make_pg_database()) if request.param == "postgis" else GeoPackageStore(path)
    store.init_schema()
    settings = Settings(gpkg_path=path)
    _fill(store, settings.paths.reference_dir)
    app = create_app(settings, store=store)
    # The offline geocoder is built at the first search (1-6 s, reported): a start-up cost paid here,
    # so the 5 s limit measures each request's own work.
    assert app.test_client().get("/api/v1/search?q=东城区").status_code == 200
    yield app
    store.close()


@pytest.fixture
def api_headers(fuzz_app: Flask) -> dict[str, str]:
    """Headers every fuzzed request carries: an administrator's API token, so every route runs its
    own code rather than stop at 401 (what each role may call is tests/web/test_auth_matrix.py)."""
    return {"Authorization": f"Bearer {token_for(fuzz_app, 'admin', user='fuzz_admin')}"}


@dataclass
class FuzzRun:
    """What one run found: each failure once (operation, check, message, the request as curl),
    the operations called, the requests sent."""

    failures: list[str] = field(default_factory=list)
    operations: set[str] = field(default_factory=set)
    requests: int = 0

    def read(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event)
        elif isinstance(event, events.NonFatalError):
            self.failures.append(f"{event.label}: error {event.value!r}")
        elif isinstance(event, events.FatalError):
            self.failures.append(f"fatal: {event.exception!r}")

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.requests += len(recorder.interactions)
        if recorder.interactions:
            self.operations.add(recorder.label)
        for checks in recorder.checks.values():
            for check in checks:
                if check.status == Status.FAILURE and check.failure_info is not None:
                    self._failure(recorder.label, check.name, check.failure_info)

    def _failure(self, label: str, check: str, info: CheckFailureInfo) -> None:
        if (label, check) in KNOWN_FINDINGS:
            return
        text = f"{label} {check}: {info.failure.title} {info.failure.message}\n    {info.code_sample}"
        if text not in self.failures:
            self.failures.append(text)


def fuzz(app: Flask, headers: dict[str, str]) -> FuzzRun:
    """Every phase of schemathesis' engine (examples, coverage, fuzzing) over ``app``'s document."""
    config = SchemathesisConfig.from_dict({**CONFIG, "headers": headers})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    run = FuzzRun()
    for event in schemathesis.engine.from_schema(schema).execute():
        run.read(event)
    return run


def test_every_operation_keeps_its_contract_under_fuzzing(fuzz_app: Flask, api_headers: dict[str, str]) -> None:
    run = fuzz(fuzz_app, api_headers)
    documented = {f"{method.upper()} {path}" for path, ops in fuzz_app.test_client().get(
        "/api/v1/openapi.json").get_json()["paths"].items() for method in ops}
    assert run.operations == documented - {"GET /api/v1/openapi.json"}  # all but the document itself were called
    assert run.requests > 20 * len(documented)
    assert not run.failures, f"{len(run.failures)} contract failures:\n" + "\n".join(run.failures)


@pytest.mark.parametrize("fuzz_app", ["geopackage"], indirect=True)
def test_the_heatmap_at_its_declared_limits_answers_within_the_limit(fuzz_app: Flask) -> None:
    """The finest cell with the widest kernel once took 8-15 s: now refused by its cost, at once."""
    store = fuzz_app.extensions["riskmap.context"].store
    client = create_app(fuzz_app.extensions["riskmap.settings"], store=store).test_client()  # a cold cache
    start = time.perf_counter()
    r = client.get("/api/v1/heatmap?cell=50&bandwidth=50000")
    assert r.status_code in (200, 422) and time.perf_counter() - start <= MAX_RESPONSE_S
    if r.status_code == 422:
        assert "larger cell or a narrower bandwidth" in r.get_json()["error"]
