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
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue

from geo.accounts import Principal, RoleBook
from geo.capabilities.accounts import principal_for_token, principal_for_user, read_roles
from geo.capabilities.audit_log import ANONYMOUS, append
from geo.capabilities.context import Context
from geo.errors import Forbidden, Unauthenticated
from layers.catalog import CATALOG
from webmap import context
from webmap.routes import PUBLIC, current_route, permission_of
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
    """Flask's signed-cookie session, signed with HMAC-SHA256, ``Secure`` on HTTPS requests."""

    salt = "riskmap-session"
    digest_method = staticmethod(hashlib.sha256)

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


def session_state(now: float) -> str:
    """``none`` (nobody signed in), ``idle`` or ``expired`` (too long unused or since sign-in)
    or ``active``."""
    settings = context.settings()
    if "user" not in session:
        return "none"
    seen, signed_in = float(session.get("seen", 0)), float(session.get("signed_in", 0))
    if now - signed_in >= settings.session_max_hours * 3600 or now < signed_in:
        return "expired"
    if now - seen >= settings.session_idle_minutes * 60:
        return "idle"
    return "active"


def _session_principal() -> Principal | None:
    now = app_now().timestamp()
    state = session_state(now)
    if state in ("idle", "expired"):
        g.session_ended = state
        end_session()
    if state != "active":
        return None
    name, key = str(session["user"]), str(session.get("key", ""))
    store = context.store()

    def load() -> tuple[Principal | None, str]:
        user = store.get_user(name)
        if user is None:
            return None, ""
        return principal_for_user(store, name, roles=roles()), password_digest(user.password_hash)

    principal, digest = _accounts().get(("user", name), load)
    if principal is None or not hmac.compare_digest(digest, key):
        g.session_ended = "account"
        end_session()
        return None
    if now - float(session["seen"]) >= ACTIVITY_REFRESH_S:
        session["seen"] = int(now)
    return principal


def _token_principal(header: str) -> Principal:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Authorization: give 'Bearer <API token>' (riskmap token create)")
    store, secret = context.store(), secret.strip()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    principal: Principal | None = _accounts().get(
        ("token", digest), lambda: principal_for_token(store, secret, roles=roles(), now=app_now()))
    if principal is None:
        raise Unauthenticated("API token unknown, revoked or expired, or its user disabled")
    return principal


def resolve_principal() -> Principal | None:
    """Who this request runs as (see the module docstring, step 1); also sets ``g``."""
    header = request.headers.get("Authorization")
    g.token_auth = header is not None
    principal = _token_principal(header) if header is not None else _session_principal()
    g.principal = principal
    g.user_name = principal.name if principal is not None else "-"
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


def _page_request() -> bool:
    route = current_route()
    return route is not None and route.produces == "text/html"


def check_csrf() -> None:
    """Step 3: a state-changing request authenticated by the session cookie (or by nobody)
    needs the session's CSRF token and no other site's Origin; 403 otherwise."""
    if request.method in SAFE_METHODS or g.get("token_auth"):
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden(f"cross-origin request refused (Origin {origin[:100]!r})")
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Forbidden("cross-site request refused (Sec-Fetch-Site: cross-site)")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = str(session.get("csrf") or "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(f"CSRF token missing or wrong: send the page's token in {CSRF_HEADER} "
                        f"(or the form field {CSRF_FIELD}); API scripts use a Bearer token")


def _requested_download() -> str | None:
    route = current_route()
    fmt = route.param("format") if route is not None else None
    if route is None or fmt is None:
        return None
    value = (request.args.get("format") or "").strip() or fmt.default
    return value if value in route.file_formats else None


def check_permission(principal: Principal, permission: str) -> None:
    """Step 4 for a signed-in principal: the permission, ``export`` for a download, the layer."""
    if permission != PUBLIC and not principal.can(permission):
        raise Forbidden(f"your role {principal.role!r} lacks the permission {permission!r}")
    download = _requested_download()
    if download is not None and not principal.can("export"):
        raise Forbidden(f"format={download} is a file download: your role {principal.role!r} lacks 'export'")
    layer_id = (request.view_args or {}).get("layer_id")
    if isinstance(layer_id, str) and layer_id in CATALOG_IDS and not principal.sees(layer_id):
        raise Forbidden(f"layer {layer_id!r} is not among the layers of your role {principal.role!r}")


def authorize() -> ResponseReturnValue | None:
    """Before every request: steps 1-4 of the module docstring."""
    g.principal, g.user_name = None, "-"
    if request.endpoint is None or request.endpoint == "static":
        return None  # no route (a 404 or 405 follows) or a static file
    principal = resolve_principal()
    permission = permission_of(current_app, request.endpoint)
    if permission != PUBLIC and principal is None:
        if _page_request():
            ended = g.get("session_ended")
            return redirect(url_for("login.login_page", next=safe_next(request.full_path.rstrip("?")),
                                    ended="session" if ended else None), 303)
        ended = g.get("session_ended")
        raise Unauthenticated("sign in first: the session has ended" if ended else
                              "sign in first: an API token (Authorization: Bearer rmt_…) or the login page /login")
    check_csrf()
    if principal is not None:
        check_permission(principal, permission)
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
