"""Every route declares who may use it and what it reads, once.

A view is decorated with :func:`declare`: the permission it needs (one of
:data:`PERMISSIONS`, or :data:`PUBLIC`), a one-line summary, its parameters with their
types and bounds (:class:`Param`), its request body and the file formats it can answer
in. The same declaration

* parses the request (:func:`args`): a value outside its bounds, a list longer than
  allowed, an unknown choice, a NUL byte — each a 400 naming the parameter and the value;
  list parameters are de-duplicated before they are counted;
* is what the access check reads (who may call the route);
* is what the OpenAPI document is generated from.

:func:`check_declarations` runs at start-up: a route without a declaration, or with an
unknown permission, stops the app from starting.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Flask, current_app, g, request

from geo.errors import BadInput, Unavailable

F = TypeVar("F", bound=Callable[..., Any])

#: Anyone, signed in or not (static files, the login page, health, the API description).
PUBLIC = "public"

#: What a role may be allowed to do (``data/roles.yaml`` grants them), with what each covers.
PERMISSIONS: dict[str, str] = {
    "map.view": "the map page, the layer catalog, features, tiles, search, statistics, area risk, heat map",
    "incident.read": "nearest resources, the incident report, fire-station coverage",
    "veto.run": "the site-veto page, single and batch verdicts, the rule set",
    "veto.audit": "existing protection targets in conflict with the rules",
    "border.read": "the border page and analysis, mutual aid across borders",
    "export": "any file download (CSV, XLSX, GeoPackage, GeoJSON file)",
    "audit_log.read": "the audit trail",
    "users.manage": "accounts and API tokens",
}

#: Flask endpoints every app has that need no declaration of their own.
BUILT_IN_ENDPOINTS = {"static": PUBLIC}

ParamType = Literal["number", "integer", "string", "boolean", "list", "bbox"]

#: Longest raw value accepted for any query parameter (characters).
MAX_RAW_LENGTH = 2000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One parameter: where it is, its type, its default and its bounds.

    ``minimum``/``maximum`` bound numbers (inclusive); ``choices`` bound strings and list
    items; ``max_items`` bounds a list after de-duplication; ``max_length`` a string. A
    parameter without a default is required unless ``optional``.
    """

    name: str
    type: ParamType
    description: str
    default: Any = None
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    max_items: int | None = None
    max_length: int | None = None
    location: Literal["query", "path"] = "query"

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional and self.location == "query"

    def parse(self, raw: str | None) -> Any:
        """The value of ``raw`` (the request's text, None when absent); BadInput naming it."""
        if raw is None or not raw.strip():
            if self.required:
                raise BadInput(f"missing parameter {self.name!r}")
            return self.default
        if len(raw) > MAX_RAW_LENGTH or "\x00" in raw:
            shown = raw[:40].replace("\x00", "\\0")
            raise BadInput(f"parameter {self.name!r}: {shown!r}… is longer than {MAX_RAW_LENGTH} characters"
                           if len(raw) > MAX_RAW_LENGTH else f"parameter {self.name!r}: contains a NUL byte")
        return _PARSERS[self.type](self, raw)


def _number(p: Param, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise BadInput(f"parameter {p.name!r}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise BadInput(f"parameter {p.name!r}: {raw!r} is not a finite number")
    return _bounded(p, raw, value)


def _integer(p: Param, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"parameter {p.name!r}: {raw!r} is not an integer") from None
    return int(_bounded(p, raw, value))


def _bounded(p: Param, raw: str, value: float) -> float:
    if (p.minimum is not None and value < p.minimum) or (p.maximum is not None and value > p.maximum):
        raise BadInput(f"parameter {p.name!r}: {raw!r} outside {_g(p.minimum)}..{_g(p.maximum)}")
    return value


def _g(bound: float | None) -> str:
    return "" if bound is None else f"{bound:g}"


def _string(p: Param, raw: str) -> str:
    value = raw.strip()
    if p.max_length is not None and len(value) > p.max_length:
        raise BadInput(f"parameter {p.name!r} is longer than {p.max_length} characters")
    return _choice(p, value)


def _choice(p: Param, value: str) -> str:
    if p.choices is not None and value not in p.choices:
        raise BadInput(f"parameter {p.name!r}: {value!r} is not one of {', '.join(p.choices)}")
    return value


def _boolean(p: Param, raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise BadInput(f"parameter {p.name!r}: {raw!r} is not true or false")


def _list(p: Param, raw: str) -> list[str]:
    items = list(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))
    if p.max_items is not None and len(items) > p.max_items:
        raise BadInput(f"parameter {p.name!r}: {len(items)} different values, at most {p.max_items}")
    return [_choice(p, item) for item in items]


def _bbox(p: Param, raw: str) -> tuple[float, float, float, float]:
    try:
        minx, miny, maxx, maxy = (float(part) for part in raw.split(","))
    except ValueError:
        raise BadInput(f"parameter {p.name!r}: {raw!r} is not four numbers minlon,minlat,maxlon,maxlat") from None
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise BadInput(f"parameter {p.name!r}: {raw!r} is not a valid lon/lat box")
    return minx, miny, maxx, maxy


_PARSERS: dict[str, Callable[[Param, str], Any]] = {
    "number": _number, "integer": _integer, "string": _string, "boolean": _boolean, "list": _list, "bbox": _bbox,
}


@dataclass(frozen=True)
class Route:
    """What a view declares: see the module docstring."""

    permission: str
    summary: str
    params: tuple[Param, ...] = ()
    body: Mapping[str, Any] | None = None  # JSON Schema of the request body (JSON or multipart form)
    body_type: Literal["json", "multipart"] = "json"
    produces: str = "application/json"
    tags: tuple[str, ...] = field(default_factory=tuple)
    #: Answers of this route beyond the ones every route has: (status, when), in ``produces``
    answers: tuple[tuple[int, str], ...] = ()

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def file_formats(self) -> tuple[str, ...]:
        """The file formats its ``format`` parameter offers (a download needs ``export``)."""
        fmt = self.param("format")
        return tuple(c for c in (fmt.choices or ()) if c != "json") if fmt else ()


def declare(permission: str, summary: str, *params: Param, body: Mapping[str, Any] | None = None,
            body_type: Literal["json", "multipart"] = "json", produces: str = "application/json",
            tags: tuple[str, ...] = (), answers: Mapping[int, str] | None = None) -> Callable[[F], F]:
    """Attach a :class:`Route` to a view (put it under the blueprint's route decorator)."""
    route = Route(permission, summary, tuple(params), body, body_type, produces, tags,
                  tuple(sorted((answers or {}).items())))

    def attach(view: F) -> F:
        view.riskmap_route = route  # type: ignore[attr-defined]
        return view

    return attach


def route_of(view: Callable[..., Any]) -> Route | None:
    """The declaration of ``view``, or None."""
    return getattr(view, "riskmap_route", None)


def current_route() -> Route | None:
    """The declaration of the view handling this request (None for built-in endpoints)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return route_of(view) if view is not None else None


def args() -> dict[str, Any]:
    """The request's parameters (query and path), parsed by the view's declaration, once per
    request (:func:`validate_request` does it before the view runs)."""
    parsed: dict[str, Any] | None = getattr(g, "riskmap_args", None)
    if parsed is None:
        route = current_route()
        if route is None:
            raise Unavailable(f"endpoint {request.endpoint!r} reads parameters but declares none")
        path = request.view_args or {}
        parsed = {p.name: p.parse(request.args.get(p.name) if p.location == "query" else str(path.get(p.name, "")))
                  for p in route.params}
        g.riskmap_args = parsed
    return parsed


def validate_request() -> None:
    """Before every declared view: its parameters parsed and bounded (a 400 before any work)."""
    if current_route() is not None:
        args()


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 for anything else (not JSON, not an object, nested
    too deeply for the parser)."""
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        raise BadInput("request body is not a JSON object (or is nested too deeply)") from None
    if not isinstance(body, dict):
        raise BadInput("request body must be a JSON object")
    return body


def permission_of(app: Flask, endpoint: str) -> str:
    """The permission ``endpoint`` needs (built-in endpoints are public)."""
    if endpoint in BUILT_IN_ENDPOINTS:
        return BUILT_IN_ENDPOINTS[endpoint]
    route = route_of(app.view_functions[endpoint])
    if route is None:
        raise Unavailable(f"route {endpoint!r} declares no permission")
    return route.permission


def check_declarations(app: Flask) -> None:
    """Refuse to start when a route has no declaration, names an unknown permission, or declares
    path parameters other than its URL's variables."""
    problems = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILT_IN_ENDPOINTS:
            continue
        route = route_of(app.view_functions[rule.endpoint])
        if route is None:
            problems.append(f"{rule.rule} ({rule.endpoint}) has no declaration (webmap.routes.declare)")
        elif route.permission != PUBLIC and route.permission not in PERMISSIONS:
            problems.append(f"{rule.rule} ({rule.endpoint}) needs unknown permission {route.permission!r}")
        elif (declared := {p.name for p in route.params if p.location == "path"}) != set(rule.arguments):
            # an undeclared URL variable is read unchecked; a declared one the URL lacks is never read
            problems.append(f"{rule.rule} ({rule.endpoint}) declares path parameters {sorted(declared)}, "
                            f"its URL has {sorted(rule.arguments)}")
    if problems:
        raise Unavailable("routes without a valid declaration: " + "; ".join(problems))


# --------------------------------------------------------------------------------------
# Parameters several routes share
# --------------------------------------------------------------------------------------

LON = Param("lon", "number", "longitude, WGS-84 (EPSG:4326), degrees", minimum=-180.0, maximum=180.0)
LAT = Param("lat", "number", "latitude, WGS-84 (EPSG:4326), degrees", minimum=-90.0, maximum=90.0)
BBOX = Param("bbox", "bbox", "minlon,minlat,maxlon,maxlat, WGS-84 degrees", optional=True)
LANG = Param("lang", "string", "language of words in the answer", default="zh", choices=("zh", "en"))
PAGE_LANG = Param("lang", "string", "page language: zh or en (anything else: the default, RISKMAP_LANGUAGE)",
                  optional=True, max_length=16)


def format_param(formats: tuple[str, ...], *, default: str = "json") -> Param:
    """``format``: ``json`` (the default answer) or one of the file ``formats`` (a download)."""
    return Param("format", "string", "answer as JSON or as a file download", default=default, choices=formats)
