"""API endpoints for areas (registered under /api/v1 by webmap.app)."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api_areas", __name__)
