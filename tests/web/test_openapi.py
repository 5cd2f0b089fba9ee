"""The OpenAPI document (/api/v1/openapi.json) and the docs page (/api/docs): generated from the
route declarations, valid OpenAPI 3.0.3, every route in it with the bounds the server enforces."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from geo.errors import Unavailable
from geo.response import RESOURCE_TYPES
from webmap.api.veto import BATCH_FORM, VETO_BODY
from webmap.openapi import openapi_document, openapi_path, parameter
from webmap.routes import BUILT_IN_ENDPOINTS, MAX_RAW_LENGTH, PUBLIC, Param, check_declarations, declare, route_of

ERRORS = {"400", "404", "409", "422", "503"}
STATIC = Path(__file__).resolve().parents[2] / "webmap" / "static"


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return dict(r.get_json())


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = document["paths"][path][method]
    return op


def _param(document: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    return next(p for p in _operation(document, method, path)["parameters"] if p["name"] == name)


def test_the_document_is_valid_openapi_3_0_3(document: dict[str, Any]) -> None:
    validate(document)  # raises, naming the place, if not
    assert document["openapi"] == "3.0.3"
    assert document["info"]["version"] == version("riskmap") and "一张图" in document["info"]["title"]
    assert document["servers"] == [{"url": "/", "description": "this server"}]  # relative: wherever it runs


def test_every_declared_route_and_method_is_in_it_with_its_summary_and_permission(
        client: FlaskClient, document: dict[str, Any]) -> None:
    app: Flask = client.application
    seen = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILT_IN_ENDPOINTS:
            continue
        route = route_of(app.view_functions[rule.endpoint])
        assert route is not None
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            op = _operation(document, method.lower(), openapi_path(rule.rule))
            seen += 1
            assert op["summary"] == route.summary and op["tags"] == list(route.tags)
            assert [p["name"] for p in op["parameters"]] == [p.name for p in route.params]
            if route.permission == PUBLIC:  # a write may still be refused for its origin or CSRF token
                refusals = {"401", "403"} - {str(status) for status, _ in route.answers}
                assert op["security"] == [] and refusals & set(op["responses"]) == (
                    {"403"} if method != "GET" else set())
            else:
                assert op["security"] == [{"session": []}, {"bearer": []}] and route.permission in op["description"]
                assert {"401", "403"} <= set(op["responses"])
            assert set(op["responses"]) >= ERRORS
    assert seen == sum(len(ops) for ops in document["paths"].values()) >= 28
    assert {"session", "bearer"} == set(document["components"]["securitySchemes"])


def test_pages_redirect_visitors_writes_may_be_refused_and_bodies_are_bounded(document: dict[str, Any]) -> None:
    page, api_write = _operation(document, "get", "/veto"), _operation(document, "post", "/api/v1/veto")
    assert "/login" in page["responses"]["303"]["description"] and "Location" in page["responses"]["303"]["headers"]
    assert "303" not in _operation(document, "get", "/api/v1/layers")["responses"]
    assert "CSRF" in api_write["responses"]["403"]["description"] and "413" in api_write["responses"]
    login = _operation(document, "post", "/login")["responses"]
    assert {"303", "401", "403", "413", "429"} <= set(login) and "text/html" in login["401"]["content"]


def test_the_api_description_routes_are_public(document: dict[str, Any]) -> None:
    for path in ("/api/v1/openapi.json", "/api/docs", "/api/v1/health"):
        assert _operation(document, "get", path)["security"] == []
    assert _operation(document, "get", "/api/docs")["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}}


@pytest.mark.parametrize(("rule", "path"), [
    ("/tiles/<layer_id>/<int(signed=True):z>/<int(signed=True):x>/<int(signed=True):y>.pbf",
     "/tiles/{layer_id}/{z}/{x}/{y}.pbf"),
    ("/areas/<unit>/<area_code>", "/areas/{unit}/{area_code}"),
    ("/files/<path:name>", "/files/{name}"),
    ("/heatmap.png", "/heatmap.png"),
])
def test_flask_rules_become_openapi_paths(rule: str, path: str) -> None:
    assert openapi_path(rule) == path


def test_declared_bounds_types_and_defaults_appear(document: dict[str, Any]) -> None:
    k = _param(document, "get", "/api/v1/nearest", "k")
    assert k == {"name": "k", "in": "query", "description": "resources per type", "required": False,
                 "allowEmptyValue": True,  # blank: the default
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5}}
    assert _param(document, "get", "/api/v1/nearest", "lon")["schema"] == {"type": "number", "minimum": -180,
                                                                          "maximum": 180}
    assert _param(document, "get", "/api/v1/nearest", "lon")["required"] is True
    radius = _param(document, "get", "/api/v1/incident", "radius")["schema"]
    assert radius == {"type": "number", "minimum": 1, "maximum": 50_000, "default": 1000}
    assert _param(document, "get", "/api/v1/heatmap", "cell")["schema"] == {"type": "number", "minimum": 50,
                                                                           "maximum": 5000}
    offset = _param(document, "get", "/api/v1/layers/{layer_id}/features", "offset")["schema"]
    assert offset["maximum"] == 10_000_000


def test_strings_carry_their_choices_and_longest_length(document: dict[str, Any]) -> None:
    q = _param(document, "get", "/api/v1/search", "q")
    assert q["required"] is True and "allowEmptyValue" not in q  # blank = missing: a 400
    assert q["schema"] == {"type": "string", "maxLength": 200, "minLength": 1, "pattern": r"^[^\x00]*\S[^\x00]*$"}
    unit = _param(document, "get", "/api/v1/areas/{unit}", "unit")
    assert unit["in"] == "path" and unit["required"] is True and "district" in unit["schema"]["enum"]
    fmt = _param(document, "get", "/api/v1/border", "format")["schema"]
    assert fmt == {"type": "string", "enum": ["json", "geojson", "csv", "xlsx", "gpkg"], "default": "json"}
    lang = _param(document, "get", "/", "lang")["schema"]  # a page's lang: anything else means the default
    assert lang == {"type": "string", "maxLength": 16, "pattern": r"^[^\x00]*$"}  # a NUL byte is refused


def test_a_string_without_its_own_bound_is_bounded_by_the_longest_raw_value() -> None:
    assert parameter(Param("name", "string", "a name"))["schema"]["maxLength"] == MAX_RAW_LENGTH
    assert parameter(Param("name", "string", "a name", max_length=5000))["schema"]["maxLength"] == MAX_RAW_LENGTH


def test_lists_are_comma_separated_arrays_bounded_by_distinct_values(document: dict[str, Any]) -> None:
    types = _param(document, "get", "/api/v1/nearest", "types")
    assert types["style"] == "form" and types["explode"] is False
    assert types["schema"] == {"type": "array", "items": {"type": "string", "enum": list(RESOURCE_TYPES)},
                               "maxItems": len(RESOURCE_TYPES)}
    assert "counts once" in types["description"]
    bbox = _param(document, "get", "/api/v1/layers/{layer_id}/features", "bbox")
    assert bbox["style"] == "form" and bbox["explode"] is False
    assert bbox["schema"] == {"type": "array", "minItems": 4, "maxItems": 4,
                              "items": {"type": "number", "minimum": -180, "maximum": 180}}


def test_path_parameters_of_tiles_are_required_with_the_zoom_bound(document: dict[str, Any]) -> None:
    op = _operation(document, "get", "/tiles/{layer_id}/{z}/{x}/{y}.pbf")
    path_params = {p["name"]: p for p in op["parameters"] if p["in"] == "path"}
    assert set(path_params) == {"layer_id", "z", "x", "y"} and all(p["required"] for p in path_params.values())
    assert path_params["z"]["schema"]["minimum"] == 0 and path_params["z"]["schema"]["maximum"] >= 18
    assert set(op["responses"]["200"]["content"]) == {"application/vnd.mapbox-vector-tile"}


def test_request_bodies_json_and_multipart(document: dict[str, Any]) -> None:
    veto = _operation(document, "post", "/api/v1/veto")["requestBody"]
    assert veto == {"required": True, "content": {"application/json": {"schema": VETO_BODY}}}
    batch = _operation(document, "post", "/api/v1/veto/batch")["requestBody"]
    assert batch["content"]["multipart/form-data"]["schema"] == BATCH_FORM
    assert batch["content"]["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"


def test_success_media_types_follow_produces_and_the_format_choices(document: dict[str, Any]) -> None:
    def media(method: str, path: str) -> set[str]:
        return set(_operation(document, method, path)["responses"]["200"]["content"])

    files = {"application/geo+json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "application/geopackage+sqlite3"}
    assert media("get", "/api/v1/border") == {"application/json", *files}
    assert media("get", "/api/v1/audit") == files  # a file only: no JSON answer
    assert media("post", "/api/v1/veto/batch") == files
    assert media("get", "/api/v1/heatmap.png") == {"image/png"}
    assert media("get", "/") == {"text/html"}
    assert media("get", "/api/v1/nearest") == {"application/json"}


def test_every_error_has_the_error_shape(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "status"]
    assert error["properties"] == {"error": {"type": "string", "description": "what was wrong, naming the value"},
                                   "status": {"type": "integer", "description": "the HTTP status again"}}
    assert error["additionalProperties"] is True  # details: the known land uses, where a geometry is invalid
    for name, response in document["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name
    assert _operation(document, "get", "/api/v1/search")["responses"]["400"] == {
        "$ref": "#/components/responses/BadInput"}


def test_an_error_answer_matches_the_documented_shape(client: FlaskClient) -> None:
    body = client.get("/api/v1/nearest?lon=200&lat=39.9").get_json()
    assert set(body) >= {"error", "status"} and isinstance(body["error"], str) and body["status"] == 400


def test_the_document_is_generated_once_per_app(client: FlaskClient) -> None:
    first = client.application.extensions.get("riskmap.openapi")
    client.get("/api/v1/openapi.json")
    made = client.application.extensions["riskmap.openapi"]
    client.get("/api/v1/openapi.json")
    assert first is None and client.application.extensions["riskmap.openapi"] is made


def test_a_hand_made_app_with_an_undeclared_route_is_refused_by_the_generator() -> None:
    app = Flask(__name__)
    app.add_url_rule("/stray", "stray", lambda: "x")
    with pytest.raises(ValueError, match=r"/stray .*no declaration"):
        openapi_document(app)


@pytest.mark.parametrize(("rule", "params"), [
    ("/things/<thing_id>", ()),  # the URL's variable undeclared: it would be read unchecked
    ("/things", (Param("thing_id", "string", "x", location="path"),)),  # declared, never in the URL
    ("/things/<thing_id>", (Param("other", "string", "x", location="path"),)),
])
def test_path_parameters_must_be_the_urls_variables_or_the_start_stops(rule: str, params: tuple[Param, ...]) -> None:
    bp = Blueprint("things", __name__)
    bp.add_url_rule(rule, "things", declare("map.view", "things", *params)(lambda **_: "x"))
    app = Flask(__name__)
    app.register_blueprint(bp)
    with pytest.raises(Unavailable, match=r"declares path parameters"):
        check_declarations(app)


# --------------------------------------------------------------------------------------
# The docs page
# --------------------------------------------------------------------------------------


def test_the_docs_page_is_chinese_first_english_on_request(client: FlaskClient) -> None:
    zh = client.get("/api/docs")
    assert zh.status_code == 200 and zh.mimetype == "text/html"
    html = zh.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "<title>接口文档" in html
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    en = client.get("/api/docs?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and "<title>API documentation" in en


def test_the_docs_page_has_no_inline_script_and_no_outside_address(client: FlaskClient) -> None:
    html = client.get("/api/docs").get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts] == [  # type: ignore[union-attr]
        "/static/vendor/swagger-ui-dist/swagger-ui-bundle.js", "/static/js/api_docs.js"]
    assert all(not body.strip() for _, body in scripts)  # a CSP without 'unsafe-inline' holds
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)  # nor an inline event handler
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN: everything from this server


def test_the_docs_pages_assets_are_served_with_their_licence(client: FlaskClient) -> None:
    for path in ("vendor/swagger-ui-dist/swagger-ui-bundle.js", "vendor/swagger-ui-dist/swagger-ui.css",
                 "js/api_docs.js", "css/api_docs.css"):
        r = client.get(f"/static/{path}")
        assert r.status_code == 200 and r.content_length, path
        r.close()
    vendored = STATIC / "vendor" / "swagger-ui-dist"
    assert "Apache License" in (vendored / "LICENSE").read_text()
    assert "SmartBear" in (vendored / "NOTICE").read_text()
    assert "validatorUrl: null" in (STATIC / "js" / "api_docs.js").read_text()  # no outside validator badge
