"""Issue 25: the History view and the explain dialog speak product words (item names, location names,
the run's trigger), keep the numbers people compare visible at 1024 px, and say what to do when empty."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import SyncType
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.explain_dialog import ExplainDialog
from atlas_desktop.ui.monitoring.history_view import RUN_COLUMNS, HistoryView

from .conftest import NS_URL


def _failed_scheduled_run(world: Any) -> Any:
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    world.netsuite.faults.add("status", path="/record/v1/inventoryAdjustment", method="POST", status=400)
    failed = world.run(world.engine.sync(world.connection_id, sync_type=SyncType.SCHEDULED))
    assert failed.status is RunStatus.PARTIAL and failed.items_failed == 1, failed
    return mapping


def test_history_names_the_failed_item_where_it_is_and_the_runs_trigger(world: Any, qtbot: Any) -> None:
    mapping = _failed_scheduled_run(world)
    erp = world.run(world.engine.erp(world.connection_id))
    place = {loc.id: loc.name for loc in world.run(erp.locations())}[mapping.erp_location_id]

    view = HistoryView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.errors_model.rowCount() == 1, timeout=5000)
    assert view.runs_model.index(0, 1).data() == "Scheduled"  # not "manual"
    qtbot.waitUntil(lambda: place in view.errors_model.index(0, 0).data(), timeout=5000)  # asked after
    item = view.errors_model.index(0, 0).data()
    assert mapping.item_name in item and place in item, item
    assert "erp_adjust" not in item and (mapping.lot is None or f"lot {mapping.lot}" in item)
    tooltip = view.errors_model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "erp_adjust" in tooltip  # the reference stays for support, on hover
    assert view.errors_label.text().endswith(": 1 item")

    dialog = ExplainDialog(world.ctx, mapping.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: place in dialog.summary.text(), timeout=5000)
    text = dialog.summary.text()
    assert "matched by NDC" in text and "auto_ndc" not in text
    assert mapping.atlas_inventory_id not in text and mapping.atlas_inventory_id in dialog.summary.toolTip()
    assert f"In the ERP at {place}" in text
    if mapping.ndc_key:
        assert f"{mapping.ndc_key[:5]}-{mapping.ndc_key[5:9]}-{mapping.ndc_key[9:]}" in text
    operations = {dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount())}
    assert "ERP stock adjustment" in operations and "erp_adjust" not in operations


def test_history_at_1024_px_shows_the_counts_and_the_error(world: Any, qtbot: Any) -> None:
    window = MainWindow(world.services.connections, world.engine, lambda: None, monitoring=world.ctx)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    assert window.history is not None
    window.tabs.setCurrentWidget(window.history)
    qtbot.waitUntil(lambda: window.history.runs_model.rowCount() >= 1, timeout=5000)
    runs = window.history.runs
    names = [name for name, _ in RUN_COLUMNS]
    visible = runs.viewport().width()
    for name in ("Synced", "Failed", "Conflicts", "In doubt"):
        column = names.index(name)
        right = runs.columnViewportPosition(column) + runs.columnWidth(column)
        assert right <= visible, (name, right, visible)
    error = names.index("Error")
    assert runs.columnViewportPosition(error) + 80 <= visible  # at least the error's first words
    started = window.history.runs_model.index(0, 0).data()
    assert runs.columnWidth(0) >= runs.fontMetrics().horizontalAdvance(started) + 8, started  # not "02:29…"
    world.run(window.aclose())


def test_an_empty_history_says_what_is_empty_and_what_to_do(world: Any, qtbot: Any) -> None:
    spec = parse_connection(world.netsuite.credential_files(NS_URL)["netsuite.json"])
    fresh = world.services.connections.add(spec)
    view = HistoryView(world.ctx)
    qtbot.addWidget(view)
    view.show()
    view.set_connection(fresh)
    qtbot.waitUntil(lambda: view.empty_label.isVisible(), timeout=5000)
    assert view.empty_label.text().startswith("No sync has run yet")
    assert "Sync now" in view.empty_label.text()
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: not view.empty_label.isVisible(), timeout=5000)
