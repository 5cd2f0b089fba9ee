"""The one cache for answers that change only when the data (or a data file) change.

A value is keyed by ``(name, the data versions of the layers it was computed from,
parameters)``.  A load bumps its layer's version (:meth:`geo.stores.protocol.Store.data_version`),
so the next request asks for a key no entry has: a stale value is never served, and the
entries of the old version fall out as the least recently used.  A value computed from a
file rather than a layer (a rule set, the area-risk parameters, the population raster)
puts :func:`file_stamp` of the file in its parameters, so editing the file has the same
effect as a load.

Thread-safe LRU with two budgets: objects (frames, analyses, parsed files) are bounded by
their count, ``bytes`` values (rendered tiles) by their total size, so panning the map,
which caches hundreds of tiles, never pushes out an analysis that took seconds.  Each key
is computed once: a request for a key being computed waits for that result instead of
computing it again.  Cached values are shared between requests: callers must not mutate them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: ``(name, ((layer, data version), ...), parameters)``.
CacheKey = tuple[str, tuple[tuple[str, int], ...], Hashable]

#: Bytes a kept ``bytes`` value counts beyond its length (its key and bookkeeping), so
#: that empty tiles, which are common, still count against ``max_bytes``.
ENTRY_OVERHEAD = 256

_MISSING = object()


def file_stamp(path: Path) -> tuple[str, int]:
    """``(absolute path, modification time in ns)`` of ``path``: a cache parameter that
    changes when the file does.  Raises FileNotFoundError for a missing file."""
    path = Path(path)
    return str(path.resolve()), path.stat().st_mtime_ns


def cached(cache: Cache | None, name: str, versions: Mapping[str, int], params: Hashable,
           compute: Callable[[], T]) -> T:
    """``cache.get(name, versions, params, compute)``, or just ``compute()`` without a cache
    (a capability called outside an app or a command, e.g. in a test)."""
    return compute() if cache is None else cache.get(name, versions, params, compute)


class Cache:
    """Thread-safe LRU of computed answers (see the module docstring).

    ``max_entries``: objects kept (any value that is not ``bytes``); ``max_bytes``: total
    size of the ``bytes`` values kept, in bytes (each counting :data:`ENTRY_OVERHEAD`
    more than its length).  A ``bytes`` value larger than ``max_bytes`` is returned but
    not kept.
    """

    def __init__(self, *, max_entries: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 0:
            raise ValueError(f"max_entries must be >= 1 and max_bytes >= 0, got {max_entries}, {max_bytes}")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._objects: OrderedDict[CacheKey, Any] = OrderedDict()
        self._blobs: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self._computing: dict[CacheKey, threading.Lock] = {}

    @staticmethod
    def key(name: str, versions: Mapping[str, int], params: Hashable = ()) -> CacheKey:
        """The key of ``name`` computed from layers at ``versions`` with ``params``."""
        return name, tuple(sorted((str(k), int(v)) for k, v in versions.items())), params

    def get(self, name: str, versions: Mapping[str, int], params: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``(name, versions, params)``, computed by ``compute()`` when not kept.

        ``versions``: the data version of every layer the value is computed from (as
        :meth:`geo.stores.protocol.Store.data_versions` returns them; empty when it reads
        no layer); ``params``: everything else it depends on (hashable).  An exception
        from ``compute`` propagates and nothing is kept.
        """
        key = self.key(name, versions, params)
        found = self._lookup(key)
        if found is not _MISSING:
            return found
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            try:
                found = self._lookup(key)
                if found is not _MISSING:  # computed by the thread this one waited for
                    return found
                value = compute()
                self._keep(key, value)
                return value
            finally:
                with self._lock:
                    if self._computing.get(key) is gate:
                        del self._computing[key]

    def _lookup(self, key: CacheKey) -> Any:
        with self._lock:
            for items in (self._objects, self._blobs):
                if key in items:
                    items.move_to_end(key)
                    return items[key]
        return _MISSING

    def _keep(self, key: CacheKey, value: Any) -> None:
        with self._lock:
            if isinstance(value, bytes):
                if _cost(value) > self.max_bytes:  # would push out every other tile, then itself
                    return
                self._blobs[key] = value
                self._nbytes += _cost(value)
                while self._nbytes > self.max_bytes and self._blobs:
                    _, old = self._blobs.popitem(last=False)
                    self._nbytes -= _cost(old)
            else:
                self._objects[key] = value
                while len(self._objects) > self.max_entries:
                    self._objects.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._objects or key in self._blobs

    def __len__(self) -> int:
        with self._lock:
            return len(self._objects) + len(self._blobs)

    @property
    def nbytes(self) -> int:
        """Total size of the ``bytes`` values kept, in bytes (with :data:`ENTRY_OVERHEAD` each)."""
        with self._lock:
            return self._nbytes

    def clear(self) -> None:
        """Forget every value (the next request for each computes it again)."""
        with self._lock:
            self._objects.clear()
            self._blobs.clear()
            self._nbytes = 0


def _cost(value: bytes) -> int:
    return len(value) + ENTRY_OVERHEAD
