"""The app's store and settings, for views."""

from __future__ import annotations

from flask import current_app

from geo.stores.protocol import Store
from webmap.settings import Settings


def store() -> Store:
    return current_app.extensions["riskmap.store"]  # type: ignore[no-any-return]


def settings() -> Settings:
    return current_app.extensions["riskmap.settings"]  # type: ignore[no-any-return]
