"""Unit tests for the synthetic demo files (geo.capabilities.demo: the generators and the file writer).

One small run (scale 0.01) is written once per module and inspected from every side:
counts, credit codes, encodings, datums, geography, dirty-row bookkeeping and
determinism.  Checks that need more points (fireworks vs the 5th Ring, level shares)
call the pure generator at a larger scale for that one table.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geo.capabilities.demo.calibration import LEVEL_SHARES, SCALE_ONE_COUNTS, demo_counts
from geo.capabilities.demo.credit_codes import make_credit_codes
from geo.capabilities.demo.dirty import DIRTY_OUTCOMES
from geo.capabilities.demo.enterprises import draw_risk_sources, draw_units
from geo.capabilities.demo.files import MANIFEST_NAME, DemoManifest, write_demo_files
from geo.capabilities.demo.geography import DemoReference, read_demo_reference
from geo.capabilities.demo.hazards import draw_hidden_hazards
from geo.capabilities.demo.hazchem import draw_fireworks, draw_gas_stations
from geo.capabilities.demo.world import DemoWorld
from geo.coords import convert, detect_swapped
from geo.etl.headers import match_headers
from geo.etl.values import (
    ValidationError,
    is_valid_credit_code,
    level_from_ls,
    normalise_datum,
    normalise_level,
    parse_date,
)
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

SCALE = 0.01
SEED = 7


@pytest.fixture(scope="module")
def reference() -> DemoReference:
    return read_demo_reference(REFERENCE_DIR)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference: DemoReference) -> DemoManifest:
    return write_demo_files(tmp_path_factory.mktemp("demo"), reference, scale=SCALE, seed=SEED)


def _read(manifest: DemoManifest, path: str) -> pd.DataFrame:
    entry = manifest.entry(path)
    file = manifest.out_dir / path
    if entry.format == "csv":
        return pd.read_csv(file, encoding=entry.encoding, dtype=str, keep_default_na=False)
    if entry.format == "xlsx":
        return pd.read_excel(file, header=entry.header_row - 1, dtype=str, keep_default_na=False)
    return gpd.read_file(file)


def _lonlat_columns(frame: pd.DataFrame) -> tuple[str, str]:
    lon = next(c for c in frame.columns if str(c).startswith("经度"))
    lat = next(c for c in frame.columns if str(c).startswith("纬度"))
    return lon, lat


def _wgs84_points(manifest: DemoManifest, path: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The file's rows with coordinates, and their points converted to WGS-84 (as the loader would)."""
    entry = manifest.entry(path)
    frame = _read(manifest, path)
    lon_col, lat_col = _lonlat_columns(frame)
    frame = frame[(frame[lon_col] != "") & (frame[lat_col] != "")].reset_index(drop=True)
    lon = np.array(frame[lon_col].astype(float))
    lat = np.array(frame[lat_col].astype(float))
    swapped = detect_swapped(lon, lat)
    lon[swapped], lat[swapped] = lat[swapped], lon[swapped]
    datums = (
        [normalise_datum(v) for v in frame[entry.datum_column]] if entry.datum_column else [entry.datum] * len(frame)
    )
    x, y = lon.copy(), lat.copy()
    for datum in sorted(set(datums)):
        idx = np.flatnonzero(np.asarray(datums) == datum)
        x[idx], y[idx] = convert(lon[idx], lat[idx], src=datum, dst="wgs84")
    return frame, x, y


# ------------------------------------------------------------------------------ counts


def test_counts_scale_from_the_seed_figures() -> None:
    assert demo_counts(1.0) == {**SCALE_ONE_COUNTS, "lines": SCALE_ONE_COUNTS["lines"]}
    small = demo_counts(SCALE)
    assert small["units"] == 99
    assert small["risk_sources"] == 1627
    assert small["hidden_hazards"] == 267
    assert small["fireworks"] == 1  # 0.87 rounds to 1: a file is never empty
    assert small["lines"] >= 12
    with pytest.raises(ValueError, match="scale"):
        demo_counts(0)


def test_files_hold_the_scaled_counts(demo: DemoManifest) -> None:
    counts = demo_counts(SCALE)
    expected = {
        "units.csv": counts["units"],
        "risk_sources.csv": counts["risk_sources"],
        "hazchem_sites.csv": counts["hazchem_sites"],
        "gas_stations.csv": counts["gas_stations_operating"] + counts["gas_stations_closed"],
        "fireworks_retail.csv": counts["fireworks"],
        "hidden_hazards.csv": counts["hidden_hazards"],
        "resources_teams.csv": counts["teams"],
        "resources_experts.xlsx": counts["experts"],
        "resources_depots.csv": counts["equipment_depots"] + counts["supply_depots"],
        "resources_shelters.csv": counts["shelters"],
        "resources_social.csv": counts["social_resources"],
        "jjj_units.csv": counts["jjj_units"],
        "jjj_risk_sources.csv": counts["jjj_risk_sources"],
        "jjj_hazchem_sites.csv": counts["jjj_hazchem_sites"],
        "lines.geojson": counts["lines"],
    }
    assert sorted(demo.load_order) == sorted(expected)
    for path, n in expected.items():
        entry = demo.entry(path)
        frame = _read(demo, path)
        assert len(frame) == entry.rows == n + entry.dirty_rows.get("duplicate_key", 0), path


def test_risk_sources_belong_to_units_and_keep_the_seed_mean(demo: DemoManifest) -> None:
    units = _read(demo, "units.csv")
    sources = _read(demo, "risk_sources.csv")
    # a planted bad check character changes only the 18th character
    unit_bodies = set(units["统一社会信用代码"].str[:17])
    assert sources["统一社会信用代码"].str[:17].isin(unit_bodies).all()
    per_unit = demo_counts(SCALE)["risk_sources"] / demo_counts(SCALE)["units"]
    assert per_unit == pytest.approx(162_699 / 9_911, rel=0.01)
    hazchem = _read(demo, "hazchem_sites.csv")
    assert hazchem["统一社会信用代码"].str[:17].isin(unit_bodies).all()
    assert set(hazchem["单位名称"]) <= set(units["单位名称"]) | {""}


# ------------------------------------------------------------------------ credit codes


def test_credit_codes_are_valid_except_the_planted_ones(demo: DemoManifest) -> None:
    checked = 0
    for entry in demo.files:
        if entry.format == "geojson":
            continue
        frame = _read(demo, entry.path)
        if "统一社会信用代码" not in frame.columns:
            continue
        invalid = int((~frame["统一社会信用代码"].map(is_valid_credit_code)).sum())
        assert invalid == entry.dirty_rows.get("bad_credit_code", 0), entry.path
        checked += 1
    assert checked >= 8


def test_credit_codes_carry_the_division_code(demo: DemoManifest, reference: DemoReference) -> None:
    units = _read(demo, "units.csv")
    districts = reference.districts.set_index("name")["area_code"]
    clean = units[units["统一社会信用代码"].map(is_valid_credit_code) & (units["单位名称"] != "")]
    assert (clean["统一社会信用代码"].str[:2] == "91").all()
    # the district named is the one in the code, except where a wrong district was planted
    wrong = (clean["统一社会信用代码"].str[2:8] != clean["所属区"].map(districts)).sum()
    assert wrong <= demo.entry("units.csv").dirty_rows.get("district_mismatch", 0)


def test_make_credit_codes_are_distinct_and_valid() -> None:
    taken: set[str] = set()
    codes = make_credit_codes(np.random.default_rng(3), ["110105"] * 3000, taken=taken)
    assert len(set(codes)) == 3000 == len(taken)
    assert all(is_valid_credit_code(c) for c in codes)
    assert all(c.startswith("91110105") for c in codes)
    individual = make_credit_codes(np.random.default_rng(3), ["131082"] * 50, org_type="92", taken=taken)
    assert all(is_valid_credit_code(c) and c.startswith("92131082") for c in individual)
    assert not set(individual) & set(codes)


# ------------------------------------------------------------------------------ geography


def test_fireworks_points_are_outside_the_fifth_ring(reference: DemoReference) -> None:
    fireworks = draw_fireworks(DemoWorld(reference, 1.0, np.random.default_rng(SEED)))
    assert len(fireworks) == 87
    lon, lat = fireworks["lon"].to_numpy(dtype=float), fireworks["lat"].to_numpy(dtype=float)
    assert not shapely.contains_xy(reference.fifth_ring, lon, lat).any()
    assert shapely.contains_xy(reference.beijing, lon, lat).all()


def test_fireworks_file_has_none_inside_the_fifth_ring(demo: DemoManifest, reference: DemoReference) -> None:
    _, lon, lat = _wgs84_points(demo, "fireworks_retail.csv")
    assert len(lon) >= 1
    assert not shapely.contains_xy(reference.fifth_ring, lon, lat).any()


def test_gas_stations_few_inside_the_fifth_ring_and_no_grade_one_there(reference: DemoReference) -> None:
    stations = draw_gas_stations(
        DemoWorld(reference, 0.3, np.random.default_rng(SEED)),
        pd.DataFrame(
            {"industry": ["加油站"], "name": ["北京某某石油销售有限公司"], "credit_code": ["911101056000000000"]}
        ),
    )
    inside = shapely.contains_xy(reference.fifth_ring, stations["lon"].astype(float), stations["lat"].astype(float))
    assert 0 < inside.mean() < 0.15
    assert not (stations["gas_station_grade"][inside] == "一级").any()
    assert (stations["operating"] == "否").sum() == demo_counts(0.3)["gas_stations_closed"]


BEIJING_FILES = (
    "units.csv", "risk_sources.csv", "hazchem_sites.csv", "gas_stations.csv", "fireworks_retail.csv",
    "hidden_hazards.csv", "resources_teams.csv", "resources_experts.xlsx", "resources_depots.csv",
    "resources_shelters.csv",
)  # fmt: skip


@pytest.mark.parametrize("path", BEIJING_FILES)
def test_beijing_rows_lie_in_beijing_except_planted_ones(
    demo: DemoManifest, reference: DemoReference, path: str
) -> None:
    _, lon, lat = _wgs84_points(demo, path)
    outside = int((~shapely.contains_xy(reference.beijing, lon, lat)).sum())
    assert outside == demo.entry(path).dirty_rows.get("out_of_region", 0)


def test_units_lie_in_the_district_they_name(demo: DemoManifest, reference: DemoReference) -> None:
    frame, lon, lat = _wgs84_points(demo, "units.csv")
    polygons = dict(zip(reference.districts["name"], reference.districts.geometry, strict=True))
    known = frame["所属区"].isin(list(polygons)).to_numpy()
    in_region = shapely.contains_xy(reference.beijing, lon, lat)
    wrong = sum(
        not shapely.contains_xy(polygons[d], x, y)
        for d, x, y, k, r in zip(frame["所属区"], lon, lat, known, in_region, strict=True)
        if k and r
    )
    assert wrong == demo.entry("units.csv").dirty_rows["district_mismatch"]


def test_swapped_coordinates_are_detectable(demo: DemoManifest) -> None:
    for entry in demo.files:
        if not entry.dirty_rows.get("swapped_lonlat"):
            continue
        frame = _read(demo, entry.path)
        lon_col, lat_col = _lonlat_columns(frame)
        has = (frame[lon_col] != "") & (frame[lat_col] != "")
        swapped = detect_swapped(frame.loc[has, lon_col].astype(float), frame.loc[has, lat_col].astype(float))
        assert swapped.sum() == entry.dirty_rows["swapped_lonlat"], entry.path


def test_jjj_rows_lie_in_tianjin_or_hebei_near_beijing(demo: DemoManifest, reference: DemoReference) -> None:
    frame, lon, lat = _wgs84_points(demo, "jjj_units.csv")
    assert not shapely.contains_xy(reference.beijing, lon, lat).any()
    counties = reference.counties.set_index("name")
    assert frame["区县"].isin(counties.index).all()
    assert frame["地址"].str.match(r"^(天津市|河北省)").all()
    near = gpd.GeoSeries([reference.beijing], crs="EPSG:4326").to_crs("EPSG:4548").buffer(30_000)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:4548")
    assert points.within(near.iloc[0]).all()


def test_lines_cross_the_beijing_borders(demo: DemoManifest, reference: DemoReference) -> None:
    lines = _read(demo, "lines.geojson")
    assert lines.crs.to_epsg() == 4326
    assert set(lines.geom_type) == {"LineString"}
    assert {"编码", "名称", "类型", "运营单位", "合成数据"} <= set(lines.columns)
    borders = reference.borders.set_index("line_code").geometry
    crossing_hebei = lines.intersects(borders["border:110000-130000"])
    crossing_tianjin = lines.intersects(borders["border:110000-120000"])
    assert crossing_hebei.any() and crossing_tianjin.any()
    assert (~(crossing_hebei | crossing_tianjin)).any()  # and some stay inside Beijing
    assert lines["编码"].is_unique


# ----------------------------------------------------------------------- file formats


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8"])
def test_csv_files_use_their_declared_encoding(demo: DemoManifest, encoding: str) -> None:
    entries = [e for e in demo.files if e.format == "csv" and e.encoding == encoding]
    assert entries, f"no {encoding} file"
    for entry in entries:
        data = (demo.out_dir / entry.path).read_bytes()
        text = data.decode(encoding)
        assert "合成数据" in text.splitlines()[0]
        assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
        if encoding == "gbk":
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")


def test_xlsx_has_a_title_row_and_numeric_coordinates(demo: DemoManifest) -> None:
    from openpyxl import load_workbook

    entry = demo.entry("resources_experts.xlsx")
    sheet = load_workbook(demo.out_dir / entry.path, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "合成" in str(rows[0][0])
    header = list(rows[entry.header_row - 1])
    lon = header.index("经度")
    assert any(isinstance(r[lon], float) for r in rows[entry.header_row :])
    assert len(rows) - entry.header_row == entry.rows


def test_every_file_says_it_is_synthetic(demo: DemoManifest) -> None:
    for entry in demo.files:
        frame = _read(demo, entry.path)
        assert (frame["合成数据"] == "是").all(), entry.path


def test_headers_are_recognised_by_the_loader(demo: DemoManifest) -> None:
    for entry in demo.files:
        frame = _read(demo, entry.path)
        headers = [c for c in frame.columns if c != "geometry"]
        match = match_headers(headers, entry.kind)
        assert match.ok and not match.unknown, (entry.path, match)
        assert match.columns.get("合成数据") == "synthetic"
        if entry.format != "geojson":
            assert match.has_coordinates, entry.path
        assert (entry.datum is None) == ("datum" in match.columns.values()), entry.path


def test_declared_datums_and_address_only_rows(demo: DemoManifest) -> None:
    datums = {e.path: e.datum for e in demo.files}
    assert datums["units.csv"] is None and demo.entry("units.csv").datum_column == "坐标系"
    assert {"gcj02", "bd09", "cgcs2000", "wgs84"} <= set(datums.values())
    units = _read(demo, "units.csv")
    assert {normalise_datum(v) for v in units["坐标系"] if v} >= {"wgs84", "gcj02"}
    for entry in demo.files:
        if entry.format == "geojson":
            continue
        frame = _read(demo, entry.path)
        lon_col, _ = _lonlat_columns(frame)
        assert int((frame[lon_col] == "").sum()) == entry.address_only_rows, entry.path
        if entry.address_only_rows:
            assert (frame.loc[frame[lon_col] == "", "地址"] != "").all()
    assert demo.entry("resources_social.csv").address_only_rows == demo.entry("resources_social.csv").rows


# --------------------------------------------------------------------- values and dirt


def test_risk_levels_follow_ls_and_the_assumed_shares(reference: DemoReference) -> None:
    world = DemoWorld(reference, 0.1, np.random.default_rng(SEED))
    sources = draw_risk_sources(world, draw_units(world), 16_270, world.district_polygons)
    shares = sources["level"].value_counts(normalize=True)
    for level, share in LEVEL_SHARES.items():
        assert shares[level] == pytest.approx(share, abs=0.01 + share * 0.15)
    rated = sources[sources["likelihood"] != ""]
    agree = np.mean(
        [
            level_from_ls(lk, sv) == lv
            for lk, sv, lv in zip(rated["likelihood"], rated["severity"], rated["level"], strict=True)
        ]
    )
    assert 0.97 < agree < 1.0  # mostly L×S, a few overrides


def test_planted_dirty_rows_match_the_manifest(demo: DemoManifest) -> None:
    sources = _read(demo, "risk_sources.csv")
    unknown = 0
    for value in sources["风险等级"]:
        try:
            normalise_level(value)
        except ValidationError:
            unknown += 1
    assert unknown == demo.entry("risk_sources.csv").dirty_rows["unknown_level"]
    assert (sources["风险源名称"] == "").sum() == demo.entry("risk_sources.csv").dirty_rows["missing_name"]
    duplicated = sources.duplicated(["统一社会信用代码", "风险源编码"]).sum()
    assert duplicated == demo.entry("risk_sources.csv").dirty_rows["duplicate_key"]

    hazards = _read(demo, "hidden_hazards.csv")
    bad = 0
    for value in hazards["排查日期"]:
        try:
            parse_date(value)
        except ValidationError:
            bad += 1
    assert bad == demo.entry("hidden_hazards.csv").dirty_rows["bad_date"]
    for entry in demo.files:
        assert set(entry.dirty_rows) <= set(DIRTY_OUTCOMES)
        assert entry.expected_rejected == sum(n for r, n in entry.dirty_rows.items() if DIRTY_OUTCOMES[r] == "rejected")
    total = sum(sum(e.dirty_rows.values()) for e in demo.files)
    rows = sum(e.rows for e in demo.files)
    assert 0.01 < total / rows < 0.05  # "a few percent"


def test_manifest_names_the_dirty_rows_as_the_loader_numbers_them(demo: DemoManifest) -> None:
    for entry in demo.files:
        assert sorted(entry.dirty_rows) == sorted(entry.dirty_rows_at), entry.path
        assert all(len(entry.dirty_rows_at[r]) == n for r, n in entry.dirty_rows.items()), entry.path
        if entry.format == "geojson":
            continue
        frame = _read(demo, entry.path)
        first = entry.header_row + 1  # the loader numbers rows as the spreadsheet shows them
        lon_col, _ = _lonlat_columns(frame)
        for reason, rows in entry.dirty_rows_at.items():
            cells = frame.iloc[[r - first for r in rows]]
            assert (cells[lon_col] != "").all(), (entry.path, reason)  # never in an address-only row
            if reason == "bad_credit_code":
                assert not cells["统一社会信用代码"].map(is_valid_credit_code).any(), entry.path
    sources = demo.entry("risk_sources.csv")
    assert sources.warnings["level_differs_from_ls"] >= 0
    assert sources.expected_rejected == sum(n for r, n in sources.dirty_rows.items() if DIRTY_OUTCOMES[r] == "rejected")


def test_hidden_hazards_are_nearly_all_rectified(reference: DemoReference) -> None:
    world = DemoWorld(reference, 0.2, np.random.default_rng(SEED))
    hazards = draw_hidden_hazards(world, draw_units(world))
    closed = hazards["status"] == "已整改"
    assert closed.mean() == pytest.approx(0.999, abs=0.001)
    assert (hazards.loc[closed, "rectified_date"] != "").all()
    assert (hazards.loc[~closed, "rectified_date"] == "").all()
    found = hazards["found_date"].map(parse_date)
    assert found.min().year == 2017 and found.max().year == 2018
    assert ((hazards["severity"] == "重大隐患").mean()) == pytest.approx(0.03, abs=0.015)


def test_chemicals_are_json_with_the_domain_chemicals(demo: DemoManifest) -> None:
    sites = _read(demo, "hazchem_sites.csv")
    names = set()
    for text in sites["危险化学品名称及数量"]:
        items = json.loads(text)
        assert items and all(item["tonnes"] > 0 for item in items)
        names |= {item["name"] for item in items}
    assert names <= {"汽油", "液化石油气", "天然气", "氢气", "氯气", "液氨", "甲醇", "苯"}


# ---------------------------------------------------------------- manifest, determinism


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_manifest_lists_every_file_with_its_hash(demo: DemoManifest) -> None:
    data: dict[str, Any] = json.loads((demo.out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert data["synthetic"] is True and data["seed"] == SEED and data["scale"] == SCALE
    assert data["load_order"].index("units.csv") < data["load_order"].index("risk_sources.csv")
    hashes = _hashes(demo.out_dir)
    for f in data["files"]:
        assert hashes[f["path"]] == f["sha256"]
        assert {"kind", "format", "encoding", "datum", "rows", "dirty_rows", "load_order"} - set(f) == {"load_order"}


def test_same_seed_same_bytes_other_seed_other_bytes(
    demo: DemoManifest, reference: DemoReference, tmp_path: Path
) -> None:
    again = write_demo_files(tmp_path / "again", reference, scale=SCALE, seed=SEED)
    assert _hashes(again.out_dir) == _hashes(demo.out_dir)
    other = write_demo_files(tmp_path / "other", reference, scale=SCALE, seed=SEED + 1)
    assert _hashes(other.out_dir)["units.csv"] != _hashes(demo.out_dir)["units.csv"]


def test_cli_writes_the_files(tmp_path: Path) -> None:
    from webmap.cli.main import main

    result = CliRunner().invoke(main, ["demo-data", "--scale", "0.002", "--seed", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / MANIFEST_NAME).is_file()
    assert "units.csv" in result.output
    bad = CliRunner().invoke(main, ["demo-data", "--scale", "0", "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "--scale" in bad.output


def _content_digests(folder: Path) -> dict[str, str]:
    """sha256 (first 16 hex digits) of every file; for the XLSX of its entries' contents,
    and for the manifest with the XLSX's own size and hash left out — a zip's compressed
    bytes depend on the zlib build, not on the demo."""
    import zipfile

    digests: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as zf:
                data = b"".join(name.encode() + zf.read(name) for name in sorted(zf.namelist()))
        elif path.name == MANIFEST_NAME:
            manifest = json.loads(data)
            for f in manifest["files"]:
                if f["format"] == "xlsx":
                    f["bytes"] = f["sha256"] = None
            data = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
        digests[path.name] = hashlib.sha256(data).hexdigest()[:16]
    return digests


#: What scale 0.01, seed 7 wrote before the generators were split by job: every change to
#: a draw, its order or a cell's text shows here.  Regenerate only for a change meant to
#: alter the demo data, and say so.
GOLDEN_DIGESTS: dict[str, str] = {
    "fireworks_retail.csv": "ec2c5fee198bb5d7",
    "gas_stations.csv": "a7cc51eac7ef8d2a",
    "hazchem_sites.csv": "6231bff25ce513bc",
    "hidden_hazards.csv": "fdc23bda851787c9",
    "jjj_hazchem_sites.csv": "561cafdc812afc17",
    "jjj_risk_sources.csv": "825c573d38b6be87",
    "jjj_units.csv": "8b35d757aadc7c35",
    "lines.geojson": "58c5a57db84b6674",
    "manifest.json": "d2c274f30059e1e5",
    "resources_depots.csv": "d590d052aaaa763e",
    "resources_experts.xlsx": "0b9470e56f678878",
    "resources_shelters.csv": "e7a66642c1f38e75",
    "resources_social.csv": "0dea6807874332c0",
    "resources_teams.csv": "32fe8f3e536322d7",
    "risk_sources.csv": "1acd36260258a650",
    "units.csv": "8bc9b561788ff502",
}


def test_same_seed_gives_the_golden_files(demo: DemoManifest) -> None:
    assert _content_digests(demo.out_dir) == GOLDEN_DIGESTS
