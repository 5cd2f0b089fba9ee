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

from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from webmap.routes import current_route
from webmap.settings import Settings

#: Headers every response carries (the CSP is added per app: it names the basemap).
STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
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


def _cache_control(response: Response) -> None:
    if request.endpoint == "static":
        return
    route = current_route()
    page = route is not None and route.produces == "text/html"
    signed_in = g.get("principal") is not None
    if not (page or signed_in):
        return
    response.vary.update(("Cookie", "Authorization"))
    current = response.headers.get("Cache-Control")
    if page or not current:
        response.headers["Cache-Control"] = "no-store"
    elif "public" in current:
        response.headers["Cache-Control"] = current.replace("public", "private")


def init_app(app: Flask, settings: Settings) -> None:
    """The body limit, the proxy headers (when trusted) and the response headers on ``app``."""
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_mb * 1024 * 1024
    if settings.trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    policy = content_security_policy(settings)

    @app.after_request
    def secure_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", policy)
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        _cache_control(response)
        return response
