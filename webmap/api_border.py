"""API endpoints for the Jing-Jin-Ji cross-border analysis (registered under /api/v1 by webmap.app)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api_border", __name__)
