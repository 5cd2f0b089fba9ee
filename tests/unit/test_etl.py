"""The pure loader core: raw text cells → validated entity rows and bilingual issues.

Also the pure parts around it: jurisdiction codes (geo.jurisdiction) and the CSV
encoding detection of geo.files.readers (bytes in, text out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from geo import coords
from geo.distance import geodesic_m
from geo.etl.attributes import DEFAULT_SITE_CODE, DERIVED_SOURCE_CODE_PREFIX
from geo.etl.headers import HeaderError, match_headers
from geo.etl.issues import Issue
from geo.etl.placement import PRECISION_FROM_FILE
from geo.etl.table import EtlResult, validate_table
from geo.etl.values import make_credit_code
from geo.files.readers import ReadError, decode_text
from geo.files.reference import read_reference
from geo.jurisdiction import JurisdictionIndex, assign_jurisdiction, build_jurisdiction_index
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

TIANANMEN = (116.3975, 39.9087)  # 东城区
HAIDIAN = (116.2983, 39.9593)  # 海淀区
CHAOYANG = (116.4430, 39.9219)  # 朝阳区


def code(n: int, county: str = "110105") -> str:
    """A valid credit code for unit ``n``."""
    return make_credit_code(f"91{county}{n:09d}")


@pytest.fixture(scope="module")
def index() -> JurisdictionIndex:
    return build_jurisdiction_index(read_reference("areas", REFERENCE_DIR))


@dataclass
class FakeResult:
    lon: float | None
    lat: float | None
    precision: str
    confidence: float


class FakeGeocoder:
    """Places addresses from a dict; anything else is precision "none"."""

    def __init__(self, places: dict[str, tuple[float, float, str]]) -> None:
        self.places = places
        self.calls: list[list[str]] = []

    def geocode_many(self, addresses: Sequence[str]) -> list[FakeResult]:
        self.calls.append(list(addresses))
        out = []
        for a in addresses:
            if a in self.places:
                x, y, p = self.places[a]
                out.append(FakeResult(x, y, p, 0.9))
            else:
                out.append(FakeResult(None, None, "none", 0.0))
        return out


def run(kind: str, records: list[dict[str, Any]], index: JurisdictionIndex | None = None, **kw: Any) -> EtlResult:
    """Validate ``records`` (header → cell text) as a file whose first record is row 2."""
    headers = list(dict.fromkeys(h for r in records for h in r))
    cells = pd.DataFrame([[r.get(h) for h in headers] for r in records], columns=headers, dtype=object)
    match = match_headers(headers, kind, kw.pop("mapping", None))
    return validate_table(kind, cells, np.arange(2, 2 + len(records)), match, jurisdiction=index, **kw)


def unit(n: int, lon: float | str | None = TIANANMEN[0], lat: float | str | None = TIANANMEN[1],
         **extra: Any) -> dict[str, Any]:
    row = {"单位名称": f"单位{n}", "统一社会信用代码": code(n), "经度": lon, "纬度": lat}
    row.update(extra)
    return {k: None if v is None else str(v) for k, v in row.items()}


def rejects(result: EtlResult, row: int | None = None) -> list[Issue]:
    return [i for i in result.issues if i.severity == "reject" and (row is None or i.row == row)]


def warnings(result: EtlResult, row: int | None = None) -> list[Issue]:
    return [i for i in result.issues if i.severity == "warning" and (row is None or i.row == row)]


# ----------------------------------------------------------------------------- basics


def test_clean_rows_become_features_with_keys_codes_and_precision(index: JurisdictionIndex) -> None:
    result = run("units", [unit(1), unit(2, *HAIDIAN, 所属区="海淀区", 合成数据="是")], index)
    assert result.rejected == 0 and result.warned == 0
    f = result.features
    assert list(f["key"]) == [code(1), code(2)]
    assert f.crs == "EPSG:4326"
    assert list(f["county_code"]) == ["110101", "110108"]
    assert list(f["city_code"]) == ["110100", "110100"]
    assert list(f["province_code"]) == ["110000", "110000"]
    assert list(f["geocode_precision"]) == [PRECISION_FROM_FILE] * 2
    assert list(f["synthetic"]) == [False, True]
    assert f["district"].tolist() == ["东城区", "海淀区"]  # an empty district is filled from the point
    assert list(result.rows) == [2, 3]


def test_missing_required_columns_are_named(index: JurisdictionIndex) -> None:
    with pytest.raises(HeaderError, match="统一社会信用代码 \\(credit_code\\)"):
        run("units", [{"单位名称": "甲", "经度": "116.4", "纬度": "39.9"}], index)
    with pytest.raises(HeaderError, match="no coordinates"):
        run("units", [{"单位名称": "甲", "统一社会信用代码": code(1)}], index)
    with pytest.raises(HeaderError, match="no geometry"):
        run("lines", [{"线路编码": "L1", "线路类型": "输油管道"}], index)


def test_mapping_covers_unusual_headers(index: JurisdictionIndex) -> None:
    records = [{"企业": "甲", "代码": code(1), "东经度数": "116.3975", "北纬度数": "39.9087"}]
    result = run("units", records, index,
                 mapping={"代码": "credit_code", "东经度数": "lon", "北纬度数": "lat"})
    assert result.rejected == 0
    assert result.features["name"].tolist() == ["甲"]


# ------------------------------------------------------------------------ rejections


def test_each_cell_rejection_reason(index: JurisdictionIndex) -> None:
    bad_check = code(3)[:-1] + ("0" if code(3)[-1] != "0" else "1")
    records = [
        unit(1),
        unit(2, 单位名称=""),  # required field empty
        unit(3, 统一社会信用代码=bad_check),  # check character
        unit(4, 统一社会信用代码="9111010512345"),  # length
        unit(5, lon="东经一百一十六"),  # not a coordinate
        unit(6, lon="116.4", lat=""),  # only one coordinate
        unit(7, lon="100.0", lat="30.0"),  # outside the Jing-Jin-Ji box
        unit(8, lon="113.5", lat="40.5"),  # in the box, but in Shanxi
        unit(9, 安责险="也许"),  # not a yes/no
    ]
    result = run("units", records, index)
    assert result.features["key"].tolist() == [code(1)]
    assert result.rejected == 8
    reasons = {i.row: (i.column, i.reason, i.reason_zh) for i in rejects(result)}
    assert reasons[3][0] == "name" and "必填" in reasons[3][2]
    assert reasons[4][0] == "credit_code" and "check character" in reasons[4][1] and "校验码" in reasons[4][2]
    assert "18 characters" in reasons[5][1]
    assert reasons[6][0] == "lon" and "coordinate" in reasons[6][1]
    assert "only one" in reasons[7][1]
    assert "Jing-Jin-Ji" in reasons[8][1] and "京津冀" in reasons[8][2]
    assert "Beijing, Tianjin and Hebei" in reasons[9][1]
    assert reasons[10][0] == "insured"
    for issue in rejects(result):
        assert issue.reason and issue.reason_zh and issue.row is not None


def test_enumerations_dates_and_numbers(index: JurisdictionIndex) -> None:
    base = {"编号": "H1", "经度": str(TIANANMEN[0]), "纬度": str(TIANANMEN[1])}
    records = [
        base | {"编号": "H1", "隐患级别": "重大隐患", "发现日期": "2018年3月5日", "整改完成日期": "2018/4/1"},
        base | {"编号": "H2", "隐患级别": "很严重"},  # closed vocabulary
        base | {"编号": "H3", "发现日期": "2018-02-30"},  # no such date
        base | {"编号": "H4", "发现日期": "2018-05-01", "整改完成日期": "2018-04-01"},  # warning only
        base | {"编号": "H5", "状态": "整改中"},
    ]
    result = run("hidden_hazards", records, index)
    f = result.features.set_index("hazard_code")
    assert list(f.index) == ["H1", "H4", "H5"]
    assert f.loc["H1", "severity"] == "major"
    assert f.loc["H1", "found_date"] == "2018-03-05"
    assert f.loc["H1", "status"] == "closed"  # derived from the rectification date
    assert f.loc["H5", "status"] == "open"
    assert {i.row for i in rejects(result)} == {3, 4}
    assert [i.column for i in warnings(result, 5)] == ["rectified_date"]


def test_open_vocabulary_keeps_unknown_category_with_warning(index: JurisdictionIndex) -> None:
    records = [
        {"资源编码": "R1", "名称": "队", "资源类型": "救援队伍", "人数": "30", "经度": "116.4", "纬度": "39.9"},
        {"资源编码": "R2", "名称": "站", "资源类型": "police_station", "人数": "-", "经度": "116.4", "纬度": "39.9"},
        {"资源编码": "R3", "名称": "库", "资源类型": "无人机基地", "经度": "116.4", "纬度": "39.9"},
        {"资源编码": "R4", "名称": "库", "资源类型": "物资库", "人数": "-5", "经度": "116.4", "纬度": "39.9"},
    ]
    result = run("resources", records, index)
    f = result.features.set_index("resource_code")
    assert f["resource_type"].to_dict() == {"R1": "team", "R2": "police_station", "R3": "无人机基地"}
    assert f.loc["R1", "capacity"] == 30 and pd.isna(f.loc["R2", "capacity"])
    assert [i.column for i in warnings(result)] == ["resource_type"]
    assert [(i.row, i.column) for i in rejects(result)] == [(5, "capacity")]


def test_levels_accept_every_form_and_derive_from_ls(index: JurisdictionIndex) -> None:
    def source(n: int, **cells: str) -> dict[str, Any]:
        return {"统一社会信用代码": code(1), "风险源编码": f"S{n}", "风险源名称": f"源{n}", "经度": "116.4",
                "纬度": "39.9"} | cells

    records = [
        source(1, 风险等级="重大", 可能性="", 严重性=""),
        source(2, 风险等级="橙", 可能性="", 严重性=""),
        source(3, 风险等级="yellow", 可能性="", 严重性=""),
        source(4, 风险等级="4", 可能性="", 严重性=""),
        source(5, 风险等级="", 可能性="5", 严重性="4"),  # R = 20 → red
        source(6, 风险等级="低", 可能性="5", 严重性="5"),  # disagrees with L × S: warned, stated kept
        source(7, 风险等级="", 可能性="", 严重性=""),  # no level at all
        source(8, 风险等级="极高", 可能性="", 严重性=""),
        source(9, 风险等级="", 可能性="6", 严重性="1"),
    ]
    result = run("risk_sources", records, index)
    f = result.features.set_index("source_code")
    assert f["level"].to_dict() == {"S1": "red", "S2": "orange", "S3": "yellow", "S4": "blue", "S5": "red",
                                    "S6": "blue"}
    assert [(i.row, i.column) for i in warnings(result)] == [(7, "level")]
    assert {i.row for i in rejects(result)} == {8, 9, 10}
    assert any("L × S" in i.reason or "likelihood" in i.reason for i in rejects(result, 10))


def test_natural_key_defaults(index: JurisdictionIndex) -> None:
    sources = run("risk_sources", [{"统一社会信用代码": code(1), "风险源名称": "液氨储罐", "风险等级": "红",
                                    "经度": "116.4", "纬度": "39.9"}], index)
    assert sources.features["source_code"].tolist() == [f"{DERIVED_SOURCE_CODE_PREFIX}液氨储罐"]
    assert sources.features["key"].tolist() == [f"{code(1)}|N:液氨储罐"]
    sites = run("hazchem_sites", [{"统一社会信用代码": code(2), "单位名称": "甲", "经度": "116.4", "纬度": "39.9"}],
                index)
    assert sites.features["key"].tolist() == [f"{code(2)}|{DEFAULT_SITE_CODE}"]


def test_duplicate_keys_keep_the_first_valid_row(index: JurisdictionIndex) -> None:
    records = [unit(1), unit(2), unit(1, 单位名称="重复"), unit(3, lon="abc"), unit(3), unit(3, 单位名称="又重复")]
    result = run("units", records, index)
    assert result.features["name"].tolist() == ["单位1", "单位2", "单位3"]
    dupes = {i.row: i for i in rejects(result) if i.column == "key"}
    assert set(dupes) == {4, 7}
    assert dupes[4].reason == "duplicate key, first at row 2" and "第2行" in dupes[4].reason_zh
    assert dupes[7].reason == "duplicate key, first at row 6"  # row 5 was rejected, row 6 kept


# ------------------------------------------------------------------------ coordinates


def test_swapped_coordinates_are_fixed_and_warned(index: JurisdictionIndex) -> None:
    result = run("units", [unit(1, lon=TIANANMEN[1], lat=TIANANMEN[0])], index)
    assert result.rejected == 0 and result.warned == 1
    point = result.features.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx(TIANANMEN)
    assert "swapped" in warnings(result)[0].reason


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_datums_convert_to_wgs84_within_5_cm(index: JurisdictionIndex, datum: str) -> None:
    truth = np.array([TIANANMEN, HAIDIAN, CHAOYANG])
    shifted = np.column_stack(coords.convert(truth[:, 0], truth[:, 1], src="wgs84", dst=datum))
    records = [unit(i, repr(float(x)), repr(float(y))) for i, (x, y) in enumerate(shifted)]
    by_option = run("units", records, index, datum=datum)
    by_column = run("units", [r | {"坐标系": {"gcj02": "高德", "bd09": "百度坐标"}[datum]} for r in records], index)
    for result in (by_option, by_column):
        pts = result.features.geometry
        assert np.all(geodesic_m(pts.x.to_numpy(), pts.y.to_numpy(), truth[:, 0], truth[:, 1]) < 0.05)
    assert by_option.datum_used == datum


def test_row_datum_overrides_file_datum_and_unknown_datum_rejects(index: JurisdictionIndex) -> None:
    gx, gy = coords.convert(*TIANANMEN, src="wgs84", dst="gcj02")
    records = [unit(1, repr(float(gx)), repr(float(gy)), 坐标系="GCJ-02"), unit(2, *TIANANMEN, 坐标系="WGS84"),
               unit(3, *TIANANMEN, 坐标系="北京54")]
    result = run("units", records, index, datum="bd09")
    assert len(result.features) == 2
    for p in result.features.geometry:
        assert geodesic_m(p.x, p.y, *TIANANMEN) < 0.05
    assert [i.column for i in rejects(result)] == ["datum"]


def test_stated_district_mismatch_is_a_warning(index: JurisdictionIndex) -> None:
    records = [unit(1, *HAIDIAN, 所属区="海淀区"), unit(2, *HAIDIAN, 所属区="朝阳"), unit(3, *HAIDIAN, 所属区="火星区")]
    result = run("units", records, index)
    assert result.rejected == 0
    assert [(i.row, i.column) for i in warnings(result)] == [(3, "district"), (4, "district")]
    assert "海淀区" in (warnings(result, 3)[0].value or "")
    assert result.features["district"].tolist() == ["海淀区", "朝阳", "火星区"]  # stated text kept


def test_the_stated_district_gives_the_codes_else_the_point(index: JurisdictionIndex) -> None:
    """Region scope follows the bureau's own district attribute (one county-level district it
    names), the point's district where the row names none, an unknown one or the 开发区."""
    records = [unit(1, *HAIDIAN, 所属区="朝阳"), unit(2, *HAIDIAN, 所属区="三河市"), unit(3, *HAIDIAN),
               unit(4, *HAIDIAN, 所属区="火星区"), unit(5, *HAIDIAN, 所属区="110105"),
               unit(6, *HAIDIAN, 所属区="经开区")]
    f = run("units", records, index).features
    assert f["county_code"].tolist() == ["110105", "131082", "110108", "110108", "110105", "110108"]
    assert f["city_code"].tolist() == ["110100", "131000", "110100", "110100", "110100", "110100"]
    assert f["province_code"].tolist() == ["110000", "130000", "110000", "110000", "110000", "110000"]


def test_etda_counts_for_daxing_points_inside_it(index: JurisdictionIndex) -> None:
    yizhuang = (116.506, 39.795)  # 亦庄, inside the approximate ETDA polygon and 大兴区
    result = run("units", [unit(1, *yizhuang, 所属区="经开区"), unit(2, *yizhuang, 所属区="大兴区")], index)
    assert warnings(result) == []
    assert result.features["county_code"].tolist() == ["110115", "110115"]


def test_undeclared_gcj02_near_district_borders_is_reported(index: JurisdictionIndex) -> None:
    # WGS-84 points within ~400 m of a Beijing district border, written in GCJ-02 and stated
    # with their true district: read as WGS-84, many land in the neighbour district.
    rng = np.random.default_rng(3)
    areas = read_reference("areas", REFERENCE_DIR)
    districts = areas[(areas.area_type == "district") & areas.area_code.str.fullmatch(r"11\d{4}")]
    boundary = shapely.union_all(districts.boundary.to_numpy())
    lon = 116.2 + rng.random(20000) * 0.5
    lat = 39.75 + rng.random(20000) * 0.35
    near = shapely.dwithin(boundary, shapely.points(lon, lat), 0.004)
    lon, lat = lon[near][:300], lat[near][:300]
    placed = assign_jurisdiction(index, shapely.points(lon, lat))
    glon, glat = coords.convert(lon, lat, src="wgs84", dst="gcj02")
    records = [unit(i, repr(float(x)), repr(float(y)), 所属区=d) for i, (x, y, d) in
               enumerate(zip(glon, glat, placed.district_name, strict=True))]
    result = run("units", records, index)
    assert result.datum_guess is not None and result.datum_guess.best == "gcj02"
    file_level = [i for i in result.issues if i.row is None and i.column == "datum"]
    assert file_level and "--datum gcj02" in file_level[0].reason
    assert result.datum_used == "wgs84"  # nothing converted on a guess


# -------------------------------------------------------------------------- geocoding


def test_rows_without_coordinates_are_geocoded(index: JurisdictionIndex) -> None:
    geocoder = FakeGeocoder({
        "朝阳区建国路1号": (*CHAOYANG, "poi"),
        "海淀区": (*HAIDIAN, "district"),
    })
    records = [
        {"单位名称": "甲", "统一社会信用代码": code(1), "地址": "朝阳区建国路1号"},
        {"单位名称": "乙", "统一社会信用代码": code(2), "地址": "", "所属区": "海淀区"},
        {"单位名称": "丙", "统一社会信用代码": code(3), "地址": "不存在的地方"},
        {"单位名称": "丁", "统一社会信用代码": code(4)},
        {"单位名称": "戊", "统一社会信用代码": code(5), "地址": "朝阳区建国路1号"},
    ]
    result = run("units", records, index, geocoder=geocoder)
    f = result.features.set_index("name")
    assert list(f.index) == ["甲", "乙", "戊"]
    assert f["geocode_precision"].to_dict() == {"甲": "poi", "乙": "district", "戊": "poi"}
    assert f.loc["甲", "county_code"] == "110105"
    assert result.geocoded == 3
    assert geocoder.calls == [["朝阳区建国路1号", "海淀区", "不存在的地方"]]  # distinct addresses once
    reasons = {i.row: i.reason for i in rejects(result)}
    assert "could not be located" in reasons[4]
    assert "no address" in reasons[5]
    assert [i.row for i in warnings(result)] == [3]  # district-level point is approximate


def test_without_geocoder_address_rows_are_rejected(index: JurisdictionIndex) -> None:
    result = run("units", [{"单位名称": "甲", "统一社会信用代码": code(1), "地址": "朝阳区建国路1号"}], index)
    assert result.features.empty
    assert "no geocoder" in rejects(result)[0].reason


# ------------------------------------------------------------------------------ shapes


def test_lines_areas_and_parcels_from_wkt(index: JurisdictionIndex) -> None:
    lines = run("lines", [
        {"线路编码": "L1", "线路类型": "输油管道", "wkt": "LINESTRING (116.3 39.9, 116.5 39.95)"},
        {"线路编码": "L2", "线路类型": "输油管道", "wkt": "POINT (116.3 39.9)"},
        {"线路编码": "L3", "线路类型": "输油管道", "wkt": "LINESTRING (116.3 39.9"},
        {"线路编码": "L4", "线路类型": "输油管道", "wkt": "LINESTRING (39.9 116.3, 39.95 116.5)"},
    ], index)
    assert lines.features["line_code"].tolist() == ["L1", "L4"]
    assert lines.features["line_type"].tolist() == ["oil_pipeline"] * 2
    assert lines.features.geometry.iloc[1].coords[0] == (116.3, 39.9)
    assert {i.row for i in rejects(lines)} == {3, 4}
    bowtie = "POLYGON ((116.3 39.9, 116.4 40.0, 116.4 39.9, 116.3 40.0, 116.3 39.9))"
    areas = run("areas", [{"区域代码": "Z1", "名称": "园区", "区域类型": "园区", "wkt": bowtie}], index)
    assert areas.features["area_type"].tolist() == ["zone"]
    assert areas.features.geometry.iloc[0].is_valid
    assert "repaired" in warnings(areas)[0].reason
    triangle = "POLYGON ((116.3 39.9, 116.31 39.9, 116.31 39.91, 116.3 39.9))"
    parcels = run("parcels", [{"地块编号": "P1", "wkt": triangle}, {"地块编号": "P2", "经度": "116.3", "纬度": "39.9"}],
                  index)
    assert parcels.features.geometry.geom_type.tolist() == ["Polygon", "Point"]


def test_file_geometries_in_a_projected_crs_are_reprojected(index: JurisdictionIndex) -> None:
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True).transform(*TIANANMEN)
    cells = pd.DataFrame({"目标编码": ["T1"], "目标类型": ["学校"]}, dtype=object)
    match = match_headers(list(cells.columns), "protection_targets")
    result = validate_table("protection_targets", cells, [1], match, geometry=[shapely.Point(x, y)],
                            geometry_crs="EPSG:4548", jurisdiction=index)
    p = result.features.geometry.iloc[0]
    assert geodesic_m(p.x, p.y, *TIANANMEN) < 0.01


def test_without_reference_no_codes_but_box_still_checked() -> None:
    result = run("units", [unit(1), unit(2, lon="100", lat="30")])
    assert result.features["county_code"].tolist() == [None]
    assert result.rejected == 1


# ----------------------------------------------------------------------------- readers


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("gbk", "gbk"), ("gb18030", "gb18030"),
])
def test_csv_encodings_are_detected_by_strict_decoding(encoding: str, expected: str) -> None:
    text = "单位名称,地址\n北京燕山石化,房山区燕山岗南路1号\n"
    if encoding == "gb18030":
        text += "䶮,𠀀\n"  # outside GBK
    data = text.encode(encoding)
    decoded, found = decode_text(data)
    assert found == expected
    assert decoded.lstrip("\ufeff") == text


def test_excel_unicode_text_is_utf16() -> None:
    text = "单位名称\t地址\n燕山石化\t房山区\n"
    assert decode_text(text.encode("utf-16")) == (text, "utf-16")


def test_undecodable_bytes_are_refused_not_replaced() -> None:
    with pytest.raises(ReadError, match="cannot decode"):
        decode_text(b"name,addr\n\xe5\x8c\x97,\xff\n")
