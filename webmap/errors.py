"""One status table: each kind of :mod:`geo.errors` error is one HTTP status, answered as JSON.

Blueprints register no handlers of their own. An error's message names the bad value; its
``details()`` (for example the known land uses, or where a geometry is invalid) are added
to the answer: ``{"error": message, "status": code, **details}``.
"""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from geo.errors import BadInput, Conflict, NotFound, RiskmapError, Unavailable, Unprocessable

STATUS_CODES: dict[type[RiskmapError], int] = {
    BadInput: 400,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    Unavailable: 503,
}


def status_of(exc: RiskmapError) -> int:
    """The HTTP status of ``exc``: that of the nearest kind in its class hierarchy (500 if none)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 500


def register_error_handlers(app: Flask) -> None:
    """JSON errors for every route: ``{"error": message, "status": code, ...details}``."""

    def handle(exc: RiskmapError) -> ResponseReturnValue:
        status = status_of(exc)
        return jsonify(error=str(exc), status=status, **exc.details()), status

    def handle_http(exc: HTTPException) -> ResponseReturnValue:
        return jsonify(error=exc.description, status=exc.code), exc.code or 500

    app.register_error_handler(RiskmapError, handle)
    app.register_error_handler(HTTPException, handle_http)
