"""What the web app writes to the audit log — a veto (single and batch) and every download exactly one
entry each, with the principal as actor and the client's address — and the audit log over HTTP."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from auth_support import anonymous, client_as, csrf_of, session_client
from flask import Flask
from flask.testing import FlaskClient

from geo.audit_log import AuditEntry, AuditQuery
from geo.capabilities.audit_log import append, verify
from webmap.app import create_app
from webmap.settings import Settings

POINT = {"land_use": "school", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}, "name": "一号地块"}


@pytest.fixture
def app(client: FlaskClient) -> Flask:
    """The ``client`` fixture's app (a small Beijing: risk sources, Dongcheng, resources)."""
    return client.application


def _log(app: Flask) -> list[AuditEntry]:
    return app.extensions["riskmap.context"].store.read_audit(AuditQuery())


def _new(app: Flask, before: int) -> list[AuditEntry]:
    return [e for e in _log(app) if e.id > before]


def _last_id(app: Flask) -> int:
    entries = _log(app)
    return entries[-1].id if entries else 0


def test_a_veto_leaves_exactly_one_entry(app: Flask) -> None:
    client = client_as(app, "planner")
    before = _last_id(app)
    r = client.post("/api/v1/veto", json=POINT)
    assert r.status_code == 200
    [entry] = _new(app, before)
    assert entry.action == "veto" and entry.actor.startswith("test_planner/token:") and entry.remote == "127.0.0.1"
    assert entry.target == "一号地块" and entry.details["verdict"] == r.get_json()["verdict"]
    assert entry.details["land_use"] == "school" and entry.details["rule_set_version"]


def test_a_batch_veto_leaves_one_entry_with_its_file_and_format(app: Flask) -> None:
    client = session_client(app, "planner")
    token = csrf_of(client.get("/veto").get_data(as_text=True))
    before = _last_id(app)
    csv = "编号,经度,纬度,用地性质\nP1,116.40,39.90,school\nP2,116.41,39.91,industrial\n".encode()
    r = client.post("/api/v1/veto/batch?format=csv", data={"file": (io.BytesIO(csv), "parcels.csv")},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.get_data(as_text=True)
    [entry] = _new(app, before)
    assert entry.action == "veto_batch" and entry.actor == "web_planner" and entry.target == "parcels.csv"
    assert entry.details["parcels"] == 2 and entry.details["rows"] == 2 and entry.details["format"] == "csv"


@pytest.mark.parametrize("url", ["/api/v1/audit?format=csv", "/api/v1/mutual-aid?lon=116.4&lat=39.9&format=xlsx",
                                 "/api/v1/audit-log?format=csv"])
def test_every_download_leaves_exactly_one_entry(app: Flask, url: str) -> None:
    client = client_as(app, "admin")
    before = _last_id(app)
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)
    [entry] = _new(app, before)
    assert entry.action in ("export", "veto_audit") and entry.actor.startswith("test_admin/token:")
    assert entry.details["format"] == url.rsplit("=", 1)[1] and entry.details["rows"] >= 0


def test_an_export_records_its_filter(app: Flask) -> None:
    admin = client_as(app, "admin")
    before = _last_id(app)
    admin.get("/api/v1/mutual-aid?lon=116.4&lat=39.9&format=csv")
    [entry] = _new(app, before)
    assert entry.action == "export" and entry.target == entry.details["layer"] == "mutual-aid"
    assert entry.details["filter"]["lon"] == 116.4 and entry.details["filter"]["lat"] == 39.9


def test_json_answers_and_refused_requests_leave_no_entry(app: Flask) -> None:
    admin = client_as(app, "admin")
    before = _last_id(app)  # the token's creation is logged: count from here
    assert admin.get("/api/v1/mutual-aid?lon=116.4&lat=39.9").status_code == 200
    assert admin.get("/api/v1/mutual-aid?lon=116.4&lat=999&format=csv").status_code == 400
    assert client_as(app, "viewer").get("/api/v1/audit?format=csv").status_code == 403
    assert [e.action for e in _new(app, before)] == ["token_create"]  # the viewer's token, nothing else


def test_the_audit_log_over_http_filters_and_pages(app: Flask) -> None:
    store = app.extensions["riskmap.context"].store
    before = _last_id(app)  # a store may carry entries of earlier tests: page from here
    for i in range(5):
        append(store, "someone", "veto", target=f"site {i}", remote="10.0.0.1")
    client = client_as(app, "admin")
    page = client.get(f"/api/v1/audit-log?action=veto&limit=2&after_id={before}").get_json()
    assert [e["target"] for e in page["entries"]] == ["site 0", "site 1"] and page["next_after_id"]
    rest = client.get(f"/api/v1/audit-log?action=veto&limit=1000&after_id={page['next_after_id']}").get_json()
    assert [e["target"] for e in rest["entries"]] == ["site 2", "site 3", "site 4"] and rest["next_after_id"] is None
    assert client.get("/api/v1/audit-log?user=someone&limit=1").get_json()["entries"][0]["actor"] == "someone"
    assert client.get("/api/v1/audit-log?since=2999-01-01").get_json()["entries"] == []
    assert client.get("/api/v1/audit-log?until=2000-01-01").get_json()["entries"] == []
    for bad, named in (("limit=1001", "limit"), ("limit=0", "limit"), ("since=yesterday", "since"),
                       ("until=x", "until"), ("action=DROP TABLE", "action"), ("after_id=-1", "after_id")):
        r = client.get(f"/api/v1/audit-log?{bad}")
        assert r.status_code == 400 and named in r.get_json()["error"], bad
    csv = client.get("/api/v1/audit-log?action=veto&format=csv")
    assert csv.mimetype == "text/csv" and "site 4" in csv.data.decode("utf-8-sig")
    assert verify(store).broken is None


def test_the_audit_log_is_for_its_readers_only(app: Flask) -> None:
    assert anonymous(app).get("/api/v1/audit-log").status_code == 401
    for role in ("commander", "planner", "analyst", "viewer"):
        assert client_as(app, role).get("/api/v1/audit-log").status_code == 403, role
    assert client_as(app, "district_officer", ("110105",)).get("/api/v1/audit-log").status_code == 403


def test_sign_ins_are_logged_with_the_address(tmp_path: Path) -> None:
    app = create_app(Settings(gpkg_path=tmp_path / "a.gpkg"))
    session_client(app, "viewer")
    [login] = [e for e in _log(app) if e.action == "login"]
    assert login.actor == "web_viewer" and login.remote == "127.0.0.1"
