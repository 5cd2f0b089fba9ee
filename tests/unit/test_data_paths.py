"""Every data path comes from the settings: no module derives one from its own location."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webmap.settings import DEFAULT_DATA_DIR, Settings

ROOT = Path(__file__).resolve().parents[2]
#: The packages the app runs from (scripts and tests are not the app).
PACKAGES = ("geo", "layers", "webmap")
#: Modules allowed to use ``__file__``, and why.
ALLOWED = {
    "webmap/settings.py": "the default data/ folder next to the package (RISKMAP_DATA_DIR)",
    "geo/stores/postgis.py": "the Alembic migrations: code shipped inside the package, not data",
}


def test_no_module_outside_settings_derives_a_path_from_its_location() -> None:
    found = {
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if re.search(r"\b__file__\b", path.read_text(encoding="utf-8"))
    }
    assert found <= set(ALLOWED), f"derive the path from Settings.paths instead: {sorted(found - set(ALLOWED))}"
    postgis = (ROOT / "geo/stores/postgis.py").read_text(encoding="utf-8")
    assert [line.split("=")[0].strip() for line in postgis.splitlines() if "__file__" in line] == ["MIGRATIONS"]


def test_data_dir_is_the_data_folder_and_every_path_follows_it(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISKMAP_DATA_DIR", raising=False)
    paths = Settings(data_dir=tmp_path).paths
    assert paths.data_dir == tmp_path
    assert paths.reference_dir == tmp_path / "reference"
    assert paths.rules_path == tmp_path / "rules" / "veto_rules.yaml"
    assert paths.area_config_path == tmp_path / "config" / "area_risk.yaml"
    assert Settings().paths.data_dir == DEFAULT_DATA_DIR and (DEFAULT_DATA_DIR / "reference").is_dir()


def test_a_file_can_be_moved_on_its_own(tmp_path: Path) -> None:
    rules, config = tmp_path / "rules.yaml", tmp_path / "area.yaml"
    paths = Settings(data_dir=tmp_path / "data", rules_path=rules, area_config_path=config).paths
    assert (paths.rules_path, paths.area_config_path) == (rules, config)
    assert paths.reference_dir == tmp_path / "data" / "reference"
