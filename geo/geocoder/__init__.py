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

The modules, by job:

``address``     normalisation and the suffix-based reading of an address
``places``      gazetteer entries (:class:`Place`) from entity frames
``aliases``     the names each place goes by, and the automaton that finds them
``gazetteer``   :class:`Gazetteer`: names and points, and the names found in an address
``matching``    the steps from names found to a result (district, township, place,
                street, point, confidence)
``results``     :class:`GeocodeResult`, precisions and confidences, online merge
``geocoder``    :class:`Geocoder`: cache and online provider around the steps
"""

from geo.geocoder.address import ParsedAddress, normalise_address, parse_address
from geo.geocoder.aliases import (
    ETDA_ALIASES,
    ETDA_TOWNSHIP_NAME,
    GENERIC_SHORT_NAMES,
    HISTORIC_DISTRICT_NAMES,
    MAX_POI_DUPLICATES,
    MIN_POI_NAME_CHARS,
)
from geo.geocoder.gazetteer import Gazetteer, Hit
from geo.geocoder.geocoder import Geocoder
from geo.geocoder.matching import ROAD_NOT_FOUND, ROAD_NOT_LOCATED, TOWNSHIP_NOT_LISTED
from geo.geocoder.places import ROAD_LINE_TYPES, Place
from geo.geocoder.results import (
    BASE_CONFIDENCE,
    CONFLICT_FACTOR,
    DUPLICATE_POI_FACTOR,
    PRECISIONS,
    SHORT_NAME_FACTOR,
    GeocodeResult,
    OnlineProvider,
    no_match,
)

__all__ = [
    "BASE_CONFIDENCE",
    "CONFLICT_FACTOR",
    "DUPLICATE_POI_FACTOR",
    "ETDA_ALIASES",
    "ETDA_TOWNSHIP_NAME",
    "GENERIC_SHORT_NAMES",
    "HISTORIC_DISTRICT_NAMES",
    "MAX_POI_DUPLICATES",
    "MIN_POI_NAME_CHARS",
    "PRECISIONS",
    "ROAD_LINE_TYPES",
    "ROAD_NOT_FOUND",
    "ROAD_NOT_LOCATED",
    "SHORT_NAME_FACTOR",
    "TOWNSHIP_NOT_LISTED",
    "Gazetteer",
    "GeocodeResult",
    "Geocoder",
    "Hit",
    "OnlineProvider",
    "ParsedAddress",
    "Place",
    "no_match",
    "normalise_address",
    "parse_address",
]
