"""Offline Chinese address geocoder for Jing-Jin-Ji (pure: no file or network I/O).

An address such as ``北京市朝阳区望京街道阜通东大街6号`` is matched against a
:class:`Gazetteer` of official names — provinces, cities, districts/counties, Beijing's
townships/streets (乡镇、街道), named places (protection targets, stations) and, when
loaded, roads — and placed at the finest level it names:

=============  ===========================================================  ==========
precision      point                                                        confidence
=============  ===========================================================  ==========
``poi``        the named place's point                                      ≤ 0.95
``road``       a point on the named road (only when a road network is       ≤ 0.85
               loaded)
``township``   the township's approximate centre                            ≤ 0.75
``district``   a point guaranteed inside the district polygon               ≤ 0.55
               (``representative_point``, not the centroid)
``city`` /     a point inside the city / province polygon                   ≤ 0.35 /
``province``                                                                0.25
``none``       no point                                                     0
=============  ===========================================================  ==========

Every point is WGS-84 longitude/latitude (EPSG:4326).  A result never hides a coarse
point: ``precision`` says which level the point stands for and ``matched`` names each
part found (``{"district": "朝阳区", "township": "望京街道", "road": "阜通东大街 (not
located: no road network loaded)"}``).  Confidence is lowered for short or ambiguous
names and for parts that contradict each other.

Matching is one Aho–Corasick pass over the normalised address (pyahocorasick) followed
by a few dictionary look-ups, so a cold geocode costs tens of microseconds; results
are cached (LRU) by normalised address.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

import ahocorasick
import geopandas as gpd
import numpy as np
import shapely

#: Precisions, finest first.
PRECISIONS: tuple[str, ...] = ("poi", "road", "township", "district", "city", "province", "none")
_RANK = {p: i for i, p in enumerate(PRECISIONS)}

#: Confidence of an unambiguous match at each precision, before penalties.
BASE_CONFIDENCE: dict[str, float] = {
    "poi": 0.95, "road": 0.85, "township": 0.75, "district": 0.55, "city": 0.35, "province": 0.25, "none": 0.0,
}  # fmt: skip
#: Multipliers applied to the base confidence.
SHORT_NAME_FACTOR = 0.9  # the deciding part was written without its suffix (朝阳 for 朝阳区)
CONFLICT_FACTOR = 0.8  # two parts of the address disagree (a township outside the named district)
DUPLICATE_POI_FACTOR = 0.8  # several places of that name in the district; the first was taken

#: Line types (``lines.line_type``) read as streets when a road network is loaded.
ROAD_LINE_TYPES: frozenset[str] = frozenset({"road", "street"})
#: A place name shared by more points than this is not an identifying name (e.g. 校医院).
MAX_POI_DUPLICATES = 5
#: Place names shorter than this (characters) are too generic to match inside addresses.
MIN_POI_NAME_CHARS = 4

ROAD_NOT_LOCATED = "not located: no road network loaded"
ROAD_NOT_FOUND = "not located: not in the loaded road network"
TOWNSHIP_NOT_LISTED = "not in gazetteer"

_PROVINCE_NAMES: dict[str, tuple[str, ...]] = {
    "110000": ("北京市", "北京"),
    "120000": ("天津市", "天津"),
    "130000": ("河北省", "河北"),
}
#: Former names still found in addresses: name -> current code.
HISTORIC_DISTRICT_NAMES: dict[str, str] = {
    "崇文区": "110101", "宣武区": "110102", "通县": "110112",
    "蓟县": "120119", "塘沽区": "120116", "汉沽区": "120116", "大港区": "120116",
}  # fmt: skip
#: Other names of the Economic-Technological Development Area, a township-level unit of 大兴区
#: in the township list (its own polygon in ``areas`` is an approximate zone, not a district).
ETDA_ALIASES: tuple[str, ...] = ("北京经济技术开发区", "北京经济开发区", "经济技术开发区", "亦庄经济技术开发区",
                                 "亦庄开发区", "经开区")
ETDA_TOWNSHIP_NAME = "北京经济技术开发区"
#: Short district names that are ordinary words in addresses (路南 = "south of the road").
GENERIC_SHORT_NAMES: frozenset[str] = frozenset({"路南", "路北", "桥东", "桥西", "新华", "长安", "开平", "复兴", "海港",
                                                 "双桥", "运河", "河东", "河西", "河北", "和平", "南开"})

_TOWNSHIP_SUFFIXES: tuple[str, ...] = ("街道办事处", "地区办事处", "街道", "地区", "镇", "乡")
_ETHNIC_COUNTY = re.compile(r"^(.{2,}?)(?:满族|回族|蒙古族)+自治县$")
_FULL_STRENGTH, _ALIAS_STRENGTH, _SHORT_STRENGTH = 3, 2, 1
# A bare name followed by one of these is part of a street or gate name (朝阳路, 德胜门).
_STREETISH_FOLLOWERS = frozenset("路街道桥门巷胡里条")
_DROP_CHARS = re.compile(r"[\s,;:、。·・\"'|()\[\]【】<>《》]+")
_PREFIXES = ("中华人民共和国", "中国")
_ROAD = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{1,14}?(?:大街|大道|胡同|路|街|巷|道))(?!道|办)")
_NUMBER = re.compile(r"(?<!\d)([甲乙丙丁]?\d+(?:-\d+)?)号")
_BARE_STREET = re.compile(r"[东西南北中前后内外]{1,2}(?:大街|大道|路|街)")
_TOWNSHIP_WORD = re.compile(r"街道|镇|乡")
_UNLISTED_TOWNSHIP = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:街道|镇|乡))")
# used with Pattern.match(text, pos): anchored at pos, so no "^"
_GENERIC_PARTS = (
    ("province", re.compile(r"((?:北京|天津|上海|重庆)市?|[\u4e00-\u9fff]{2,7}?(?:省|自治区))")),
    ("city", re.compile(r"([\u4e00-\u9fff]{2,7}?(?:市|自治州|盟))")),
    ("district", re.compile(r"([\u4e00-\u9fff]{1,8}?(?:区|县|旗|市))(?!场|道|街|路)")),
    ("township", re.compile(r"([\u4e00-\u9fff]{1,8}?(?:街道|镇|乡|地区))")),
)


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeocodeResult:
    """Where an address is, how precisely, and which official names it matched.

    ``lon``/``lat`` are WGS-84 degrees (EPSG:4326) or ``None`` when nothing matched.
    ``matched`` maps part -> official name (``province``, ``city``, ``district``,
    ``township``, ``poi``, ``road``, ``number``); a part that was read but could not be
    placed says why in parentheses, and ``note`` explains ambiguities and conflicts.
    Results are shared by the cache: treat ``matched`` as read-only.
    """

    query: str
    lon: float | None
    lat: float | None
    precision: str
    confidence: float
    province_code: str | None
    city_code: str | None
    county_code: str | None
    township_code: str | None
    matched: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (``matched`` copied)."""
        return {
            "query": self.query, "lon": self.lon, "lat": self.lat, "precision": self.precision,
            "confidence": self.confidence, "province_code": self.province_code, "city_code": self.city_code,
            "county_code": self.county_code, "township_code": self.township_code, "matched": dict(self.matched),
        }  # fmt: skip


def no_match(query: str, reason: str) -> GeocodeResult:
    """A ``precision="none"`` result saying why (``matched["note"]``)."""
    return GeocodeResult(query, None, None, "none", 0.0, None, None, None, None, {"note": reason})


class OnlineProvider(Protocol):
    """An online geocoding service (``geo.files.online_geocoder``); consulted only when the
    offline answer is coarser than a township.  Must never raise: failures come back as
    ``precision="none"`` with the reason in ``matched["note"]``."""

    name: str

    def geocode(self, address: str) -> GeocodeResult: ...


@dataclass(frozen=True)
class ParsedAddress:
    """The parts of an address as written (after normalisation); ``None`` when absent.

    ``place`` is a named place (POI); ``rest`` is what no part accounted for.
    """

    normalised: str
    province: str | None = None
    city: str | None = None
    district: str | None = None
    township: str | None = None
    road: str | None = None
    number: str | None = None
    place: str | None = None
    rest: str = ""


# --------------------------------------------------------------------------------------
# Normalisation and parsing
# --------------------------------------------------------------------------------------


def normalise_address(address: str) -> str:
    """NFKC (full-width digits, letters and brackets to ASCII), no whitespace or list
    punctuation, no leading 中国, no 市辖区 (the municipalities' city level)."""
    text = _DROP_CHARS.sub("", unicodedata.normalize("NFKC", address))
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if "市辖区" in text:
        text = text.replace("市辖区", "")
    return text


def parse_address(address: str, *, gazetteer: Gazetteer | None = None) -> ParsedAddress:
    """Split an address into province / city / district / township / road / number /
    named place.

    With a ``gazetteer``, parts are the official names it recognises (the geocoder's own
    reading, including short forms such as 朝阳 and 望京); without one, a suffix-based
    reading (…省 …市 …区/县 …街道/镇/乡 …路/街 …号) that knows no names.
    """
    text = normalise_address(address)
    if gazetteer is not None:
        return gazetteer.parse(text)
    parts: dict[str, str] = {}
    pos = 0
    for part, pattern in _GENERIC_PARTS:
        m = pattern.match(text, pos)
        if m:
            parts[part] = m.group(1)
            pos = m.end()
    return _with_street_parts(text, text[pos:], parts)


def _with_street_parts(text: str, rest: str, parts: dict[str, str]) -> ParsedAddress:
    """A :class:`ParsedAddress` of ``parts`` plus the road and number found in ``rest``
    (the text no name accounted for, matched spans as ``|``)."""
    road = _find_road(rest)
    number = _NUMBER.search(rest)
    if road:
        rest = rest.replace(road, "", 1)
    if number:
        rest = rest.replace(number.group(0), "", 1)
    return ParsedAddress(normalised=text, road=road, number=number.group(1) + "号" if number else None,
                         rest=rest.replace("|", ""), **parts)


def _find_road(text: str) -> str | None:
    for m in _ROAD.finditer(text):
        road = m.group(1)
        if road.endswith("街道"):
            continue
        # an unlisted township written before the street (燕郊镇迎宾路): keep the street
        road = _TOWNSHIP_WORD.split(road)[-1]
        if len(road) >= 2:
            return road
    return None


# --------------------------------------------------------------------------------------
# Gazetteer
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One gazetteer entry with its point (WGS-84).

    ``level`` is province/city/district/township/poi/road; ``county_code`` and
    ``township_code`` locate POIs and roads; ``point_kind`` says what the point is.
    """

    code: str
    name: str
    level: str
    lon: float
    lat: float
    parent_code: str | None = None
    county_code: str | None = None
    township_code: str | None = None
    point_kind: str = ""


@dataclass(slots=True)
class _Hit:
    """A gazetteer name found in an address: span, level, candidate codes (POI indexes
    for ``poi``), and 3 (full name), 2 (alias) or 1 (short name)."""

    start: int
    end: int
    level: str
    codes: tuple[Any, ...]
    strength: int


class _Reading(NamedTuple):
    """What the names of an address say (see ``Geocoder._read_names``)."""

    province: str | None
    city: str | None
    county: str | None
    township: str | None
    poi: Place | None
    ambiguous: list[str]
    factor: float
    matched: dict[str, str]
    notes: list[str]


class Gazetteer:
    """Official names and points for the geocoder, built once (seconds), queried often.

    ``places`` are :class:`Place` rows: provinces, cities, districts (6-digit adcodes),
    townships (9-digit codes), POIs (``code`` = the entity key) and road points.  Use
    :meth:`from_frames` to build one from entity frames.
    """

    def __init__(self, places: Iterable[Place]) -> None:
        self.places: dict[str, Place] = {}
        self.pois: list[Place] = []
        self.roads: dict[str, list[Place]] = {}
        for p in places:
            if p.level == "poi":
                self.pois.append(p)
            elif p.level == "road":
                self.roads.setdefault(p.name, []).append(p)
            else:
                self.places[p.code] = p
        self._automaton = self._build_automaton()

    # -- construction ------------------------------------------------------------------

    @classmethod
    def from_frames(
        cls,
        areas: gpd.GeoDataFrame,
        *,
        township_centres: gpd.GeoDataFrame | None = None,
        pois: Sequence[gpd.GeoDataFrame] = (),
        roads: gpd.GeoDataFrame | None = None,
    ) -> Gazetteer:
        """Build from entity frames in WGS-84 (EPSG:4326).

        ``areas``: the ``areas`` entity (``area_code``, ``name``, ``area_type``
        province/city/district/township, ``parent_code``); zones and non-numeric codes
        are ignored.  ``township_centres``: points with ``code`` (9-digit); a township
        without one (or whose centre falls outside its polygon) gets its polygon's
        ``representative_point``.  ``pois``: point frames with ``key``, ``name`` and
        ``county_code`` (protection targets, resources).  ``roads``: the ``lines``
        entity; rows whose ``line_type`` is in :data:`ROAD_LINE_TYPES` become streets.
        Raises ValueError when a frame is not EPSG:4326.
        """
        for frame in (areas, township_centres, roads, *pois):
            if frame is not None and frame.crs is not None and frame.crs.to_epsg() != 4326:
                raise ValueError(f"gazetteer frames must be EPSG:4326, got {frame.crs}")
        places: list[Place] = []
        admin = areas[areas["area_type"].isin(["province", "city", "district", "township"])]
        admin = admin[admin["area_code"].astype(str).str.fullmatch(r"\d{6}|\d{9}")]
        centres: dict[str, Any] = {}
        if township_centres is not None and len(township_centres):
            centres = dict(zip(township_centres["code"].astype(str), township_centres.geometry, strict=True))
        township_polys: list[Any] = []
        township_codes: list[str] = []
        district_polys: list[Any] = []
        district_codes: list[str] = []
        for code, name, level, parent, geom in zip(
            admin["area_code"].astype(str), admin["name"], admin["area_type"], admin["parent_code"],
            admin.geometry, strict=True,
        ):  # fmt: skip
            if geom is None or geom.is_empty:
                continue
            point, kind = geom.representative_point(), "representative_point"
            if level == "township":
                centre = centres.get(code)
                if centre is not None and not centre.is_empty and geom.covers(centre):
                    point, kind = centre, "township_centre"
                township_polys.append(geom)
                township_codes.append(code)
            elif level == "district":
                district_polys.append(geom)
                district_codes.append(code)
            parent_code = None if parent is None or (isinstance(parent, float) and np.isnan(parent)) else str(parent)
            if level == "township":
                parent_code = parent_code or code[:6]
            places.append(Place(code, str(name), str(level), float(point.x), float(point.y), parent_code,
                                county_code=code[:6] if level in ("district", "township") else None,
                                township_code=code if level == "township" else None, point_kind=kind))
        for frame in pois:
            places.extend(_poi_places(frame, township_polys, township_codes))
        if roads is not None and len(roads) and "line_type" in roads.columns:
            places.extend(_road_places(roads, district_polys, district_codes, township_polys, township_codes))
        return cls(places)

    def _build_automaton(self) -> Any:
        # alias -> {(level, code): strength}; POI codes are indexes into self.pois
        aliases: dict[str, dict[tuple[str, Any], int]] = {}

        def add(alias: str, level: str, code: str | int, strength: int) -> None:
            alias = normalise_address(alias)
            if len(alias) < 2:
                return
            entry = aliases.setdefault(alias, {})
            if entry.get((level, code), 0) < strength:
                entry[(level, code)] = strength

        by_level: dict[str, list[Place]] = {}
        for p in self.places.values():
            by_level.setdefault(p.level, []).append(p)
        full_names = {normalise_address(p.name) for p in self.places.values()}
        for p in by_level.get("province", []):
            for i, alias in enumerate(_PROVINCE_NAMES.get(p.code, (p.name,))):
                add(alias, "province", p.code, _FULL_STRENGTH if i == 0 else _SHORT_STRENGTH)
        province_words = {a for names in _PROVINCE_NAMES.values() for a in names}
        for p in by_level.get("city", []):
            if p.code[:2] in ("11", "12"):
                continue  # 北京市/天津市 are read as the province; the city code follows from it
            add(p.name, "city", p.code, _FULL_STRENGTH)
            if p.name.endswith("市") and len(p.name) >= 3:
                add(p.name[:-1], "city", p.code, _SHORT_STRENGTH)
        city_words = {normalise_address(p.name[:-1]) for p in by_level.get("city", [])}
        for p in by_level.get("district", []):
            add(p.name, "district", p.code, _FULL_STRENGTH)
            stem = _district_stem(p.name)
            if stem and stem not in province_words and stem not in city_words and stem not in GENERIC_SHORT_NAMES:
                add(stem, "district", p.code, _SHORT_STRENGTH)
            if stem and p.name.endswith("区"):
                for suffix in ("县", "市"):  # former counties / county-level cities (密云县, 藁城市)
                    if stem + suffix not in full_names:
                        add(stem + suffix, "district", p.code, _ALIAS_STRENGTH)
        for name, code in HISTORIC_DISTRICT_NAMES.items():
            if code in self.places:
                add(name, "district", code, _ALIAS_STRENGTH)
        for p in by_level.get("township", []):
            add(p.name, "township", p.code, _FULL_STRENGTH)
            stem = _township_stem(p.name)
            if stem is None:
                continue
            for suffix in _TOWNSHIP_SUFFIXES:
                if stem + suffix not in full_names:
                    add(stem + suffix, "township", p.code, _ALIAS_STRENGTH)
            add(stem, "township", p.code, _SHORT_STRENGTH)
        etda = [p for p in by_level.get("township", []) if p.name == ETDA_TOWNSHIP_NAME]
        for p in etda:
            for alias in ETDA_ALIASES:
                add(alias, "township", p.code, _ALIAS_STRENGTH)
        admin_aliases = set(aliases)
        poi_codes: dict[str, list[int]] = {}
        for i, p in enumerate(self.pois):
            name = normalise_address(p.name)
            if len(name) >= MIN_POI_NAME_CHARS and name not in admin_aliases:
                poi_codes.setdefault(name, []).append(i)
        for name, codes in poi_codes.items():
            if len(codes) <= MAX_POI_DUPLICATES:
                for c in codes:
                    add(name, "poi", c, _FULL_STRENGTH)

        automaton = ahocorasick.Automaton()
        order = ("province", "city", "district", "township", "poi")
        for alias, entry in aliases.items():
            # every reading of the name, strongest first, admin levels before places: 高碑店 is
            # a township of 朝阳区 and a county-level city of Hebei; find() picks by context
            levels: dict[str, tuple[list[Any], int]] = {}
            for (level, code), strength in entry.items():
                codes, best = levels.get(level, ([], 0))
                codes.append(code)
                levels[level] = (codes, max(best, strength))
            readings = sorted(
                ((level, tuple(sorted(codes)), strength) for level, (codes, strength) in levels.items()),
                key=lambda r: (-r[2], order.index(r[0])),
            )
            if readings[0][0] != "poi":
                readings = [r for r in readings if r[0] != "poi"]
            automaton.add_word(alias, (len(alias), tuple(readings)))
        automaton.make_automaton()
        return automaton

    # -- queries -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.places) + len(self.pois) + sum(len(v) for v in self.roads.values())

    def counts(self) -> dict[str, int]:
        """Entries per level (province, city, district, township, poi, road)."""
        out: dict[str, int] = {}
        for p in self.places.values():
            out[p.level] = out.get(p.level, 0) + 1
        out["poi"] = len(self.pois)
        out["road"] = sum(len(v) for v in self.roads.values())
        return out

    def place(self, code: str) -> Place | None:
        """The admin place with this code (province/city/district/township)."""
        return self.places.get(code)

    def find(self, text: str) -> list[_Hit]:
        """Non-overlapping name matches in normalised ``text``, left to right.

        Leftmost-longest: at each position the longest name wins (北京市 over 北京,
        北京大学第一医院 over 北京).  A name with several readings takes the one that fits
        what came before (海淀 after 海淀区 is 海淀街道).  Short names (朝阳, 望京) count
        only right after the previous administrative name (or at the start), not when they
        begin a street or gate name (朝阳路, 德胜门), and not as a second township; full
        names count anywhere.
        """
        matches = list(self._automaton.iter_long(text))
        hits: list[_Hit] = []
        prefix_end = 0
        district: str | None = None
        have_township = False
        n = len(text)
        for i, (last, (length, readings)) in enumerate(matches):
            end = last + 1
            start = end - length
            level, codes, strength = readings[0]
            if district is not None and len(readings) > 1:
                for reading in readings:
                    if reading[0] == "township" and any(c.startswith(district) for c in reading[1]):
                        level, codes, strength = reading
                        break
            if strength == _SHORT_STRENGTH:
                if start != prefix_end or (level == "township" and have_township):
                    continue
                next_start = matches[i + 1][0] + 1 - matches[i + 1][1][0] if i + 1 < len(matches) else n
                if end < n and next_start != end and (
                    (text[end] in _STREETISH_FOLLOWERS and not text.startswith("街道", end))
                    or text.startswith(("大街", "大道"), end)
                ):
                    continue
            if level == "poi":
                hits.append(_Hit(start, end, level, codes, strength))
                continue
            prefix_end = end
            if level == "district" and len(codes) == 1:
                district = codes[0]
            elif level == "township":
                have_township = True
            hits.append(_Hit(start, end, level, codes, strength))
        return hits

    def parse(self, text: str) -> ParsedAddress:
        """:func:`parse_address` with this gazetteer's names (``text`` normalised)."""
        hits = self.find(text)
        parts: dict[str, str] = {}
        for h in hits:
            part = "place" if h.level == "poi" else h.level
            if part not in parts:
                parts[part] = text[h.start : h.end]
        return _with_street_parts(text, _unmatched_text(text, hits), parts)


def _district_stem(name: str) -> str | None:
    m = _ETHNIC_COUNTY.match(name)
    if m:
        return m.group(1)
    if name.endswith("新区") and len(name) >= 4:
        return name[:-2]
    if name.endswith(("区", "县", "市")) and len(name) >= 3:
        return name[:-1]
    return None


def _township_stem(name: str) -> str | None:
    for suffix in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def _unmatched_text(text: str, hits: Sequence[_Hit]) -> str:
    """``text`` with matched spans replaced by ``|`` so later patterns cannot span them."""
    if not hits:
        return text
    pieces: list[str] = []
    pos = 0
    for h in hits:
        pieces.append(text[pos : h.start])
        pieces.append("|")
        pos = h.end
    pieces.append(text[pos:])
    return "".join(pieces)


def _poi_places(frame: gpd.GeoDataFrame, township_polys: list[Any], township_codes: list[str]) -> list[Place]:
    frame = frame[frame.geometry.notna() & frame["name"].notna()]
    if frame.empty:
        return []
    points = frame.geometry.representative_point().to_numpy()
    township_of = _containing(points, township_polys, township_codes)
    counties = frame["county_code"] if "county_code" in frame.columns else [None] * len(frame)
    out = []
    for key, name, county, pt, township in zip(frame["key"], frame["name"], counties, points, township_of,
                                               strict=True):
        county_code = None if county is None or (isinstance(county, float) and np.isnan(county)) else str(county)
        out.append(Place(str(key), str(name), "poi", float(pt.x), float(pt.y),
                         county_code=county_code or (township[:6] if township else None),
                         township_code=township, point_kind="poi_point"))
    return out


def _road_places(
    roads: gpd.GeoDataFrame,
    district_polys: list[Any],
    district_codes: list[str],
    township_polys: list[Any],
    township_codes: list[str],
) -> list[Place]:
    roads = roads[roads["line_type"].isin(list(ROAD_LINE_TYPES)) & roads["name"].notna() & roads.geometry.notna()]
    if roads.empty:
        return []
    points = shapely.line_interpolate_point(roads.geometry.to_numpy(), 0.5, normalized=True)
    county_of = _containing(points, district_polys, district_codes)
    township_of = _containing(points, township_polys, township_codes)
    codes = roads["line_code"] if "line_code" in roads.columns else roads["key"]
    return [
        Place(str(code), normalise_address(str(name)), "road", float(pt.x), float(pt.y), county_code=county,
              township_code=township, point_kind="road_midpoint")
        for code, name, pt, county, township in zip(codes, roads["name"], points, county_of, township_of,
                                                    strict=True)
    ]  # fmt: skip


def _containing(points: Any, polygons: list[Any], codes: list[str]) -> list[str | None]:
    """Code of the polygon containing each point (the first if several), else None."""
    out: list[str | None] = [None] * len(points)
    if not polygons or not len(points):
        return out
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    for pi, gi in zip(point_idx.tolist(), poly_idx.tolist(), strict=True):
        if out[pi] is None:
            out[pi] = codes[gi]
    return out


# --------------------------------------------------------------------------------------
# Geocoder
# --------------------------------------------------------------------------------------


class Geocoder:
    """Address -> :class:`GeocodeResult` using a :class:`Gazetteer`; pure and cached.

    ``cache_size``: results kept (LRU, by normalised address; 0 disables the cache).
    ``online``: an optional :class:`OnlineProvider`, asked only when the offline answer
    is coarser than a township; its answer is used when finer and not contradicting the
    offline district.
    """

    #: Offline precisions for which the online provider is consulted.
    ONLINE_WHEN: frozenset[str] = frozenset({"district", "city", "province", "none"})

    def __init__(
        self,
        gazetteer: Gazetteer,
        *,
        cache_size: int = 100_000,
        online: OnlineProvider | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        self.online = online
        self.cache_size = cache_size
        self._cached: Callable[[str], GeocodeResult] = (
            lru_cache(maxsize=cache_size)(self._geocode_normalised) if cache_size > 0 else self._geocode_normalised
        )

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one address; never raises for any string (empty -> precision none)."""
        if not isinstance(address, str):
            address = "" if address is None else str(address)
        result = self._cached(normalise_address(address))
        return result if result.query == address else _with_query(result, address)

    def geocode_many(self, addresses: Sequence[str]) -> list[GeocodeResult]:
        """Geocode a batch; repeated addresses are geocoded once."""
        seen: dict[str, GeocodeResult] = {}
        out: list[GeocodeResult] = []
        for address in addresses:
            result = seen.get(address)
            if result is None:
                result = seen[address] = self.geocode(address)
            out.append(result)
        return out

    def cache_info(self) -> Any:
        """functools cache statistics (hits, misses, maxsize, currsize), or None."""
        info = getattr(self._cached, "cache_info", None)
        return info() if info else None

    def clear_cache(self) -> None:
        clear = getattr(self._cached, "cache_clear", None)
        if clear:
            clear()

    # -- the work ----------------------------------------------------------------------

    def _geocode_normalised(self, text: str) -> GeocodeResult:
        offline = self._geocode_offline(text)
        if self.online is not None and offline.precision in self.ONLINE_WHEN and text:
            return _merge_online(offline, self.online.geocode(text), self.online.name)
        return offline

    def _geocode_offline(self, text: str) -> GeocodeResult:
        if not text:
            return no_match(text, "empty address")
        gaz = self.gazetteer
        places = gaz.places
        hits = gaz.find(text)
        unlisted: str | None = None
        last_district = None
        for h in hits:
            if h.level == "township":
                last_district = None
                break
            if h.level == "district":
                last_district = h
        if last_district is not None:
            m = _UNLISTED_TOWNSHIP.match(text, last_district.end)
            unlisted = m.group(1) if m else None
        province, city, county, township, poi, ambiguous, factor, matched, notes = self._read_names(
            hits, text, unlisted
        )

        road_place: Place | None = None
        rest = _unmatched_text(text, hits)
        road = _find_road(rest) if rest else None
        if road and _BARE_STREET.fullmatch(road):
            # a bare direction + 大街 (北大街) continues the short name before it: 朝阳门北大街
            for h in reversed(hits):
                if h.strength == _SHORT_STRENGTH and text.startswith(road, h.end):
                    road = text[h.start : h.end] + road
                    break
        if road:
            road_place = self._locate_road(road, county, township)
            if road_place is not None:
                matched["road"] = road
            else:
                matched["road"] = f"{road} ({ROAD_NOT_FOUND if gaz.roads else ROAD_NOT_LOCATED})"
        number = _NUMBER.search(rest) if rest else None
        if number:
            matched["number"] = number.group(1) + "号"

        # the point and its precision: the finest part located
        if poi is not None:
            precision, lon, lat = "poi", poi.lon, poi.lat
            township = township or poi.township_code
        elif road_place is not None:
            precision, lon, lat = "road", road_place.lon, road_place.lat
            township = township or road_place.township_code
        elif township is not None:
            t = places[township]
            precision, lon, lat = "township", t.lon, t.lat
        elif county is not None:
            d = places[county]
            precision, lon, lat = "district", d.lon, d.lat
            matched["point"] = "district representative point (inside the district, not a located address)"
        else:
            area = _common_area(ambiguous, places) or city or province
            if area is None:
                return no_match(text, "; ".join(notes) or "no province, city, district, township or place recognised")
            a = places[area]
            precision, lon, lat = ("city" if a.level == "city" else "province"), a.lon, a.lat
            matched["point"] = f"{a.level} representative point (inside {a.name}, not a located address)"
            if a.level == "city":
                city = area
            else:
                province = area

        if county is not None:
            city = places[county].parent_code
        if city is not None:
            province = places[city].parent_code if city in places else province
        elif province in ("110000", "120000"):
            city = province[:2] + "0100"  # the municipalities' single city level (市辖区)
        head: dict[str, str] = {}
        if province is not None and province in places:
            head["province"] = places[province].name
        if city is not None and city in places and not city.startswith(("11", "12")):
            head["city"] = places[city].name
        if notes:
            matched["note"] = "; ".join(notes)
        confidence = round(BASE_CONFIDENCE[precision] * factor, 3)
        head.update(matched)
        return _make_result(text, lon, lat, precision, confidence, province, city, county, township, head)

    def _read_names(self, names: list[_Hit], text: str, unlisted: str | None) -> _Reading:
        """What the names found in ``text`` say: province, city, district, township, place,
        the confidence factor so far, the parts matched and notes."""
        gaz = self.gazetteer
        places = gaz.places
        notes: list[str] = []
        factor = 1.0

        province: str | None = None
        city: str | None = None
        districts: list[_Hit] = []
        townships: list[_Hit] = []
        pois: list[_Hit] = []
        for h in names:
            level = h.level
            if level == "district":
                districts.append(h)
            elif level == "township":
                townships.append(h)
            elif level == "poi":
                pois.append(h)
            elif level == "province":
                province = province or h.codes[0]
            else:
                city = city or h.codes[0]
        if province and city and not city.startswith(province[:2]):
            notes.append(f"{places[city].name} is not in {places[province].name}")
            factor *= CONFLICT_FACTOR
            province = None

        county, ambiguous = self._choose_county(districts, townships, pois, province, city, notes)
        if ambiguous is None:  # the district named contradicts the province/city named
            factor *= CONFLICT_FACTOR
            ambiguous = []

        matched: dict[str, str] = {}
        township: str | None = None
        if county is not None:
            district_hit = None
            for h in districts:
                if county in h.codes:
                    district_hit = h
                    break
            if district_hit is None:
                matched["district"] = places[county].name + " (from the township/place named)"
            else:
                matched["district"] = places[county].name
                if district_hit.strength == _SHORT_STRENGTH:
                    factor *= SHORT_NAME_FACTOR
            for h in townships:
                for code in h.codes:
                    if code.startswith(county):
                        township = code
                        break
                if township is not None:
                    matched["township"] = places[township].name
                    if h.strength == _SHORT_STRENGTH:
                        factor *= SHORT_NAME_FACTOR
                    break
            if township is None:
                if townships:
                    h = townships[0]
                    notes.append(f"township {text[h.start : h.end]} is not in {places[county].name}")
                    factor *= CONFLICT_FACTOR
                elif unlisted:
                    matched["township"] = f"{unlisted} ({TOWNSHIP_NOT_LISTED})"

        poi: Place | None = None
        for h in pois:
            candidates = [gaz.pois[c] for c in h.codes]
            if county is not None:
                candidates = [p for p in candidates if p.county_code == county]
            elif ambiguous:
                candidates = [p for p in candidates if p.county_code in ambiguous]
            if not candidates:
                continue
            if township is not None and len(candidates) > 1:
                candidates.sort(key=lambda p: p.township_code != township)
            poi = candidates[0]
            if len(candidates) > 1 and (township is None or candidates[1].township_code == township):
                factor *= DUPLICATE_POI_FACTOR
            if county is None and poi.county_code:
                county, ambiguous = poi.county_code, []
                matched["district"] = places[county].name + " (from the place named)"
            matched["poi"] = poi.name
            break
        if poi is None and pois:
            h = pois[0]
            notes.append(f"place {text[h.start : h.end]} is not in the district named")
        return _Reading(province, city, county, township, poi, ambiguous, factor, matched, notes)

    def _choose_county(
        self,
        districts: list[_Hit],
        townships: list[_Hit],
        pois: list[_Hit],
        province: str | None,
        city: str | None,
        notes: list[str],
    ) -> tuple[str | None, list[str] | None]:
        """The district the address points at, scored over every part that names or
        implies one, restricted to the province/city named.  Returns (code, []) when one
        wins, (None, [tied codes]) when several tie, (…, None) when the only districts
        found contradict the province/city named."""
        named = {c for h in districts for c in h.codes}
        if len(named) == 1:
            # one district named: it wins over townships and places elsewhere (those are noted)
            (code,) = named
            if (city is None or code.startswith(city[:4])) and (province is None or code.startswith(province[:2])):
                return code, []
        scores: dict[str, float] = {}
        order: list[str] = []
        for h in districts:
            for code in h.codes:
                if code not in scores:
                    order.append(code)
                scores[code] = scores.get(code, 0.0) + 10 + h.strength
        for h in townships:
            weight = 4 + h.strength / len(h.codes)
            for county in {c[:6] for c in h.codes}:
                if county not in scores:
                    order.append(county)
                scores[county] = scores.get(county, 0.0) + weight
        pois_by_index = self.gazetteer.pois
        for h in pois:
            weight = 2 / len(h.codes)
            for county in {pois_by_index[c].county_code for c in h.codes}:
                if county:
                    if county not in scores:
                        order.append(county)
                    scores[county] = scores.get(county, 0.0) + weight
        if not scores:
            return None, []
        conflict = False
        if province or city:
            kept = {
                c: s for c, s in scores.items()
                if (city is None or c.startswith(city[:4])) and (province is None or c.startswith(province[:2]))
            }  # fmt: skip
            if kept:
                scores = kept
            else:
                notes.append("the district named is not in the province/city named")
                conflict = True
        best = max(scores.values())
        top = [c for c in order if scores.get(c) == best]
        if len(top) == 1:
            return top[0], (None if conflict else [])
        places = self.gazetteer.places
        notes.append("ambiguous: " + ", ".join(f"{places[c].name} ({c})" for c in top if c in places))
        return None, (None if conflict else top)

    def _locate_road(self, road: str, county: str | None, township: str | None) -> Place | None:
        candidates = self.gazetteer.roads.get(road)
        if not candidates:
            return None
        if county is not None:
            candidates = [p for p in candidates if p.county_code == county]
        elif len({p.county_code for p in candidates}) > 1:
            return None  # the same street name in several districts: not placeable without one
        if township is not None:
            candidates = sorted(candidates, key=lambda p: p.township_code != township)
        return candidates[0] if candidates else None


_RESULT_FIELDS = ("query", "lon", "lat", "precision", "confidence", "province_code", "city_code", "county_code",
                  "township_code", "matched")


def _make_result(*values: Any) -> GeocodeResult:
    """``GeocodeResult(*values)`` without the frozen-dataclass ``__init__`` (one
    ``object.__setattr__`` per field): a quarter of the cost, same object."""
    result = object.__new__(GeocodeResult)
    result.__dict__.update(zip(_RESULT_FIELDS, values, strict=True))
    return result


def _with_query(result: GeocodeResult, query: str) -> GeocodeResult:
    """A copy of a cached result answering ``query`` (the address as written)."""
    copy = object.__new__(GeocodeResult)
    copy.__dict__.update(result.__dict__)
    copy.__dict__["query"] = query
    return copy


_MATCHED_ORDER = ("province", "city", "district", "township", "poi", "road", "number", "point", "online", "note")


def _ordered(matched: Mapping[str, str]) -> dict[str, str]:
    return {k: matched[k] for k in _MATCHED_ORDER if k in matched} | {
        k: v for k, v in matched.items() if k not in _MATCHED_ORDER
    }


def _common_area(codes: Sequence[str], places: Mapping[str, Place]) -> str | None:
    """The smallest city or province containing every district in ``codes``."""
    if not codes:
        return None
    parents = {places[c].parent_code for c in codes if c in places}
    if len(parents) == 1:
        (parent,) = parents
        if parent is not None and parent in places:
            # for Beijing/Tianjin the city (110100) stands for the municipality
            return parent
    provinces = {c[:2] + "0000" for c in codes}
    if len(provinces) == 1:
        (province,) = provinces
        return province if province in places else None
    return None


def _merge_online(offline: GeocodeResult, online: GeocodeResult, provider: str) -> GeocodeResult:
    """Prefer the online answer when it is finer and agrees with the offline district."""
    matched = dict(offline.matched)
    if online.precision == "none":
        matched["online"] = f"{provider}: {online.matched.get('note', 'no result')}"
        return replace(offline, matched=_ordered(matched))
    if _RANK[online.precision] >= _RANK[offline.precision]:
        matched["online"] = f"{provider}: not finer ({online.precision})"
        return replace(offline, matched=_ordered(matched))
    if offline.county_code and online.county_code and online.county_code != offline.county_code:
        matched["online"] = f"{provider}: rejected, answer lies in {online.county_code}, not {offline.county_code}"
        return replace(offline, matched=_ordered(matched))
    merged = dict(offline.matched)
    merged.pop("point", None)
    merged.update({k: v for k, v in online.matched.items() if k != "note"})
    merged["online"] = f"{provider} ({online.precision})"
    return replace(
        online,
        query=offline.query,
        province_code=online.province_code or offline.province_code,
        city_code=online.city_code or offline.city_code,
        county_code=online.county_code or offline.county_code,
        township_code=online.township_code or offline.township_code,
        matched=_ordered(merged),
    )
