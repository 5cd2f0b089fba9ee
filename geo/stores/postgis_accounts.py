"""The PostGIS store's accounts and audit log (:class:`geo.stores.accounts.AccountStore`), a
part of :class:`geo.stores.postgis.PostGISStore`; tables of migration 0005
(:data:`geo.stores.schema.accounts_metadata`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from geo.accounts import UserRecord
from geo.audit_log import GENESIS, AuditDraft, AuditEntry, AuditQuery, canonical_json, seal
from geo.credentials import LoginState, TokenRecord
from geo.errors import Conflict, NotFound
from geo.stores.accounts import AUDIT_LOCK_KEY
from geo.stores.schema import api_tokens, audit_log, login_failures, users


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def _user_values(user: UserRecord) -> dict[str, Any]:
    return {"name": user.name, "display_name": user.display_name, "role": user.role, "scope": list(user.scope),
            "password_hash": user.password_hash, "disabled": user.disabled, "created_at": user.created_at,
            "updated_at": user.updated_at}


def _user(row: Row[Any]) -> UserRecord:
    return UserRecord(row.name, row.display_name, row.role, tuple(row.scope), row.password_hash, row.disabled,
                      row.created_at.astimezone(UTC), row.updated_at.astimezone(UTC))


def _token(row: Row[Any]) -> TokenRecord:
    return TokenRecord(row.token_id, row.name, row.user_name, row.role, tuple(row.scope), row.secret_sha256,
                       row.created_at.astimezone(UTC), _utc(row.expires_at), _utc(row.last_used_at),
                       _utc(row.revoked_at))


def _login_state(row: Row[Any]) -> LoginState:
    return LoginState(row.failures, _utc(row.last_failure_at), _utc(row.locked_until))


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(row.id, row.at.astimezone(UTC), row.actor, row.remote, row.action, row.target,
                      json.loads(row.details), row.outcome, row.prev_hash, row.hash)


def _audit_filters(query: AuditQuery) -> list[ColumnElement[bool]]:
    c = audit_log.c
    clauses: list[ColumnElement[bool]] = [c.id > query.after_id]
    if query.since is not None:
        clauses.append(c.at >= query.since)
    if query.until is not None:
        clauses.append(c.at < query.until)
    if query.user is not None:  # the user's own entries and its tokens' ("name/token:<id>")
        clauses.append(or_(c.actor == query.user, func.left(c.actor, len(query.user) + 1) == query.user + "/"))
    if query.action is not None:
        clauses.append(c.action == query.action)
    return clauses


class PostGISAccounts:
    """Accounts and the audit log on PostGIS; writes through ``engine``, reads through ``_reader``."""

    engine: Engine
    _reader: Engine

    # -- users ---------------------------------------------------------------------------

    def add_user(self, user: UserRecord) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(_user_values(user)))
        except IntegrityError:
            raise Conflict(f"user {user.name!r} exists already") from None

    def update_user(self, user: UserRecord) -> None:
        values = _user_values(user)
        values.pop("created_at")
        with self.engine.begin() as conn:
            if not conn.execute(update(users).where(users.c.name == user.name).values(values)).rowcount:
                raise NotFound(f"no user {user.name!r}")

    def get_user(self, name: str) -> UserRecord | None:
        with self._reader.connect() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else _user(row)

    def list_users(self) -> list[UserRecord]:
        with self._reader.connect() as conn:
            return [_user(row) for row in conn.execute(select(users).order_by(users.c.name))]

    def get_login_state(self, name: str) -> LoginState:
        with self._reader.connect() as conn:
            row = conn.execute(select(login_failures).where(login_failures.c.name == name)).first()
        return LoginState() if row is None else _login_state(row)

    def change_login_state(self, name: str, change: Callable[[LoginState], LoginState]) -> LoginState:
        f = login_failures.c
        with self.engine.begin() as conn:
            conn.execute(pg_insert(login_failures).values(name=name, failures=0).on_conflict_do_nothing())
            row = conn.execute(select(login_failures).where(f.name == name).with_for_update()).one()
            new = change(_login_state(row))
            if new.clear:
                conn.execute(delete(login_failures).where(f.name == name))
            else:
                conn.execute(update(login_failures).where(f.name == name).values(
                    failures=new.failures, last_failure_at=new.last_failure_at, locked_until=new.locked_until))
        return new

    # -- tokens --------------------------------------------------------------------------

    def add_token(self, token: TokenRecord) -> None:
        values = {"token_id": token.token_id, "name": token.name, "user_name": token.user, "role": token.role,
                  "scope": list(token.scope), "secret_sha256": token.secret_sha256, "created_at": token.created_at,
                  "expires_at": token.expires_at, "last_used_at": token.last_used_at,
                  "revoked_at": token.revoked_at}
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(users.c.name).where(users.c.name == token.user)).first() is None:
                    raise NotFound(f"no user {token.user!r}")
                conn.execute(insert(api_tokens).values(values))
        except IntegrityError:
            raise Conflict(f"token id {token.token_id!r} exists already") from None

    def get_token(self, token_id: str) -> TokenRecord | None:
        with self._reader.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).first()
        return None if row is None else _token(row)

    def list_tokens(self, user: str | None = None) -> list[TokenRecord]:
        t = api_tokens.c
        stmt = select(api_tokens).order_by(t.created_at, t.token_id)
        if user is not None:
            stmt = stmt.where(t.user_name == user)
        with self._reader.connect() as conn:
            return [_token(row) for row in conn.execute(stmt)]

    def update_token(self, token: TokenRecord) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(update(api_tokens).where(api_tokens.c.token_id == token.token_id).values(
                last_used_at=token.last_used_at, revoked_at=token.revoked_at)).rowcount
        if not changed:
            raise NotFound(f"no token {token.token_id!r}")

    # -- the audit log -------------------------------------------------------------------

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        draft = draft.checked()
        c = audit_log.c
        with self.engine.begin() as conn:
            # One appender at a time, whichever process: the chain stays one line.
            conn.execute(select(func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
            last = conn.execute(select(c.id, c.hash).order_by(c.id.desc()).limit(1)).first()
            entry = seal(draft, entry_id=(last.id if last else 0) + 1, prev_hash=last.hash if last else GENESIS,
                         at=draft.at or datetime.now(UTC))
            self._insert_entry(conn, entry)
        return entry

    @staticmethod
    def _insert_entry(conn: Connection, entry: AuditEntry) -> None:
        row = entry.as_dict()
        row["at"] = entry.at
        row["details"] = canonical_json(entry.details)
        conn.execute(insert(audit_log).values(row))

    def read_audit(self, query: AuditQuery) -> list[AuditEntry]:
        stmt = select(audit_log).where(*_audit_filters(query)).order_by(audit_log.c.id)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        with self._reader.connect() as conn:
            return [_entry(row) for row in conn.execute(stmt)]
