"""The one cache: LRU by entry count and by bytes, keyed by data versions, computed once."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from geo.capabilities.cache import ENTRY_OVERHEAD, Cache, cached, file_stamp


class VersionedStore:
    """The part of the Store protocol a cache key reads: a data version per layer, bumped by a load."""

    def __init__(self) -> None:
        self.versions: Counter[str] = Counter()
        self.rows: dict[str, list[str]] = {}

    def load(self, kind: str, row: str) -> None:
        self.rows.setdefault(kind, []).append(row)
        self.versions[kind] += 1

    def data_versions(self, kinds: Sequence[str]) -> dict[str, int]:
        return {k: self.versions[k] for k in kinds}


def test_objects_are_evicted_least_recently_used_first_by_count() -> None:
    cache = Cache(max_entries=2)
    for name in ("a", "b"):
        cache.get(name, {}, (), lambda n=name: n.upper())
    cache.get("a", {}, (), lambda: "recomputed")  # a is used again: b is now the oldest
    cache.get("c", {}, (), lambda: "C")
    assert Cache.key("a", {}) in cache and Cache.key("c", {}) in cache and Cache.key("b", {}) not in cache
    assert len(cache) == 2
    assert cache.get("a", {}, (), lambda: "recomputed") == "A"


def test_bytes_are_evicted_by_total_size_and_never_push_out_objects() -> None:
    tile = 4 + ENTRY_OVERHEAD
    cache = Cache(max_entries=1, max_bytes=2 * tile + 3)
    cache.get("analysis", {}, (), lambda: {"took": "seconds"})
    for i in range(4):
        cache.get("tile", {}, i, lambda: b"xxxx")  # at most two fit
    assert cache.nbytes == 2 * tile and len(cache) == 3
    assert [Cache.key("tile", {}, i) in cache for i in range(4)] == [False, False, True, True]
    assert Cache.key("analysis", {}) in cache
    huge = b"y" * (2 * tile)
    assert cache.get("huge", {}, (), lambda: huge) == huge  # returned, not kept
    assert Cache.key("huge", {}) not in cache and cache.nbytes == 2 * tile


def test_empty_tiles_count_against_the_bytes_too() -> None:
    cache = Cache(max_bytes=10 * ENTRY_OVERHEAD)
    for i in range(100):
        cache.get("tile", {}, i, lambda: b"")
    assert len(cache) == 10 and cache.nbytes == 10 * ENTRY_OVERHEAD


def test_a_load_changes_the_key_so_a_stale_value_is_never_served() -> None:
    store = VersionedStore()
    store.load("risk_sources", "red")
    cache = Cache()

    def count_sources() -> int:
        return cached(cache, "count", store.data_versions(["risk_sources", "areas"]), (),
                      lambda: len(store.rows["risk_sources"]))

    assert count_sources() == 1
    store.rows["risk_sources"].append("changed behind the store's back")  # no load: the cached value stands
    assert count_sources() == 1
    store.load("risk_sources", "blue")
    assert count_sources() == 3
    store.load("hidden_hazards", "open")  # a layer the value does not depend on: still cached
    store.rows["risk_sources"].clear()
    assert count_sources() == 3
    store.load("areas", "东城区")
    assert count_sources() == 0


def test_parameters_and_names_keep_values_apart() -> None:
    cache = Cache()
    assert cache.get("zone", {"areas": 1}, ("beijing-hebei", 10.0), lambda: 1) == 1
    assert cache.get("zone", {"areas": 1}, ("beijing-hebei", 20.0), lambda: 2) == 2
    assert cache.get("band", {"areas": 1}, ("beijing-hebei", 10.0), lambda: 3) == 3
    assert Cache.key("zone", {"b": 2, "a": 1}) == Cache.key("zone", {"a": 1, "b": 2})


def test_a_value_is_computed_once_while_others_wait() -> None:
    cache = Cache()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.2)
        return "done"

    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("slow", {}, (), slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 4 and len(calls) == 1


def test_an_error_is_not_kept() -> None:
    cache = Cache()

    def broken() -> str:
        raise ValueError("no areas")

    with pytest.raises(ValueError, match="no areas"):
        cache.get("geocoder", {}, (), broken)
    assert len(cache) == 0 and cache.get("geocoder", {}, (), lambda: "built") == "built"


def test_without_a_cache_every_call_computes() -> None:
    calls: list[int] = []
    for _ in range(2):
        cached(None, "x", {}, (), lambda: calls.append(1))
    assert len(calls) == 2


def test_file_stamp_changes_when_the_file_does(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    before = file_stamp(path)
    path.write_text("version: 2\n", encoding="utf-8")
    os.utime(path, ns=(before[1] + 1_000_000, before[1] + 1_000_000))
    assert file_stamp(path) != before and file_stamp(path)[0] == str(path.resolve())
    with pytest.raises(FileNotFoundError):
        file_stamp(tmp_path / "missing.yaml")
