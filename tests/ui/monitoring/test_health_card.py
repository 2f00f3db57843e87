"""The dashboard card tells the truth (issue 24): Syncing with progress, Paused, Needs your choice (each
count a link to the filtered view), Pending changes, Failing; "In sync" only with none of these. Driven in
the real window over a store a real sync filled, the run events coming through the engine's bus."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from atlas_desktop.domain.enums import ConnectionStatus, MappingStatus, SyncType
from atlas_desktop.engine.api import RunFinished, RunProgress, RunStarted, RunStatus, RunSummary
from atlas_desktop.engine.health import HealthKind
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.dashboard import ConnectionCard


def card_of(window: MainWindow, qtbot: Any, connection_id: str) -> ConnectionCard:
    dashboard = window.dashboard
    assert dashboard is not None
    # Reloads the window started (at start, after a refresh) end first: the one awaited here reads now.
    qtbot.waitUntil(lambda: not dashboard.tasks.busy, timeout=5000)
    with qtbot.waitSignal(dashboard.reloaded, timeout=5000):
        dashboard.reload()
    return dashboard.cards[connection_id]


def sql(world: Any, statement: str) -> None:
    with world.services.store.session() as session, session.begin():
        session.execute(sa.text(statement), {"cid": world.connection_id})


def test_in_sync_only_when_nothing_runs_fails_waits_or_is_pending(
    world: Any, window: Any, qtbot: Any
) -> None:
    card = card_of(window, qtbot, world.connection_id)
    assert card.health is HealthKind.IN_SYNC
    assert card.badge.text().endswith("In sync") and card.problems.text() == "Everything is in sync."
    assert not any(button.isVisible() for button in card.choices.values())
    # Items only in the ERP are information, said in words, and do not stop "in sync".
    unmatched_erp = int(card.snapshot.counts.erp_only)
    assert unmatched_erp > 0
    assert card.notes.text().startswith(f"{unmatched_erp} ERP item")
    assert "not listed on Atlas (information)" in card.notes.text()
    assert window.tray is not None and window.tray.health is HealthKind.IN_SYNC


def test_a_first_sync_running_shows_syncing_with_its_phase_and_progress(
    world: Any, window: Any, qtbot: Any
) -> None:
    first = world.services.connections.add(world.services.connections.get(world.connection_id))
    window.refresh()
    card = card_of(window, qtbot, first)
    assert card.health is HealthKind.NOT_YET_SYNCED and card.badge.text().endswith("Not synced yet")
    assert card.progress.isHidden()

    bus = world.engine.events
    bus.publish(RunStarted(first, SyncType.FULL))
    qtbot.waitUntil(lambda: card.health is HealthKind.SYNCING, timeout=2000)
    bus.publish(RunProgress(first, "merge", 120, 400))
    qtbot.waitUntil(lambda: "120 of 400" in card.problems.text(), timeout=2000)
    assert card.problems.text() == "Syncing — comparing both sides: 120 of 400 items compared."
    assert card.badge.text().endswith("Syncing") and card.progress.isVisible()
    assert (card.progress.value(), card.progress.maximum()) == (120, 400)
    assert not card.sync_button.isEnabled()
    assert window.tray.health is HealthKind.SYNCING  # the tray follows the same rule

    bus.publish(RunFinished(RunSummary(0, first, SyncType.FULL, RunStatus.FAILED)))
    qtbot.waitUntil(lambda: card.health is not HealthKind.SYNCING, timeout=2000)
    assert card.progress.isHidden()


def test_paused_shows_paused(world: Any, window: Any, qtbot: Any) -> None:
    card = card_of(window, qtbot, world.connection_id)
    with qtbot.waitSignal(window.dashboard.reloaded, timeout=5000):
        card.pause_button.click()
    assert world.services.connections.summary(world.connection_id).status is ConnectionStatus.PAUSED
    assert card.health is HealthKind.PAUSED
    assert card.badge.text().endswith("Paused") and card.problems.text() == "Paused."
    assert window.tray.health is HealthKind.PAUSED


def test_twelve_ambiguous_items_need_a_choice_and_link_to_the_mappings_filtered(
    world: Any, window: Any, qtbot: Any
) -> None:
    # What discovery leaves when an NDC matches several ERP items: rows a person must pair.
    ids = [m.id for m in world.matched()[:12]]
    listed = ",".join(map(str, ids))
    sql(world, f"UPDATE erp_inventory_mappings SET status = 'ambiguous' WHERE id IN ({listed})")
    card = card_of(window, qtbot, world.connection_id)
    assert card.health is HealthKind.NEEDS_CHOICE and card.badge.text().endswith("Needs your choice")
    link = card.choices["ambiguous"]
    assert link.isVisible() and link.text() == "12 items match more than one ERP item: choose →"
    assert card.values["ambiguous"].text() == "12"

    window.tabs.setCurrentWidget(window.history)
    link.click()
    mappings = window.mappings
    assert window.tabs.currentWidget() is mappings
    assert mappings.status_filter.currentData() == MappingStatus.AMBIGUOUS
    assert mappings.connection_id == world.connection_id
    assert mappings.model.rowCount() == 12
    assert {mappings.model.row_at(r).id for r in range(12)} == set(ids)


def test_an_open_conflict_needs_a_choice_and_links_to_the_conflicts(
    world: Any, window: Any, qtbot: Any
) -> None:
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    atlas_qty, erp_qty = world.sides(mapping)
    world.atlas.sell(mapping.atlas_inventory_id, atlas_qty)
    world.netsuite.state.issue(int(mapping.erp_item_id), int(mapping.erp_location_id), erp_qty, mapping.lot)
    assert world.run(world.engine.sync(world.connection_id)).conflicts_opened == 1
    card = card_of(window, qtbot, world.connection_id)
    assert card.health is HealthKind.NEEDS_CHOICE
    link = card.choices["conflicts"]
    assert link.isVisible() and link.text() == "1 conflict to decide →"
    assert not card.choices["ambiguous"].isVisible()

    link.click()
    conflicts = window.conflicts
    assert window.tabs.currentWidget() is conflicts and conflicts.tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: conflicts.open_model.rowCount() == 1, timeout=5000)


def test_pending_outbox_writes_show_pending_changes(world: Any, window: Any, qtbot: Any) -> None:
    # A write recorded and not sent yet, as a run stopped between recording and pushing leaves it.
    newest = "(SELECT max(id) FROM outbox WHERE connection_id = :cid)"
    sql(world, f"UPDATE outbox SET status = 'pending', remote_id = NULL WHERE id = {newest}")
    card = card_of(window, qtbot, world.connection_id)
    assert card.health is HealthKind.PENDING and card.badge.text().endswith("Pending changes")
    assert card.problems.text() == "1 change waiting to be written."
    assert card.values["pending"].text() == "1"


def test_a_failed_run_shows_failing(world: Any, window: Any, qtbot: Any) -> None:
    rule = world.netsuite.faults.add("status", status=401)
    run = world.run(world.engine.sync(world.connection_id))
    world.netsuite.faults.rules.remove(rule)
    assert run.status is RunStatus.FAILED
    card = card_of(window, qtbot, world.connection_id)
    assert card.health is HealthKind.FAILING and card.badge.text().endswith("Failing")
    assert card.problems.text() == "1 failed sync."
    assert window.tray.health is HealthKind.FAILING
    assert window.tray.icon.toolTip() == "Atlas Desktop — Failing\nNetSuite sandbox: Failing — 1 failed sync"


def test_a_write_in_doubt_shows_degraded_not_in_sync(world: Any, window: Any, qtbot: Any) -> None:
    # A write sent whose answer never came: it may or may not have landed, so "in sync" would be a guess.
    newest = "(SELECT max(id) FROM outbox WHERE connection_id = :cid)"
    sql(world, f"UPDATE outbox SET status = 'in_doubt', remote_id = NULL WHERE id = {newest}")
    card = card_of(window, qtbot, world.connection_id)
    assert card.health is HealthKind.DEGRADED and card.badge.text().endswith("Degraded")
    assert card.problems.text() == "1 write in doubt."
    assert card.values["in_doubt"].text() == "1"
    assert window.tray is not None and window.tray.health is HealthKind.DEGRADED
