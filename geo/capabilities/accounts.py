"""Accounts: users, sign-in, API tokens — each change and each sign-in written to the audit log.

The API the web app and the CLI use (``store``: the context's store; ``roles``: the
:class:`geo.accounts.RoleBook` of :func:`read_roles`; ``actor``/``remote``: who makes a
change and from where, as in :mod:`geo.capabilities.audit_log`)::

    read_roles(path, layers=catalog_layer_ids, cache=ctx.cache) -> RoleBook
    authenticate(store, name, password, roles=, remote=) -> Principal  # or AuthenticationFailed, AccountLocked
    principal_for_user(store, name, roles=) -> Principal | None       # a session's user, read again
    principal_for_token(store, secret, roles=) -> Principal | None    # "Authorization: Bearer <secret>"
    logout(store, principal, remote=)
    add_user / set_password / set_disabled / set_role / list_users / get_user
    create_token(...) -> (TokenRecord, secret)   # the secret exists only in this answer
    list_tokens / revoke_token
    ensure_user(store, roles, name=, role=, scope=, actor=) -> password   # demo, web tests, benchmarks

A :class:`geo.accounts.Principal` carries the user's name, display name, role,
permissions, scope (area codes; empty = everywhere), visible and scoped catalog layers,
and the token id when it came with a token.  Sign-in failures count towards the lock-out
of :mod:`geo.credentials` (5 in a row: 15 minutes), kept in the store.  Errors:
:class:`AuthenticationFailed` (``Unauthenticated``: 401) and :class:`AccountLocked`
(``TooManyRequests``: 429, ``retry_after_s`` in the details), ``BadInput`` for a malformed
name, password, role or scope,
``NotFound`` for an unknown user or token, ``Conflict`` for a name that is taken.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from geo.accounts import (
    Principal,
    Role,
    RoleBook,
    UserRecord,
    check_display_name,
    check_role_scope,
    check_scope,
    check_user_name,
    parse_roles,
    scope_within,
)
from geo.audit_log import utc_text
from geo.capabilities.audit_log import ANONYMOUS, append
from geo.capabilities.cache import Cache, cached, file_stamp
from geo.credentials import (
    LOCKOUT,
    AccountLocked,
    AuthenticationFailed,
    LockoutPolicy,
    LoginState,
    TokenRecord,
    hash_password,
    needs_rehash,
    new_password,
    new_token,
    token_digest,
    token_id_of,
    token_matches,
    verify_password,
    verify_unknown,
)
from geo.errors import BadInput, Conflict, NotFound
from geo.stores.protocol import Store

#: A token's ``last_used_at`` is written again only when older than this: not a write per request.
TOUCH_EVERY = timedelta(seconds=60)
#: Longest token name, in characters.
MAX_TOKEN_NAME = 64
#: Tries at a fresh token id when one is taken (ids are 48 random bits: a clash is rare).
TOKEN_ID_TRIES = 3


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def read_roles(path: Path, *, layers: Collection[str], cache: Cache | None = None) -> RoleBook:
    """The role file at ``path`` (the app's is ``DataPaths.roles_path``) checked against the
    catalog's layer ids ``layers``; with ``cache``, parsed again only when the file changes.
    Raises FileNotFoundError or :class:`geo.accounts.RoleFileError`."""
    path = Path(path)
    ids = tuple(sorted(layers))
    return cached(cache, "accounts.roles", {}, (file_stamp(path), ids),
                  lambda: parse_roles(path.read_text(encoding="utf-8"), layers=ids))


# -- users -----------------------------------------------------------------------------


def get_user(store: Store, name: str) -> UserRecord:
    """The user called ``name``; :class:`NotFound` naming it otherwise."""
    user = store.get_user(name)
    if user is None:
        raise NotFound(f"no user {name!r}")
    return user


def list_users(store: Store) -> list[UserRecord]:
    """Every user, ordered by name."""
    return store.list_users()


def _checked_role(roles: RoleBook, role: str, scope: Iterable[str]) -> tuple[Role, tuple[str, ...]]:
    checked = check_scope(scope)
    found = roles.role(role)
    check_role_scope(found, checked)
    return found, checked


def add_user(store: Store, roles: RoleBook, *, name: str, role: str, password: str, display_name: str | None = None,
             scope: Iterable[str] = (), actor: str, remote: str = "cli", now: datetime | None = None) -> UserRecord:
    """Create a user with an argon2 hash of ``password``; audited as ``user_add``.

    :class:`BadInput` for a malformed name, display name or password, an unknown role or
    a scope the role does not accept; :class:`Conflict` when the name is taken.
    """
    at = _now(now)
    found, checked = _checked_role(roles, role, scope)
    user = UserRecord(check_user_name(name), check_display_name(display_name or name), found.name, checked,
                      hash_password(password), False, at, at)
    store.add_user(user)
    append(store, actor, "user_add", target=name, remote=remote, at=at,
           details={"role": found.name, "scope": list(checked), "display_name": user.display_name})
    return user


def set_password(store: Store, name: str, password: str, *, actor: str, remote: str = "cli",
                 now: datetime | None = None) -> UserRecord:
    """Give ``name`` a new password (and clear its failed sign-ins); audited as ``user_passwd``."""
    at = _now(now)
    user = replace(get_user(store, name), password_hash=hash_password(password), updated_at=at)
    store.update_user(user)
    store.change_login_state(name, lambda _: LoginState())
    append(store, actor, "user_passwd", target=name, remote=remote, at=at)
    return user


def set_disabled(store: Store, name: str, disabled: bool, *, actor: str, remote: str = "cli",
                 now: datetime | None = None) -> UserRecord:
    """Disable (no sign-in, no token works) or enable a user; audited as ``user_disable`` / ``user_enable``."""
    at = _now(now)
    user = replace(get_user(store, name), disabled=disabled, updated_at=at)
    store.update_user(user)
    append(store, actor, "user_disable" if disabled else "user_enable", target=name, remote=remote, at=at)
    return user


def set_role(store: Store, roles: RoleBook, name: str, role: str, *, scope: Iterable[str] | None = None,
             actor: str, remote: str = "cli", now: datetime | None = None) -> UserRecord:
    """Give a user another role (and scope; None keeps the user's); audited as ``user_role``.
    The user's tokens whose role or scope is now beyond the user's stop working."""
    at = _now(now)
    old = get_user(store, name)
    found, checked = _checked_role(roles, role, old.scope if scope is None else scope)
    user = replace(old, role=found.name, scope=checked, updated_at=at)
    store.update_user(user)
    append(store, actor, "user_role", target=name, remote=remote, at=at,
           details={"role": found.name, "scope": list(checked), "was": {"role": old.role, "scope": list(old.scope)}})
    return user


def ensure_user(store: Store, roles: RoleBook, *, name: str, role: str, scope: Iterable[str] = (),
                display_name: str | None = None, actor: str, remote: str = "cli") -> str:
    """Make sure ``name`` exists, enabled, with ``role`` and ``scope`` and a fresh random
    password, and return that password (shown once; only its hash is kept).  For the demo's
    accounts, web tests and benchmarks: running it again resets the password."""
    password = new_password()
    if store.get_user(name) is None:
        add_user(store, roles, name=name, role=role, password=password, display_name=display_name, scope=scope,
                 actor=actor, remote=remote)
        return password
    set_role(store, roles, name, role, scope=scope, actor=actor, remote=remote)
    if get_user(store, name).disabled:
        set_disabled(store, name, False, actor=actor, remote=remote)
    set_password(store, name, password, actor=actor, remote=remote)
    return password


# -- signing in --------------------------------------------------------------------------


def _principal(user: UserRecord, roles: RoleBook) -> Principal:
    role = roles.roles.get(user.role)
    if role is None:
        raise Conflict(f"user {user.name!r} has role {user.role!r}, which the role file no longer defines")
    return Principal.of(user, role)


def authenticate(store: Store, name: str, password: str, *, roles: RoleBook, remote: str,
                 policy: LockoutPolicy = LOCKOUT, now: datetime | None = None) -> Principal:
    """The principal of ``name`` signed in with ``password``; audited as ``login`` or ``login_failed``.

    Raises :class:`AccountLocked` (``retry_after_s``) while the name is locked or backing
    off — without checking the password — and :class:`AuthenticationFailed` for an unknown
    name, a wrong password or a disabled user, with the same message and the same argon2
    work for an unknown name as for a wrong password.  A success clears the failures and
    re-hashes a password hashed with older parameters.
    """
    at = _now(now)
    name = name.strip()
    counted = check_name_quietly(name)
    state = store.get_login_state(name) if counted else LoginState()
    refused = policy.refused_until(state, at)
    if refused is not None:
        append(store, ANONYMOUS, "login_failed", target=name, outcome="refused", remote=remote, at=at,
               details={"reason": "locked" if state.failures >= policy.max_failures else "backoff"})
        raise AccountLocked(refused, now=at)
    user = store.get_user(name) if counted else None
    ok = verify_password(user.password_hash, password) if user is not None else verify_unknown(password)
    if user is None or not ok:
        _failed(store, name, counted, policy, at, remote)
    if user.disabled:
        append(store, ANONYMOUS, "login_failed", target=name, outcome="denied", remote=remote, at=at,
               details={"reason": "disabled"})
        raise AuthenticationFailed("账号已停用 / this account is disabled")
    principal = _principal(user, roles)
    if not state.clear:
        store.change_login_state(name, lambda _: LoginState())
    if needs_rehash(user.password_hash):
        store.update_user(replace(user, password_hash=hash_password(password), updated_at=at))
    append(store, principal.actor, "login", target=name, remote=remote, at=at, details={"role": principal.role})
    return principal


def check_name_quietly(name: str) -> bool:
    """True when ``name`` could be a user name (so its failures are counted)."""
    try:
        check_user_name(name)
    except BadInput:
        return False
    return True


def _failed(store: Store, name: str, counted: bool, policy: LockoutPolicy, at: datetime, remote: str) -> NoReturn:
    """Count a failed sign-in, audit it, and raise."""
    state = store.change_login_state(name, lambda s: policy.after_failure(s, at)) if counted else LoginState()
    locked = state.locked_until is not None
    append(store, ANONYMOUS, "login_failed", target=name, outcome="denied", remote=remote, at=at,
           details={"reason": "password", "failures": state.failures, "locked": locked})
    if state.locked_until is not None:
        raise AccountLocked(state.locked_until, now=at)
    raise AuthenticationFailed()


def principal_for_user(store: Store, name: str, *, roles: RoleBook) -> Principal | None:
    """The principal of a signed-in session's user, read again (None once the user is gone or
    disabled, so a session ends with the account)."""
    user = store.get_user(name)
    if user is None or user.disabled or user.role not in roles.roles:
        return None
    return _principal(user, roles)


def logout(store: Store, principal: Principal, *, remote: str, now: datetime | None = None) -> None:
    """Record the end of ``principal``'s session (``logout``)."""
    append(store, principal.actor, "logout", target=principal.name, remote=remote, at=_now(now))


# -- API tokens ------------------------------------------------------------------------


def create_token(store: Store, roles: RoleBook, *, user: str, name: str, role: str | None = None,
                 scope: Iterable[str] | None = None, expires_at: datetime | None = None, actor: str,
                 remote: str = "cli", now: datetime | None = None,
                 token_ids: Iterable[str] = ()) -> tuple[TokenRecord, str]:
    """A new API token of ``user``: its record and its secret (shown once; only its SHA-256 is
    kept); audited as ``token_create``.

    ``role`` (default the user's) must be covered by the user's role and ``scope`` (default
    the user's) lie within the user's; ``expires_at`` (UTC) must be in the future.
    ``token_ids``: ids to try first (tests); a taken id is replaced by a fresh random one.
    """
    at = _now(now)
    owner = get_user(store, user)
    token_role, token_scope = _token_grant(roles, owner, role, scope)
    name = name.strip()
    if not 0 < len(name) <= MAX_TOKEN_NAME:
        raise BadInput(f"token name: 1-{MAX_TOKEN_NAME} characters")
    if expires_at is not None and expires_at.astimezone(UTC) <= at:
        raise BadInput(f"token expiry {expires_at.isoformat()} is not in the future")
    wanted = list(token_ids)
    for attempt in range(TOKEN_ID_TRIES):
        token_id, secret = new_token(wanted[attempt] if attempt < len(wanted) else None)
        record = TokenRecord(token_id, name, owner.name, token_role.name, token_scope, token_digest(secret), at,
                             None if expires_at is None else expires_at.astimezone(UTC))
        try:
            store.add_token(record)
        except Conflict:
            continue
        append(store, actor, "token_create", target=token_id, remote=remote, at=at,
               details={"user": owner.name, "name": name, "role": token_role.name, "scope": list(token_scope),
                        "expires_at": utc_text(record.expires_at) if record.expires_at else None})
        return record, secret
    raise Conflict(f"no free token id after {TOKEN_ID_TRIES} tries")


def _token_grant(roles: RoleBook, owner: UserRecord, role: str | None,
                 scope: Iterable[str] | None) -> tuple[Role, tuple[str, ...]]:
    """The role and scope a token of ``owner`` asks for, checked to be within the owner's."""
    owner_role = roles.role(owner.role)
    token_role = roles.role(role) if role is not None else owner_role
    if not owner_role.covers(token_role):
        raise BadInput(f"role {token_role.name!r} grants more than {owner.name!r}'s role {owner_role.name!r}")
    token_scope = owner.scope if scope is None else check_scope(scope)
    if not scope_within(token_scope, owner.scope):
        raise BadInput(f"scope {', '.join(token_scope) or '(everywhere)'} is not within {owner.name!r}'s scope "
                       f"{', '.join(owner.scope)}")
    check_role_scope(token_role, token_scope)
    return token_role, token_scope


def list_tokens(store: Store, user: str | None = None) -> list[TokenRecord]:
    """Every token (of ``user``), oldest first; secrets are not kept, so none is shown."""
    return store.list_tokens(user)


def revoke_token(store: Store, token_id: str, *, actor: str, remote: str = "cli",
                 now: datetime | None = None) -> TokenRecord:
    """Revoke a token (it stops working at once; revoking it again changes nothing); audited
    as ``token_revoke``.  :class:`NotFound` for an unknown id."""
    at = _now(now)
    token = store.get_token(token_id)
    if token is None:
        raise NotFound(f"no token {token_id!r}")
    if token.revoked_at is not None:
        return token
    token = replace(token, revoked_at=at)
    store.update_token(token)
    append(store, actor, "token_revoke", target=token_id, remote=remote, at=at, details={"user": token.user})
    return token


def principal_for_token(store: Store, secret: str, *, roles: RoleBook, now: datetime | None = None) -> Principal | None:
    """The principal an ``Authorization: Bearer`` token stands for, or None when it is
    malformed, unknown, wrong, revoked, expired (at ``expires_at`` exactly), its user gone or
    disabled, or its role or scope now beyond its user's.  One lookup by the token's id; its
    ``last_used_at`` is kept unless the store is read-only."""
    at = _now(now)
    token_id = token_id_of(secret)
    token = store.get_token(token_id) if token_id is not None else None
    if token is None or not token_matches(token, secret) or token.state(at) != "active":
        return None
    user = store.get_user(token.user)
    if user is None or user.disabled:
        return None
    owner_role, token_role = roles.roles.get(user.role), roles.roles.get(token.role)
    if owner_role is None or token_role is None or not owner_role.covers(token_role) \
            or not scope_within(token.scope, user.scope):
        return None
    if not store.read_only and (token.last_used_at is None or at - token.last_used_at >= TOUCH_EVERY):
        store.update_token(replace(token, last_used_at=at))
    return Principal.of(user, token_role, scope=token.scope, token_id=token.token_id)
