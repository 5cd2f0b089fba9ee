"""Passwords (argon2), the lock-out and API tokens: geo.credentials, limits at the limit and one step either side."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from geo.credentials import (
    HASHER,
    LOCKOUT,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountLocked,
    AuthenticationFailed,
    LoginState,
    TokenRecord,
    check_password,
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
from geo.errors import BadInput, TooManyRequests, Unauthenticated

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_hash_verify_and_rehash() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "correct horsE")
    assert not verify_password("not a hash", "correct horse") and not verify_password("", "x")
    assert hash_password("correct horse") != hashed  # salted
    assert not needs_rehash(hashed)
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse")
    assert verify_password(weaker, "correct horse") and needs_rehash(weaker) and needs_rehash("garbage")
    assert HASHER.type.name == "ID"
    assert not verify_unknown("anything at all")
    assert len(new_password()) == 16 and new_password() != new_password()


@pytest.mark.parametrize(("length", "ok"), [
    (MIN_PASSWORD_LENGTH - 1, False), (MIN_PASSWORD_LENGTH, True), (MIN_PASSWORD_LENGTH + 1, True),
    (MAX_PASSWORD_LENGTH - 1, True), (MAX_PASSWORD_LENGTH, True), (MAX_PASSWORD_LENGTH + 1, False),
])
def test_password_length_at_the_limits(length: int, ok: bool) -> None:
    password = "密" * length
    if ok:
        assert check_password(password) == password
    else:
        with pytest.raises(BadInput, match=f"got {length}") as caught:
            check_password(password)
        assert "密" not in str(caught.value)  # never shown


def test_blank_passwords_are_refused_and_long_ones_never_hashed() -> None:
    with pytest.raises(BadInput, match="white space"):
        check_password(" " * 12)
    assert not verify_password(hash_password("x" * MAX_PASSWORD_LENGTH), "x" * (MAX_PASSWORD_LENGTH + 1))


def fail(times: int, *, start: datetime = T0) -> tuple[LoginState, datetime]:
    """``times`` failures, each as soon as the back-off allows; the state and the last failure's time."""
    state, at = LoginState(), start
    for _ in range(times):
        at = LOCKOUT.refused_until(state, at) or at
        state = LOCKOUT.after_failure(state, at)
    return state, at


def test_fourth_failure_backs_off_and_the_fifth_locks() -> None:
    four, at4 = fail(4)
    assert four.failures == 4 and four.locked_until is None
    # back-off after 4 failures: 2**3 = 8 s, at the limit and one second either side
    assert LOCKOUT.refused_until(four, at4 + 7 * S) == at4 + 8 * S
    assert LOCKOUT.refused_until(four, at4 + 8 * S) is None
    assert LOCKOUT.refused_until(four, at4 + 9 * S) is None
    five, at5 = fail(5)
    assert five.failures == 5 and five.locked_until == at5 + timedelta(minutes=15)
    # the 6th attempt is refused whatever the password (the caller does not even check it)
    assert LOCKOUT.refused_until(five, at5 + S) == at5 + timedelta(minutes=15)


@pytest.mark.parametrize(("after", "locked"), [
    (timedelta(minutes=14, seconds=59), True), (timedelta(minutes=15), False),
    (timedelta(minutes=15, seconds=1), False),
])
def test_lock_lasts_fifteen_minutes_to_the_second(after: timedelta, locked: bool) -> None:
    five, at5 = fail(5)
    assert (LOCKOUT.refused_until(five, at5 + after) is not None) is locked
    if not locked:  # after the lock the count starts again: one more failure is the first
        assert LOCKOUT.after_failure(five, at5 + after).failures == 1


@pytest.mark.parametrize(("failures", "wait_s"), [(1, 1), (2, 2), (3, 4), (4, 8)])
def test_backoff_doubles(failures: int, wait_s: int) -> None:
    state, at = fail(failures)
    assert LOCKOUT.refused_until(state, at + (wait_s - 1) * S) == at + wait_s * S
    assert LOCKOUT.refused_until(state, at + wait_s * S) is None


def test_account_locked_says_when_to_retry() -> None:
    error = AccountLocked(T0 + timedelta(minutes=15), now=T0 + 0.5 * S)
    assert error.retry_after_s == 900 and error.details() == {"retry_after_s": 900}
    assert AccountLocked(T0 + S, now=T0 + S).retry_after_s == 1  # never "retry in 0 s"
    assert isinstance(error, TooManyRequests) and isinstance(error, AuthenticationFailed)  # 429, and still a failure
    assert isinstance(AuthenticationFailed(), Unauthenticated)  # 401


def token(secret: str, **kw: object) -> TokenRecord:
    token_id = token_id_of(secret)
    assert token_id is not None
    return TokenRecord(token_id, "script", "zhao", "viewer", (), token_digest(secret), T0, **kw)  # type: ignore[arg-type]


def test_token_format_and_matching() -> None:
    token_id, secret = new_token()
    assert len(token_id) == 12 and secret.startswith(f"rmt_{token_id}_") and len(secret) == 4 + 12 + 1 + 43
    assert token_id_of(secret) == token_id and token_id_of(f"  {secret}\n") == token_id
    for bad in ("", "rmt_", secret[:-1], secret + "x", secret.replace("rmt_", "rmx_"), "Bearer " + secret):
        assert token_id_of(bad) is None
    record = token(secret)
    other_last = "A" if secret[-1] != "A" else "B"
    assert token_matches(record, secret) and not token_matches(record, secret[:-1] + other_last)
    assert record.secret_sha256 != secret and len(record.secret_sha256) == 64


def test_tokens_sharing_an_id_prefix_are_told_apart() -> None:
    """Lookup is by the whole id, and the secret must match: a token whose id starts like
    another's, or another token's secret behind the same id, is no match."""
    _, first = new_token("abcdef012345")
    _, second = new_token("abcdef012346")
    _, forged = new_token("abcdef012345")  # same id, other secret
    assert token_id_of(first) != token_id_of(second)
    assert not token_matches(token(first), forged) and not token_matches(token(first), second)


@pytest.mark.parametrize(("now", "state"), [
    (T0 + timedelta(days=1) - S, "active"), (T0 + timedelta(days=1), "expired"),
    (T0 + timedelta(days=1) + S, "expired"),
])
def test_token_expires_at_the_second(now: datetime, state: str) -> None:
    _, secret = new_token()
    assert token(secret, expires_at=T0 + timedelta(days=1)).state(now) == state


def test_revoked_tokens_and_tokens_without_expiry() -> None:
    _, secret = new_token()
    assert token(secret).state(T0 + timedelta(days=3650)) == "active"
    assert token(secret, revoked_at=T0).state(T0) == "revoked"
