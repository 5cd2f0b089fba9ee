"""CSRF: a request that changes something on the strength of the session cookie needs the page's token
and no other site's Origin; a script with an API token carries no ambient credential and needs none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from auth_support import anonymous, bearer, csrf_of, session_client, token_for
from flask import Flask
from flask.testing import FlaskClient

from webmap.app import create_app
from webmap.settings import Settings

POINT = {"land_use": "school", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(Settings(gpkg_path=tmp_path / "csrf.gpkg"))


@pytest.fixture
def planner(app: Flask) -> tuple[FlaskClient, str]:
    """A planner signed in with a session, and the CSRF token of its pages."""
    client = session_client(app, "planner")
    html = client.get("/veto").get_data(as_text=True)
    config = json.loads(html.split('<script id="veto-config" type="application/json">')[1].split("</script>")[0])
    assert config["csrf"] == csrf_of(html)
    return client, config["csrf"]


def test_a_fetch_with_the_pages_token_is_served(planner: tuple[FlaskClient, str]) -> None:
    client, token = planner
    r = client.post("/api/v1/veto", json=POINT, headers={"X-CSRF-Token": token})
    assert r.status_code == 200, r.get_json()


@pytest.mark.parametrize("headers", [{}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}])
def test_without_the_token_or_with_another_it_is_a_403(planner: tuple[FlaskClient, str],
                                                       headers: dict[str, str]) -> None:
    client, _ = planner
    r = client.post("/api/v1/veto", json=POINT, headers=headers)
    assert r.status_code == 403 and "CSRF" in r.get_json()["error"]


def test_a_cross_site_form_post_is_refused_even_with_a_token(planner: tuple[FlaskClient, str]) -> None:
    client, token = planner
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
        r = client.post("/api/v1/veto/batch", data={"csrf_token": token, "land_use": "school"},
                        headers=headers, content_type="multipart/form-data")
        assert r.status_code == 403 and "cross-" in r.get_json()["error"], headers
    r = client.post("/logout", data={}, headers={"Origin": "https://evil.example"})  # a forged sign-out
    assert r.status_code == 403
    assert client.get("/veto").status_code == 200  # still signed in


def test_a_same_origin_request_with_the_token_is_served(planner: tuple[FlaskClient, str]) -> None:
    client, token = planner
    r = client.post("/api/v1/veto", json=POINT, headers={"X-CSRF-Token": token, "Origin": "http://localhost",
                                                         "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 200


def test_the_form_field_counts_like_the_header(planner: tuple[FlaskClient, str]) -> None:
    client, token = planner
    r = client.post("/api/v1/veto/batch", data={"csrf_token": token}, content_type="multipart/form-data")
    assert r.status_code == 400 and "missing multipart file" in r.get_json()["error"]  # past the check


def test_the_login_form_needs_its_token_too(app: Flask) -> None:
    client = anonymous(app)
    r = client.post("/login", data={"username": "x1", "password": "whatever-123"})
    assert r.status_code == 403
    token = csrf_of(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "x1", "password": "whatever-123", "csrf_token": token}
                       ).status_code == 401


def test_signing_in_gives_a_new_token(app: Flask) -> None:
    from auth_support import add_user, sign_in

    add_user(app, "u1", "viewer")
    client = anonymous(app)
    before = csrf_of(client.get("/login").get_data(as_text=True))
    sign_in(client, "u1")
    assert csrf_of(client.get("/").get_data(as_text=True)) != before


def test_an_api_token_needs_no_csrf_token(app: Flask) -> None:
    client = bearer(anonymous(app), token_for(app, "planner"))
    assert client.post("/api/v1/veto", json=POINT, headers={"Origin": "https://elsewhere.example"}
                       ).status_code == 200


def test_the_page_script_sends_the_token_on_every_request_that_changes_something() -> None:
    base = (Path(__file__).resolve().parents[2] / "webmap" / "static" / "js" / "base.js").read_text(encoding="utf-8")
    assert 'headers.set("X-CSRF-Token", config().csrf' in base and "fetch(url, withCsrf(options))" in base
    for name in ("veto.js", "border.js", "map.js", "commander.js"):
        script = (Path(__file__).resolve().parents[2] / "webmap" / "static" / "js" / name).read_text(encoding="utf-8")
        assert "fetch(" not in script.replace("fetch(req.url, base.withCsrf(", ""), name  # only through base.js
