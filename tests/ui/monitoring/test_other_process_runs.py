"""A run another process holds (the agent, a command) shows in the window: its card and the tray say
Syncing, and what the run changed shows, though that process sends this window no events (issue 24)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from review_quantities import shown_quantities

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.domain.enums import MappingStatus, SyncType
from atlas_desktop.engine.api import RunFinished, RunStarted, RunStatus
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
    made.show()
    assert made.dashboard is not None
    qtbot.waitUntil(lambda: world.connection_id in made.dashboard.cards, timeout=10_000)
    yield made
    # Closed here, not by pytest-qt, which would delete it while its reads are still awaited.
    world.run(made.aclose())
    made.quit_app()
    made.deleteLater()


def test_a_run_in_another_process_shows_as_syncing_and_its_outcome_without_a_click(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    card = window.dashboard.cards[world.connection_id]
    qtbot.waitUntil(lambda: card.health is HealthKind.IN_SYNC, timeout=10_000)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(world.services.locks.folder), world.connection_id],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        qtbot.waitUntil(lambda: card.health is HealthKind.SYNCING, timeout=10_000)
        assert card.problems.text() == f"Syncing — in process {holder.pid}."
        assert window.tray is not None and window.tray.health is HealthKind.SYNCING
        # What that run leaves behind (here: a write it could not confirm) shows once it ends.
        with world.services.store.session() as session, session.begin():
            newest = "(SELECT max(id) FROM outbox WHERE connection_id = :cid)"
            session.execute(sa.text(f"UPDATE outbox SET status = 'in_doubt' WHERE id = {newest}"),
                            {"cid": world.connection_id})  # fmt: skip
    finally:
        holder.communicate("\n", timeout=10)  # it lets go; its pipes are closed
    qtbot.waitUntil(lambda: card.health is HealthKind.DEGRADED, timeout=10_000)
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
        with qtbot.waitSignal(window.dashboard.reloaded, timeout=10_000):
            window.dashboard.reload()
        assert card.health is HealthKind.IN_SYNC
        assert not any("in process" in text for text in seen)
        assert lock.held  # the probe neither took nor released this process's lock
    finally:
        lock.release()


def test_what_a_run_elsewhere_wrote_shows_in_the_open_review_without_a_click(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    # A second engine on the same profile: its events never reach this window, as another process's.
    other = build_engine(
        world.services,
        transport=httpx.ASGITransport(app=world.netsuite.app),
        atlas_options={"transport": httpx.ASGITransport(app=world.atlas.app)},
    )
    try:
        mapping = next(m for m in world.matched() if world.sides(m)[0] >= 5)
        before, _erp = world.sides(mapping)
        window.open_review(world.connection_id, MappingStatus.MATCHED)
        qtbot.waitUntil(lambda: shown_quantities(window, mapping.id) == (before, before), timeout=10_000)
        reloads: list[bool] = []
        window.history.runs_model.modelReset.connect(lambda: reloads.append(True))
        world.atlas.sell(mapping.atlas_inventory_id, 5)
        run = world.run(other.sync(world.connection_id))
        assert run.status is RunStatus.SUCCESS and run.items_synced == 1
        after = (before - 5, before - 5)
        qtbot.waitUntil(lambda: shown_quantities(window, mapping.id) == after, timeout=10_000)
        # The history lists the new run as ended too.
        runs = window.history.runs_model
        qtbot.waitUntil(lambda: (run.sync_log_id, "success") in {(r.id, str(r.status)) for r in runs.rows},
                        timeout=10_000)  # fmt: skip
        # Read again once per new run, not at every follow-up read.
        settled = len(reloads)
        qtbot.wait(3 * MainWindow.FOLLOW_MS)
        assert len(reloads) == settled
    finally:
        world.run(other.aclose())


def test_the_windows_own_runs_do_not_read_the_lists_twice(world: Any, window: MainWindow, qtbot: Any) -> None:
    elsewhere: list[bool] = []
    window.dashboard.runs_changed_elsewhere.connect(lambda: elsewhere.append(True))
    window.open_review(world.connection_id, MappingStatus.MATCHED)
    with qtbot.waitSignal(window.dashboard.reloaded, timeout=10_000):
        window.dashboard.reload()
    world.atlas.sell(next(m for m in world.matched() if world.sides(m)[0] >= 1).atlas_inventory_id, 1)
    ended: list[RunFinished] = []
    world.engine.events.subscribe(lambda e: ended.append(e) if isinstance(e, RunFinished) else None)
    window.start_sync(world.connection_id)
    qtbot.waitUntil(lambda: bool(ended), timeout=15_000)
    assert ended[0].summary.items_synced == 1
    qtbot.wait(3 * MainWindow.FOLLOW_MS)  # follow-up reads after the run: the window's own, nothing new
    assert elsewhere == []


def test_a_read_taken_while_the_windows_run_went_on_is_not_taken_for_another_process(
    world: Any, window: MainWindow
) -> None:
    """A follow-up read started while this window's run was going and answered after the run ended sees the
    run as still running; the next read sees it ended. Neither is another process's doing."""
    from types import SimpleNamespace

    dashboard = window.dashboard

    def read(run_id: int, status: str) -> list[Any]:
        run = SimpleNamespace(id=run_id, status=status)
        return [SimpleNamespace(summary=SimpleNamespace(id=world.connection_id), runs=[run])]

    dashboard._note_newest_runs(read(900, "success"))
    summary = SimpleNamespace(connection_id=world.connection_id, sync_log_id=901)
    dashboard.on_bridge_run_started(RunStarted(world.connection_id, SyncType.MANUAL))
    dashboard.on_bridge_run_finished(RunFinished(summary))  # type: ignore[arg-type]
    assert not dashboard._note_newest_runs(read(901, "running"))  # read while it ran, answered after
    assert not dashboard._note_newest_runs(read(901, "success"))
    assert dashboard._note_newest_runs(read(902, "success"))  # a run this window never ran
