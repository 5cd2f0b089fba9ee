"""What a geocode answers: :class:`GeocodeResult`, the precisions and their base
confidences, the online provider protocol, and the merge of an online answer into an
offline one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

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


_RESULT_FIELDS = ("query", "lon", "lat", "precision", "confidence", "province_code", "city_code", "county_code",
                  "township_code", "matched")


def make_result(*values: Any) -> GeocodeResult:
    """``GeocodeResult(*values)`` without the frozen-dataclass ``__init__`` (one
    ``object.__setattr__`` per field): a quarter of the cost, same object."""
    result = object.__new__(GeocodeResult)
    result.__dict__.update(zip(_RESULT_FIELDS, values, strict=True))
    return result


def with_query(result: GeocodeResult, query: str) -> GeocodeResult:
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


def merge_online(offline: GeocodeResult, online: GeocodeResult, provider: str) -> GeocodeResult:
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
