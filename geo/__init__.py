"""The pure core: coordinates and datums, true distances, entities, tiles, geocoding, ETL
parsing, validation, area-risk, veto, border and major-hazard rules, heat-map and grid maths.

Takes and returns GeoDataFrames, shapely geometries and numpy arrays; no files, no database,
no HTTP. Its sub-packages ``stores``, ``files`` and ``capabilities`` are the rooms that touch
the outside (README, "Architecture"); the core never imports them.
"""
