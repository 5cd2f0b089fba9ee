"""A small per-app cache for answers that only change when the data does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import current_app

T = TypeVar("T")
_LOCK = threading.Lock()
_MAX_ENTRIES = 256


def cached(name: str, version: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per (name, version) per app; ``version`` should include data versions."""
    store: dict[tuple[str, Hashable], Any] = current_app.extensions.setdefault("riskmap.cache", {})
    key = (name, version)
    with _LOCK:
        if key in store:
            return store[key]  # type: ignore[no-any-return]
    value = compute()
    with _LOCK:
        if len(store) >= _MAX_ENTRIES:
            store.pop(next(iter(store)))
        store[key] = value
    return value


class BytesLRU:
    """A thread-safe LRU of bytes values bounded by their total size (for rendered tiles)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        from collections import OrderedDict

        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        with self._lock:
            if key in self._items:
                self._size -= len(self._items.pop(key))
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old)
