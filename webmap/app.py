"""The Flask application factory: nothing is built at import time."""

from __future__ import annotations

from flask import Flask

from geo.stores.protocol import Store
from layers.catalog import CATALOG, validate_catalog
from webmap import access_log, auth, security
from webmap.api import areas as api_areas
from webmap.api import audit_log as api_audit_log
from webmap.api import border as api_border
from webmap.api import docs as api_docs
from webmap.api import incident as api_incident
from webmap.api import search as api_search
from webmap.api import statistics as api_statistics
from webmap.api import veto as api_veto
from webmap.api.layers import api
from webmap.api.tiles import tiles
from webmap.errors import register_error_handlers
from webmap.json_provider import FastJSONProvider
from webmap.pages import border as pages_border
from webmap.pages import login as pages_login
from webmap.pages import veto as pages_veto
from webmap.pages.map import pages
from webmap.routes import check_declarations, validate_request
from webmap.settings import Settings, load_settings, open_context


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> Flask:
    """Build the app for ``settings`` (default: from the environment) on ``store`` (default:
    the configured store, opened and upgraded).

    Builds the one context every view uses (:func:`webmap.settings.open_context`) and
    validates the layer catalog against the store; a missing table or column raises
    :class:`layers.catalog.CatalogError` here, at start-up, not at the first click. Every
    route must declare its permission and parameters (:mod:`webmap.routes`), else
    :class:`geo.errors.Unavailable` here too.  Before every request :mod:`webmap.auth` finds
    who is calling and checks the route's permission (then the parameters are parsed); after
    it :mod:`webmap.security` adds the security headers.  The session key comes from the
    settings (:func:`webmap.settings.session_secret`: a key file that cannot be written is a
    :class:`webmap.settings.SettingsError` here).
    """
    settings = settings or load_settings()
    log_sink = access_log.AccessLogSink(settings.access_log)  # a bad RISKMAP_ACCESS_LOG fails first
    ctx = open_context(settings, store=store)
    store = ctx.store
    validate_catalog(store=store)
    for layer in CATALOG:  # counted now, not by the first low-zoom tile
        spec = layer.cluster_spec(0)
        if spec is not None:
            store.keep_clusters(layer.entity, spec, where=layer.where)
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    app.extensions["riskmap.settings"] = settings
    app.extensions["riskmap.context"] = ctx
    register_error_handlers(app)
    access_log.install(app, log_sink)
    app.register_blueprint(pages_login.blueprint)
    app.register_blueprint(pages)
    app.register_blueprint(pages_veto.page_blueprint)
    app.register_blueprint(pages_border.page_blueprint)
    app.register_blueprint(api, url_prefix="/api/v1")
    for capability in (api_incident, api_search, api_statistics, api_areas, api_veto, api_border, api_audit_log):
        app.register_blueprint(capability.blueprint, url_prefix="/api/v1")
    app.register_blueprint(tiles, url_prefix="/tiles")
    app.register_blueprint(api_docs.blueprint)  # /api/v1/openapi.json and /api/docs
    check_declarations(app)  # a route that does not say who may use it stops the start
    auth.init_app(app)  # who is calling and may they: before the parameters are read
    app.before_request(validate_request)
    security.init_app(app, settings)
    return app
