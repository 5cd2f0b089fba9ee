"""geo.capabilities.border on both stores: the square-province fixture with known answers."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString, MultiPolygon, box

from geo import border as bd
from geo.capabilities import border as bq
from geo.files.exports import FORMATS, export
from geo.stores.protocol import LoadBatch, Store

GEOD = Geod(ellps="WGS84")
A, B = "110000", "130000"
PROV_A, PROV_B = box(116.0, 39.0, 117.0, 40.0), box(117.0, 39.0, 118.0, 40.0)


def _batch(kind: str) -> LoadBatch:
    return LoadBatch(kind=kind, file_name="border.csv", sha256="2" * 64, loaded_at=datetime(2026, 1, 1, tzinfo=UTC))


def at(lat: float, metres_east: float) -> tuple[float, float]:
    lon, la, _ = GEOD.fwd(117.0, lat, 90.0 if metres_east >= 0 else 270.0, abs(metres_east))
    return float(lon), float(la)


def _frame(rows: list[dict[str, object]], geoms: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def _load(store: Store) -> None:
    from shapely.geometry import Point

    area_rows = [("110000", "北京市", "province", None, PROV_A), ("130000", "河北省", "province", None, PROV_B),
                 ("110112", "通州区", "district", "110100", box(116, 39, 117, 39.5)),
                 ("110111", "房山区", "district", "110100", box(116, 39.5, 117, 40)),
                 ("131022", "固安县", "district", "131000", box(117, 39, 118, 39.5)),
                 ("131082", "三河市", "district", "131000", box(117, 39.5, 118, 40))]
    store.upsert("areas", _frame(
        [{"key": c, "area_code": c, "name": n, "area_type": t, "parent_code": p} for c, n, t, p, _ in area_rows],
        [MultiPolygon([g]) for *_, g in area_rows]), batch=_batch("areas"))
    border = MultiLineString([[(117.0, 39.0), (117.0, 40.0)]])
    pipe = MultiLineString([[(116.5, 39.5), (117.5, 39.5)]])
    store.upsert("lines", _frame(
        [{"key": "border:110000-130000", "line_code": "border:110000-130000", "name": "北京—河北",
          "line_type": "border"},
         {"key": "P1", "line_code": "P1", "name": "输油管道", "line_type": "oil_pipeline", "synthetic": True}],
        [border, pipe]), batch=_batch("lines"))
    src = [("a1", "red", A, "110112", at(39.25, -5000)), ("a2", "red", A, "110112", at(39.25, -12000)),
           ("b1", "orange", B, "131082", at(39.75, 3000)), ("b2", "yellow", B, "131022", at(39.25, 9990)),
           ("c1", "blue", A, "110111", GEOD.fwd(116.8, 39.5, 0, 300)[:2])]
    store.upsert("risk_sources", _frame(
        [{"key": f"C|{k}", "credit_code": "C", "source_code": k, "name": k, "level": lv, "province_code": p,
          "county_code": c, "synthetic": True} for k, lv, p, c, _ in src],
        [Point(xy) for *_, xy in src]), batch=_batch("risk_sources"))
    store.upsert("hidden_hazards", _frame(
        [{"key": "H1", "hazard_code": "H1", "status": "open", "province_code": B, "county_code": "131022"},
         {"key": "H2", "hazard_code": "H2", "status": "closed", "province_code": B, "county_code": "131022"}],
        [Point(at(39.3, 1000)), Point(at(39.3, 1000))]), batch=_batch("hidden_hazards"))
    res = [("F1", "fire_station", A, "110112", at(39.3, -4000)), ("F2", "fire_station", B, "131022", at(39.3, 2000)),
           ("F3", "fire_station", B, "131022", at(39.3, 30000)), ("T1", "team", A, "110112", at(39.3, -20000))]
    store.upsert("resources", _frame(
        [{"key": k, "resource_code": k, "name": k, "resource_type": t, "province_code": p, "county_code": c}
         for k, t, p, c, _ in res], [Point(xy) for *_, xy in res]), batch=_batch("resources"))


@pytest.fixture
def loaded(store: Store) -> Store:
    _load(store)
    return store


def test_border_zone_counts(loaded: Store) -> None:
    report = bq.border_zone(loaded, "beijing-hebei", km=10)
    d = report.as_dict()
    sides = {s["side"]: s for s in d["by_side"]}
    assert sides[A]["risk_sources"] == 1 and sides[A]["risk_red"] == 1  # a2 (12 km), c1 (17 km) are out
    assert sides[B]["risk_orange"] == 1 and sides[B]["risk_yellow"] == 1
    assert sides[B]["hidden_hazards_open"] == 1  # the closed one is not counted
    assert sides[A]["name"] == "北京市"
    assert d["synthetic"] is True and d["notice"]
    pairs = {(r["county_a"], r["county_b"], r["side"]): r for r in d["by_county_pair"]}
    assert pairs[("110112", "131022", A)]["risk_red"] == 1
    assert pairs[("110112", "131022", B)]["risk_yellow"] == 1
    assert pairs[("110111", "131082", B)]["risk_orange"] == 1
    assert pairs[("110112", "131022", A)]["county_b_name"] == "固安县"
    rows = report.feature_rows().set_index("key")
    assert rows.loc["C|a1", "distance_m"] == pytest.approx(5000, abs=0.5)
    assert rows.loc["C|b2", "distance_m"] == pytest.approx(9990, abs=0.5)
    for fmt in FORMATS:
        assert len(export(bq.zone_export(report), fmt)) > 0


def test_unknown_pair_and_bad_km(loaded: Store) -> None:
    with pytest.raises(bd.UnknownPairError):
        bq.border_zone(loaded, "hebei-shanghai")
    with pytest.raises(ValueError, match="km"):
        bq.border_zone(loaded, "beijing-hebei", km=500)
    with pytest.raises(bq.MissingBorderError, match="no border line"):
        bq.border_zone(loaded, "beijing-tianjin")


def test_crossings(loaded: Store) -> None:
    items = bq.crossing_lines(loaded, corridor_m=500)
    answer = bq.crossings_as_dict(items, names={A: "北京市"})
    assert answer["count"] == 1
    line = answer["lines"][0]
    half = float(GEOD.inv(116.5, 39.5, 117.0, 39.5)[2])
    assert line["length_by_province_m"][A] == pytest.approx(half, abs=0.1)
    assert line["length_by_province_m"][B] == pytest.approx(half, abs=0.1)
    assert line["crossings"] == [{"pair": "beijing-hebei", "points": [[117.0, 39.5]]}]
    assert line["corridor"]["risk_blue"] == 1 and line["corridor"]["risk_sources"] == 1
    assert line["near"]["risk_sources"][0]["distance_m"] == pytest.approx(300, abs=0.5)
    assert b"P1" in export(bq.crossings_export(answer), "csv")


def test_profile(loaded: Store) -> None:
    answer = bq.border_profile(loaded, "beijing-hebei", segment_km=5, km=10,
                               weights=dict(bd.DEFAULT_LEVEL_WEIGHTS))
    feats = answer["segments"]["features"]
    length = float(GEOD.inv(117, 39, 117, 40)[2])
    assert len(feats) == 23 and feats[-1]["properties"]["end_km"] == pytest.approx(length / 1000, abs=0.001)
    # a1 (red, 5 km W at 39.25°N) lies within 10 km of the segments around 27.7 km along the border
    top = answer["hottest"][0]
    assert top["score"] >= 100 and top["count_red"] == 1
    assert sum(f["properties"]["count_red"] for f in feats) >= 1
    assert len(export(bq.profile_export(answer), "xlsx")) > 0


def test_mutual_aid(loaded: Store) -> None:
    answer = bq.mutual_aid(loaded, *at(39.3, -1000), k=2, types=["fire_station"])
    assert answer["incident"]["province_code"] == A
    got = {r["key"]: r for r in answer["resources"]}
    assert set(got) == {"F1", "F2", "F3"}
    assert got["F1"]["distance_m"] == pytest.approx(3000, abs=0.5) and not got["F1"]["across_border"]
    assert got["F2"]["distance_m"] == pytest.approx(3000, abs=0.5) and got["F2"]["across_border"]
    assert got["F3"]["distance_m"] == pytest.approx(31000, abs=0.5)
    assert got["F2"]["province_name"] == "河北省"
    with pytest.raises(ValueError, match="helicopter"):
        bq.mutual_aid(loaded, 116.5, 39.5, types=["helicopter"])


def test_pilot_region(loaded: Store) -> None:
    pilot = bq.pilot_region(loaded)
    assert pilot["area_codes"] == ["110112", "120114", "131000"]
    assert pilot["areas"] == [{"area_code": "110112", "name": "通州区"}]
    assert pilot["bbox"] == [116.0, 39.0, 117.0, 39.5]


def test_line_of_two_parts_is_read(loaded: Store) -> None:
    """read_near covers each part of a multi-part line, and reads little beyond ``max_m``."""
    line = MultiLineString([LineString([(117, 39.0), (117, 39.2)]), LineString([(117, 39.7), (117, 39.9)])])
    near = bq.read_near(loaded, "risk_sources", line, 10_000)
    # a1: 7.5 km from the first part's end, b1: 3 km from the second part (both must be read);
    # c1, 300 m north of 39.5 °N and 17 km west, is between the parts and far from both
    keys = set(near["key"])
    assert {"C|a1", "C|b1"} <= keys and "C|c1" not in keys
