"""The planner's site-veto page (registered by webmap.app)."""

from __future__ import annotations

from flask import Blueprint

page_blueprint = Blueprint("pages_veto", __name__, template_folder="templates")
