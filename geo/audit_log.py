"""The audit trail's rules (pure): entries, their hash chain, and checking the chain.

Every entry says who (a user name, ``name/token:<id>``, ``anonymous`` or ``cli:<os user>``),
when (UTC, to the microsecond), from where (a remote address or ``cli``), the action, its
target, details (a JSON object) and the outcome.  It also carries

* ``prev_hash``: the previous entry's ``hash`` (the first entry's is :data:`GENESIS`), and
* ``hash``: SHA-256 of its canonical content (:func:`canonical_bytes`: id, time, actor,
  remote, action, target, details, outcome and ``prev_hash`` as compact JSON with sorted
  keys),

so changing, removing or re-ordering any entry breaks the chain from there on, and
:func:`check_entries` names the first entry that does not fit (its id, time and what
differs).  Removing entries from the end leaves a valid, shorter chain: keep the last hash
somewhere else (``riskmap audit-log verify`` prints it) to notice that.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from geo.errors import BadInput

#: The ``prev_hash`` of the first entry.
GENESIS = hashlib.sha256(b"riskmap audit log genesis").hexdigest()
#: Outcomes of an action.
OUTCOMES: tuple[str, ...] = ("ok", "denied", "refused", "failed")
#: An action name: lower-case words joined by ``_`` or ``.`` (``login_failed``, ``veto_batch``).
ACTION = re.compile(r"[a-z][a-z0-9_.]{0,63}")
#: The actions the platform writes (others are accepted if well-formed).
ACTIONS: tuple[str, ...] = (
    "login", "login_failed", "logout", "veto", "veto_batch", "veto_audit", "export", "load",
    "user_add", "user_disable", "user_enable", "user_passwd", "user_role", "token_create", "token_revoke",
    "rules_change", "config_change",
)
#: Longest actor, remote and target texts, in characters.
MAX_TEXT = 512


def utc_text(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC; a naive time is taken as UTC).
    Fixed width, so the texts sort as the times do."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """The aware UTC time of an ISO 8601 text (a date alone is its midnight; no zone means UTC);
    :class:`BadInput` naming the text otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{text!r} is not a time (ISO 8601: 2026-01-31 or 2026-01-31T08:00:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def canonical_json(details: Mapping[str, Any]) -> str:
    """``details`` as compact JSON with sorted keys; :class:`BadInput` for what JSON cannot hold."""
    try:
        return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BadInput(f"audit details are not plain JSON: {exc}") from None


@dataclass(frozen=True)
class AuditDraft:
    """An entry before the store numbers and chains it; ``at`` None: stamped by the store."""

    actor: str
    action: str
    target: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "ok"
    remote: str = "cli"
    at: datetime | None = None

    def checked(self) -> AuditDraft:
        """The draft with its details as plain JSON values (tuples become lists); :class:`BadInput`
        for a malformed action, an unknown outcome or text that is empty or too long."""
        if not ACTION.fullmatch(self.action):
            raise BadInput(f"audit action {self.action!r}: lower-case words joined by _ or .")
        if self.outcome not in OUTCOMES:
            raise BadInput(f"audit outcome {self.outcome!r}; one of: {', '.join(OUTCOMES)}")
        for name in ("actor", "remote"):
            if not 0 < len(getattr(self, name)) <= MAX_TEXT:
                raise BadInput(f"audit {name}: 1-{MAX_TEXT} characters")
        if len(self.target) > MAX_TEXT:
            raise BadInput(f"audit target: at most {MAX_TEXT} characters")
        return AuditDraft(self.actor, self.action, self.target, json.loads(canonical_json(self.details)),
                          self.outcome, self.remote, self.at)


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log as stored."""

    id: int
    at: datetime  # UTC
    actor: str
    remote: str
    action: str
    target: str
    details: Mapping[str, Any]
    outcome: str
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready values (``at`` as :func:`utc_text`)."""
        return {"id": self.id, "at": utc_text(self.at), "actor": self.actor, "remote": self.remote,
                "action": self.action, "target": self.target, "details": dict(self.details),
                "outcome": self.outcome, "prev_hash": self.prev_hash, "hash": self.hash}


def canonical_bytes(entry_id: int, at: datetime, draft: AuditDraft | AuditEntry, prev_hash: str) -> bytes:
    """What an entry's hash is taken over: its content and the previous hash, as compact JSON."""
    content = {"id": entry_id, "at": utc_text(at), "actor": draft.actor, "remote": draft.remote,
               "action": draft.action, "target": draft.target, "details": draft.details,
               "outcome": draft.outcome, "prev_hash": prev_hash}
    return canonical_json(content).encode()


def seal(draft: AuditDraft, *, entry_id: int, prev_hash: str, at: datetime) -> AuditEntry:
    """The entry ``draft`` becomes as number ``entry_id`` after the entry hashed ``prev_hash``."""
    at = at.astimezone(UTC)
    digest = hashlib.sha256(canonical_bytes(entry_id, at, draft, prev_hash)).hexdigest()
    return AuditEntry(entry_id, at, draft.actor, draft.remote, draft.action, draft.target, draft.details,
                      draft.outcome, prev_hash, digest)


@dataclass(frozen=True)
class BrokenEntry:
    """The first entry that does not fit the chain: its id and time, and what differs."""

    id: int
    at: datetime
    reason: str

    def as_text(self) -> str:
        return f"entry {self.id} ({utc_text(self.at)}): {self.reason}"


@dataclass
class ChainCheck:
    """Checks entries one after another (in id order), as :func:`check_entries` does."""

    entries: int = 0
    last_id: int = 0
    last_hash: str = GENESIS
    broken: BrokenEntry | None = None

    def feed(self, entry: AuditEntry) -> bool:
        """Check the next entry; False (and :attr:`broken` set) at the first that does not fit."""
        if self.broken is not None:
            return False
        reason = self._problem(entry)
        if reason:
            self.broken = BrokenEntry(entry.id, entry.at, reason)
            return False
        self.entries += 1
        self.last_id, self.last_hash = entry.id, entry.hash
        return True

    def _problem(self, entry: AuditEntry) -> str | None:
        if entry.id != self.last_id + 1:
            return f"expected entry {self.last_id + 1} next: entries {self.last_id + 1}-{entry.id - 1} are missing"
        if entry.prev_hash != self.last_hash:
            return (f"prev_hash {entry.prev_hash[:12]}… differs from the hash of entry {self.last_id} "
                    f"({self.last_hash[:12]}…)")
        try:
            recomputed = seal(entry_draft(entry), entry_id=entry.id, prev_hash=entry.prev_hash, at=entry.at).hash
        except BadInput as exc:
            return f"content unreadable: {exc}"
        if recomputed != entry.hash:
            return (f"content differs from its hash: stored {entry.hash[:12]}…, recomputed {recomputed[:12]}… "
                    "(actor, action, target, details, outcome or time changed)")
        return None


def entry_draft(entry: AuditEntry) -> AuditDraft:
    """The draft an entry was sealed from."""
    return AuditDraft(entry.actor, entry.action, entry.target, entry.details, entry.outcome, entry.remote, entry.at)


def check_entries(entries: Iterable[AuditEntry]) -> ChainCheck:
    """Check a whole log (entries in id order, from the first)."""
    check = ChainCheck()
    for entry in entries:
        if not check.feed(entry):
            break
    return check


@dataclass(frozen=True)
class AuditQuery:
    """Which entries to read: ``since`` ≤ time < ``until`` (UTC), by ``user`` (the user's own
    entries and its tokens'), by ``action``; ids after ``after_id``; at most ``limit``."""

    since: datetime | None = None
    until: datetime | None = None
    user: str | None = None
    action: str | None = None
    after_id: int = 0
    limit: int | None = None

    def matches(self, entry: AuditEntry) -> bool:
        """True when ``entry`` is one of the entries asked for (ignoring ``limit``)."""
        return (entry.id > self.after_id
                and (self.since is None or entry.at >= self.since)
                and (self.until is None or entry.at < self.until)
                and (self.user is None or entry.actor == self.user or entry.actor.startswith(self.user + "/"))
                and (self.action is None or entry.action == self.action))

