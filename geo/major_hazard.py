"""Major hazard installations (重大危险源) after GB 18218-2018 《危险化学品重大危险源辨识》.

Identification: a unit is a major hazard installation when S = Σ qᵢ / Qᵢ ≥ 1
(qᵢ: tonnes of chemical i present, Qᵢ: its threshold quantity, GB 18218-2018 §4.2.2,
tables 1 and 2).  Grading (§4.3): R = α · Σ βᵢ · qᵢ / Qᵢ, where βᵢ corrects for toxic,
flammable or explosive properties (tables 3 and 4) and α for the number of people
outside the plant within 500 m (table 5); grade 一级 R ≥ 100, 二级 50 ≤ R < 100,
三级 10 ≤ R < 50, 四级 R < 10 (table 6).

Every number lives in ``data/config/area_risk.yaml`` (section ``major_hazard``) with
its citation, so an administrator can correct it against the standard's text; this
module only computes.  The population within 500 m is a zonal sum of the population
raster (EPSG:4548, people per cell) over the cells whose centres lie within 500 m of
the site — :func:`population_within`.

Pure functions: no file or database access.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
from affine import Affine
from pydantic import BeforeValidator, ValidationError, field_validator, model_validator

from geo.config_models import ConfigModel, NonNegativeNumber, PositiveNumber, config_problems
from geo.errors import BadInput

#: Grade names, 1 = 一级 (most severe) … 4 = 四级.
GRADE_NAMES: dict[int, str] = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}


class MajorHazardConfigError(BadInput):
    """The ``major_hazard`` configuration is incomplete or inconsistent."""


class Chemical(ConfigModel):
    """One row of the threshold table: threshold Q (t), correction β, aliases."""

    name: str
    threshold_t: PositiveNumber
    beta: PositiveNumber
    aliases: Annotated[tuple[str, ...], BeforeValidator(lambda v: () if v is None else v)] = ()


class AlphaStep(ConfigModel):
    """Table 5: α applies from ``min_people`` outside the plant within 500 m."""

    min_people: NonNegativeNumber
    alpha: PositiveNumber


class GradeStep(ConfigModel):
    """Table 6: ``grade`` (1 = 一级 … 4 = 四级) applies from R = ``min_r``."""

    min_r: NonNegativeNumber
    grade: Literal[1, 2, 3, 4]


class MajorHazardConfig(ConfigModel):
    """Tables of GB 18218-2018 needed to identify and grade a site (the YAML
    ``major_hazard`` section; a chemical's ``name`` is its key there)."""

    chemicals: dict[str, Chemical]
    #: Highest minimum first: the first step whose minimum ≤ N applies.
    alpha: tuple[AlphaStep, ...]
    #: Highest minimum first.
    grades: tuple[GradeStep, ...]
    radius_m: PositiveNumber = 500.0
    citation: str = "GB 18218-2018"

    @model_validator(mode="before")
    @classmethod
    def _name_chemicals(cls, data: Any) -> Any:
        """Each chemical row takes its key as its ``name``."""
        if isinstance(data, Mapping) and isinstance(data.get("chemicals"), Mapping):
            rows = {str(k): {**row, "name": str(k)} if isinstance(row, Mapping) else row
                    for k, row in data["chemicals"].items()}
            data = {**data, "chemicals": rows}
        return data

    @field_validator("chemicals")
    @classmethod
    def _some_chemicals(cls, chemicals: dict[str, Chemical]) -> dict[str, Chemical]:
        if not chemicals:
            raise ValueError("needs at least one chemical")
        return chemicals

    @field_validator("alpha")
    @classmethod
    def _alpha_down_to_nobody(cls, steps: tuple[AlphaStep, ...]) -> tuple[AlphaStep, ...]:
        steps = tuple(sorted(steps, key=lambda s: -s.min_people))
        if not steps or steps[-1].min_people > 0:
            raise ValueError("needs a row with min_people 0")
        return steps

    @field_validator("grades")
    @classmethod
    def _every_grade_once(cls, steps: tuple[GradeStep, ...]) -> tuple[GradeStep, ...]:
        steps = tuple(sorted(steps, key=lambda s: -s.min_r))
        if sorted(s.grade for s in steps) != [1, 2, 3, 4]:
            raise ValueError("needs grades 1, 2, 3 and 4 once each")
        if steps[-1].min_r > 0:
            raise ValueError("needs a row with min_r 0 (四级)")
        return steps

    def chemical(self, name: str) -> Chemical | None:
        """The table row for ``name`` or one of its aliases (case and blanks ignored), else None."""
        return self._lookup.get(_norm(name))

    @cached_property
    def _lookup(self) -> dict[str, Chemical]:
        return {_norm(n): chem for chem in self.chemicals.values() for n in (chem.name, *chem.aliases)}


def _norm(name: str) -> str:
    return "".join(str(name).split()).lower()


def parse_major_hazard_config(section: Mapping[str, Any]) -> MajorHazardConfig:
    """Build the config from the YAML ``major_hazard`` mapping; raises
    :class:`MajorHazardConfigError` naming every bad entry and value in one line."""
    try:
        return MajorHazardConfig.model_validate(section)
    except ValidationError as exc:
        raise MajorHazardConfigError("; ".join(config_problems(exc, prefix="major_hazard."))) from None


def alpha_for(people: float, config: MajorHazardConfig) -> float:
    """α for ``people`` outside the plant within 500 m (GB 18218-2018 table 5).

    People are counted as whole persons (the raster holds fractions: rounded down, so
    29.6 people is the 1–29 row).
    """
    n = math.floor(max(people, 0.0) + 1e-9)
    for step in config.alpha:
        if n >= step.min_people:
            return step.alpha
    return config.alpha[-1].alpha


def grade_for(r: float, config: MajorHazardConfig) -> int:
    """Grade 1–4 (一级–四级) of a major hazard installation with value R (table 6)."""
    for step in config.grades:
        if r >= step.min_r:
            return step.grade
    return config.grades[-1].grade


@dataclass(frozen=True)
class MajorHazardResult:
    """Identification and grade of one site, with every number used."""

    s: float  # Σ q/Q
    weighted: float  # Σ β·q/Q
    alpha: float
    people_500m: float
    r: float
    is_major: bool
    grade: int | None
    terms: list[dict[str, Any]]
    unknown: list[str]

    @property
    def grade_name(self) -> str | None:
        return None if self.grade is None else GRADE_NAMES[self.grade]

    def as_dict(self) -> dict[str, Any]:
        return {
            "s": self.s, "weighted": self.weighted, "alpha": self.alpha, "people_500m": self.people_500m,
            "r": self.r, "is_major": self.is_major, "grade": self.grade, "grade_zh": self.grade_name,
            "terms": self.terms, "unknown_chemicals": self.unknown,
        }


def parse_inventory(value: Any) -> list[tuple[str, float]]:
    """(name, tonnes) pairs from the ``chemicals`` column: a JSON list of
    ``{"name": …, "tonnes": …}`` (also ``quantity_t``/``t``), or such a list itself.
    Blank → []; malformed text raises ValueError naming it."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return []
    items = json.loads(value) if isinstance(value, str) else value
    if isinstance(items, dict):
        items = [items]
    out: list[tuple[str, float]] = []
    for item in items:
        name = item.get("name")
        tonnes = next((item[k] for k in ("tonnes", "quantity_t", "t") if k in item), None)
        if name is None or tonnes is None:
            raise BadInput(f"inventory entry {item!r} needs name and tonnes")
        out.append((str(name), float(tonnes)))
    return out


def assess_site(
    inventory: Sequence[tuple[str, float]], people_500m: float, config: MajorHazardConfig
) -> MajorHazardResult:
    """Identify and grade one site from its inventory (name, tonnes) and the people
    within 500 m.  Quantities of the same chemical are added first.  Chemicals not in
    the table are listed in ``unknown`` and left out (a site is not called major on
    their account)."""
    totals: dict[str, float] = {}
    unknown: list[str] = []
    for name, tonnes in inventory:
        chem = config.chemical(name)
        if chem is None:
            unknown.append(name)
            continue
        totals[chem.name] = totals.get(chem.name, 0.0) + float(tonnes)
    terms = []
    s = weighted = 0.0
    for name, q in sorted(totals.items()):
        chem = config.chemicals[name]
        ratio = q / chem.threshold_t
        s += ratio
        weighted += chem.beta * ratio
        terms.append({"chemical": name, "q_t": q, "threshold_t": chem.threshold_t, "beta": chem.beta,
                      "q_over_Q": ratio, "beta_q_over_Q": chem.beta * ratio})
    alpha = alpha_for(people_500m, config)
    r = alpha * weighted
    is_major = s >= 1.0
    return MajorHazardResult(s=s, weighted=weighted, alpha=alpha, people_500m=float(people_500m), r=r,
                             is_major=is_major, grade=grade_for(r, config) if is_major else None,
                             terms=terms, unknown=sorted(set(unknown)))


def population_within(
    x_m: np.ndarray,
    y_m: np.ndarray,
    population: np.ndarray,
    transform: Affine,
    *,
    radius_m: float = 500.0,
) -> np.ndarray:
    """People within ``radius_m`` of each EPSG:4548 point: the sum of the raster cells
    (people per cell, NaN = no data, counted 0) whose centres lie within the radius —
    a zonal sum over the buffer.  Points off the raster get 0."""
    if transform.b != 0 or transform.d != 0:
        raise ValueError("a north-up raster (no rotation) is required")
    x_m = np.asarray(x_m, float)
    y_m = np.asarray(y_m, float)
    values = np.nan_to_num(population.astype(np.float64), nan=0.0)
    height, width = values.shape
    cell = abs(transform.a)
    r = int(np.ceil(radius_m / cell)) + 1
    offs = np.arange(-r, r + 1)
    mesh_c, mesh_r = np.meshgrid(offs, offs)
    dc, dr = mesh_c.ravel(), mesh_r.ravel()
    col0 = np.floor((x_m - transform.c) / transform.a).astype(np.int64)
    row0 = np.floor((y_m - transform.f) / transform.e).astype(np.int64)
    cols = col0[:, None] + dc[None, :]
    rows = row0[:, None] + dr[None, :]
    cx = transform.c + (cols + 0.5) * transform.a
    cy = transform.f + (rows + 0.5) * transform.e
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    near = ((cx - x_m[:, None]) ** 2 + (cy - y_m[:, None]) ** 2) <= radius_m**2
    take = inside & near
    vals = np.where(take, values[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)], 0.0)
    return np.asarray(vals.sum(axis=1))
