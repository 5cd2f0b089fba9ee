"""Secure defaults on every response: security headers, what may be cached, the body limit,
and the reverse proxy's headers believed only when told to.

* ``Content-Security-Policy`` (:func:`content_security_policy`): scripts only from this
  server, none inline (a page's data travels in a ``<script type="application/json">``
  block, which is not run), no plug-ins, no framing; images also from the basemap's server
  when ``RISKMAP_BASEMAP_URL`` names one.  Styles only from this server too: no ``style=``
  attribute in a template (scripts set styles through the DOM, which the policy allows).
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``, ``X-Frame-Options:
  DENY`` (for browsers that predate ``frame-ancestors``), and ``Strict-Transport-Security``
  on HTTPS.
* ``Cache-Control``: pages are ``no-store`` (after logging out, the back button shows
  nothing private); an answer to a signed-in request that says ``public`` is made
  ``private`` (a tile of a scoped user is not for a shared cache) and one that says nothing
  ``no-store``; ``Vary: Cookie, Authorization`` on both.
* ``MAX_CONTENT_LENGTH`` from ``RISKMAP_MAX_BODY_MB``: a larger body is a 413 naming the limit.
* ``RISKMAP_TRUST_PROXY=1``: :class:`werkzeug.middleware.proxy_fix.ProxyFix` (one proxy) makes
  ``X-Forwarded-Proto`` and ``X-Forwarded-For`` the request's scheme and client address.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webmap.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Headers every response carries (the CSP is added per app: it names the basemap).
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: What a signed-in answer varies with.
VARY_NAMES = ("Cookie", "Authorization")
VARY = ", ".join(VARY_NAMES)
#: The WSGI environ key :mod:`webmap.auth` sets: ``"page"`` for a page, ``"private"`` for an
#: answer to a signed-in request (absent: neither; the answer's own Cache-Control stands).
PRIVACY = "riskmap.privacy"
#: HSTS on HTTPS answers: one year.
HSTS = "max-age=31536000"


def basemap_source(url: str | None) -> str | None:
    """The CSP source of an XYZ basemap template: its scheme and host, a ``{s}`` sub-domain
    as ``*`` (``https://{s}.tile.example.org/{z}/{x}/{y}.png`` → ``https://*.tile.example.org``);
    the scheme alone (``https:``) when a placeholder sits elsewhere in the host."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    first, _, rest = host.partition(".")
    if first.startswith("{") and first.endswith("}") and rest and "{" not in rest:
        host = f"*.{rest}"
    if "{" in host or "}" in host:
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Settings) -> str:
    """The app's ``Content-Security-Policy`` (see the module docstring)."""
    images = " ".join(filter(None, ("'self' data: blob:", basemap_source(settings.basemap_url))))
    return "; ".join((
        "default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'self'",
        "frame-ancestors 'none'", "form-action 'self'", f"img-src {images}", "connect-src 'self'",
        "style-src 'self'", "font-src 'self'",
    ))


def make_private(headers: list[tuple[str, str]], *, page: bool) -> None:
    """``Cache-Control`` and ``Vary`` of a page or an answer to a signed-in request, in place on
    a WSGI header list (see the module docstring)."""
    cache = vary = None
    for i, (name, _) in enumerate(headers):
        lower = name.lower()
        if lower == "cache-control":
            cache = i
        elif lower == "vary":
            vary = i
    if vary is None:
        headers.append(("Vary", VARY))
    else:
        have = {v.strip().lower() for v in headers[vary][1].split(",")}
        extra = [v for v in VARY_NAMES if v.lower() not in have]
        headers[vary] = ("Vary", ", ".join([headers[vary][1], *extra]) if extra else headers[vary][1])
    if page or cache is None:
        if cache is None:
            headers.append(("Cache-Control", "no-store"))
        else:
            headers[cache] = ("Cache-Control", "no-store")
    elif "public" in headers[cache][1]:
        headers[cache] = ("Cache-Control", headers[cache][1].replace("public", "private"))


class SecurityHeaders:
    """WSGI middleware adding the security headers to every answer as it starts, whatever made
    it (a view, an error handler, a static file, a redirect), and making pages and signed-in
    answers private (:func:`make_private`, as :mod:`webmap.auth` marked the request); a page
    that brings its own ``Content-Security-Policy`` keeps it.  In WSGI rather than an
    ``after_request`` hook: plain tuples on the header list cost a fraction of werkzeug's
    checked ``Headers`` (measured: a cached tile is ~0.5 ms of app CPU, and this runs for
    every one)."""

    def __init__(self, app: WSGIApplication, policy: str) -> None:
        self.app = app
        self.every = [("Content-Security-Policy", policy), *STATIC_HEADERS.items()]
        self.others = list(STATIC_HEADERS.items())

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        https = environ.get("wsgi.url_scheme") == "https"

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            privacy = environ.get(PRIVACY)
            if privacy is not None:
                make_private(headers, page=privacy == "page")
            own = any(name.lower() == "content-security-policy" for name, _ in headers)
            headers.extend(self.others if own else self.every)
            if https:
                headers.append(("Strict-Transport-Security", HSTS))
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def init_app(app: Flask, settings: Settings) -> None:
    """The body limit, the response headers and the proxy headers (when trusted) on ``app``."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_mb * 1024 * 1024
    app.wsgi_app = SecurityHeaders(app.wsgi_app, content_security_policy(settings))  # type: ignore[method-assign]
    if settings.trust_proxy:  # outside: the headers above see the scheme the proxy was asked with
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
