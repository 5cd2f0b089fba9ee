"""One status table for the web app and one error line for the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from geo import errors
from geo.capabilities.area_risk import MissingReferenceError
from geo.credentials import AccountLocked, AuthenticationFailed
from geo.entities import UnknownColumnError, UnknownEntityError
from geo.stores.protocol import StoreError
from geo.veto import GeometryError
from webmap.errors import STATUS_CODES, status_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("exc", "status"), [
    (errors.BadInput("x"), 400), (UnknownColumnError("risk_sources", "nope"), 400),
    (errors.NotFound("x"), 404), (UnknownEntityError("nope"), 404),
    (errors.Conflict("x"), 409), (MissingReferenceError("x"), 409),
    (errors.Unprocessable("x"), 422), (GeometryError("bad"), 422),
    (errors.Unavailable("x"), 503), (StoreError("down"), 503),
    (errors.Unauthenticated("x"), 401), (AuthenticationFailed(), 401), (errors.Forbidden("x"), 403),
    (errors.TooManyRequests("x"), 429), (AccountLocked(T0 + timedelta(seconds=5), now=T0), 429),
])
def test_status_of_each_kind(exc: errors.RiskmapError, status: int) -> None:
    assert status_of(exc) == status


def test_the_table_has_exactly_the_eight_kinds() -> None:
    assert set(STATUS_CODES) == {errors.BadInput, errors.Unauthenticated, errors.Forbidden, errors.NotFound,
                                 errors.Conflict, errors.Unprocessable, errors.TooManyRequests, errors.Unavailable}


def test_no_blueprint_registers_error_handlers_of_its_own(client: FlaskClient) -> None:
    app: Flask = client.application
    assert set(app.error_handler_spec) <= {None}


def test_an_error_answers_json_with_its_details(client: FlaskClient) -> None:
    point = {"type": "Point", "coordinates": [116.4, 39.9]}
    r = client.post("/api/v1/veto", json={"land_use": "zoo", "geometry": point})
    assert r.status_code == 400
    body = r.get_json()
    assert body["status"] == 400 and body["land_use"] == "zoo" and "school" in body["known"]
    r = client.get("/api/v1/layers/nope/features")
    assert r.status_code == 404 and "unknown layer 'nope'" in r.get_json()["error"]


def test_cli_maps_an_error_to_one_line_and_status_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from webmap.cli.main import main

    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(tmp_path / "cli.gpkg"))
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["load", "nowhere", str(tmp_path / "x.csv")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("riskmap: error:") and "nowhere" in lines[-1]
    assert "Traceback" not in result.output
