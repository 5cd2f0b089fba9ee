"""What a capability call may need, built once at start-up from the settings.

The web app (:func:`webmap.app.create_app`) and the command line (``webmap.cli.main``)
each build one :class:`Context` through :func:`webmap.settings.open_context`: the store,
the :class:`DataPaths`, one :class:`~geo.capabilities.cache.Cache` and the offline
geocoders, built on first use.  Capabilities take what they need from it as arguments;
none of them finds a data file or a cache by itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from geo.capabilities.cache import Cache
from geo.stores.protocol import Store

if TYPE_CHECKING:  # the capabilities are imported when first used: the CLI starts without them
    from geo.area_risk import AreaRiskConfig
    from geo.geocoder import Geocoder
    from geo.veto import RuleSet


@dataclass(frozen=True)
class DataPaths:
    """Where the app's data files are.  Built by :attr:`webmap.settings.Settings.paths` only.

    ``data_dir`` is always the project's ``data/`` folder (``RISKMAP_DATA_DIR``);
    ``reference_dir`` holds the vendored reference geography and the population raster
    (``data/reference``); ``rules_path`` the site-veto rule set
    (``data/rules/veto_rules.yaml``); ``area_config_path`` the area-risk parameters,
    weights and GB 18218 chemicals (``data/config/area_risk.yaml``); ``roles_path`` the roles
    and permissions (``data/roles.yaml``).
    """

    data_dir: Path
    reference_dir: Path
    rules_path: Path
    area_config_path: Path
    roles_path: Path


class Context:
    """The store, the data paths, the cache and the geocoders of one app or one command.

    One cache serves one store: its keys carry the store's data versions, not its name.
    """

    def __init__(self, store: Store, paths: DataPaths, cache: Cache) -> None:
        self.store = store
        self.paths = paths
        self.cache = cache
        self._geocoder: Geocoder | None = None
        self._geocoder_lock = threading.Lock()

    def rule_set(self) -> RuleSet:
        """The site-veto rule set at ``paths.rules_path``, parsed again only when the file changes.

        Raises FileNotFoundError or :class:`geo.veto.RuleSetError`.
        """
        from geo.capabilities.veto import read_rule_set

        return read_rule_set(self.paths.rules_path, cache=self.cache)

    def area_config(self) -> AreaRiskConfig:
        """The area-risk parameters at ``paths.area_config_path``, parsed again only when the file changes.

        Raises FileNotFoundError or :class:`geo.area_risk.AreaConfigError`.
        """
        from geo.capabilities.area_risk import load_config

        return load_config(self.paths.area_config_path, cache=self.cache)

    def geocoder(self) -> Geocoder:
        """The offline geocoder over the vendored reference files (``paths.reference_dir``),
        built on first use, once, whichever thread asks first (it takes about a second).

        Raises FileNotFoundError when the reference files are missing.
        """
        with self._geocoder_lock:
            if self._geocoder is None:
                from geo.capabilities.geocoding import load_geocoder

                self._geocoder = load_geocoder(self.paths.reference_dir)
            return self._geocoder

    def store_geocoder(self) -> Geocoder:
        """The offline geocoder over the store's areas, places and roads (and the vendored
        township centres), built again when one of those layers changes.

        Raises :class:`~geo.errors.Conflict` when the store holds no areas.
        """
        from geo.capabilities.geocoding import store_geocoder

        return store_geocoder(self.store, self.paths.reference_dir, cache=self.cache)

    def close(self) -> None:
        """Close the store."""
        self.store.close()
