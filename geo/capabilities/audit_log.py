"""The audit trail: append, read, export and verify the store's hash-chained audit log.

API (used by the CLI and the web app alike)::

    append(store, actor, action, *, target="", details=None, outcome="ok", remote="cli") -> AuditEntry
    read_log(store, AuditQuery(since=, until=, user=, action=, limit=)) -> list[AuditEntry]
    verify(store) -> ChainCheck        # .broken is None, or the first broken entry (id, time, what differs)
    log_export(entries, fmt) -> bytes  # csv / xlsx / json

``actor`` is :attr:`geo.accounts.Principal.actor` for a signed-in user or a token,
:data:`ANONYMOUS` for an anonymous request and :func:`cli_actor` (``cli:<os user>``) for a
command; ``remote`` the client's address, or ``"cli"``.  What an action's details hold is
built here too, so the CLI and the web app record the same things: :func:`veto_details`,
:func:`batch_details`, :func:`conflicts_details`, :func:`load_details`,
:func:`export_details`.  The rules of the chain are in :mod:`geo.audit_log`.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo.audit_log import AuditDraft, AuditEntry, AuditQuery, ChainCheck, canonical_json, utc_text
from geo.errors import BadInput
from geo.files.exports import write_csv, write_xlsx
from geo.stores.protocol import Store

if TYPE_CHECKING:
    from geo.capabilities.loading import LoadReport
    from geo.capabilities.veto import AuditResult, BatchResult, DataStamp
    from geo.veto import Verdict

#: The actor of a request nobody signed in for.
ANONYMOUS = "anonymous"
#: Entries read per round trip while verifying.
VERIFY_PAGE = 5000
#: Formats of :func:`log_export`.
LOG_FORMATS: tuple[str, ...] = ("csv", "xlsx", "json")


def cli_actor() -> str:
    """``cli:<os user>``: who runs a command (the login name, or the uid when there is none)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return f"cli:uid{os.getuid()}"


def append(store: Store, actor: str, action: str, *, target: str = "", details: Mapping[str, Any] | None = None,
           outcome: str = "ok", remote: str = "cli", at: datetime | None = None) -> AuditEntry:
    """Append one entry to the store's audit log (stamped now, UTC, unless ``at`` is given).

    Raises :class:`BadInput` for a malformed action, an unknown outcome (:data:`geo.audit_log.OUTCOMES`)
    or details JSON cannot hold.
    """
    return store.append_audit(AuditDraft(actor, action, target, dict(details or {}), outcome, remote, at))


def record_file_version(store: Store, action: str, path: Path, *, actor: str, remote: str = "cli") -> AuditEntry | None:
    """Append ``action`` (``rules_change``, ``config_change``) with the file's path and SHA-256
    when its content differs from the last one recorded for that path (or none was); None
    when it is unchanged.  Rule and configuration files are edited by hand: this is how their
    changes reach the log, the first time the app or a command reads them afterwards."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    where = str(Path(path).resolve())
    last = next((e for e in reversed(store.read_audit(AuditQuery(action=action))) if e.details.get("path") == where),
                None)
    if last is not None and last.details.get("sha256") == digest:
        return None
    previous = last.details.get("sha256") if last is not None else None
    return append(store, actor, action, target=Path(path).name, remote=remote,
                  details={"path": where, "sha256": digest, "previous_sha256": previous})


def read_log(store: Store, query: AuditQuery | None = None) -> list[AuditEntry]:
    """The entries matching ``query`` (default: all), oldest first."""
    return store.read_audit(query or AuditQuery())


def verify(store: Store, *, page: int = VERIFY_PAGE) -> ChainCheck:
    """Recompute the whole chain, ``page`` entries a round trip; the result names the first
    broken entry (:attr:`ChainCheck.broken`), counts the good ones and keeps the last hash."""
    check = ChainCheck()
    while True:
        entries = store.read_audit(AuditQuery(after_id=check.last_id, limit=page))
        for entry in entries:
            if not check.feed(entry):
                return check
        if len(entries) < page:
            return check


def log_table(entries: Iterable[AuditEntry]) -> pd.DataFrame:
    """The entries as a table, one row each: id, time (UTC), actor, remote, action, target,
    outcome, details (JSON text), prev_hash, hash."""
    columns = ["id", "at", "actor", "remote", "action", "target", "outcome", "details", "prev_hash", "hash"]
    rows = [{**e.as_dict(), "details": canonical_json(e.details)} for e in entries]
    return pd.DataFrame(rows, columns=columns)


def log_export(entries: Sequence[AuditEntry], fmt: str, *, query: AuditQuery | None = None) -> bytes:
    """The entries as a file: ``csv`` (UTF-8 with BOM), ``xlsx`` (a sheet and the filter in
    ``说明 about``) or ``json`` (a list of entries); :class:`BadInput` naming another format."""
    key = fmt.lower()
    if key not in LOG_FORMATS:
        raise BadInput(f"unknown audit-log format {fmt!r}; one of: {', '.join(LOG_FORMATS)}")
    if key == "json":
        return json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=1).encode()
    table = log_table(entries)
    if key == "csv":
        return write_csv(table)
    return write_xlsx({"审计日志 audit log": table}, meta=_query_meta(query or AuditQuery(), len(entries)))


def _query_meta(query: AuditQuery, count: int) -> dict[str, Any]:
    return {"since (UTC)": utc_text(query.since) if query.since else "", "until (UTC)":
            utc_text(query.until) if query.until else "", "user": query.user or "", "action": query.action or "",
            "entries": count}


# -- what each action records ------------------------------------------------------------


def _stamp(stamp: DataStamp) -> dict[str, Any]:
    return {"data_versions": dict(stamp.versions), "evaluated_at": stamp.evaluated_at}


def veto_details(verdict: Verdict, stamp: DataStamp) -> dict[str, Any]:
    """One site's veto: the land use, the site's bounds, the verdict, the rules hit, the rule
    set and data versions."""
    minx, miny, maxx, maxy = verdict.site.bounds
    return {"land_use": verdict.land_use.code, "name": verdict.name, "site_bounds": [minx, miny, maxx, maxy],
            "verdict": verdict.verdict, "rules_hit": [r.rule.id for r in verdict.hits],
            "rule_set_version": verdict.rule_set_version, **_stamp(stamp)}


def batch_details(result: BatchResult, *, source: str, land_use_column: str | None = None) -> dict[str, Any]:
    """A batch veto: the input (``source``: file name), parcel count, verdict counts, the
    rule set and data versions."""
    return {"source": source, "land_use_column": land_use_column, "parcels": len(result.parcels),
            "verdicts": result.counts(), "rule_set_version": result.rule_set_version, **_stamp(result.stamp)}


def conflicts_details(result: AuditResult, *, district: str | None) -> dict[str, Any]:
    """A check of existing conflicts: the district asked for, targets checked, conflicts found,
    the rule set and data versions."""
    return {"district": district, "targets_checked": result.targets_checked, "conflicts": len(result.conflicts),
            "rule_set_version": result.rule_set_version, **_stamp(result.stamp)}


def load_details(report: LoadReport) -> dict[str, Any]:
    """A load: the file, its SHA-256, the layer and the row counts."""
    return {"file": report.file, "sha256": report.sha256, "kind": report.kind, "rows": report.rows,
            "valid": report.valid, "rejected": report.rejected, "inserted": report.inserted,
            "updated": report.updated, "unchanged": report.unchanged, "dry_run": report.dry_run,
            "strict": report.strict, "batch_id": report.batch_id}


def export_details(*, layer: str, filters: Mapping[str, Any], rows: int, fmt: str) -> dict[str, Any]:
    """A file export: the layer (or result) exported, its filter, the row count and the format."""
    return {"layer": layer, "filter": dict(filters), "rows": rows, "format": fmt}
