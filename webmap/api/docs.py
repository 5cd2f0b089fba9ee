"""The API's own description (registered by webmap.app, without a prefix):

* ``GET /api/v1/openapi.json`` — the OpenAPI 3.0.3 document (:mod:`webmap.openapi`), generated from
  the app's URL map and the route declarations once, at the first request, when Flask's URL map is
  final (Flask refuses new routes after it), so no route registered later is ever missing;
* ``GET /api/docs`` — that document rendered by Swagger UI, served from ``static/vendor`` (no CDN);
  the page's script is a static file (``js/api_docs.js``), so a Content-Security-Policy without
  inline scripts holds.

Both are public: they describe the routes, not the data.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue

from webmap.i18n import page_strings
from webmap.openapi import openapi_document
from webmap.pages.base import page_language
from webmap.routes import PAGE_LANG, PUBLIC, declare

blueprint = Blueprint("api_docs", __name__)


def app_document(app: Flask) -> dict[str, Any]:
    """``app``'s OpenAPI document, generated once (kept in ``app.extensions``)."""
    document: dict[str, Any] | None = app.extensions.get("riskmap.openapi")
    if document is None:
        document = app.extensions["riskmap.openapi"] = openapi_document(app)
    return document


@blueprint.get("/api/v1/openapi.json")
@declare(PUBLIC, "This API as an OpenAPI 3.0.3 document, generated from the route declarations",
         tags=("system",))
def openapi_json() -> ResponseReturnValue:
    return jsonify(app_document(current_app))


@blueprint.get("/api/docs")
@declare(PUBLIC, "The API's documentation page (接口文档): the OpenAPI document in Swagger UI", PAGE_LANG,
         produces="text/html", tags=("pages",))
def docs_page() -> ResponseReturnValue:
    lang = page_language()
    return render_template("api_docs.html", lang=lang, t=page_strings("docs", lang),
                           spec_url=url_for("api_docs.openapi_json"))
