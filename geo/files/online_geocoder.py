"""Optional online geocoding (Amap / Tianditu style HTTP APIs), off by default.

Turned on only by ``RISKMAP_GEOCODER_PROVIDER=amap|tianditu`` together with
``RISKMAP_GEOCODER_KEY`` (the key is read from the environment only and never printed);
``RISKMAP_GEOCODER_BASE_URL`` points at another host (a proxy, a test server) and
``RISKMAP_GEOCODER_TIMEOUT_S`` bounds each request (default 5 s).  The offline geocoder
asks the provider only when its own answer is coarser than a township.

* **Amap** (高德, ``/v3/geocode/geo``) answers in **GCJ-02**: converted to WGS-84 with
  :func:`geo.coords.gcj02_to_wgs84`; its ``adcode`` gives the district.
* **Tianditu** (天地图, ``/geocoder?ds={"keyWord": …}``) answers in CGCS2000, treated
  as WGS-84 (< 0.1 m apart).

Providers never raise: a timeout, an HTTP error, a refused key, malformed JSON or a point
outside Jing-Jin-Ji gives ``precision="none"`` with the reason in ``matched["note"]``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.coords import JJJ_BBOX, gcj02_to_wgs84
from geo.errors import BadInput
from geo.geocoder import GeocodeResult, OnlineProvider, no_match

AMAP_BASE_URL = "https://restapi.amap.com"
TIANDITU_BASE_URL = "https://api.tianditu.gov.cn"

#: Amap ``level`` -> our precision (门牌号 = a located address point, reported as ``poi``).
AMAP_LEVELS: dict[str, str] = {
    "国家": "none", "省": "province", "市": "city", "区县": "district", "开发区": "district",
    "乡镇": "township", "村庄": "township", "热点商圈": "poi", "兴趣点": "poi", "门牌号": "poi",
    "单元号": "poi", "楼栋": "poi", "道路": "road", "道路交叉路口": "road", "公交站台、地铁站": "poi",
}  # fmt: skip
#: Tianditu ``location.level`` -> our precision.
TIANDITU_LEVELS: dict[str, str] = {
    "省": "province", "省级": "province", "城市": "city", "地级市": "city", "市": "city", "区县": "district",
    "县": "district", "乡镇": "township", "街道": "township", "道路": "road", "门址": "poi",
    "兴趣点": "poi", "地名地址": "poi", "POI": "poi",
}  # fmt: skip
#: A level the provider does not document is reported this coarsely.
UNKNOWN_LEVEL_PRECISION = "city"
#: Confidence given to online answers by precision (the offline scale, a little lower).
ONLINE_CONFIDENCE: dict[str, float] = {
    "poi": 0.9, "road": 0.8, "township": 0.7, "district": 0.5, "city": 0.3, "province": 0.2, "none": 0.0,
}  # fmt: skip


class OnlineGeocoderSettings(BaseSettings):
    """``RISKMAP_GEOCODER_*`` settings; ``provider="none"`` (the default) turns it off."""

    model_config = SettingsConfigDict(env_prefix="RISKMAP_GEOCODER_", extra="ignore")

    provider: Literal["none", "amap", "tianditu"] = "none"  # online geocoder, off by default
    key: SecretStr | None = None  # API key (environment only, never printed)
    base_url: str | None = None  # API host, e.g. https://restapi.amap.com
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0  # per-request timeout, seconds


@dataclass
class HttpGeocoder:
    """Shared HTTP plumbing: GET, JSON, every failure turned into a reason string."""

    key: str
    base_url: str
    timeout_s: float = 5.0
    name: str = "online"

    def _get_json(self, path: str, params: dict[str, str]) -> tuple[Any, str | None]:
        """(parsed JSON, None) or (None, reason)."""
        url = f"{self.base_url.rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(url, headers={"User-Agent": "riskmap-geocoder/0.1"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            return None, f"HTTP {exc.code} from {self.name}"
        except TimeoutError:
            return None, f"{self.name} timed out after {self.timeout_s:g} s"
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return None, f"{self.name} timed out after {self.timeout_s:g} s"
            return None, f"{self.name} unreachable: {exc.reason}"
        except OSError as exc:
            return None, f"{self.name} connection failed: {exc}"
        try:
            return json.loads(body.decode("utf-8")), None
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None, f"{self.name} answered with something that is not JSON"


@dataclass
class AmapGeocoder(HttpGeocoder):
    """高德 Web service geocoding (GCJ-02 answers converted to WGS-84)."""

    name: str = "amap"

    def geocode(self, address: str) -> GeocodeResult:
        data, error = self._get_json("/v3/geocode/geo", {"key": self.key, "address": address, "output": "JSON"})
        if error is not None:
            return no_match(address, error)
        return amap_result(address, data)


@dataclass
class TiandituGeocoder(HttpGeocoder):
    """天地图 geocoding (CGCS2000 answers, treated as WGS-84)."""

    name: str = "tianditu"

    def geocode(self, address: str) -> GeocodeResult:
        ds = json.dumps({"keyWord": address}, ensure_ascii=False)
        data, error = self._get_json("/geocoder", {"ds": ds, "tk": self.key})
        if error is not None:
            return no_match(address, error)
        return tianditu_result(address, data)


def amap_result(address: str, data: Any) -> GeocodeResult:
    """A result from an Amap ``/v3/geocode/geo`` JSON answer (pure; GCJ-02 -> WGS-84)."""
    if not isinstance(data, dict):
        return no_match(address, "amap: unexpected answer")
    if str(data.get("status")) != "1":
        return no_match(address, f"amap refused: {data.get('info', 'unknown error')}")
    geocodes = data.get("geocodes") or []
    if not geocodes or not isinstance(geocodes[0], dict):
        return no_match(address, "amap: no match")
    first = geocodes[0]
    try:
        glon, glat = (float(v) for v in str(first["location"]).split(","))
    except (KeyError, ValueError):
        return no_match(address, f"amap: bad location {first.get('location')!r}")
    lon, lat = (float(v) for v in gcj02_to_wgs84(glon, glat))
    precision = AMAP_LEVELS.get(str(first.get("level", "")), UNKNOWN_LEVEL_PRECISION)
    adcode = str(first.get("adcode") or "")
    matched = {k: str(first[k]) for k in ("province", "city", "district") if isinstance(first.get(k), str)}
    if first.get("formatted_address"):
        matched["poi" if precision == "poi" else "address"] = str(first["formatted_address"])
    return _online_result(address, lon, lat, precision, adcode, matched)


def tianditu_result(address: str, data: Any) -> GeocodeResult:
    """A result from a Tianditu ``/geocoder`` JSON answer (pure; CGCS2000 = WGS-84)."""
    if not isinstance(data, dict):
        return no_match(address, "tianditu: unexpected answer")
    if str(data.get("status")) != "0":
        return no_match(address, f"tianditu refused: {data.get('msg', 'unknown error')}")
    location = data.get("location")
    if not isinstance(location, dict):
        return no_match(address, "tianditu: no match")
    try:
        lon, lat = float(location["lon"]), float(location["lat"])
    except (KeyError, TypeError, ValueError):
        return no_match(address, "tianditu: bad location")
    precision = TIANDITU_LEVELS.get(str(location.get("level", "")), UNKNOWN_LEVEL_PRECISION)
    matched = {"address": str(location.get("keyWord", address))}
    return _online_result(address, lon, lat, precision, "", matched)


def _online_result(
    address: str, lon: float, lat: float, precision: str, adcode: str, matched: dict[str, str]
) -> GeocodeResult:
    minx, miny, maxx, maxy = JJJ_BBOX
    if not (minx <= lon <= maxx and miny <= lat <= maxy):
        return no_match(address, f"online answer ({lon:.5f}, {lat:.5f}) lies outside Jing-Jin-Ji")
    if precision == "none":
        return no_match(address, "online answer is country-level only")
    county = adcode if len(adcode) == 6 and adcode.isdigit() and not adcode.endswith("00") else None
    city = (adcode[:4] + "00") if len(adcode) == 6 and adcode.isdigit() else None
    if city is not None and city[:2] in ("11", "12"):
        city = city[:2] + "0100"
    province = (adcode[:2] + "0000") if len(adcode) == 6 and adcode.isdigit() else None
    return GeocodeResult(address, lon, lat, precision, ONLINE_CONFIDENCE[precision], province, city, county, None,
                         matched)


def make_online_provider(settings: OnlineGeocoderSettings | None = None) -> OnlineProvider | None:
    """The configured provider, or None when ``provider`` is ``none`` (the default).

    Raises ValueError naming the variable when a provider is chosen without a key.
    """
    settings = settings or OnlineGeocoderSettings()
    if settings.provider == "none":
        return None
    if settings.key is None or not settings.key.get_secret_value():
        raise BadInput(f"RISKMAP_GEOCODER_KEY: required when RISKMAP_GEOCODER_PROVIDER={settings.provider}")
    key = settings.key.get_secret_value()
    if settings.provider == "amap":
        return AmapGeocoder(key, settings.base_url or AMAP_BASE_URL, settings.timeout_s)
    return TiandituGeocoder(key, settings.base_url or TIANDITU_BASE_URL, settings.timeout_s)
