"""Users, roles and what a signed-in user may do (pure): the role file, region scopes, the
:class:`Principal` a request runs as, and the records the stores keep.

Roles are data (``data/roles.yaml``, :func:`parse_roles`): each names its permissions
(:data:`PERMISSIONS`, the names the web app's route declarations check), whether its users
must have a region scope, the catalog layers it may see and which of those are *scoped*
(enterprise-level rows filtered to the user's scope).  The layer ids are handed in by the
caller (``layers/catalog.py``): the core does not import the catalog.

A **scope** is a tuple of area codes (six digits, GB/T 2260): a district ``110105``, a city
``130600`` or a province ``120000``; a code ending in ``0000`` holds its province's codes, one
ending in ``00`` its city's.  An empty scope means everywhere.

Credentials (passwords, lock-out, API tokens) are in :mod:`geo.credentials`; the store
operations and the audit trail in :mod:`geo.capabilities.accounts`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from pydantic import Field, ValidationError

from geo.config_models import ConfigModel, config_problems
from geo.errors import BadInput

#: Every permission the app checks (the route declarations of the web app use these names).
PERMISSIONS: tuple[str, ...] = ("map.view", "incident.read", "veto.run", "veto.audit", "border.read", "export",
                                "audit_log.read", "users.manage")
#: In a role's ``layers``: every layer of the catalog.
ALL_LAYERS = "*"
#: A user name: lower-case ASCII letter first, then letters, digits, ``_ . -``; 2–32 characters.
USER_NAME = re.compile(r"[a-z][a-z0-9_.-]{1,31}")
#: An area code of a scope (GB/T 2260 administrative division code).
AREA_CODE = re.compile(r"\d{6}")
#: Longest display name, in characters.
MAX_DISPLAY_NAME = 64


class RoleFileError(BadInput):
    """The role file does not validate; the message lists every problem, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("roles: " + "; ".join(problems))

    def details(self) -> dict[str, Any]:
        return {"problems": self.problems}


# -- the role file ---------------------------------------------------------------------


class Words(ConfigModel):
    """A thing's name or description in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class RoleSpec(ConfigModel):
    """One role as written in the file."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    permissions: list[str]
    requires_scope: bool = False
    layers: list[str] = Field(min_length=1)
    scoped_layers: list[str] = Field(default_factory=list)


class RoleFile(ConfigModel):
    """The whole role file."""

    version: str = Field(min_length=1)
    permissions: dict[str, Words]
    roles: dict[str, RoleSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Role:
    """A role as the app uses it: names, permissions, scope rule and visible layers."""

    name: str
    zh: str
    en: str
    permissions: frozenset[str]
    requires_scope: bool
    layers: frozenset[str]
    scoped_layers: frozenset[str]

    def covers(self, other: Role) -> bool:
        """True when ``other`` grants nothing this role does not: its permissions and layers
        are among this role's, and a layer scoped here is scoped there too (a token's role
        must be covered by its user's)."""
        return (other.permissions <= self.permissions and other.layers <= self.layers
                and (self.scoped_layers & other.layers) <= other.scoped_layers)


@dataclass(frozen=True)
class RoleBook:
    """The roles of one role file, by name, and the permissions' words."""

    version: str
    permissions: Mapping[str, Words]
    roles: Mapping[str, Role]

    def role(self, name: str) -> Role:
        """The role called ``name``; :class:`BadInput` naming the known ones otherwise."""
        try:
            return self.roles[name]
        except KeyError:
            raise BadInput(f"unknown role {name!r}; one of: {', '.join(self.roles)}") from None


def parse_roles(text: str, *, layers: Collection[str]) -> RoleBook:
    """The role file ``text`` (YAML) checked against :data:`PERMISSIONS` and the catalog's
    layer ids ``layers``.

    Raises :class:`RoleFileError` listing every problem: a malformed file, a missing or
    unknown permission, a role naming an unknown permission or layer, a scoped layer the
    role cannot see.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoleFileError([f"not valid YAML: {exc}".splitlines()[0]]) from None
    try:
        spec = RoleFile.model_validate(data)
    except ValidationError as exc:
        raise RoleFileError(config_problems(exc)) from None
    problems = _permission_problems(spec)
    roles: dict[str, Role] = {}
    for name, role in spec.roles.items():
        problems += _role_problems(name, role, spec, set(layers))
        visible = set(layers) if ALL_LAYERS in role.layers else set(role.layers)
        roles[name] = Role(name, role.zh, role.en, frozenset(role.permissions), role.requires_scope,
                           frozenset(visible), frozenset(role.scoped_layers))
    if problems:
        raise RoleFileError(problems)
    return RoleBook(spec.version, dict(spec.permissions), roles)


def _permission_problems(spec: RoleFile) -> list[str]:
    missing = [p for p in PERMISSIONS if p not in spec.permissions]
    unknown = [p for p in spec.permissions if p not in PERMISSIONS]
    return ([f"permissions: {p!r} missing (the app checks it)" for p in missing]
            + [f"permissions.{p}: unknown permission; known: {', '.join(PERMISSIONS)}" for p in unknown])


def _role_problems(name: str, role: RoleSpec, spec: RoleFile, layers: set[str]) -> list[str]:
    problems = [f"roles.{name}.permissions: unknown permission {p!r}" for p in role.permissions
                if p not in spec.permissions]
    for field in ("layers", "scoped_layers"):
        problems += [f"roles.{name}.{field}: unknown layer {layer!r}" for layer in getattr(role, field)
                     if layer not in layers and not (field == "layers" and layer == ALL_LAYERS)]
    if ALL_LAYERS not in role.layers:
        problems += [f"roles.{name}.scoped_layers: {layer!r} is not among the role's layers"
                     for layer in role.scoped_layers if layer in layers and layer not in role.layers]
    if not USER_NAME.fullmatch(name):
        problems.append(f"roles.{name}: a role name is lower-case ASCII (letters, digits, _ . -)")
    return problems


# -- scopes ----------------------------------------------------------------------------


def check_scope(codes: Iterable[str]) -> tuple[str, ...]:
    """``codes`` as a scope: stripped, unique, sorted; :class:`BadInput` naming a code that is
    not six digits."""
    out: set[str] = set()
    for code in codes:
        code = str(code).strip()
        if not AREA_CODE.fullmatch(code):
            raise BadInput(f"scope: {code!r} is not an area code (six digits: 110105, 120000)")
        out.add(code)
    return tuple(sorted(out))


def area_within(code: str, outer: str) -> bool:
    """True when area ``code`` lies in area ``outer`` (a province ``xx0000`` holds its codes,
    a city ``xxxx00`` its own)."""
    if outer.endswith("0000"):
        return code[:2] == outer[:2]
    if outer.endswith("00"):
        return code[:4] == outer[:4]
    return code == outer


def scope_within(inner: Collection[str], outer: Collection[str]) -> bool:
    """True when scope ``inner`` lies inside scope ``outer`` (empty = everywhere)."""
    if not outer:
        return True
    return bool(inner) and all(any(area_within(code, o) for o in outer) for code in inner)


def check_role_scope(role: Role, scope: tuple[str, ...]) -> None:
    """:class:`BadInput` when a role that requires a scope is given none."""
    if role.requires_scope and not scope:
        raise BadInput(f"role {role.name!r} ({role.zh}) requires a scope: give the area codes (e.g. 110105)")


# -- records and principals ------------------------------------------------------------


def check_user_name(name: str) -> str:
    """``name`` if it is a valid user name (:data:`USER_NAME`); :class:`BadInput` naming it otherwise."""
    if not USER_NAME.fullmatch(name):
        raise BadInput(f"user name {name!r}: 2-32 characters, a lower-case ASCII letter first, then letters, "
                       "digits, _ . -")
    return name


def check_display_name(text: str) -> str:
    """A display name: stripped, 1–:data:`MAX_DISPLAY_NAME` characters, no control characters."""
    text = text.strip()
    if not 0 < len(text) <= MAX_DISPLAY_NAME or any(ord(c) < 32 for c in text):
        raise BadInput(f"display name {text!r}: 1-{MAX_DISPLAY_NAME} characters, no control characters")
    return text


@dataclass(frozen=True)
class UserRecord:
    """A user as stored: the argon2 hash of the password, never the password."""

    name: str
    display_name: str
    role: str
    scope: tuple[str, ...]
    password_hash: str
    disabled: bool
    created_at: datetime  # UTC
    updated_at: datetime  # UTC


@dataclass(frozen=True)
class Principal:
    """Who a request or a command runs as, and what it may do.

    ``scope``: area codes (empty = everywhere); ``visible_layers``: catalog layer ids it may
    see; ``scoped_layers``: those of them whose rows are filtered to ``scope`` (only when
    ``scope`` is not empty); ``token_id``: the API token it came with, or None for a session.
    """

    name: str
    display_name: str
    role: str
    permissions: frozenset[str]
    scope: tuple[str, ...]
    visible_layers: frozenset[str]
    scoped_layers: frozenset[str]
    token_id: str | None = None

    @classmethod
    def of(cls, user: UserRecord, role: Role, *, scope: tuple[str, ...] | None = None,
           token_id: str | None = None) -> Principal:
        """The principal of ``user`` acting with ``role`` and ``scope`` (default the user's)."""
        return cls(user.name, user.display_name, role.name, role.permissions,
                   user.scope if scope is None else scope, role.layers, role.scoped_layers, token_id)

    def can(self, permission: str) -> bool:
        """True when the principal holds ``permission`` (one of :data:`PERMISSIONS`)."""
        return permission in self.permissions

    def sees(self, layer_id: str) -> bool:
        """True when the principal may see the catalog layer ``layer_id`` at all."""
        return layer_id in self.visible_layers

    def filters(self, layer_id: str) -> bool:
        """True when the layer's rows must be filtered to :attr:`scope` for this principal."""
        return bool(self.scope) and layer_id in self.scoped_layers

    @property
    def actor(self) -> str:
        """The audit log's "who": the user name, ``name/token:<id>`` for an API token."""
        return self.name if self.token_id is None else f"{self.name}/token:{self.token_id}"
