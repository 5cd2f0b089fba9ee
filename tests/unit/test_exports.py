"""Unit tests for geo.files.exports: each format written and read back (the GeoPackage
with pyogrio, i.e. GDAL), the dispatcher, the format rules and the cell values."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo.errors import BadInput
from geo.files.exports import (
    FORMATS,
    MEDIA_TYPES,
    Export,
    cell_value,
    export,
    file_name,
    format_of,
    write_csv,
    write_gpkg,
)

TABLE = pd.DataFrame({"key": ["a", "b"], "名称": ["液氨储罐", None], "distance_m": [12.5, np.nan],
                      "count": pd.array([3, None], dtype="Int64"), "details": [{"k": "值"}, [1, 2]],
                      "mixed": pd.Series([7, None], dtype=object)})
FEATURES = gpd.GeoDataFrame({"key": ["a", "b"], "name": ["液氨储罐", None], "level": ["red", "blue"],
                             "distance_m": [12.5, np.nan], "synthetic": [True, False]},
                            geometry=[Point(116.4, 39.9), Point(116.5, 40.0)], crs="EPSG:4326")


def _read_gpkg(data: bytes, tmp_path: Path) -> tuple[gpd.GeoDataFrame, dict]:
    path = tmp_path / "out.gpkg"
    path.write_bytes(data)
    (layer, _), = pyogrio.list_layers(path)
    return pyogrio.read_dataframe(path, layer=layer), pyogrio.read_info(path, layer=layer)


def test_one_media_type_per_format() -> None:
    assert set(MEDIA_TYPES) == set(FORMATS) == {"geojson", "csv", "xlsx", "gpkg"}


def test_csv_is_utf8_with_bom_and_plain_cells() -> None:
    data = write_csv(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "key,名称,distance_m,count,details,mixed"
    assert lines[1] == 'a,液氨储罐,12.5,3,"{""k"": ""值""}",7'
    assert lines[2] == 'b,,,,"[1, 2]",'


def test_xlsx_has_every_table_then_the_about_sheet() -> None:
    data = export(Export("t", {"features": TABLE, "a very long sheet title over 31 chars": TABLE.head(1)},
                         meta={"crs": "EPSG:4326", "notice": {"zh": "合成"}, "synthetic": True}), "XLSX")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["features", "a very long sheet title over 31", "说明 about"]
    rows = list(book["features"].values)
    assert rows[0] == ("key", "名称", "distance_m", "count", "details", "mixed")
    assert rows[1] == ("a", "液氨储罐", 12.5, 3, '{"k": "值"}', 7)
    assert rows[2] == ("b", None, None, None, "[1, 2]", None)
    assert book["features"].freeze_panes == "A2"
    assert list(book["说明 about"].values) == [("crs", "EPSG:4326"), ("notice", '{"zh": "合成"}'), ("synthetic", True)]


def test_geojson_from_a_frame_or_a_collection() -> None:
    body = json.loads(export(Export("t", {"t": TABLE}, features=FEATURES.to_crs("EPSG:4548")), "geojson"))
    assert body["type"] == "FeatureCollection" and "id" not in body["features"][0]
    assert body["features"][0]["geometry"]["coordinates"] == pytest.approx([116.4, 39.9])
    collection = {"type": "FeatureCollection", "metadata": {"名": 1}, "features": []}
    assert export(Export("t", {"t": TABLE}, features=collection), "geojson") == \
        '{"type": "FeatureCollection", "metadata": {"名": 1}, "features": []}'.encode()
    assert json.loads(export(Export("t", {"t": TABLE}), "geojson")) == {"type": "FeatureCollection", "features": []}


def test_gpkg_from_a_frame_keeps_crs_types_and_metadata(tmp_path: Path) -> None:
    meta = {"crs": "EPSG:4326", "km": 10.0, "notice": {"zh": "合成演示数据"}}
    back, info = _read_gpkg(export(Export("border_zone", {"t": TABLE}, features=FEATURES, meta=meta), "gpkg"),
                            tmp_path)
    assert info["layer_name"] == "border_zone" and back.crs.to_epsg() == 4326
    assert back["name"].iloc[0] == "液氨储罐" and pd.isna(back["name"].iloc[1])
    assert back["level"].tolist() == ["red", "blue"]
    assert back["distance_m"].iloc[0] == 12.5 and np.isnan(back["distance_m"].iloc[1])
    assert back["synthetic"].tolist() == [True, False]
    assert back.geometry.iloc[1].equals(Point(116.5, 40.0))
    assert info["layer_metadata"] == {"crs": "EPSG:4326", "km": "10.0", "notice": '{"zh": "合成演示数据"}'}


def test_gpkg_from_a_collection_with_gaps_nested_values_and_mixed_geometries(tmp_path: Path) -> None:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.3, 40.1]},
         "properties": {"id": "P1", "ok": True, "n": 2, "d": 40.5, "rules": [{"id": "R1"}]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [list(box(116, 40, 116.1, 40.1)
                                                                                 .exterior.coords)]},
         "properties": {"id": "P2", "ok": None, "n": None, "d": None, "rules": []}},
        {"type": "Feature", "geometry": None, "properties": {"id": "P3", "ok": False, "n": 5, "d": 1, "rules": []}},
    ]}
    back, info = _read_gpkg(write_gpkg(collection, layer="veto_verdicts", meta={}), tmp_path)
    assert back.crs.to_epsg() == 4326 and info["layer_metadata"] is None
    assert info["ogr_types"][info["fields"].tolist().index("ok")] == "OFTInteger"  # a boolean field
    assert info["ogr_subtypes"][info["fields"].tolist().index("ok")] == "OFSTBoolean"
    assert back["id"].tolist() == ["P1", "P2", "P3"]
    assert back["n"].iloc[0] == 2 and pd.isna(back["n"].iloc[1]) and back["d"].iloc[2] == 1.0
    assert [json.loads(v) for v in back["rules"]] == [[{"id": "R1"}], [], []]
    assert back.geometry.iloc[0].geom_type == "Point" and back.geometry.iloc[1].geom_type == "Polygon"
    assert back.geometry.iloc[2] is None


def test_gpkg_of_nothing_is_an_empty_layer(tmp_path: Path) -> None:
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs="EPSG:4326")
    assert _read_gpkg(write_gpkg(empty, layer="border_zone", meta={}), tmp_path)[1]["features"] == 0


def test_features_without_crs_are_refused() -> None:
    with pytest.raises(ValueError, match="CRS"):
        export(Export("t", {"t": TABLE}, features=FEATURES.set_crs(None, allow_override=True)), "gpkg")


def test_format_rules() -> None:
    assert format_of(Path("out/verdicts.GPKG")) == "gpkg" and format_of("a.csv") == "csv"
    with pytest.raises(BadInput, match=r"verdicts\.pdf: suffix must be one of \.geojson, \.csv, \.xlsx, \.gpkg"):
        format_of("verdicts.pdf")
    with pytest.raises(BadInput, match="'pdf'"):
        export(Export("t", {"t": TABLE}), "pdf")
    assert file_name("border-beijing-hebei-10km", "xlsx") == "border-beijing-hebei-10km.xlsx"


def test_cell_values() -> None:
    assert [cell_value(v) for v in (np.int64(3), np.float32("nan"), pd.NA, pd.NaT, None, "x", {"a": [1]})] == \
        [3, None, None, None, None, "x", '{"a": [1]}']
