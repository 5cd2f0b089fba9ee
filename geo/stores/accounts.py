"""The store's part of accounts and the audit trail: users, API tokens, failed sign-ins and
the append-only audit log (:class:`AccountStore`, a part of :class:`geo.stores.protocol.Store`).

Both stores keep them in plain tables — PostGIS from migration 0005, the GeoPackage from
its own schema code — with the same answers: users ordered by name (byte order), tokens by
creation time then id, audit entries by id.  Times go in and come out as aware UTC
datetimes (to the microsecond).

The audit log is appended to only through :meth:`AccountStore.append_audit`, which numbers
and chains each entry (:func:`geo.audit_log.seal`) while holding the log's write lock
(PostGIS: a transaction-level advisory lock; GeoPackage: SQLite's write transaction), so
appends from many threads or processes make one chain.  Both stores refuse UPDATE and
DELETE on it with a trigger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from geo.accounts import UserRecord
from geo.audit_log import AuditDraft, AuditEntry, AuditQuery
from geo.credentials import LoginState, TokenRecord

#: The audit log's table (both stores).
AUDIT_TABLE = "riskmap_audit_log"
#: The PostgreSQL advisory-lock key appends take (any fixed 64-bit number; "riskaudt").
AUDIT_LOCK_KEY = 0x7269736B61756474


class AccountStore(Protocol):
    """Users, tokens, sign-in failures and the audit log (see the module docstring)."""

    def add_user(self, user: UserRecord) -> None:
        """Store a new user; :class:`geo.errors.Conflict` if the name is taken."""

    def update_user(self, user: UserRecord) -> None:
        """Replace the stored user of that name; :class:`geo.errors.NotFound` if there is none."""

    def get_user(self, name: str) -> UserRecord | None:
        """The user called ``name``, or None."""

    def list_users(self) -> list[UserRecord]:
        """Every user, ordered by name."""

    def get_login_state(self, name: str) -> LoginState:
        """``name``'s failed sign-ins in a row (a clear state when there are none)."""

    def change_login_state(self, name: str, change: Callable[[LoginState], LoginState]) -> LoginState:
        """Replace ``name``'s failed sign-in state by ``change(state)`` atomically (the name's
        row is locked meanwhile) and return the new state; a clear state is not kept."""

    def add_token(self, token: TokenRecord) -> None:
        """Store a new API token; :class:`geo.errors.Conflict` if the id is taken and
        :class:`geo.errors.NotFound` if its user does not exist."""

    def get_token(self, token_id: str) -> TokenRecord | None:
        """The token with id ``token_id``, or None (one primary-key lookup)."""

    def list_tokens(self, user: str | None = None) -> list[TokenRecord]:
        """Every token (of ``user``), ordered by creation time then id."""

    def update_token(self, token: TokenRecord) -> None:
        """Store a token's new ``last_used_at`` / ``revoked_at``; :class:`geo.errors.NotFound`
        if there is none."""

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Append ``draft`` (checked, :meth:`geo.audit_log.AuditDraft.checked`) as the next
        entry: numbered after the last, chained to its hash, stamped now unless ``at`` is given."""

    def read_audit(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries matching ``query``, ordered by id."""
