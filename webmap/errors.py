"""One error hierarchy, one status table: bad input is a 4xx naming the bad value."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from geo.capabilities.area_risk import MissingReferenceError
from geo.entities import UnknownColumnError, UnknownEntityError
from geo.stores.protocol import StoreError
from geo.tiles import TileRangeError


class BadRequest(ValueError):
    """A request parameter is missing or malformed."""


class NotFound(KeyError):
    """A named thing (layer, feature) does not exist."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


STATUS_CODES: dict[type[Exception], int] = {
    BadRequest: 400,
    TileRangeError: 400,
    UnknownColumnError: 400,
    NotFound: 404,
    UnknownEntityError: 404,
    MissingReferenceError: 409,  # the store lacks reference geography the answer needs
    StoreError: 503,
}


def register_error_handlers(app: Flask) -> None:
    """JSON errors for the API: {"error": message, "status": code}."""

    def handle(exc: Exception) -> ResponseReturnValue:
        for cls, status in STATUS_CODES.items():
            if isinstance(exc, cls):
                return jsonify(error=str(exc), status=status), status
        raise exc

    def handle_http(exc: HTTPException) -> ResponseReturnValue:
        return jsonify(error=exc.description, status=exc.code), exc.code or 500

    for cls in STATUS_CODES:
        app.register_error_handler(cls, handle)
    app.register_error_handler(HTTPException, handle_http)
