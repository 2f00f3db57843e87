"""A run's history entry opens the list of what it changed, read from the run's own records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from atlas_desktop.engine.changes import TO_ATLAS, TO_ERP, ChangeKind
from atlas_desktop.ui.monitoring.history_view import HistoryView


def test_a_runs_history_entry_lists_what_it_changed(world: Any, qtbot: Any) -> None:
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    atlas_before, _erp = world.sides(mapping)
    world.atlas.sell(mapping.atlas_inventory_id, 2)  # a sale on Atlas: the next run carries it to the ERP
    second = world.run(world.engine.sync(world.connection_id))
    assert second.items_synced == 1
    view = HistoryView(world.ctx)
    qtbot.addWidget(view)
    view.show()
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.runs_model.rowCount() == 2, timeout=5000)
    assert view.selected_run().id == second.sync_log_id  # the latest, selected at once
    qtbot.mouseClick(view.changes_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.changes_dialog is not None and view.changes_dialog.isVisible(), timeout=5000)
    (change,) = view.changes_dialog.shown()
    assert change.kind is ChangeKind.QUANTITY_TO_ERP and change.direction == TO_ERP
    assert change.item == mapping.item_name and change.location == mapping.erp_location_id
    assert (Decimal(change.old), Decimal(change.new)) == (atlas_before, atlas_before - 2)
    view.changes_dialog.close()

    view.runs.selectRow(1)  # the first sync: every value it carried to Atlas
    qtbot.mouseClick(view.changes_button, Qt.MouseButton.LeftButton)
    first = world.engine.repos.runs.recent(world.connection_id, 5)[-1]
    qtbot.waitUntil(lambda: view.changes_dialog.windowTitle().endswith("changed")
                    and view.changes_dialog.model.rowCount() != 1, timeout=5000)  # fmt: skip
    rows = view.changes_dialog.shown()
    assert len(rows) == first.items_synced and all(r.direction == TO_ATLAS and r.item for r in rows)


def test_a_run_stopped_at_a_preview_is_reviewed_and_approved_from_the_history(world: Any, qtbot: Any) -> None:
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    stopped = world.run(world.engine.preview(world.connection_id))  # as a run over the share limit would
    assert stopped.kinds[ChangeKind.QUANTITY_TO_ERP] == 1
    view = HistoryView(world.ctx)
    qtbot.addWidget(view)
    view.show()
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.runs_model.rowCount() == 2, timeout=5000)
    assert str(view.selected_run().status) == "preview"
    assert view.changes_button.text() == "Review and approve…"
    qtbot.mouseClick(view.changes_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.changes_dialog is not None and view.changes_dialog.isVisible(), timeout=5000)
    dialog = view.changes_dialog
    (change,) = dialog.shown()
    assert change.kind is ChangeKind.QUANTITY_TO_ERP and change.item == mapping.item_name
    with qtbot.waitSignal(view.replayed, timeout=10_000) as approved:
        qtbot.mouseClick(dialog.approve_button, Qt.MouseButton.LeftButton)
    assert str(approved.args[0].status) == "success" and approved.args[0].items_synced == 1
    assert world.sides(mapping)[0] == world.sides(mapping)[1]
