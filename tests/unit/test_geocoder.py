"""Offline geocoder: parsing, matching against the reference gazetteer, precision, cache."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from geo.capabilities.geocoding import build_gazetteer, load_geocoder
from geo.files.reference import read_reference, read_reference_file
from geo.geocoder import (
    Gazetteer,
    Geocoder,
    GeocodeResult,
    Place,
    aliases,
    matching,
    normalise_address,
    parse_address,
)
from geo.geocoder.gazetteer import begins_street_name
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

WGS84 = "EPSG:4326"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return build_gazetteer(REFERENCE_DIR)


@pytest.fixture()
def geocoder(gazetteer: Gazetteer) -> Geocoder:
    return Geocoder(gazetteer)


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return read_reference("areas", REFERENCE_DIR)


def test_gazetteer_holds_the_reference_names(gazetteer: Gazetteer) -> None:
    counts = gazetteer.counts()
    assert counts["province"] == 3
    assert counts["township"] == 349
    assert counts["district"] == 199  # Jing-Jin-Ji counties; the ETDA (non-numeric code) is a township alias
    assert counts["poi"] > 10_000
    assert counts["road"] == 0
    assert gazetteer.place("110105026") is not None and gazetteer.place("110105026").name == "望京街道"


@pytest.mark.parametrize(
    ("address", "county", "township", "precision"),
    [
        ("北京市朝阳区望京街道阜通东大街6号", "110105", "110105026", "township"),
        ("朝阳区望京阜通东大街６号", "110105", "110105026", "township"),  # no suffix, full-width digit
        ("北京朝阳望京", "110105", "110105026", "township"),  # district without 区
        ("北京市市辖区海淀区中关村街道", "110108", "110108011", "township"),
        ("海淀区海淀街道", "110108", "110108012", "township"),  # township named like its district
        ("通州梨园", "110112", "110112121", "township"),
        ("朝阳区南磨房乡", "110105", "110105021", "township"),  # 南磨房地区 written with another suffix
        ("朝阳区高碑店", "110105", "110105022", "township"),  # also a Hebei city's short name
        ("房山区河北镇", "110111", "110111107", "township"),  # 河北 is also the province
        ("东城区朝阳门北大街8号", "110101", "110101007", "township"),
        ("北京市密云县", "110118", None, "district"),  # the county became a district in 2015
        ("北京市宣武区", "110102", None, "district"),  # merged into 西城区 in 2010
        ("河北省三河市燕郊镇迎宾路10号", "131082", None, "district"),
        ("廊坊市香河县", "131024", None, "district"),
        ("天津市武清区", "120114", None, "district"),
        ("天津市和平区南京路", "120101", None, "district"),
        ("大厂县夏垫镇", "131028", None, "district"),  # 大厂回族自治县
        ("张家口市桥西区", "130703", None, "district"),
        ("石家庄桥西区", "130104", None, "district"),
        ("亦庄开发区", "110115", "110115403", "township"),
        ("北京大学第一医院", "110102", "110102012", "poi"),
    ],
)
def test_addresses(geocoder: Geocoder, address: str, county: str, township: str | None, precision: str) -> None:
    r = geocoder.geocode(address)
    assert (r.county_code, r.township_code, r.precision) == (county, township, precision), r.matched
    assert r.query == address
    assert r.lon is not None and r.lat is not None
    assert r.province_code == county[:2] + "0000"
    assert r.city_code == (county[:2] + "0100" if county[:2] in ("11", "12") else county[:4] + "00")


def test_road_is_reported_but_not_located_without_a_road_network(geocoder: Geocoder) -> None:
    r = geocoder.geocode("北京市朝阳区望京街道阜通东大街6号")
    assert r.matched == {
        "province": "北京市", "district": "朝阳区", "township": "望京街道",
        "road": "阜通东大街 (not located: no road network loaded)", "number": "6号",
    }  # fmt: skip
    assert r.precision == "township"


def test_township_point_is_its_centre(geocoder: Geocoder) -> None:
    centres = read_reference_file("township_centres", REFERENCE_DIR).set_index("code")
    r = geocoder.geocode("朝阳区望京街道")
    centre = centres.loc["110105026"].geometry
    assert (r.lon, r.lat) == pytest.approx((centre.x, centre.y), abs=1e-9)


def test_district_point_is_inside_the_district_and_says_so(geocoder: Geocoder, areas: gpd.GeoDataFrame) -> None:
    for address, code in (("北京市门头沟区", "110109"), ("廊坊市香河县", "131024"), ("天津市滨海新区", "120116")):
        r = geocoder.geocode(address)
        assert r.precision == "district"
        assert "district representative point" in r.matched["point"]
        polygon = areas.loc[areas["area_code"] == code].geometry.iloc[0]
        assert polygon.contains(Point(r.lon, r.lat))
        assert r.confidence < geocoder.geocode("朝阳区望京街道").confidence


def test_poi_restricted_to_the_district_named(geocoder: Geocoder) -> None:
    r = geocoder.geocode("北京市海淀区北京大学")
    assert (r.precision, r.county_code, r.matched["poi"]) == ("poi", "110108", "北京大学")
    assert r.township_code is not None and r.township_code.startswith("110108")
    elsewhere = geocoder.geocode("北京市延庆区北京大学第一医院")  # that hospital is in 西城区
    assert elsewhere.precision == "district" and elsewhere.county_code == "110119"
    assert "not in the district named" in elsewhere.matched["note"]


def test_ambiguous_names_fall_back_to_the_common_area(geocoder: Geocoder) -> None:
    r = geocoder.geocode("八里庄街道")  # in 朝阳区 and in 海淀区
    assert (r.precision, r.county_code, r.city_code) == ("city", None, "110100")
    assert "ambiguous" in r.matched["note"]
    assert geocoder.geocode("朝阳区八里庄").township_code == "110105015"
    assert geocoder.geocode("海淀区八里庄街道").township_code == "110108005"
    hebei = geocoder.geocode("桥西区")  # 石家庄 and 张家口
    assert (hebei.precision, hebei.province_code, hebei.county_code) == ("province", "130000", None)


def test_contradictions_lower_confidence(geocoder: Geocoder) -> None:
    clean = geocoder.geocode("北京市海淀区")
    wrong_province = geocoder.geocode("天津市海淀区")
    assert wrong_province.county_code == "110108"
    assert wrong_province.confidence < clean.confidence
    assert "not in the province" in wrong_province.matched["note"]
    outside = geocoder.geocode("西城区望京街道")  # 望京 is in 朝阳区: the district named wins
    assert (outside.county_code, outside.township_code, outside.precision) == ("110102", None, "district")
    assert "not in 西城区" in outside.matched["note"]


def test_short_names_count_only_in_the_administrative_prefix(geocoder: Geocoder) -> None:
    assert geocoder.geocode("北京市朝阳路").precision == "province"  # 朝阳路 is a street, not 朝阳区
    assert geocoder.geocode("北京市西城区德胜门外大街").township_code is None  # not 德胜街道
    r = geocoder.geocode("北京市海淀区学院路街道花园路6号")
    assert r.township_code == "110108010"  # 学院路街道; 花园路 after it is the street
    assert r.matched["road"].startswith("花园路")


def test_province_and_city_only(geocoder: Geocoder) -> None:
    r = geocoder.geocode("北京市")
    assert (r.precision, r.province_code, r.city_code, r.county_code) == ("province", "110000", "110100", None)
    city = geocoder.geocode("河北省廊坊市")
    assert (city.precision, city.city_code, city.province_code) == ("city", "131000", "130000")
    assert "city representative point" in city.matched["point"]


@pytest.mark.parametrize("address", ["", "   ", "hello world", "12345", "火星基地"])
def test_nothing_recognised(geocoder: Geocoder, address: str) -> None:
    r = geocoder.geocode(address)
    assert (r.precision, r.lon, r.lat, r.confidence, r.county_code) == ("none", None, None, 0.0, None)
    assert r.matched["note"]


def test_non_string_input_does_not_raise(geocoder: Geocoder) -> None:
    assert geocoder.geocode(None).precision == "none"  # type: ignore[arg-type]
    assert geocoder.geocode(110105).precision == "none"  # type: ignore[arg-type]


def test_cache_is_keyed_by_the_normalised_address(gazetteer: Gazetteer) -> None:
    geocoder = Geocoder(gazetteer, cache_size=10)
    a = geocoder.geocode("朝阳区 望京街道 阜通东大街６号")
    b = geocoder.geocode("朝阳区望京街道阜通东大街6号")
    info = geocoder.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    assert a.query == "朝阳区 望京街道 阜通东大街６号" and b.query == "朝阳区望京街道阜通东大街6号"
    assert (a.lon, a.lat, a.township_code) == (b.lon, b.lat, b.township_code)
    geocoder.clear_cache()
    assert geocoder.cache_info().currsize == 0
    assert Geocoder(gazetteer, cache_size=0).cache_info() is None


def test_geocode_many_dedupes_and_keeps_order(gazetteer: Gazetteer) -> None:
    geocoder = Geocoder(gazetteer, cache_size=0)
    calls: list[str] = []
    original = geocoder._cached

    def counting(text: str) -> GeocodeResult:
        calls.append(text)
        return original(text)

    geocoder._cached = counting
    results = geocoder.geocode_many(["天津市武清区", "朝阳区望京", "天津市武清区", "朝阳区望京"])
    assert [r.county_code for r in results] == ["120114", "110105", "120114", "110105"]
    assert calls == ["天津市武清区", "朝阳区望京"]


def test_as_dict_is_json_ready(geocoder: Geocoder) -> None:
    import json

    d = geocoder.geocode("北京大学第一医院").as_dict()
    assert set(d) == {"query", "lon", "lat", "precision", "confidence", "province_code", "city_code",
                      "county_code", "township_code", "matched"}
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


def test_normalise_address() -> None:
    assert normalise_address(" 中国北京市市辖区朝阳区（望京）１２号 ") == "北京市朝阳区望京12号"


def test_parse_address_without_gazetteer() -> None:
    p = parse_address("河北省廊坊市三河市燕郊镇迎宾路１０号")
    assert (p.province, p.city, p.district, p.township, p.road, p.number) == (
        "河北省", "廊坊市", "三河市", "燕郊镇", "迎宾路", "10号"
    )  # fmt: skip
    assert parse_address("北京市朝阳区望京街道阜通东大街6号").road == "阜通东大街"


def test_parse_address_with_gazetteer(gazetteer: Gazetteer) -> None:
    p = parse_address("朝阳望京阜通东大街６号北京大学", gazetteer=gazetteer)
    assert (p.district, p.township, p.road, p.number, p.place, p.rest) == (
        "朝阳", "望京", "阜通东大街", "6号", "北京大学", ""
    )  # fmt: skip


def _tiny_gazetteer(*, roads: gpd.GeoDataFrame | None = None) -> Gazetteer:
    """Two districts with two townships and one POI, in WGS-84."""
    areas = gpd.GeoDataFrame(
        {
            "area_code": ["110000", "110100", "110105", "110108", "110105026", "110105027"],
            "name": ["北京市", "北京市", "朝阳区", "海淀区", "望京街道", "测试乡"],
            "area_type": ["province", "city", "district", "district", "township", "township"],
            "parent_code": [None, "110000", "110100", "110100", "110105", "110105"],
        },
        geometry=[box(115, 39, 118, 41), box(115, 39, 118, 41), box(116.4, 39.8, 116.7, 40.1),
                  box(116.0, 39.8, 116.4, 40.1), box(116.4, 39.95, 116.55, 40.1), box(116.55, 39.8, 116.7, 40.1)],
        crs=WGS84,
    )  # fmt: skip
    pois = gpd.GeoDataFrame({"key": ["p1"], "name": ["望京示范小学"], "county_code": ["110105"]},
                            geometry=[Point(116.47, 40.0)], crs=WGS84)
    return Gazetteer.from_frames(areas, pois=[pois], roads=roads)


def test_roads_locate_when_a_road_network_is_loaded() -> None:
    roads = gpd.GeoDataFrame(
        {"line_code": ["r1", "r2"], "name": ["阜通东大街", "五环路"], "line_type": ["road", "ring_road"]},
        geometry=[LineString([(116.45, 39.99), (116.49, 39.99)]), LineString([(116.2, 39.9), (116.6, 39.9)])],
        crs=WGS84,
    )
    geocoder = Geocoder(_tiny_gazetteer(roads=roads))
    r = geocoder.geocode("朝阳区望京街道阜通东大街6号")
    assert (r.precision, r.lon, r.lat) == ("road", pytest.approx(116.47), pytest.approx(39.99))
    assert r.matched["road"] == "阜通东大街"
    assert r.township_code == "110105026"
    missing = geocoder.geocode("朝阳区望京街道广顺北大街3号")
    assert missing.precision == "township"
    assert missing.matched["road"] == "广顺北大街 (not located: not in the loaded road network)"
    assert geocoder.geocode("朝阳区五环路").precision == "district"  # ring roads are not streets


def test_township_without_a_centre_uses_a_point_inside_it() -> None:
    gazetteer = _tiny_gazetteer()
    r = Geocoder(gazetteer).geocode("朝阳区测试乡")
    assert r.precision == "township"
    assert box(116.55, 39.8, 116.7, 40.1).contains(Point(r.lon, r.lat))
    assert gazetteer.place("110105027").point_kind == "representative_point"
    poi = Geocoder(gazetteer).geocode("望京示范小学")
    assert (poi.precision, poi.township_code, poi.county_code) == ("poi", "110105026", "110105")


def test_frames_must_be_wgs84() -> None:
    areas = gpd.GeoDataFrame({"area_code": ["110105"], "name": ["朝阳区"], "area_type": ["district"],
                              "parent_code": ["110100"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4548")
    with pytest.raises(ValueError, match="EPSG:4326"):
        Gazetteer.from_frames(areas)


def test_load_geocoder_without_the_reference_files_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="reference geography not found"):
        load_geocoder(tmp_path)


def test_cli_geocode_prints_json(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from webmap.cli.main import main

    csv_file = tmp_path / "units.csv"
    csv_file.write_bytes("名称,地址\n甲,廊坊市香河县\n".encode("gbk"))
    result = CliRunner().invoke(main, ["geocode", "朝阳区望京街道", "--file", str(csv_file), "--indent", "0"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [(r["query"], r["precision"], r["county_code"]) for r in out] == [
        ("朝阳区望京街道", "township", "110105"), ("廊坊市香河县", "district", "131024")
    ]  # fmt: skip
    missing = CliRunner().invoke(main, ["geocode", "--file", str(csv_file), "--column", "addr"])
    assert missing.exit_code == 1 and "no column 'addr'" in missing.output


# -- the matching steps, one by one -----------------------------------------------------


def test_name_stems_and_readings() -> None:
    assert [aliases.district_stem(n) for n in ("朝阳区", "大厂回族自治县", "滨海新区", "三河市", "蓟县")] == [
        "朝阳", "大厂", "滨海", "三河", None
    ]  # fmt: skip
    assert [aliases.township_stem(n) for n in ("望京街道", "南磨房地区", "梨园镇", "和乡")] == [
        "望京", "南磨房", "梨园", None
    ]  # fmt: skip
    # 高碑店: the Hebei city's short name and a 朝阳区 township's; the stronger reading first, no POI reading
    entry = {("city", "130684"): 1, ("township", "110105022"): 1, ("poi", 7): 3}
    assert aliases.readings(entry) == (("poi", (7,), 3), ("city", ("130684",), 1), ("township", ("110105022",), 1))
    assert aliases.readings({("city", "130684"): 3, ("poi", 7): 3}) == (("city", ("130684",), 3),)


def test_find_takes_the_reading_that_fits_and_skips_street_names(gazetteer: Gazetteer) -> None:
    hits = gazetteer.find("海淀区海淀街道")
    assert [(h.level, h.codes) for h in hits] == [("district", ("110108",)), ("township", ("110108012",))]
    assert [h.level for h in gazetteer.find("北京市朝阳路")] == ["province"]  # 朝阳 begins a street name
    assert begins_street_name("朝阳路", 2, 3) and not begins_street_name("朝阳街道", 2, 4)
    assert not begins_street_name("朝阳", 2, 2)  # nothing follows


def test_read_names_chooses_district_township_and_place(gazetteer: Gazetteer) -> None:
    text = "朝阳望京"
    reading = matching.read_names(gazetteer, gazetteer.find(text), text, None)
    assert (reading.county, reading.township, reading.poi) == ("110105", "110105026", None)
    assert reading.matched == {"district": "朝阳区", "township": "望京街道"}
    assert reading.factor == pytest.approx(0.9 * 0.9)  # two short names
    text = "北京大学第一医院"
    place = matching.read_names(gazetteer, gazetteer.find(text), text, None)
    assert (place.county, place.poi.name if place.poi else None) == ("110102", "北京大学第一医院")
    assert place.matched["district"] == "西城区 (from the township/place named)"


def test_choose_county_scores_ties_and_contradictions(gazetteer: Gazetteer) -> None:
    named = matching.names_by_level(gazetteer.find("八里庄街道"))
    assert matching.county_scores(named, gazetteer.pois) == {"110105": 5.5, "110108": 5.5}  # 4 + 3 / 2 each
    notes: list[str] = []
    county, tied = matching.choose_county(named, None, None, gazetteer, notes)
    assert (county, sorted(tied or [])) == (None, ["110105", "110108"])
    assert notes[0].startswith("ambiguous: ")
    wrong = matching.names_by_level(gazetteer.find("天津市海淀区"))
    notes = []
    assert matching.choose_county(wrong, wrong.province, wrong.city, gazetteer, notes) == ("110108", None)
    assert notes == ["the district named is not in the province/city named"]
    assert matching.in_named_area("110108", "110000", "110100") and not matching.in_named_area("110108", "120000", None)


def test_unlisted_township_follows_the_last_district(gazetteer: Gazetteer) -> None:
    assert matching.unlisted_township("三河市燕郊镇", gazetteer.find("三河市燕郊镇")) == "燕郊镇"
    assert matching.unlisted_township("朝阳区望京街道", gazetteer.find("朝阳区望京街道")) is None
    assert matching.unlisted_township("燕郊镇", gazetteer.find("燕郊镇")) is None


def test_street_parts_and_locate_road(gazetteer: Gazetteer) -> None:
    text = "东城区朝阳门北大街8号"
    assert matching.street_parts(text, gazetteer.find(text)) == ("朝阳门北大街", "8号")
    assert matching.street_parts("", []) == (None, None)
    a = Place("r1", "建设路", "road", 116.1, 39.9, county_code="110105", township_code="110105026")
    b = Place("r2", "建设路", "road", 116.2, 39.9, county_code="110108")
    roads = {"建设路": [a, b]}
    assert matching.locate_road(roads, "建设路", "110108", None) is b
    assert matching.locate_road(roads, "建设路", None, None) is None  # in two districts: not placeable
    assert matching.locate_road(roads, "人民路", "110105", None) is None


def test_place_point_codes_and_score(gazetteer: Gazetteer) -> None:
    places = gazetteer.places
    assert matching.place_point(matching.Reading(), None, places) is None
    tied = matching.Reading(ambiguous=["110105", "110108"])
    assert matching.place_point(tied, None, places)[0] == "city"
    assert tied.city == "110100" and "city representative point" in tied.matched["point"]
    assert matching.common_area(["130104", "130703"], places) == "130000"  # 石家庄 and 张家口: the province
    district = matching.Reading(county="131024")
    matching.complete_codes(district, places)
    assert (district.city, district.province) == ("131000", "130000")
    municipality = matching.Reading(province="110000")
    matching.complete_codes(municipality, places)
    assert municipality.city == "110100"
    assert matching.admin_names("110000", "110100", places) == {"province": "北京市"}  # no 市辖区 city
    assert matching.score("township", 0.9) == 0.675
