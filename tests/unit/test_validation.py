"""Unit tests for geo.etl.values and geo.etl.headers: credit codes, levels, dates, booleans, datums,
coordinates and header matching."""

from __future__ import annotations

import math
import pickle
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from geo.entities import ENTITIES, LEVEL_CODES, UnknownEntityError
from geo.etl.headers import HEADER_ALIASES, header_aliases, input_columns, match_headers, normalise_header
from geo.etl.values import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_WEIGHTS,
    EXCEL_SERIAL_RANGE,
    LS_LEVEL_THRESHOLDS,
    ValidationError,
    credit_code_check_digit,
    is_missing,
    is_valid_credit_code,
    level_from_ls,
    make_credit_code,
    normalise_credit_code,
    normalise_datum,
    normalise_level,
    parse_bool,
    parse_coordinate,
    parse_date,
)

pytestmark = pytest.mark.unit

# Published unified social credit codes of well-known companies (from their business
# licences / annual reports), kept only because each validates by GB 32100-2015 here.
REAL_CREDIT_CODES = (
    "91110000802100433B",  # 北京百度网讯科技有限公司 (Beijing)
    "91110108551385082Q",  # 小米科技有限责任公司 (Haidian, Beijing)
    "91110000710925462X",  # 中国石油天然气股份有限公司 (Beijing)
    "91110000710926094P",  # 中国石油化工股份有限公司 (Beijing)
    "914403001922038216",  # 华为技术有限公司 (check character 6, a digit)
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
    "91520000214434146R",  # 贵州茅台酒股份有限公司
)


def reason_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return excinfo.value.reason


# ----------------------------------------------------------------------- ValidationError


def test_validation_error_carries_value_reasons_and_column():
    error = ValidationError("x", "bad thing", "坏", column=None)
    assert (error.value, error.reason, error.reason_zh, error.column) == ("x", "bad thing", "坏", None)
    named = error.with_column("level")
    assert named.column == "level" and named.value == "x" and named.reason == "bad thing"
    assert str(named) == "level: 'x': bad thing (坏)"
    assert isinstance(error, ValueError)


def test_validation_error_pickles_with_its_column():
    error = pickle.loads(pickle.dumps(ValidationError("x", "bad", "坏").with_column("lat")))
    assert (error.value, error.reason, error.reason_zh, error.column) == ("x", "bad", "坏", "lat")


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", "nan", "NaN", "NaT", "None", "-", "—", "/", float("nan"), np.nan, pd.NaT, pd.NA, "　"],
)
def test_is_missing_true(value):
    assert is_missing(value)


@pytest.mark.parametrize("value", [0, 0.0, False, "0", "否", "无", [None], "a"])
def test_is_missing_false(value):
    assert not is_missing(value)


# --------------------------------------------------------------------------- credit code


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_real_credit_codes_validate(code):
    assert is_valid_credit_code(code)
    assert credit_code_check_digit(code[:17]) == code[17]
    assert normalise_credit_code(code) == code


@pytest.mark.parametrize("code", REAL_CREDIT_CODES)
def test_every_single_character_corruption_fails(code):
    for position in range(18):
        for char in CREDIT_CODE_ALPHABET:
            if char == code[position]:
                continue
            corrupted = code[:position] + char + code[position + 1 :]
            assert not is_valid_credit_code(corrupted), corrupted


@pytest.mark.parametrize("code", REAL_CREDIT_CODES[:3])
def test_adjacent_transpositions_fail(code):
    for i in range(17):
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        if swapped != code:
            assert not is_valid_credit_code(swapped), swapped


def test_check_digit_31_becomes_0():
    # Find a prefix whose weighted sum is a multiple of 31: check = 31 - 0 -> 31 -> "0".
    def weighted_sum(prefix: str) -> int:
        return sum(
            CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(prefix, CREDIT_CODE_WEIGHTS, strict=True)
        )

    prefix = next(p for p in (f"91110105{n:09d}" for n in range(1000)) if weighted_sum(p) % 31 == 0)
    assert credit_code_check_digit(prefix) == "0"


def test_make_credit_code_round_trips():
    code = make_credit_code("91110105MA01ABCDE")
    assert len(code) == 18 and code.startswith("91110105MA01ABCDE")
    assert is_valid_credit_code(code)


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("9111010512345678", "must be 17 characters, got 16"),
        ("91110105MA01ABCDEF", "must be 17 characters, got 18"),
        ("91110105MA01ABCDI", "character 'I' at position 17 is not allowed"),
        ("9111010SMA01ABCDE", "character 'S' at position 8 is not allowed"),
        ("911101a5MA01ABCDE", "character 'a' at position 7"),
        ("91A10105MA01ABCDE", "characters 3–8 must be the 6-digit administrative division code"),
    ],
)
def test_make_credit_code_rejects_bad_prefix(prefix, reason):
    with pytest.raises(ValidationError) as excinfo:
        make_credit_code(prefix)
    assert reason in reason_of(excinfo)


def test_normalise_credit_code_cleans_case_width_and_spaces():
    assert normalise_credit_code(" 91110000802100433b ") == "91110000802100433B"
    full_width = "91110000802100433B".translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert normalise_credit_code(full_width) == "91110000802100433B"
    assert normalise_credit_code("9111 0000 8021 0043 3B") == "91110000802100433B"


def test_is_valid_credit_code_is_exact():
    assert not is_valid_credit_code("91110000802100433b")
    assert not is_valid_credit_code(" 91110000802100433B")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "credit code is empty"),
        ("", "credit code is empty"),
        ("91110000802100433", "must be 18 characters, got 17"),
        ("91110000802100433BB", "must be 18 characters, got 19"),
        ("91110000802100433O", "character 'O' at position 18 is not allowed (I, O, Z, S, V are never used)"),
        ("9111000080210043ZB", "character 'Z' at position 17"),
        ("91110000-802100433", "character '-' at position 9"),
        ("911100V0802100433B", "character 'V' at position 7"),
        ("91A10000802100433B", "characters 3–8 must be the 6-digit administrative division code"),
        ("91110000802100433C", "check character should be 'B', got 'C'"),
    ],
)
def test_normalise_credit_code_rejections(value, reason):
    with pytest.raises(ValidationError) as excinfo:
        normalise_credit_code(value)
    assert reason in reason_of(excinfo)
    assert excinfo.value.reason_zh
    assert not is_valid_credit_code(value or "")


def test_credit_code_number_is_not_silently_accepted():
    with pytest.raises(ValidationError):
        normalise_credit_code(91110000802100433)


# ---------------------------------------------------------------------------- risk levels

LEVEL_CASES = {
    "red": [
        "重大",
        "重大风险",
        "红",
        "红色",
        "RED",
        "Red",
        "red",
        "major",
        1,
        "1",
        "1.0",
        1.0,
        np.int64(1),
        "Ⅰ级",
        "I级",
        "一级",
        "1级",
        "重大风险（红色）",
        "红色风险",
        " 重大 ",
        "ｒｅｄ",
    ],
    "orange": [
        "较大",
        "较大风险",
        "橙",
        "橙色",
        "Orange",
        "significant",
        2,
        "2",
        "2.0",
        "Ⅱ级",
        "二级",
        "较大风险(橙色)",
    ],
    "yellow": ["一般", "一般风险", "黄", "黄色", "YELLOW", "general", 3, "3", "Ⅲ级", "三级", "一般【黄】"],
    "blue": [
        "低",
        "低风险",
        "蓝",
        "蓝色",
        "blue",
        "low",
        4,
        "4",
        4.0,
        "Ⅳ级",
        "ⅳ级",
        "四级",
        "低风险（蓝色）",
    ],
}


def test_level_codes_are_the_entity_codes():
    assert tuple(LEVEL_CASES) == LEVEL_CODES
    assert {normalise_level(code) for code in LEVEL_CODES} == set(LEVEL_CODES)


@pytest.mark.parametrize(("value", "code"), [(v, c) for c, vs in LEVEL_CASES.items() for v in vs])
def test_normalise_level_accepts(value, code):
    assert normalise_level(value) == code


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "nan",
        float("nan"),
        0,
        5,
        "5",
        1.5,
        "1.5",
        True,
        False,
        "紫",
        "purple",
        "较低",
        "高",
        "重大风险（蓝色）",
        "Ⅴ级",
        "五级",
        "重大较大",
        "red orange",
        [1],
    ],
)
def test_normalise_level_rejects_and_names_accepted_values(value):
    with pytest.raises(ValidationError) as excinfo:
        normalise_level(value)
    assert "重大/较大/一般/低" in excinfo.value.reason
    assert "red/orange/yellow/blue" in excinfo.value.reason
    assert "1–4" in excinfo.value.reason
    assert excinfo.value.reason_zh.startswith("无法识别的风险等级")


# ------------------------------------------------------------------------------ LS matrix


def test_level_from_ls_whole_matrix_follows_default_bands():
    for likelihood in range(1, 6):
        for severity in range(1, 6):
            risk = likelihood * severity
            expected = "red" if risk >= 20 else "orange" if risk >= 15 else "yellow" if risk >= 9 else "blue"
            assert level_from_ls(likelihood, severity) == expected
            # DOMAIN.md bands: only these R values exist between the thresholds.
            assert risk not in (17, 18, 19, 13, 14)


@pytest.mark.parametrize(
    ("likelihood", "severity", "level"),
    [
        (5, 5, "red"),
        (4, 5, "red"),
        (5, 4, "red"),
        (4, 4, "orange"),
        (3, 5, "orange"),
        (3, 4, "yellow"),
        (3, 3, "yellow"),
        (2, 4, "blue"),
        (1, 1, "blue"),
        ("4", "4.0", "orange"),
        (np.int64(5), 4.0, "red"),
    ],
)
def test_level_from_ls_examples(likelihood, severity, level):
    assert level_from_ls(likelihood, severity) == level


def test_level_from_ls_custom_thresholds():
    assert level_from_ls(2, 4, thresholds=((8, "yellow"),)) == "yellow"
    assert level_from_ls(2, 3, thresholds=((8, "yellow"),)) == "blue"
    assert LS_LEVEL_THRESHOLDS[0] == (20, "red")


@pytest.mark.parametrize(
    ("likelihood", "severity", "reason"),
    [
        (0, 3, "likelihood L must be an integer from 1 to 5"),
        (6, 3, "likelihood L"),
        (3, 0, "severity S must be an integer from 1 to 5"),
        (3, 6, "severity S"),
        (2.5, 3, "likelihood L"),
        (None, 3, "likelihood L"),
        (3, "高", "severity S"),
        (True, 3, "likelihood L"),
        (3, float("inf"), "severity S"),
    ],
)
def test_level_from_ls_rejects(likelihood, severity, reason):
    with pytest.raises(ValidationError) as excinfo:
        level_from_ls(likelihood, severity)
    assert reason in excinfo.value.reason


# ---------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "value",
    [
        "2018-03-05",
        "2018-3-5",
        "2018/3/5",
        "2018/03/05",
        "2018.3.5",
        "20180305",
        "2018年3月5日",
        "2018年03月05日",
        "2018年3月5",
        "2018 年 3 月 5 日",
        "２０１８－０３－０５",
        " 2018-03-05 ",
        "2018-03-05 10:20:00",
        "2018-03-05T10:20",
        "2018/3/5 8:05",
        43164,
        43164.0,
        43164.75,
        "43164",
        np.int64(43164),
        np.float64(43164.5),
        20180305,
        date(2018, 3, 5),
        datetime(2018, 3, 5, 23, 59),
        pd.Timestamp("2018-03-05 12:00"),
        np.datetime64("2018-03-05T06:00"),
    ],
)
def test_parse_date_accepts(value):
    assert parse_date(value) == date(2018, 3, 5)


@pytest.mark.parametrize("value", [None, "", "  ", float("nan"), pd.NaT, pd.NA, "-", "无", "nan"])
def test_parse_date_empty_is_none(value):
    assert parse_date(value) is None


def test_parse_date_excel_serial_range_edges():
    low, high = EXCEL_SERIAL_RANGE
    assert parse_date(low) == date(1950, 1, 1)
    assert parse_date(high) == date(2100, 12, 31)
    assert parse_date(60000) == date(2064, 4, 8)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2018-02-30", "no such date: 2018-02-30"),
        ("2018-13-01", "no such date: 2018-13-01"),
        ("2019年2月29日", "no such date"),
        ("20181301", "no such date"),
        (20180230, "no such date"),
        ("1850-01-01", "year 1850 is outside 1900–2100"),
        ("2218-03-05", "year 2218 is outside 1900–2100"),
        ("2018-03/05", "unrecognised date"),
        ("05/03/2018", "unrecognised date"),
        ("3/5/2018", "unrecognised date"),
        ("18-3-5", "unrecognised date"),
        ("yesterday", "unrecognised date"),
        ("2018-03-05 25", "unrecognised date"),
        ("未整改", "unrecognised date"),
        (100, "neither an Excel date serial"),
        (-43164, "neither an Excel date serial"),
        (2018, "neither an Excel date serial"),
        (123456, "neither an Excel date serial"),
        ("100", "neither an Excel date serial"),
        (float("inf"), "unrecognised date"),
        (True, "unrecognised date"),
        ([2018, 3, 5], "unrecognised date"),
    ],
)
def test_parse_date_rejects(value, reason):
    with pytest.raises(ValidationError) as excinfo:
        parse_date(value)
    assert reason in excinfo.value.reason
    assert excinfo.value.reason_zh


# ------------------------------------------------------------------------------- booleans


@pytest.mark.parametrize(
    "value",
    [
        "是",
        "有",
        "Y",
        "y",
        "yes",
        "YES",
        "true",
        "True",
        "T",
        "1",
        "1.0",
        1,
        1.0,
        True,
        np.bool_(True),
        "已投保",
        "投保",
        "√",
        "在营",
        " 是 ",
        "ＹＥＳ",
    ],
)
def test_parse_bool_true(value):
    assert parse_bool(value) is True


@pytest.mark.parametrize(
    "value",
    [
        "否",
        "无",
        "没有",
        "N",
        "no",
        "No",
        "false",
        "FALSE",
        "F",
        "0",
        "0.0",
        0,
        0.0,
        False,
        np.bool_(False),
        "未投保",
        "×",
        "停业",
    ],
)
def test_parse_bool_false(value):
    assert parse_bool(value) is False


@pytest.mark.parametrize("value", [None, "", float("nan"), pd.NA, "-"])
def test_parse_bool_empty_is_none(value):
    assert parse_bool(value) is None


@pytest.mark.parametrize("value", ["2", 2, -1, 0.5, "maybe", "不详", "是否", "yesno", [True]])
def test_parse_bool_rejects(value):
    with pytest.raises(ValidationError) as excinfo:
        parse_bool(value)
    assert "not a yes/no value" in excinfo.value.reason
    assert "是/否" in excinfo.value.reason


# --------------------------------------------------------------------------------- datums


@pytest.mark.parametrize(
    ("value", "datum"),
    [
        ("WGS84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("wgs84", "wgs84"),
        ("WGS 84", "wgs84"),
        ("GPS", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("WGS84坐标系", "wgs84"),
        ("ＷＧＳ８４", "wgs84"),
        ("CGCS2000", "cgcs2000"),
        ("cgcs-2000", "cgcs2000"),
        ("2000国家大地坐标系", "cgcs2000"),
        ("国家2000", "cgcs2000"),
        ("国家2000坐标系", "cgcs2000"),
        ("EPSG:4490", "cgcs2000"),
        ("GCJ-02", "gcj02"),
        ("GCJ02", "gcj02"),
        ("gcj_02", "gcj02"),
        ("火星坐标", "gcj02"),
        ("火星坐标系", "gcj02"),
        ("高德", "gcj02"),
        ("高德地图", "gcj02"),
        ("腾讯", "gcj02"),
        ("腾讯坐标", "gcj02"),
        ("BD-09", "bd09"),
        ("BD09", "bd09"),
        ("bd09ll", "bd09"),
        ("百度", "bd09"),
        ("百度坐标系", "bd09"),
    ],
)
def test_normalise_datum_accepts(value, datum):
    assert normalise_datum(value) == datum


@pytest.mark.parametrize(
    "value", [None, "", "北京54", "西安80", "EPSG:3857", "UTM", "mercator", "坐标系", 4327]
)
def test_normalise_datum_rejects(value):
    with pytest.raises(ValidationError) as excinfo:
        normalise_datum(value)
    assert "unknown coordinate datum" in excinfo.value.reason
    assert "GCJ-02" in excinfo.value.reason


# ---------------------------------------------------------------------------- coordinates


@pytest.mark.parametrize(
    ("value", "degrees"),
    [
        (116.4, 116.4),
        (116, 116.0),
        (np.float64(39.9), 39.9),
        ("116.40", 116.4),
        (" 39.9 ", 39.9),
        ("１１６．４０", 116.4),
        ("116.40°", 116.4),
        ("-0.5", -0.5),
        ("+116.4", 116.4),
        ("116°24'36\"E", 116.41),
        ("116°24'36\"", 116.41),
        ("116° 24' 36\" E", 116.41),
        ("116°24′36″E", 116.41),
        ("116º24'36\"", 116.41),
        ("116°24'36''", 116.41),
        ("116度24分36秒", 116.41),
        ("东经116度24分36秒", 116.41),
        ("北纬39°54'", 39.9),
        ("E116°24'36\"", 116.41),
        ("39°54'N", 39.9),
        ("116°24.6'", 116.41),
        ("116°24'36.36\"", 116.4101),
        ("116.41W", -116.41),
        ("33°52'S", -33.0 - 52 / 60),
        ("西经74度", -74.0),
        ("南纬33.5", -33.5),
    ],
)
def test_parse_coordinate_accepts(value, degrees):
    assert parse_coordinate(value) == pytest.approx(degrees, abs=1e-9)


@pytest.mark.parametrize("value", [None, "", float("nan"), pd.NA, "-"])
def test_parse_coordinate_empty_is_none(value):
    assert parse_coordinate(value) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("abc", "not a coordinate"),
        ("116,40", "not a coordinate"),
        ("116.4.1", "not a coordinate"),
        ("116°60'", "minutes and seconds must be below 60"),
        ("116°24'60\"", "minutes and seconds must be below 60"),
        ("116 24 36", "digits separated by spaces"),
        ("116. 4", "digits separated by spaces"),
        ('116°36"', "not a coordinate"),
        ("-116.4W", "not a coordinate"),
        ("116.4E39.9N", "not a coordinate"),
        ("116.4,39.9", "not a coordinate"),
        (float("inf"), "not a coordinate"),
        (True, "not a coordinate"),
        ([116.4], "not a coordinate"),
    ],
)
def test_parse_coordinate_rejects(value, reason):
    with pytest.raises(ValidationError) as excinfo:
        parse_coordinate(value)
    assert reason in excinfo.value.reason


# -------------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("经度（°）", "经度"),
        ("经度(°)", "经度"),
        (" 单位 名称 ", "单位名称"),
        ("\ufeff单位名称", "单位名称"),
        ("*单位名称", "单位名称"),
        ("单位名称：", "单位名称"),
        ("外部安全防护距离【米】", "外部安全防护距离"),
        ("Credit_Code", "creditcode"),
        ("credit-code", "creditcode"),
        ("ＬＯＮ", "lon"),
        (3, "3"),
    ],
)
def test_normalise_header(header, normalised):
    assert normalise_header(header) == normalised


def test_header_tables_cover_every_kind_without_collisions():
    assert set(HEADER_ALIASES) == set(ENTITIES)
    for kind, table in HEADER_ALIASES.items():
        assert table == header_aliases(kind)
        assert set(table.values()) <= set(input_columns(kind))
        for column in input_columns(kind):
            assert table[normalise_header(column)] == column  # the canonical name always works


def test_input_columns():
    assert input_columns("units")[-4:] == ("lon", "lat", "datum", "wkt")
    assert "lon" not in input_columns("lines") and "wkt" in input_columns("lines")
    assert "lon" in input_columns("parcels")  # parcels may be points or polygons
    assert "synthetic" in input_columns("areas") and "key" not in input_columns("units")


BRIEF_ALIASES = {
    "units": {
        "单位名称": "name",
        "企业名称": "name",
        "名称": "name",
        "统一社会信用代码": "credit_code",
        "信用代码": "credit_code",
        "社会信用代码": "credit_code",
        "地址": "address",
        "详细地址": "address",
        "注册地址": "address",
        "所属区": "district",
        "区县": "district",
        "所属区县": "district",
        "区": "district",
        "街道": "township",
        "乡镇": "township",
        "街道乡镇": "township",
        "所属街道": "township",
        "街道/乡镇": "township",
        "行业": "industry",
        "所属行业": "industry",
        "行业类别": "industry",
        "经度": "lon",
        "lng": "lon",
        "lon": "lon",
        "longitude": "lon",
        "x": "lon",
        "X": "lon",
        "纬度": "lat",
        "lat": "lat",
        "latitude": "lat",
        "y": "lat",
        "坐标系": "datum",
        "datum": "datum",
        "是否投保": "insured",
        "安责险": "insured",
        "标准化等级": "standard_grade",
        "WKT": "wkt",
        "name": "name",
        "credit_code": "credit_code",
        "Credit Code": "credit_code",
    },
    "risk_sources": {
        "风险源名称": "name",
        "风险点名称": "name",
        "风险源编码": "source_code",
        "风险点编码": "source_code",
        "编号": "source_code",
        "风险类型": "source_type",
        "类型": "source_type",
        "风险等级": "level",
        "风险级别": "level",
        "等级": "level",
        "可能性": "likelihood",
        "L": "likelihood",
        "严重性": "severity",
        "S": "severity",
        "单位名称": "unit_name",
        "企业名称": "unit_name",
    },
    "hidden_hazards": {
        "隐患编号": "hazard_code",
        "隐患级别": "severity",
        "发现日期": "found_date",
        "排查日期": "found_date",
        "整改期限": "deadline",
        "整改完成日期": "rectified_date",
        "完成日期": "rectified_date",
        "状态": "status",
        "整改状态": "status",
        "单位名称": "unit_name",
    },
    "resources": {
        "资源类型": "resource_type",
        "专业": "speciality",
        "专长": "speciality",
        "人数": "capacity",
        "容量": "capacity",
        "人数/容量": "capacity",
        "数量": "item_count",
        "物资数量": "item_count",
        "联系电话": "contact",
        "联系方式": "contact",
    },
    "hazchem_sites": {
        "重大危险源等级": "major_hazard_grade",
        "加油站等级": "gas_station_grade",
        "外部安全防护距离": "external_distance_m",
        "外部安全防护距离(米)": "external_distance_m",
        "外部安全防护距离（m）": "external_distance_m",
        "危化品": "chemicals",
        "危险化学品": "chemicals",
        "单位名称": "name",
        "类型": "site_type",
    },
    "parcels": {"用地性质": "land_use", "地块编号": "parcel_code"},
}


@pytest.mark.parametrize(
    ("kind", "header", "column"),
    [(kind, header, column) for kind, table in BRIEF_ALIASES.items() for header, column in table.items()],
)
def test_brief_aliases_match(kind, header, column):
    assert match_headers([header], kind).columns == {header: column}


def test_same_header_means_different_columns_per_kind():
    assert match_headers(["类型"], "resources").columns == {"类型": "resource_type"}
    assert match_headers(["类型"], "lines").columns == {"类型": "line_type"}
    assert match_headers(["编号"], "hidden_hazards").columns == {"编号": "hazard_code"}
    assert match_headers(["等级"], "hidden_hazards").columns == {"等级": "severity"}
    assert match_headers(["严重性"], "hidden_hazards").unknown == ("严重性",)  # LS severity, not 隐患级别
    assert match_headers(["风险等级"], "units").unknown == ("风险等级",)


def test_match_headers_typical_units_export():
    headers = [
        "序号",
        "\ufeff单位名称",
        "统一社会信用代码",
        "所属区县",
        "街道（乡镇）",
        "详细地址",
        "行业类别",
        "经度(°)",
        "纬度(°)",
        "坐标系",
        "备注",
    ]
    match = match_headers(headers, "units")
    assert match.columns == {
        "\ufeff单位名称": "name",
        "统一社会信用代码": "credit_code",
        "所属区县": "district",
        "街道（乡镇）": "township",
        "详细地址": "address",
        "行业类别": "industry",
        "经度(°)": "lon",
        "纬度(°)": "lat",
        "坐标系": "datum",
    }
    assert list(match.columns) == [h for h in headers if h in match.columns]  # file order kept
    assert match.unknown == ("序号", "备注")
    assert match.missing == () and match.ambiguous == {} and match.ok
    assert match.has_coordinates
    assert match.header_for("lon") == "经度(°)" and match.header_for("wkt") is None


def test_match_headers_lists_missing_required_columns():
    match = match_headers(["名称", "地址"], "risk_sources")
    assert match.missing == ("credit_code", "source_code", "level")
    assert not match.ok and not match.has_coordinates


def test_match_headers_address_only_file_is_ok_but_has_no_coordinates():
    match = match_headers(["单位名称", "信用代码", "地址"], "units")
    assert match.ok and not match.has_coordinates


def test_match_headers_wkt_counts_as_coordinates():
    assert match_headers(["编码", "类型", "WKT"], "lines").has_coordinates


def test_match_headers_ambiguous_headers_are_not_used():
    match = match_headers(["单位名称", "企业名称", "统一社会信用代码"], "units")
    assert match.ambiguous == {"name": ("单位名称", "企业名称")}
    assert match.columns == {"统一社会信用代码": "credit_code"}
    assert match.missing == () and not match.ok


def test_match_headers_duplicate_identical_headers_are_ambiguous():
    match = match_headers(["单位名称", "信用代码", "地址", "地址"], "units")
    assert match.ambiguous == {"address": ("地址", "地址")}


def test_match_headers_mapping_wins_and_resolves_ambiguity():
    match = match_headers(
        ["单位名称", "企业名称", "信用代码", "FRDB"],
        "units",
        mapping={"企业名称": "name", "单位名称": "", "frdb": "industry"},
    )
    assert match.columns == {"企业名称": "name", "信用代码": "credit_code", "FRDB": "industry"}
    assert match.ignored == ("单位名称",)
    assert match.ok


def test_match_headers_mapping_claims_column_from_aliases():
    match = match_headers(["名称", "单位全称", "信用代码"], "units", mapping={"单位全称": "name"})
    assert match.columns == {"单位全称": "name", "信用代码": "credit_code"}
    assert match.unknown == ("名称",)


def test_match_headers_mapping_onto_unknown_column_raises():
    with pytest.raises(ValueError, match="not a units column"):
        match_headers(["a"], "units", mapping={"a": "colour"})


def test_match_headers_unknown_kind_raises():
    with pytest.raises(UnknownEntityError):
        match_headers(["名称"], "volcanoes")


def test_match_headers_non_text_headers():
    match = match_headers([0, float("nan"), "名称"], "units")
    assert match.unknown == ("0", "nan")
    assert match.columns == {"名称": "name"}


def test_parse_coordinate_seconds_only_arithmetic():
    # 36" is exactly 0.01°.
    assert math.isclose(parse_coordinate("0°0'36\"") or 0.0, 0.01)
