"""One status table: each kind of :mod:`geo.errors` error is one HTTP status, answered as JSON.

Blueprints register no handlers of their own. An error's message names the bad value; its
``details()`` (for example the known land uses, or where a geometry is invalid) are added
to the answer: ``{"error": message, "status": code, **details}``.

A 503 (a store or service down) carries ``Retry-After`` (the error's ``retry_after_s``,
else DEFAULT_RETRY_AFTER_S) and is logged as one warning line naming the request and the
reason — no traceback: an outage is not a bug, and while it lasts every request has one.
A 401 says how to sign in (``WWW-Authenticate: Bearer``; pages are redirected to the login
page before they get here, :mod:`webmap.auth`), a 429 how long to wait (``Retry-After``),
a 413 the largest body accepted (``RISKMAP_MAX_BODY_MB``).
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from geo.errors import (
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    RiskmapError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)

#: Seconds a client is asked to wait after a 503 whose error names none.
DEFAULT_RETRY_AFTER_S = 30

STATUS_CODES: dict[type[RiskmapError], int] = {
    BadInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    TooManyRequests: 429,
    Unavailable: 503,
}

#: The challenge of a 401: an API token (``Authorization: Bearer rmt_…``) or the login page.
BEARER_CHALLENGE = 'Bearer realm="riskmap"'


def status_of(exc: RiskmapError) -> int:
    """The HTTP status of ``exc``: that of the nearest kind in its class hierarchy (500 if none)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def body_limit_text(limit_bytes: int | None) -> str:
    """The message of a 413: the limit in MB and the setting that moves it."""
    size = "the limit" if limit_bytes is None else f"{limit_bytes / 1024 / 1024:g} MB"
    return f"request body larger than {size} (RISKMAP_MAX_BODY_MB)"


def register_error_handlers(app: Flask) -> None:
    """JSON errors for every route: ``{"error": message, "status": code, ...details}``."""

    def handle(exc: RiskmapError) -> ResponseReturnValue:
        status = status_of(exc)
        response = jsonify(error=str(exc), status=status, **exc.details())
        if status == 503:
            retry = getattr(exc, "retry_after_s", DEFAULT_RETRY_AFTER_S)
            if retry is not None:
                response.headers["Retry-After"] = str(int(retry))
            app.logger.warning("%s %s -> 503: %s", request.method, request.path, exc)
        if status == 401:
            response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
        if isinstance(exc, TooManyRequests) and exc.retry_after_s is not None:
            response.headers["Retry-After"] = str(int(exc.retry_after_s))
        return response, status

    def handle_http(exc: HTTPException) -> ResponseReturnValue:
        if isinstance(exc, RequestEntityTooLarge):
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return jsonify(error=body_limit_text(limit), status=413, limit_bytes=limit), 413
        return jsonify(error=exc.description, status=exc.code), exc.code or 500

    app.register_error_handler(RiskmapError, handle)
    app.register_error_handler(HTTPException, handle_http)
