"""How each synthetic demo file is laid out: its Chinese headers, datum, encoding,
address-only share, dirty-row rates (*assumptions*: a few percent in all) and the
vocabulary of its enumerated columns — one :class:`FileLayout` per file, as the
bureau that hands it over would write it.
"""

from __future__ import annotations

from geo.capabilities.demo.enterprises import LEVEL_TEXT
from geo.capabilities.demo.file_tables import FileLayout

LEVEL_VOCABULARY = {text: code for style in LEVEL_TEXT.values() for code, text in style.items()}
SITE_TYPE_VOCABULARY = {
    "生产": "production",
    "储存": "storage",
    "经营": "business",
    "使用": "use",
    "加油站": "gas_station",
    "烟花爆竹零售点": "fireworks",
}
RESOURCE_TYPE_VOCABULARY = {
    "救援队伍": "team",
    "专家": "expert",
    "装备库": "equipment_depot",
    "物资库": "supply_depot",
    "避难场所": "shelter",
    "社会资源": "social",
}
HAZARD_VOCABULARY = {
    "severity": {"重大隐患": "major", "一般隐患": "general"},
    "status": {"已整改": "closed", "未整改": "open"},
}
GRADE_VOCABULARY = {"一级": "1", "二级": "2", "三级": "3", "四级": "4"}
LINE_TYPE_VOCABULARY = {
    "输油管道": "oil_pipeline",
    "输气管道": "gas_pipeline",
    "输水管道": "water_pipeline",
    "危化品运输路线": "hazmat_route",
}

_UNIT_HEADERS = {
    "name": "单位名称", "credit_code": "统一社会信用代码", "industry": "行业", "address": "地址",
    "district": "所属区", "township": "街道乡镇", "standard_grade": "标准化等级", "insured": "是否投保安责险",
}  # fmt: skip
_SOURCE_HEADERS = {
    "credit_code": "统一社会信用代码", "unit_name": "单位名称", "source_code": "风险源编码", "name": "风险源名称",
    "source_type": "风险类型", "likelihood": "可能性L", "severity": "严重性S", "level": "风险等级", "industry": "行业",
    "address": "地址", "district": "所属区", "township": "街道乡镇",
}  # fmt: skip
_HAZCHEM_HEADERS = {
    "name": "单位名称", "credit_code": "统一社会信用代码", "site_code": "场所编码", "site_type": "单位类型",
    "chemicals": "危险化学品名称及数量", "major_hazard_grade": "重大危险源等级",
    "external_distance_m": "外部安全防护距离（米）", "address": "地址", "district": "所属区",
}  # fmt: skip
_GAS_HEADERS = {
    "name": "加油站名称", "credit_code": "统一社会信用代码", "site_code": "场所编码", "site_type": "类型",
    "gas_station_grade": "加油站等级", "operating": "是否在营", "chemicals": "危化品",
    "address": "地址", "district": "所属区",
}  # fmt: skip
_FIREWORKS_HEADERS = {
    "name": "场所名称", "credit_code": "统一社会信用代码", "site_code": "场所编号", "site_type": "场所类型",
    "chemicals": "危险化学品", "address": "地址", "district": "区县",
}  # fmt: skip
_HAZARD_HEADERS = {
    "hazard_code": "隐患编号", "credit_code": "统一社会信用代码", "unit_name": "单位名称", "severity": "隐患级别",
    "description": "隐患描述", "found_date": "排查日期", "deadline": "整改期限", "rectified_date": "整改完成日期",
    "status": "整改状态", "district": "所属区",
}  # fmt: skip
_TEAM_HEADERS = {
    "resource_code": "资源编码", "name": "队伍名称", "resource_type": "资源类型", "speciality": "专业类别",
    "capacity": "队伍人数", "contact": "联系电话", "address": "地址", "district": "所属区",
}  # fmt: skip
_EXPERT_HEADERS = {
    "resource_code": "资源编码", "name": "专家姓名", "resource_type": "资源类型", "speciality": "专业",
    "contact": "联系方式", "address": "地址", "district": "所属区",
}  # fmt: skip
_DEPOT_HEADERS = {
    "resource_code": "资源编码", "name": "资源名称", "resource_type": "资源类型", "speciality": "专业",
    "item_count": "物资装备数量", "contact": "联系电话", "address": "地址", "district": "所属区",
}  # fmt: skip
_SHELTER_HEADERS = {
    "resource_code": "资源编码", "name": "资源名称", "resource_type": "资源类型", "capacity": "可容纳人数",
    "address": "地址", "district": "所属区",
}  # fmt: skip
_SOCIAL_HEADERS = {
    "resource_code": "资源编码", "name": "资源名称", "resource_type": "资源类型", "speciality": "专业",
    "item_count": "数量", "contact": "联系电话", "address": "地址", "district": "所属区",
}  # fmt: skip


# --------------------------------------------------------------------------------------
# The files (the order of load comes from generate_demo_files)
# --------------------------------------------------------------------------------------

UNITS = FileLayout(
    "units.csv", "units", _UNIT_HEADERS, None,
    "生产经营单位（风险源填报单位），坐标系逐行注明（WGS84/GCJ-02/BD-09/CGCS2000），部分仅有地址",
    address_only=0.06,
    encoding="utf-8-sig",
    rates={"bad_credit_code": 0.005, "missing_name": 0.003, "swapped_lonlat": 0.004, "out_of_region": 0.003,
           "duplicate_key": 0.003, "district_mismatch": 0.003},
    name_col="单位名称",
    duplicate_change=("标准化等级", lambda v: "三级" if v != "三级" else "二级"),
)  # fmt: skip
RISK_SOURCES = FileLayout(
    "risk_sources.csv", "risk_sources", _SOURCE_HEADERS, "gcj02",
    "安全风险源台账，坐标为GCJ-02（高德），部分仅有地址",
    address_only=0.02,
    rates={"bad_credit_code": 0.003, "unknown_level": 0.006, "swapped_lonlat": 0.003, "missing_name": 0.003,
           "duplicate_key": 0.004},
    name_col="风险源名称",
    vocabulary={"风险等级": LEVEL_VOCABULARY},
)  # fmt: skip
HAZCHEM_SITES = FileLayout(
    "hazchem_sites.csv", "hazchem_sites", _HAZCHEM_HEADERS, "cgcs2000",
    "危险化学品单位（生产/储存/经营/使用），危化品及数量为JSON，坐标为2000国家大地坐标系",
    encoding="utf-8-sig",
    rates={"bad_credit_code": 0.01, "swapped_lonlat": 0.01, "duplicate_key": 0.01},
    duplicate_change=("外部安全防护距离（米）", lambda v: v or "100"),
    vocabulary={"单位类型": SITE_TYPE_VOCABULARY, "重大危险源等级": GRADE_VOCABULARY},
)  # fmt: skip
GAS_STATIONS = FileLayout(
    "gas_stations.csv", "hazchem_sites", _GAS_HEADERS, "bd09",
    "加油站（含停业），坐标为BD-09（百度）",
    rates={"bad_credit_code": 0.01, "out_of_region": 0.005, "duplicate_key": 0.01},
    vocabulary={"类型": SITE_TYPE_VOCABULARY, "加油站等级": GRADE_VOCABULARY},
)  # fmt: skip
FIREWORKS = FileLayout(
    "fireworks_retail.csv", "hazchem_sites", _FIREWORKS_HEADERS, "wgs84",
    "2018年春节烟花爆竹零售点（五环路内无），GBK编码",
    encoding="gbk",
    rates={"missing_name": 0.02, "bad_credit_code": 0.02},
    name_col="场所名称",
    vocabulary={"场所类型": SITE_TYPE_VOCABULARY},
)  # fmt: skip
HIDDEN_HAZARDS = FileLayout(
    "hidden_hazards.csv", "hidden_hazards", _HAZARD_HEADERS, "wgs84",
    "2017–2018年隐患排查治理台账（挂账隐患），GBK编码，日期为Excel导出格式",
    encoding="gbk",
    rates={"bad_date": 0.008, "bad_credit_code": 0.004, "duplicate_key": 0.004, "out_of_region": 0.002},
    vocabulary=HAZARD_VOCABULARY,
)  # fmt: skip
TEAMS = FileLayout(
    "resources_teams.csv", "resources", _TEAM_HEADERS, "gcj02",
    "应急救援队伍，坐标为GCJ-02",
    lon="经度（GCJ-02）", lat="纬度（GCJ-02）",
    encoding="utf-8-sig",
    rates={"missing_name": 0.005, "swapped_lonlat": 0.005, "duplicate_key": 0.005},
    name_col="队伍名称",
    duplicate_change=("队伍人数", lambda v: str(int(v) + 2)),
    vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
)  # fmt: skip
EXPERTS = FileLayout(
    "resources_experts.xlsx", "resources", _EXPERT_HEADERS, "wgs84",
    "应急专家库（Excel，首行为标题），坐标为工作单位位置，部分仅有地址",
    address_only=0.15,
    fmt="xlsx", encoding=None,
    rates={"missing_name": 0.005, "out_of_region": 0.005},
    name_col="专家姓名",
    title="北京市安全生产应急专家信息表（合成演示数据）",
    sheet="专家库",
    vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
)  # fmt: skip
DEPOTS = FileLayout(
    "resources_depots.csv", "resources", _DEPOT_HEADERS, "wgs84",
    "应急装备库与物资储备库（物资装备数量为件数）",
    rates={"duplicate_key": 0.01},
    duplicate_change=("物资装备数量", lambda v: str(int(v) + 10)),
    vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
)  # fmt: skip
SHELTERS = FileLayout(
    "resources_shelters.csv", "resources", _SHELTER_HEADERS, "bd09",
    "应急避难场所，坐标为BD-09（百度）",
    encoding="utf-8-sig",
    rates={"swapped_lonlat": 0.01},
    vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
)  # fmt: skip
SOCIAL = FileLayout(
    "resources_social.csv", "resources", _SOCIAL_HEADERS, "wgs84",
    "社会应急资源（工程机械等），仅有地址，GBK编码",
    address_only=1.0,
    encoding="gbk",
    vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
)  # fmt: skip
JJJ_UNITS = FileLayout(
    "jjj_units.csv", "units",
    {k: v for k, v in {**_UNIT_HEADERS, "district": "区县"}.items() if k != "township"}, "gcj02",
    "天津、河北临京地区生产经营单位（京津冀协同），坐标为GCJ-02",
    rates={"bad_credit_code": 0.01},
    name_col="单位名称",
)  # fmt: skip
JJJ_RISK_SOURCES = FileLayout(
    "jjj_risk_sources.csv", "risk_sources",
    {k: v for k, v in {**_SOURCE_HEADERS, "district": "区县"}.items() if k != "township"}, "gcj02",
    "天津、河北临京地区安全风险源，坐标为GCJ-02",
    rates={"unknown_level": 0.005},
    vocabulary={"风险等级": LEVEL_VOCABULARY},
)  # fmt: skip
JJJ_HAZCHEM_SITES = FileLayout(
    "jjj_hazchem_sites.csv", "hazchem_sites", {**_HAZCHEM_HEADERS, "district": "区县"}, "gcj02",
    "天津、河北临京地区危险化学品单位，坐标为GCJ-02",
    vocabulary={"单位类型": SITE_TYPE_VOCABULARY, "重大危险源等级": GRADE_VOCABULARY},
)  # fmt: skip
#: The GeoJSON lines file is written as generated: no layout, only these.
LINES_NAME = "lines.geojson"
LINES_DESCRIPTION = "油气管道、输水管道和危化品运输路线（部分跨京冀、京津边界），GeoJSON WGS-84"
