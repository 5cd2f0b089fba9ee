"""Every map layer declared once (``layers/catalog.py``): the map page, the layer API, the
feature queries and the tile queries are derived from it; it is validated against the store
at start-up."""
