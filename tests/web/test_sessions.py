"""Signing in and out: the login page, the session cookie, its idle and absolute expiry (a second
either side, on an injected clock), the lock-out in words, accounts changed while signed in, API
tokens, and no open redirect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
from auth_support import PASSWORD, add_user, anonymous, bearer, csrf_of, session_client, sign_in, token_for
from flask import Flask, g
from flask.testing import FlaskClient
from shapely.geometry import box

from geo.audit_log import AuditQuery
from geo.capabilities.accounts import revoke_token, set_disabled, set_password
from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.auth import SESSION_COOKIE, safe_next
from webmap.settings import Settings

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
IDLE_S = 30 * 60
MAX_S = 12 * 3600


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> None:
        self.now = T0 + timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Flask:
    store = GeoPackageStore(tmp_path / "sessions.gpkg")
    store.init_schema()
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110105"], "area_code": ["110105"], "name": ["朝阳区"], "area_type": ["district"],
         "province_code": ["110000"]}, geometry=[box(116.4, 39.8, 116.6, 40.0)], crs="EPSG:4326"),
        batch=LoadBatch(kind="areas", file_name="a.csv", sha256="5" * 64, loaded_at=T0))
    app = create_app(Settings(gpkg_path=tmp_path / "sessions.gpkg"), store=store)
    app.extensions["riskmap.clock"] = clock
    return app


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser holding the same session cookie (so one request does not refresh the other's)."""
    other = anonymous(app)
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    other.set_cookie(SESSION_COOKIE, cookie.value)
    return other


def _entries(app: Flask, action: str) -> list:  # type: ignore[type-arg]
    return app.extensions["riskmap.context"].store.read_audit(AuditQuery(action=action))


def test_the_login_page_is_chinese_first_english_on_request_and_has_no_script(app: Flask) -> None:
    client = anonymous(app)
    r = client.get("/login")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "登录" in html and 'name="username"' in html and 'name="password"' in html and csrf_of(html)
    assert "<script" not in html and "onclick" not in html
    assert "Sign in" in client.get("/login?lang=en").get_data(as_text=True)


def test_a_page_without_a_session_goes_to_the_login_page_and_back(app: Flask) -> None:
    client = anonymous(app)
    r = client.get("/veto?lang=en")
    assert r.status_code == 303 and r.headers["Location"] == "/login?next=/veto?lang%3Den"
    add_user(app, "planner1", "planner")
    r = sign_in(client, "planner1", next_path="/veto?lang=en")
    assert r.status_code == 303 and r.headers["Location"] == "/veto?lang=en"
    assert client.get("/veto?lang=en").status_code == 200
    assert client.get("/login").headers["Location"] == "/"  # signed in already: no form


def test_the_session_cookie_is_httponly_lax_and_secure_only_over_https(tmp_path: Path, app: Flask) -> None:
    add_user(app, "u1", "viewer")
    plain = anonymous(app)
    sign_in(plain, "u1")
    cookie = plain.get_cookie(SESSION_COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax" and not cookie.secure
    assert cookie.expires is None  # a browser-session cookie: the server enforces the expiry
    https = FlaskClient(app, app.response_class, use_cookies=True)
    https.environ_base["wsgi.url_scheme"] = "https"
    token = csrf_of(https.get("/login", base_url="https://localhost").get_data(as_text=True))
    r = https.post("/login", base_url="https://localhost",
                   data={"username": "u1", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303 and "Secure" in r.headers["Set-Cookie"]


@pytest.mark.parametrize(("trust", "secure"), [(False, False), (True, True)])
def test_x_forwarded_proto_counts_only_behind_a_trusted_proxy(tmp_path: Path, trust: bool, secure: bool) -> None:
    app = create_app(Settings(gpkg_path=tmp_path / "p.gpkg", trust_proxy=trust))
    add_user(app, "u1", "viewer")
    client = anonymous(app)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    token = csrf_of(client.get("/login", headers=headers).get_data(as_text=True))
    r = client.post("/login", headers=headers, data={"username": "u1", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    assert ("Secure" in r.headers["Set-Cookie"]) is secure
    assert ("Strict-Transport-Security" in r.headers) is secure
    login = _entries(app, "login")[-1]
    assert login.remote == ("203.0.113.9" if trust else "127.0.0.1")


@pytest.mark.parametrize(("after_s", "signed_in"), [(IDLE_S - 1, True), (IDLE_S, False), (IDLE_S + 1, False)])
def test_a_session_ends_after_30_minutes_unused(app: Flask, clock: Clock, after_s: int, signed_in: bool) -> None:
    client = session_client(app, "viewer")
    clock.at(after_s)
    r = _copy(app, client).get("/")
    assert (r.status_code == 200) is signed_in
    if not signed_in:
        assert r.headers["Location"].startswith("/login?next=/&ended=session")
        api = _copy(app, client).get("/api/v1/layers")
        assert api.status_code == 401 and "session has ended" in api.get_json()["error"]


def test_activity_keeps_a_session_until_12_hours_after_sign_in(app: Flask, clock: Clock) -> None:
    client = session_client(app, "viewer")
    for minutes in range(25, 12 * 60, 25):  # a request every 25 minutes: never idle
        clock.at(minutes * 60)
        assert client.get("/api/v1/layers").status_code == 200, minutes
    clock.at(MAX_S - 1)
    assert _copy(app, client).get("/api/v1/layers").status_code == 200
    clock.at(MAX_S)
    assert _copy(app, client).get("/api/v1/layers").status_code == 401
    clock.at(MAX_S + 1)
    assert client.get("/api/v1/layers").status_code == 401


def test_activity_is_written_into_the_cookie_at_most_once_a_minute(app: Flask, clock: Clock) -> None:
    client = session_client(app, "viewer")
    clock.at(59)
    assert "Set-Cookie" not in client.get("/api/v1/layers").headers
    clock.at(60)
    assert "Set-Cookie" in client.get("/api/v1/layers").headers


def test_logout_ends_the_session_and_is_audited(app: Flask) -> None:
    client = session_client(app, "commander")
    token = csrf_of(client.get("/").get_data(as_text=True))
    r = client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?ended=out")
    assert client.get_cookie(SESSION_COOKIE) is None
    assert client.get("/").status_code == 303
    assert "已退出登录" in client.get("/login?ended=out").get_data(as_text=True)
    assert [e.actor for e in _entries(app, "logout")] == ["web_commander"]


def test_the_top_bar_names_the_user_the_role_and_the_scope_in_words(app: Flask) -> None:
    add_user(app, "officer", "district_officer", ("110105",), display_name="王科长")
    client = anonymous(app)
    sign_in(client, "officer")
    html = client.get("/").get_data(as_text=True)
    assert "王科长 · 区级安监 · 朝阳区" in html and 'id="logout"' in html
    assert "district safety officer · 朝阳区 (110105)" in client.get("/?lang=en").get_data(as_text=True)


@pytest.mark.parametrize(("step_s", "out"), [(1.9, False), (2.0, True)])
def test_a_disabled_user_is_out_within_the_recheck_interval(app: Flask, clock: Clock, step_s: float,
                                                            out: bool) -> None:
    client = session_client(app, "viewer")
    assert client.get("/api/v1/layers").status_code == 200  # the account is read now and kept 2 s
    set_disabled(app.extensions["riskmap.context"].store, "web_viewer", True, actor="tests")
    clock.at(step_s)
    assert (client.get("/api/v1/layers").status_code == 401) is out


def test_a_new_password_ends_every_session_of_the_user(app: Flask, clock: Clock) -> None:
    client = session_client(app, "viewer")
    set_password(app.extensions["riskmap.context"].store, "web_viewer", "another-password-1", actor="tests")
    clock.at(2)
    assert client.get("/api/v1/layers").status_code == 401


def test_wrong_password_and_unknown_user_read_the_same_and_are_audited(app: Flask) -> None:
    add_user(app, "u1", "viewer")
    for name in ("u1", "nobody"):
        client = anonymous(app)
        r = sign_in(client, name, "wrong-password-9")
        assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
        assert client.get("/api/v1/layers").status_code == 401  # still nobody
    assert [e.target for e in _entries(app, "login_failed")] == ["u1", "nobody"]


def test_a_disabled_account_is_told_so(app: Flask) -> None:
    add_user(app, "u1", "viewer")
    set_disabled(app.extensions["riskmap.context"].store, "u1", True, actor="tests")
    r = sign_in(anonymous(app), "u1")
    assert r.status_code == 401 and "账号已停用" in r.get_data(as_text=True)


def test_back_off_then_lock_out_in_words_with_retry_after(app: Flask, clock: Clock) -> None:
    add_user(app, "u1", "viewer")
    client = anonymous(app)
    at = 0.0
    for failure, wait_s in enumerate((1, 2, 4, 8), start=1):
        assert sign_in(client, "u1", "wrong-password-9").status_code == 401, failure
        clock.at(at + wait_s - 1)  # within the back-off: refused without checking, in words
        r = sign_in(client, "u1")
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert "请 1 秒 后再试" in r.get_data(as_text=True)
        at += wait_s
        clock.at(at)
    r = sign_in(client, "u1", "wrong-password-9")  # the 5th failure locks for 15 minutes
    assert r.status_code == 429 and r.headers["Retry-After"] == "900" and "15 分钟" in r.get_data(as_text=True)
    clock.at(at + 1)
    r = client.post("/login?lang=en", data={"username": "u1", "password": PASSWORD,
                                            "csrf_token": csrf_of(client.get("/login").get_data(as_text=True))})
    assert r.status_code == 429 and "14 min 59 s" in r.get_data(as_text=True)
    clock.at(at + 900)
    assert sign_in(client, "u1").status_code == 303


@pytest.mark.parametrize(("target", "safe"), [
    ("/veto?lang=en", "/veto?lang=en"), ("/", "/"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"), (None, "/"), ("evil", "/"),
    ("/\t/evil.example", "/"),
])
def test_next_is_a_path_on_this_site_never_an_open_redirect(target: str | None, safe: str) -> None:
    assert safe_next(target) == safe


def test_login_never_redirects_off_site(app: Flask) -> None:
    add_user(app, "u1", "viewer")
    r = sign_in(anonymous(app), "u1", next_path="//evil.example/")
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_an_api_token_signs_in_a_script_and_a_bad_one_is_a_401_with_a_challenge(app: Flask, clock: Clock) -> None:
    secret = token_for(app, "analyst")
    client = bearer(anonymous(app), secret)
    assert client.get("/api/v1/border/pilot").status_code not in (401, 403)
    for header in ("Bearer rmt_nothing", "Basic dXNlcjpwYXNz", "Bearer ", secret):
        r = anonymous(app).get("/api/v1/layers", headers={"Authorization": header.replace(secret, secret[:-2] + "xx")})
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer"), header
    revoke_token(app.extensions["riskmap.context"].store, secret.split("_")[1], actor="tests")
    clock.at(2)
    assert client.get("/api/v1/layers").status_code == 401


def test_a_bad_token_is_not_rescued_by_a_session_cookie(app: Flask) -> None:
    client = session_client(app, "viewer")
    assert client.get("/api/v1/layers", headers={"Authorization": "Bearer rmt_x"}).status_code == 401


def test_the_request_names_its_user_for_the_access_log(app: Flask) -> None:
    seen: list[str] = []
    app.after_request(lambda response: seen.append(g.user_name) or response)
    session_client(app, "viewer").get("/api/v1/layers")
    anonymous(app).get("/api/v1/health")
    bearer(anonymous(app), token_for(app, "planner")).get("/api/v1/veto/rules")
    assert seen[-3:] == ["web_viewer", "-", "test_planner"]
