"""Area risk API through the Flask test client, on both stores."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from flask.testing import FlaskClient
from web_support import STORE_KINDS, OpenLoadedStore

from geo.capabilities import area_risk as area_runs
from geo.entities import LEVEL_CODES, make_key
from geo.files.reference import read_reference
from geo.stores.geopackage import GeoPackageStore
from geo.stores.protocol import LoadBatch, Store
from webmap.app import create_app
from webmap.settings import Settings

PATHS = Settings().paths


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="web.csv", sha256="3" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def _load_areas(store: Store) -> None:
    """Beijing's districts and Dongcheng's townships, 60 risk sources in Dongcheng, area risk."""
    areas = read_reference("areas", PATHS.reference_dir)
    keep = (areas["area_code"] == "110000") | ((areas["area_type"] == "district") & (areas["parent_code"] == "110100"))
    keep |= (areas["area_type"] == "township") & (areas["parent_code"] == "110101")
    store.upsert("areas", areas[keep].reset_index(drop=True), batch=_batch("areas"))
    rng = np.random.default_rng(3)
    n = 60
    codes = [f"RS{i:03d}" for i in range(n)]
    store.upsert("risk_sources", gpd.GeoDataFrame(
        {"key": [make_key(("C1", c)) for c in codes], "credit_code": "C1", "source_code": codes,
         "name": [f"风险源{i}" for i in range(n)], "level": [LEVEL_CODES[i % 4] for i in range(n)], "synthetic": True},
        geometry=gpd.points_from_xy(116.40 + rng.random(n) * 0.02, 39.90 + rng.random(n) * 0.02), crs="EPSG:4326"),
        batch=_batch("risk_sources"))
    area_runs.run_area_risk(store, methods=["highest", "density"], config=area_runs.load_config(PATHS.area_config_path),
                            reference_dir=PATHS.reference_dir)


@pytest.fixture(scope="module", params=STORE_KINDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           open_loaded_store: OpenLoadedStore) -> Iterator[FlaskClient]:
    with open_loaded_store(request.param, tmp_path_factory.mktemp("areas"), _load_areas) as (store, settings):
        yield create_app(settings, store=store).test_client()


def test_areas_geojson_has_levels_scores_and_counts(client: FlaskClient) -> None:
    body = client.get("/api/v1/areas/district?method=density").get_json()
    assert body["type"] == "FeatureCollection" and body["unit"] == "district" and body["method"] == "density"
    assert body["run_id"] and body["params"]["method_params"]["weights"]["red"] == 100
    props = {f["properties"]["area_code"]: f["properties"] for f in body["features"]}
    dongcheng = props["110101"]
    assert dongcheng["name"] == "东城区" and dongcheng["count_red"] + dongcheng["count_blue"] > 0
    assert dongcheng["level"] in LEVEL_CODES and dongcheng["level_zh"] and dongcheng["score"] > 0
    assert props["110119"]["level"] is None and props["110119"]["score"] == 0  # Yanqing: no sources
    assert body["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_bbox_filters_areas(client: FlaskClient) -> None:
    body = client.get("/api/v1/areas/district?method=highest&bbox=116.39,39.89,116.43,39.93").get_json()
    codes = {f["properties"]["area_code"] for f in body["features"]}
    assert "110101" in codes and "110119" not in codes


def test_area_detail_explains_the_level(client: FlaskClient) -> None:
    body = client.get("/api/v1/areas/district/110101?method=density").get_json()
    exp = body["explanation"]
    assert body["area_code"] == "110101" and exp["method"] == "density"
    top = exp["top_sources"]
    assert top and top[0]["level"] == "red" and top[0]["weight"] == 100.0
    assert {"crossed", "next"} <= set(exp["thresholds"])
    assert body["params"]["method_params"]["thresholds"]["red"] == 300.0
    highest = client.get("/api/v1/areas/district/110101?method=highest").get_json()
    assert highest["level"] == "red" and highest["explanation"]["driven_by"] in ("children", "own sources")


@pytest.mark.parametrize(
    ("url", "status", "needle"),
    [
        ("/api/v1/areas/county?method=density", 400, "county"),
        ("/api/v1/areas/district?method=mean", 400, "mean"),
        ("/api/v1/areas/district/110101?method=mean", 400, "mean"),
        ("/api/v1/areas/district/999999?method=density", 404, "999999"),
        ("/api/v1/areas/district?method=density&bbox=1,2,3", 400, "bbox"),
        ("/api/v1/heatmap?cell=abc", 400, "cell"),
        ("/api/v1/heatmap?bandwidth=10", 400, "bandwidth"),
    ],
)
def test_bad_requests_name_the_bad_value(client: FlaskClient, url: str, status: int, needle: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert needle in response.get_json()["error"]


def _png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        chunks[kind] = chunks.get(kind, b"") + data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return chunks


def test_heatmap_overlay_json_and_png(client: FlaskClient) -> None:
    meta = client.get("/api/v1/heatmap?cell=200&bandwidth=800").get_json()
    (south, west), (north, east) = meta["bounds"]
    assert 115.0 < west < 116.0 and 117.0 < east < 118.0 and 39.0 < south < 40.0 and 40.5 < north < 41.5
    assert len(meta["colours"]) == len(meta["breaks"]) - 1
    png = client.get(meta["png"])
    assert png.status_code == 200 and png.mimetype == "image/png"
    chunks = _png_chunks(png.data)
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 3)
    assert chunks[b"tRNS"][0] == 0  # class 0 transparent
    pixels = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(height, width + 1)[:, 1:]
    assert pixels.max() == len(meta["colours"])  # the hottest class is drawn
    assert (pixels == 0).mean() > 0.9  # most of Beijing has no risk source nearby
    again = client.get("/api/v1/heatmap?cell=200&bandwidth=800").get_json()
    assert json.dumps(again) == json.dumps(meta)  # cached until the data change


def test_area_config_check_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from webmap.cli.main import main

    runner = CliRunner()
    ok = runner.invoke(main, ["area-config", "check", str(PATHS.area_config_path)])
    assert ok.exit_code == 0 and "ok" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(PATHS.area_config_path.read_text(encoding="utf-8").replace("h3_res: 8", "h3_res: 12"),
                   encoding="utf-8")
    result = runner.invoke(main, ["area-config", "check", str(bad)])
    assert result.exit_code == 1 and "units.h3_res: 12" in result.output
    missing = runner.invoke(main, ["area-config", "check", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_major_hazard_command_writes_grades_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from webmap.cli.main import main

    path = tmp_path / "hazard.gpkg"
    store = GeoPackageStore(path)
    store.init_schema()
    inventory = json.dumps([{"name": "液氨", "tonnes": 50}, {"name": "氯气", "tonnes": 10}], ensure_ascii=False)
    store.upsert("hazchem_sites", gpd.GeoDataFrame(
        {"key": ["C1|S1"], "credit_code": ["C1"], "site_code": ["S1"], "name": ["液氨库"], "chemicals": [inventory],
         "synthetic": True}, geometry=gpd.points_from_xy([116.40], [39.91]), crs="EPSG:4326"),
        batch=_batch("hazchem_sites"))
    monkeypatch.delenv("RISKMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKMAP_GPKG_PATH", str(path))
    runner = CliRunner()
    dry = runner.invoke(main, ["major-hazard"])
    assert dry.exit_code == 0 and "三级" in dry.output and "updated" not in dry.output
    assert GeoPackageStore(path).read("hazchem_sites")["major_hazard_grade"].isna().all()
    first = runner.invoke(main, ["major-hazard", "--write"])
    assert first.exit_code == 0 and "1 updated, 0 unchanged" in first.output
    assert GeoPackageStore(path).read("hazchem_sites")["major_hazard_grade"].tolist() == [3]
    again = runner.invoke(main, ["major-hazard", "--write"])
    assert again.exit_code == 0 and "0 updated, 1 unchanged" in again.output

