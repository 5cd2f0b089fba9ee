"""How many synthetic demo records of each kind, and the shares they are drawn with.

Everything the demo generators make is synthetic; this module holds their
calibration.  Scale 1.0 follows the 2018 figures in DOMAIN.md (seed 001): 9,911
reporting units with 162,699 risk sources, 1,027 hazardous-chemical units, ~1,000
operating + 350 non-operating gas stations, 87 fireworks retail points (none inside
the 5th Ring), 26,668 hidden hazards (99.9 % rectified), 16,809 rescue teams, 5,635
experts, 2,764,819 equipment items and 2,113,322 supply items at depots, 1,043 social
resources.  Everything else is an *assumption* of the generators, named in the
constants below: the risk-level shares (red 1 %, orange 6 %, yellow 33 %, blue 60 %),
the district weights, depot/shelter counts, the Tianjin/Hebei counts.  At scale ``s``
every count is multiplied by ``s`` (at least 1 where a file would otherwise be empty).
"""

from __future__ import annotations

import math
from datetime import date

from geo.errors import BadInput

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


def scaled(count: int, scale: float, *, minimum: int = 1) -> int:
    """``count`` × ``scale`` rounded, at least ``minimum``.  Raises ValueError for scale ≤ 0."""
    if not scale > 0 or not math.isfinite(scale):
        raise BadInput(f"scale must be a positive number, got {scale!r}")
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
