"""RISKMAP_DATA_DIR decides every data file the app and the CLI read: a copy of data/ with
another rule set and other area-risk parameters changes their answers (no path bypasses it)."""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from shapely.geometry import MultiLineString, MultiPolygon, Point, box

from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch
from webmap.app import create_app
from webmap.cli.main import main
from webmap.settings import load_settings

DEFAULT_RULES_VERSION = '"2026.1-default"'


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="data-dir.csv", sha256="5" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
def gpkg(tmp_path: Path) -> Path:
    """A small Beijing (with its border to Hebei) and two risk sources."""
    path = tmp_path / "store.gpkg"
    store = GeoPackageStore(path)
    store.init_schema()
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110000", "130000"], "area_code": ["110000", "130000"], "name": ["北京市", "河北省"],
         "area_type": ["province", "province"]},
        geometry=[MultiPolygon([box(116.3, 39.8, 116.5, 40.0)]), MultiPolygon([box(116.5, 39.8, 116.7, 40.0)])],
        crs="EPSG:4326"), batch=_batch("areas"))
    store.upsert("lines", gpd.GeoDataFrame(
        {"key": ["border:110000-130000"], "line_code": ["border:110000-130000"], "name": ["北京—河北"],
         "line_type": ["border"]},
        geometry=[MultiLineString([[(116.5, 39.8), (116.5, 40.0)]])], crs="EPSG:4326"), batch=_batch("lines"))
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": ["C|1", "C|2"], "credit_code": ["C", "C"], "source_code": ["1", "2"], "name": ["液氨储罐", "油库"],
         "level": ["red", "orange"], "province_code": ["110000", "110000"]},
        geometry=[Point(116.45, 39.9), Point(116.4, 39.85)], crs="EPSG:4326"), batch=_batch("risk_sources"))
    store.close()
    return path


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of data/ with rule-set version "data-dir-test", red weight 300 and 500 m heat-map cells."""
    monkeypatch.delenv("RISKMAP_DATA_DIR", raising=False)
    copy = tmp_path / "data"
    shutil.copytree(load_settings().data_dir, copy)
    rules = copy / "rules" / "veto_rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert f"version: {DEFAULT_RULES_VERSION}" in text
    rules.write_text(text.replace(f"version: {DEFAULT_RULES_VERSION}", 'version: "data-dir-test"'), encoding="utf-8")
    config = copy / "config" / "area_risk.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  red: 100\n" in text and "  cell_m: 100 " in text
    config.write_text(text.replace("  red: 100\n", "  red: 300\n").replace("  cell_m: 100 ", "  cell_m: 500 "),
                      encoding="utf-8")
    return copy


@pytest.fixture
def environment(gpkg: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("RISKMAP_DATABASE_URL", "RISKMAP_DATA_DIR", "RISKMAP_RULES_PATH", "RISKMAP_AREA_CONFIG_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(gpkg))
    yield


def _web_answers(client: FlaskClient) -> tuple[str, float, int]:
    """(rule-set version, red weight of the border profile, heat-map PNG width in pixels)."""
    version = client.get("/api/v1/veto/rules").get_json()["version"]
    profile = client.get("/api/v1/border/profile?pair=beijing-hebei&km=5").get_json()
    png = client.get("/api/v1/heatmap.png").data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (width,) = struct.unpack(">I", png[16:20])
    return version, profile["weights"]["red"], width


def _cli_answers(tmp_path: Path) -> tuple[str, str]:
    """(first line of `riskmap veto`, the `riskmap heatmap` summary)."""
    runner = CliRunner()
    veto = runner.invoke(main, ["veto", "--lon", "116.45", "--lat", "39.9", "--land-use", "school"])
    assert veto.exit_code == 0, veto.output
    heat = runner.invoke(main, ["heatmap", "--out", str(tmp_path / "heat.tif")])
    assert heat.exit_code == 0, heat.output
    return veto.output.splitlines()[0], heat.output


def test_the_web_app_reads_the_data_folder_of_the_settings(environment: None, data_copy: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    default = _web_answers(create_app().test_client())
    assert default[:2] == ("2026.1-default", 100)
    monkeypatch.setenv("RISKMAP_DATA_DIR", str(data_copy))
    moved = _web_answers(create_app().test_client())
    assert moved[:2] == ("data-dir-test", 300)
    assert moved[2] < default[2]  # 500 m cells instead of 100 m


def test_the_cli_reads_the_data_folder_of_the_settings(environment: None, data_copy: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    veto, heat = _cli_answers(tmp_path)
    assert "rule set 2026.1-default" in veto and "cells of 100 m" in heat
    monkeypatch.setenv("RISKMAP_DATA_DIR", str(data_copy))
    veto, heat = _cli_answers(tmp_path)
    assert "rule set data-dir-test" in veto and "cells of 500 m" in heat


def test_a_rule_file_of_its_own_overrides_the_data_folder(environment: None, data_copy: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMAP_RULES_PATH", str(data_copy / "rules" / "veto_rules.yaml"))
    client = create_app().test_client()
    assert client.get("/api/v1/veto/rules").get_json()["version"] == "data-dir-test"
    assert client.get("/api/v1/border/profile?pair=beijing-hebei&km=5").get_json()["weights"]["red"] == 100


def test_an_edited_rule_file_is_read_again(environment: None, data_copy: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMAP_DATA_DIR", str(data_copy))
    client = create_app().test_client()
    assert client.get("/api/v1/veto/rules").get_json()["version"] == "data-dir-test"
    rules = data_copy / "rules" / "veto_rules.yaml"
    stat = rules.stat()
    rules.write_text(rules.read_text(encoding="utf-8").replace('"data-dir-test"', '"edited"'), encoding="utf-8")
    os.utime(rules, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a coarse clock still sees the edit
    assert client.get("/api/v1/veto/rules").get_json()["version"] == "edited"
