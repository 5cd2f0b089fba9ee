"""The real reference geography the synthetic demo records are placed on.

The demo generators invent every record, but put it in real places: Beijing's
districts and townships, the 5th Ring zone, the Tianjin and Hebei counties near
Beijing, the province borders and OpenStreetMap protection-target points (the
anchors records are jittered around).  All WGS-84, EPSG:4326.

:func:`read_demo_reference` reads it from the vendored reference folder the caller
names; :func:`build_demo_reference` is the pure part, from the reference entity frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from geo.errors import BadInput, Conflict
from geo.files.reference import read_reference


@dataclass(frozen=True)
class DemoReference:
    """The reference geography the generator places things on (all WGS-84, EPSG:4326).

    ``districts``: Beijing's 16 districts (``area_code``, ``name``, geometry);
    ``townships``: Beijing townships/streets (``name``, ``parent_code``, geometry);
    ``counties``: Tianjin and Hebei counties (``area_code``, ``name``, ``province``,
    ``city``, geometry); ``fifth_ring``: the area inside the 5th Ring Road;
    ``beijing``: the Beijing polygon; ``borders``: the Beijing–Hebei and
    Beijing–Tianjin border lines (``line_code``, geometry); ``anchors``: real points
    (``target_type``, ``county_code``, ``province_code``, geometry) things are placed near.
    """

    districts: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    counties: gpd.GeoDataFrame
    fifth_ring: BaseGeometry
    beijing: BaseGeometry
    borders: gpd.GeoDataFrame
    anchors: gpd.GeoDataFrame


def read_demo_reference(reference_dir: Path) -> DemoReference:
    """The reference geography the generators need, read from ``reference_dir`` (the
    vendored reference folder, e.g. the settings' ``data/reference``).

    Raises FileNotFoundError when the reference files are missing there, and
    ValueError as :func:`build_demo_reference` does.
    """
    areas, lines, targets = (read_reference(kind, reference_dir) for kind in ("areas", "lines", "protection_targets"))
    return build_demo_reference(areas, lines, targets)


def build_demo_reference(
    areas: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, protection_targets: gpd.GeoDataFrame
) -> DemoReference:
    """A :class:`DemoReference` from the reference entity frames (``read_reference``).

    Raises ValueError when a frame is not EPSG:4326 or lacks the Beijing districts,
    the ``zone:5th-ring`` zone or the Beijing border lines.
    """
    for name, frame in (("areas", areas), ("lines", lines), ("protection_targets", protection_targets)):
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            raise BadInput(f"{name}: expected EPSG:4326, got {frame.crs}")
    codes = areas["area_code"].astype(str)
    districts = areas[(areas["area_type"] == "district") & codes.str.fullmatch(r"11\d{4}")]
    districts = districts[["area_code", "name", "geometry"]].sort_values("area_code").reset_index(drop=True)
    townships = areas[areas["area_type"] == "township"][["area_code", "name", "parent_code", "geometry"]]
    townships = townships.sort_values("area_code").reset_index(drop=True)
    names = dict(zip(codes, areas["name"], strict=True))
    counties = areas[(areas["area_type"] == "district") & codes.str.fullmatch(r"1[23]\d{4}")].copy()
    counties["province"] = [names[c[:2] + "0000"] for c in counties["area_code"]]
    counties["city"] = [names.get(c[:4] + "00", names[c[:2] + "0000"]) for c in counties["area_code"]]
    counties = counties[["area_code", "name", "province", "city", "geometry"]]
    counties = counties.sort_values("area_code").reset_index(drop=True)
    ring = areas[areas["area_code"] == "zone:5th-ring"]
    beijing = areas[areas["area_code"] == "110000"]
    borders = lines[lines["line_code"].isin(["border:110000-120000", "border:110000-130000"])]
    if len(districts) != 16 or ring.empty or beijing.empty or len(borders) != 2:
        raise Conflict("reference geography lacks the Beijing districts, zone:5th-ring or the Beijing borders")
    anchors = protection_targets[["target_type", "county_code", "province_code", "geometry"]]
    anchors = anchors[anchors["county_code"].notna()].reset_index(drop=True)
    return DemoReference(
        districts=districts,
        townships=townships,
        counties=counties,
        fifth_ring=ring.geometry.iloc[0],
        beijing=beijing.geometry.iloc[0],
        borders=borders[["line_code", "geometry"]].sort_values("line_code").reset_index(drop=True),
        anchors=anchors,
    )
