"""Interpreter settings of the window and the agent: rare full collections, a frozen start-up heap, and a
short GIL switch interval so the GUI thread is not kept waiting by busy worker threads."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from atlas_desktop.app import agent, gc_tuning


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()
    sys.setswitchinterval(interval)


def test_thresholds_make_full_collections_rare(restore_gc: None) -> None:
    gc_tuning.tune_gc()
    young, middle, old = gc.get_threshold()
    assert (young, middle, old) == gc_tuning.THRESHOLDS
    # A full pass needs young * middle * old net allocations: far more than a 100k-item sync makes.
    assert young * middle * old >= 20_000_000
    assert young <= 20_000  # young passes stay short: they walk at most this many new objects
    # Middle passes walk what the young ones since the last middle pass kept: 25-275 ms at 100k items
    # with 60k objects, so at most 30k.
    assert young * (middle + 1) <= 30_000


def test_frozen_start_up_objects_are_left_out_of_collections(restore_gc: None) -> None:
    survivor: list[Any] = [object()]
    gc.collect()
    assert any(o is survivor for o in gc.get_objects())
    gc_tuning.freeze_startup_heap()
    assert gc.get_freeze_count() > 0
    assert not any(o is survivor for o in gc.get_objects())  # in the permanent generation now


def test_the_agent_tunes_the_collector_before_it_runs(
    restore_gc: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []

    def fake_run(coro: Any) -> int:
        coro.close()
        seen.append(gc.get_threshold())
        return 0

    gc.set_threshold(700, 10, 10)
    monkeypatch.setattr(agent.asyncio, "run", fake_run)
    assert agent.run_agent(object()) == 0  # type: ignore[arg-type]
    assert seen == [gc_tuning.THRESHOLDS]


def test_the_gui_thread_waits_well_under_a_millisecond_for_the_gil(restore_gc: None) -> None:
    sys.setswitchinterval(0.005)
    gc_tuning.favour_the_gui_thread()
    # A slot making a dozen Qt calls while the DB thread runs Python waits this long a dozen times.
    assert sys.getswitchinterval() <= 0.0005
