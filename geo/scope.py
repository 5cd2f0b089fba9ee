"""Region scope (pure): which enterprise-level rows a principal may receive.

A principal (:class:`geo.accounts.Principal`) may be limited to areas: district codes
(``110105`` 朝阳区), city codes (``131000`` 廊坊市, ending ``00``) or province codes
(``130000`` 河北省, ending ``0000``).  Every read that returns enterprise-level rows
then returns only the rows in those areas; this module turns the principal's codes and
the role's scoped layers into the row filters the stores apply (a ``where``).

**Which area a row is in** is its stored jurisdiction codes (``province_code``,
``city_code``, ``county_code``, :data:`geo.entities.COMMON_COLUMNS`): the loader takes
them from the district the bureau's file names for the row and, where the row names none
(or one the reference does not know), from the district its point lies in
(:func:`geo.etl.placement.assign_codes`).  District codes filter ``county_code``, city
codes ``city_code``, province codes ``province_code``; a scope mixing levels is the OR of
the three (the stores' :data:`ANY_OF` form).  **A row without the code a scope names is
outside that scope** (fail closed): the loader gives every row it accepts its codes, so
only a row written some other way can lack them, and no scoped principal receives it.

**Which rows are scoped** is the role's business (``data/roles.yaml``): its
``scoped_layers`` are catalog layers whose rows are filtered.  A read of a whole entity
(an incident report, a search, the statistics) filters entity ``kind`` when

1. one of its layers is scoped for the role — then the rows of the role's other visible,
   unscoped layers of that kind stay visible (a district officer's fire stations), and rows
   in no such layer are filtered (a resource type no layer shows);
2. else, when none of its layers is visible to the role and the kind is enterprise-level
   (:data:`ENTERPRISE_KINDS`: units have no layer at all) — filtered, with no exceptions.

Reference geography, protection targets and area-risk results are never filtered by
kind (a role may still scope one of their layers on the map).  A principal without area
codes, or whose role scopes no layer, has no :class:`Scope`: ``None`` everywhere means
"every row", as before sign-in.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from geo.accounts import Principal, check_scope

#: A ``where`` key that is not a column: its value is a list of filters (column → value
#: or list), and a row must match at least one of them (SQL ``OR`` of ``AND``s); the
#: other keys of the ``where`` still apply (``AND``).  Both stores understand it
#: (:mod:`geo.stores.protocol`); a filter inside it may not hold another.
ANY_OF = "any_of"

#: Entity kinds whose rows are enterprise-level: filtered for a scoped principal who sees
#: none of their layers (units have none).
ENTERPRISE_KINDS: tuple[str, ...] = ("units", "risk_sources", "hazchem_sites", "hidden_hazards", "resources")

#: The code columns a scope filters, by the level of the area code.
CODE_COLUMNS = {"county": "county_code", "city": "city_code", "province": "province_code"}

Filter = Mapping[str, Any]


def code_level(code: str) -> str:
    """``province`` for ``xx0000``, ``city`` for ``xxxx00``, else ``county`` (a six-digit code)."""
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


@dataclass(frozen=True)
class AreaScope:
    """Area codes by level, none inside another: a row is in scope when its ``county_code``
    is one of :attr:`counties`, its ``city_code`` one of :attr:`cities` or its
    ``province_code`` one of :attr:`provinces`."""

    counties: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()

    @classmethod
    def of(cls, codes: Iterable[str]) -> AreaScope:
        """The scope of ``codes`` (six-digit area codes; :class:`geo.errors.BadInput` for
        another); a code inside another one given (110105 with 110000) is dropped.
        Raises ValueError for no codes: an empty scope means everywhere, not nowhere."""
        checked = check_scope(codes)
        if not checked:
            raise ValueError("an area scope needs at least one code (no codes: no scope at all)")
        by_level: dict[str, list[str]] = {"county": [], "city": [], "province": []}
        for code in checked:
            level = code_level(code)
            if level != "province" and code[:2] + "0000" in checked:
                continue
            if level == "county" and code[:4] + "00" in checked:
                continue
            by_level[level].append(code)
        return cls(tuple(by_level["county"]), tuple(by_level["city"]), tuple(by_level["province"]))

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """Every code, sorted: the scope's identity in cache keys and ETags (asked for by every
        tile request, so computed once)."""
        return tuple(sorted((*self.counties, *self.cities, *self.provinces)))

    def alternatives(self) -> list[dict[str, list[str]]]:
        """One filter per level present (``{"county_code": [...]}`` …); a row in scope matches one."""
        levels = (("county", self.counties), ("city", self.cities), ("province", self.provinces))
        return [{CODE_COLUMNS[level]: list(codes)} for level, codes in levels if codes]

    def contains(self, *, county: str | None = None, city: str | None = None, province: str | None = None) -> bool:
        """True when a row with these codes is in scope (a missing code matches nothing)."""
        return (county in self.counties if county else False) or (city in self.cities if city else False) \
            or (province in self.provinces if province else False)

    def holds_area(self, code: str) -> bool:
        """True when the area ``code`` (a district ``110105``; a non-numeric one such as
        ``110100-ETDA`` by its first six characters' city and province) lies inside the scope."""
        return (code in self.counties or code[:4] + "00" in self.cities or code[:2] + "0000" in self.provinces)


def and_filter(where: Filter | None, alternatives: Sequence[Filter]) -> dict[str, Any]:
    """``where`` AND (any of ``alternatives``), as one ``where`` the stores take.

    A single alternative whose columns ``where`` does not name is merged in (a plain
    filter, which the stores' cluster counts and tile queries key on as before); otherwise
    the alternatives go under :data:`ANY_OF`.  ValueError when ``where`` already has an
    ``ANY_OF`` (an AND of two ORs is not a form the stores take).
    """
    out = dict(where or {})
    if ANY_OF in out:
        raise ValueError(f"where already has {ANY_OF!r}: cannot AND another")
    if len(alternatives) == 1 and not set(alternatives[0]) & set(out):
        return {**out, **alternatives[0]}
    return {**out, ANY_OF: [dict(a) for a in alternatives]}


def is_scoped_where(where: Filter | None) -> bool:
    """True when ``where`` holds a region scope's filter (an area-code column or
    :data:`ANY_OF`): a filter of one principal's scope rather than of a catalog layer (the
    stores recount a scope's kept cluster cells when its tiles are next asked for, not
    within every load)."""
    return bool(where) and any(k == ANY_OF or k in CODE_COLUMNS.values() for k in where or {})


@dataclass(frozen=True)
class LayerRows:
    """A catalog layer as a scope sees it: its id, entity kind and row filter."""

    id: str
    kind: str
    where: Filter


@dataclass(frozen=True)
class KindRule:
    """How a scoped entity kind is filtered: in :attr:`Scope.areas`, or matching one of
    ``exempt`` (the filters of the role's visible, unscoped layers of the kind)."""

    exempt: tuple[Filter, ...] = ()

    def identity(self) -> Hashable:
        """A hashable form (cache keys)."""
        return tuple(tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v) for k, v in f.items()))
                     for f in self.exempt)


@dataclass(frozen=True)
class Scope:
    """What a scoped principal may receive: rows in :attr:`areas` of the scoped layers
    (:attr:`layers`) and of the scoped kinds (:attr:`kinds`).  Build with :func:`scope_of`."""

    areas: AreaScope
    layers: frozenset[str]
    kinds: Mapping[str, KindRule]

    def filters_layer(self, layer_id: str) -> bool:
        """True when the catalog layer's rows are filtered."""
        return layer_id in self.layers

    def filters_kind(self, kind: str) -> bool:
        """True when a read of the whole entity ``kind`` is filtered."""
        return kind in self.kinds

    def layer_where(self, layer_id: str, where: Filter | None) -> dict[str, Any]:
        """The filter of a read of layer ``layer_id`` whose own filter is ``where``."""
        if layer_id not in self.layers:
            return dict(where or {})
        return and_filter(where, self.areas.alternatives())

    def kind_where(self, kind: str, where: Filter | None = None) -> dict[str, Any]:
        """The filter of a read of entity ``kind`` (``where``: the read's own filter)."""
        rule = self.kinds.get(kind)
        if rule is None:
            return dict(where or {})
        return and_filter(where, [*self.areas.alternatives(), *rule.exempt])

    def layer_key(self, layer_id: str) -> tuple[str, ...]:
        """What the answers for layer ``layer_id`` depend on: the area codes when it is
        filtered, else nothing (every principal shares the answer)."""
        return self.areas.codes if layer_id in self.layers else ()

    def kind_key(self, kinds: Iterable[str]) -> Hashable:
        """What an answer read from ``kinds`` depends on: the codes and the filtered kinds'
        rules, or ``()`` when none of ``kinds`` is filtered (every principal shares it)."""
        rules = tuple((k, self.kinds[k].identity()) for k in sorted(set(kinds)) if k in self.kinds)
        return (self.areas.codes, rules) if rules else ()


def scope_of(principal: Principal | None, layers: Iterable[LayerRows]) -> Scope | None:
    """The scope of ``principal`` over the catalog ``layers``; None when it has no area
    codes, scopes no layer, or is None (every row)."""
    if principal is None or not principal.scope or not principal.scoped_layers:
        return None
    layers = list(layers)
    scoped = frozenset(layer.id for layer in layers if principal.filters(layer.id))
    kinds: dict[str, KindRule] = {}
    for kind in dict.fromkeys([*(layer.kind for layer in layers), *ENTERPRISE_KINDS]):
        own = [layer for layer in layers if layer.kind == kind]
        visible = [layer for layer in own if principal.sees(layer.id)]
        if any(layer.id in scoped for layer in own):
            exempt = tuple(dict(layer.where) for layer in visible if layer.id not in scoped)
            if any(not f for f in exempt):  # an unscoped layer shows every row of the kind
                continue
            kinds[kind] = KindRule(exempt)
        elif not visible and kind in ENTERPRISE_KINDS:
            kinds[kind] = KindRule()
    return Scope(AreaScope.of(principal.scope), scoped, kinds)


def scoped_where(scope: Scope | None, kind: str, where: Filter | None = None) -> dict[str, Any] | None:
    """:meth:`Scope.kind_where`, or ``where`` itself without a scope (None for no filter)."""
    if scope is None:
        return dict(where) if where else None
    return scope.kind_where(kind, where) or None


def scoped_layer_where(scope: Scope | None, layer_id: str, where: Filter | None) -> dict[str, Any]:
    """:meth:`Scope.layer_where`, or ``where`` itself without a scope."""
    return dict(where or {}) if scope is None else scope.layer_where(layer_id, where)


def scope_key(scope: Scope | None, kinds: Iterable[str]) -> Hashable:
    """:meth:`Scope.kind_key`, or ``()`` without a scope."""
    return () if scope is None else scope.kind_key(kinds)


def layer_scope_key(scope: Scope | None, layer_id: str) -> tuple[str, ...]:
    """:meth:`Scope.layer_key`, or ``()`` without a scope."""
    return () if scope is None else scope.layer_key(layer_id)
