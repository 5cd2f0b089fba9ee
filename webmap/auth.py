"""Who is calling, and may they: the principal of every request, sessions, CSRF and the
permission check (registered by :func:`webmap.app.create_app` through :func:`init_app`).

Before every request but a static file:

1. **Who.** ``Authorization: Bearer rmt_…`` is an API token
   (:func:`geo.capabilities.accounts.principal_for_token`); a header that does not sign in is a
   401 at once, never a fall-back to the cookie.  Otherwise the session cookie names a user,
   read again (:func:`~geo.capabilities.accounts.principal_for_user`: a disabled or deleted user
   is out).  What a process has read is trusted for ``RISKMAP_ACCOUNT_RECHECK_S`` seconds
   (2 s by default), so a burst of tiles does not cost a store round trip each
   (:class:`AccountCache`).  ``flask.g.principal`` is the :class:`geo.accounts.Principal`
   or None, ``flask.g.user_name`` its user name or ``-`` (the access log reads it).
2. **Signed in?** A route declared :data:`webmap.routes.PUBLIC` is open to anyone.  Else
   nobody signed in is a redirect to ``/login?next=…`` for a page, a JSON 401 with
   ``WWW-Authenticate: Bearer`` for the API.
3. **CSRF.** A POST, PUT, PATCH or DELETE that does not come with a token (the session cookie
   is an ambient credential a browser sends by itself) needs the session's CSRF token in the
   ``X-CSRF-Token`` header or a ``csrf_token`` form field, and is refused when its ``Origin``
   is another site: 403 either way.
4. **May they.** The route's declared permission (403 naming it when the role lacks it); a
   ``format=`` that is a file download needs ``export`` too; a layer the role may not see
   (:meth:`geo.accounts.Principal.sees`) is a 403 for its features and tiles — not a 404:
   the layer ids are in the open catalog, hiding them would protect nothing and would tell
   the user the wrong thing.

**Sessions** are Flask's signed cookies (HMAC-SHA256 with ``RISKMAP_SECRET_KEY`` or the
generated key file, :func:`webmap.settings.session_secret`, so every worker process reads
every session): ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the request came over HTTPS.
No session table is written per request, and none has to be shared between processes.  A
session holds the user name, a digest of the user's password hash (a new password ends
every session of the user), the sign-in time and the last activity (written again at most
once a minute): it ends ``RISKMAP_SESSION_IDLE_MINUTES`` after the last activity and
``RISKMAP_SESSION_MAX_HOURS`` after sign-in.  Logging out clears the cookie; the price of
not keeping sessions on the server is that a copy of a cookie taken before stays good
until one of those limits, a new password or the user being disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask.typing import ResponseReturnValue

from geo.accounts import Principal, RoleBook
from geo.capabilities.accounts import principal_for_token, principal_for_user, read_roles
from geo.capabilities.audit_log import ANONYMOUS, append
from geo.capabilities.context import Context
from geo.errors import Forbidden, Unauthenticated, Unavailable
from layers.catalog import CATALOG
from webmap import context
from webmap.routes import BUILT_IN_ENDPOINTS, PUBLIC, Route, route_of
from webmap.security import PRIVACY
from webmap.settings import Settings, session_secret

#: Methods that change nothing (no CSRF token needed).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The session cookie's name.
SESSION_COOKIE = "riskmap_session"
#: Last activity is written into the cookie again when older than this (seconds): not a new
#: cookie on every tile.
ACTIVITY_REFRESH_S = 60
#: Accounts a process keeps (users and tokens); beyond it the oldest half is dropped.
ACCOUNT_CACHE_ENTRIES = 1024
#: Session cookies whose signature a process remembers having checked.
VERIFIED_COOKIES = 4096
#: Every layer id of the catalog.
CATALOG_IDS = frozenset(layer.id for layer in CATALOG)
#: The header and the form field carrying the CSRF token.
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- the account cache -------------------------------------------------------------------


class AccountCache:
    """Accounts read from the store, trusted for ``ttl_s`` seconds (per process, thread-safe).

    A value is whatever ``load()`` returned (None included: a user that is gone stays gone
    for ``ttl_s``); ``ttl_s`` 0 reads the store on every request.
    """

    def __init__(self, ttl_s: float, clock: Clock) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        now = self.clock().timestamp()
        with self._lock:
            found = self._items.get(key)
        if found is not None and now - found[0] < self.ttl_s:
            return found[1]
        value = load()
        with self._lock:
            if len(self._items) >= ACCOUNT_CACHE_ENTRIES:
                for old in list(self._items)[: ACCOUNT_CACHE_ENTRIES // 2]:
                    del self._items[old]
            self._items[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# -- sessions ------------------------------------------------------------------------------


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, signed with HMAC-SHA256, ``Secure`` on HTTPS requests.

    Cheaper per request than Flask's own, which a map's hundreds of tiles notice: a request
    without the cookie (an API token, a static file) builds no serializer, and a cookie value
    whose signature was checked is remembered (:data:`VERIFIED_COOKIES` of them), so the next
    tile with the same cookie is not checked again — the same bytes verify the same way, and
    the times inside are the server's own to judge (:func:`session_state`).
    """

    salt = "riskmap-session"
    digest_method = staticmethod(hashlib.sha256)

    def __init__(self) -> None:
        self._serializers: dict[object, Any] = {}
        self._verified: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_signing_serializer(self, app: Flask) -> Any:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(key)
        if serializer is None:
            serializer = self._serializers[key] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        with self._lock:
            known = self._verified.get(value)
        if known is not None:
            return self.session_class(dict(known))
        opened = super().open_session(app, request)
        if opened:  # a good signature (a bad one opens empty)
            with self._lock:
                if len(self._verified) >= VERIFIED_COOKIES:
                    self._verified.clear()
                self._verified[value] = dict(opened)
        return opened

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session.modified:  # else nothing to write (Vary is webmap.security's)
            super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        # request.is_secure follows X-Forwarded-Proto only behind RISKMAP_TRUST_PROXY (ProxyFix)
        return bool(request.is_secure)


def app_now() -> datetime:
    """The app's time (UTC; tests put their own clock in ``app.extensions["riskmap.clock"]``)."""
    clock: Clock = current_app.extensions["riskmap.clock"]
    return clock()


def _accounts() -> AccountCache:
    cache: AccountCache = current_app.extensions["riskmap.accounts"]
    return cache


def roles() -> RoleBook:
    """The app's role book (``Settings.paths.roles_path``, parsed again when the file changes)."""
    ctx = context.current()
    return read_roles(ctx.paths.roles_path, layers=sorted(CATALOG_IDS), cache=ctx.cache)


def password_digest(password_hash: str) -> str:
    """What a session keeps of its user's password hash: a keyed digest (a new password no
    longer matches it, and the cookie does not carry the hash)."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def start_session(principal: Principal) -> None:
    """Sign ``principal`` in on this browser: a fresh session (and a fresh CSRF token)."""
    user = context.store().get_user(principal.name)
    at = int(app_now().timestamp())
    session.clear()
    session.update({"user": principal.name, "key": password_digest(user.password_hash if user else ""),
                    "signed_in": at, "seen": at, "csrf": secrets.token_urlsafe(32)})


def end_session() -> None:
    """Forget this browser's session (its CSRF token with it)."""
    session.clear()


def csrf_token() -> str:
    """This session's CSRF token (made now when it has none): pages put it in their config
    and forms."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def session_state(now: float, data: Mapping[str, Any]) -> str:
    """``none`` (nobody signed in), ``idle`` or ``expired`` (too long unused or since sign-in)
    or ``active``: the session ``data`` at ``now`` (seconds since the epoch)."""
    settings = context.settings()
    if "user" not in data:
        return "none"
    seen, signed_in = float(data.get("seen", 0)), float(data.get("signed_in", 0))
    if now - signed_in >= settings.session_max_hours * 3600 or now < signed_in:
        return "expired"
    if now - seen >= settings.session_idle_minutes * 60:
        return "idle"
    return "active"


def _session_principal() -> Principal | None:
    now, data = app_now().timestamp(), cast(Any, session)._get_current_object()  # the proxy's look-up once
    state = session_state(now, data)
    if state in ("idle", "expired"):
        g.session_ended = state
        end_session()
    if state != "active":
        return None
    name, key = str(data["user"]), str(data.get("key", ""))

    def load() -> tuple[Principal | None, str]:
        store = context.store()
        user = store.get_user(name)
        if user is None:
            return None, ""
        return principal_for_user(store, name, roles=roles()), password_digest(user.password_hash)

    principal, digest = _accounts().get(("user", name), load)
    if principal is None or not hmac.compare_digest(digest, key):
        g.session_ended = "account"
        end_session()
        return None
    if now - float(data["seen"]) >= ACTIVITY_REFRESH_S:
        data["seen"] = int(now)
    return principal


def _token_principal(header: str, accounts: AccountCache) -> Principal:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Authorization: give 'Bearer <API token>' (riskmap token create)")
    secret = secret.strip()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    principal: Principal | None = accounts.get(
        ("token", digest), lambda: principal_for_token(context.store(), secret, roles=roles(), now=app_now()))
    if principal is None:
        raise Unauthenticated("API token unknown, revoked or expired, or its user disabled")
    return principal


def _real(proxy: Any) -> Any:
    """The object behind one of Flask's context proxies (``request``, ``g``, ``current_app``),
    looked up once: every attribute of a proxy is a context-variable look-up, and the check
    below runs before every tile."""
    return proxy._get_current_object()


def resolve_principal() -> Principal | None:
    """Who this request runs as (see the module docstring, step 1); also sets ``g``."""
    req, state = _real(request), _real(g)
    header = req.environ.get("HTTP_AUTHORIZATION")
    state.token_auth = header is not None
    principal = (_token_principal(header, _real(current_app).extensions["riskmap.accounts"]) if header is not None
                 else _session_principal())
    state.principal = principal
    state.user_name = principal.name if principal is not None else "-"
    return principal


# -- the checks ----------------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """``target`` when it is a path on this site (``/veto?lang=en``), else ``/``: never an
    open redirect (no scheme, no host, no ``//``, no backslash)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    return target


def check_csrf() -> None:
    """Step 3: a state-changing request authenticated by the session cookie (or by nobody)
    needs the session's CSRF token and no other site's Origin; 403 otherwise."""
    if request.method in SAFE_METHODS or g.get("token_auth"):
        return
    origin = request.headers.get("Origin")
    # the host, not the scheme: behind a proxy that ends TLS the app itself is asked over http
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Forbidden(f"cross-origin request refused (Origin {origin[:100]!r})")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Forbidden("cross-site request refused (Sec-Fetch-Site: cross-site)")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = str(session.get("csrf") or "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(f"CSRF token missing or wrong: send the page's token in {CSRF_HEADER} "
                        f"(or the form field {CSRF_FIELD}); API scripts use a Bearer token")


_FORMATS: dict[int, tuple[Route, tuple[str, ...], str]] = {}


def _requested_download(route: Route, req: Request) -> str | None:
    """The file format this request asks ``route`` for, or None (JSON, or no downloads)."""
    found = _FORMATS.get(id(route))
    if found is None or found[0] is not route:  # once per route: its file formats and the default format
        fmt = route.param("format")
        found = _FORMATS[id(route)] = (route, route.file_formats, str(fmt.default) if fmt is not None else "")
    _, formats, default = found
    if not formats:
        return None
    value = (req.args.get("format") or "").strip() or default
    return value if value in formats else None


def check_permission(principal: Principal, route: Route) -> None:
    """Step 4 for a signed-in principal: the permission, ``export`` for a download, the layer."""
    req = _real(request)
    permission = route.permission
    if permission != PUBLIC and not principal.can(permission):
        raise Forbidden(f"your role {principal.role!r} lacks the permission {permission!r}")
    download = _requested_download(route, req)
    if download is not None and not principal.can("export"):
        raise Forbidden(f"format={download} is a file download: your role {principal.role!r} lacks 'export'")
    layer_id = (req.view_args or {}).get("layer_id")
    if isinstance(layer_id, str) and layer_id in CATALOG_IDS and not principal.sees(layer_id):
        raise Forbidden(f"layer {layer_id!r} is not among the layers of your role {principal.role!r}")


def authorize() -> ResponseReturnValue | None:
    """Before every request: steps 1-4 of the module docstring; marks a page or a signed-in
    request for :mod:`webmap.security` (private, not stored)."""
    state, req = _real(g), _real(request)
    state.principal, state.user_name, endpoint = None, "-", req.endpoint
    if endpoint is None or endpoint in BUILT_IN_ENDPOINTS:
        return None  # no route (a 404 or 405 follows) or a static file
    route = route_of(_real(current_app).view_functions[endpoint])
    if route is None:  # a route added after start-up without a declaration: refused, never open
        raise Unavailable(f"route {endpoint!r} declares no permission")
    page = route.produces == "text/html"
    if page:
        req.environ[PRIVACY] = "page"
    principal = resolve_principal()
    if principal is not None and not page:
        req.environ[PRIVACY] = "private"
    if route.permission != PUBLIC and principal is None:
        if page:
            ended = g.get("session_ended")
            return redirect(url_for("login.login_page", next=safe_next(request.full_path.rstrip("?")),
                                    ended="session" if ended else None), 303)
        ended = g.get("session_ended")
        raise Unauthenticated("sign in first: the session has ended" if ended else
                              "sign in first: an API token (Authorization: Bearer rmt_…) or the login page /login")
    if req.method not in SAFE_METHODS:
        check_csrf()
    if principal is not None:
        check_permission(principal, route)
    return None


# -- what the web app records --------------------------------------------------------------


def remote_address() -> str:
    """The client's address (the proxy's view of it behind ``RISKMAP_TRUST_PROXY``), or ``-``."""
    return request.remote_addr or "-"


def record(action: str, *, target: str = "", details: dict[str, Any] | None = None, outcome: str = "ok") -> None:
    """Append one audit entry for this request: the principal as actor, the client's address."""
    principal: Principal | None = g.get("principal")
    append(context.store(), principal.actor if principal is not None else ANONYMOUS, action, target=target,
           details=details, outcome=outcome, remote=remote_address())


def init_app(app: Flask, *, clock: Clock | None = None) -> None:
    """Sessions, the account cache and the before-request check on ``app`` (the settings'
    key, lifetimes and re-check interval); ``clock`` (default UTC now) for tests."""
    settings: Settings = app.extensions["riskmap.settings"]
    ctx: Context = app.extensions["riskmap.context"]
    # a role file that does not validate stops the start, not the first sign-in
    read_roles(ctx.paths.roles_path, layers=sorted(CATALOG_IDS), cache=ctx.cache)
    app.secret_key = session_secret(settings)
    app.session_interface = SessionInterface()
    app.config.update(SESSION_COOKIE_NAME=SESSION_COOKIE, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_max_hours))
    app.extensions["riskmap.clock"] = clock or utc_now
    app.extensions["riskmap.accounts"] = AccountCache(settings.account_recheck_s,
                                                      lambda: app.extensions["riskmap.clock"]())
    app.before_request(authorize)
