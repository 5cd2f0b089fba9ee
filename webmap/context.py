"""The app's context (store, data paths, cache, geocoders), settings, the request's principal
and its region scope, for views.

The context and settings are built once by :func:`webmap.app.create_app`; the principal once
per request by :mod:`webmap.auth`.  A view asks for them here.
"""

from __future__ import annotations

from functools import lru_cache

from flask import current_app, g

from geo.accounts import Principal
from geo.capabilities.cache import Cache
from geo.capabilities.context import Context
from geo.scope import LayerRows, Scope, scope_of
from geo.stores.protocol import Store
from layers.catalog import CATALOG
from webmap.settings import Settings

#: The catalog's layers as the region scope sees them (id, entity, filter).
SCOPE_LAYERS: tuple[LayerRows, ...] = tuple(LayerRows(layer.id, layer.entity, layer.where) for layer in CATALOG)


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


def scope() -> Scope | None:
    """The region scope of the request's principal (:func:`geo.scope.scope_of` over the
    catalog), or None when every row may be returned."""
    who = principal()
    if who is None or not who.scope:
        return None
    return _scope_of(who.scope, who.scoped_layers, who.visible_layers)


@lru_cache(maxsize=256)
def _scope_of(codes: tuple[str, ...], scoped: frozenset[str], visible: frozenset[str]) -> Scope | None:
    """The scope of a principal with these codes and layers (built once per combination:
    every request of a scoped user asks for it)."""
    who = Principal("", "", "", frozenset(), codes, visible, scoped)
    return scope_of(who, SCOPE_LAYERS)
