"""Who may call what: every route of the app's URL map × every role of ``data/roles.yaml`` (with and
without a region scope) × nobody, on PostGIS and on the GeoPackage.

The routes are read from ``app.url_map`` and their declarations (``webmap.routes``), so a new route
is in the matrix the day it is added: a path variable the matrix has no sample value for fails the
test, naming it.  Expected, for each route and principal:

* nobody signed in: a page is a redirect to ``/login?next=<the page>``, an API route a JSON 401 with
  ``WWW-Authenticate: Bearer``; a public route answers;
* a role without the route's permission: 403 naming the permission;
* a role with it: neither 401 nor 403 — the check has let it through; the matrix sends a parameter
  the route refuses where it has one (:func:`bad_value`), so the request stops at that 400 before
  the view's work, and otherwise runs the view;
* a route with file downloads, asked for a file (``format=``): also needs ``export``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from auth_support import PASSWORD, add_user, anonymous, client_as, csrf_of
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from geo.stores.protocol import Store
from webmap.app import create_app
from webmap.auth import roles
from webmap.routes import BUILT_IN_ENDPOINTS, PUBLIC, Param, Route, route_of
from webmap.settings import Settings

STORE_KINDS = ("postgis", "geopackage")
#: A value for every path variable a route may have (a new variable: add it here).
SAMPLE_PATH: dict[str, Any] = {"layer_id": "districts", "z": 10, "x": 843, "y": 388, "unit": "district",
                               "area_code": "110101", "filename": "css/base.css"}
#: The scope of the scoped variant of each role.
SCOPE = ("110105",)


def _sample_body(endpoint: str) -> dict[str, Any]:
    """What a request to ``endpoint`` sends beside its URL (a body the view can read)."""
    if endpoint == "api_veto.veto":
        return {"json": {"land_use": "school", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}}
    if endpoint == "login.login":
        return {"data": {"username": "matrix_login", "password": PASSWORD}}
    return {}


def bad_value(param: Param) -> str | None:
    """A value ``param`` refuses (a 400 once the request is let through), or None when it has no bound:
    the matrix sends it so that a request the check lets through stops there, before any work (the
    views themselves are tested elsewhere; a coverage analysis per principal would cost seconds)."""
    if param.type in ("integer", "number") and param.maximum is not None:
        return f"{param.maximum * 10 + 1:g}"
    if param.choices:
        return "not-a-choice"
    if param.type == "string" and param.max_length is not None:
        return "x" * (param.max_length + 1)
    return {"bbox": "x", "boolean": "maybe"}.get(param.type)


def _stopper(route: Route | None) -> str:
    """``name=value`` of the first query parameter of ``route`` with a refusable value, or ``""``."""
    for param in route.params if route is not None else ():
        value = bad_value(param) if param.location == "query" and param.name != "format" else None
        if value is not None:
            return f"{param.name}={value}"
    return ""


def requests_of(app: Flask) -> Iterator[tuple[Rule, str, str, Route | None, str | None]]:
    """``(rule, method, url, declaration, file format asked for)`` for every route and method, and
    once more asking for a file for each route that offers downloads."""
    for rule in app.url_map.iter_rules():
        missing = [name for name in rule.arguments if name not in SAMPLE_PATH]
        assert not missing, f"{rule.rule}: give the matrix a sample value for {missing} (SAMPLE_PATH)"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{name: SAMPLE_PATH[name] for name in rule.arguments})
        route = None if rule.endpoint in BUILT_IN_ENDPOINTS else route_of(app.view_functions[rule.endpoint])
        stop = _stopper(route)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, f"{url}?{stop}" if stop else url, route, None
            if route is not None and route.file_formats:
                fmt = route.file_formats[0] if route.file_formats[0] != "geojson" else route.file_formats[1]
                yield rule, method, f"{url}?format={fmt}" + (f"&{stop}" if stop else ""), route, fmt


def expected(route: Route | None, permissions: frozenset[str] | None, fmt: str | None) -> str:
    """``open``, ``login`` (nobody signed in), ``forbidden`` for a principal with ``permissions``."""
    needed = PUBLIC if route is None else route.permission
    if needed == PUBLIC:
        return "open"
    if permissions is None:
        return "login"
    if needed not in permissions or (fmt is not None and "export" not in permissions):
        return "forbidden"
    return "open"


def outcome(response: Any, route: Route | None) -> str:
    """What an answer says about the check: ``login``, ``forbidden`` or ``open``."""
    status = response.status_code
    if route is not None and route.produces == "text/html" and status == 303:
        location = urlsplit(response.headers["Location"])
        if location.path == "/login" and "next" in parse_qs(location.query):
            return "login"
    if status == 401 and route is not None and route.produces != "text/html":
        return "login" if response.headers.get("WWW-Authenticate", "").startswith("Bearer") else "401 without challenge"
    if status == 403:
        return "forbidden"
    return "open" if status not in (401, 403) else f"status {status}"


@pytest.fixture(params=STORE_KINDS)
def app(request: pytest.FixtureRequest, make_store: Callable[[str], Store], tmp_path: Path) -> Flask:
    store = make_store(request.param)
    return create_app(Settings(gpkg_path=tmp_path / "matrix.gpkg"), store=store)


def principals(app: Flask) -> Iterator[tuple[str, FlaskClient | None, frozenset[str] | None]]:
    """``(label, client, permissions)``: nobody, then every role unscoped (where allowed) and scoped."""
    yield "anonymous", None, None
    with app.app_context():
        book = roles()
    for role in book.roles.values():
        for scope in ((), SCOPE):
            if role.requires_scope and not scope:
                continue
            yield f"{role.name}{'@' + scope[0] if scope else ''}", client_as(app, role.name, scope), role.permissions


def test_every_route_for_every_role_and_scope_and_nobody(app: Flask) -> None:
    add_user(app, "matrix_login", "viewer")
    wrong: list[str] = []
    for label, client, permissions in principals(app):
        for rule, method, url, route, fmt in requests_of(app):
            sender = client or anonymous(app)
            extra = _sample_body(rule.endpoint)
            if client is None and method != "GET":  # nobody, but with the login page's CSRF token
                extra = extra | {"headers": {"X-CSRF-Token": csrf_of(sender.get("/login").get_data(as_text=True))}}
            response = sender.open(url, method=method, **extra)
            want, got = expected(route, permissions, fmt), outcome(response, route)
            if want != got:
                wrong.append(f"{label} {method} {url}: expected {want}, got {got} ({response.status_code} "
                             f"{response.get_data(as_text=True)[:120]!r})")
    assert wrong == []


def test_the_matrix_covers_every_declared_route(app: Flask) -> None:
    endpoints = {rule.endpoint for rule, *_ in requests_of(app)}
    assert endpoints == set(app.view_functions)
    assert {"api_audit_log.audit_log", "login.login", "login.logout_view", "pages.map_page"} <= endpoints


def test_a_role_with_a_route_but_without_export_gets_the_json_but_not_the_file(tmp_path: Path,
                                                                              make_store: Callable[[str], Store]
                                                                              ) -> None:
    text = (Path(__file__).resolve().parents[2] / "data" / "roles.yaml").read_text(encoding="utf-8")
    text = text.replace("roles:\n", "roles:\n  border_reader:\n    zh: 边界只读\n    en: border reader\n"
                                    "    permissions: [map.view, border.read]\n    layers: [\"*\"]\n", 1)
    (tmp_path / "roles.yaml").write_text(text, encoding="utf-8")
    app = create_app(Settings(gpkg_path=tmp_path / "x.gpkg", roles_path=tmp_path / "roles.yaml"),
                     store=make_store("geopackage"))
    client = client_as(app, "border_reader")
    assert client.get("/api/v1/border/crossings").status_code not in (401, 403)
    for fmt in ("csv", "xlsx", "gpkg", "geojson"):
        r = client.get(f"/api/v1/border/crossings?format={fmt}")
        assert r.status_code == 403 and "'export'" in r.get_json()["error"], fmt
    assert client.get("/api/v1/border/crossings?format=json").status_code not in (401, 403)


def test_a_route_added_after_start_without_a_declaration_is_refused_never_open(tmp_path: Path,
                                                                            make_store: Callable[[str], Store]
                                                                            ) -> None:
    app = create_app(Settings(gpkg_path=tmp_path / "late.gpkg"), store=make_store("geopackage"))
    app.add_url_rule("/late", "late", lambda: "open to all")
    for client in (anonymous(app), client_as(app, "admin")):
        r = client.get("/late")
        assert r.status_code == 503 and "declares no permission" in r.get_json()["error"]
