"""GeoDataFrames -> GeoJSON dicts (WGS-84, RFC 7946)."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd


def feature_collection(frame: gpd.GeoDataFrame, *, columns: list[str] | None = None) -> dict[str, Any]:
    """A FeatureCollection of ``frame`` (only ``columns`` as properties, if given)."""
    if columns is not None:
        frame = frame[[*columns, frame.geometry.name]]
    text = frame.to_json(na="null", show_bbox=False, drop_id=True, to_wgs84=True)
    return json.loads(text)  # type: ignore[no-any-return]
