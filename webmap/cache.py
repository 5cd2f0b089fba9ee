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
