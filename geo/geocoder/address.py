"""Addresses as text: normalisation, and the parts an address is read into — without
a gazetteer by suffix alone (…省 …市 …区/县 …街道/镇/乡 …路/街 …号)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.geocoder.gazetteer import Gazetteer

_DROP_CHARS = re.compile(r"[\s,;:、。·・\"'|()\[\]【】<>《》]+")
_PREFIXES = ("中华人民共和国", "中国")
_ROAD = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{1,14}?(?:大街|大道|胡同|路|街|巷|道))(?!道|办)")
_NUMBER = re.compile(r"(?<!\d)([甲乙丙丁]?\d+(?:-\d+)?)号")
#: A direction and 大街/路 alone (北大街): the end of a longer street name.
BARE_STREET = re.compile(r"[东西南北中前后内外]{1,2}(?:大街|大道|路|街)")
_TOWNSHIP_WORD = re.compile(r"街道|镇|乡")
# used with Pattern.match(text, pos): anchored at pos, so no "^"
_GENERIC_PARTS = (
    ("province", re.compile(r"((?:北京|天津|上海|重庆)市?|[\u4e00-\u9fff]{2,7}?(?:省|自治区))")),
    ("city", re.compile(r"([\u4e00-\u9fff]{2,7}?(?:市|自治州|盟))")),
    ("district", re.compile(r"([\u4e00-\u9fff]{1,8}?(?:区|县|旗|市))(?!场|道|街|路)")),
    ("township", re.compile(r"([\u4e00-\u9fff]{1,8}?(?:街道|镇|乡|地区))")),
)


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
    return with_street_parts(text, text[pos:], parts)


def with_street_parts(text: str, rest: str, parts: dict[str, str]) -> ParsedAddress:
    """A :class:`ParsedAddress` of ``parts`` plus the road and number found in ``rest``
    (the text no name accounted for, matched spans as ``|``)."""
    road = find_road(rest)
    number = _NUMBER.search(rest)
    if road:
        rest = rest.replace(road, "", 1)
    if number:
        rest = rest.replace(number.group(0), "", 1)
    return ParsedAddress(normalised=text, road=road, number=number.group(1) + "号" if number else None,
                         rest=rest.replace("|", ""), **parts)


def find_road(text: str) -> str | None:
    """The first street name (…大街/大道/胡同/路/街/巷/道, not …街道) in ``text``, or None;
    a township word before it is dropped (燕郊镇迎宾路 → 迎宾路)."""
    for m in _ROAD.finditer(text):
        road = m.group(1)
        if road.endswith("街道"):
            continue
        # an unlisted township written before the street (燕郊镇迎宾路): keep the street
        road = _TOWNSHIP_WORD.split(road)[-1]
        if len(road) >= 2:
            return road
    return None


def find_number(text: str) -> str | None:
    """The first house number in ``text`` (``6号``, ``甲3号``, ``12-3号``), or None."""
    number = _NUMBER.search(text)
    return number.group(1) + "号" if number else None
