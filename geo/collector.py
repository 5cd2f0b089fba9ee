"""Keeping Python's cyclic garbage collector off large, acyclic data.

The area-risk engine holds a few hundred thousand values in numpy object arrays
(keys, names, levels of 162,699 risk sources).  None of them can be part of a
reference cycle, yet every full collection walks them all: 0.1 s each, several per
run.  These two context managers keep that work away:

* :func:`collector_paused` for a bulk read that builds many short-lived tuples;
* :func:`collector_frozen` for a computation over inputs already read.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0  # blocks inside collector_paused, in every thread
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (drop the temporary containers before it
    ends, or the next allocation after it walks them).  Blocks may overlap across
    threads: the collector resumes when the last one ends, if it was on before the first."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()


@contextmanager
def collector_frozen() -> Iterator[None]:
    """Move every object alive now out of the collector's sight for the block
    (:func:`gc.freeze`); collections inside it look only at newer objects."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
