"""Synthetic emergency resources: rescue teams, experts, equipment and supply depots,
shelters and social resources (工程机械 and the like).

All fictional: names from word lists, phone numbers masked as bureau exports show
them, expert names as 王某伟.  Points lie near real Beijing places of a fitting kind
(residential areas, schools, hospitals, industrial land) or at a demo unit; WGS-84
(EPSG:4326).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.capabilities.demo.cells import (
    GIVEN_NAMES,
    SURNAMES,
    assign,
    masked_phones,
    table,
    trade_names,
    unique_names,
)
from geo.capabilities.demo.sampling import choice_of, exact_split, place_near
from geo.capabilities.demo.world import DemoWorld

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
#: Team specialities that are professional (专职) teams.
_PROFESSIONAL = ("消防", "危化品", "矿山")
#: The columns saying where a resource is.
_WHERE_COLUMNS = ("district_code", "district", "township", "address", "lon", "lat")


def community_points(world: DemoWorld, n: int, types: Sequence[str], jitter_m: tuple[float, float]) -> pd.DataFrame:
    """``n`` points near Beijing anchors of ``types``, weighted by district (services weights),
    moved by ``jitter_m`` metres, with district, township and address."""
    codes = world.district_draw(n, np.zeros(n, dtype=bool))
    lon, lat = place_near(world.rng, world.beijing_anchors, codes, types, world.district_polygons, jitter_m)
    district = world.names_of_districts(codes)
    township = world.townships_of(lon, lat)
    return table(
        {
            "district_code": codes,
            "district": district,
            "township": township,
            "address": world.beijing_address(district, township),
            "lon": lon,
            "lat": lat,
        }
    )


def _move_to_units(
    where: pd.DataFrame, units: pd.DataFrame, owner: NDArray[np.int64], at_unit: NDArray[np.bool_]
) -> None:
    """Rows flagged ``at_unit`` take the place (district … lon/lat) of their ``owner`` unit, in place."""
    for col in _WHERE_COLUMNS:
        values = where[col].to_numpy().copy()
        values[at_unit] = units[col].to_numpy()[owner][at_unit]
        where[col] = values


def draw_teams(world: DemoWorld, units: pd.DataFrame) -> pd.DataFrame:
    """Rescue teams: half of them a unit's own (专职/兼职), half community teams."""
    rng, n = world.rng, world.counts["teams"]
    speciality = choice_of(rng, TEAM_SPECIALITIES, n)
    at_unit = rng.random(n) < 0.5
    where = community_points(world, n, ("residential", "crowded_place", "school"), (50, 400))
    owner = rng.integers(0, len(units), n)
    _move_to_units(where, units, owner, at_unit)
    seq = rng.integers(1, 30, n)
    community = [
        f"{t}第{k}{s}应急救援队" if s != "综合" else f"{t}第{k}应急救援队"
        for t, k, s in zip(where["township"], seq, speciality, strict=True)
    ]
    company = [
        f"{u}{'专职' if s in _PROFESSIONAL else '兼职'}应急救援队"
        for u, s in zip(units["name"].to_numpy()[owner], speciality, strict=True)
    ]
    names = np.where(at_unit, np.asarray(company, dtype=object), np.asarray(community, dtype=object))
    professional = np.isin(speciality, list(_PROFESSIONAL))
    capacity = np.where(professional, rng.integers(20, 200, n), rng.integers(5, 50, n))
    return assign(
        where,
        resource_code=[f"DW{d}{i + 1:06d}" for i, d in enumerate(where["district_code"])],
        name=unique_names(pd.Series(names)).to_numpy(),
        resource_type="救援队伍",
        speciality=speciality,
        capacity=capacity.astype(str),
        contact=masked_phones(rng, n, mobile=False),
    )


def draw_experts(world: DemoWorld, units: pd.DataFrame) -> pd.DataFrame:
    """Experts, placed at universities, colleges and hospitals or (half) at a unit."""
    rng, n = world.rng, world.counts["experts"]
    where = community_points(world, n, ("university", "college", "hospital"), (30, 200))
    at_unit = rng.random(n) < 0.5
    owner = rng.integers(0, len(units), n)
    _move_to_units(where, units, owner, at_unit)
    surname = np.asarray(list(SURNAMES), dtype=object)[rng.integers(0, len(SURNAMES), n)]
    given = np.asarray(list(GIVEN_NAMES), dtype=object)[rng.integers(0, len(GIVEN_NAMES), n)]
    return assign(
        where,
        resource_code=[f"ZJ{i + 1:06d}" for i in range(n)],
        name=surname + "某" + given,
        resource_type="专家",
        speciality=choice_of(rng, EXPERT_SPECIALITIES, n),
        contact=masked_phones(rng, n, mobile=True),
    )


def draw_depots(world: DemoWorld) -> pd.DataFrame:
    """Equipment depots then supply depots, holding exactly the seed's item totals."""
    rng, c = world.rng, world.counts
    frames = []
    for kind, prefix, label, depots, items in (
        ("装备库", "ZB", "应急装备库", c["equipment_depots"], c["equipment_items"]),
        ("物资库", "WZ", "应急物资储备库", c["supply_depots"], c["supply_items"]),
    ):
        where = community_points(world, depots, ("industrial_landuse", "crowded_place"), (50, 300))
        speciality = choice_of(rng, DEPOT_SPECIALITIES, depots)
        frames.append(
            assign(
                where,
                resource_code=[f"{prefix}{i + 1:05d}" for i in range(depots)],
                name=unique_names(pd.Series(where["district"] + where["township"].to_numpy() + label)).to_numpy(),
                resource_type=kind,
                speciality=speciality,
                item_count=exact_split(rng, max(items, depots), depots, 1.2).astype(str),
                contact=masked_phones(rng, depots, mobile=False),
            )
        )
    return pd.concat(frames, ignore_index=True)


def draw_shelters(world: DemoWorld) -> pd.DataFrame:
    """Shelters (应急避难场所) at schools and crowded places; capacity lognormal around 6,000 people."""
    rng, n = world.rng, world.counts["shelters"]
    where = community_points(world, n, ("school", "university", "college", "crowded_place"), (50, 300))
    seq = where.groupby("township").cumcount() + 1
    capacity = np.round(rng.lognormal(math.log(6000), 0.9, n), -2).clip(500, 120_000).astype(int)
    return assign(
        where,
        resource_code=[f"BN{i + 1:05d}" for i in range(n)],
        name=(where["township"] + "第" + seq.astype(str) + "应急避难场所").to_numpy(),
        resource_type="避难场所",
        capacity=capacity.astype(str),
    )


def draw_social(world: DemoWorld) -> pd.DataFrame:
    """Social resources: machinery held by fictional rental companies."""
    rng, n = world.rng, world.counts["social_resources"]
    where = community_points(world, n, ("industrial_landuse", "residential"), (50, 300))
    item = np.asarray(_SOCIAL_ITEMS, dtype=object)[rng.integers(0, len(_SOCIAL_ITEMS), n)]
    owner = "北京" + trade_names(rng, n) + np.asarray(["工程机械租赁有限公司"] * n, dtype=object)
    return assign(
        where,
        resource_code=[f"SH{i + 1:05d}" for i in range(n)],
        name=owner + "（" + item + "）",
        resource_type="社会资源",
        speciality=item,
        item_count=rng.integers(1, 12, n).astype(str),
        contact=masked_phones(rng, n, mobile=True),
    )
