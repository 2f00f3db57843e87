"""The window's loop: a cancelled long timer leaves Qt at once; the others fire as with plain qasync."""

from __future__ import annotations

from typing import Any

import pytest

from atlas_desktop.ui import event_loop
from atlas_desktop.ui.event_loop import EventLoop


@pytest.fixture
def loop(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(event_loop, "KILLED_FROM_S", 0.02)  # "long" from 20 ms: the test stays short
    created = EventLoop(qapp)
    yield created
    created.close()


def test_cancelled_timeouts_are_not_kept_until_they_expire(loop: Any, qtbot: Any) -> None:
    fired: list[str] = []
    for n in range(1000):  # an HTTP request's timeout each: armed, then cancelled when the answer comes
        loop.call_later(30.0, fired.append, f"timeout {n}").cancel()
    assert loop._long_timers.pending() == 0  # qasync alone keeps 1,000 Qt timers for 30 s, then fires them

    loop.call_later(0.05, fired.append, "long")
    loop.call_at(loop.time() + 0.06, fired.append, "at")
    loop.call_later(0.0, fired.append, "soon")  # short ones stay qasync's
    kept = loop.call_later(0.05, fired.append, "cancelled late")
    assert loop._long_timers.pending() == 3
    kept.cancel()
    qtbot.waitUntil(lambda: len(fired) == 3, timeout=2000)
    qtbot.wait(60)
    assert sorted(fired) == ["at", "long", "soon"]
    assert loop._long_timers.pending() == 0


def test_close_kills_what_is_still_pending(loop: Any) -> None:
    loop.call_later(30.0, lambda: None)
    assert loop._long_timers.pending() == 1
    loop.close()
    assert loop._long_timers.pending() == 0
