"""Site veto (一票否决): rule sets as data, land use → protection class, verdicts.

The pure core of the planner's question "may we build X here?".  Nothing here
touches a store or a file: :mod:`geo.capabilities.veto` fetches the hazards near a
site and hands them to :func:`evaluate_site` (one site) or :func:`evaluate_many`
(a batch); both return :class:`Verdict` objects.

* A **rule set** (``data/rules/veto_rules.yaml``) is parsed and validated by
  :func:`parse_rule_set`; every problem is reported as ``rule <id>: <field>: <why>``.
* A **land use** maps to a GB 36894-2018 protection class (high-sensitivity,
  important, general 1–3) or to none (a hazardous use: gas station, hazchem
  storage, fireworks retail).  Rules select land uses by code and/or class, so
  both directions are covered: a sensitive use near existing hazards, and a
  hazardous use near existing protection targets and zones.
* A **verdict** is VETO / CONDITIONAL / PASS, or OUTSIDE_COVERAGE when the site
  lies outside the covered region (never a PASS), and lists every rule with its
  status (hit, clear, not applicable, outside region, no data), the hazards hit,
  the distance found and the distance required, and the citation.

Geometry: sites and hazards are WGS-84 lon/lat (EPSG:4326).  Distances are metres
from the site geometry (a point, or a polygon's edge — never its centroid) to the
hazard geometry, by the method of :mod:`geo.distance`: an azimuthal-equidistant
projection on the WGS-84 ellipsoid centred on the site, after densifying segments
to ``SEGMENT_DEGREES``.  :func:`geo.distance.distances_m` gives the same numbers as
:func:`geo.distance.distances_m` but builds its PROJ pipeline directly (about
0.1 ms instead of ~18 ms per new centre), which is what makes batches of
thousands of parcels fast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
import shapely.errors
import shapely.geometry
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from geo.coords import DATUMS, convert
from geo.distance import MIN_METRES_PER_DEGREE, WGS84_GEOD, degree_box, distances_m
from geo.entities import UnknownColumnError, get_entity
from geo.errors import BadInput, NotFound, Unprocessable

ProtectionClass = Literal["high", "important", "general1", "general2", "general3"]
Outcome = Literal["VETO", "CONDITIONAL"]
VerdictCode = Literal["VETO", "CONDITIONAL", "PASS", "OUTSIDE_COVERAGE"]
RuleStatus = Literal["hit", "clear", "not_applicable", "outside_region", "no_data"]

#: GB 36894-2018 protection classes, most sensitive first.
PROTECTION_CLASSES: tuple[str, ...] = ("high", "important", "general1", "general2", "general3")

#: Layers a rule may measure from (entity kinds with point or line geometry).
HAZARD_LAYERS: tuple[str, ...] = ("hazchem_sites", "lines", "protection_targets", "risk_sources", "units")

#: ``areas.area_type`` of individual-risk contours; the level (per year) is the last
#: ``:``-separated part of the contour's ``area_code``, e.g. ``risk_contour:HC1:3e-7``.
RISK_CONTOUR_TYPE = "risk_contour"

VERDICT_LABELS: dict[str, dict[str, str]] = {
    "VETO": {"zh": "一票否决", "en": "Veto"},
    "CONDITIONAL": {"zh": "有条件（需论证审查）", "en": "Conditional (needs review)"},
    "PASS": {"zh": "通过", "en": "Pass"},
    "OUTSIDE_COVERAGE": {"zh": "超出覆盖范围，无法判定", "en": "Outside the covered region — no verdict"},
}

_SEVERITY = {"VETO": 2, "CONDITIONAL": 1}
_ALLOWED_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class RuleSetError(BadInput):
    """A rule set does not validate; ``errors`` holds one line per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors) if self.errors else "invalid rule set")


class UnknownLandUseError(BadInput):
    """A land use is not one of the rule set's (by code, Chinese or English name, or alias)."""

    def __init__(self, value: object, known: Sequence[str]) -> None:
        self.value = value
        self.known = list(known)
        super().__init__(f"unknown land use {value!r}; known: {', '.join(self.known)}")

    def details(self) -> dict[str, Any]:
        return {"land_use": str(self.value), "known": self.known}


class GeometryError(Unprocessable):
    """A site geometry cannot be evaluated: ``problem`` says why, ``location`` (lon, lat) where."""

    def __init__(self, problem: str, location: tuple[float, float] | None = None) -> None:
        self.problem = problem
        self.location = location
        where = f" at ({location[0]:.7f}, {location[1]:.7f})" if location else ""
        super().__init__(f"invalid geometry: {problem}{where}")

    def details(self) -> dict[str, Any]:
        return {"problem": self.problem, "location": self.location}


# --------------------------------------------------------------------------------------
# The rule set (pydantic models of the YAML)
# --------------------------------------------------------------------------------------

Scalar = str | bool | int | float | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Model):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Citation(_Model):
    standard: str = Field(min_length=1)
    clause: str | None = None
    default: bool
    note: str = ""

    def as_text(self) -> str:
        text = self.standard + (f" {self.clause}" if self.clause else "")
        return text + (" (default — verify against the standard's text)" if self.default else "")


class LandUse(_Model):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    protection_class: ProtectionClass | None
    aliases: tuple[str, ...] = ()

    @property
    def hazardous(self) -> bool:
        """True for uses that are themselves hazards (no protection class)."""
        return self.protection_class is None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "zh": self.zh, "en": self.en, "protection_class": self.protection_class,
                "hazardous": self.hazardous}


class AppliesTo(_Model):
    land_uses: tuple[str, ...] = ()
    protection_classes: tuple[ProtectionClass, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> AppliesTo:
        if not self.land_uses and not self.protection_classes:
            raise ValueError("name at least one land use or protection class")
        return self


class HazardSpec(_Model):
    layer: Literal["hazchem_sites", "lines", "protection_targets", "risk_sources", "units"]
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class MinDistance(_Model):
    metres: float = Field(gt=0, le=50_000)


class AttributeDistance(_Model):
    attribute: str = Field(min_length=1)


class ZoneTest(_Model):
    zones: tuple[str, ...] = Field(min_length=1)


class IndividualRisk(_Model):
    max_per_year: float = Field(gt=0, lt=1)


class RuleTest(_Model):
    min_distance: MinDistance | None = None
    attribute_distance: AttributeDistance | None = None
    inside_zone: ZoneTest | None = None
    outside_zone: ZoneTest | None = None
    individual_risk: IndividualRisk | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> RuleTest:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one test of {', '.join(type(self).model_fields)}; got {given or 'none'}")
        return self

    @cached_property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @cached_property
    def measures_distance(self) -> bool:
        return self.kind in ("min_distance", "attribute_distance")


class Rule(_Model):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    name: Label
    citation: Citation
    applies_to: AppliesTo
    region: Literal["beijing", "jjj"]
    hazard: HazardSpec | None = None
    test: RuleTest
    outcome: Outcome

    @model_validator(mode="after")
    def _hazard_matches_test(self) -> Rule:
        if self.test.measures_distance and self.hazard is None:
            raise ValueError(f"test {self.test.kind} needs a hazard (layer and filter)")
        if not self.test.measures_distance and self.hazard is not None:
            raise ValueError(f"test {self.test.kind} reads areas; remove hazard")
        return self

    def applies(self, land_use: LandUse) -> bool:
        """Whether this rule concerns ``land_use`` (by code or by protection class)."""
        return land_use.code in self.applies_to.land_uses or (
            land_use.protection_class is not None and land_use.protection_class in self.applies_to.protection_classes
        )

    @property
    def fixed_metres(self) -> float | None:
        return self.test.min_distance.metres if self.test.min_distance else None

    def as_dict(self) -> dict[str, Any]:
        test = self.test.model_dump(exclude_none=True)
        return {
            "id": self.id, "name": self.name.model_dump(), "citation": {**self.citation.model_dump(),
                                                                         "text": self.citation.as_text()},
            "applies_to": self.applies_to.model_dump(), "region": self.region,
            "hazard": self.hazard.model_dump() if self.hazard else None, "test": test, "test_kind": self.test.kind,
            "outcome": self.outcome,
        }


class Coverage(_Model):
    beijing: tuple[str, ...] = Field(min_length=1)
    jjj: tuple[str, ...] = Field(min_length=1)


class RuleSet(_Model):
    version: str = Field(min_length=1)
    title: Label
    coverage: Coverage
    protection_classes: dict[ProtectionClass, Label]
    land_uses: tuple[LandUse, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)

    def land_use(self, value: str) -> LandUse:
        """The land use named ``value`` (code, Chinese/English name or alias; case and
        surrounding space ignored).  Raises :class:`UnknownLandUseError` naming it."""
        use = self._names.get(str(value).strip().lower())
        if use is None:
            raise UnknownLandUseError(value, [u.code for u in self.land_uses])
        return use

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise NotFound(rule_id)

    def rules_for(self, land_use: LandUse) -> list[Rule]:
        return [r for r in self.rules if r.id in self.applicable_ids(land_use)]

    def applicable_ids(self, land_use: LandUse) -> frozenset[str]:
        """Ids of the rules that concern ``land_use`` (cached per land use)."""
        key = (land_use.code, land_use.protection_class)
        ids = self._applicable.get(key)
        if ids is None:
            ids = self._applicable[key] = frozenset(r.id for r in self.rules if r.applies(land_use))
        return ids

    @cached_property
    def _applicable(self) -> dict[tuple[str, str | None], frozenset[str]]:
        return {}

    @cached_property
    def _names(self) -> dict[str, LandUse]:
        return {n.strip().lower(): use for use in self.land_uses for n in (use.code, use.zh, use.en, *use.aliases)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version, "title": self.title.model_dump(), "coverage": self.coverage.model_dump(),
            "protection_classes": {k: v.model_dump() for k, v in self.protection_classes.items()},
            "land_uses": [u.as_dict() for u in self.land_uses], "rules": [r.as_dict() for r in self.rules],
        }


def _loc_label(raw: Mapping[str, Any], loc: Sequence[int | str]) -> str:
    """'rule GS-01: test.min_distance.metres' from a pydantic error location."""
    if len(loc) >= 2 and loc[0] in ("rules", "land_uses") and isinstance(loc[1], int):
        items = raw.get(loc[0]) or []
        item = items[loc[1]] if loc[1] < len(items) else {}
        ident_key = "id" if loc[0] == "rules" else "code"
        ident = item.get(ident_key) if isinstance(item, Mapping) else None
        what = "rule" if loc[0] == "rules" else "land use"
        head = f"{what} {ident}" if ident else f"{what} #{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        return f"{head}: {rest}" if rest else head
    return ".".join(str(p) for p in loc) or "rule set"


def parse_rule_set(data: Mapping[str, Any] | str) -> RuleSet:
    """Validate a rule set given as a mapping or as YAML text; return it.

    Raises :class:`RuleSetError` listing every problem, each naming the rule id (or
    land-use code) and the field: bad types and values, duplicate ids, land uses a
    rule names that are not declared, hazard filters on columns the layer does not
    have, attribute distances on non-numeric columns.
    """
    if isinstance(data, str):
        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise RuleSetError([f"not valid YAML: {exc}"]) from None
    if not isinstance(data, Mapping):
        raise RuleSetError(["rule set: expected a mapping with version, title, coverage, land_uses, rules"])
    errors: list[str] = []
    rule_set = None
    try:
        rule_set = RuleSet.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
            errors.append(f"{_loc_label(data, loc)}: {err['msg']}")
    errors.extend(_cross_check(data))
    if errors or rule_set is None:
        raise RuleSetError(errors)
    return rule_set


def _items(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    items = data.get(name)
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


def _cross_check(data: Mapping[str, Any]) -> list[str]:
    """Checks across fields, on the raw mapping so they run even when a field is malformed."""
    errors: list[str] = []
    names: dict[str, str] = {}
    for use in _items(data, "land_uses"):
        code = str(use.get("code"))
        for n in {code, use.get("zh"), use.get("en"), *(use.get("aliases") or [])}:
            if not isinstance(n, str):
                continue
            key = n.strip().lower()
            if key in names and names[key] != code:
                errors.append(f"land use {code}: name {n!r} also names land use {names[key]}")
            names[key] = code
    codes = {str(u.get("code")) for u in _items(data, "land_uses")}
    seen: set[str] = set()
    for n, rule in enumerate(_items(data, "rules")):
        rid = rule.get("id") or f"#{n + 1}"
        if rid in seen:
            errors.append(f"rule {rid}: id: duplicate rule id")
        seen.add(rid)
        applies = rule.get("applies_to")
        for code in (applies.get("land_uses") or []) if isinstance(applies, Mapping) else []:
            if code not in codes:
                errors.append(f"rule {rid}: applies_to.land_uses: unknown land use {code!r}")
        hazard = rule.get("hazard")
        layer = hazard.get("layer") if isinstance(hazard, Mapping) else None
        if layer not in HAZARD_LAYERS:
            continue
        entity = get_entity(layer)
        where = hazard.get("where") if isinstance(hazard, Mapping) else None
        for column in where or {} if isinstance(where, Mapping) else {}:
            try:
                entity.column(column)
            except UnknownColumnError:
                errors.append(f"rule {rid}: hazard.where: layer {layer!r} has no column {column!r}")
        test = rule.get("test")
        attr = test.get("attribute_distance") if isinstance(test, Mapping) else None
        name = attr.get("attribute") if isinstance(attr, Mapping) else None
        if isinstance(name, str):
            try:
                column_type = entity.column(name).type
            except UnknownColumnError:
                errors.append(f"rule {rid}: test.attribute_distance.attribute: layer {layer!r} has no column {name!r}")
            else:
                if column_type not in ("int", "float"):
                    errors.append(f"rule {rid}: test.attribute_distance.attribute: column {name!r} is"
                                  f" {column_type}, not a number of metres")
    return errors


# --------------------------------------------------------------------------------------
# Site geometry
# --------------------------------------------------------------------------------------

#: The largest site a verdict is given for.  A site is a parcel or one project's footprint:
#: Beijing's largest single projects fit with room (Daxing airport ≈ 27 km² in a box of
#: about 10 km).  Anything larger is a region, not a site: its verdict would rest on a
#: distance method built for sites (an AEQD projection centred on the site; PostGIS
#: geography refuses edges of 180°) and one store could answer VETO where the other says
#: PASS.  Beyond a limit the answer is a 422 naming it (:class:`SiteLimitError`).
MAX_SITE_AREA_M2 = 100e6  # 100 km², geodesic area on the WGS-84 ellipsoid
MAX_SITE_EXTENT_M = 20_000.0  # the longer side of the site's lon/lat box, metres (see site_extent_m)
#: A surveyed parcel has tens to hundreds of vertices; every vertex is measured against every
#: candidate hazard, so the count bounds a request's work (and is checked before parsing).
MAX_SITE_VERTICES = 10_000

_REASON_LOCATION = re.compile(r"^(?P<problem>.*?)\s*\[(?P<x>[-+0-9.eE]+)\s+(?P<y>[-+0-9.eE]+)\]\s*$")
#: GeoJSON nesting of ``coordinates`` per site type: a position, a ring's list, a polygon's list.
_COORDINATE_DEPTH = {"Point": 0, "Polygon": 2, "MultiPolygon": 3}


class SiteLimitError(GeometryError):
    """A site beyond one of the site limits: ``limit`` names it, ``found`` and ``maximum``
    are in ``unit`` (422, like any geometry that cannot be evaluated)."""

    def __init__(self, limit: str, found: float, maximum: float, unit: str) -> None:
        self.limit, self.found, self.maximum, self.unit = limit, found, maximum, unit
        self.problem = (f"site {limit} {found:,.0f} {unit} exceeds the limit of {maximum:,.0f} {unit}"
                        " (a site is one parcel or project, not a region)")
        self.location = None
        Unprocessable.__init__(self, self.problem)  # not "invalid geometry": valid, but too large

    def details(self) -> dict[str, Any]:
        return {**super().details(), "limit": self.limit, "found": self.found, "max": self.maximum,
                "unit": self.unit}


def site_extent_m(geometry: BaseGeometry) -> float:
    """The longer side, in metres, of ``geometry``'s lon/lat box on the WGS-84 ellipsoid: the
    meridian arc between its south and north edges, or its widest parallel (the one nearest
    the equator) between its west and east edges — never shortened by going round the back."""
    minx, miny, maxx, maxy = geometry.bounds
    height = float(WGS84_GEOD.inv(0.0, miny, 0.0, maxy)[2]) if maxy > miny else 0.0
    lat = 0.0 if miny <= 0.0 <= maxy else min(abs(miny), abs(maxy))
    phi = math.radians(lat)
    radius = WGS84_GEOD.a * math.cos(phi) / math.sqrt(1.0 - WGS84_GEOD.es * math.sin(phi) ** 2)
    return max(height, radius * math.radians(maxx - minx))


def site_area_m2(geometry: BaseGeometry) -> float:
    """Geodesic area of ``geometry`` on the WGS-84 ellipsoid, square metres (0 for a point)."""
    return abs(float(WGS84_GEOD.geometry_area_perimeter(geometry)[0])) if geometry.geom_type != "Point" else 0.0


def check_site_limits(geometry: BaseGeometry) -> None:
    """Raise :class:`SiteLimitError` when ``geometry`` (lon/lat, in range) has more than
    MAX_SITE_VERTICES vertices or an extent above MAX_SITE_EXTENT_M — the cheap limits,
    checked before validity; the area (:func:`_check_site_area`) is measured on a valid
    geometry.  Measures are compared to the centimetre (a site drawn at a limit is within it)."""
    vertices = int(shapely.get_num_coordinates(geometry))
    if vertices > MAX_SITE_VERTICES:
        raise SiteLimitError("vertices", vertices, MAX_SITE_VERTICES, "vertices")
    extent = site_extent_m(geometry)
    if round(extent, 2) > MAX_SITE_EXTENT_M:
        raise SiteLimitError("extent", extent, MAX_SITE_EXTENT_M, "m")


def _check_site_area(geometry: BaseGeometry) -> None:
    """Raise :class:`SiteLimitError` when the valid ``geometry``'s area is above MAX_SITE_AREA_M2."""
    area = site_area_m2(geometry)
    if round(area, 2) > MAX_SITE_AREA_M2:
        raise SiteLimitError("area", area, MAX_SITE_AREA_M2, "m²")


def check_site_geometry(geometry: BaseGeometry | None) -> BaseGeometry:
    """Validate a site geometry (WGS-84 lon/lat) and return it in 2-D.

    Accepts a Point, Polygon or MultiPolygon within the site limits (MAX_SITE_VERTICES,
    MAX_SITE_EXTENT_M, MAX_SITE_AREA_M2).  Raises :class:`GeometryError` naming the
    problem and where: empty geometry, a wrong type, a non-finite or out-of-range
    coordinate (with a hint when latitude and longitude look swapped), a limit exceeded
    (:class:`SiteLimitError`, naming the limit and the value found), or what
    :func:`shapely.is_valid_reason` reports (self-intersection, ring self-intersection,
    too few points, …) with its location.
    """
    if geometry is None or geometry.is_empty:
        raise GeometryError("empty geometry")
    if geometry.geom_type not in _ALLOWED_GEOMETRIES:
        raise GeometryError(f"{geometry.geom_type} is not a site; give a Point, Polygon or MultiPolygon")
    geometry = shapely.force_2d(geometry)
    coords = shapely.get_coordinates(geometry)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        raise GeometryError("coordinate is not a finite number", None)
    bad = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if bad.any():
        x, y = (float(v) for v in coords[np.argmax(bad)])
        hint = "; latitude and longitude look swapped" if abs(y) <= 180 and abs(x) <= 90 else ""
        raise GeometryError(f"coordinate outside lon -180..180 / lat -90..90{hint}", (x, y))
    check_site_limits(geometry)
    if not shapely.is_valid(geometry):
        reason = shapely.is_valid_reason(geometry)
        m = _REASON_LOCATION.match(reason)
        if m:
            raise GeometryError(m.group("problem"), (float(m.group("x")), float(m.group("y"))))
        raise GeometryError(reason)
    _check_site_area(geometry)
    return geometry


def _is_number(value: Any) -> bool:
    """A JSON number a float can hold (not a bool; not an integer beyond ±1e308)."""
    return isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)
                                        and -1e308 <= value <= 1e308)


def check_geojson_coordinates(kind: str, coordinates: Any) -> None:
    """Check the shape of a site's GeoJSON ``coordinates`` before any geometry is built:
    nesting as ``kind`` (Point, Polygon, MultiPolygon) needs, each position two or three
    numbers, at most MAX_SITE_VERTICES positions.  Walks without recursion, so no nesting
    depth can exhaust the stack.  Raises :class:`GeometryError` naming the problem."""
    depth = _COORDINATE_DEPTH[kind]
    stack: list[tuple[Any, int]] = [(coordinates, depth)]
    positions = 0
    while stack:
        value, level = stack.pop()
        if not isinstance(value, list | tuple):  # tuples: shapely.geometry.mapping's output
            raise GeometryError(f"malformed GeoJSON {kind}: coordinates must be nested lists"
                                f" {depth + 1} deep; found {type(value).__name__}")
        if level == 0:
            if len(value) not in (2, 3) or not all(_is_number(v) for v in value):
                shown = _preview(value)
                raise GeometryError(f"malformed GeoJSON {kind}: a position is 2 or 3 numbers, got {shown}")
            positions += 1
            if positions > MAX_SITE_VERTICES:
                raise SiteLimitError("vertices", positions, MAX_SITE_VERTICES, "vertices")
            continue
        stack.extend((item, level - 1) for item in value)


def _preview(value: Any, limit: int = 60) -> str:
    """``value`` as short text for a message (lists shown one level deep)."""
    if isinstance(value, list | tuple):
        text = "[" + ", ".join("[…]" if isinstance(v, list | tuple | dict) else repr(v) for v in value[:4])
        text += ", …]" if len(value) > 4 else "]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _geojson_geometry(obj: Any) -> BaseGeometry:
    """A shapely site geometry from a GeoJSON geometry mapping, its type and coordinates
    checked first (see :func:`check_geojson_coordinates`)."""
    if not isinstance(obj, Mapping) or "type" not in obj:
        raise GeometryError("geometry must be a GeoJSON object with 'type' and 'coordinates'")
    kind = obj["type"]
    if not isinstance(kind, str) or kind not in _COORDINATE_DEPTH:
        shown = _preview(kind)
        if kind in ("LineString", "MultiLineString", "MultiPoint", "GeometryCollection"):
            raise GeometryError(f"{kind} is not a site; give a Point, Polygon or MultiPolygon")
        raise GeometryError(f"unknown geometry type {shown}; give a Point, Polygon or MultiPolygon")
    if "coordinates" not in obj:
        raise GeometryError(f"malformed GeoJSON {kind}: no 'coordinates'")
    check_geojson_coordinates(kind, obj["coordinates"])
    try:
        return shapely.geometry.shape({"type": kind, "coordinates": obj["coordinates"]})
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise GeometryError(f"malformed GeoJSON {kind}: {exc}") from None


def site_from_geojson(obj: Any, *, datum: str = "wgs84") -> BaseGeometry:
    """A checked site geometry from a GeoJSON geometry (or Feature) in WGS-84, or in
    ``datum`` (``gcj02``, ``bd09``: converted to WGS-84 with :func:`geo.coords.convert`).

    Raises :class:`GeometryError` (422) when missing, of an unknown or unsupported type,
    malformed (a position that is not 2–3 numbers, wrong nesting), beyond a site limit or
    invalid (see :func:`check_site_geometry`); :class:`BadInput` naming an unknown datum.
    """
    key = str(datum).strip().lower()
    if key not in DATUMS:
        raise BadInput(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")
    if isinstance(obj, Mapping) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    if obj is None:
        raise GeometryError("missing geometry")
    geom = check_site_geometry(_geojson_geometry(obj))
    if key in ("gcj02", "bd09"):
        def shift(xy: np.ndarray) -> np.ndarray:
            x, y = convert(xy[:, 0], xy[:, 1], src=key, dst="wgs84")
            return np.column_stack([x, y])

        geom = check_site_geometry(shapely.transform(geom, shift))
    return geom


# --------------------------------------------------------------------------------------
# Hazard layers, prepared once per query or per batch
# --------------------------------------------------------------------------------------

_DETAIL_COLUMNS = ("site_type", "major_hazard_grade", "gas_station_grade", "external_distance_m", "line_type",
                   "target_type", "sensitivity", "area_type", "district", "level")


def where_mask(frame: gpd.GeoDataFrame, where: Mapping[str, Any]) -> np.ndarray:
    """Rows of ``frame`` matching ``where`` (value, list of values, ``None`` = missing),
    the same semantics as the stores' ``where``."""
    mask = np.ones(len(frame), dtype=bool)
    for name, value in where.items():
        if name not in frame:
            raise UnknownColumnError("frame", name)
        # plain object arrays: much cheaper than pandas' extension-array comparisons on small frames
        col = frame[name].to_numpy(dtype=object, na_value=None)
        missing = np.fromiter((v is None for v in col), dtype=bool, count=len(col))
        wanted = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        hit = np.zeros(len(col), dtype=bool)
        for v in wanted:
            hit |= missing if v is None else (~missing & (col == v))
        mask &= hit
    return mask


def merged_where(wheres: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The widest filter that keeps every row any of ``wheres`` keeps (for one query per
    layer): the columns all of them constrain, with the union of their values."""
    if not wheres or any(not w for w in wheres):
        return {}
    common = set.intersection(*(set(w) for w in wheres))
    out: dict[str, list[Any]] = {}
    for name in sorted(common):
        values: list[Any] = []
        for w in wheres:
            v = w[name]
            for item in v if isinstance(v, list | tuple | set | frozenset) else [v]:
                if item not in values:
                    values.append(item)
        out[name] = values
    return out


@dataclass
class HazardLayer:
    """Rows of one hazard layer with, per rule measuring from it, which rows it counts and
    the distance each requires (metres; NaN: the row has no value for an attribute rule)."""

    kind: str
    frame: gpd.GeoDataFrame
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    required: dict[str, np.ndarray] = field(default_factory=dict)
    loaded: bool = True
    _columns: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, kind: str, frame: gpd.GeoDataFrame, rules: Iterable[Rule], *, loaded: bool = True) -> HazardLayer:
        layer = cls(kind, frame.reset_index(drop=True), loaded=loaded)
        for rule in rules:
            if rule.hazard is None or rule.hazard.layer != kind:
                continue
            layer.masks[rule.id] = where_mask(layer.frame, rule.hazard.where)
            if rule.test.min_distance is not None:
                layer.required[rule.id] = np.full(len(layer.frame), rule.test.min_distance.metres)
            elif rule.test.attribute_distance is not None:
                values = layer.frame[rule.test.attribute_distance.attribute]
                req = np.array(values.astype("float64").to_numpy(dtype=float, na_value=np.nan), dtype=float)
                req[~(req > 0)] = np.nan
                layer.required[rule.id] = req
        return layer

    def columns(self) -> dict[str, np.ndarray]:
        """The columns hits are reported from, as arrays (built once: row access by
        position is then cheap, which batches of thousands of sites need)."""
        if self._columns is None:
            names = ("key", "name", "synthetic", *_DETAIL_COLUMNS)
            self._columns = {c: self.frame[c].to_numpy(dtype=object) for c in names if c in self.frame.columns}
            self._columns["geometry"] = np.asarray(self.frame.geometry.values, dtype=object)
        return self._columns

    def max_required(self, rule_ids: Iterable[str]) -> float:
        """Largest distance any of ``rule_ids`` requires from any of its rows (0 if none)."""
        best = 0.0
        for rid in rule_ids:
            req = self.required.get(rid)
            if req is not None and len(req):
                m = self.masks[rid]
                vals = req[m & ~np.isnan(req)]
                if len(vals):
                    best = max(best, float(vals.max()))
        return best


@dataclass
class AreaContext:
    """Coverage areas, zones and risk contours (WGS-84 polygons) and which ones the site touches.

    ``codes`` / ``types`` are the areas' ``area_code`` / ``area_type`` arrays and
    ``masks`` caches "which rows have one of these codes"; :meth:`for_touching` shares
    them between the sites of a batch."""

    frame: gpd.GeoDataFrame
    touching: np.ndarray  # bool per row
    codes: np.ndarray = field(default_factory=lambda: np.zeros(0, object))
    types: np.ndarray = field(default_factory=lambda: np.zeros(0, object))
    masks: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    unions: dict[tuple[int, ...], BaseGeometry] = field(default_factory=dict)

    @classmethod
    def for_areas(cls, areas: gpd.GeoDataFrame) -> AreaContext:
        """A context for ``areas`` touching nothing yet (see :meth:`for_touching`)."""
        areas = areas.reset_index(drop=True)
        codes = areas["area_code"].to_numpy(dtype=object) if len(areas) else np.zeros(0, object)
        types = areas["area_type"].to_numpy(dtype=object) if len(areas) else np.zeros(0, object)
        shapely.prepare(np.asarray(areas.geometry.values, dtype=object))  # covers() per site of a batch
        return cls(areas, np.zeros(len(areas), dtype=bool), codes, types)

    @classmethod
    def for_site(cls, site: BaseGeometry, areas: gpd.GeoDataFrame) -> AreaContext:
        base = cls.for_areas(areas)
        touching = shapely.intersects(base.frame.geometry.values, site) if len(base.frame) else np.zeros(0, bool)
        return base.for_touching(np.asarray(touching, dtype=bool))

    def for_touching(self, touching: np.ndarray) -> AreaContext:
        return AreaContext(self.frame, touching, self.codes, self.types, self.masks, self.unions)

    def covers(self, site: BaseGeometry, rows: np.ndarray) -> bool:
        """Whether the areas ``rows`` together cover ``site`` (boundary included): one of
        them, or their union (a site across a province border; unions kept per set of rows)."""
        if not len(rows):
            return False
        geoms = np.asarray(self.frame.geometry.values, dtype=object)[rows]
        if bool(shapely.covers(geoms, site).any()):
            return True
        if len(rows) == 1:
            return False
        key = tuple(int(i) for i in rows)
        union = self.unions.get(key)
        if union is None:
            union = self.unions[key] = shapely.union_all(geoms)
            shapely.prepare(union)
        return bool(union.covers(site))

    def with_codes(self, codes: Iterable[str]) -> np.ndarray:
        key = tuple(sorted(codes))
        mask = self.masks.get(key)
        if mask is None:
            mask = self.masks[key] = np.isin(self.codes, list(key))
        return mask


# --------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------


def _value(v: Any) -> Any:
    if v is None or v is getattr(np, "NA", None):
        return None
    try:
        if v != v:  # NaN / pd.NA
            return None
    except TypeError:
        return None
    return v.item() if isinstance(v, np.generic) else v


@dataclass(frozen=True)
class HazardHit:
    """One hazard a rule found: its key and name, the distance found and required (metres),
    and the nearest points of site and hazard (lon, lat; for drawing only).

    ``withheld``: the hazard lies outside the caller's region scope — it still counts (a
    scope never turns a VETO into a PASS), but its key, name and details are not given
    (:meth:`withhold`)."""

    layer: str
    key: str
    name: str | None
    distance_m: float
    required_m: float | None
    synthetic: bool
    site_point: tuple[float, float]
    hazard_point: tuple[float, float]
    details: dict[str, Any] = field(default_factory=dict)
    withheld: bool = False

    def withhold(self) -> HazardHit:
        """This hit without the hazard's identity: no key, name or details."""
        return replace(self, key="", name=None, details={}, withheld=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer, "key": self.key, "name": self.name,
            "distance_m": round(self.distance_m, 2),
            "required_m": None if self.required_m is None else round(self.required_m, 2),
            "synthetic": self.synthetic, "site_point": list(self.site_point),
            "hazard_point": list(self.hazard_point), "details": self.details, "withheld": self.withheld,
        }


@dataclass
class RuleResult:
    """One rule evaluated for one site."""

    rule: Rule
    status: RuleStatus
    hits: list[HazardHit] = field(default_factory=list)
    nearest: HazardHit | None = None
    required_m: float | None = None
    message: str = ""

    @property
    def hit(self) -> bool:
        return self.status == "hit"

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule.id, "name": self.rule.name.model_dump(), "outcome": self.rule.outcome,
            "status": self.status, "hit": self.hit, "test": self.rule.test.kind,
            "required_m": self.required_m, "message": self.message,
            "citation": {**self.rule.citation.model_dump(), "text": self.rule.citation.as_text()},
            "hits": [h.as_dict() for h in self.hits],
            "nearest": self.nearest.as_dict() if self.nearest else None,
        }


@dataclass
class Verdict:
    """The answer for one site: the verdict, the land use and every rule's result."""

    verdict: VerdictCode
    land_use: LandUse
    rule_set_version: str
    site: BaseGeometry
    results: list[RuleResult]
    notes: list[str] = field(default_factory=list)
    name: str | None = None

    @property
    def hits(self) -> list[RuleResult]:
        return [r for r in self.results if r.hit]

    @property
    def synthetic(self) -> bool:
        """True when any hazard the verdict rests on (hit or nearest) is synthetic demo data."""
        return any(h.synthetic for r in self.results for h in [*r.hits, *([r.nearest] if r.nearest else [])])

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict, "label": VERDICT_LABELS[self.verdict], "name": self.name,
            "land_use": self.land_use.as_dict(), "rule_set_version": self.rule_set_version,
            "site": shapely.geometry.mapping(self.site),
            "rules_hit": [r.rule.id for r in self.hits],
            "rules": [r.as_dict() for r in self.results],
            "notes": list(self.notes), "synthetic": self.synthetic,
        }


def _hit(layer: HazardLayer, i: int, site: BaseGeometry, distance: float, required: float | None) -> HazardHit:
    cols = layer.columns()
    a, b = nearest_points(site, cols["geometry"][i])
    details = {c: v for c in _DETAIL_COLUMNS if c in cols and (v := _value(cols[c][i])) is not None}
    return HazardHit(
        layer=layer.kind, key=str(cols["key"][i]), name=_value(cols["name"][i]) if "name" in cols else None,
        distance_m=float(distance), required_m=None if required is None or math.isnan(required) else float(required),
        synthetic=bool(_value(cols["synthetic"][i])) if "synthetic" in cols else False,
        site_point=(round(a.x, 7), round(a.y, 7)), hazard_point=(round(b.x, 7), round(b.y, 7)), details=details,
    )


def _distance_result(rule: Rule, site: BaseGeometry, layer: HazardLayer | None,
                     nearby: tuple[np.ndarray, np.ndarray] | None, search_m: float | None) -> RuleResult:
    required_fixed = rule.fixed_metres
    if layer is None or not layer.loaded:
        kind = rule.hazard.layer if rule.hazard else "?"
        return RuleResult(rule, "no_data", required_m=required_fixed,
                          message=f"layer {kind} has no data loaded / 图层{kind}无数据")
    idx, dist = nearby if nearby is not None else (np.zeros(0, int), np.zeros(0, float))
    if not len(idx):
        reach = search_m if search_m is not None else required_fixed
        message = f"no matching hazard within {reach:.0f} m" if reach is not None else "no matching hazard nearby"
        return RuleResult(rule, "clear", required_m=required_fixed, message=message)
    mask = layer.masks[rule.id][idx]
    idx, dist = idx[mask], dist[mask]
    req = layer.required[rule.id][idx]
    hit = ~np.isnan(req) & (dist < req)
    hits = [_hit(layer, int(i), site, float(d), float(r)) for i, d, r in zip(idx[hit], dist[hit], req[hit],
                                                                            strict=True)]
    nearest = _hit(layer, int(idx[0]), site, float(dist[0]), float(req[0])) if len(idx) else None
    if hits:
        worst = min(hits, key=lambda h: h.distance_m)
        message = (f"{len(hits)} hazard(s) too close; nearest {worst.name or worst.key} at {worst.distance_m:.1f} m,"
                   f" required {worst.required_m:.1f} m")
        return RuleResult(rule, "hit", hits=hits, nearest=nearest, required_m=required_fixed, message=message)
    if nearest is not None:
        message = f"nearest matching hazard {nearest.name or nearest.key} at {nearest.distance_m:.1f} m"
        if nearest.required_m is not None:
            message += f", required {nearest.required_m:.1f} m"
    else:
        reach = search_m if search_m is not None else required_fixed
        message = (f"no matching hazard within {reach:.0f} m" if reach is not None
                   else "no matching hazard with a distance value nearby")
    return RuleResult(rule, "clear", nearest=nearest, required_m=required_fixed, message=message)


def _contour_level(area_code: str) -> float | None:
    try:
        return float(str(area_code).rsplit(":", 1)[-1])
    except ValueError:
        return None


def _area_hit(areas: AreaContext, i: int, site: BaseGeometry) -> HazardHit:
    row = areas.frame.iloc[i]
    a, b = nearest_points(site, row.geometry)
    return HazardHit(
        layer="areas", key=str(row["key"]), name=_value(row.get("name")), distance_m=0.0, required_m=None,
        synthetic=bool(_value(row.get("synthetic"))), site_point=(round(a.x, 7), round(a.y, 7)),
        hazard_point=(round(b.x, 7), round(b.y, 7)),
        details={"area_code": row["area_code"], "area_type": row["area_type"]},
    )


def _zone_result(rule: Rule, site: BaseGeometry, areas: AreaContext) -> RuleResult:
    test = rule.test.inside_zone or rule.test.outside_zone
    assert test is not None
    in_rule = areas.with_codes(test.zones)
    missing = sorted(set(test.zones) - set(areas.codes[in_rule]))
    if missing:
        return RuleResult(rule, "no_data", message=f"zone(s) not loaded: {', '.join(missing)} / 区域未加载")
    touching = np.flatnonzero(in_rule & areas.touching)
    if rule.test.inside_zone is not None:
        if len(touching):
            hits = [_area_hit(areas, int(i), site) for i in touching]
            return RuleResult(rule, "hit", hits=hits,
                              message="site lies in or touches " + ", ".join(h.name or h.key for h in hits))
        return RuleResult(rule, "clear", message="site lies outside " + ", ".join(test.zones))
    union = shapely.union_all(areas.frame.geometry.values[in_rule])
    if union.covers(site):
        return RuleResult(rule, "clear", message="site lies inside " + ", ".join(test.zones))
    return RuleResult(rule, "hit", message="site lies (partly) outside " + ", ".join(test.zones))


def _risk_result(rule: Rule, site: BaseGeometry, areas: AreaContext) -> RuleResult:
    assert rule.test.individual_risk is not None
    limit = rule.test.individual_risk.max_per_year
    contours = np.flatnonzero(areas.types == RISK_CONTOUR_TYPE)
    if not len(contours):
        return RuleResult(rule, "no_data", message="no contour loaded / 未加载个人风险等值线")
    hits = []
    for i in contours:
        level = _contour_level(areas.codes[i])
        if areas.touching[i] and level is not None and level >= limit:
            hits.append(_area_hit(areas, int(i), site))
    if hits:
        return RuleResult(rule, "hit", hits=hits,
                          message=f"site inside an individual-risk contour >= {limit:g}/yr")
    return RuleResult(rule, "clear", message=f"site outside every individual-risk contour >= {limit:g}/yr")


def coverage_state(rule_set: RuleSet, site: BaseGeometry, areas: AreaContext) -> tuple[bool, bool, list[str]]:
    """(inside the whole coverage, inside Beijing, notes) for ``site`` (``areas`` built for it).

    Covered means wholly covered: a site reaching beyond the coverage areas has no verdict
    (OUTSIDE_COVERAGE), never a PASS on the part that is inside.  Beijing's rules apply
    to a site that touches Beijing.
    """
    notes: list[str] = []
    jjj_loaded = areas.with_codes(rule_set.coverage.jjj)
    if not jjj_loaded.any():
        notes.append("coverage areas not loaded (riskmap reference load) / 未加载覆盖范围")
    covered = areas.covers(site, np.flatnonzero(jjj_loaded & areas.touching))
    in_beijing = bool((areas.with_codes(rule_set.coverage.beijing) & areas.touching).any())
    return covered, in_beijing, notes


def evaluate_site(
    rule_set: RuleSet,
    site: BaseGeometry,
    land_use: LandUse,
    *,
    layers: Mapping[str, HazardLayer],
    nearby: Mapping[str, tuple[np.ndarray, np.ndarray]],
    areas: AreaContext,
    search_m: Mapping[str, float] | None = None,
    name: str | None = None,
) -> Verdict:
    """The verdict for ``site`` (checked WGS-84 geometry) proposed for ``land_use``.

    ``layers``: hazard layers (rows and per-rule masks); ``nearby``: per layer, the
    row indices and distances in metres of the rows within the search distance;
    ``areas``: coverage/zone/contour areas and which the site touches.  Every rule of
    ``rule_set`` appears in the result: rules for other land uses as
    ``not_applicable``, Beijing rules outside Beijing as ``outside_region``.
    """
    covered, in_beijing, notes = coverage_state(rule_set, site, areas)
    applicable = rule_set.applicable_ids(land_use)
    results: list[RuleResult] = []
    for rule in rule_set.rules:
        if rule.id not in applicable:
            results.append(RuleResult(rule, "not_applicable", message=f"not for land use {land_use.code}"))
        elif not covered:
            results.append(RuleResult(rule, "outside_region", message="site (partly) outside the covered region"))
        elif rule.region == "beijing" and not in_beijing:
            results.append(RuleResult(rule, "outside_region", message="Beijing rule; site outside Beijing"))
        elif rule.test.measures_distance:
            assert rule.hazard is not None
            kind = rule.hazard.layer
            results.append(_distance_result(rule, site, layers.get(kind), nearby.get(kind),
                                            (search_m or {}).get(kind)))
        elif rule.test.individual_risk is not None:
            results.append(_risk_result(rule, site, areas))
        else:
            results.append(_zone_result(rule, site, areas))
    if not covered:
        code: VerdictCode = "OUTSIDE_COVERAGE"
        notes.append("site (partly) outside Beijing–Tianjin–Hebei coverage: no verdict / 超出京津冀覆盖范围")
    else:
        worst = max((_SEVERITY[r.rule.outcome] for r in results if r.hit), default=0)
        code = "VETO" if worst == 2 else "CONDITIONAL" if worst == 1 else "PASS"
    if any(r.status == "no_data" for r in results):
        notes.append("some rules had no data to test against (status no_data) / 部分规则缺少数据")
    results.sort(key=lambda r: (not r.hit, -_SEVERITY[r.rule.outcome] if r.hit else 0))
    return Verdict(code, land_use, rule_set.version, site, results, notes, name)


def evaluate_candidates(
    rule_set: RuleSet,
    site: BaseGeometry,
    land_use: LandUse,
    *,
    candidates: Mapping[str, gpd.GeoDataFrame],
    areas: gpd.GeoDataFrame,
    search_m: Mapping[str, float] | None = None,
    unloaded: Iterable[str] = (),
    name: str | None = None,
) -> Verdict:
    """:func:`evaluate_site` for one site from per-layer frames that already carry
    ``distance_m`` (as :meth:`geo.stores.protocol.Store.within_distance` returns them).
    ``unloaded``: layers with no data at all (their rules report ``no_data``)."""
    rules = rule_set.rules_for(land_use)
    gone = set(unloaded)
    layers = {kind: HazardLayer.build(kind, frame, rules, loaded=kind not in gone)
              for kind, frame in candidates.items()}
    for kind in gone - set(layers):
        layers[kind] = HazardLayer.build(kind, gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"), [], loaded=False)
    nearby = {kind: (np.arange(len(f)), f["distance_m"].to_numpy(dtype=float)) for kind, f in candidates.items()}
    return evaluate_site(rule_set, site, land_use, layers=layers, nearby=nearby,
                         areas=AreaContext.for_site(site, areas), search_m=search_m, name=name)


# --------------------------------------------------------------------------------------
# Search distances and batches
# --------------------------------------------------------------------------------------


def hazard_columns(kind: str, rules: Iterable[Rule]) -> tuple[str, ...]:
    """The columns of layer ``kind`` that evaluating ``rules`` reads (a query need read
    no others): what a hit reports, the rules' filters and attribute distances."""
    names = {c.name for c in get_entity(kind).all_columns}
    wanted: list[str] = ["key", "name", "synthetic", *_DETAIL_COLUMNS]
    for rule in rules:
        if rule.hazard is not None and rule.hazard.layer == kind:
            wanted.extend(rule.hazard.where)
            if rule.test.attribute_distance is not None:
                wanted.append(rule.test.attribute_distance.attribute)
    return tuple(n for n in dict.fromkeys(wanted) if n in names)


def layer_rules(rules: Iterable[Rule]) -> dict[str, list[Rule]]:
    """Distance rules grouped by the hazard layer they measure from."""
    out: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.hazard is not None:
            out.setdefault(rule.hazard.layer, []).append(rule)
    return out


def search_distances(rules: Iterable[Rule], attribute_max: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """Per hazard layer, the largest distance (metres) any of ``rules`` can require:
    fixed distances, and for attribute rules ``attribute_max[(layer, column)]``."""
    out: dict[str, float] = {}
    for kind, group in layer_rules(rules).items():
        best = 0.0
        for rule in group:
            if rule.test.min_distance is not None:
                best = max(best, rule.test.min_distance.metres)
            elif rule.test.attribute_distance is not None:
                best = max(best, attribute_max.get((kind, rule.test.attribute_distance.attribute), 0.0))
        out[kind] = best
    return out


def _sorted_nearby(keys: np.ndarray, idx: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((keys[idx], np.round(dist, 3)))
    return idx[order], dist[order]


def evaluate_many(
    rule_set: RuleSet,
    sites: Sequence[BaseGeometry],
    land_uses: Sequence[LandUse],
    *,
    hazards: Mapping[str, gpd.GeoDataFrame],
    areas: gpd.GeoDataFrame,
    unloaded: Iterable[str] = (),
    names: Sequence[str | None] | None = None,
) -> list[Verdict]:
    """Verdicts for many checked sites at once.

    ``hazards``: per layer, every row that can matter (e.g. read from the store in the
    batch's box widened by the largest search distance); ``areas``: coverage, zone and
    contour areas.  Candidates are found with one STRtree per layer and distances
    measured exactly as for a single site, so a batch and single queries agree.
    """
    all_rules = [r for r in rule_set.rules if r.hazard is not None]
    gone = set(unloaded)
    layers = {kind: HazardLayer.build(kind, frame, all_rules, loaded=kind not in gone)
              for kind, frame in hazards.items()}
    # per land use: rules and search distance per layer (attribute rules: the layer's own maximum)
    plans: dict[str, dict[str, float]] = {}
    for use in {u.code: u for u in land_uses}.values():
        rules = rule_set.rules_for(use)
        plans[use.code] = {kind: max((r.fixed_metres or layers[kind].max_required([r.id]))
                                     for r in group) for kind, group in layer_rules(rules).items() if kind in layers}
    site_arr = np.asarray(list(sites), dtype=object)
    nearby: list[dict[str, tuple[np.ndarray, np.ndarray]]] = [{} for _ in sites]
    search: list[dict[str, float]] = [plans[u.code] for u in land_uses]
    for kind, layer in layers.items():
        if not len(layer.frame):
            continue
        radius = np.array([search[i].get(kind, -1.0) for i in range(len(sites))])
        todo = np.flatnonzero(radius >= 0)
        if not len(todo):
            continue
        boxes = []
        for i in todo:
            minx, miny, maxx, maxy = site_arr[i].bounds
            lo, hi = degree_box(minx, miny, radius[i]), degree_box(maxx, maxy, radius[i])
            boxes.append(shapely.box(min(lo[0], hi[0]), min(lo[1], hi[1]), max(lo[2], hi[2]), max(lo[3], hi[3])))
        tree = shapely.STRtree(layer.frame.geometry.values)
        qi, hi_idx = tree.query(np.asarray(boxes, dtype=object))
        keys = layer.frame["key"].to_numpy(dtype=object)
        geoms = np.asarray(layer.frame.geometry.values, dtype=object)
        order = np.argsort(qi, kind="stable")
        qi, hi_idx = qi[order], hi_idx[order]
        bounds = np.searchsorted(qi, np.arange(len(todo) + 1))
        for j, i in enumerate(todo):
            cand = hi_idx[bounds[j]:bounds[j + 1]]
            if len(cand):
                # cheap lower bound first: a degree is at least MIN_METRES_PER_DEGREE * cos(lat) metres
                deg = shapely.distance(site_arr[i], geoms[cand])
                coslat = math.cos(math.radians(max(abs(site_arr[i].bounds[1]), abs(site_arr[i].bounds[3])) + 0.5))
                cand = cand[deg * MIN_METRES_PER_DEGREE * coslat * 0.99 <= radius[i] + 1.0]
            if not len(cand):
                nearby[i][kind] = (cand, np.zeros(0, float))
                continue
            dist = distances_m(site_arr[i], geoms[cand])
            keep = dist <= radius[i]
            nearby[i][kind] = _sorted_nearby(keys, cand[keep], dist[keep])
    area_base = AreaContext.for_areas(areas)
    areas = area_base.frame
    touching = np.zeros((len(sites), len(areas)), dtype=bool)
    if len(areas) and len(sites):
        si, ai = shapely.STRtree(site_arr).query(areas.geometry.values, predicate="intersects")
        touching[ai, si] = True
    verdicts = []
    for n, (site, use) in enumerate(zip(site_arr, land_uses, strict=True)):
        verdicts.append(evaluate_site(
            rule_set, site, use, layers=layers, nearby=nearby[n], areas=area_base.for_touching(touching[n]),
            search_m=search[n], name=names[n] if names is not None else None,
        ))
    return verdicts


def audit_rules(rule_set: RuleSet) -> list[Rule]:
    """Rules that can flag an *existing* protection target: distance and contour rules
    selected by protection class."""
    return [r for r in rule_set.rules if r.applies_to.protection_classes and r.test.kind in
            ("min_distance", "attribute_distance", "individual_risk")]


def existing_target_use(rule_set: RuleSet, target_type: str | None, sensitivity: str | None) -> LandUse | None:
    """The land use an existing protection target stands for: its type if the rule set
    knows it with the same class, else a stand-in carrying the target's class."""
    if sensitivity not in PROTECTION_CLASSES:
        return None
    if target_type:
        try:
            use = rule_set.land_use(target_type)
            if use.protection_class == sensitivity:
                return use
        except UnknownLandUseError:
            pass
    label = rule_set.protection_classes.get(sensitivity)  # type: ignore[call-overload]
    return LandUse(code=f"existing_{sensitivity}", zh=label.zh if label else sensitivity,
                   en=label.en if label else sensitivity, protection_class=sensitivity)  # type: ignore[arg-type]
