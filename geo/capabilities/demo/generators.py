"""Synthetic demo input files, in the shape a Beijing bureau hands them over.

Pure generation: :func:`generate_demo_files` takes the reference geography (real
district/township polygons, the 5th Ring zone, province borders and OpenStreetMap
protection-target points, all WGS-84 EPSG:4326) and a numpy ``Generator`` and
returns one :class:`DemoFile` per input file — a table with the Chinese headers,
the Chinese cell values, the coordinate datum and the encoding a bureau export
would have, plus the count of dirty rows planted in it.  Writing the files is
:mod:`geo.capabilities.demo.files`' job.

Calibration (``scale`` 1.0) follows the 2018 figures in DOMAIN.md (seed 001):
9,911 reporting units with 162,699 risk sources, 1,027 hazardous-chemical units,
~1,000 operating + 350 non-operating gas stations, 87 fireworks retail points (none
inside the 5th Ring), 26,668 hidden hazards (99.9 % rectified), 16,809 rescue teams,
5,635 experts, 2,764,819 equipment items and 2,113,322 supply items at depots,
1,043 social resources.  Everything else is an *assumption* of this module, named
in the constants below: the risk-level shares (red 1 %, orange 6 %, yellow 33 %,
blue 60 %), the district weights, depot/shelter counts, the Tianjin/Hebei counts,
and the dirty-row rates.  At scale ``s`` every count is multiplied by ``s``
(at least 1 where a file would otherwise be empty).

Every record is fictional and says so: a column 合成数据 = 是 in every file.  Unit
names are drawn from a small word list and may coincide with a real company by
chance; credit codes are valid GB 32100-2015 codes that were never issued to
anybody on purpose.  Points are real places (near OSM land-use and residential
points) jittered by tens to hundreds of metres.

Determinism: the same reference frames, ``scale`` and generator seed give the same
tables, value for value (every draw happens in a fixed order; no set or dict
iteration depends on hashing).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geo.coords import WGS84, convert
from geo.validation import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_WEIGHTS,
    LS_SCALE,
    level_from_ls,
    normalise_level,
)

FileFormat = Literal["csv", "xlsx", "geojson"]
_F = NDArray[np.float64]
_I = NDArray[np.int64]

# --------------------------------------------------------------------------------------
# Calibration (scale 1.0)
# --------------------------------------------------------------------------------------

#: Counts at scale 1.0.  Seed 001 figures unless marked *assumption*.
SCALE_ONE_COUNTS: dict[str, int] = {
    "units": 9_911,
    "risk_sources": 162_699,
    "hazchem_sites": 1_027,
    "gas_stations_operating": 1_000,  # seed: 917 retrofitted; ~1,000 operating (brief)
    "gas_stations_closed": 350,
    "fireworks": 87,
    "hidden_hazards": 26_668,
    "teams": 16_809,
    "experts": 5_635,
    "equipment_depots": 320,  # assumption: "a few hundred" depots
    "equipment_items": 2_764_819,
    "supply_depots": 260,  # assumption
    "supply_items": 2_113_322,
    "shelters": 280,  # assumption: "a few hundred" 应急避难场所
    "social_resources": 1_043,
    "jjj_units": 450,  # assumption: Tianjin/Hebei units within ~25 km of the border
    "jjj_risk_sources": 5_400,  # assumption
    "jjj_hazchem_sites": 110,  # assumption
    "lines": 36,  # assumption: "a few dozen" pipelines and hazmat routes
}
#: Lines are infrastructure, not reports: never fewer than this, so the border crossings exist.
MIN_LINES = 12
#: Share of reporting units operating gas stations (their owners). *Assumption.*
GAS_OWNER_SHARE = 0.04

#: Risk-level shares of reported risk sources. *Assumption* (no seed gives them).
LEVEL_SHARES: dict[str, float] = {"red": 0.01, "orange": 0.06, "yellow": 0.33, "blue": 0.60}
#: Share of risk sources whose stated level is one step above L×S (an assessor's override).
LEVEL_OVERRIDE_SHARE = 0.01
#: Share of risk sources without L and S (level stated only).
NO_LS_SHARE = 0.10
#: Hidden hazards: share still open at the snapshot, share rated major (重大隐患).
HAZARD_OPEN_SHARE = 0.001
HAZARD_MAJOR_SHARE = 0.03
#: The date the demo data pretends to be exported on.
SNAPSHOT_DATE = date(2018, 12, 31)
#: The 2017-11 … Spring Festival 2018 campaign (seed 001) in which most hazards were found.
CAMPAIGN = (date(2017, 11, 1), date(2018, 2, 15))
#: Units insured (安责险) among reporting units. *Assumption* (seed: 50,281 of 265,000+ in the ledger).
INSURED_SHARE = 0.60
STANDARD_GRADE_SHARES: dict[str, float] = {"一级": 0.02, "二级": 0.12, "三级": 0.36, "无": 0.50}

#: Where reporting units are, by district (relative weights). *Assumption*: industry in
#: the outer districts, services in the centre.
DISTRICT_WEIGHTS_INDUSTRIAL: dict[str, float] = {
    "110101": 0.2, "110102": 0.2, "110105": 8, "110106": 6, "110107": 2, "110108": 5, "110109": 3,
    "110111": 11, "110112": 11, "110113": 13, "110114": 11, "110115": 15, "110116": 5, "110117": 4,
    "110118": 4, "110119": 2,
}  # fmt: skip
DISTRICT_WEIGHTS_OTHER: dict[str, float] = {
    "110101": 3, "110102": 4, "110105": 16, "110106": 8, "110107": 3, "110108": 12, "110109": 2,
    "110111": 7, "110112": 9, "110113": 8, "110114": 9, "110115": 9, "110116": 3, "110117": 2.5,
    "110118": 3, "110119": 2,
}  # fmt: skip

# --------------------------------------------------------------------------------------
# Word lists (all generic; combined they name fictional enterprises)
# --------------------------------------------------------------------------------------

_TRADE_NAME_CHARS = "华兴盛达泰润鑫恒瑞丰宏正通嘉和信源安博远昌隆鼎诚众汇金新宇腾飞海天星联康茂佳德益"
_ROADS = (
    "建设路", "工业大街", "兴业路", "创新路", "科技路", "幸福路", "振兴路", "光明路", "育才路", "永安路",
    "富民路", "顺通路", "金星路", "东环路", "西环路", "南环路", "北环路", "中心大街", "工业园路", "物流园路",
    "和平街", "新华街", "胜利路", "文化路", "团结路", "友谊路", "人民路", "长安路", "朝阳路", "站前街",
)  # fmt: skip


@dataclass(frozen=True)
class Industry:
    """An industry of reporting units: share, whether it sits on industrial land, name
    words, risk-source multiplier, and its risk sources as (name, 风险类型, tier h/m/l)."""

    name: str
    share: float
    industrial: bool
    words: tuple[str, ...]
    source_factor: float
    sources: tuple[tuple[str, str, str], ...]


#: Industries of the reporting units; 危险化学品 and 加油站 counts are set exactly, the
#: rest share the remainder by ``share``. *Assumption.*  Risk types follow GB 6441.
INDUSTRIES: tuple[Industry, ...] = (
    Industry("危险化学品", 0.0, True, ("化工", "石化", "化学品", "气体", "精细化工"), 2.0, (
        ("液氨储罐", "中毒和窒息", "h"), ("甲醇储罐区", "火灾", "h"), ("氢气瓶组间", "其他爆炸", "h"),
        ("氯气钢瓶库", "中毒和窒息", "h"), ("危险化学品仓库", "火灾", "h"), ("反应釜", "其他爆炸", "h"),
        ("装卸栈台", "火灾", "m"), ("配电室", "触电", "m"), ("有限空间", "中毒和窒息", "m"),
        ("动火作业", "火灾", "m"), ("压力容器", "容器爆炸", "m"), ("化验室", "中毒和窒息", "l"),
        ("叉车作业", "车辆伤害", "l"), ("办公楼", "火灾", "l"),
    )),
    Industry("加油站", 0.0, False, ("石油销售", "能源", "石化销售"), 1.2, (
        ("埋地储油罐", "其他爆炸", "h"), ("卸油作业区", "火灾", "h"), ("加油作业区", "火灾", "m"),
        ("配电室", "触电", "m"), ("油气回收装置", "火灾", "m"), ("便利店", "火灾", "l"), ("洗车区", "机械伤害", "l"),
    )),
    Industry("燃气", 0.03, True, ("燃气", "液化气", "燃气供应"), 1.6, (
        ("燃气调压站", "其他爆炸", "h"), ("液化石油气储罐", "其他爆炸", "h"), ("钢瓶充装间", "其他爆炸", "h"),
        ("燃气管网阀井", "中毒和窒息", "m"), ("配电室", "触电", "m"), ("有限空间", "中毒和窒息", "m"),
        ("巡检车辆", "车辆伤害", "l"),
    )),
    Industry("工贸", 0.34, True, ("机械制造", "金属制品", "食品", "印刷", "家具", "建材", "电子科技",
                                "汽车零部件", "纺织"), 1.1, (
        ("粉尘涉爆区域", "其他爆炸", "h"), ("熔炼炉", "灼烫", "h"), ("有限空间", "中毒和窒息", "m"),
        ("冲压设备", "机械伤害", "m"), ("起重机械", "起重伤害", "m"), ("喷漆房", "火灾", "m"),
        ("空压机房", "容器爆炸", "m"), ("配电室", "触电", "m"), ("锅炉房", "锅炉爆炸", "m"),
        ("动火作业", "火灾", "m"), ("叉车作业", "车辆伤害", "l"), ("木工车间", "火灾", "l"), ("成品仓库", "火灾", "l"),
    )),
    Industry("仓储物流", 0.08, True, ("物流", "仓储", "冷链物流", "供应链管理"), 1.0, (
        ("液氨制冷机房", "中毒和窒息", "h"), ("高层货架区", "坍塌", "m"), ("叉车作业", "车辆伤害", "m"),
        ("冷库", "中毒和窒息", "m"), ("配电室", "触电", "m"), ("充电区", "火灾", "m"),
        ("装卸平台", "高处坠落", "l"), ("普通仓库", "火灾", "l"),
    )),
    Industry("建筑施工", 0.12, False, ("建筑工程", "市政工程", "建设工程", "建筑安装"), 1.0, (
        ("深基坑", "坍塌", "h"), ("高大模板支撑体系", "坍塌", "h"), ("塔式起重机", "起重伤害", "h"),
        ("脚手架", "高处坠落", "m"), ("施工升降机", "起重伤害", "m"), ("临时用电", "触电", "m"),
        ("动火作业", "火灾", "m"), ("有限空间", "中毒和窒息", "m"), ("材料堆放区", "物体打击", "l"),
    )),
    Industry("商贸", 0.13, False, ("商贸", "商业", "超市", "百货"), 0.7, (
        ("燃气厨房", "火灾", "m"), ("自动扶梯", "机械伤害", "m"), ("配电室", "触电", "m"), ("电梯", "其他伤害", "m"),
        ("库房", "火灾", "l"), ("地下车库", "火灾", "l"), ("货梯", "起重伤害", "l"),
    )),
    Industry("人员密集场所", 0.12, False, ("酒店管理", "文化娱乐", "体育发展", "物业管理", "商业管理"), 0.8, (
        ("大型游乐设施", "机械伤害", "h"), ("人员聚集区域", "其他伤害", "h"), ("燃气厨房", "火灾", "m"),
        ("游泳池", "淹溺", "m"), ("锅炉房", "锅炉爆炸", "m"), ("电梯", "其他伤害", "m"), ("配电室", "触电", "m"),
        ("地下空间", "火灾", "l"),
    )),
    Industry("交通运输", 0.04, False, ("运输", "客运", "汽车运输"), 0.9, (
        ("危险货物运输车辆", "车辆伤害", "h"), ("客运车辆", "车辆伤害", "m"), ("维修车间", "机械伤害", "m"),
        ("配电室", "触电", "m"), ("停车场", "火灾", "l"),
    )),
)  # fmt: skip
_INDUSTRY = {i.name: i for i in INDUSTRIES}
_INDUSTRY_NO = {i.name: k for k, i in enumerate(INDUSTRIES)}

#: P(source name | level) ∝ these weights by the name's tier (h/m/l); levels keep their global shares.
_TIER_WEIGHTS: dict[str, dict[str, float]] = {
    "red": {"h": 1.0, "m": 0.05, "l": 0.0},
    "orange": {"h": 1.0, "m": 0.4, "l": 0.02},
    "yellow": {"h": 0.6, "m": 1.0, "l": 0.4},
    "blue": {"h": 0.15, "m": 0.8, "l": 1.0},
}
#: How districts write levels (one convention per district's export).
_LEVEL_TEXT: dict[str, dict[str, str]] = {
    "full": {"red": "重大风险", "orange": "较大风险", "yellow": "一般风险", "blue": "低风险"},
    "short": {"red": "重大", "orange": "较大", "yellow": "一般", "blue": "低"},
    "colour": {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"},
}
_LEVEL_TEXT_SHARES = {"full": 0.75, "short": 0.19, "colour": 0.06}

#: GB 18218-2018 threshold quantities Q (tonnes) of the chemicals DOMAIN.md names.
CHEMICAL_THRESHOLDS_T: dict[str, float] = {
    "汽油": 200, "液化石油气": 50, "天然气": 50, "氢气": 5, "氯气": 5, "液氨": 10, "甲醇": 500, "苯": 50,
}  # fmt: skip
_CHEMICAL_WEIGHTS = {"汽油": 3, "液化石油气": 2, "天然气": 2, "氢气": 1, "氯气": 0.6, "液氨": 1.4, "甲醇": 2, "苯": 1}
HAZCHEM_SITE_TYPES: dict[str, float] = {"生产": 0.15, "储存": 0.15, "经营": 0.45, "使用": 0.25}
_GRADES_ZH = ("一级", "二级", "三级", "四级")

TEAM_SPECIALITIES: dict[str, float] = {
    "综合": 0.25, "消防": 0.20, "危化品": 0.08, "医疗": 0.10, "建筑": 0.08, "电力": 0.06, "燃气": 0.06,
    "矿山": 0.02, "防汛": 0.10, "交通": 0.05,
}  # fmt: skip
EXPERT_SPECIALITIES: dict[str, float] = {
    "危险化学品": 0.18, "消防": 0.12, "矿山": 0.04, "工贸": 0.14, "建筑施工": 0.14, "电气": 0.10,
    "特种设备": 0.10, "职业卫生": 0.06, "应急管理": 0.08, "医疗救护": 0.04,
}  # fmt: skip
DEPOT_SPECIALITIES: dict[str, float] = {
    "综合": 0.35, "危化品": 0.12, "消防": 0.18, "防汛": 0.15, "医疗": 0.08, "电力": 0.06, "燃气": 0.06,
}  # fmt: skip
_SOCIAL_ITEMS = ("挖掘机", "汽车起重机", "应急发电车", "排水抢险车", "装载机", "大型照明车", "医疗救护车")
_HAZARD_TEXT = {
    "一般隐患": (
        "安全出口堵塞", "灭火器过期未更换", "电气线路私拉乱接", "疏散指示标志损坏", "有限空间作业未审批",
        "安全警示标志缺失", "特种作业人员无证上岗", "消防通道被占用", "防护栏缺失", "应急预案未演练",
        "安全培训记录不全", "气瓶未固定存放",
    ),
    "重大隐患": (
        "危险化学品储存超量", "粉尘涉爆场所未安装除尘设施", "有限空间作业无通风检测设施",
        "液氨制冷车间未设置泄漏报警", "人员密集场所安全出口数量不足",
    ),
}  # fmt: skip
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂华建国志红"

# --------------------------------------------------------------------------------------
# Dirty rows
# --------------------------------------------------------------------------------------

#: What the loader is expected to do with each planted problem.
DIRTY_OUTCOMES: dict[str, str] = {
    "bad_credit_code": "rejected",
    "unknown_level": "rejected",
    "out_of_region": "rejected",
    "missing_name": "rejected",
    "bad_date": "rejected",
    "duplicate_key": "rejected",
    "swapped_lonlat": "fixed_with_warning",
    "district_mismatch": "flagged",
}
#: Coordinates far outside Jing-Jin-Ji (Shanghai, Guangzhou, Chengdu), WGS-84.
_FAR_AWAY = ((121.4737, 31.2304), (113.2644, 23.1291), (104.0665, 30.5723))
_UNKNOWN_LEVELS = ("中等", "待评估", "较高", "高风险", "未定级")
_BAD_DATES = ("2017-02-30", "2018/13/05", "去年11月", "2017.11.31", "待定")


# --------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------


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


def build_demo_reference(
    areas: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, protection_targets: gpd.GeoDataFrame
) -> DemoReference:
    """A :class:`DemoReference` from the reference entity frames (``read_reference``).

    Raises ValueError when a frame is not EPSG:4326 or lacks the Beijing districts,
    the ``zone:5th-ring`` zone or the Beijing border lines.
    """
    for name, frame in (("areas", areas), ("lines", lines), ("protection_targets", protection_targets)):
        if frame.crs is None or frame.crs.to_epsg() != 4326:
            raise ValueError(f"{name}: expected EPSG:4326, got {frame.crs}")
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
        raise ValueError("reference geography lacks the Beijing districts, zone:5th-ring or the Beijing borders")
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


@dataclass
class DemoFile:
    """One input file as a bureau would hand it over.

    ``frame`` holds the cells under the file's own (Chinese) headers, in file order;
    for GeoJSON it is a GeoDataFrame in WGS-84.  ``datum`` is the ``--datum`` to pass
    to the loader, or None when ``datum_column`` states it per row.  ``dirty`` counts
    the planted problems by reason (see :data:`DIRTY_OUTCOMES`); ``address_only`` the
    rows without coordinates (the loader geocodes them); ``dirty_reasons`` the reason
    of every row ("" for a clean one); ``warnings`` what the loader should warn about in
    rows that are otherwise clean (an assessor's level that differs from L × S).
    """

    name: str
    kind: str
    format: FileFormat
    encoding: str | None
    datum: str | None
    frame: pd.DataFrame
    description: str
    datum_column: str | None = None
    dirty: dict[str, int] = field(default_factory=dict)
    address_only: int = 0
    title: str | None = None  # a title row above the header (spreadsheets)
    sheet: str | None = None
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)
    dirty_reasons: NDArray[np.object_] | None = None
    warnings: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.frame)

    @property
    def first_row(self) -> int:
        """The row number the loader gives the first record: CSV 2 (after the header),
        XLSX 2 or 3 (after a title row), GeoJSON 1 (features count from 1)."""
        if self.format == "geojson":
            return 1
        return 3 if self.title else 2

    def dirty_rows_at(self) -> dict[str, list[int]]:
        """Reason → the file row numbers (as the loader reports them) of the planted rows."""
        if self.dirty_reasons is None:
            return {}
        out: dict[str, list[int]] = {}
        for position, reason in enumerate(self.dirty_reasons.tolist()):
            if reason:
                out.setdefault(reason, []).append(position + self.first_row)
        return out

    @property
    def expected_rejected(self) -> int:
        return sum(n for reason, n in self.dirty.items() if DIRTY_OUTCOMES[reason] == "rejected")


def scaled(count: int, scale: float, *, minimum: int = 1) -> int:
    """``count`` × ``scale`` rounded, at least ``minimum``.  Raises ValueError for scale ≤ 0."""
    if not scale > 0 or not math.isfinite(scale):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    return max(minimum, round(count * scale))


def demo_counts(scale: float) -> dict[str, int]:
    """The number of records of each :data:`SCALE_ONE_COUNTS` entry at ``scale``."""
    counts = {key: scaled(n, scale) for key, n in SCALE_ONE_COUNTS.items()}
    counts["lines"] = max(MIN_LINES, counts["lines"])
    counts["hazchem_sites"] = min(counts["hazchem_sites"], counts["units"])
    counts["risk_sources"] = max(counts["risk_sources"], counts["units"])
    counts["jjj_risk_sources"] = max(counts["jjj_risk_sources"], counts["jjj_units"])
    counts["jjj_hazchem_sites"] = min(counts["jjj_hazchem_sites"], counts["jjj_units"])
    return counts


# --------------------------------------------------------------------------------------
# Small vectorised helpers
# --------------------------------------------------------------------------------------


def _choice(rng: np.random.Generator, options: Sequence[str], shares: Sequence[float], n: int) -> NDArray[np.object_]:
    p = np.asarray(shares, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p / p.sum())]


def _choice_of(rng: np.random.Generator, table: dict[str, float], n: int) -> NDArray[np.object_]:
    return _choice(rng, list(table), list(table.values()), n)


def _jitter(rng: np.random.Generator, lon: _F, lat: _F, min_m: float, max_m: float) -> tuple[_F, _F]:
    """Points moved min_m–max_m metres in a random direction (local spherical approximation)."""
    n = len(lon)
    bearing = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(min_m, max_m, n)
    dlat = dist * np.cos(bearing) / 111_320.0
    dlon = dist * np.sin(bearing) / (111_320.0 * np.cos(np.radians(lat)))
    return lon + dlon, lat + dlat


def _keep_inside(
    lon: _F, lat: _F, fallback: tuple[_F, _F], codes: NDArray[np.object_], polygons: dict[str, BaseGeometry]
) -> tuple[_F, _F]:
    """Points outside the polygon of their code go back to their fallback point."""
    lon, lat = lon.copy(), lat.copy()
    for code in sorted(set(codes.tolist())):
        idx = np.flatnonzero(codes == code)
        inside = shapely.contains_xy(polygons[code], lon[idx], lat[idx])
        out = idx[~inside]
        lon[out], lat[out] = fallback[0][out], fallback[1][out]
    return lon, lat


def _place_near(
    rng: np.random.Generator,
    anchors: gpd.GeoDataFrame,
    codes: NDArray[np.object_],
    preferred: Sequence[str],
    polygons: dict[str, BaseGeometry],
    jitter_m: tuple[float, float],
) -> tuple[_F, _F]:
    """One point per ``codes`` entry: a random anchor of a ``preferred`` type in that
    district/county (any anchor there if it has none), moved by ``jitter_m`` metres,
    kept inside the polygon."""
    ax = anchors.geometry.x.to_numpy()
    ay = anchors.geometry.y.to_numpy()
    a_codes = anchors["county_code"].to_numpy()
    a_pref = anchors["target_type"].isin(list(preferred)).to_numpy()
    base_x = np.empty(len(codes))
    base_y = np.empty(len(codes))
    for code in sorted(set(codes.tolist())):
        idx = np.flatnonzero(codes == code)
        pool = np.flatnonzero((a_codes == code) & a_pref)
        if pool.size == 0:
            pool = np.flatnonzero(a_codes == code)
        if pool.size == 0:  # no anchor at all: a random point inside the polygon
            pts = _random_points_in(rng, polygons[code], idx.size)
            base_x[idx], base_y[idx] = pts
            continue
        pick = pool[rng.integers(0, pool.size, idx.size)]
        base_x[idx], base_y[idx] = ax[pick], ay[pick]
    lon, lat = _jitter(rng, base_x, base_y, *jitter_m)
    return _keep_inside(lon, lat, (base_x, base_y), codes, polygons)


def _random_points_in(rng: np.random.Generator, polygon: BaseGeometry, n: int) -> tuple[_F, _F]:
    minx, miny, maxx, maxy = polygon.bounds
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < n:
        x = rng.uniform(minx, maxx, 4 * n)
        y = rng.uniform(miny, maxy, 4 * n)
        ok = shapely.contains_xy(polygon, x, y)
        xs.extend(x[ok].tolist())
        ys.extend(y[ok].tolist())
    return np.asarray(xs[:n]), np.asarray(ys[:n])


def _exact_split(rng: np.random.Generator, total: int, n: int, sigma: float) -> _I:
    """``n`` positive integers summing to ``total`` (≥ n), lognormally spread."""
    weights = rng.lognormal(0.0, sigma, n)
    raw = weights / weights.sum() * (total - n)
    counts = np.floor(raw).astype(np.int64)
    remainder = total - n - int(counts.sum())
    counts[np.argsort(raw - counts)[::-1][:remainder]] += 1
    return counts + 1


def _trade_names(rng: np.random.Generator, n: int) -> NDArray[np.object_]:
    chars = np.asarray(list(_TRADE_NAME_CHARS), dtype=object)
    a = chars[rng.integers(0, len(chars), n)]
    b = chars[rng.integers(0, len(chars), n)]
    return np.asarray(a + b, dtype=object)


def _table(data: dict[str, object]) -> pd.DataFrame:
    """A frame with text columns kept as Python objects (pandas would convert them to
    Arrow strings, which costs more than the rest of the generation); scalars broadcast."""
    n = next(len(v) for v in data.values() if isinstance(v, (np.ndarray, list, pd.Series)))
    columns: dict[str, object] = {}
    for name, value in data.items():
        values = value.to_numpy() if isinstance(value, pd.Series) else value
        if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
            columns[name] = values
        elif isinstance(values, (np.ndarray, list)):
            columns[name] = pd.Series(np.asarray(values, dtype=object), dtype=object)
        else:
            columns[name] = pd.Series(np.full(n, values, dtype=object), dtype=object)
    return pd.DataFrame(columns)


def _assign(frame: pd.DataFrame, **columns: object) -> pd.DataFrame:
    return _table({**{c: frame[c].to_numpy() for c in frame.columns}, **columns})


def _unique_names(names: pd.Series) -> pd.Series:
    """Repeated names get 第N分公司 after the first, as branch offices are registered."""
    rank = names.groupby(names).cumcount()
    return names.where(rank == 0, names + "第" + (rank + 1).astype(str) + "分公司")


_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
#: Byte → value lookups: GB 11714 organisation codes use base-36 values, GB 32100 the
#: index in its 31-character alphabet.
_BASE36 = np.zeros(256, dtype=np.int64)
for _i, _c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _BASE36[ord(_c)] = _i
_CREDIT_INDEX = np.zeros(256, dtype=np.int64)
for _i, _c in enumerate(CREDIT_CODE_ALPHABET):
    _CREDIT_INDEX[ord(_c)] = _i


def _char_matrix(texts: Sequence[str], width: int) -> NDArray[np.uint8]:
    return np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(len(texts), width)


def make_credit_codes(
    rng: np.random.Generator, admin_codes: Sequence[str], *, org_type: str = "91", taken: set[str] | None = None
) -> list[str]:
    """Valid, distinct GB 32100-2015 codes, vectorised.

    Each is ``org_type`` (91 enterprise, 92 individual business), the 6-digit division
    code, a GB 11714 organisation code (8 characters — 60 % of them "MA0…", as issued
    since 2015 — and its own check character), and the GB 32100 check character
    (the formula of :func:`geo.validation.credit_code_check_digit`).  Codes in
    ``taken`` are avoided, and ``taken`` is updated.
    """
    taken = set() if taken is None else taken
    out = [""] * len(admin_codes)
    todo = np.arange(len(admin_codes))
    alphabet = np.asarray(list(CREDIT_CODE_ALPHABET), dtype=object)
    while todo.size:
        n = todo.size
        digits = rng.integers(0, 10, (n, 8)).astype(str).astype(object)
        tail = alphabet[rng.integers(0, len(CREDIT_CODE_ALPHABET), (n, 5))]
        modern = rng.random(n) < 0.6
        bodies = ["MA0" + "".join(t) if m else "".join(d) for d, t, m in zip(digits, tail, modern, strict=True)]
        org = 11 - (_BASE36[_char_matrix(bodies, 8)] @ _ORG_WEIGHTS) % 11
        org_check = np.where(org == 10, "X", np.where(org == 11, "0", org.astype(str)))
        code17 = [f"{org_type}{admin_codes[int(i)]}{b}{c}" for i, b, c in zip(todo, bodies, org_check, strict=True)]
        total = _CREDIT_INDEX[_char_matrix(code17, 17)] @ np.asarray(CREDIT_CODE_WEIGHTS)
        checks = alphabet[(31 - total % 31) % 31]
        retry = []
        for i, c17, check in zip(todo, code17, checks, strict=True):
            code = c17 + check
            if code in taken:
                retry.append(i)
            else:
                taken.add(code)
                out[i] = code
        todo = np.asarray(retry, dtype=np.int64)
    return out


def _numbers(rng: np.random.Generator, n: int) -> NDArray[np.object_]:
    return np.asarray([f"{v}号" for v in rng.integers(1, 300, n)], dtype=object)


def _masked_phones(rng: np.random.Generator, n: int, *, mobile: bool) -> list[str]:
    """Phone numbers masked as bureau exports show personal data: 139****1234 / 010-****5678."""
    tails = rng.integers(0, 10_000, n)
    if mobile:
        heads = rng.choice(np.array([135, 136, 137, 138, 139, 150, 186, 189]), n)
        return [f"{h}****{t:04d}" for h, t in zip(heads, tails, strict=True)]
    return [f"010-****{t:04d}" for t in tails]


def _fmt_coords(lon: _F, lat: _F) -> tuple[list[str], list[str]]:
    """Coordinates as text with 6 decimals (≈ 0.1 m); NaN becomes an empty cell."""
    fx = ["" if math.isnan(v) else f"{v:.6f}" for v in lon.tolist()]
    fy = ["" if math.isnan(v) else f"{v:.6f}" for v in lat.tolist()]
    return fx, fy


def _fmt_date(d: date | None) -> str:
    """A date as an Excel-made CSV shows it: 2017/11/3."""
    return "" if d is None else f"{d.year}/{d.month}/{d.day}"


def _to_datum(lon: _F, lat: _F, datum: str) -> tuple[_F, _F]:
    x, y = convert(lon, lat, src="wgs84", dst=datum)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


class _Generator:
    """The tables, true values (WGS-84 points, clean cells), one method per table.

    Every method draws from the one ``rng`` in a fixed order; :func:`generate_demo_files`
    calls them in a fixed order, which is what makes a seed reproducible.
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

    # ---------------------------------------------------------------- geography helpers

    def townships_of(self, lon: _F, lat: _F) -> NDArray[np.object_]:
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
        roads = np.asarray(_ROADS, dtype=object)[self.rng.integers(0, len(_ROADS), n)]
        numbers = _numbers(self.rng, n)
        style = self.rng.choice(3, size=n, p=[0.70, 0.25, 0.05])
        full = "北京市" + district + township + roads + numbers
        short = district + township + roads + numbers
        bare = "北京" + district + roads + numbers
        return np.where(style == 0, full, np.where(style == 1, short, bare))

    def district_draw(self, n: int, industrial: NDArray[np.bool_]) -> NDArray[np.object_]:
        codes = list(self.district_polygons)
        out = np.empty(n, dtype=object)
        for flag, table in ((True, DISTRICT_WEIGHTS_INDUSTRIAL), (False, DISTRICT_WEIGHTS_OTHER)):
            idx = np.flatnonzero(industrial == flag)
            out[idx] = _choice(self.rng, codes, [table[c] for c in codes], idx.size)
        return out

    # ---------------------------------------------------------------- units

    def units(self) -> pd.DataFrame:
        rng, c = self.rng, self.counts
        n = c["units"]
        n_hazchem = c["hazchem_sites"]
        n_gas = min(max(1, round(n * GAS_OWNER_SHARE)), n - n_hazchem) if n > n_hazchem else 0
        rest = [i for i in INDUSTRIES if i.name not in ("危险化学品", "加油站")]
        industry = np.concatenate(
            [
                np.full(n_hazchem, "危险化学品", dtype=object),
                np.full(n_gas, "加油站", dtype=object),
                _choice(rng, [i.name for i in rest], [i.share for i in rest], n - n_hazchem - n_gas),
            ]
        )
        industry = industry[rng.permutation(n)]
        industrial = np.asarray([_INDUSTRY[i].industrial for i in industry])
        district_code = self.district_draw(n, industrial)
        lon, lat = self._place_by_industry(district_code, industrial, self.district_polygons, self.beijing_anchors)
        district = np.asarray([self.district_names[d] for d in district_code], dtype=object)
        township = self.townships_of(lon, lat)
        words = np.asarray(
            [
                _INDUSTRY[i].words[k % len(_INDUSTRY[i].words)]
                for i, k in zip(industry, rng.integers(0, 1000, n), strict=True)
            ],
            dtype=object,
        )
        suffix = np.where(rng.random(n) < 0.1, "有限责任公司", "有限公司")
        names = _unique_names(pd.Series("北京" + _trade_names(rng, n) + words + suffix))
        frame = _table(
            {
                "credit_code": make_credit_codes(rng, list(district_code), taken=self.taken_codes),
                "name": names.to_numpy(),
                "industry": industry,
                "district_code": district_code,
                "district": district,
                "township": township,
                "address": self.beijing_address(district, township),
                "standard_grade": _choice_of(rng, STANDARD_GRADE_SHARES, n),
                "insured": np.where(rng.random(n) < INSURED_SHARE, "是", "否"),
                "lon": lon,
                "lat": lat,
            }
        )
        return frame.sort_values("credit_code", kind="stable").reset_index(drop=True)

    def _place_by_industry(
        self,
        codes: NDArray[np.object_],
        industrial: NDArray[np.bool_],
        polygons: dict[str, BaseGeometry],
        anchors: gpd.GeoDataFrame,
    ) -> tuple[_F, _F]:
        lon = np.empty(len(codes))
        lat = np.empty(len(codes))
        for flag, preferred in ((True, ("industrial_landuse",)), (False, ("residential", "crowded_place"))):
            idx = np.flatnonzero(industrial == flag)
            lon[idx], lat[idx] = _place_near(self.rng, anchors, codes[idx], preferred, polygons, (50, 300))
        return lon, lat

    def jjj_units(self) -> pd.DataFrame:
        rng, c = self.rng, self.counts
        n = c["jjj_units"]
        n_hazchem = c["jjj_hazchem_sites"]
        rest = [i for i in INDUSTRIES if i.name != "危险化学品"]
        shares = [i.share if i.name != "加油站" else GAS_OWNER_SHARE for i in rest]
        industry = np.concatenate(
            [
                np.full(n_hazchem, "危险化学品", dtype=object),
                _choice(rng, [i.name for i in rest], shares, n - n_hazchem),
            ]
        )[rng.permutation(n)]
        industrial = np.asarray([_INDUSTRY[i].industrial for i in industry])
        county_counts = self.jjj_anchors["county_code"].value_counts().sort_index()
        county_code = _choice(rng, list(county_counts.index), county_counts.to_numpy(dtype=float), n)
        lon, lat = self._place_by_industry(county_code, industrial, self.county_polygons, self.jjj_anchors)
        county = self.counties.loc[list(county_code)]
        province = county["province"].to_numpy(dtype=object)
        city = county["city"].to_numpy(dtype=object)
        name = county["name"].to_numpy(dtype=object)
        # Tianjin addresses have no city level: 天津市武清区…; Hebei: 河北省廊坊市三河市…
        prefix = np.where(province == city, province + name, province + city + name)
        roads = np.asarray(_ROADS, dtype=object)[rng.integers(0, len(_ROADS), n)]
        words = np.asarray([_INDUSTRY[i].words[0] for i in industry], dtype=object)
        short = np.asarray([p[:2] if p != "天津市" else "天津" for p in province], dtype=object)
        names = _unique_names(pd.Series(short + _trade_names(rng, n) + words + "有限公司"))
        frame = _table(
            {
                "credit_code": make_credit_codes(rng, list(county_code), taken=self.taken_codes),
                "name": names.to_numpy(),
                "industry": industry,
                "district_code": county_code,
                "district": name,
                "township": np.full(n, "", dtype=object),
                "address": prefix + roads + _numbers(rng, n),
                "standard_grade": _choice_of(rng, STANDARD_GRADE_SHARES, n),
                "insured": np.where(rng.random(n) < INSURED_SHARE, "是", "否"),
                "lon": lon,
                "lat": lat,
            }
        )
        return frame.sort_values("credit_code", kind="stable").reset_index(drop=True)

    # ---------------------------------------------------------------- risk sources

    def risk_sources(self, units: pd.DataFrame, total: int, polygons: dict[str, BaseGeometry]) -> pd.DataFrame:
        rng = self.rng
        n_units = len(units)
        factor = np.asarray([_INDUSTRY[i].source_factor for i in units["industry"]])
        weights = rng.gamma(0.9, 1.0, n_units) * factor
        per_unit = 1 + rng.multinomial(total - n_units, weights / weights.sum())
        owner = np.repeat(np.arange(n_units), per_unit)
        n = len(owner)
        seq = np.arange(n) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit) + 1
        level = _choice_of(rng, LEVEL_SHARES, n)
        industry = units["industry"].to_numpy()[owner]
        names = np.empty(n, dtype=object)
        types = np.empty(n, dtype=object)
        industry_no = np.asarray([_INDUSTRY_NO[i] for i in units["industry"]])[owner]
        level_no = {lvl: level == lvl for lvl in LEVEL_SHARES}
        for k, ind in enumerate(INDUSTRIES):
            of_industry = industry_no == k
            for lvl in LEVEL_SHARES:
                idx = np.flatnonzero(of_industry & level_no[lvl])
                if idx.size == 0:
                    continue
                w = np.asarray([_TIER_WEIGHTS[lvl][tier] for _, _, tier in ind.sources])
                pick = rng.choice(len(ind.sources), size=idx.size, p=w / w.sum())
                names[idx] = np.asarray([s[0] for s in ind.sources], dtype=object)[pick]
                types[idx] = np.asarray([s[1] for s in ind.sources], dtype=object)[pick]
        likelihood, severity = self._ls_for(level)
        ux = units["lon"].to_numpy()[owner]
        uy = units["lat"].to_numpy()[owner]
        lon, lat = _jitter(rng, ux, uy, 0, 80)
        lon, lat = _keep_inside(lon, lat, (ux, uy), units["district_code"].to_numpy()[owner], polygons)
        return _table(
            {
                "credit_code": units["credit_code"].to_numpy()[owner],
                "unit_name": units["name"].to_numpy()[owner],
                "source_code": [f"FX{s:04d}" for s in seq],
                "name": names,
                "source_type": types,
                "likelihood": likelihood,
                "severity": severity,
                "level": level,
                "industry": industry,
                "address": units["address"].to_numpy()[owner],
                "district_code": units["district_code"].to_numpy()[owner],
                "district": units["district"].to_numpy()[owner],
                "township": units["township"].to_numpy()[owner],
                "lon": lon,
                "lat": lat,
            }
        )

    def _ls_for(self, level: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
        """(L, S) pairs whose L×S gives ``level``; a few one level lower (an override), some blank."""
        rng = self.rng
        pairs: dict[str, list[tuple[int, int]]] = {lvl: [] for lvl in LEVEL_SHARES}
        for lk in LS_SCALE:
            for sv in LS_SCALE:
                pairs[level_from_ls(lk, sv)].append((lk, sv))
        lower = {"red": "orange", "orange": "yellow", "yellow": "blue", "blue": "blue"}
        source_level = level.copy()
        override = rng.random(len(level)) < LEVEL_OVERRIDE_SHARE
        source_level[override] = [lower[v] for v in level[override]]
        likelihood = np.empty(len(level), dtype=object)
        severity = np.empty(len(level), dtype=object)
        for lvl, options in pairs.items():
            idx = np.flatnonzero(source_level == lvl)
            pick = rng.integers(0, len(options), idx.size)
            likelihood[idx] = [str(options[k][0]) for k in pick]
            severity[idx] = [str(options[k][1]) for k in pick]
        blank = rng.random(len(level)) < NO_LS_SHARE
        likelihood[blank] = ""
        severity[blank] = ""
        return likelihood, severity

    def level_text(self, level: NDArray[np.object_], district_code: NDArray[np.object_]) -> NDArray[np.object_]:
        """Each district's export writes levels its own way (重大风险 / 重大 / 红色)."""
        codes = sorted(set(district_code.tolist()))
        style_of = dict(zip(codes, _choice_of(self.rng, _LEVEL_TEXT_SHARES, len(codes)), strict=True))
        return np.asarray(
            [_LEVEL_TEXT[style_of[d]][lv] for d, lv in zip(district_code, level, strict=True)], dtype=object
        )

    # ---------------------------------------------------------------- hazardous chemicals

    def chemicals(self, n: int, *, scale_q: float = 1.0) -> tuple[list[str], _F]:
        """(JSON list of {name, tonnes}, Σ q/Q) per site; q/Q lognormal around 0.25 × ``scale_q``."""
        rng = self.rng
        names = list(_CHEMICAL_WEIGHTS)
        p = np.asarray(list(_CHEMICAL_WEIGHTS.values()))
        texts: list[str] = []
        ratio = np.zeros(n)
        for i in range(n):
            k = int(rng.choice([1, 1, 1, 2, 2, 3]))
            picked = rng.choice(len(names), size=k, replace=False, p=p / p.sum())
            items = []
            for j in sorted(picked.tolist()):
                q = CHEMICAL_THRESHOLDS_T[names[j]] * scale_q * float(rng.lognormal(-1.4, 1.2))
                tonnes = round(max(q, 0.05), 2)
                ratio[i] += tonnes / CHEMICAL_THRESHOLDS_T[names[j]]
                items.append({"name": names[j], "tonnes": tonnes})
            texts.append(json.dumps(items, ensure_ascii=False))
        return texts, ratio

    def hazchem_sites(self, units: pd.DataFrame, prefix: str) -> pd.DataFrame:
        rng = self.rng
        owners = units[units["industry"] == "危险化学品"].reset_index(drop=True)
        n = len(owners)
        chemicals, ratio = self.chemicals(n)
        # Only a share of the major hazards carry a grade in the export; the engine computes it.
        # Grade by R ≈ 1.5 Σ q/Q (β = 1.5, α = 1): ≥100 一级, ≥50 二级, ≥10 三级, else 四级.
        r = 1.5 * ratio
        grade = np.where(r >= 100, 0, np.where(r >= 50, 1, np.where(r >= 10, 2, 3)))
        stated = (ratio >= 1) & (rng.random(n) < 0.6)
        grade_text = np.where(stated, np.asarray(_GRADES_ZH, dtype=object)[grade], "")
        distance = np.where(rng.random(n) < 0.25, rng.choice([50, 80, 100, 150, 200, 300, 500], n), 0)
        site_type = _choice_of(rng, HAZCHEM_SITE_TYPES, n)
        # production and storage have mostly left the 5th Ring (seed 001: 135 moved out by 2018)
        inside = shapely.contains_xy(self.ref.fifth_ring, owners["lon"].to_numpy(float), owners["lat"].to_numpy(float))
        moved = inside & np.isin(site_type, ["生产", "储存"]) & (rng.random(n) < 0.8)
        site_type[moved] = "使用"
        return _table(
            {
                "credit_code": owners["credit_code"],
                "site_code": [f"{prefix}{i + 1:05d}" for i in range(n)],
                "name": owners["name"],
                "site_type": site_type,
                "chemicals": chemicals,
                "major_hazard_grade": grade_text,
                "external_distance_m": [str(int(d)) if d else "" for d in distance],
                "address": owners["address"],
                "district_code": owners["district_code"],
                "district": owners["district"],
                "lon": owners["lon"],
                "lat": owners["lat"],
            }
        )

    def gas_stations(self, units: pd.DataFrame) -> pd.DataFrame:
        rng, c = self.rng, self.counts
        owners = units[units["industry"] == "加油站"].reset_index(drop=True)
        if owners.empty:  # tiny scales: the first unit runs them
            owners = units.iloc[:1].reset_index(drop=True)
        n_open, n_closed = c["gas_stations_operating"], c["gas_stations_closed"]
        n = n_open + n_closed
        anchors = self.beijing_anchors[self.beijing_anchors["target_type"].isin(["residential", "crowded_place"])]
        ax = anchors.geometry.x.to_numpy()
        ay = anchors.geometry.y.to_numpy()
        inside_ring = shapely.contains_xy(self.ref.fifth_ring, ax, ay)
        weight = np.where(inside_ring, 0.04, 1.0)  # few stations inside the 5th Ring
        pick = rng.choice(len(anchors), size=n, p=weight / weight.sum())
        codes = anchors["county_code"].to_numpy()[pick]
        lon, lat = _jitter(rng, ax[pick], ay[pick], 150, 500)
        lon, lat = _keep_inside(lon, lat, (ax[pick], ay[pick]), codes, self.district_polygons)
        in_ring = shapely.contains_xy(self.ref.fifth_ring, lon, lat)
        grade = _choice(rng, ["一级", "二级", "三级"], [0.10, 0.45, 0.45], n)
        grade[in_ring & (grade == "一级")] = "二级"  # GB 50156: no grade-1 station in the city centre
        tonnes = {"一级": (90, 150), "二级": (50, 100), "三级": (15, 60)}
        chemicals = []
        for g in grade:
            low, high = tonnes[g]
            items = [{"name": "汽油", "tonnes": round(float(rng.uniform(low, high)), 1)}]
            if rng.random() < 0.1:
                gas = "液化石油气" if rng.random() < 0.5 else "天然气"
                items.append({"name": gas, "tonnes": round(float(rng.uniform(2, 20)), 1)})
            chemicals.append(json.dumps(items, ensure_ascii=False))
        owner = rng.integers(0, len(owners), n)
        district = np.asarray([self.district_names[d] for d in codes], dtype=object)
        township = self.townships_of(lon, lat)
        station = [re.sub(r"(街道|地区|回族乡|满族乡|镇|乡)$", "", t) for t in township]
        names = pd.Series(owners["name"].to_numpy()[owner]).str.removeprefix("北京") + pd.Series(station) + "加油站"
        return _table(
            {
                "credit_code": owners["credit_code"].to_numpy()[owner],
                "site_code": [f"JYZ{i + 1:05d}" for i in range(n)],
                "name": _unique_names(names).to_numpy(),
                "site_type": np.full(n, "加油站", dtype=object),
                "gas_station_grade": grade,
                "operating": np.asarray(["是"] * n_open + ["否"] * n_closed, dtype=object)[rng.permutation(n)],
                "chemicals": chemicals,
                "address": self.beijing_address(district, township),
                "district_code": codes,
                "district": district,
                "lon": lon,
                "lat": lat,
            }
        )

    def fireworks(self) -> pd.DataFrame:
        """Retail points, all outside the 5th Ring (and ≥ ~500 m from it): none inside since 2018."""
        rng, n = self.rng, self.counts["fireworks"]
        clear = self.ref.fifth_ring.buffer(0.006)  # ≈ 500–650 m in Beijing
        anchors = self.beijing_anchors[self.beijing_anchors["target_type"].isin(["residential", "crowded_place"])]
        ax = anchors.geometry.x.to_numpy()
        ay = anchors.geometry.y.to_numpy()
        allowed = np.flatnonzero(~shapely.contains_xy(clear, ax, ay))
        pick = allowed[rng.integers(0, allowed.size, n)]
        codes = anchors["county_code"].to_numpy()[pick]
        lon, lat = _jitter(rng, ax[pick], ay[pick], 50, 200)
        lon, lat = _keep_inside(lon, lat, (ax[pick], ay[pick]), codes, self.district_polygons)
        back = shapely.contains_xy(clear, lon, lat)
        lon[back], lat[back] = ax[pick][back], ay[pick][back]
        district = np.asarray([self.district_names[d] for d in codes], dtype=object)
        township = self.townships_of(lon, lat)
        owner = _choice(rng, list(_SURNAMES), [1.0] * len(_SURNAMES), n)
        names = pd.Series(township) + pd.Series(owner) + "某烟花爆竹零售点"
        tonnes = rng.uniform(0.1, 0.8, n)
        return _table(
            {
                "credit_code": make_credit_codes(rng, list(codes), org_type="92", taken=self.taken_codes),
                "site_code": [f"YHBZ2018{i + 1:04d}" for i in range(n)],
                "name": _unique_names(names).to_numpy(),
                "site_type": np.full(n, "烟花爆竹零售点", dtype=object),
                "chemicals": [
                    json.dumps([{"name": "烟花爆竹", "tonnes": round(float(t), 2)}], ensure_ascii=False) for t in tonnes
                ],
                "address": self.beijing_address(district, township),
                "district_code": codes,
                "district": district,
                "lon": lon,
                "lat": lat,
            }
        )

    # ---------------------------------------------------------------- hidden hazards

    def hidden_hazards(self, units: pd.DataFrame) -> pd.DataFrame:
        rng, n = self.rng, self.counts["hidden_hazards"]
        weights = rng.gamma(0.7, 1.0, len(units))
        owner = np.sort(rng.choice(len(units), size=n, p=weights / weights.sum()))
        in_campaign = rng.random(n) < 0.85
        campaign_days = (CAMPAIGN[1] - CAMPAIGN[0]).days
        year_days = (date(2018, 12, 20) - date(2017, 1, 1)).days
        offset = np.where(
            in_campaign,
            (CAMPAIGN[0] - date(2017, 1, 1)).days + rng.integers(0, campaign_days + 1, n),
            rng.integers(0, year_days + 1, n),
        )
        found = [date(2017, 1, 1) + timedelta(days=int(d)) for d in offset]
        limit = rng.choice([7, 15, 30, 60, 90], n)
        deadline = [f + timedelta(days=int(k)) for f, k in zip(found, limit, strict=True)]
        n_open = max(1, round(n * HAZARD_OPEN_SHARE))
        open_idx = rng.choice(n, size=n_open, replace=False)
        is_open = np.zeros(n, dtype=bool)
        is_open[open_idx] = True
        # open ones: found in late 2018, so some are past their deadline at the snapshot and some not
        for i in open_idx:
            found[i] = date(2018, 9, 1) + timedelta(days=int(rng.integers(0, 110)))
            deadline[i] = found[i] + timedelta(days=int(rng.choice([30, 60, 90, 120])))
        late = rng.random(n) < 0.03
        rectified: list[date | None] = []
        for i in range(n):
            if is_open[i]:
                rectified.append(None)
                continue
            span = (deadline[i] - found[i]).days
            days = int(rng.integers(span + 1, span + 30)) if late[i] else int(rng.integers(1, span + 1))
            rectified.append(min(found[i] + timedelta(days=days), SNAPSHOT_DATE))
        severity = np.where(rng.random(n) < HAZARD_MAJOR_SHARE, "重大隐患", "一般隐患")
        text = np.empty(n, dtype=object)
        for sev, options in _HAZARD_TEXT.items():
            idx = np.flatnonzero(severity == sev)
            text[idx] = np.asarray(options, dtype=object)[rng.integers(0, len(options), idx.size)]
        district_code = units["district_code"].to_numpy()[owner]
        return _table(
            {
                "hazard_code": [
                    f"YH{d}{f.year}{i + 1:06d}" for i, (d, f) in enumerate(zip(district_code, found, strict=True))
                ],
                "credit_code": units["credit_code"].to_numpy()[owner],
                "unit_name": units["name"].to_numpy()[owner],
                "severity": severity,
                "description": text,
                "found_date": [_fmt_date(d) for d in found],
                "deadline": [_fmt_date(d) for d in deadline],
                "rectified_date": [_fmt_date(d) for d in rectified],
                "status": np.where(is_open, "未整改", "已整改"),
                "district_code": district_code,
                "district": units["district"].to_numpy()[owner],
                "lon": units["lon"].to_numpy()[owner],
                "lat": units["lat"].to_numpy()[owner],
            }
        )

    # ---------------------------------------------------------------- resources

    def _community_points(self, n: int, types: Sequence[str], jitter_m: tuple[float, float]) -> pd.DataFrame:
        """``n`` points near Beijing anchors of ``types``, weighted by district (services weights)."""
        codes = self.district_draw(n, np.zeros(n, dtype=bool))
        lon, lat = _place_near(self.rng, self.beijing_anchors, codes, types, self.district_polygons, jitter_m)
        district = np.asarray([self.district_names[d] for d in codes], dtype=object)
        township = self.townships_of(lon, lat)
        return _table(
            {
                "district_code": codes,
                "district": district,
                "township": township,
                "address": self.beijing_address(district, township),
                "lon": lon,
                "lat": lat,
            }
        )

    def teams(self, units: pd.DataFrame) -> pd.DataFrame:
        rng, n = self.rng, self.counts["teams"]
        speciality = _choice_of(rng, TEAM_SPECIALITIES, n)
        at_unit = rng.random(n) < 0.5
        where = self._community_points(n, ("residential", "crowded_place", "school"), (50, 400))
        owner = rng.integers(0, len(units), n)
        for col in ("district_code", "district", "township", "address", "lon", "lat"):
            values = where[col].to_numpy().copy()
            values[at_unit] = units[col].to_numpy()[owner][at_unit]
            where[col] = values
        seq = rng.integers(1, 30, n)
        community = [
            f"{t}第{k}{s}应急救援队" if s != "综合" else f"{t}第{k}应急救援队"
            for t, k, s in zip(where["township"], seq, speciality, strict=True)
        ]
        company = [
            f"{u}{'专职' if s in ('消防', '危化品', '矿山') else '兼职'}应急救援队"
            for u, s in zip(units["name"].to_numpy()[owner], speciality, strict=True)
        ]
        names = np.where(at_unit, np.asarray(company, dtype=object), np.asarray(community, dtype=object))
        professional = np.isin(speciality, ["消防", "危化品", "矿山"])
        capacity = np.where(professional, rng.integers(20, 200, n), rng.integers(5, 50, n))
        return _assign(
            where,
            resource_code=[f"DW{d}{i + 1:06d}" for i, d in enumerate(where["district_code"])],
            name=_unique_names(pd.Series(names)).to_numpy(),
            resource_type="救援队伍",
            speciality=speciality,
            capacity=capacity.astype(str),
            contact=_masked_phones(rng, n, mobile=False),
        )

    def experts(self, units: pd.DataFrame) -> pd.DataFrame:
        rng, n = self.rng, self.counts["experts"]
        where = self._community_points(n, ("university", "college", "hospital"), (30, 200))
        at_unit = rng.random(n) < 0.5
        owner = rng.integers(0, len(units), n)
        for col in ("district_code", "district", "township", "address", "lon", "lat"):
            values = where[col].to_numpy().copy()
            values[at_unit] = units[col].to_numpy()[owner][at_unit]
            where[col] = values
        surname = np.asarray(list(_SURNAMES), dtype=object)[rng.integers(0, len(_SURNAMES), n)]
        given = np.asarray(list(_GIVEN), dtype=object)[rng.integers(0, len(_GIVEN), n)]
        return _assign(
            where,
            resource_code=[f"ZJ{i + 1:06d}" for i in range(n)],
            name=surname + "某" + given,
            resource_type="专家",
            speciality=_choice_of(rng, EXPERT_SPECIALITIES, n),
            contact=_masked_phones(rng, n, mobile=True),
        )

    def depots(self) -> pd.DataFrame:
        rng, c = self.rng, self.counts
        frames = []
        for kind, prefix, label, depots, items in (
            ("装备库", "ZB", "应急装备库", c["equipment_depots"], c["equipment_items"]),
            ("物资库", "WZ", "应急物资储备库", c["supply_depots"], c["supply_items"]),
        ):
            where = self._community_points(depots, ("industrial_landuse", "crowded_place"), (50, 300))
            speciality = _choice_of(rng, DEPOT_SPECIALITIES, depots)
            frames.append(
                _assign(
                    where,
                    resource_code=[f"{prefix}{i + 1:05d}" for i in range(depots)],
                    name=_unique_names(pd.Series(where["district"] + where["township"].to_numpy() + label)).to_numpy(),
                    resource_type=kind,
                    speciality=speciality,
                    item_count=_exact_split(rng, max(items, depots), depots, 1.2).astype(str),
                    contact=_masked_phones(rng, depots, mobile=False),
                )
            )
        return pd.concat(frames, ignore_index=True)

    def shelters(self) -> pd.DataFrame:
        rng, n = self.rng, self.counts["shelters"]
        where = self._community_points(n, ("school", "university", "college", "crowded_place"), (50, 300))
        seq = where.groupby("township").cumcount() + 1
        capacity = np.round(rng.lognormal(math.log(6000), 0.9, n), -2).clip(500, 120_000).astype(int)
        return _assign(
            where,
            resource_code=[f"BN{i + 1:05d}" for i in range(n)],
            name=(where["township"] + "第" + seq.astype(str) + "应急避难场所").to_numpy(),
            resource_type="避难场所",
            capacity=capacity.astype(str),
        )

    def social(self) -> pd.DataFrame:
        rng, n = self.rng, self.counts["social_resources"]
        where = self._community_points(n, ("industrial_landuse", "residential"), (50, 300))
        item = np.asarray(_SOCIAL_ITEMS, dtype=object)[rng.integers(0, len(_SOCIAL_ITEMS), n)]
        owner = "北京" + _trade_names(rng, n) + np.asarray(["工程机械租赁有限公司"] * n, dtype=object)
        return _assign(
            where,
            resource_code=[f"SH{i + 1:05d}" for i in range(n)],
            name=owner + "（" + item + "）",
            resource_type="社会资源",
            speciality=item,
            item_count=rng.integers(1, 12, n).astype(str),
            contact=_masked_phones(rng, n, mobile=True),
        )

    # ---------------------------------------------------------------- lines

    def lines(self) -> gpd.GeoDataFrame:
        """Pipelines and hazmat routes; about 60 % cross the Beijing–Hebei/Tianjin borders."""
        rng, n = self.rng, self.counts["lines"]
        borders = self.ref.borders
        border_union = borders.geometry.union_all()
        bj = self.beijing_anchors[self.beijing_anchors["target_type"].isin(["industrial_landuse", "residential"])]
        kinds = _choice(rng, ["输油管道", "输气管道", "输水管道", "危化品运输路线"], [8, 10, 6, 12], n)
        crossing = np.zeros(n, dtype=bool)
        crossing[rng.permutation(n)[: max(2, round(0.6 * n))]] = True
        geoms: list[LineString] = []
        names: list[str] = []
        for i in range(n):
            if crossing[i]:
                # alternate the two borders so both carry lines; Hebei's is 15× longer
                code = "border:110000-130000" if i % 3 else "border:110000-120000"
                geom, name = self._crossing_line(code, border_union, bj)
            else:
                geom, name = self._beijing_line(bj)
            geoms.append(geom)
            names.append(name + kinds[i])
        op_word = np.where(np.isin(kinds, ["危化品运输路线"]), "危险货物运输有限公司", "管道运营有限公司")
        operator = "华北" + _trade_names(rng, n) + op_word
        prefix = np.where(kinds == "危化品运输路线", "WY", "GD")
        return gpd.GeoDataFrame(
            {
                "编码": [f"{p}-{i + 1:03d}" for i, p in enumerate(prefix)],
                "名称": names,
                "类型": kinds,
                "运营单位": operator,
                "合成数据": "是",
            },
            geometry=geoms,
            crs=WGS84,
        )

    def _crossing_line(
        self, border_code: str, border_union: BaseGeometry, bj: gpd.GeoDataFrame
    ) -> tuple[LineString, str]:
        rng = self.rng
        border = self.ref.borders.set_index("line_code").geometry[border_code]
        province = border_code.split("-")[1]
        outside = self.jjj_anchors[self.jjj_anchors["province_code"] == province]
        ox, oy = outside.geometry.x.to_numpy(), outside.geometry.y.to_numpy()
        ix, iy = bj.geometry.x.to_numpy(), bj.geometry.y.to_numpy()
        for _ in range(50):
            p = border.interpolate(float(rng.uniform(0, 1)), normalized=True)
            near_out = np.argsort((ox - p.x) ** 2 + (oy - p.y) ** 2)[:15]
            near_in = np.argsort((ix - p.x) ** 2 + (iy - p.y) ** 2)[:15]
            a = int(near_out[rng.integers(0, near_out.size)])
            b = int(near_in[rng.integers(0, near_in.size)])
            start, end = (ox[a], oy[a]), (ix[b], iy[b])
            line = _wiggle(rng, [start, (p.x, p.y), end])
            if line.crosses(border_union) and shapely.contains_xy(self.ref.beijing, *end):
                out_code = outside["county_code"].to_numpy()[a]
                in_code = bj["county_code"].to_numpy()[b]
                name = f"{_short(self.counties.loc[out_code, 'name'])}—{_short(self.district_names[in_code])}"
                return line, name
        raise ValueError(f"could not draw a line across {border_code}")  # pragma: no cover

    def _beijing_line(self, bj: gpd.GeoDataFrame) -> tuple[LineString, str]:
        rng = self.rng
        x, y = bj.geometry.x.to_numpy(), bj.geometry.y.to_numpy()
        a = int(rng.integers(0, len(bj)))
        d2 = (x - x[a]) ** 2 + (y - y[a]) ** 2
        far = np.flatnonzero((d2 > 0.1**2) & (d2 < 0.4**2))  # ≈ 10–40 km away
        b = int(far[rng.integers(0, far.size)]) if far.size else int(np.argmax(d2))
        line = _wiggle(rng, [(x[a], y[a]), (x[b], y[b])])
        codes = bj["county_code"].to_numpy()
        names = [_short(self.district_names[codes[k]]) for k in (a, b)]
        name = f"{names[0]}—{names[1]}" if names[0] != names[1] else f"{names[0]}区内"
        return line, name


def _short(name: str) -> str:
    for suffix in ("回族自治县", "满族自治县", "区", "县", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name.removesuffix(suffix)
    return name


def _wiggle(rng: np.random.Generator, points: Sequence[tuple[float, float]]) -> LineString:
    """A line through ``points`` with 3 intermediate vertices per leg, moved ≤ ~1 km sideways."""
    coords: list[tuple[float, float]] = [(float(points[0][0]), float(points[0][1]))]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        length = math.hypot(x1 - x0, y1 - y0) or 1e-9
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        for t in (0.25, 0.5, 0.75):
            off = float(rng.uniform(-0.01, 0.01)) * min(1.0, length / 0.05)
            coords.append((x0 + t * (x1 - x0) + off * nx, y0 + t * (y1 - y0) + off * ny))
        coords.append((float(x1), float(y1)))
    return LineString(np.round(np.asarray(coords), 6))


# --------------------------------------------------------------------------------------
# From true values to the bureau's files
# --------------------------------------------------------------------------------------

_SYNTHETIC = "合成数据"


@dataclass(frozen=True)
class _Layout:
    """How one file is written: headers (canonical → Chinese), datum, address-only share."""

    headers: dict[str, str]
    datum: str | None  # None: per-row datum column 坐标系
    lon: str = "经度"
    lat: str = "纬度"
    address_only: float = 0.0


def _file_frame(
    rng: np.random.Generator, true: pd.DataFrame, layout: _Layout
) -> tuple[pd.DataFrame, NDArray[np.bool_]]:
    """The file table: Chinese headers, coordinates in the file's datum as text, 合成数据 = 是.

    Returns the table and a mask of the address-only rows.
    """
    n = len(true)
    lon = true["lon"].to_numpy(dtype=float)
    lat = true["lat"].to_numpy(dtype=float)
    address_only = rng.random(n) < layout.address_only if layout.address_only else np.zeros(n, dtype=bool)
    columns: dict[str, object] = {zh: true[col].to_numpy() for col, zh in layout.headers.items()}
    if layout.datum is None:
        datum = _choice(rng, ["wgs84", "gcj02", "bd09", "cgcs2000"], [0.55, 0.30, 0.10, 0.05], n)
        x, y = lon.copy(), lat.copy()
        for d in ("gcj02", "bd09"):
            idx = np.flatnonzero(datum == d)
            x[idx], y[idx] = _to_datum(lon[idx], lat[idx], d)
        labels = {"wgs84": "WGS84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}
        datum_text = np.asarray([labels[d] for d in datum], dtype=object)
        datum_text[address_only] = ""
    else:
        x, y = _to_datum(lon, lat, layout.datum)
    x[address_only], y[address_only] = np.nan, np.nan
    columns[layout.lon], columns[layout.lat] = _fmt_coords(x, y)
    if layout.datum is None:
        columns["坐标系"] = datum_text
    columns[_SYNTHETIC] = "是"
    return _table(columns), address_only


def _plant_dirty(
    rng: np.random.Generator,
    frame: pd.DataFrame,
    rates: dict[str, float],
    *,
    address_only: NDArray[np.bool_],
    lon: str = "经度",
    lat: str = "纬度",
    datum: str | None = "wgs84",
    name_col: str | None = None,
    duplicate_change: tuple[str, Callable[[str], str]] | None = None,
    district_names: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict[str, int], NDArray[np.object_]]:
    """Plant problems in distinct rows with coordinates (one problem per row, none in an
    address-only row) and append duplicate-key rows.

    ``rates`` maps a reason of :data:`DIRTY_OUTCOMES` to the share of rows; files with
    ≥ 20 rows get at least one of each.  Returns the new table, the counts and the
    reason of every row of the new table ("" for a clean one).
    """
    n = len(frame)
    frame = frame.copy()
    counts: dict[str, int] = {}
    wanted = {r: (max(1, round(rate * n)) if n >= 20 else round(rate * n)) for r, rate in rates.items()}
    free = np.ones(n, dtype=bool)
    reason_of = np.full(n, "", dtype=object)
    for reason, k in wanted.items():
        if reason == "duplicate_key" or k == 0:
            continue
        pool = np.flatnonzero(free & ~address_only)  # keeps dirty and address-only rows apart
        rows = np.sort(rng.choice(pool, size=min(k, pool.size), replace=False))
        free[rows] = False
        reason_of[rows] = reason
        counts[reason] = int(rows.size)
        col_idx = frame.columns.get_loc
        if reason == "bad_credit_code":
            col = col_idx("统一社会信用代码")
            for r in rows:
                code = str(frame.iat[r, col])
                wrong = [ch for ch in CREDIT_CODE_ALPHABET if ch != code[-1]]
                frame.iat[r, col] = code[:-1] + wrong[int(rng.integers(0, len(wrong)))]
        elif reason == "unknown_level":
            frame.iloc[rows, col_idx("风险等级")] = np.asarray(_UNKNOWN_LEVELS, dtype=object)[
                rng.integers(0, len(_UNKNOWN_LEVELS), rows.size)
            ]
        elif reason == "missing_name":
            frame.iloc[rows, col_idx(name_col)] = ""
        elif reason == "bad_date":
            frame.iloc[rows, col_idx("排查日期")] = np.asarray(_BAD_DATES, dtype=object)[
                rng.integers(0, len(_BAD_DATES), rows.size)
            ]
        elif reason == "swapped_lonlat":
            x = frame.iloc[rows, col_idx(lon)].to_numpy()
            frame.iloc[rows, col_idx(lon)] = frame.iloc[rows, col_idx(lat)].to_numpy()
            frame.iloc[rows, col_idx(lat)] = x
        elif reason == "out_of_region":
            far = np.asarray(_FAR_AWAY)[rng.integers(0, len(_FAR_AWAY), rows.size)]
            fx, fy = _to_datum(far[:, 0], far[:, 1], datum or "wgs84")
            frame.iloc[rows, col_idx(lon)], frame.iloc[rows, col_idx(lat)] = _fmt_coords(fx, fy)
        elif reason == "district_mismatch":
            col = col_idx("所属区")
            for r in rows:
                others = [d for d in district_names if d != frame.iat[r, col]]
                frame.iat[r, col] = others[int(rng.integers(0, len(others)))]
        else:  # pragma: no cover - a typo in a rates table
            raise ValueError(f"unknown dirty-row reason {reason!r}")
    k = wanted.get("duplicate_key", 0)
    if k:
        pool = np.flatnonzero(free & ~address_only)
        originals = np.sort(rng.choice(pool, size=min(k, pool.size), replace=False))
        dups = frame.iloc[originals].copy()
        if duplicate_change:
            col, change = duplicate_change
            dups[col] = [change(str(v)) for v in dups[col]]
        # each copy lands somewhere after its original, as a re-exported record would
        order = np.concatenate([np.arange(n, dtype=float), originals + rng.uniform(0.5, n - originals + 0.5)])
        position = np.argsort(order, kind="stable")
        frame = pd.concat([frame, dups], ignore_index=True).iloc[position].reset_index(drop=True)
        reason_of = np.concatenate([reason_of, np.full(originals.size, "duplicate_key", dtype=object)])[position]
        counts["duplicate_key"] = int(originals.size)
    return frame, counts, reason_of


LEVEL_VOCABULARY = {text: code for style in _LEVEL_TEXT.values() for code, text in style.items()}
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


def _ls_warnings(frame: pd.DataFrame, reasons: NDArray[np.object_]) -> dict[str, int]:
    """Clean rows whose stated level differs from L × S (the loader keeps the stated one and warns)."""
    if not {"风险等级", "可能性L", "严重性S"} <= set(frame.columns):
        return {}
    clean = (reasons == "") & (frame["可能性L"] != "").to_numpy()
    differs = sum(
        level_from_ls(lk, sv) != normalise_level(lv)
        for lk, sv, lv in zip(frame["可能性L"][clean], frame["严重性S"][clean], frame["风险等级"][clean], strict=True)
    )
    return {"level_differs_from_ls": int(differs)}


def generate_demo_files(reference: DemoReference, *, scale: float, rng: np.random.Generator) -> list[DemoFile]:
    """Every demo input file, in load order (units before what refers to them).

    ``scale`` multiplies the :data:`SCALE_ONE_COUNTS`; ``rng`` drives every draw, so
    a seeded generator gives the same files.  Raises ValueError for scale ≤ 0.
    """
    gen = _Generator(reference, scale, rng)
    beijing_districts = list(gen.district_names.values())
    units = gen.units()
    jjj_units = gen.jjj_units()
    files: list[DemoFile] = []

    def add(
        name: str,
        kind: str,
        true: pd.DataFrame,
        layout: _Layout,
        description: str,
        *,
        fmt: FileFormat = "csv",
        encoding: str | None = "utf-8",
        rates: dict[str, float] | None = None,
        name_col: str | None = None,
        duplicate_change: tuple[str, Callable[[str], str]] | None = None,
        title: str | None = None,
        sheet: str | None = None,
        vocabulary: dict[str, dict[str, str]] | None = None,
    ) -> None:
        frame, address_only = _file_frame(rng, true, layout)
        frame, dirty, reasons = _plant_dirty(
            rng,
            frame,
            rates or {},
            address_only=address_only,
            lon=layout.lon,
            lat=layout.lat,
            datum=layout.datum or "wgs84",
            name_col=name_col,
            duplicate_change=duplicate_change,
            district_names=beijing_districts,
        )
        files.append(
            DemoFile(
                name=name,
                kind=kind,
                format=fmt,
                encoding=encoding,
                datum=layout.datum,
                datum_column="坐标系" if layout.datum is None else None,
                frame=frame,
                description=description,
                dirty=dirty,
                address_only=int(address_only.sum()),
                title=title,
                sheet=sheet,
                vocabulary=vocabulary or {},
                dirty_reasons=reasons,
                warnings=_ls_warnings(frame, reasons),
            )
        )

    add(
        "units.csv", "units", units,
        _Layout(_UNIT_HEADERS, None, address_only=0.06),
        "生产经营单位（风险源填报单位），坐标系逐行注明（WGS84/GCJ-02/BD-09/CGCS2000），部分仅有地址",
        encoding="utf-8-sig",
        rates={"bad_credit_code": 0.005, "missing_name": 0.003, "swapped_lonlat": 0.004, "out_of_region": 0.003,
               "duplicate_key": 0.003, "district_mismatch": 0.003},
        name_col="单位名称",
        duplicate_change=("标准化等级", lambda v: "三级" if v != "三级" else "二级"),
    )  # fmt: skip
    sources = gen.risk_sources(units, gen.counts["risk_sources"], gen.district_polygons)
    sources["level"] = gen.level_text(sources["level"].to_numpy(), sources["district_code"].to_numpy())
    add(
        "risk_sources.csv", "risk_sources", sources,
        _Layout(_SOURCE_HEADERS, "gcj02", address_only=0.02),
        "安全风险源台账，坐标为GCJ-02（高德），部分仅有地址",
        rates={"bad_credit_code": 0.003, "unknown_level": 0.006, "swapped_lonlat": 0.003, "missing_name": 0.003,
               "duplicate_key": 0.004},
        name_col="风险源名称",
        vocabulary={"风险等级": LEVEL_VOCABULARY},
    )  # fmt: skip
    add(
        "hazchem_sites.csv", "hazchem_sites", gen.hazchem_sites(units, "WHP"),
        _Layout(_HAZCHEM_HEADERS, "cgcs2000"),
        "危险化学品单位（生产/储存/经营/使用），危化品及数量为JSON，坐标为2000国家大地坐标系",
        encoding="utf-8-sig",
        rates={"bad_credit_code": 0.01, "swapped_lonlat": 0.01, "duplicate_key": 0.01},
        duplicate_change=("外部安全防护距离（米）", lambda v: v or "100"),
        vocabulary={"单位类型": SITE_TYPE_VOCABULARY, "重大危险源等级": GRADE_VOCABULARY},
    )  # fmt: skip
    add(
        "gas_stations.csv", "hazchem_sites", gen.gas_stations(units),
        _Layout(_GAS_HEADERS, "bd09"),
        "加油站（含停业），坐标为BD-09（百度）",
        rates={"bad_credit_code": 0.01, "out_of_region": 0.005, "duplicate_key": 0.01},
        vocabulary={"类型": SITE_TYPE_VOCABULARY, "加油站等级": GRADE_VOCABULARY},
    )  # fmt: skip
    add(
        "fireworks_retail.csv", "hazchem_sites", gen.fireworks(),
        _Layout(_FIREWORKS_HEADERS, "wgs84"),
        "2018年春节烟花爆竹零售点（五环路内无），GBK编码",
        encoding="gbk",
        rates={"missing_name": 0.02, "bad_credit_code": 0.02},
        name_col="场所名称",
        vocabulary={"场所类型": SITE_TYPE_VOCABULARY},
    )  # fmt: skip
    add(
        "hidden_hazards.csv", "hidden_hazards", gen.hidden_hazards(units),
        _Layout(_HAZARD_HEADERS, "wgs84"),
        "2017–2018年隐患排查治理台账（挂账隐患），GBK编码，日期为Excel导出格式",
        encoding="gbk",
        rates={"bad_date": 0.008, "bad_credit_code": 0.004, "duplicate_key": 0.004, "out_of_region": 0.002},
        vocabulary=HAZARD_VOCABULARY,
    )  # fmt: skip
    add(
        "resources_teams.csv", "resources", gen.teams(units),
        _Layout(_TEAM_HEADERS, "gcj02", lon="经度（GCJ-02）", lat="纬度（GCJ-02）"),
        "应急救援队伍，坐标为GCJ-02",
        encoding="utf-8-sig",
        rates={"missing_name": 0.005, "swapped_lonlat": 0.005, "duplicate_key": 0.005},
        name_col="队伍名称",
        duplicate_change=("队伍人数", lambda v: str(int(v) + 2)),
        vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
    )  # fmt: skip
    add(
        "resources_experts.xlsx", "resources", gen.experts(units),
        _Layout(_EXPERT_HEADERS, "wgs84", address_only=0.15),
        "应急专家库（Excel，首行为标题），坐标为工作单位位置，部分仅有地址",
        fmt="xlsx", encoding=None,
        rates={"missing_name": 0.005, "out_of_region": 0.005},
        name_col="专家姓名",
        title="北京市安全生产应急专家信息表（合成演示数据）",
        sheet="专家库",
        vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
    )  # fmt: skip
    add(
        "resources_depots.csv", "resources", gen.depots(),
        _Layout(_DEPOT_HEADERS, "wgs84"),
        "应急装备库与物资储备库（物资装备数量为件数）",
        rates={"duplicate_key": 0.01},
        duplicate_change=("物资装备数量", lambda v: str(int(v) + 10)),
        vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
    )  # fmt: skip
    add(
        "resources_shelters.csv", "resources", gen.shelters(),
        _Layout(_SHELTER_HEADERS, "bd09"),
        "应急避难场所，坐标为BD-09（百度）",
        encoding="utf-8-sig",
        rates={"swapped_lonlat": 0.01},
        vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
    )  # fmt: skip
    add(
        "resources_social.csv", "resources", gen.social(),
        _Layout(_SOCIAL_HEADERS, "wgs84", address_only=1.0),
        "社会应急资源（工程机械等），仅有地址，GBK编码",
        encoding="gbk",
        vocabulary={"资源类型": RESOURCE_TYPE_VOCABULARY},
    )  # fmt: skip
    add(
        "jjj_units.csv", "units", jjj_units,
        _Layout({k: v for k, v in {**_UNIT_HEADERS, "district": "区县"}.items() if k != "township"}, "gcj02"),
        "天津、河北临京地区生产经营单位（京津冀协同），坐标为GCJ-02",
        rates={"bad_credit_code": 0.01},
        name_col="单位名称",
    )  # fmt: skip
    jjj_sources = gen.risk_sources(jjj_units, gen.counts["jjj_risk_sources"], gen.county_polygons)
    jjj_sources["level"] = gen.level_text(jjj_sources["level"].to_numpy(), jjj_sources["district_code"].to_numpy())
    add(
        "jjj_risk_sources.csv", "risk_sources", jjj_sources.drop(columns="township"),
        _Layout({k: v for k, v in {**_SOURCE_HEADERS, "district": "区县"}.items() if k != "township"}, "gcj02"),
        "天津、河北临京地区安全风险源，坐标为GCJ-02",
        rates={"unknown_level": 0.005},
        vocabulary={"风险等级": LEVEL_VOCABULARY},
    )  # fmt: skip
    add(
        "jjj_hazchem_sites.csv", "hazchem_sites", gen.hazchem_sites(jjj_units, "JJJWHP"),
        _Layout({**_HAZCHEM_HEADERS, "district": "区县"}, "gcj02"),
        "天津、河北临京地区危险化学品单位，坐标为GCJ-02",
        vocabulary={"单位类型": SITE_TYPE_VOCABULARY, "重大危险源等级": GRADE_VOCABULARY},
    )  # fmt: skip
    files.append(
        DemoFile(
            name="lines.geojson",
            kind="lines",
            format="geojson",
            encoding="utf-8",
            datum="wgs84",
            frame=gen.lines(),
            description="油气管道、输水管道和危化品运输路线（部分跨京冀、京津边界），GeoJSON WGS-84",
            vocabulary={"类型": LINE_TYPE_VOCABULARY},
        )
    )
    return files
