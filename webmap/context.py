"""The app's context (store, data paths, cache, geocoders), settings and the request's principal, for views.

The context and settings are built once by :func:`webmap.app.create_app`; the principal once
per request by :mod:`webmap.auth`.  A view asks for them here.
"""

from __future__ import annotations

from flask import current_app, g

from geo.accounts import Principal
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


def principal() -> Principal | None:
    """Who this request runs as: the signed-in user or the API token's principal (its role,
    permissions, region scope and layers); None for nobody, which only a route declared
    :data:`webmap.routes.PUBLIC` ever sees (every other route has refused it already)."""
    found: Principal | None = g.get("principal")
    return found
