"""Credentials (pure): password hashing, the lock-out after repeated failures, API tokens.

**Passwords** are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's
low-memory profile: 3 passes over 64 MiB, 4 lanes; about 50 ms a hash) and checked with
:func:`verify_password`; :func:`needs_rehash` tells when a stored hash was made with older
parameters.  For an unknown user the same work is done against a dummy hash
(:func:`verify_unknown`), so the answer takes as long as for a wrong password.

**Lock-out** (:class:`LockoutPolicy`): after ``k`` failures in a row (``k`` < 5) the next
attempt is refused for ``2**(k-1)`` seconds (1, 2, 4, 8 s: back-off); the 5th failure
locks the name for 15 minutes counted from that failure, during which every attempt,
even with the right password, is refused without checking it.  When the lock has run out
the count starts again from zero; a success clears it.  Counts are kept in the store per
name, for unknown names too (a lock says nothing about whether the user exists).

**API tokens** look like ``rmt_<id>_<secret>``: a 12-hex-digit id (the store's primary
key: verification is one lookup) and 32 random bytes (URL-safe base64).  Only the SHA-256
of the whole token is stored.  A fast hash is enough here, unlike for passwords: the
token carries 256 bits of randomness, so no dictionary or brute-force search of the hash
can find it, and argon2 on every API request would cost 50 ms for nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geo.errors import BadInput, TooManyRequests, Unauthenticated

#: Shortest and longest password accepted, in characters.
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
#: What every token starts with (so a leaked one is recognisable by secret scanners).
TOKEN_PREFIX = "rmt_"
_TOKEN = re.compile(r"rmt_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")

HASHER = PasswordHasher()


class AuthenticationFailed(Unauthenticated):
    """A name and password that do not sign in (HTTP 401); the message never says which was wrong."""

    def __init__(self, message: str = "用户名或密码错误 / wrong user name or password") -> None:
        super().__init__(message)


class AccountLocked(TooManyRequests, AuthenticationFailed):
    """Too many failures: attempts are refused until ``until`` (UTC) — HTTP 429 with
    ``Retry-After`` (still an :class:`AuthenticationFailed` for callers that catch that)."""

    def __init__(self, until: datetime, *, now: datetime) -> None:
        self.until = until
        self.retry_after_s = max(1, int((until - now).total_seconds() + 0.999))
        super().__init__(f"尝试过多，请于 {self.retry_after_s} 秒后再试 / too many failed sign-ins: "
                         f"try again in {self.retry_after_s} s")

    def details(self) -> dict[str, object]:
        return {"retry_after_s": self.retry_after_s}


# -- passwords -------------------------------------------------------------------------


def check_password(password: str) -> str:
    """``password`` if acceptable: :data:`MIN_PASSWORD_LENGTH`–:data:`MAX_PASSWORD_LENGTH`
    characters, not only white space; :class:`BadInput` saying which rule it breaks (never
    showing it)."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise BadInput(f"password: {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters "
                       f"(got {len(password)})")
    if not password.strip():
        raise BadInput("password: must not be only white space")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of an acceptable ``password`` (:func:`check_password`)."""
    return HASHER.hash(check_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for a mismatch or a hash that
    is not an argon2 hash (a disabled marker, a damaged row)."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def verify_unknown(password: str) -> bool:
    """The work of :func:`verify_password` for a user that does not exist; always False."""
    verify_password(_dummy_hash(), password)
    return False


def needs_rehash(password_hash: str) -> bool:
    """True when ``password_hash`` was made with other parameters than :data:`HASHER`'s."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def new_password() -> str:
    """A random password: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


# -- lock-out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginState:
    """Failed sign-ins of one name in a row: how many, the last one, and the lock (UTC)."""

    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None

    @property
    def clear(self) -> bool:
        return self.failures == 0 and self.locked_until is None


@dataclass(frozen=True)
class LockoutPolicy:
    """Back-off and lock-out after failed sign-ins (see the module docstring)."""

    max_failures: int = 5
    lock: timedelta = timedelta(minutes=15)
    backoff_base_s: float = 1.0

    def current(self, state: LoginState, now: datetime) -> LoginState:
        """``state`` as of ``now``: a lock that has run out starts the count again."""
        if state.locked_until is not None and now >= state.locked_until:
            return LoginState()
        return state

    def refused_until(self, state: LoginState, now: datetime) -> datetime | None:
        """Until when an attempt at ``now`` is refused without checking the password, or None."""
        state = self.current(state, now)
        if state.locked_until is not None:
            return state.locked_until
        if state.failures and state.last_failure_at is not None:
            wait = state.last_failure_at + timedelta(seconds=self.backoff_base_s * 2 ** (state.failures - 1))
            if now < wait:
                return wait
        return None

    def after_failure(self, state: LoginState, now: datetime) -> LoginState:
        """The state after a failed attempt at ``now``: one more failure; the
        ``max_failures``-th locks the name for ``lock``."""
        state = self.current(state, now)
        failures = state.failures + 1
        locked = now + self.lock if failures >= self.max_failures else None
        return replace(state, failures=failures, last_failure_at=now, locked_until=locked)


#: The platform's policy: 5 failures lock a name for 15 minutes.
LOCKOUT = LockoutPolicy()


# -- API tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored: its id, the SHA-256 of the secret, never the secret.

    ``role`` and ``scope`` are what the token may do (at most its user's); ``expires_at``
    None never expires.  Times are UTC.
    """

    token_id: str
    name: str
    user: str
    role: str
    scope: tuple[str, ...]
    secret_sha256: str
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """``revoked``, ``expired`` (at ``expires_at`` exactly and after) or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


def new_token(token_id: str | None = None) -> tuple[str, str]:
    """A fresh ``(token id, secret)``; the secret is ``rmt_<id>_<43 characters>``."""
    token_id = token_id or secrets.token_hex(6)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def token_id_of(secret: str) -> str | None:
    """The id inside a well-formed token, None for anything else."""
    found = _TOKEN.fullmatch(secret.strip())
    return found.group(1) if found else None


def token_digest(secret: str) -> str:
    """The stored form of a token: SHA-256 hex of the whole token."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


def token_matches(record: TokenRecord, secret: str) -> bool:
    """True when ``secret`` is the token ``record`` was made for (compared in constant time)."""
    return hmac.compare_digest(record.secret_sha256, token_digest(secret))
