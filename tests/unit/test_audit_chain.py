"""The audit log's hash chain (geo.audit_log): sealing, and naming the first entry that does not fit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from geo.audit_log import (
    GENESIS,
    AuditDraft,
    AuditEntry,
    AuditQuery,
    check_entries,
    parse_utc,
    seal,
    utc_text,
)
from geo.errors import BadInput

T0 = datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)


def chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(1, n + 1):
        draft = AuditDraft(f"user{i % 3}", "veto", f"site {i}", {"verdict": "VETO", "n": i, "d": 12.5}).checked()
        entries.append(seal(draft, entry_id=i, prev_hash=entries[-1].hash if entries else GENESIS,
                            at=T0 + timedelta(seconds=i)))
    return entries


def test_a_sealed_chain_verifies() -> None:
    entries = chain(5)
    assert entries[0].prev_hash == GENESIS and all(b.prev_hash == a.hash for a, b in pairwise(entries))
    check = check_entries(entries)
    assert check.broken is None and check.entries == 5 and check.last_hash == entries[-1].hash
    assert check_entries([]).entries == 0 and check_entries([]).last_hash == GENESIS


@pytest.mark.parametrize("field", ["actor", "action", "target", "outcome", "remote"])
def test_a_changed_field_breaks_its_own_entry(field: str) -> None:
    entries = chain(5)
    entries[2] = replace(entries[2], **{field: "changed"})
    check = check_entries(entries)
    assert check.broken is not None and check.broken.id == 3 and check.entries == 2
    assert "content differs from its hash" in check.broken.reason


def test_changed_details_or_time_break_the_entry() -> None:
    entries = chain(4)
    details = replace(entries[1], details={**entries[1].details, "verdict": "PASS"})
    broken = check_entries([entries[0], details, *entries[2:]]).broken
    assert broken is not None and broken.id == 2
    moved = replace(entries[3], at=entries[3].at + timedelta(microseconds=1))
    broken = check_entries([*entries[:3], moved]).broken
    assert broken is not None and broken.id == 4
    assert broken.as_text().startswith("entry 4 (2026-03-01T08:00:04.123457Z)")


def test_a_re_hashed_entry_breaks_the_next_link() -> None:
    entries = chain(4)
    forged = seal(AuditDraft("mallory", "veto"), entry_id=2, prev_hash=entries[0].hash, at=entries[1].at)
    broken = check_entries([entries[0], forged, *entries[2:]]).broken
    assert broken is not None and broken.id == 3 and "differs from the hash of entry 2" in broken.reason


def test_missing_and_reordered_entries() -> None:
    entries = chain(5)
    broken = check_entries([*entries[:2], *entries[3:]]).broken
    assert broken is not None and broken.id == 4 and "entries 3-3 are missing" in broken.reason
    broken = check_entries([entries[1], entries[0], *entries[2:]]).broken
    assert broken is not None and broken.id == 2


def test_drafts_are_checked() -> None:
    assert AuditDraft("a", "veto", details={"pair": (1, 2)}).checked().details == {"pair": [1, 2]}
    for draft, fragment in (
        (AuditDraft("a", "Veto Run"), "audit action"), (AuditDraft("a", "veto", outcome="maybe"), "outcome"),
        (AuditDraft("", "veto"), "actor"), (AuditDraft("a", "veto", remote="x" * 513), "remote"),
        (AuditDraft("a", "veto", target="x" * 513), "target"),
        (AuditDraft("a", "veto", details={"bad": float("nan")}), "not plain JSON"),
        (AuditDraft("a", "veto", details={"bad": object()}), "not plain JSON"),
    ):
        with pytest.raises(BadInput, match=fragment):
            draft.checked()
    AuditDraft("a" * 512, "veto", target="x" * 512, remote="r" * 512).checked()


def test_times_are_fixed_width_utc_text() -> None:
    assert utc_text(T0) == "2026-03-01T08:00:00.123456Z"
    assert utc_text(datetime(2026, 3, 1, 16, 0, tzinfo=UTC).astimezone()) == "2026-03-01T16:00:00.000000Z"
    assert parse_utc("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_utc("2026-03-01T16:00:00+08:00") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert parse_utc("2026-03-01T08:00:00Z") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    with pytest.raises(BadInput, match="'yesterday' is not a time"):
        parse_utc("yesterday")


def test_query_matching() -> None:
    entry = seal(AuditDraft("zhao/token:0123456789ab", "export"), entry_id=7, prev_hash=GENESIS, at=T0)
    assert AuditQuery(user="zhao").matches(entry) and not AuditQuery(user="zha").matches(entry)
    assert AuditQuery(since=T0, until=T0 + timedelta(microseconds=1)).matches(entry)
    assert not AuditQuery(until=T0).matches(entry) and not AuditQuery(after_id=7).matches(entry)
    assert not AuditQuery(action="veto").matches(entry)
