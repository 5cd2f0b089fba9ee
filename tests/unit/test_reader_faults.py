"""Files a bureau really sends that the readers used to crash on or refuse whole: one
ReadError line naming the problem, or the readable rows kept and each other row reported."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from geo.etl.geometry import guess_projected_crs, projected_sample
from geo.files.readers import ReadError, read_table

HEADER = "单位名称,统一社会信用代码,经度,纬度"


def test_a_header_without_records_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(HEADER + "\n\n", encoding="utf-8")
    with pytest.raises(ReadError, match=r"a header row \(row 1\) but no records"):
        read_table(path, kind="units")


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"\x00" * 100, b""])
def test_a_corrupt_zip_is_one_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "parcels.zip"
    path.write_bytes(data)
    with pytest.raises(ReadError, match=r"not a readable \.zip"):
        read_table(path)


def test_a_zip_without_a_shapefile_is_named(tmp_path: Path) -> None:
    path = tmp_path / "parcels.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "no shapefile here")
    with pytest.raises(ReadError, match=r"holds no \.shp"):
        read_table(path)


def _mixed(tmp_path: Path, *, gbk_rows: tuple[int, ...], n: int = 5, header: str = "utf-8") -> Path:
    lines = [HEADER.encode(header)]
    for i in range(n):
        text = f"化工厂{i},91110000MA0000000H,116.4{i},39.9{i}"
        lines.append(text.encode("gbk" if i in gbk_rows else "utf-8"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return path


def test_gbk_rows_in_a_utf8_file_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    table = read_table(_mixed(tmp_path, gbk_rows=(1, 3)), kind="units")
    assert table.encoding == "utf-8" and table.rows.tolist() == [2, 4, 6]
    assert table.frame["单位名称"].tolist() == ["化工厂0", "化工厂2", "化工厂4"]
    assert [(r.row, r.header, r.severity) for r in table.rejects] == [(3, "单位名称", "reject"),
                                                                      (5, "单位名称", "reject")]
    first = table.rejects[0]
    assert first.value == "".join(f"\\x{b:02x}" for b in "化工厂".encode("gbk")) + "1"
    assert "read as GBK: '化工厂1'" in first.reason and "化工厂1" in first.reason_zh


def test_a_gbk_file_is_still_read_as_gbk(tmp_path: Path) -> None:
    table = read_table(_mixed(tmp_path, gbk_rows=(0, 1, 2, 3, 4), header="gbk"), kind="units")
    assert table.encoding == "gbk" and len(table) == 5 and not table.rejects


def test_a_header_in_another_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(HEADER.encode("gbk") + b"\n" + "化工厂,1,2,3\n北京,1,2,3\n首钢,1,2,3\n".encode())
    with pytest.raises(ReadError, match=r"header row .* is not utf-8"):
        read_table(path, kind="units")


def test_projected_metres_are_recognised_and_the_crs_guessed() -> None:
    beijing = np.asarray([Point(449551.4, 4419702.6), Point(431585.0, 4418732.0), None], dtype=object)
    metres = projected_sample(beijing)
    assert len(metres) == 2 and guess_projected_crs(metres) == "EPSG:4548"
    assert not len(projected_sample(np.asarray([Point(116.4, 39.9), Polygon([(116, 39), (117, 39), (117, 40)])])))
    assert guess_projected_crs(np.asarray([[1e9, 1e9]])) is None
