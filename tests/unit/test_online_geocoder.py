"""Online geocoding providers against a fake Amap/Tianditu HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from geo.capabilities.geocoding import build_gazetteer
from geo.coords import wgs84_to_gcj02
from geo.distance import geodesic_m
from geo.files.online_geocoder import (
    AmapGeocoder,
    OnlineGeocoderSettings,
    TiandituGeocoder,
    make_online_provider,
)
from geo.geocoder import Gazetteer, Geocoder
from webmap.settings import Settings

REFERENCE_DIR = Settings().paths.reference_dir

KEY = "test-key-123"
#: A WGS-84 point in 三河市燕郊镇 (what the fake service "knows"), and its GCJ-02 form.
YANJIAO_WGS = (116.8155, 39.9575)
YANJIAO_GCJ = tuple(float(v) for v in wgs84_to_gcj02(*YANJIAO_WGS))
SLOW_S = 1.0


class FakeGeocodingService(BaseHTTPRequestHandler):
    """Amap ``/v3/geocode/geo`` and Tianditu ``/geocoder``; the address picks the answer."""

    requests: list[str] = []  # noqa: RUF012 - shared log of the test server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        FakeGeocodingService.requests.append(self.path)
        if url.path == "/v3/geocode/geo":
            if query.get("key") != KEY:
                return self._json({"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"})
            self._amap(query.get("address", ""))
        elif url.path == "/geocoder":
            if query.get("tk") != KEY:
                return self._json({"status": "1", "msg": "key error"})
            self._tianditu(json.loads(query.get("ds", "{}")).get("keyWord", ""))
        else:
            self.send_error(404)

    def _amap(self, address: str) -> None:
        if "慢" in address:
            time.sleep(SLOW_S)
        if "错误" in address:
            return self.send_error(500, "internal error")
        if "乱码" in address:
            return self._raw(b"<html>not json</html>")
        if "海外" in address:
            return self._json(_amap_answer("2.35,48.85", "兴趣点", "", "巴黎"))
        if "燕郊" in address:
            location = f"{YANJIAO_GCJ[0]:.6f},{YANJIAO_GCJ[1]:.6f}"
            return self._json(_amap_answer(location, "门牌号", "131082", "河北省廊坊市三河市燕郊镇迎宾路10号"))
        if "武清" in address:  # answers in the wrong district
            return self._json(_amap_answer("116.47,39.99", "门牌号", "110105", "北京市朝阳区某路1号"))
        self._json({"status": "1", "info": "OK", "count": "0", "geocodes": []})

    def _tianditu(self, keyword: str) -> None:
        if "燕郊" in keyword:
            location = {"lon": YANJIAO_WGS[0], "lat": YANJIAO_WGS[1], "level": "门址", "score": 100,
                        "keyWord": keyword}
            return self._json({"status": "0", "msg": "ok", "location": location})
        if "怪" in keyword:
            return self._json({"status": "0", "msg": "ok", "location": {"lon": 116.8, "lat": 39.9, "level": "新级别"}})
        self._json({"status": "101", "msg": "结果为空"})

    def _json(self, payload: object) -> None:
        self._raw(json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def _raw(self, body: bytes) -> None:
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)


def _amap_answer(location: str, level: str, adcode: str, formatted: str) -> dict[str, object]:
    return {"status": "1", "info": "OK", "count": "1", "geocodes": [{
        "formatted_address": formatted, "province": "河北省", "city": "廊坊市", "district": "三河市",
        "adcode": adcode, "location": location, "level": level, "township": [],
    }]}  # fmt: skip


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGeocodingService)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return build_gazetteer(REFERENCE_DIR)


def test_amap_answer_is_converted_from_gcj02(server_url: str) -> None:
    r = AmapGeocoder(KEY, server_url).geocode("三河市燕郊镇迎宾路10号")
    assert r.precision == "poi"
    assert (r.county_code, r.city_code, r.province_code) == ("131082", "131000", "130000")
    assert geodesic_m(r.lon, r.lat, *YANJIAO_WGS) < 0.5  # the GCJ-02 shift (hundreds of m) is removed
    assert geodesic_m(*YANJIAO_GCJ, *YANJIAO_WGS) > 100
    assert r.matched["poi"] == "河北省廊坊市三河市燕郊镇迎宾路10号"


def test_tianditu_answer_is_taken_as_wgs84(server_url: str) -> None:
    r = TiandituGeocoder(KEY, server_url).geocode("燕郊镇")
    assert (r.precision, r.lon, r.lat) == ("poi", *YANJIAO_WGS)
    odd = TiandituGeocoder(KEY, server_url).geocode("怪地方")
    assert odd.precision == "city"  # an undocumented level is reported coarsely
    empty = TiandituGeocoder(KEY, server_url).geocode("无此地")
    assert empty.precision == "none" and "结果为空" in empty.matched["note"]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("错误", "HTTP 500"),
        ("乱码", "not JSON"),
        ("海外", "outside Jing-Jin-Ji"),
        ("没有", "no match"),
        ("慢", "timed out after 0.2 s"),
    ],
)
def test_failures_become_precision_none_with_a_reason(server_url: str, address: str, reason: str) -> None:
    r = AmapGeocoder(KEY, server_url, timeout_s=0.2).geocode(address)
    assert (r.precision, r.lon, r.lat, r.confidence) == ("none", None, None, 0.0)
    assert reason in r.matched["note"]


def test_refused_key_and_unreachable_host(server_url: str) -> None:
    refused = AmapGeocoder("wrong", server_url).geocode("燕郊")
    assert refused.precision == "none" and "INVALID_USER_KEY" in refused.matched["note"]
    # a port nothing listens on: bind one, close it, then connect
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    unreachable = AmapGeocoder(KEY, f"http://127.0.0.1:{port}", timeout_s=1).geocode("燕郊")
    assert unreachable.precision == "none" and "amap" in unreachable.matched["note"]


def test_geocoder_asks_online_only_when_offline_is_coarse(server_url: str, gazetteer: Gazetteer) -> None:
    FakeGeocodingService.requests.clear()
    geocoder = Geocoder(gazetteer, online=AmapGeocoder(KEY, server_url))
    fine = geocoder.geocode("北京市朝阳区望京街道")
    assert fine.precision == "township" and "online" not in fine.matched
    assert FakeGeocodingService.requests == []

    r = geocoder.geocode("河北省三河市燕郊镇迎宾路10号")
    assert r.precision == "poi" and r.county_code == "131082"
    assert r.matched["online"] == "amap (poi)"
    assert r.matched["district"] == "三河市"
    assert "point" not in r.matched  # no longer the district's representative point
    assert len(FakeGeocodingService.requests) == 1
    geocoder.geocode("河北省三河市燕郊镇迎宾路10号")
    assert len(FakeGeocodingService.requests) == 1  # cached


def test_online_answer_in_another_district_is_rejected(server_url: str, gazetteer: Gazetteer) -> None:
    geocoder = Geocoder(gazetteer, online=AmapGeocoder(KEY, server_url))
    r = geocoder.geocode("天津市武清区")
    assert (r.precision, r.county_code) == ("district", "120114")
    assert "rejected" in r.matched["online"]


def test_online_failure_keeps_the_offline_answer(server_url: str, gazetteer: Gazetteer) -> None:
    geocoder = Geocoder(gazetteer, online=AmapGeocoder(KEY, server_url, timeout_s=0.2))
    r = geocoder.geocode("廊坊市香河县慢")
    assert (r.precision, r.county_code) == ("district", "131024")
    assert "timed out" in r.matched["online"]


def test_settings_default_off_and_key_required(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROVIDER", "KEY", "BASE_URL", "TIMEOUT_S"):
        monkeypatch.delenv(f"RISKMAP_GEOCODER_{name}", raising=False)
    assert make_online_provider() is None
    monkeypatch.setenv("RISKMAP_GEOCODER_PROVIDER", "tianditu")
    with pytest.raises(ValueError, match="RISKMAP_GEOCODER_KEY"):
        make_online_provider()
    monkeypatch.setenv("RISKMAP_GEOCODER_KEY", "secret-value")
    monkeypatch.setenv("RISKMAP_GEOCODER_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RISKMAP_GEOCODER_TIMEOUT_S", "2.5")
    settings = OnlineGeocoderSettings()
    assert "secret-value" not in repr(settings)
    provider = make_online_provider(settings)
    assert isinstance(provider, TiandituGeocoder)
    assert (provider.base_url, provider.timeout_s, provider.name) == ("http://127.0.0.1:9", 2.5, "tianditu")
