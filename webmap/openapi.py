"""The API described as OpenAPI 3.0.3, generated from the app's URL map and the route declarations.

Every operation comes from a Flask rule and the :class:`webmap.routes.Route` its view declares, so
the document says exactly what :func:`webmap.routes.args` enforces: each parameter's type, bounds,
choices, longest value and default; request bodies (JSON, or the multipart form of the batch veto);
the media types a route answers in (``produces``, and a file format for each ``format`` choice); the
error answer ``{"error": message, "status": code, ...}`` for 400/404/409/422/503, and 401/403 for
every route that needs a permission (a cookie session or a Bearer token).

OpenAPI 3.0.3 rather than 3.1: schemathesis, Swagger UI and openapi-spec-validator handle it fully,
and the declarations need nothing 3.1 adds.

Lists are written as comma-separated values: an array schema with ``style: form, explode: false``
(``types=fire_station,team``). The server counts a repeated value once, so ``maxItems`` bounds the
*different* values; the parameter's description says so. A blank optional query value counts as
absent (``allowEmptyValue``); a free-text value is at most :data:`webmap.routes.MAX_RAW_LENGTH`
characters (or its own bound) without a NUL byte (``pattern``), and a required one is not blank.
What the schemas cannot say is left to the 400 naming it: a bbox's west below its east, a land use
of the rule set, a valid geometry.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

from geo.files.exports import MEDIA_TYPES
from webmap.routes import BUILT_IN_ENDPOINTS, MAX_RAW_LENGTH, PERMISSIONS, PUBLIC, Param, Route, route_of

OPENAPI_VERSION = "3.0.3"

#: Every error answer: the status table of webmap/errors.py, with what each means here.
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadInput", "Bad input: the message names the parameter and the value"),
    404: ("NotFound", "Not found: the message names what was looked for"),
    409: ("Conflict", "Conflict with the stored data"),
    422: ("Unprocessable", "Understood but not processable (an invalid geometry: where it is invalid)"),
    503: ("Unavailable", "The store or a configuration file cannot answer now (the message says which)"),
}
#: The answers of a route that needs a permission.
AUTH_RESPONSES: dict[int, tuple[str, str]] = {
    401: ("Unauthenticated", "Not signed in: no valid session cookie or API token"),
    403: ("Forbidden", "Signed in, without the permission the route needs"),
}
#: What a page answers a visitor who is not signed in.
SIGN_IN_REDIRECT = (303, "Not signed in: a redirect to the login page (Location: /login?next=…)")
#: What every state-changing request may answer, a public one too.
CSRF_REFUSED = (403, "a cross-site request, or a browser session's write without its CSRF token (API scripts "
                     "use a Bearer token)")
#: What a request with a body beyond ``RISKMAP_MAX_BODY_MB`` answers.
BODY_TOO_LARGE = (413, "The request body is larger than the server's limit (RISKMAP_MAX_BODY_MB)")
#: Both ways to sign in; a route that needs a permission accepts either.
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "session": {"type": "apiKey", "in": "cookie", "name": "session",
                "description": "the session cookie set by signing in on the login page"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "an API token: `Authorization: Bearer <token>`"},
}

_METHODS_LEFT_OUT = {"HEAD", "OPTIONS"}  # answered by Flask for every rule
_FLASK_VARIABLE = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_SCALARS = {"number": "number", "integer": "integer", "string": "string", "boolean": "boolean"}
_NO_NUL = r"^[^\x00]*$"  # a NUL byte anywhere is refused (ECMA-262 regular expressions)
_NOT_BLANK = r"^[^\x00]*\S[^\x00]*$"  # and a required value must not be blank


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``: every rule of its URL map (but static files), each method."""
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    ids: set[str] = set()
    for path, method, rule, route in _operations(app):
        op_id = _operation_id(rule.endpoint, method, ids)
        ids.add(op_id)
        paths.setdefault(path, {})[method] = operation(route, op_id, method)
        tags.update(dict.fromkeys(route.tags))
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info(),
        "servers": [{"url": "/", "description": "this server"}],
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": _components(),
    }


def _info() -> dict[str, Any]:
    return {
        "title": "北京安全风险一张图 API · Beijing work-safety risk map API",
        "version": version("riskmap"),
        "description": ("Risk sources, hazardous-chemical sites, emergency resources, area risk, site veto "
                        "(一票否决) and cross-border analysis for Beijing and Jing-Jin-Ji. Coordinates are "
                        "WGS-84 (EPSG:4326) lon/lat degrees; distances are metres unless a parameter says "
                        "otherwise. Demo risk data is synthetic and labelled so."),
        "license": {"name": "MIT"},
    }


def _operations(app: Flask) -> Iterator[tuple[str, str, Rule, Route]]:
    """(OpenAPI path, method, rule, declaration) of every declared rule, in path order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in BUILT_IN_ENDPOINTS:
            continue
        route = route_of(app.view_functions[rule.endpoint])
        if route is None:  # check_declarations refuses such an app; a hand-made one is told here
            raise ValueError(f"{rule.rule} ({rule.endpoint}) has no declaration (webmap.routes.declare)")
        for method in sorted((rule.methods or set()) - _METHODS_LEFT_OUT):
            yield openapi_path(rule.rule), method.lower(), rule, route


def _operation_id(endpoint: str, method: str, taken: set[str]) -> str:
    """The Flask endpoint with ``_`` for ``.`` (``api_incident_nearest``: a plain HTML id in Swagger UI's
    deep links); the method and a number added for a second rule or method of the same endpoint."""
    name = endpoint.replace(".", "_")
    return name if name not in taken else f"{name}_{method}_{len(taken)}"


def openapi_path(flask_rule: str) -> str:
    """``/tiles/<layer_id>/<int(signed=True):z>`` -> ``/tiles/{layer_id}/{z}``."""
    return _FLASK_VARIABLE.sub(r"{\1}", flask_rule)


def operation(route: Route, operation_id: str, method: str = "get") -> dict[str, Any]:
    """The OpenAPI operation declared by ``route`` for ``method``, named ``operation_id``."""
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": route.summary,
        "description": _permission_text(route.permission),
        "tags": list(route.tags),
        "parameters": [parameter(p) for p in route.params],
        "responses": responses(route, method),
        "security": [] if route.permission == PUBLIC else [{name: []} for name in SECURITY_SCHEMES],
    }
    if route.body is not None:
        media = "application/json" if route.body_type == "json" else "multipart/form-data"
        op["requestBody"] = {"required": True, "content": {media: {"schema": copy.deepcopy(dict(route.body))}}}
    return op


def _permission_text(permission: str) -> str:
    if permission == PUBLIC:
        return "Public: no sign-in needed."
    return f"Needs the permission `{permission}` ({PERMISSIONS[permission]})."


def parameter(p: Param) -> dict[str, Any]:
    """The OpenAPI parameter object of ``p`` (a path parameter is always required)."""
    spec: dict[str, Any] = {
        "name": p.name, "in": p.location, "description": _param_text(p),
        "required": p.location == "path" or p.required, "schema": param_schema(p),
    }
    if p.type in ("list", "bbox"):  # comma-separated, as the server reads them
        spec["style"] = "form" if p.location == "query" else "simple"
        spec["explode"] = False
    if p.location == "query" and not spec["required"]:
        spec["allowEmptyValue"] = True  # a blank value counts as absent: the default
    return spec


def _param_text(p: Param) -> str:
    if p.type == "list":
        written = "" if "comma-separated" in p.description else ", comma-separated"
        return f"{p.description}{written}; a value given twice counts once"
    return p.description


def param_schema(p: Param) -> dict[str, Any]:
    """The JSON schema of ``p``'s value: type, bounds, choices, longest length, default."""
    schema: dict[str, Any]
    if p.type == "bbox":
        schema = {"type": "array", "minItems": 4, "maxItems": 4,
                  "items": {"type": "number", "minimum": -180, "maximum": 180}}
    elif p.type == "list":
        schema = {"type": "array", "items": _string_schema(p)}
        if p.max_items is not None:
            schema["maxItems"] = p.max_items
    elif p.type == "string":
        schema = _string_schema(p)
        if p.required and "pattern" in schema:  # a blank value counts as missing
            schema.update(minLength=1, pattern=_NOT_BLANK)
    else:
        schema = {"type": _SCALARS[p.type], **_bounds(p)}
    if p.default is not None:
        schema["default"] = list(p.default) if isinstance(p.default, tuple) else p.default
    return schema


def _string_schema(p: Param) -> dict[str, Any]:
    if p.choices is not None:
        return {"type": "string", "enum": list(p.choices)}
    longest = MAX_RAW_LENGTH if p.max_length is None else min(p.max_length, MAX_RAW_LENGTH)
    return {"type": "string", "maxLength": longest, "pattern": _NO_NUL}


def _bounds(p: Param) -> dict[str, float]:
    bounds = {"minimum": p.minimum, "maximum": p.maximum}
    return {key: _number(value) for key, value in bounds.items() if value is not None}


def _number(value: float) -> float:
    """``value``, an int when it is whole (``50000`` rather than ``50000.0`` in the document)."""
    return int(value) if float(value).is_integer() else value


def responses(route: Route, method: str = "get") -> dict[str, Any]:
    """The success answer in each media type the route answers in, every error answer, then what
    a page answers a visitor not signed in, a write refused for its origin or CSRF token, and what
    the route declares besides (in its own media type)."""
    answers: dict[str, Any] = {"200": {"description": "OK", "content": _success_content(route)}}
    errors = ERROR_RESPONSES | ({} if route.permission == PUBLIC else AUTH_RESPONSES)
    for status in sorted(errors):
        answers[str(status)] = {"$ref": f"#/components/responses/{errors[status][0]}"}
    own = dict(route.answers)
    if route.produces == "text/html" and route.permission != PUBLIC:
        own.setdefault(*SIGN_IN_REDIRECT)
    if method.upper() not in ("GET", "HEAD", "OPTIONS"):
        answers[str(CSRF_REFUSED[0])] = _error_answer(f"Refused: {CSRF_REFUSED[1]}" if route.permission == PUBLIC else
                                                      f"{AUTH_RESPONSES[403][1]}; or {CSRF_REFUSED[1]}")
    if route.body is not None:
        answers[str(BODY_TOO_LARGE[0])] = _error_answer(BODY_TOO_LARGE[1])
    for status, text in sorted(own.items()):
        answers[str(status)] = _own_answer(route, status, text)
    return dict(sorted(answers.items()))


def _error_answer(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _own_answer(route: Route, status: int, text: str) -> dict[str, Any]:
    """A declared answer: a redirect (its ``Location``) or a body in the route's media type."""
    if 300 <= status < 400:
        return {"description": text, "headers": {"Location": {"description": "where to go",
                                                              "schema": {"type": "string"}}}}
    return {"description": text, "content": {route.produces: {"schema": _body_schema(route.produces)}}}


def _success_content(route: Route) -> dict[str, Any]:
    """``produces`` (unless the route's ``format`` offers only files), then each file format's type."""
    fmt = route.param("format")
    types = [route.produces] if fmt is None or "json" in (fmt.choices or ()) else []
    types += [MEDIA_TYPES[name].split(";")[0] for name in route.file_formats]
    return {media: {"schema": _body_schema(media)} for media in types}


def _body_schema(media: str) -> dict[str, Any]:
    if media.endswith("json"):
        return {"type": "object"}
    if media.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def _components() -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    every = ERROR_RESPONSES | AUTH_RESPONSES
    return {
        "schemas": {"Error": {
            "type": "object", "required": ["error", "status"], "additionalProperties": True,
            "description": "every error: the message and the status, and what the error adds (details)",
            "properties": {"error": {"type": "string", "description": "what was wrong, naming the value"},
                           "status": {"type": "integer", "description": "the HTTP status again"}},
        }},
        "responses": {name: {"description": text, "content": {"application/json": {"schema": error}}}
                      for name, text in every.values()},
        "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
    }
