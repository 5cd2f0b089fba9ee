"""Synthetic reporting units (生产经营单位) and their risk sources (安全风险源).

Every unit is fictional: a name drawn from a small word list (it may coincide with a
real company by chance), a valid credit code never issued to anybody, a point near
real industrial or residential OpenStreetMap points, jittered by 50–300 m.  Beijing
units fill ``units.csv``; Tianjin and Hebei units near the border fill
``jjj_units.csv``.  Risk sources belong to units, with L × S ratings that give their
level (a few assessor overrides, some unrated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geo.capabilities.demo.calibration import (
    GAS_OWNER_SHARE,
    INSURED_SHARE,
    LEVEL_OVERRIDE_SHARE,
    LEVEL_SHARES,
    NO_LS_SHARE,
    STANDARD_GRADE_SHARES,
)
from geo.capabilities.demo.cells import ROADS, house_numbers, table, trade_names, unique_names
from geo.capabilities.demo.credit_codes import make_credit_codes
from geo.capabilities.demo.sampling import F64, choice, choice_of, jitter, keep_inside, place_near
from geo.capabilities.demo.world import DemoWorld
from geo.etl.values import LS_SCALE, level_from_ls


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
LEVEL_TEXT: dict[str, dict[str, str]] = {
    "full": {"red": "重大风险", "orange": "较大风险", "yellow": "一般风险", "blue": "低风险"},
    "short": {"red": "重大", "orange": "较大", "yellow": "一般", "blue": "低"},
    "colour": {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"},
}
_LEVEL_TEXT_SHARES = {"full": 0.75, "short": 0.19, "colour": 0.06}
#: Industrial units are placed near industrial land use, the others near where people are.
_PREFERRED_ANCHORS: tuple[tuple[bool, tuple[str, ...]], ...] = (
    (True, ("industrial_landuse",)),
    (False, ("residential", "crowded_place")),
)


def draw_units(world: DemoWorld) -> pd.DataFrame:
    """Beijing's reporting units (true values, WGS-84 ``lon``/``lat``), in credit-code order:
    exactly ``hazchem_sites`` hazardous-chemical units and a :data:`GAS_OWNER_SHARE` of
    gas-station owners, the rest by industry share."""
    rng, c = world.rng, world.counts
    n = c["units"]
    n_hazchem = c["hazchem_sites"]
    n_gas = min(max(1, round(n * GAS_OWNER_SHARE)), n - n_hazchem) if n > n_hazchem else 0
    rest = [i for i in INDUSTRIES if i.name not in ("危险化学品", "加油站")]
    industry = np.concatenate(
        [
            np.full(n_hazchem, "危险化学品", dtype=object),
            np.full(n_gas, "加油站", dtype=object),
            choice(rng, [i.name for i in rest], [i.share for i in rest], n - n_hazchem - n_gas),
        ]
    )
    industry = industry[rng.permutation(n)]
    industrial = np.asarray([_INDUSTRY[i].industrial for i in industry])
    district_code = world.district_draw(n, industrial)
    lon, lat = _place_by_industry(world, district_code, industrial, world.district_polygons, world.beijing_anchors)
    district = world.names_of_districts(district_code)
    township = world.townships_of(lon, lat)
    words = np.asarray(
        [
            _INDUSTRY[i].words[k % len(_INDUSTRY[i].words)]
            for i, k in zip(industry, rng.integers(0, 1000, n), strict=True)
        ],
        dtype=object,
    )
    suffix = np.where(rng.random(n) < 0.1, "有限责任公司", "有限公司")
    names = unique_names(pd.Series("北京" + trade_names(rng, n) + words + suffix))
    return _units_table(
        world,
        codes=district_code,
        names=names.to_numpy(),
        industry=industry,
        district=district,
        township=township,
        address=lambda: world.beijing_address(district, township),
        lon=lon,
        lat=lat,
    )


def draw_jjj_units(world: DemoWorld) -> pd.DataFrame:
    """Tianjin and Hebei units near Beijing (counties weighted by their anchor points),
    with the same columns as :func:`draw_units` (``township`` empty), in credit-code order."""
    rng, c = world.rng, world.counts
    n = c["jjj_units"]
    n_hazchem = c["jjj_hazchem_sites"]
    rest = [i for i in INDUSTRIES if i.name != "危险化学品"]
    shares = [i.share if i.name != "加油站" else GAS_OWNER_SHARE for i in rest]
    industry = np.concatenate(
        [
            np.full(n_hazchem, "危险化学品", dtype=object),
            choice(rng, [i.name for i in rest], shares, n - n_hazchem),
        ]
    )[rng.permutation(n)]
    industrial = np.asarray([_INDUSTRY[i].industrial for i in industry])
    county_counts = world.jjj_anchors["county_code"].value_counts().sort_index()
    county_code = choice(rng, list(county_counts.index), county_counts.to_numpy(dtype=float), n)
    lon, lat = _place_by_industry(world, county_code, industrial, world.county_polygons, world.jjj_anchors)
    county = world.counties.loc[list(county_code)]
    province = county["province"].to_numpy(dtype=object)
    city = county["city"].to_numpy(dtype=object)
    name = county["name"].to_numpy(dtype=object)
    # Tianjin addresses have no city level: 天津市武清区…; Hebei: 河北省廊坊市三河市…
    prefix = np.where(province == city, province + name, province + city + name)
    roads = np.asarray(ROADS, dtype=object)[rng.integers(0, len(ROADS), n)]
    words = np.asarray([_INDUSTRY[i].words[0] for i in industry], dtype=object)
    short = np.asarray([p[:2] if p != "天津市" else "天津" for p in province], dtype=object)
    names = unique_names(pd.Series(short + trade_names(rng, n) + words + "有限公司"))
    return _units_table(
        world,
        codes=county_code,
        names=names.to_numpy(),
        industry=industry,
        district=name,
        township=np.full(n, "", dtype=object),
        address=lambda: prefix + roads + house_numbers(rng, n),
        lon=lon,
        lat=lat,
    )


def _units_table(
    world: DemoWorld,
    *,
    codes: NDArray[np.object_],
    names: NDArray[np.object_],
    industry: NDArray[np.object_],
    district: NDArray[np.object_],
    township: NDArray[np.object_],
    address: Callable[[], NDArray[np.object_]],
    lon: F64,
    lat: F64,
) -> pd.DataFrame:
    """The units' table, in credit-code order.  Draws, in this order, the credit codes
    (division ``codes``), the addresses (``address`` is called after the codes), the
    standardisation grades and who is insured."""
    rng, n = world.rng, len(codes)
    frame = table(
        {
            "credit_code": make_credit_codes(rng, list(codes), taken=world.taken_codes),
            "name": names,
            "industry": industry,
            "district_code": codes,
            "district": district,
            "township": township,
            "address": address(),
            "standard_grade": choice_of(rng, STANDARD_GRADE_SHARES, n),
            "insured": np.where(rng.random(n) < INSURED_SHARE, "是", "否"),
            "lon": lon,
            "lat": lat,
        }
    )
    return frame.sort_values("credit_code", kind="stable").reset_index(drop=True)


def _place_by_industry(
    world: DemoWorld,
    codes: NDArray[np.object_],
    industrial: NDArray[np.bool_],
    polygons: dict[str, BaseGeometry],
    anchors: gpd.GeoDataFrame,
) -> tuple[F64, F64]:
    lon = np.empty(len(codes))
    lat = np.empty(len(codes))
    for flag, preferred in _PREFERRED_ANCHORS:
        idx = np.flatnonzero(industrial == flag)
        lon[idx], lat[idx] = place_near(world.rng, anchors, codes[idx], preferred, polygons, (50, 300))
    return lon, lat


def draw_risk_sources(
    world: DemoWorld, units: pd.DataFrame, total: int, polygons: dict[str, BaseGeometry]
) -> pd.DataFrame:
    """``total`` (≥ one per unit) risk sources of ``units``, spread by a gamma draw times the
    industry's multiplier; each within 80 m of its unit, inside the unit's polygon in
    ``polygons``; ``level`` as a code (red/orange/yellow/blue)."""
    rng = world.rng
    n_units = len(units)
    factor = np.asarray([_INDUSTRY[i].source_factor for i in units["industry"]])
    weights = rng.gamma(0.9, 1.0, n_units) * factor
    per_unit = 1 + rng.multinomial(total - n_units, weights / weights.sum())
    owner = np.repeat(np.arange(n_units), per_unit)
    n = len(owner)
    seq = np.arange(n) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit) + 1
    level = choice_of(rng, LEVEL_SHARES, n)
    industry_no = np.asarray([_INDUSTRY_NO[i] for i in units["industry"]])[owner]
    names, types = _source_names(rng, industry_no, level)
    likelihood, severity = _ls_for(rng, level)
    ux = units["lon"].to_numpy()[owner]
    uy = units["lat"].to_numpy()[owner]
    lon, lat = jitter(rng, ux, uy, 0, 80)
    lon, lat = keep_inside(lon, lat, (ux, uy), units["district_code"].to_numpy()[owner], polygons)
    return table(
        {
            "credit_code": units["credit_code"].to_numpy()[owner],
            "unit_name": units["name"].to_numpy()[owner],
            "source_code": [f"FX{s:04d}" for s in seq],
            "name": names,
            "source_type": types,
            "likelihood": likelihood,
            "severity": severity,
            "level": level,
            "industry": units["industry"].to_numpy()[owner],
            "address": units["address"].to_numpy()[owner],
            "district_code": units["district_code"].to_numpy()[owner],
            "district": units["district"].to_numpy()[owner],
            "township": units["township"].to_numpy()[owner],
            "lon": lon,
            "lat": lat,
        }
    )


def _source_names(
    rng: np.random.Generator, industry_no: NDArray[np.int64], level: NDArray[np.object_]
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """(name, 风险类型) of each source: one of its industry's sources, by the level's tier weights."""
    n = len(level)
    names = np.empty(n, dtype=object)
    types = np.empty(n, dtype=object)
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
    return names, types


def _ls_for(rng: np.random.Generator, level: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """(L, S) pairs whose L×S gives ``level``; a few one level lower (an override), some blank."""
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


def level_text(world: DemoWorld, level: NDArray[np.object_], district_code: NDArray[np.object_]) -> NDArray[np.object_]:
    """Each district's export writes levels its own way (重大风险 / 重大 / 红色)."""
    codes = sorted(set(district_code.tolist()))
    style_of = dict(zip(codes, choice_of(world.rng, _LEVEL_TEXT_SHARES, len(codes)), strict=True))
    return np.asarray([LEVEL_TEXT[style_of[d]][lv] for d, lv in zip(district_code, level, strict=True)], dtype=object)


def draw_graded_risk_sources(
    world: DemoWorld, units: pd.DataFrame, total: int, polygons: dict[str, BaseGeometry]
) -> pd.DataFrame:
    """:func:`draw_risk_sources` with ``level`` written as each district's export writes it."""
    sources = draw_risk_sources(world, units, total, polygons)
    sources["level"] = level_text(world, sources["level"].to_numpy(), sources["district_code"].to_numpy())
    return sources
