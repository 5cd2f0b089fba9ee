"""The GeoPackage store's accounts and audit log (:class:`geo.stores.accounts.AccountStore`),
a part of :class:`geo.stores.geopackage.GeoPackageStore`.

Plain SQLite tables beside the layers (:data:`ACCOUNT_DDL`, created by ``init_schema``);
times as fixed-width UTC text (:func:`geo.audit_log.utc_text`, so they sort as times),
scopes as JSON lists.  Every write is one ``BEGIN IMMEDIATE`` transaction: SQLite's single
writer is what serialises audit appends.  Triggers refuse UPDATE and DELETE on the audit
log (anyone holding the file can drop them; the hash chain then shows the change).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from geo.accounts import UserRecord
from geo.audit_log import GENESIS, AuditDraft, AuditEntry, AuditQuery, canonical_json, seal, utc_text
from geo.credentials import LoginState, TokenRecord
from geo.errors import Conflict, NotFound

ACCOUNT_DDL = (
    "CREATE TABLE IF NOT EXISTS riskmap_users (name TEXT PRIMARY KEY, display_name TEXT NOT NULL,"
    " role TEXT NOT NULL, scope TEXT NOT NULL, password_hash TEXT NOT NULL, disabled INTEGER NOT NULL,"
    " created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS riskmap_api_tokens (token_id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " user_name TEXT NOT NULL REFERENCES riskmap_users (name), role TEXT NOT NULL, scope TEXT NOT NULL,"
    " secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT, last_used_at TEXT, revoked_at TEXT)",
    "CREATE INDEX IF NOT EXISTS ix_riskmap_api_tokens_user_name ON riskmap_api_tokens (user_name)",
    "CREATE TABLE IF NOT EXISTS riskmap_login_failures (name TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
    " last_failure_at TEXT, locked_until TEXT)",
    "CREATE TABLE IF NOT EXISTS riskmap_audit_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
    " remote TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, details TEXT NOT NULL,"
    " outcome TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    *(f"CREATE INDEX IF NOT EXISTS ix_riskmap_audit_log_{c} ON riskmap_audit_log ({c})"
      for c in ("at", "actor", "action")),
    *(f"CREATE TRIGGER IF NOT EXISTS riskmap_audit_log_no_{op.lower()} BEFORE {op} ON riskmap_audit_log"
      f" BEGIN SELECT RAISE(ABORT, 'riskmap_audit_log is append-only: {op} refused'); END"
      for op in ("UPDATE", "DELETE")),
)

_USER_COLUMNS = "name, display_name, role, scope, password_hash, disabled, created_at, updated_at"
_TOKEN_COLUMNS = ("token_id, name, user_name, role, scope, secret_sha256, created_at, expires_at, last_used_at,"
                  " revoked_at")
_AUDIT_COLUMNS = "id, at, actor, remote, action, target, details, outcome, prev_hash, hash"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


def _scope(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _user_row(user: UserRecord) -> tuple[Any, ...]:
    return (user.name, user.display_name, user.role, json.dumps(list(user.scope)), user.password_hash,
            int(user.disabled), utc_text(user.created_at), utc_text(user.updated_at))


def _user(row: tuple[Any, ...]) -> UserRecord:
    name, display, role, scope, password_hash, disabled, created, updated = row
    return UserRecord(name, display, role, _scope(scope), password_hash, bool(disabled), _time(created),
                      _time(updated))


def _token(row: tuple[Any, ...]) -> TokenRecord:
    token_id, name, user, role, scope, digest, created, expires, used, revoked = row
    return TokenRecord(token_id, name, user, role, _scope(scope), digest, _time(created), _maybe_time(expires),
                       _maybe_time(used), _maybe_time(revoked))


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    entry_id, at, actor, remote, action, target, details, outcome, prev_hash, digest = row
    return AuditEntry(entry_id, _time(at), actor, remote, action, target, json.loads(details), outcome,
                      prev_hash, digest)


def _login_state(con: sqlite3.Connection, name: str) -> LoginState:
    row = con.execute("SELECT failures, last_failure_at, locked_until FROM riskmap_login_failures WHERE name = ?",
                      (name,)).fetchone()
    return LoginState(row[0], _maybe_time(row[1]), _maybe_time(row[2])) if row else LoginState()


def _audit_where(query: AuditQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = ["id > ?"]
    params: list[Any] = [query.after_id]
    if query.since is not None:
        clauses.append("at >= ?")
        params.append(utc_text(query.since))
    if query.until is not None:
        clauses.append("at < ?")
        params.append(utc_text(query.until))
    if query.user is not None:  # the user's own entries and its tokens' ("name/token:<id>")
        clauses.append("(actor = ? OR substr(actor, 1, ?) = ?)")
        params += [query.user, len(query.user) + 1, query.user + "/"]
    if query.action is not None:
        clauses.append("action = ?")
        params.append(query.action)
    return " AND ".join(clauses), params


class GeoPackageAccounts:
    """Accounts and the audit log in the GeoPackage file; ``_connect`` opens a connection."""

    _connect: Callable[[], sqlite3.Connection]
    _read_connection: Callable[[], sqlite3.Connection]

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection in a write transaction, committed at the end, rolled back on error."""
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # -- users ---------------------------------------------------------------------------

    def add_user(self, user: UserRecord) -> None:
        try:
            with self._writing() as con:
                con.execute(f"INSERT INTO riskmap_users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            _user_row(user))
        except sqlite3.IntegrityError:
            raise Conflict(f"user {user.name!r} exists already") from None

    def update_user(self, user: UserRecord) -> None:
        name, display, role, scope, password_hash, disabled, _, updated = _user_row(user)
        with self._writing() as con:
            changed = con.execute("UPDATE riskmap_users SET display_name = ?, role = ?, scope = ?, password_hash = ?,"
                                  " disabled = ?, updated_at = ? WHERE name = ?",
                                  (display, role, scope, password_hash, disabled, updated, name)).rowcount
            if not changed:
                raise NotFound(f"no user {user.name!r}")

    def get_user(self, name: str) -> UserRecord | None:
        row = self._read_connection().execute(f"SELECT {_USER_COLUMNS} FROM riskmap_users WHERE name = ?",
                                              (name,)).fetchone()
        return None if row is None else _user(row)

    def list_users(self) -> list[UserRecord]:
        rows = self._read_connection().execute(f"SELECT {_USER_COLUMNS} FROM riskmap_users ORDER BY name").fetchall()
        return [_user(row) for row in rows]

    def get_login_state(self, name: str) -> LoginState:
        return _login_state(self._read_connection(), name)

    def change_login_state(self, name: str, change: Callable[[LoginState], LoginState]) -> LoginState:
        with self._writing() as con:
            new = change(_login_state(con, name))
            if new.clear:
                con.execute("DELETE FROM riskmap_login_failures WHERE name = ?", (name,))
            else:
                con.execute("INSERT OR REPLACE INTO riskmap_login_failures VALUES (?, ?, ?, ?)",
                            (name, new.failures, _text(new.last_failure_at), _text(new.locked_until)))
        return new

    # -- tokens --------------------------------------------------------------------------

    def add_token(self, token: TokenRecord) -> None:
        row = (token.token_id, token.name, token.user, token.role, json.dumps(list(token.scope)),
               token.secret_sha256, utc_text(token.created_at), _text(token.expires_at), _text(token.last_used_at),
               _text(token.revoked_at))
        try:
            with self._writing() as con:
                if con.execute("SELECT 1 FROM riskmap_users WHERE name = ?", (token.user,)).fetchone() is None:
                    raise NotFound(f"no user {token.user!r}")
                con.execute(f"INSERT INTO riskmap_api_tokens ({_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            row)
        except sqlite3.IntegrityError:
            raise Conflict(f"token id {token.token_id!r} exists already") from None

    def get_token(self, token_id: str) -> TokenRecord | None:
        row = self._read_connection().execute(f"SELECT {_TOKEN_COLUMNS} FROM riskmap_api_tokens WHERE token_id = ?",
                                              (token_id,)).fetchone()
        return None if row is None else _token(row)

    def list_tokens(self, user: str | None = None) -> list[TokenRecord]:
        where, params = ("WHERE user_name = ?", [user]) if user is not None else ("", [])
        rows = self._read_connection().execute(
            f"SELECT {_TOKEN_COLUMNS} FROM riskmap_api_tokens {where} ORDER BY created_at, token_id", params).fetchall()
        return [_token(row) for row in rows]

    def update_token(self, token: TokenRecord) -> None:
        with self._writing() as con:
            changed = con.execute("UPDATE riskmap_api_tokens SET last_used_at = ?, revoked_at = ? WHERE token_id = ?",
                                  (_text(token.last_used_at), _text(token.revoked_at), token.token_id)).rowcount
            if not changed:
                raise NotFound(f"no token {token.token_id!r}")

    # -- the audit log -------------------------------------------------------------------

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        draft = draft.checked()
        with self._writing() as con:  # BEGIN IMMEDIATE: the one writer until COMMIT
            last = con.execute("SELECT id, hash FROM riskmap_audit_log ORDER BY id DESC LIMIT 1").fetchone()
            entry = seal(draft, entry_id=(last[0] if last else 0) + 1, prev_hash=last[1] if last else GENESIS,
                         at=draft.at or datetime.now(UTC))
            con.execute(f"INSERT INTO riskmap_audit_log ({_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (entry.id, utc_text(entry.at), entry.actor, entry.remote, entry.action, entry.target,
                         canonical_json(entry.details), entry.outcome, entry.prev_hash, entry.hash))
        return entry

    def read_audit(self, query: AuditQuery) -> list[AuditEntry]:
        where, params = _audit_where(query)
        limit = "" if query.limit is None else f" LIMIT {int(query.limit)}"
        rows = self._read_connection().execute(
            f"SELECT {_AUDIT_COLUMNS} FROM riskmap_audit_log WHERE {where} ORDER BY id{limit}", params).fetchall()
        return [_entry(row) for row in rows]
