"""GB 18218-2018 identification and grading on worked examples computed by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from affine import Affine

from geo import major_hazard as mh

CONFIG_FILE = Path(__file__).resolve().parents[2] / "data" / "config" / "area_risk.yaml"


@pytest.fixture(scope="module")
def config() -> mh.MajorHazardConfig:
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))
    return mh.parse_major_hazard_config(data["major_hazard"])


def test_thresholds_and_aliases_from_the_config(config: mh.MajorHazardConfig) -> None:
    expected = {"汽油": 200, "液化石油气": 50, "天然气": 50, "氢": 5, "氯": 5, "氨": 10, "甲醇": 500, "苯": 50}
    for name, q in expected.items():
        chem = config.chemical(name)
        assert chem is not None and chem.threshold_t == q
    assert config.chemical("液氨") is config.chemical("氨")
    assert config.chemical(" 氢气 ") is config.chemical("氢")
    assert config.chemical("LPG") is config.chemical("液化石油气")
    assert config.chemical("水") is None


@pytest.mark.parametrize(
    ("people", "alpha"),
    [(0, 0.5), (0.4, 0.5), (1, 1.0), (29.6, 1.0), (30, 1.2), (49, 1.2), (50, 1.5), (99.9, 1.5), (100, 2.0),
     (5000, 2.0)],
)
def test_alpha_by_people_within_500_m(config: mh.MajorHazardConfig, people: float, alpha: float) -> None:
    assert mh.alpha_for(people, config) == alpha


@pytest.mark.parametrize(
    ("r", "grade"), [(150, 1), (100, 1), (99.99, 2), (50, 2), (49.9, 3), (10, 3), (9.99, 4), (0, 4)]
)
def test_grade_by_r(config: mh.MajorHazardConfig, r: float, grade: int) -> None:
    assert mh.grade_for(r, config) == grade


def test_worked_example_gas_station_below_threshold(config: mh.MajorHazardConfig) -> None:
    # 150 t gasoline + 10 t LPG: S = 150/200 + 10/50 = 0.75 + 0.20 = 0.95 < 1 → not a major hazard.
    res = mh.assess_site([("汽油", 150), ("液化石油气", 10)], 120, config)
    assert res.s == pytest.approx(0.95)
    assert not res.is_major and res.grade is None
    # R is still reported: α 2.0 × (1.0 × 0.75 + 1.5 × 0.20) = 2.1
    assert res.r == pytest.approx(2.1)


def test_worked_example_ammonia_and_chlorine_store(config: mh.MajorHazardConfig) -> None:
    # 50 t liquid ammonia + 10 t chlorine, 40 people within 500 m:
    # S = 50/10 + 10/5 = 7; Σβq/Q = 2 × 5 + 4 × 2 = 18; α = 1.2; R = 21.6 → 三级.
    res = mh.assess_site([("液氨", 50), ("氯气", 10)], 40, config)
    assert (res.s, res.weighted, res.alpha) == (pytest.approx(7.0), pytest.approx(18.0), 1.2)
    assert res.r == pytest.approx(21.6)
    assert res.is_major and res.grade == 3 and res.grade_name == "三级"
    assert [t["chemical"] for t in res.terms] == ["氨", "氯"]


def test_worked_example_lpg_depot_grade_depends_on_people(config: mh.MajorHazardConfig) -> None:
    # 2,500 t LPG: S = 50, Σβq/Q = 1.5 × 50 = 75.
    empty = mh.assess_site([("液化石油气", 2500)], 0, config)
    assert empty.r == pytest.approx(37.5) and empty.grade == 3  # α 0.5
    crowded = mh.assess_site([("液化石油气", 2500)], 150, config)
    assert crowded.r == pytest.approx(150.0) and crowded.grade == 1  # α 2.0


def test_worked_example_methanol_tank_farm_and_repeated_entries(config: mh.MajorHazardConfig) -> None:
    # 30,000 t methanol in two tanks, 10 people: S = 60, β 1.0, α 1.0 → R = 60 → 二级.
    res = mh.assess_site([("甲醇", 20_000), ("methanol", 10_000), ("未知物", 5)], 10, config)
    assert res.s == pytest.approx(60.0) and res.r == pytest.approx(60.0) and res.grade == 2
    assert res.unknown == ["未知物"]


def test_parse_inventory_accepts_the_loader_json() -> None:
    assert mh.parse_inventory('[{"name": "汽油", "tonnes": 120.5}, {"name": "天然气", "quantity_t": 3}]') == [
        ("汽油", 120.5), ("天然气", 3.0)]
    assert mh.parse_inventory(None) == [] and mh.parse_inventory("") == []
    with pytest.raises(ValueError, match="needs name and tonnes"):
        mh.parse_inventory('[{"name": "汽油"}]')


def test_population_within_500_m_counts_cell_centres_in_the_circle() -> None:
    # 21×21 raster of 100 m cells, one person per cell; the site at a cell centre.
    transform = Affine(100, 0, 0, 0, -100, 2100)
    pop = np.ones((21, 21))
    x, y = np.array([1050.0]), np.array([1050.0])
    # cell centres within 500 m: integer (i, j) with i² + j² ≤ 25 → 81 cells
    assert mh.population_within(x, y, pop, transform)[0] == pytest.approx(81.0)
    pop[10, 10] = np.nan  # the site's own cell has no data: counted 0
    assert mh.population_within(x, y, pop, transform)[0] == pytest.approx(80.0)
    assert mh.population_within(np.array([-5000.0]), np.array([-5000.0]), pop, transform)[0] == 0.0


def test_config_errors_are_named() -> None:
    with pytest.raises(mh.MajorHazardConfigError, match=r"alpha.*min_people 0"):
        mh.parse_major_hazard_config({"chemicals": {"氯": {"threshold_t": 5, "beta": 4}},
                                      "alpha": [{"min_people": 1, "alpha": 1.0}],
                                      "grades": [{"min_r": 100, "grade": 1}, {"min_r": 50, "grade": 2},
                                                 {"min_r": 10, "grade": 3}, {"min_r": 0, "grade": 4}]})


def _section(**changes: object) -> dict[str, object]:
    data = yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))["major_hazard"]
    data.update(changes)
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"chemicals": {"氯": {"threshold_t": 0, "beta": 4}}},
         "major_hazard.chemicals.氯.threshold_t: 0 — input should be greater than 0"),
        ({"chemicals": {"氯": {"threshold_t": 5, "beta": -4}}},
         "major_hazard.chemicals.氯.beta: -4 — input should be greater than 0"),
        ({"chemicals": {"氯": {"threshold_t": 5}}}, "major_hazard.chemicals.氯.beta: missing"),
        ({"chemicals": {"氯": {"threshold_t": 5, "beta": 4, "colour": "green"}}},
         "major_hazard.chemicals.氯.colour: unknown key"),
        ({"chemicals": {}}, "major_hazard.chemicals: needs at least one chemical"),
        ({"alpha": []}, "major_hazard.alpha: needs a row with min_people 0"),
        ({"alpha": [{"min_people": 0, "alpha": 0}]}, "major_hazard.alpha.0.alpha: 0 — input should be greater than 0"),
        ({"alpha": [{"min_people": -1, "alpha": 1}]},
         "major_hazard.alpha.0.min_people: -1 — input should be greater than or equal to 0"),
        ({"grades": [{"min_r": 0, "grade": 4}]}, "major_hazard.grades: needs grades 1, 2, 3 and 4 once each"),
        ({"grades": [{"min_r": 100, "grade": 1}, {"min_r": 50, "grade": 2}, {"min_r": 10, "grade": 3},
                     {"min_r": 5, "grade": 4}]}, "major_hazard.grades: needs a row with min_r 0 (四级)"),
        ({"grades": [{"min_r": 0, "grade": 5}]}, "major_hazard.grades.0.grade: 5 — input should be 1, 2, 3 or 4"),
        ({"radius_m": 0}, "major_hazard.radius_m: 0 — input should be greater than 0"),
        ({"colour": "red"}, "major_hazard.colour: unknown key"),
    ],
)
def test_config_errors_at_the_limits(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(mh.MajorHazardConfigError) as err:
        mh.parse_major_hazard_config(_section(**changes))
    assert str(err.value) == problem


def test_config_steps_are_sorted_and_aliases_may_be_blank() -> None:
    config = mh.parse_major_hazard_config(_section(
        chemicals={"氯": {"threshold_t": 5, "beta": 4, "aliases": None}},
        alpha=[{"min_people": 0, "alpha": 0.5}, {"min_people": 100, "alpha": 2.0}, {"min_people": 1, "alpha": 1.0}],
    ))
    assert [s.min_people for s in config.alpha] == [100, 1, 0]
    assert mh.alpha_for(50, config) == 1.0
    assert config.chemicals["氯"].name == "氯" and config.chemicals["氯"].aliases == ()
    assert config.radius_m == 500.0 and config.citation.startswith("GB 18218-2018")
