"""Route declarations: every route says who may use it; parameters are bounded at the limits."""

from __future__ import annotations

import time

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from geo.errors import BadInput, Unavailable
from geo.response import RESOURCE_TYPES
from webmap.routes import MAX_RAW_LENGTH, PERMISSIONS, PUBLIC, Param, check_declarations, declare, route_of


def test_every_route_of_the_app_is_declared_with_a_known_permission(client: FlaskClient) -> None:
    app: Flask = client.application
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        route = route_of(app.view_functions[rule.endpoint])
        assert route is not None, rule.rule
        assert route.permission == PUBLIC or route.permission in PERMISSIONS, rule.rule
        assert route.summary, rule.rule


def _app_with(view_blueprint: Blueprint) -> Flask:
    app = Flask(__name__)
    app.register_blueprint(view_blueprint)
    return app


def test_a_route_without_a_declaration_stops_the_start() -> None:
    bp = Blueprint("stray", __name__)
    bp.add_url_rule("/stray", "stray", lambda: "x")
    with pytest.raises(Unavailable, match=r"/stray .*has no declaration"):
        check_declarations(_app_with(bp))


def test_an_unknown_permission_stops_the_start() -> None:
    bp = Blueprint("odd", __name__)
    bp.add_url_rule("/odd", "odd", declare("map.edit", "odd")(lambda: "x"))
    with pytest.raises(Unavailable, match=r"unknown permission 'map\.edit'"):
        check_declarations(_app_with(bp))


K = Param("k", "integer", "k", default=5, minimum=1, maximum=100)
R = Param("radius", "number", "m", default=1000.0, minimum=1, maximum=50_000)
T = Param("types", "list", "types", optional=True, choices=("a", "b", "c"), max_items=2)


@pytest.mark.parametrize(("param", "raw", "value"), [
    (K, "1", 1), (K, "100", 100), (K, None, 5), (K, "", 5),
    (R, "1", 1.0), (R, "50000", 50_000.0), (R, "49999.999", 49_999.999),
    (T, "a,a,a,b,a", ["a", "b"]), (T, "b, a ,", ["b", "a"]),
])
def test_values_at_the_limits_are_accepted(param: Param, raw: str | None, value: object) -> None:
    assert param.parse(raw) == value


@pytest.mark.parametrize(("param", "raw", "named"), [
    (K, "0", "outside 1..100"), (K, "101", "outside 1..100"), (K, "1.5", "not an integer"),
    (R, "0.999", "outside 1..50000"), (R, "50000.001", "outside 1..50000"), (R, "nan", "not a finite"),
    (R, "inf", "not a finite"), (T, "a,b,c", "3 different values, at most 2"), (T, "a,z", "'z' is not one of"),
    (K, "1\x00", "NUL"), (K, "1" * (MAX_RAW_LENGTH + 1), "longer than"),
])
def test_values_beyond_the_limits_are_a_400_naming_them(param: Param, raw: str, named: str) -> None:
    with pytest.raises(BadInput, match=named):
        param.parse(raw)


def test_a_raw_value_of_exactly_the_longest_length_is_read() -> None:
    q = Param("q", "string", "q")
    assert q.parse("x" * MAX_RAW_LENGTH) == "x" * MAX_RAW_LENGTH


def test_a_repeated_type_counts_once_and_a_5kb_list_is_refused_at_once(client: FlaskClient) -> None:
    start = time.perf_counter()
    r = client.get("/api/v1/nearest?lon=116.4&lat=39.9&types=" + ",".join(["fire_station"] * 100))
    assert r.status_code == 200
    assert set(r.get_json()["resources"]) == {"fire_station"}
    r = client.get("/api/v1/nearest?lon=116.4&lat=39.9&types=" + ",".join(["fire_station"] * 400))  # 5 KB
    assert r.status_code == 400 and "longer than" in r.get_json()["error"]
    assert time.perf_counter() - start < 5
    every = ",".join([*RESOURCE_TYPES, "fire_station"])
    assert client.get(f"/api/v1/nearest?lon=116.4&lat=39.9&types={every}").status_code == 200


@pytest.mark.parametrize(("url", "named"), [
    ("/api/v1/layers/risk_sources/features?offset=9223372036854775808", "offset"),
    ("/api/v1/layers/risk_sources/features?limit=10001", "limit"),
    ("/api/v1/search?q=%00", "NUL"),
    ("/api/v1/mutual-aid?lon=116.4&lat=39.9&types=" + ",".join(["team", "nope"]), "'nope' is not one of"),
    ("/api/v1/areas/district?method=nope", "method"),
    ("/api/v1/areas/nowhere", "unit"),
    ("/api/v1/heatmap?cell=49.9", "cell"),
])
def test_hostile_parameters_are_a_400_naming_the_parameter(client: FlaskClient, url: str, named: str) -> None:
    r = client.get(url)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert named in r.get_json()["error"]


def test_a_json_body_nested_50000_deep_is_a_400(client: FlaskClient) -> None:
    body = "[" * 50_000 + "]" * 50_000
    r = client.post("/api/v1/veto", data=body, content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]
