"""The loader end to end on both stores: dirty files in, rows and reports out.

Every input file is generated here, in ``tmp_path``, the way a bureau would hand it
over: GBK and BOM CSV with Chinese headers, an Excel workbook with a title row,
GeoJSON, a zipped Shapefile with GBK attributes, a GeoPackage.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

from geo import coords
from geo.capabilities.loading import LoadReport, load_file, write_report
from geo.distance import geodesic_m
from geo.etl.values import make_credit_code
from geo.files.reference import read_reference
from geo.jurisdiction import JurisdictionIndex, build_jurisdiction_index
from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import Store
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

HEADERS = ["单位名称", "统一社会信用代码", "地址", "所属区", "经度", "纬度", "合成数据"]
TIANANMEN = (116.3975, 39.9087)
HAIDIAN = (116.2983, 39.9593)
CHAOYANG = (116.4430, 39.9219)


def code(n: int) -> str:
    return make_credit_code(f"91110105{n:09d}")


@pytest.fixture(scope="module")
def index() -> JurisdictionIndex:
    return build_jurisdiction_index(read_reference("areas", REFERENCE_DIR))


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def good_units(n: int, start: int = 0) -> list[list[object]]:
    """``n`` clean unit rows around Tiananmen (东城区)."""
    return [[f"单位{i}", code(i), f"东城区某路{i}号", "东城区", f"{TIANANMEN[0] + i * 1e-4:.7f}",
             f"{TIANANMEN[1]:.7f}", "是"] for i in range(start, start + n)]


def load(store: Store, kind: str, path: Path, index: JurisdictionIndex, **kw: Any) -> LoadReport:
    return load_file(store, kind, path, reference=index, **kw)


def keys_and_hashes(store: Store, kind: str) -> list[tuple[str, str]]:
    frame = store.read(kind)
    return list(zip(frame["key"], frame["row_hash"], strict=True))


# ------------------------------------------------------------------------ dirty CSV


def test_dirty_gbk_csv_reports_every_reason_and_loads_the_good_rows(
    store: Store, index: JurisdictionIndex, tmp_path: Path
) -> None:
    bad_check = code(90)[:-1] + ("0" if code(90)[-1] != "0" else "1")
    rows = [
        *good_units(3),
        ["", code(10), "", "东城区", "116.40", "39.91", "是"],  # row 5: required name empty
        ["坏码", bad_check, "", "", "116.40", "39.91", "是"],  # row 6: check character
        ["坏坐标", code(11), "", "", "116.4x", "39.91", "是"],  # row 7: not a number
        ["境外", code(12), "", "", "121.47", "31.23", "是"],  # row 8: Shanghai
        ["重复", code(0), "", "", "116.40", "39.91", "是"],  # row 9: duplicate of row 2
        ["填反", code(13), "", "东城区", f"{TIANANMEN[1]}", f"{TIANANMEN[0]}", "否"],  # row 10: swapped, fixed
        ["错区", code(14), "", "朝阳区", f"{HAIDIAN[0]}", f"{HAIDIAN[1]}", "否"],  # row 11: district mismatch
        ["无坐标", code(15), "朝阳区某路", "", "", "", "否"],  # row 12: no geocoder
        ["真假", code(16), "", "", "116.40", "39.91", "也许"],  # row 13: not a yes/no
    ]
    path = write_csv(tmp_path / "单位.csv", HEADERS, rows, encoding="gbk")
    report = load(store, "units", path, index)
    assert report.encoding == "gbk"
    assert (report.inserted, report.updated, report.unchanged) == (5, 0, 0)
    assert (report.rejected, report.warned) == (7, 2)
    assert store.count("units") == 5
    rejected = {i.row: i for i in report.issues if i.severity == "reject"}
    assert sorted(rejected) == [5, 6, 7, 8, 9, 12, 13]
    assert rejected[9].reason == "duplicate key, first at row 2"
    warned = {i.row: i.column for i in report.issues if i.severity == "warning"}
    assert warned == {10: "lon", 11: "district"}
    assert "rejected 7" in report.summary_line() and "inserted 5" in report.summary_line()

    csv_path, json_path = write_report(report, tmp_path / "reports")
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for UTF-8
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][:3] == ["文件 file", "行号 row", "字段 column"]
    assert {line[1] for line in lines[1:] if "reject" in line[5]} == {"5", "6", "7", "8", "9", "12", "13"}
    assert all(line[6] and line[7] for line in lines[1:])  # Chinese and English reasons
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["rejected"] == 7 and data["inserted"] == 5 and data["sha256"] == report.sha256


def test_dirty_hidden_hazards_dates_enums_and_places(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    header = ["隐患编号", "统一社会信用代码", "隐患级别", "发现日期", "整改完成日期", "经度", "纬度", "坐标系"]
    rows = [
        ["H1", code(1), "重大隐患", "2018/3/5", "2018年4月1日", "116.40", "39.91", "WGS84"],
        ["H2", code(1), "一般", "20180305", "", "116.40", "39.91", ""],
        ["H3", code(1), "一般", "2018-02-30", "", "116.40", "39.91", ""],  # row 4: no such date
        ["H4", code(1), "很严重", "2018-03-05", "", "116.40", "39.91", ""],  # row 5: closed vocabulary
        ["H5", "91110105MA0000000Z", "一般", "", "", "116.40", "39.91", ""],  # row 6: bad optional credit code
        ["H6", code(1), "一般", "", "", "113.5", "40.5", ""],  # row 7: in the box, but Shanxi
        ["H7", code(1), "一般", "", "", "116.40", "", ""],  # row 8: only one coordinate
        ["H8", code(1), "一般", "", "", "116.40", "39.91", "北京54"],  # row 9: unknown datum
        ["", code(1), "一般", "", "", "116.40", "39.91", ""],  # row 10: no hazard code
    ]
    report = load(store, "hidden_hazards", write_csv(tmp_path / "隐患.csv", header, rows), index)
    assert (report.inserted, report.rejected) == (2, 7)
    assert {i.row: i.column for i in report.issues if i.severity == "reject"} == {
        4: "found_date", 5: "severity", 6: "credit_code", 7: "geometry", 8: "lon", 9: "datum", 10: "hazard_code",
    }
    stored = store.read("hidden_hazards").set_index("hazard_code")
    assert stored["status"].to_dict() == {"H1": "closed", "H2": "open"}
    assert stored["found_date"].to_dict() == {"H1": "2018-03-05", "H2": "2018-03-05"}
    assert stored["severity"].to_dict() == {"H1": "major", "H2": "general"}


def test_bom_csv_rerun_is_unchanged_and_an_edit_is_an_update(
    store: Store, index: JurisdictionIndex, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "units.csv", HEADERS, good_units(20), encoding="utf-8-sig")
    first = load(store, "units", path, index)
    assert first.encoding == "utf-8-sig" and first.inserted == 20
    before = keys_and_hashes(store, "units")
    version = store.data_version("units")
    again = load(store, "units", path, index)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 20, 0)
    assert keys_and_hashes(store, "units") == before
    assert store.data_version("units") == version
    rows = good_units(20)
    rows[3][2] = "东城区新地址1号"
    edited = load(store, "units", write_csv(tmp_path / "units.csv", HEADERS, rows, encoding="utf-8-sig"), index)
    assert (edited.inserted, edited.updated, edited.unchanged) == (0, 1, 19)
    assert store.read("units", where={"key": code(3)})["address"].tolist() == ["东城区新地址1号"]


# -------------------------------------------------------------------------- formats


def test_xlsx_with_a_title_row(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2018年北京市安全风险源台账"])
    sheet.append(["统一社会信用代码", "风险源编码", "风险源名称", "风险等级", "可能性", "严重性", "经度", "纬度",
                  "发现日期"])
    sheet.append([code(1), "S1", "液氨储罐", "重大", 5, 4, TIANANMEN[0], TIANANMEN[1], None])
    sheet.append([code(1), "S2", "配电室", None, 2, 3, CHAOYANG[0], CHAOYANG[1], None])
    sheet.append([code(1), "S3", "锅炉房", "很高", 2, 3, CHAOYANG[0], CHAOYANG[1], None])
    path = tmp_path / "risk_sources.xlsx"
    book.save(path)
    report = load(store, "risk_sources", path, index)
    assert report.format == "xlsx"
    assert (report.inserted, report.rejected) == (2, 1)
    assert [i.row for i in report.issues if i.severity == "reject"] == [5]  # the spreadsheet row
    stored = store.read("risk_sources").set_index("source_code")
    assert stored["level"].to_dict() == {"S1": "red", "S2": "blue"}  # S2 from L × S = 6
    assert stored.loc["S1", "likelihood"] == 5
    assert stored.loc["S2", "county_code"] == "110105"


def test_geojson_points_and_lines(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    targets = gpd.GeoDataFrame(
        {"目标编码": ["T1", "T2"], "名称": ["一小", "二院"], "目标类型": ["学校", "医院"],
         "敏感等级": ["高敏感", "高"]},
        geometry=[Point(TIANANMEN), Point(HAIDIAN)], crs="EPSG:4326",
    )
    pyogrio.write_dataframe(targets, tmp_path / "targets.geojson", driver="GeoJSON")
    report = load(store, "protection_targets", tmp_path / "targets.geojson", index)
    assert (report.format, report.inserted, report.rejected) == ("geojson", 2, 0)
    stored = store.read("protection_targets").set_index("target_code")
    assert stored["target_type"].to_dict() == {"T1": "school", "T2": "hospital"}
    assert stored["sensitivity"].tolist() == ["high", "high"]
    assert stored["county_code"].tolist() == ["110101", "110108"]

    lines = gpd.GeoDataFrame(
        {"管线编码": ["G1", "G2"], "管线类型": ["天然气管道", "危化品运输路线"], "运营单位": ["中石油", None]},
        geometry=[LineString([(116.9, 39.7), (117.2, 39.6)]), LineString([(116.6, 39.9), (116.9, 39.95)])],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(lines, tmp_path / "lines.geojson", driver="GeoJSON")
    report = load(store, "lines", tmp_path / "lines.geojson", index)
    assert report.inserted == 2
    stored = store.read("lines").set_index("line_code")
    assert stored["line_type"].to_dict() == {"G1": "gas_pipeline", "G2": "hazmat_route"}
    assert set(stored.geometry.geom_type) == {"MultiLineString"}


def test_zipped_shapefile_with_gbk_attributes(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    zones = gpd.GeoDataFrame(
        {"区域代码": ["Z1", "Z2"], "名称": ["化工园区", "物流园区"], "区域类型": ["园区", "园区"]},
        geometry=[box(116.60, 39.70, 116.62, 39.72), box(116.70, 39.80, 116.72, 39.82)], crs="EPSG:4326",
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(zones, folder / "zones.shp", encoding="GBK")
    archive = tmp_path / "zones.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"园区/{part.name}")
    report = load(store, "areas", archive, index)
    assert (report.format, report.inserted, report.rejected) == ("shapefile", 2, 0)
    stored = store.read("areas").set_index("area_code")
    assert stored["name"].to_dict() == {"Z1": "化工园区", "Z2": "物流园区"}
    assert stored["area_type"].tolist() == ["zone", "zone"]
    assert set(stored.geometry.geom_type) == {"MultiPolygon"}


def test_geopackage_parcels_in_a_metric_crs(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    parcels = gpd.GeoDataFrame(
        {"地块编号": ["P1"], "用地性质": ["居住用地"]},
        geometry=[box(116.40, 39.90, 116.41, 39.91)], crs="EPSG:4326",
    ).to_crs("EPSG:4548")
    pyogrio.write_dataframe(parcels, tmp_path / "parcels.gpkg", layer="地块")
    report = load(store, "parcels", tmp_path / "parcels.gpkg", index)
    assert (report.format, report.inserted) == ("geopackage", 1)
    bounds = store.read("parcels").geometry.iloc[0].bounds
    assert bounds == pytest.approx((116.40, 39.90, 116.41, 39.91), abs=1e-7)


# --------------------------------------------------------------------------- datums


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_gcj02_and_bd09_are_stored_within_5_cm(
    store: Store, index: JurisdictionIndex, tmp_path: Path, datum: str
) -> None:
    truth = np.array([TIANANMEN, HAIDIAN, CHAOYANG, (117.20, 39.13), (116.69, 39.52)])  # 天津, 廊坊
    x, y = coords.convert(truth[:, 0], truth[:, 1], src="wgs84", dst=datum)
    by_option = [[f"单位{i}", code(i), "", "", repr(float(a)), repr(float(b)), "是"]
                 for i, (a, b) in enumerate(zip(x, y, strict=True))]
    label = {"gcj02": "GCJ-02", "bd09": "百度"}[datum]
    by_column = [[f"单位{i}", code(i + 10), "", "", repr(float(a)), repr(float(b)), "是", label]
                 for i, (a, b) in enumerate(zip(x, y, strict=True))]
    load(store, "units", write_csv(tmp_path / "a.csv", HEADERS, by_option), index, datum=datum)
    load(store, "units", write_csv(tmp_path / "b.csv", [*HEADERS, "坐标系"], by_column), index)
    stored = store.read("units").set_index("key")
    for offset in (0, 10):
        keys = [code(i + offset) for i in range(len(truth))]
        pts = stored.loc[keys].geometry
        assert np.all(geodesic_m(pts.x.to_numpy(), pts.y.to_numpy(), truth[:, 0], truth[:, 1]) < 0.05)
    assert stored.loc[[code(3), code(4)], "province_code"].tolist() == ["120000", "130000"]


# ------------------------------------------------------------------- strict, dry run


def test_strict_and_dry_run_write_nothing(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "units.csv", HEADERS, [*good_units(5), ["", code(99), "", "", "116.4", "39.9", "是"]])
    version = store.data_version("units")
    strict = load(store, "units", path, index, strict=True)
    assert strict.strict_failed and not strict.loaded
    assert (strict.inserted, strict.rejected, strict.valid) == (0, 1, 5)
    dry = load(store, "units", path, index, dry_run=True)
    assert not dry.loaded and not dry.strict_failed and (dry.valid, dry.rejected) == (5, 1)
    assert "dry run" in dry.summary_line()
    assert store.count("units") == 0 and store.data_version("units") == version
    clean = load(store, "units", write_csv(tmp_path / "clean.csv", HEADERS, good_units(5)), index, strict=True)
    assert clean.loaded and clean.inserted == 5 and not clean.strict_failed


def test_geocoded_rows_keep_their_precision(store: Store, index: JurisdictionIndex, tmp_path: Path) -> None:
    @dataclass
    class Result:
        lon: float | None
        lat: float | None
        precision: str
        confidence: float

    class Geocoder:
        def geocode_many(self, addresses: Sequence[str]) -> list[Result]:
            table = {"朝阳区建国路1号": Result(*CHAOYANG, "poi", 0.9), "东城区": Result(*TIANANMEN, "district", 0.5)}
            return [table.get(a, Result(None, None, "none", 0.0)) for a in addresses]

    rows = [["甲", code(1), "朝阳区建国路1号", "", "", "", "否"], ["乙", code(2), "", "东城区", "", "", "否"],
            ["丙", code(3), "火星", "", "", "", "否"]]
    report = load(store, "units", write_csv(tmp_path / "u.csv", HEADERS, rows), index, geocoder=Geocoder())
    assert (report.inserted, report.rejected, report.geocoded) == (2, 1, 2)
    stored = store.read("units").set_index("name")
    assert stored["geocode_precision"].to_dict() == {"甲": "poi", "乙": "district"}


# ------------------------------------------------------------------------ killed load


def die_inside_the_transaction(monkeypatch: pytest.MonkeyPatch, store: Store, kind: str) -> list[int]:
    """Make the store's upsert fail right after it wrote new rows inside its transaction.

    Returns a list that receives the row count seen inside the transaction just
    before the failure (proof that the load really was half-way).
    """
    seen: list[int] = []
    if isinstance(store, GeoPackageStore):
        original_write = GeoPackageStore._write

        def dying_write(self: GeoPackageStore, con: Any, entity: Any, rows: Any, *, insert: bool) -> int:
            original_write(self, con, entity, rows, insert=insert)
            seen.append(con.execute(f'SELECT count(*) FROM "{kind}"').fetchone()[0])
            raise RuntimeError("killed half-way")

        monkeypatch.setattr(GeoPackageStore, "_write", dying_write)
        return seen
    from sqlalchemy import text
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.dml import Insert

    original_execute = Connection.execute

    def dying_execute(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        result = original_execute(self, statement, *args, **kwargs)
        if isinstance(statement, Insert) and statement.table.name == kind:  # type: ignore[attr-defined]
            seen.append(original_execute(self, text(f'SELECT count(*) FROM "{kind}"')).scalar_one())
            raise RuntimeError("killed half-way")
        return result

    monkeypatch.setattr(Connection, "execute", dying_execute)
    return seen


def test_a_load_killed_half_way_leaves_the_store_unchanged(
    store: Store, index: JurisdictionIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(store, "units", write_csv(tmp_path / "a.csv", HEADERS, good_units(10)), index)
    before = keys_and_hashes(store, "units")
    version = store.data_version("units")
    rows = good_units(10)
    rows[0][2] = "改过的地址"  # one update ...
    rows += good_units(15, start=10)  # ... and 15 new rows
    seen = die_inside_the_transaction(monkeypatch, store, "units")
    with pytest.raises(RuntimeError, match="killed half-way"):
        load(store, "units", write_csv(tmp_path / "b.csv", HEADERS, rows), index)
    assert seen == [25]  # the new rows were written inside the transaction ...
    monkeypatch.undo()
    assert keys_and_hashes(store, "units") == before  # ... and rolled back
    assert store.count("units") == 10 and store.data_version("units") == version
    retry = load(store, "units", tmp_path / "b.csv", index)
    assert (retry.inserted, retry.updated, retry.unchanged) == (15, 1, 9)


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Run ``riskmap`` in-process against a fresh GeoPackage store."""
    from webmap.cli.main import main

    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(tmp_path / "cli.gpkg"))

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, list(args))

    return run


def test_cli_exit_codes_and_report(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "units.csv", HEADERS, [*good_units(3), ["", code(9), "", "", "116.4", "39.9", ""]])
    ok = cli("load", "units", str(path), "--report", str(tmp_path / "out"))
    assert ok.exit_code == 0, ok.output
    assert "inserted 3" in ok.stdout and "rejected 1" in ok.stdout
    assert (tmp_path / "out" / "units.csv.report.csv").exists()
    assert (tmp_path / "out" / "units.csv.report.json").exists()
    again = cli("load", "units", str(path), "--report", str(tmp_path / "out"))
    assert "unchanged 3" in again.stdout

    strict = cli("load", "units", str(path), "--strict", "--report", str(tmp_path / "out"))
    assert strict.exit_code == 2 and "--strict" in strict.stdout

    for args, fragment in (
        (("load", "units", str(tmp_path / "missing.csv")), "no such file"),
        (("load", "unicorns", str(path)), "unknown kind"),
        (("load", "risk_sources", str(path)), "风险源名称 (name)"),
    ):
        result = cli(*args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr


def test_cli_mapping_file(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "odd.csv", ["企业", "代码", "X坐标", "Y坐标"], [["甲", code(1), "116.4", "39.9"]])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("代码: credit_code\nX坐标: lon\nY坐标: lat\n", encoding="utf-8")
    result = cli("load", "units", str(path), "--mapping", str(mapping), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 valid" in result.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"代码": "no_such_column"}', encoding="utf-8")
    result = cli("load", "units", str(path), "--mapping", str(bad))
    assert result.exit_code == 1 and "no_such_column" in result.stderr


def test_report_is_written_next_to_the_input_by_default(
    make_store: Callable[[str], Store], index: JurisdictionIndex, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "units.csv", HEADERS, good_units(2))
    csv_path, json_path = write_report(load(make_store("geopackage"), "units", path, index))
    assert csv_path == tmp_path / "units.csv.report.csv" and json_path.exists()
    with csv_path.open(encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 1
