"""The site-veto API and page through the Flask test client, on both stores."""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from flask.testing import FlaskClient
from pyproj import Geod
from shapely.geometry import Point, box
from web_support import STORE_KINDS, OpenLoadedStore

from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app

GEOD = Geod(ellps="WGS84")
STATION = (116.30, 40.30)


def _east(metres: float) -> list[float]:
    x, y, _ = GEOD.fwd(*STATION, 270, metres)
    return [x, y]


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="web.csv", sha256="1" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _load_veto(store: Store) -> None:
    """Beijing, the 5th Ring, Chaoyang; a gas station with a school 30 m from it and a far hospital."""
    store.upsert("areas", gpd.GeoDataFrame(
        {"key": ["110000", "zone:5th-ring", "110105"], "area_code": ["110000", "zone:5th-ring", "110105"],
         "name": ["北京市", "五环路以内", "朝阳区"], "area_type": ["province", "zone", "district"]},
        geometry=[box(115.4, 39.4, 117.5, 41.1), box(116.21, 39.78, 116.55, 40.03), box(116.2, 40.2, 116.4, 40.4)],
        crs="EPSG:4326"), batch=_batch("areas"))
    store.upsert("hazchem_sites", gpd.GeoDataFrame(
        {"key": ["C1|G1"], "credit_code": ["C1"], "site_code": ["G1"], "name": ["演示加油站"],
         "site_type": ["gas_station"], "gas_station_grade": [2], "synthetic": [True]},
        geometry=[Point(*STATION)], crs="EPSG:4326"), batch=_batch("hazchem_sites"))
    store.upsert("protection_targets", gpd.GeoDataFrame(
        {"key": ["T1", "T2"], "target_code": ["T1", "T2"], "name": ["老学校", "远处医院"],
         "target_type": ["school", "hospital"], "sensitivity": ["high", "high"], "district": ["朝阳区", "朝阳区"],
         "county_code": ["110105", "110105"]},
        geometry=[Point(*_east(30)), Point(116.35, 40.35)], crs="EPSG:4326"), batch=_batch("protection_targets"))


@pytest.fixture(scope="module", params=STORE_KINDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           open_loaded_store: OpenLoadedStore) -> Iterator[FlaskClient]:
    """One app for the module (the tests only read the store)."""
    with open_loaded_store(request.param, tmp_path_factory.mktemp("veto_web"), _load_veto) as (store, settings):
        yield create_app(settings, store=store).test_client()


def test_single_site_veto_with_distance_and_citation(client: FlaskClient) -> None:
    r = client.post("/api/v1/veto", json={"geometry": {"type": "Point", "coordinates": _east(49)},
                                          "land_use": "学校", "name": "新建小学"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["verdict"] == "VETO" and body["rules_hit"] == ["GS-SENSITIVE-50"]
    assert body["land_use"]["protection_class"] == "high" and body["name"] == "新建小学"
    hit = body["rules"][0]["hits"][0]
    assert hit["name"] == "演示加油站" and hit["distance_m"] == pytest.approx(49, abs=0.01)
    assert hit["required_m"] == 50 and body["rules"][0]["citation"]["standard"] == "GB 50156"
    assert body["rule_set_version"] and body["data_versions"]["hazchem_sites"] >= 1 and body["evaluated_at"]
    assert set(body["data_loaded_at"]) == set(body["data_versions"])  # when each layer was last loaded
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["data_loaded_at"]["hazchem_sites"])
    assert body["synthetic"] is True and body["notice"]["zh"]
    assert len(body["rules"]) == len(client.get("/api/v1/veto/rules").get_json()["rules"])


def test_polygon_pass_and_outside_coverage(client: FlaskClient) -> None:
    poly = {"type": "Polygon", "coordinates": [[[116.0, 40.5], [116.01, 40.5], [116.01, 40.51], [116.0, 40.5]]]}
    assert client.post("/api/v1/veto", json={"geometry": poly, "land_use": "school"}).get_json()["verdict"] == "PASS"
    far = client.post("/api/v1/veto", json={"geometry": {"type": "Point", "coordinates": [121.47, 31.23]},
                                            "land_use": "school"}).get_json()
    assert far["verdict"] == "OUTSIDE_COVERAGE" and far["label"]["en"].startswith("Outside")


def test_invalid_geometry_is_422_naming_problem_and_place(client: FlaskClient) -> None:
    bowtie = {"type": "Polygon",
              "coordinates": [[[116.3, 40.1], [116.31, 40.1], [116.3, 40.11], [116.31, 40.11], [116.3, 40.1]]]}
    r = client.post("/api/v1/veto", json={"geometry": bowtie, "land_use": "school"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["problem"] == "Self-intersection" and body["location"] == pytest.approx([116.305, 40.105])
    assert "Self-intersection at (116.3050000, 40.1050000)" in body["error"]
    r = client.post("/api/v1/veto", json={"geometry": {"type": "Point", "coordinates": [40.1, 116.3]},
                                          "land_use": "school"})
    assert r.status_code == 422 and "swapped" in r.get_json()["error"]


def test_bad_requests_are_400_naming_the_value(client: FlaskClient) -> None:
    r = client.post("/api/v1/veto", json={"geometry": {"type": "Point", "coordinates": [116.3, 40.1]},
                                          "land_use": "castle"})
    assert r.status_code == 400 and "'castle'" in r.get_json()["error"] and "school" in r.get_json()["known"]
    assert client.post("/api/v1/veto", data="nope").status_code == 400
    r = client.post("/api/v1/veto", json={"geometry": {"type": "Point", "coordinates": [116.3, 40.1]}})
    assert r.status_code == 400 and "land_use" in r.get_json()["error"]
    r = client.post("/api/v1/veto", json={"geometry": {"type": "Point", "coordinates": [116.3, 40.1]},
                                          "land_use": "school", "datum": "mars"})
    assert r.status_code == 400 and "mars" in r.get_json()["error"]


def test_address_without_geocoder_is_422(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "geo.capabilities.geocoding", None)  # import fails as if not installed
    r = client.post("/api/v1/veto", json={"address": "北京市朝阳区某路1号", "land_use": "school"})
    assert r.status_code == 422 and r.get_json()["error"] == "address geocoding unavailable"


def test_rules_endpoint_lists_rules_and_land_uses(client: FlaskClient) -> None:
    body = client.get("/api/v1/veto/rules").get_json()
    assert body["version"] and any(u["code"] == "school" and u["zh"] == "中小学" for u in body["land_uses"])
    assert any(r["id"] == "FW-5TH-RING" for r in body["rules"])


def _parcels_geojson() -> bytes:
    features = [
        {"type": "Feature", "properties": {"地块编号": "A1", "用地性质": "学校"},
         "geometry": {"type": "Point", "coordinates": _east(20)}},
        {"type": "Feature", "properties": {"地块编号": "A2", "用地性质": "城堡"},
         "geometry": {"type": "Point", "coordinates": [116.0, 40.5]}},
        {"type": "Feature", "properties": {"地块编号": "A3", "用地性质": "烟花爆竹零售点"},
         "geometry": {"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.41, 39.9], [116.41, 39.91],
                                                          [116.4, 39.9]]]}},
        {"type": "Feature", "properties": {"地块编号": "A4", "用地性质": "居住用地"},
         "geometry": {"type": "Polygon", "coordinates": [[[116.3, 40.1], [116.31, 40.1], [116.3, 40.11],
                                                          [116.31, 40.11], [116.3, 40.1]]]}},
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()


def test_batch_geojson_with_per_parcel_errors(client: FlaskClient) -> None:
    r = client.post("/api/v1/veto/batch?format=geojson",
                    data={"file": (io.BytesIO(_parcels_geojson()), "parcels.geojson"), "land_use_column": "用地性质"})
    assert r.status_code == 200, r.get_json()
    body = json.loads(r.data)
    got = {f["properties"]["parcel_id"]: f["properties"] for f in body["features"]}
    assert got["A1"]["verdict"] == "VETO" and got["A1"]["rules_hit"] == "GS-SENSITIVE-50"
    assert got["A2"]["verdict"] == "ERROR" and "城堡" in got["A2"]["error"]
    assert got["A3"]["verdict"] == "VETO" and got["A3"]["rules_hit"] == "FW-5TH-RING"
    assert got["A4"]["verdict"] == "ERROR" and "Self-intersection" in got["A4"]["error"]
    assert body["metadata"]["rule_set_version"] and body["metadata"]["synthetic"] is True


def test_batch_csv_and_xlsx_and_zipped_shapefile(client: FlaskClient, tmp_path: Path) -> None:
    x, y = _east(40)
    csv = f"编号,经度,纬度,用地性质\nP1,{x},{y},school\nP2,116.0,40.6,industrial\n".encode()
    r = client.post("/api/v1/veto/batch?format=csv", data={"file": (io.BytesIO(csv), "parcels.csv")})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.data.decode("utf-8-sig")
    assert "P1" in text and "VETO" in text and "PASS" in text
    r = client.post("/api/v1/veto/batch?format=xlsx", data={"file": (io.BytesIO(csv), "parcels.csv")})
    wb = openpyxl.load_workbook(io.BytesIO(r.data))
    rows = list(wb.worksheets[0].values)
    assert rows[0][0] == "parcel_id" and {row[0] for row in rows[1:]} == {"P1", "P2"}
    assert wb.worksheets[1].max_row == 2  # one hit
    gdf = gpd.GeoDataFrame({"land_use": ["school"]}, geometry=[Point(x, y)], crs="EPSG:4326").to_crs("EPSG:4548")
    shp = tmp_path / "parcels.shp"
    gdf.to_file(shp)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in tmp_path.glob("parcels.*"):
            zf.write(part, part.name)
    r = client.post("/api/v1/veto/batch?format=geojson", data={"file": (io.BytesIO(buf.getvalue()), "p.zip")})
    feature = json.loads(r.data)["features"][0]
    assert feature["properties"]["verdict"] == "VETO"  # EPSG:4548 input transformed to WGS-84
    assert feature["properties"]["min_distance_m"] == pytest.approx(40, abs=0.05)


def _read_gpkg(data: bytes, path: Path, layer: str) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    """The layer of a downloaded GeoPackage (read by GDAL through pyogrio) and its metadata."""
    path.write_bytes(data)
    return pyogrio.read_dataframe(path, layer=layer), pyogrio.read_info(path, layer=layer)["layer_metadata"]


def test_batch_and_audit_as_geopackage(client: FlaskClient, tmp_path: Path) -> None:
    r = client.post("/api/v1/veto/batch?format=gpkg",
                    data={"file": (io.BytesIO(_parcels_geojson()), "parcels.geojson"), "land_use_column": "用地性质"})
    assert r.status_code == 200 and r.mimetype == "application/geopackage+sqlite3"
    assert r.headers["Content-Disposition"] == 'attachment; filename="veto_verdicts.gpkg"'
    frame, meta = _read_gpkg(r.data, tmp_path / "verdicts.gpkg", "veto_verdicts")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 4
    got = frame.set_index("parcel_id")
    assert got.loc["A1", "verdict"] == "VETO" and got.loc["A1", "rules_hit"] == "GS-SENSITIVE-50"
    assert got.loc["A1", "min_distance_m"] == pytest.approx(20, abs=0.01) and bool(got.loc["A1", "synthetic"])
    assert [rule["rule_id"] for rule in json.loads(got.loc["A1", "rules"])] == ["GS-SENSITIVE-50"]
    assert got.loc["A2", "verdict"] == "ERROR" and "城堡" in got.loc["A2", "error"]
    assert got.loc["A1", "geometry"].equals(Point(*_east(20)))
    assert got.loc["A3", "geometry"].geom_type == "Polygon"  # points and polygons in one layer
    assert meta["crs"] == "EPSG:4326" and meta["rule_set_version"] and meta["synthetic"] == "true"
    r = client.get("/api/v1/audit?district=朝阳区&format=gpkg")
    assert r.status_code == 200 and r.headers["Content-Disposition"] == 'attachment; filename="veto_audit.gpkg"'
    frame, meta = _read_gpkg(r.data, tmp_path / "audit.gpkg", "veto_audit")
    assert frame.crs.to_epsg() == 4326
    assert frame[["target_key", "rule_id", "district"]].values.tolist() == [["T1", "GS-SENSITIVE-50", "朝阳区"]]
    assert frame["distance_m"].iloc[0] == pytest.approx(30, abs=0.01)
    assert frame.geometry.iloc[0].equals(Point(*_east(30))) and meta["targets_checked"] == "2"


def test_batch_bad_input(client: FlaskClient) -> None:
    assert client.post("/api/v1/veto/batch").status_code == 400
    r = client.post("/api/v1/veto/batch", data={"file": (io.BytesIO(b"x"), "parcels.txt")})
    assert r.status_code == 400 and ".txt" in r.get_json()["error"]
    r = client.post("/api/v1/veto/batch?format=pdf", data={"file": (io.BytesIO(b"x"), "p.csv")})
    assert r.status_code == 400 and "pdf" in r.get_json()["error"]
    r = client.post("/api/v1/veto/batch", data={"file": (io.BytesIO(b"a,b\n1,2\n"), "p.csv")})
    assert r.status_code == 400 and "WKT" in r.get_json()["error"]


def test_audit_lists_existing_conflicts(client: FlaskClient) -> None:
    body = json.loads(client.get("/api/v1/audit?district=朝阳区").data)
    assert [(f["properties"]["target_key"], f["properties"]["rule_id"]) for f in body["features"]] == [
        ("T1", "GS-SENSITIVE-50")]
    assert body["features"][0]["properties"]["distance_m"] == pytest.approx(30, abs=0.01)
    assert body["metadata"]["districts"][0]["district"] == "朝阳区"
    assert json.loads(client.get("/api/v1/audit?district=110101").data)["features"] == []
    csv = client.get("/api/v1/audit?format=csv").data.decode("utf-8-sig")
    assert "T1" in csv and "GS-SENSITIVE-50" in csv
    assert client.get("/api/v1/audit?format=doc").status_code == 400


def test_veto_page_renders_in_both_languages(client: FlaskClient) -> None:
    zh = client.get("/veto").data.decode()
    assert "规划选址一票否决审查" in zh and "中小学" in zh and "leaflet.draw.js" in zh and "synthetic-badge" in zh
    en = client.get("/veto?lang=en").data.decode()
    assert "Site veto check" in en and "Kindergarten" in en


def test_cli_rules_check_veto_and_batch(client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from webmap.cli.main import main

    runner = CliRunner()
    good = runner.invoke(main, ["rules", "check", "data/rules/veto_rules.yaml"])
    assert good.exit_code == 0 and "ok — version" in good.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path("data/rules/veto_rules.yaml").read_text(encoding="utf-8").replace("metres: 50}", "metres: 0}"),
                   encoding="utf-8")
    failed = runner.invoke(main, ["rules", "check", str(bad)])
    assert failed.exit_code == 1 and "rule GS-TARGETS-50: test.min_distance.metres" in failed.output
    settings = client.application.extensions["riskmap.settings"]
    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(settings.gpkg_path))
    if settings.database_url:  # the CLI on the app's store
        monkeypatch.setenv("RISKMAP_DATABASE_URL", settings.database_url)
    else:
        monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    x, y = _east(45)
    one = runner.invoke(main, ["veto", "--lon", str(x), "--lat", str(y), "--land-use", "幼儿园"])
    assert one.exit_code == 0 and one.output.startswith("VETO") and "45.0 m < 50.0 m" in one.output
    unknown = runner.invoke(main, ["veto", "--lon", str(x), "--lat", str(y), "--land-use", "castle"])
    assert unknown.exit_code == 1 and "unknown land use 'castle'" in unknown.output
    parcels = tmp_path / "parcels.geojson"
    parcels.write_bytes(_parcels_geojson())
    out = tmp_path / "out.xlsx"
    batch = runner.invoke(main, ["veto-batch", str(parcels), "--land-use-column", "用地性质", "--out", str(out)])
    assert batch.exit_code == 0 and "4 parcels: ERROR 2, VETO 2" in batch.output and out.exists()
    audit_out = tmp_path / "audit.csv"
    audit = runner.invoke(main, ["audit", "--district", "朝阳区", "--out", str(audit_out)])
    assert audit.exit_code == 0 and "1 conflicts" in audit.output and "GS-SENSITIVE-50" in audit_out.read_text(
        encoding="utf-8-sig")
