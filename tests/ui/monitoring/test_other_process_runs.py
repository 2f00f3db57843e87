"""A run another process holds (the agent, a command) shows in the window: its card and the tray say
Syncing, and what the run changed shows, though that process sends this window no events (issue 24)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from atlas_desktop.engine.health import HealthKind
from atlas_desktop.ui.main_window import MainWindow

# Holds the connection's run lock the way a sync in another process does, until told to stop.
_HOLD = """
import sys
from pathlib import Path
from atlas_desktop.store.process_locks import ProcessLocks
lock = ProcessLocks(Path(sys.argv[1])).run(sys.argv[2])
assert lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


@pytest.fixture
def window(world: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(MainWindow, "FOLLOW_MS", 200)
    made = MainWindow(world.services.connections, world.engine, lambda: None, monitoring=world.ctx)
    qtbot.addWidget(made)
    made.show()
    assert made.dashboard is not None
    qtbot.waitUntil(lambda: world.connection_id in made.dashboard.cards, timeout=5000)
    yield made
    world.run(made.aclose())


def test_a_run_in_another_process_shows_as_syncing_and_its_outcome_without_a_click(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    card = window.dashboard.cards[world.connection_id]
    qtbot.waitUntil(lambda: card.health is HealthKind.IN_SYNC, timeout=5000)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(world.services.locks.folder), world.connection_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        qtbot.waitUntil(lambda: card.health is HealthKind.SYNCING, timeout=5000)
        assert card.problems.text() == f"Syncing — in process {holder.pid}."
        assert window.tray is not None and window.tray.health is HealthKind.SYNCING
        # What that run leaves behind (here: a write it could not confirm) shows once it ends.
        with world.services.store.session() as session, session.begin():
            newest = "(SELECT max(id) FROM outbox WHERE connection_id = :cid)"
            session.execute(sa.text(f"UPDATE outbox SET status = 'in_doubt' WHERE id = {newest}"),
                            {"cid": world.connection_id})  # fmt: skip
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(10)
    qtbot.waitUntil(lambda: card.health is HealthKind.DEGRADED, timeout=5000)
    assert window.tray.health is HealthKind.DEGRADED


def test_the_windows_own_run_is_not_taken_for_another_process(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    card = window.dashboard.cards[world.connection_id]
    seen: list[str] = []
    window.dashboard.states_changed.connect(lambda: seen.append(card.problems.text()))
    lock = world.services.locks.run(world.connection_id)
    assert lock.acquire()  # as this process's engine holds it during a run
    try:
        with qtbot.waitSignal(window.dashboard.reloaded, timeout=5000):
            window.dashboard.reload()
        assert card.health is HealthKind.IN_SYNC
        assert not any("in process" in text for text in seen)
        assert lock.held  # the probe neither took nor released this process's lock
    finally:
        lock.release()
