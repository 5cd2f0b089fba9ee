"""Secure defaults: security headers on every answer, what may be cached, the body limit at the limit,
health without locations for non-admins, the session key (shared by every process, kept 0600, never
weak), and a role file that does not validate stopping the start."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from auth_support import anonymous, client_as, session_client
from flask import Flask
from flask.testing import FlaskClient

from geo.accounts import RoleFileError
from webmap.app import create_app
from webmap.security import basemap_source, make_private
from webmap.settings import SettingsError, load_settings, session_secret

CSP = ("default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
       "form-action 'self'; img-src 'self' data: blob:; connect-src 'self'; style-src 'self'; font-src 'self'")


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app(load_settings(gpkg_path=tmp_path / "headers.gpkg"))


@pytest.mark.parametrize("url", ["/", "/login", "/api/v1/health", "/api/v1/layers", "/tiles/districts/10/843/388.pbf",
                                 "/static/js/base.js", "/api/v1/nowhere", "/api/v1/nearest?lon=x"])
@pytest.mark.parametrize("who", ["admin", None])
def test_every_answer_carries_the_security_headers(app: Flask, url: str, who: str | None) -> None:
    client = client_as(app, who) if who else anonymous(app)
    r = client.get(url)
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in r.headers  # plain HTTP


def test_https_answers_ask_for_https_from_now_on(app: Flask) -> None:
    r = anonymous(app).get("/api/v1/health", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_basemap_server_may_serve_images(tmp_path: Path) -> None:
    app = create_app(load_settings(gpkg_path=tmp_path / "b.gpkg",
                                   basemap_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png"))
    csp = anonymous(app).get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://*.tiles.example.org;" in csp


@pytest.mark.parametrize(("url", "source"), [
    ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
    ("http://{s}.tile.example.org:8080/{z}/{x}/{y}.png", "http://*.tile.example.org:8080"),
    ("https://wprd0{s}.example.com/x?x={x}", "https:"), ("ftp://x.example/{z}", None), (None, None),
    ("/local/{z}/{x}/{y}.png", None),
])
def test_basemap_sources(url: str | None, source: str | None) -> None:
    assert basemap_source(url) == source


def test_pages_and_private_answers_are_not_stored_and_tiles_only_privately(app: Flask) -> None:
    client = session_client(app, "admin")
    assert client.get("/").headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/layers")
    assert api.headers["Cache-Control"] == "no-store" and {"Cookie", "Authorization"} <= set(api.vary)
    tile = client.get("/tiles/districts/10/843/388.pbf")
    assert tile.headers["Cache-Control"] == "private, max-age=60, must-revalidate"
    assert client.get("/tiles/districts/10/843/388.pbf", headers={"If-None-Match": tile.headers["ETag"]}
                      ).status_code == 304
    assert "no-store" not in anonymous(app).get("/static/js/base.js").headers.get("Cache-Control", "")


@pytest.mark.parametrize(("headers", "page", "cache", "vary"), [
    ([("Cache-Control", "public, max-age=60")], False, "private, max-age=60", "Cookie, Authorization"),
    ([], False, "no-store", "Cookie, Authorization"),
    ([("Cache-Control", "max-age=5"), ("Vary", "Accept, cookie")], False, "max-age=5", "Accept, cookie, Authorization"),
    ([("Cache-Control", "public"), ("Vary", "Cookie, Authorization")], True, "no-store", "Cookie, Authorization"),
])
def test_private_answers_headers(headers: list[tuple[str, str]], page: bool, cache: str, vary: str) -> None:
    make_private(headers, page=page)
    assert dict(headers) == {"Cache-Control": cache, "Vary": vary}


@pytest.mark.parametrize(("extra", "too_large"), [(-1, False), (0, False), (1, True)])
def test_a_body_over_the_limit_is_a_413_naming_it(tmp_path: Path, extra: int, too_large: bool) -> None:
    app = create_app(load_settings(gpkg_path=tmp_path / "l.gpkg", max_body_mb=1))
    client = client_as(app, "planner")
    r = client.post("/api/v1/veto", data=b" " * (1024 * 1024 + extra), content_type="application/json")
    if too_large:
        assert r.status_code == 413
        assert r.get_json()["error"] == "request body larger than 1 MB (RISKMAP_MAX_BODY_MB)"
    else:
        assert r.status_code == 400  # read, and refused for what it is


def test_health_tells_only_an_administrator_where_the_store_is(app: Flask, tmp_path: Path) -> None:
    for client in (anonymous(app), client_as(app, "viewer"), client_as(app, "district_officer", ("110105",))):
        r = client.get("/api/v1/health")
        assert r.status_code == 200
        assert r.get_json() == {"status": "ok", "store": {"kind": "geopackage", "schema_version": r.get_json()[
            "store"]["schema_version"]}}
        assert str(tmp_path) not in r.get_data(as_text=True)
    admin = client_as(app, "admin").get("/api/v1/health").get_json()
    assert admin["store"]["location"].startswith(str(tmp_path)) and "python" in admin["versions"]


def test_the_layer_catalog_and_the_map_list_only_the_roles_layers(app: Flask) -> None:
    viewer = client_as(app, "viewer")
    ids = {layer["id"] for layer in viewer.get("/api/v1/layers").get_json()["layers"]}
    assert "districts" in ids and "risk_sources" not in ids and "hidden_hazards" not in ids
    html = viewer.get("/").get_data(as_text=True)
    config = json.loads(html.split('<script id="map-config" type="application/json">')[1].split("</script>")[0])
    assert {layer["id"] for layer in config["layers"]} == ids
    for url in ("/api/v1/layers/risk_sources/features", "/tiles/risk_sources/10/843/388.pbf"):
        r = viewer.get(url)
        assert r.status_code == 403 and "'risk_sources' is not among the layers" in r.get_json()["error"]
    assert viewer.get("/api/v1/layers/nowhere/features").status_code == 404
    assert client_as(app, "admin").get("/tiles/risk_sources/10/843/388.pbf").status_code == 200


def _client_of(app: Flask, cookie: str) -> FlaskClient:
    other = anonymous(app)
    other.set_cookie("riskmap_session", cookie)
    return other


def test_the_generated_key_is_kept_0600_and_shared_by_every_process(tmp_path: Path) -> None:
    first = create_app(load_settings(gpkg_path=tmp_path / "k.gpkg"))
    key_file = tmp_path / "riskmap-secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text().strip()) >= 32
    second = create_app(load_settings(gpkg_path=tmp_path / "k.gpkg"))  # another worker, same store
    client = session_client(first, "viewer")
    cookie = client.get_cookie("riskmap_session")
    assert cookie is not None
    assert _client_of(second, cookie.value).get("/api/v1/layers").status_code == 200
    elsewhere = create_app(load_settings(gpkg_path=tmp_path / "other" / "k.gpkg"))
    assert _client_of(elsewhere, cookie.value).get("/api/v1/layers").status_code == 401  # another key


def test_the_key_from_the_environment_wins_and_must_be_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMAP_SECRET_KEY", "k" * 32)
    assert session_secret(load_settings(gpkg_path=tmp_path / "e.gpkg")) == "k" * 32
    assert not (tmp_path / "riskmap-secret.key").exists()
    monkeypatch.setenv("RISKMAP_SECRET_KEY", "k" * 31)
    with pytest.raises(SettingsError, match=r"RISKMAP_SECRET_KEY: .*at least 32 characters"):
        load_settings(gpkg_path=tmp_path / "e.gpkg")


def test_a_key_file_others_can_read_stops_the_start(tmp_path: Path) -> None:
    key_file = tmp_path / "riskmap-secret.key"
    key_file.write_text("s" * 48)
    key_file.chmod(0o644)
    with pytest.raises(SettingsError, match=r"readable by others .*chmod 600"):
        create_app(load_settings(gpkg_path=tmp_path / "r.gpkg"))


def test_a_key_that_cannot_be_written_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")  # no folder can be made here, not even by root
    with pytest.raises(SettingsError, match=r"cannot be written .*set RISKMAP_SECRET_KEY"):
        session_secret(load_settings(gpkg_path=tmp_path / "a-file" / "x.gpkg"))


def test_a_role_file_that_does_not_validate_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "roles.yaml"
    bad.write_text("version: x\npermissions: {}\nroles: {}\n", encoding="utf-8")
    with pytest.raises(RoleFileError):
        create_app(load_settings(gpkg_path=tmp_path / "r.gpkg", roles_path=bad))
