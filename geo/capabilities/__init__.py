"""The capabilities, one module (or package) each: loading, area_risk, veto, incident
(the commander's nearest / incident / coverage), border, search, statistics, geocoding,
tiles and demo. Each reads through a :class:`geo.stores.protocol.Store`, calls the pure core
and returns plain results; the CLI (``webmap/cli``) and the web app (``webmap/api``,
``webmap/pages``) are thin entries over the same functions. A new capability goes here, its
rules in the core (``geo/<name>.py``), its entries in ``webmap/api/<name>.py`` and
``webmap/cli/<name>.py``."""
