"""The garbage-collector guards: paused across overlapping blocks in threads, frozen for a block."""

from __future__ import annotations

import gc
import threading

from geo.collector import collector_frozen, collector_paused


def test_overlapping_pauses_in_threads_resume_only_after_the_last() -> None:
    assert gc.isenabled()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=other)
    with collector_paused():
        worker.start()
        inside.wait(5)
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's block is still open
    leave.set()
    worker.join(5)
    assert gc.isenabled()


def test_a_pause_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_frozen_objects_are_out_of_sight_only_inside_the_block() -> None:
    before = gc.get_freeze_count()
    kept = [[i] for i in range(1000)]
    with collector_frozen():
        assert gc.get_freeze_count() >= before + len(kept)
    assert gc.get_freeze_count() == 0
    assert kept[999] == [999]
