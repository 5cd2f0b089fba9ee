"""The app's context (store, data paths, cache, geocoders) and settings, for views.

Both are built once by :func:`webmap.app.create_app`; a view asks for them here.
"""

from __future__ import annotations

from flask import current_app

from geo.capabilities.cache import Cache
from geo.capabilities.context import Context
from geo.stores.protocol import Store
from webmap.settings import Settings


def current() -> Context:
    """The app's :class:`geo.capabilities.context.Context`."""
    ctx: Context = current_app.extensions["riskmap.context"]
    return ctx


def store() -> Store:
    return current().store


def cache() -> Cache:
    return current().cache


def settings() -> Settings:
    settings: Settings = current_app.extensions["riskmap.settings"]
    return settings
