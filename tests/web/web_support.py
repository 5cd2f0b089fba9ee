"""Names shared by the web tests' fixtures and modules (imported as ``web_support``, as the
browser tests import ``browser_support``)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from geo.stores.protocol import Store
from webmap.settings import Settings

#: Every web test runs on each store kind.
STORE_KINDS = ("postgis", "geopackage")

#: ``open_web_store(kind, folder[, template=database])`` (a fixture of tests/web/conftest.py):
#: a fresh, initialised store and the settings naming it, closed after the ``with`` block.
OpenWebStore = Callable[..., AbstractContextManager[tuple[Store, Settings]]]
#: ``open_loaded_store(kind, folder, load)`` (a fixture of tests/web/conftest.py): as
#: ``open_web_store``, holding what ``load(store)`` writes (on PostGIS a copy of a template).
OpenLoadedStore = Callable[..., AbstractContextManager[tuple[Store, Settings]]]
