"""The matching steps, from the names found in an address to a :class:`GeocodeResult`.

:func:`geocode_offline` runs them in order:

1. :meth:`Gazetteer.find` — the official names in the address (with short forms);
2. :func:`read_names` — which province, city, district (:func:`choose_county`),
   township (:func:`choose_township`) and named place (:func:`choose_poi`) they point at;
3. :func:`street_parts` and :func:`locate_road` — the street and house number in what
   no name accounted for, and the street's point when a road network is loaded;
4. :func:`place_point` — the finest part located gives the point and the precision;
5. :func:`complete_codes` and :func:`score` — the province/city codes implied by the
   district, and the confidence (base confidence × penalties).

Each step reads and extends a :class:`Reading`; every point is WGS-84 (EPSG:4326).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from geo.geocoder.address import BARE_STREET, find_number, find_road
from geo.geocoder.aliases import SHORT_STRENGTH
from geo.geocoder.gazetteer import Gazetteer, Hit, unmatched_text
from geo.geocoder.places import Place
from geo.geocoder.results import (
    BASE_CONFIDENCE,
    CONFLICT_FACTOR,
    DUPLICATE_POI_FACTOR,
    SHORT_NAME_FACTOR,
    GeocodeResult,
    make_result,
    no_match,
)

ROAD_NOT_LOCATED = "not located: no road network loaded"
ROAD_NOT_FOUND = "not located: not in the loaded road network"
TOWNSHIP_NOT_LISTED = "not in gazetteer"
NOTHING_RECOGNISED = "no province, city, district, township or place recognised"

_UNLISTED_TOWNSHIP = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:街道|镇|乡))")
_MUNICIPALITIES = ("110000", "120000")


@dataclass(slots=True)
class Reading:
    """What an address says so far: the codes chosen (``None`` = not named or not
    decided), the named place, the districts tied when no district won (``ambiguous``),
    the confidence factor, the parts matched (part -> official name, in the order the
    result shows them) and notes on conflicts and ambiguities."""

    province: str | None = None
    city: str | None = None
    county: str | None = None
    township: str | None = None
    poi: Place | None = None
    ambiguous: list[str] = field(default_factory=list)
    factor: float = 1.0
    matched: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class NamesByLevel(NamedTuple):
    """The names found in an address by level: the first province and city code named,
    and every district, township and place hit."""

    province: str | None
    city: str | None
    districts: list[Hit]
    townships: list[Hit]
    pois: list[Hit]


# --------------------------------------------------------------------------------------
# The whole pipeline
# --------------------------------------------------------------------------------------


def geocode_offline(gazetteer: Gazetteer, text: str) -> GeocodeResult:
    """Geocode a normalised address against ``gazetteer`` (see the module docstring)."""
    if not text:
        return no_match(text, "empty address")
    hits = gazetteer.find(text)
    reading = read_names(gazetteer, hits, text, unlisted_township(text, hits))
    road, number = street_parts(text, hits)
    road_place = None
    if road:
        road_place = locate_road(gazetteer.roads, road, reading.county, reading.township)
        reading.matched["road"] = road if road_place is not None else f"{road} ({road_not_located(gazetteer)})"
    if number:
        reading.matched["number"] = number
    point = place_point(reading, road_place, gazetteer.places)
    if point is None:
        return no_match(text, "; ".join(reading.notes) or NOTHING_RECOGNISED)
    precision, lon, lat = point
    complete_codes(reading, gazetteer.places)
    head = admin_names(reading.province, reading.city, gazetteer.places)
    if reading.notes:
        reading.matched["note"] = "; ".join(reading.notes)
    head.update(reading.matched)
    return make_result(text, lon, lat, precision, score(precision, reading.factor), reading.province, reading.city,
                       reading.county, reading.township, head)


# --------------------------------------------------------------------------------------
# Names: province, city, district, township, place
# --------------------------------------------------------------------------------------


def read_names(gazetteer: Gazetteer, hits: Sequence[Hit], text: str, unlisted: str | None) -> Reading:
    """What the names found in ``text`` say: province, city, district, township and
    place, the confidence factor so far, the parts matched and notes.  ``unlisted``: a
    township the gazetteer does not list, written after the district (see
    :func:`unlisted_township`)."""
    places = gazetteer.places
    named = names_by_level(hits)
    reading = Reading(province=named.province, city=named.city)
    if reading.province and reading.city and not reading.city.startswith(reading.province[:2]):
        reading.notes.append(f"{places[reading.city].name} is not in {places[reading.province].name}")
        reading.factor *= CONFLICT_FACTOR
        reading.province = None
    county, ambiguous = choose_county(named, reading.province, reading.city, gazetteer, reading.notes)
    if ambiguous is None:  # the district named contradicts the province/city named
        reading.factor *= CONFLICT_FACTOR
        ambiguous = []
    reading.county, reading.ambiguous = county, ambiguous
    if county is not None:
        name_district(reading, county, named.districts, places)
        choose_township(reading, county, named.townships, text, unlisted, places)
    choose_poi(reading, named.pois, gazetteer, text)
    return reading


def names_by_level(hits: Sequence[Hit]) -> NamesByLevel:
    """Split the hits by level; of provinces and cities, the first one named counts."""
    province: str | None = None
    city: str | None = None
    districts: list[Hit] = []
    townships: list[Hit] = []
    pois: list[Hit] = []
    for h in hits:
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
    return NamesByLevel(province, city, districts, townships, pois)


def unlisted_township(text: str, hits: Sequence[Hit]) -> str | None:
    """A township-like word (…街道/镇/乡) right after the last district named, when the
    address names no listed township (燕郊镇 in 三河市燕郊镇); else None."""
    last_district: Hit | None = None
    for h in hits:
        if h.level == "township":
            return None
        if h.level == "district":
            last_district = h
    if last_district is None:
        return None
    m = _UNLISTED_TOWNSHIP.match(text, last_district.end)
    return m.group(1) if m else None


def in_named_area(county: str, province: str | None, city: str | None) -> bool:
    """Whether the district ``county`` lies in the province and city named (None: not named)."""
    return (city is None or county.startswith(city[:4])) and (province is None or county.startswith(province[:2]))


def choose_county(
    named: NamesByLevel, province: str | None, city: str | None, gazetteer: Gazetteer, notes: list[str]
) -> tuple[str | None, list[str] | None]:
    """The district the address points at, scored over every part that names or
    implies one (:func:`county_scores`), restricted to the province/city named.  Returns
    (code, []) when one wins, (None, [tied codes]) when several tie, (…, None) when the
    only districts found contradict the province/city named; ties and contradictions
    are added to ``notes``."""
    named_codes = {c for h in named.districts for c in h.codes}
    if len(named_codes) == 1:
        # one district named: it wins over townships and places elsewhere (those are noted)
        (code,) = named_codes
        if in_named_area(code, province, city):
            return code, []
    scores = county_scores(named, gazetteer.pois)
    if not scores:
        return None, []
    kept = {c: s for c, s in scores.items() if in_named_area(c, province, city)}
    conflict = not kept
    if conflict:
        notes.append("the district named is not in the province/city named")
    else:
        scores = kept
    best = max(scores.values())
    top = [c for c, s in scores.items() if s == best]
    if len(top) == 1:
        return top[0], (None if conflict else [])
    places = gazetteer.places
    notes.append("ambiguous: " + ", ".join(f"{places[c].name} ({c})" for c in top if c in places))
    return None, (None if conflict else top)


def county_scores(named: NamesByLevel, pois: Sequence[Place]) -> dict[str, float]:
    """District code -> score, in the order first implied: a district named counts
    10 + its strength, a township 4 + strength / number of its candidates, a place
    2 / number of its candidates (``pois``: the gazetteer's POI list)."""
    scores: dict[str, float] = {}
    for h in named.districts:
        for code in h.codes:
            scores[code] = scores.get(code, 0.0) + 10 + h.strength
    for h in named.townships:
        weight = 4 + h.strength / len(h.codes)
        for county in {c[:6] for c in h.codes}:
            scores[county] = scores.get(county, 0.0) + weight
    for h in named.pois:
        weight = 2 / len(h.codes)
        for county in {pois[c].county_code for c in h.codes}:
            if county:
                scores[county] = scores.get(county, 0.0) + weight
    return scores


def name_district(reading: Reading, county: str, districts: Sequence[Hit], places: Mapping[str, Place]) -> None:
    """``matched["district"]`` for the chosen district ``county``: its name, or where it
    came from when the address does not name it; a short name lowers the confidence."""
    hit = next((h for h in districts if county in h.codes), None)
    if hit is None:
        reading.matched["district"] = places[county].name + " (from the township/place named)"
        return
    reading.matched["district"] = places[county].name
    if hit.strength == SHORT_STRENGTH:
        reading.factor *= SHORT_NAME_FACTOR


def choose_township(
    reading: Reading,
    county: str,
    townships: Sequence[Hit],
    text: str,
    unlisted: str | None,
    places: Mapping[str, Place],
) -> None:
    """The first township named that lies in the chosen district ``county``.  One named
    elsewhere is noted and lowers the confidence; an ``unlisted`` one is reported as not
    in the gazetteer."""
    for h in townships:
        code = next((c for c in h.codes if c.startswith(county)), None)
        if code is not None:
            reading.township = code
            reading.matched["township"] = places[code].name
            if h.strength == SHORT_STRENGTH:
                reading.factor *= SHORT_NAME_FACTOR
            return
    if townships:
        h = townships[0]
        reading.notes.append(f"township {text[h.start : h.end]} is not in {places[county].name}")
        reading.factor *= CONFLICT_FACTOR
    elif unlisted:
        reading.matched["township"] = f"{unlisted} ({TOWNSHIP_NOT_LISTED})"


def choose_poi(reading: Reading, pois: Sequence[Hit], gazetteer: Gazetteer, text: str) -> None:
    """The first place named that lies in the chosen district (or one of the tied ones),
    preferring the chosen township; several candidates lower the confidence.  With no
    district chosen, the place's district becomes it."""
    for h in pois:
        candidates = poi_candidates(h, gazetteer.pois, reading)
        if not candidates:
            continue
        poi = candidates[0]
        if len(candidates) > 1 and (reading.township is None or candidates[1].township_code == reading.township):
            reading.factor *= DUPLICATE_POI_FACTOR
        if reading.county is None and poi.county_code:
            reading.county, reading.ambiguous = poi.county_code, []
            reading.matched["district"] = gazetteer.places[poi.county_code].name + " (from the place named)"
        reading.matched["poi"] = poi.name
        reading.poi = poi
        return
    if pois:
        h = pois[0]
        reading.notes.append(f"place {text[h.start : h.end]} is not in the district named")


def poi_candidates(hit: Hit, pois: Sequence[Place], reading: Reading) -> list[Place]:
    """The places a place name may stand for, in the chosen district (or the tied ones),
    those in the chosen township first."""
    candidates = [pois[c] for c in hit.codes]
    if reading.county is not None:
        candidates = [p for p in candidates if p.county_code == reading.county]
    elif reading.ambiguous:
        candidates = [p for p in candidates if p.county_code in reading.ambiguous]
    if reading.township is not None and len(candidates) > 1:
        candidates.sort(key=lambda p: p.township_code != reading.township)
    return candidates


# --------------------------------------------------------------------------------------
# Street and number
# --------------------------------------------------------------------------------------


def street_parts(text: str, hits: Sequence[Hit]) -> tuple[str | None, str | None]:
    """(street, house number) in what no name accounted for, each None when absent.

    A bare direction + 大街 (北大街) continues the short name before it: 朝阳门北大街.
    """
    rest = unmatched_text(text, hits)
    if not rest:
        return None, None
    road = find_road(rest)
    if road and BARE_STREET.fullmatch(road):
        for h in reversed(hits):
            if h.strength == SHORT_STRENGTH and text.startswith(road, h.end):
                road = text[h.start : h.end] + road
                break
    return road, find_number(rest)


def locate_road(
    roads: Mapping[str, Sequence[Place]], road: str, county: str | None, township: str | None
) -> Place | None:
    """The point of street ``road`` (``roads``: name -> points) in district ``county``,
    preferring ``township``; None when not loaded, not in that district, or — with no
    district — when streets of that name lie in several districts."""
    candidates = roads.get(road)
    if not candidates:
        return None
    if county is not None:
        candidates = [p for p in candidates if p.county_code == county]
    elif len({p.county_code for p in candidates}) > 1:
        return None  # the same street name in several districts: not placeable without one
    if township is not None:
        candidates = sorted(candidates, key=lambda p: p.township_code != township)
    return candidates[0] if candidates else None


def road_not_located(gazetteer: Gazetteer) -> str:
    """Why a street read in an address has no point."""
    return ROAD_NOT_FOUND if gazetteer.roads else ROAD_NOT_LOCATED


# --------------------------------------------------------------------------------------
# Point, codes and score
# --------------------------------------------------------------------------------------


def place_point(
    reading: Reading, road: Place | None, places: Mapping[str, Place]
) -> tuple[str, float, float] | None:
    """(precision, lon, lat) of the finest part located — place, road, township,
    district, else the smallest city/province holding every tied district, or the city
    or province named; None when nothing is located.  A coarse point says so in
    ``matched["point"]``; the township of a place or road is filled in."""
    if reading.poi is not None:
        reading.township = reading.township or reading.poi.township_code
        return "poi", reading.poi.lon, reading.poi.lat
    if road is not None:
        reading.township = reading.township or road.township_code
        return "road", road.lon, road.lat
    if reading.township is not None:
        t = places[reading.township]
        return "township", t.lon, t.lat
    if reading.county is not None:
        d = places[reading.county]
        reading.matched["point"] = "district representative point (inside the district, not a located address)"
        return "district", d.lon, d.lat
    area = common_area(reading.ambiguous, places) or reading.city or reading.province
    if area is None:
        return None
    a = places[area]
    reading.matched["point"] = f"{a.level} representative point (inside {a.name}, not a located address)"
    if a.level == "city":
        reading.city = area
        return "city", a.lon, a.lat
    reading.province = area
    return "province", a.lon, a.lat


def common_area(codes: Sequence[str], places: Mapping[str, Place]) -> str | None:
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


def complete_codes(reading: Reading, places: Mapping[str, Place]) -> None:
    """The city of the district and the province of the city; Beijing's and Tianjin's
    single city level (市辖区, 110100/120100) when only the municipality is known."""
    if reading.county is not None:
        reading.city = places[reading.county].parent_code
    if reading.city is not None:
        reading.province = places[reading.city].parent_code if reading.city in places else reading.province
    elif reading.province is not None and reading.province in _MUNICIPALITIES:
        reading.city = reading.province[:2] + "0100"


def admin_names(province: str | None, city: str | None, places: Mapping[str, Place]) -> dict[str, str]:
    """``matched`` entries for the province and city (not the municipalities' 市辖区 city)."""
    head: dict[str, str] = {}
    if province is not None and province in places:
        head["province"] = places[province].name
    if city is not None and city in places and not city.startswith(("11", "12")):
        head["city"] = places[city].name
    return head


def score(precision: str, factor: float) -> float:
    """Confidence 0–1: the base confidence of ``precision`` × the penalties' ``factor``."""
    return round(BASE_CONFIDENCE[precision] * factor, 3)
