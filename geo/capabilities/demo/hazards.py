"""Synthetic hidden hazards (隐患排查治理台账), 2017–2018.

All fictional: each hazard belongs to a demo unit and lies at it; most were found in
the 2017-11 … Spring Festival 2018 campaign, 99.9 % are rectified by the snapshot
date (a few late), 3 % are rated major.  Dates are written as an Excel-made CSV shows
them (2017/11/3).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.capabilities.demo.calibration import CAMPAIGN, HAZARD_MAJOR_SHARE, HAZARD_OPEN_SHARE, SNAPSHOT_DATE
from geo.capabilities.demo.cells import format_date, table
from geo.capabilities.demo.world import DemoWorld

HAZARD_TEXT = {
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
#: The first day hazards can have been found.
_FIRST_DAY = date(2017, 1, 1)


def draw_hidden_hazards(world: DemoWorld, units: pd.DataFrame) -> pd.DataFrame:
    """``hidden_hazards`` hazards of ``units`` (a gamma-weighted few units hold many),
    in unit order, with found / deadline / rectified dates and status."""
    rng, n = world.rng, world.counts["hidden_hazards"]
    weights = rng.gamma(0.7, 1.0, len(units))
    owner = np.sort(rng.choice(len(units), size=n, p=weights / weights.sum()))
    found, deadline, is_open = _found_and_deadline(rng, n)
    rectified = _rectified(rng, found, deadline, is_open)
    severity = np.where(rng.random(n) < HAZARD_MAJOR_SHARE, "重大隐患", "一般隐患")
    text = np.empty(n, dtype=object)
    for sev, options in HAZARD_TEXT.items():
        idx = np.flatnonzero(severity == sev)
        text[idx] = np.asarray(options, dtype=object)[rng.integers(0, len(options), idx.size)]
    district_code = units["district_code"].to_numpy()[owner]
    return table(
        {
            "hazard_code": [
                f"YH{d}{f.year}{i + 1:06d}" for i, (d, f) in enumerate(zip(district_code, found, strict=True))
            ],
            "credit_code": units["credit_code"].to_numpy()[owner],
            "unit_name": units["name"].to_numpy()[owner],
            "severity": severity,
            "description": text,
            "found_date": [format_date(d) for d in found],
            "deadline": [format_date(d) for d in deadline],
            "rectified_date": [format_date(d) for d in rectified],
            "status": np.where(is_open, "未整改", "已整改"),
            "district_code": district_code,
            "district": units["district"].to_numpy()[owner],
            "lon": units["lon"].to_numpy()[owner],
            "lat": units["lat"].to_numpy()[owner],
        }
    )


def _found_and_deadline(rng: np.random.Generator, n: int) -> tuple[list[date], list[date], NDArray[np.bool_]]:
    """(found date, deadline, still open) of ``n`` hazards: 85 % found in the campaign,
    the rest over 2017–2018; the open ones found in late 2018."""
    in_campaign = rng.random(n) < 0.85
    campaign_days = (CAMPAIGN[1] - CAMPAIGN[0]).days
    year_days = (date(2018, 12, 20) - _FIRST_DAY).days
    offset = np.where(
        in_campaign,
        (CAMPAIGN[0] - _FIRST_DAY).days + rng.integers(0, campaign_days + 1, n),
        rng.integers(0, year_days + 1, n),
    )
    found = [_FIRST_DAY + timedelta(days=int(d)) for d in offset]
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
    return found, deadline, is_open


def _rectified(
    rng: np.random.Generator, found: list[date], deadline: list[date], is_open: NDArray[np.bool_]
) -> list[date | None]:
    """The rectification date of each closed hazard (3 % after the deadline), never after
    the snapshot; None for an open one."""
    late = rng.random(len(found)) < 0.03
    rectified: list[date | None] = []
    for i in range(len(found)):
        if is_open[i]:
            rectified.append(None)
            continue
        span = (deadline[i] - found[i]).days
        days = int(rng.integers(span + 1, span + 30)) if late[i] else int(rng.integers(1, span + 1))
        rectified.append(min(found[i] + timedelta(days=days), SNAPSHOT_DATE))
    return rectified
