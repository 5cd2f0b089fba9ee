"""The names a place goes by, and the Aho–Corasick automaton that finds them.

Every admin place is found by its full name (strength 3), by other current or former
forms (strength 2: 南磨房乡 for 南磨房地区, 密云县, 宣武区, 亦庄开发区) and by its short
name without the suffix (strength 1: 朝阳, 望京) unless that short name is an ordinary
word or another level's name.  Named places (POIs) are found by their full name only,
when it is long and rare enough to identify one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ahocorasick

from geo.geocoder.address import normalise_address
from geo.geocoder.places import Place

#: How strongly a name identifies a place: full name, another form, short name.
FULL_STRENGTH, ALIAS_STRENGTH, SHORT_STRENGTH = 3, 2, 1
#: Readings of one name are ordered by strength, then by this (admin levels before places).
LEVEL_ORDER: tuple[str, ...] = ("province", "city", "district", "township", "poi")

#: A place name shared by more points than this is not an identifying name (e.g. 校医院).
MAX_POI_DUPLICATES = 5
#: Place names shorter than this (characters) are too generic to match inside addresses.
MIN_POI_NAME_CHARS = 4

PROVINCE_NAMES: dict[str, tuple[str, ...]] = {
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

TOWNSHIP_SUFFIXES: tuple[str, ...] = ("街道办事处", "地区办事处", "街道", "地区", "镇", "乡")
_ETHNIC_COUNTY = re.compile(r"^(.{2,}?)(?:满族|回族|蒙古族)+自治县$")

#: (alias as written, level, code — a POI's index into the gazetteer's POI list —, strength)
Alias = tuple[str, str, Any, int]
#: One reading of a name: (level, candidate codes, strength).
Reading = tuple[str, tuple[Any, ...], int]


def district_stem(name: str) -> str | None:
    """A district's name without its suffix (朝阳区 → 朝阳, 大厂回族自治县 → 大厂,
    滨海新区 → 滨海), or None when too short to have one."""
    m = _ETHNIC_COUNTY.match(name)
    if m:
        return m.group(1)
    if name.endswith("新区") and len(name) >= 4:
        return name[:-2]
    if name.endswith(("区", "县", "市")) and len(name) >= 3:
        return name[:-1]
    return None


def township_stem(name: str) -> str | None:
    """A township's name without its suffix (望京街道 → 望京), or None when the rest
    would be shorter than two characters."""
    for suffix in TOWNSHIP_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


class AliasTable:
    """Normalised alias -> {(level, code): strongest strength}; aliases under two
    characters are dropped."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[tuple[str, Any], int]] = {}

    def add(self, aliases: Iterator[Alias]) -> None:
        for alias, level, code, strength in aliases:
            alias = normalise_address(alias)
            if len(alias) < 2:
                continue
            entry = self.entries.setdefault(alias, {})
            if entry.get((level, code), 0) < strength:
                entry[(level, code)] = strength


def province_aliases(provinces: Sequence[Place]) -> Iterator[Alias]:
    """北京市 (full) and 北京 (short) for each province."""
    for p in provinces:
        for i, alias in enumerate(PROVINCE_NAMES.get(p.code, (p.name,))):
            yield alias, "province", p.code, FULL_STRENGTH if i == 0 else SHORT_STRENGTH


def city_aliases(cities: Sequence[Place]) -> Iterator[Alias]:
    """廊坊市 and 廊坊; not Beijing's and Tianjin's city level, read as the province."""
    for p in cities:
        if p.code[:2] in ("11", "12"):
            continue  # 北京市/天津市 are read as the province; the city code follows from it
        yield p.name, "city", p.code, FULL_STRENGTH
        if p.name.endswith("市") and len(p.name) >= 3:
            yield p.name[:-1], "city", p.code, SHORT_STRENGTH


def district_aliases(
    districts: Sequence[Place], *, full_names: set[str], taken_words: set[str], codes: Mapping[str, Place]
) -> Iterator[Alias]:
    """朝阳区, its short name 朝阳 (unless a ``taken_words`` province/city name or a
    generic word), the former county / county-level city forms (密云县, 藁城市) unless
    another place bears them (``full_names``), and the historic names of districts in
    ``codes``."""
    for p in districts:
        yield p.name, "district", p.code, FULL_STRENGTH
        stem = district_stem(p.name)
        if stem and stem not in taken_words and stem not in GENERIC_SHORT_NAMES:
            yield stem, "district", p.code, SHORT_STRENGTH
        if stem and p.name.endswith("区"):
            for suffix in ("县", "市"):  # former counties / county-level cities (密云县, 藁城市)
                if stem + suffix not in full_names:
                    yield stem + suffix, "district", p.code, ALIAS_STRENGTH
    for name, code in HISTORIC_DISTRICT_NAMES.items():
        if code in codes:
            yield name, "district", code, ALIAS_STRENGTH


def township_aliases(townships: Sequence[Place], *, full_names: set[str]) -> Iterator[Alias]:
    """望京街道, the same stem with each other township suffix (unless another place bears
    that name), the short name 望京, and the other names of the ETDA."""
    for p in townships:
        yield p.name, "township", p.code, FULL_STRENGTH
        stem = township_stem(p.name)
        if stem is None:
            continue
        for suffix in TOWNSHIP_SUFFIXES:
            if stem + suffix not in full_names:
                yield stem + suffix, "township", p.code, ALIAS_STRENGTH
        yield stem, "township", p.code, SHORT_STRENGTH
    for p in townships:
        if p.name == ETDA_TOWNSHIP_NAME:
            for alias in ETDA_ALIASES:
                yield alias, "township", p.code, ALIAS_STRENGTH


def poi_aliases(pois: Sequence[Place], *, admin_aliases: set[str]) -> Iterator[Alias]:
    """Full names of places at least :data:`MIN_POI_NAME_CHARS` long, borne by at most
    :data:`MAX_POI_DUPLICATES` places and not an admin name; codes are indexes into ``pois``."""
    poi_codes: dict[str, list[int]] = {}
    for i, p in enumerate(pois):
        name = normalise_address(p.name)
        if len(name) >= MIN_POI_NAME_CHARS and name not in admin_aliases:
            poi_codes.setdefault(name, []).append(i)
    for name, codes in poi_codes.items():
        if len(codes) <= MAX_POI_DUPLICATES:
            for c in codes:
                yield name, "poi", c, FULL_STRENGTH


def alias_table(places: Mapping[str, Place], pois: Sequence[Place]) -> AliasTable:
    """Every alias of the admin ``places`` (by code) and the ``pois``."""
    by_level: dict[str, list[Place]] = {}
    for p in places.values():
        by_level.setdefault(p.level, []).append(p)
    full_names = {normalise_address(p.name) for p in places.values()}
    province_words = {a for names in PROVINCE_NAMES.values() for a in names}
    city_words = {normalise_address(p.name[:-1]) for p in by_level.get("city", [])}
    table = AliasTable()
    table.add(province_aliases(by_level.get("province", [])))
    table.add(city_aliases(by_level.get("city", [])))
    table.add(district_aliases(by_level.get("district", []), full_names=full_names,
                               taken_words=province_words | city_words, codes=places))
    table.add(township_aliases(by_level.get("township", []), full_names=full_names))
    table.add(poi_aliases(pois, admin_aliases=set(table.entries)))
    return table


def readings(entry: Mapping[tuple[str, Any], int]) -> tuple[Reading, ...]:
    """Every reading of one name, strongest first, admin levels before places; a name
    whose strongest reading is an admin one is never read as a place.

    高碑店 is a township of 朝阳区 and a county-level city of Hebei: both readings are
    kept and :meth:`Gazetteer.find` picks by context.
    """
    levels: dict[str, tuple[list[Any], int]] = {}
    for (level, code), strength in entry.items():
        codes, best = levels.get(level, ([], 0))
        codes.append(code)
        levels[level] = (codes, max(best, strength))
    out = sorted(
        ((level, tuple(sorted(codes)), strength) for level, (codes, strength) in levels.items()),
        key=lambda r: (-r[2], LEVEL_ORDER.index(r[0])),
    )
    if out[0][0] != "poi":
        out = [r for r in out if r[0] != "poi"]
    return tuple(out)


def build_automaton(places: Mapping[str, Place], pois: Sequence[Place]) -> Any:
    """An Aho–Corasick automaton: alias -> (length, readings)."""
    automaton = ahocorasick.Automaton()
    for alias, entry in alias_table(places, pois).entries.items():
        automaton.add_word(alias, (len(alias), readings(entry)))
    automaton.make_automaton()
    return automaton
