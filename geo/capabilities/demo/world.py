"""What one synthetic demo build draws with: the reference geography prepared for
placing points, the record counts, the one random generator, and the credit codes
issued so far.

The generators of each table (enterprises, hazardous-chemical sites, hidden hazards,
resources, lines) take a :class:`DemoWorld` and draw from its ``rng``;
:func:`geo.capabilities.demo.generators.generate_demo_files` calls them in a fixed
order, which is what makes a seed reproducible.  Points are WGS-84 (EPSG:4326).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from geo.capabilities.demo.calibration import DISTRICT_WEIGHTS_INDUSTRIAL, DISTRICT_WEIGHTS_OTHER, demo_counts
from geo.capabilities.demo.cells import ROADS, house_numbers
from geo.capabilities.demo.geography import DemoReference
from geo.capabilities.demo.sampling import F64, choice


class DemoWorld:
    """The state every table generator shares (no draw happens here on construction).

    ``counts``: records per kind at ``scale`` (:func:`demo_counts`);
    ``district_polygons`` / ``district_names``: Beijing districts by code;
    ``county_polygons`` / ``counties``: Tianjin and Hebei counties by code;
    ``beijing_anchors`` / ``jjj_anchors``: the real points records are placed near;
    ``taken_codes``: credit codes already issued in this build.
    Raises ValueError for scale ≤ 0.
    """

    def __init__(self, reference: DemoReference, scale: float, rng: np.random.Generator) -> None:
        self.ref = reference
        self.rng = rng
        self.counts = demo_counts(scale)
        self.district_polygons = dict(zip(reference.districts["area_code"], reference.districts.geometry, strict=True))
        self.district_names = dict(zip(reference.districts["area_code"], reference.districts["name"], strict=True))
        self.county_polygons = dict(zip(reference.counties["area_code"], reference.counties.geometry, strict=True))
        self.counties = reference.counties.set_index("area_code")
        self.township_tree = shapely.STRtree(reference.townships.geometry.to_numpy())
        self.taken_codes: set[str] = set()
        self.beijing_anchors = reference.anchors[reference.anchors["province_code"] == "110000"].reset_index(drop=True)
        self.jjj_anchors = reference.anchors[
            reference.anchors["province_code"].isin(["120000", "130000"])
            & reference.anchors["county_code"].isin(list(self.county_polygons))
        ].reset_index(drop=True)

    def anchors_of_types(self, types: list[str]) -> gpd.GeoDataFrame:
        """The Beijing anchors whose ``target_type`` is one of ``types``."""
        return self.beijing_anchors[self.beijing_anchors["target_type"].isin(types)]

    def names_of_districts(self, codes: NDArray[np.object_]) -> NDArray[np.object_]:
        """The Beijing district name of each code."""
        return np.asarray([self.district_names[d] for d in codes], dtype=object)

    def townships_of(self, lon: F64, lat: F64) -> NDArray[np.object_]:
        """The township (polygon) each point lies in; the nearest one for a point in none."""
        points = shapely.points(lon, lat)
        township_names = self.ref.townships["name"].to_numpy()
        names = np.full(len(lon), None, dtype=object)
        point_no, township_no = self.township_tree.query(points, predicate="within")
        point_no, first = np.unique(point_no, return_index=True)  # a point on a shared edge: the first
        names[point_no] = township_names[township_no[first]]
        missing = np.flatnonzero(names == None)  # noqa: E711 - elementwise on an object array
        if missing.size:
            nearest = self.township_tree.query_nearest(points[missing], all_matches=False)
            names[missing[nearest[0]]] = township_names[nearest[1]]
        return names

    def beijing_address(self, district: NDArray[np.object_], township: NDArray[np.object_]) -> NDArray[np.object_]:
        """北京市朝阳区望京街道建设路12号 (70 %), without 北京市 (25 %), without the township (5 %)."""
        n = len(district)
        roads = np.asarray(ROADS, dtype=object)[self.rng.integers(0, len(ROADS), n)]
        numbers = house_numbers(self.rng, n)
        style = self.rng.choice(3, size=n, p=[0.70, 0.25, 0.05])
        full = "北京市" + district + township + roads + numbers
        short = district + township + roads + numbers
        bare = "北京" + district + roads + numbers
        return np.where(style == 0, full, np.where(style == 1, short, bare))

    def district_draw(self, n: int, industrial: NDArray[np.bool_]) -> NDArray[np.object_]:
        """``n`` Beijing district codes, by the industrial or the other district weights."""
        codes = list(self.district_polygons)
        out = np.empty(n, dtype=object)
        for flag, weights in ((True, DISTRICT_WEIGHTS_INDUSTRIAL), (False, DISTRICT_WEIGHTS_OTHER)):
            idx = np.flatnonzero(industrial == flag)
            out[idx] = choice(self.rng, codes, [weights[c] for c in codes], idx.size)
        return out
