"""The regional analyst's cross-border page (registered by webmap.app)."""

from __future__ import annotations

from flask import Blueprint

page_blueprint = Blueprint("pages_border", __name__, template_folder="templates")
