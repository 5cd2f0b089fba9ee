"""Synthetic hazardous-chemical sites: the hazardous-chemical units' sites, gas stations
and fireworks retail points, each with its chemicals as JSON (name, tonnes).

All fictional.  Quantities are drawn against the GB 18218-2018 threshold quantities,
so Σ q/Q and the major-hazard grade come out plausible; production and storage have
mostly left the 5th Ring, few gas stations and no fireworks point lie inside it.
Points are WGS-84 (EPSG:4326).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import shapely

from geo.capabilities.demo.cells import SURNAMES, table, unique_names
from geo.capabilities.demo.credit_codes import make_credit_codes
from geo.capabilities.demo.sampling import F64, choice, choice_of, jitter, keep_inside
from geo.capabilities.demo.world import DemoWorld

#: GB 18218-2018 threshold quantities Q (tonnes) of the chemicals DOMAIN.md names.
CHEMICAL_THRESHOLDS_T: dict[str, float] = {
    "汽油": 200, "液化石油气": 50, "天然气": 50, "氢气": 5, "氯气": 5, "液氨": 10, "甲醇": 500, "苯": 50,
}  # fmt: skip
_CHEMICAL_WEIGHTS = {"汽油": 3, "液化石油气": 2, "天然气": 2, "氢气": 1, "氯气": 0.6, "液氨": 1.4, "甲醇": 2, "苯": 1}
HAZCHEM_SITE_TYPES: dict[str, float] = {"生产": 0.15, "储存": 0.15, "经营": 0.45, "使用": 0.25}
_GRADES_ZH = ("一级", "二级", "三级", "四级")
#: Gas-station grade (GB 50156) → range of petrol held, tonnes.
_STATION_TONNES = {"一级": (90, 150), "二级": (50, 100), "三级": (15, 60)}


def draw_chemicals(rng: np.random.Generator, n: int, *, scale_q: float = 1.0) -> tuple[list[str], F64]:
    """(JSON list of {name, tonnes}, Σ q/Q) per site; q/Q lognormal around 0.25 × ``scale_q``."""
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


def draw_hazchem_sites(world: DemoWorld, units: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """One site per 危险化学品 unit of ``units``, at the unit; site codes ``prefix`` + 00001…"""
    rng = world.rng
    owners = units[units["industry"] == "危险化学品"].reset_index(drop=True)
    n = len(owners)
    chemicals, ratio = draw_chemicals(rng, n)
    # Only a share of the major hazards carry a grade in the export; the engine computes it.
    # Grade by R ≈ 1.5 Σ q/Q (β = 1.5, α = 1): ≥100 一级, ≥50 二级, ≥10 三级, else 四级.
    r = 1.5 * ratio
    grade = np.where(r >= 100, 0, np.where(r >= 50, 1, np.where(r >= 10, 2, 3)))
    stated = (ratio >= 1) & (rng.random(n) < 0.6)
    grade_text = np.where(stated, np.asarray(_GRADES_ZH, dtype=object)[grade], "")
    distance = np.where(rng.random(n) < 0.25, rng.choice([50, 80, 100, 150, 200, 300, 500], n), 0)
    site_type = choice_of(rng, HAZCHEM_SITE_TYPES, n)
    # production and storage have mostly left the 5th Ring (seed 001: 135 moved out by 2018)
    inside = shapely.contains_xy(world.ref.fifth_ring, owners["lon"].to_numpy(float), owners["lat"].to_numpy(float))
    moved = inside & np.isin(site_type, ["生产", "储存"]) & (rng.random(n) < 0.8)
    site_type[moved] = "使用"
    return table(
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


def draw_gas_stations(world: DemoWorld, units: pd.DataFrame) -> pd.DataFrame:
    """Operating and closed gas stations of the 加油站 units of ``units`` (the first unit
    when there is none), 150–500 m from residential or crowded places, few inside the
    5th Ring and none of grade 1 there (GB 50156)."""
    rng, c = world.rng, world.counts
    owners = units[units["industry"] == "加油站"].reset_index(drop=True)
    if owners.empty:  # tiny scales: the first unit runs them
        owners = units.iloc[:1].reset_index(drop=True)
    n_open, n_closed = c["gas_stations_operating"], c["gas_stations_closed"]
    n = n_open + n_closed
    anchors = world.anchors_of_types(["residential", "crowded_place"])
    ax = anchors.geometry.x.to_numpy()
    ay = anchors.geometry.y.to_numpy()
    inside_ring = shapely.contains_xy(world.ref.fifth_ring, ax, ay)
    weight = np.where(inside_ring, 0.04, 1.0)  # few stations inside the 5th Ring
    pick = rng.choice(len(anchors), size=n, p=weight / weight.sum())
    codes = anchors["county_code"].to_numpy()[pick]
    lon, lat = jitter(rng, ax[pick], ay[pick], 150, 500)
    lon, lat = keep_inside(lon, lat, (ax[pick], ay[pick]), codes, world.district_polygons)
    in_ring = shapely.contains_xy(world.ref.fifth_ring, lon, lat)
    grade = choice(rng, ["一级", "二级", "三级"], [0.10, 0.45, 0.45], n)
    grade[in_ring & (grade == "一级")] = "二级"  # GB 50156: no grade-1 station in the city centre
    chemicals = [_station_chemicals(rng, g) for g in grade]
    owner = rng.integers(0, len(owners), n)
    district = world.names_of_districts(codes)
    township = world.townships_of(lon, lat)
    station = [re.sub(r"(街道|地区|回族乡|满族乡|镇|乡)$", "", t) for t in township]
    names = pd.Series(owners["name"].to_numpy()[owner]).str.removeprefix("北京") + pd.Series(station) + "加油站"
    return table(
        {
            "credit_code": owners["credit_code"].to_numpy()[owner],
            "site_code": [f"JYZ{i + 1:05d}" for i in range(n)],
            "name": unique_names(names).to_numpy(),
            "site_type": np.full(n, "加油站", dtype=object),
            "gas_station_grade": grade,
            "operating": np.asarray(["是"] * n_open + ["否"] * n_closed, dtype=object)[rng.permutation(n)],
            "chemicals": chemicals,
            "address": world.beijing_address(district, township),
            "district_code": codes,
            "district": district,
            "lon": lon,
            "lat": lat,
        }
    )


def _station_chemicals(rng: np.random.Generator, grade: str) -> str:
    """Petrol by the station's grade; one station in ten also holds LPG or natural gas."""
    low, high = _STATION_TONNES[grade]
    items = [{"name": "汽油", "tonnes": round(float(rng.uniform(low, high)), 1)}]
    if rng.random() < 0.1:
        gas = "液化石油气" if rng.random() < 0.5 else "天然气"
        items.append({"name": gas, "tonnes": round(float(rng.uniform(2, 20)), 1)})
    return json.dumps(items, ensure_ascii=False)


def draw_fireworks(world: DemoWorld) -> pd.DataFrame:
    """Retail points, all outside the 5th Ring (and ≥ ~500 m from it): none inside since 2018."""
    rng, n = world.rng, world.counts["fireworks"]
    clear = world.ref.fifth_ring.buffer(0.006)  # ≈ 500–650 m in Beijing
    anchors = world.anchors_of_types(["residential", "crowded_place"])
    ax = anchors.geometry.x.to_numpy()
    ay = anchors.geometry.y.to_numpy()
    allowed = np.flatnonzero(~shapely.contains_xy(clear, ax, ay))
    pick = allowed[rng.integers(0, allowed.size, n)]
    codes = anchors["county_code"].to_numpy()[pick]
    lon, lat = jitter(rng, ax[pick], ay[pick], 50, 200)
    lon, lat = keep_inside(lon, lat, (ax[pick], ay[pick]), codes, world.district_polygons)
    back = shapely.contains_xy(clear, lon, lat)
    lon[back], lat[back] = ax[pick][back], ay[pick][back]
    district = world.names_of_districts(codes)
    township = world.townships_of(lon, lat)
    owner = choice(rng, list(SURNAMES), [1.0] * len(SURNAMES), n)
    names = pd.Series(township) + pd.Series(owner) + "某烟花爆竹零售点"
    tonnes = rng.uniform(0.1, 0.8, n)
    return table(
        {
            "credit_code": make_credit_codes(rng, list(codes), org_type="92", taken=world.taken_codes),
            "site_code": [f"YHBZ2018{i + 1:04d}" for i in range(n)],
            "name": unique_names(names).to_numpy(),
            "site_type": np.full(n, "烟花爆竹零售点", dtype=object),
            "chemicals": [
                json.dumps([{"name": "烟花爆竹", "tonnes": round(float(t), 2)}], ensure_ascii=False) for t in tonnes
            ],
            "address": world.beijing_address(district, township),
            "district_code": codes,
            "district": district,
            "lon": lon,
            "lat": lat,
        }
    )
