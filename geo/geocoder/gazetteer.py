"""The gazetteer: official names and points, and where they occur in an address."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from geo.geocoder.address import ParsedAddress, with_street_parts
from geo.geocoder.aliases import SHORT_STRENGTH, Reading, build_automaton
from geo.geocoder.places import Place, admin_places, poi_places, require_wgs84, road_places

# A bare name followed by one of these is part of a street or gate name (朝阳路, 德胜门).
_STREETISH_FOLLOWERS = frozenset("路街道桥门巷胡里条")


@dataclass(slots=True)
class Hit:
    """A gazetteer name found in an address: span, level, candidate codes (POI indexes
    for ``poi``), and 3 (full name), 2 (alias) or 1 (short name)."""

    start: int
    end: int
    level: str
    codes: tuple[Any, ...]
    strength: int


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
        self._automaton = build_automaton(self.places, self.pois)

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
        require_wgs84((areas, township_centres, roads, *pois))
        places, districts, townships = admin_places(areas, township_centres)
        for frame in pois:
            places.extend(poi_places(frame, townships))
        if roads is not None and len(roads) and "line_type" in roads.columns:
            places.extend(road_places(roads, districts, townships))
        return cls(places)

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

    def find(self, text: str) -> list[Hit]:
        """Non-overlapping name matches in normalised ``text``, left to right.

        Leftmost-longest: at each position the longest name wins (北京市 over 北京,
        北京大学第一医院 over 北京).  A name with several readings takes the one that fits
        what came before (海淀 after 海淀区 is 海淀街道).  Short names (朝阳, 望京) count
        only right after the previous administrative name (or at the start), not when they
        begin a street or gate name (朝阳路, 德胜门), and not as a second township; full
        names count anywhere.
        """
        matches = list(self._automaton.iter_long(text))
        hits: list[Hit] = []
        prefix_end = 0
        district: str | None = None
        have_township = False
        for i, (last, (length, readings)) in enumerate(matches):
            end = last + 1
            start = end - length
            level, codes, strength = reading_in_context(readings, district)
            if strength == SHORT_STRENGTH and (
                start != prefix_end
                or (level == "township" and have_township)
                or begins_street_name(text, end, _start_of(matches, i + 1, len(text)))
            ):
                continue
            hits.append(Hit(start, end, level, codes, strength))
            if level == "poi":
                continue
            prefix_end = end
            if level == "district" and len(codes) == 1:
                district = codes[0]
            elif level == "township":
                have_township = True
        return hits

    def parse(self, text: str) -> ParsedAddress:
        """:func:`parse_address` with this gazetteer's names (``text`` normalised)."""
        hits = self.find(text)
        parts: dict[str, str] = {}
        for h in hits:
            part = "place" if h.level == "poi" else h.level
            if part not in parts:
                parts[part] = text[h.start : h.end]
        return with_street_parts(text, unmatched_text(text, hits), parts)


def reading_in_context(readings: Sequence[Reading], district: str | None) -> Reading:
    """The reading of a name to take after ``district`` (the last district named, or
    None): a township of that district when the name has one (海淀 after 海淀区), else
    the strongest reading."""
    if district is not None and len(readings) > 1:
        for reading in readings:
            if reading[0] == "township" and any(c.startswith(district) for c in reading[1]):
                return reading
    return readings[0]


def begins_street_name(text: str, end: int, next_start: int) -> bool:
    """Whether a name ending at ``end`` begins a street or gate name (朝阳路, 德胜门,
    朝阳门北大街): a street character follows it (not 街道) and no other name starts
    there (``next_start``: where the next match starts, ``len(text)`` if none)."""
    return (
        end < len(text)
        and next_start != end
        and ((text[end] in _STREETISH_FOLLOWERS and not text.startswith("街道", end))
             or text.startswith(("大街", "大道"), end))
    )  # fmt: skip


def _start_of(matches: Sequence[tuple[int, tuple[int, Any]]], i: int, default: int) -> int:
    """Start of automaton match ``i`` (``(last index, (length, …))``), or ``default`` past the end."""
    return matches[i][0] + 1 - matches[i][1][0] if i < len(matches) else default


def unmatched_text(text: str, hits: Sequence[Hit]) -> str:
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
