"""Each monitoring view driven against a store a real sync filled: conflicts resolved from the table reach
both emulators, a row mapped by search is carried by the next sync, a failed item replays once fixed."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt

from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import ConnectionStatus, MappingStatus, Resolution
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.health import HealthKind
from atlas_desktop.ui.monitoring.conflicts_view import ConflictsView
from atlas_desktop.ui.monitoring.dashboard import DashboardView
from atlas_desktop.ui.monitoring.explain_dialog import ExplainDialog
from atlas_desktop.ui.monitoring.history_view import HistoryView
from atlas_desktop.ui.monitoring.mapping_view import MappingsView


def make_clash(world: Any) -> Any:
    """Atlas sold everything while the ERP issued everything: below zero, so a conflict opens."""
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    atlas_qty, erp_qty = world.sides(mapping)
    world.atlas.sell(mapping.atlas_inventory_id, atlas_qty)
    world.netsuite.state.issue(int(mapping.erp_item_id), int(mapping.erp_location_id), erp_qty, mapping.lot)
    run = world.run(world.engine.sync(world.connection_id))
    assert run.conflicts_opened == 1
    return mapping


def test_dashboard_is_never_green_while_a_conflict_waits(world: Any, qtbot: Any) -> None:
    view = DashboardView(world.ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.reloaded, timeout=5000):
        view.reload()
    card = view.cards[world.connection_id]
    assert card.health is HealthKind.IN_SYNC
    assert int(card.values["mapped"].text().replace(",", "")) > 20
    assert int(card.values["unmapped"].text().replace(",", "")) > 0
    assert len(card.chart.bars) == 1 and card.chart.bars[0].status == "success"

    make_clash(world)
    with qtbot.waitSignal(view.reloaded, timeout=5000):
        view.reload()
    assert card.health is HealthKind.NEEDS_CHOICE
    assert card.values["conflicts"].text() == "1"
    assert card.choices["conflicts"].text().startswith("1 conflict to decide")

    with qtbot.waitSignal(view.reloaded, timeout=5000):
        card.pause_button.click()
    assert world.services.connections.summary(world.connection_id).status is ConnectionStatus.PAUSED
    # The conflict still waits for a person, which outranks "paused"; the card says both.
    assert card.health is HealthKind.NEEDS_CHOICE and card.pause_button.text() == "Resume"
    assert card.problems.text() == "Paused."
    assert not card.sync_button.isEnabled()


def test_resolving_a_conflict_in_the_table_changes_both_emulators(world: Any, qtbot: Any) -> None:
    mapping = make_clash(world)
    assert world.sides(mapping) == (Decimal(0), Decimal(0))
    view = ConflictsView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.open_model.rowCount() == 1, timeout=5000)
    assert view.proxy.index(0, 3).data() == "quantity"
    view.table.selectRow(0)
    qtbot.waitUntil(view.enter_value.isEnabled, timeout=5000)  # once the load that filled the table ends
    with qtbot.waitSignal(view.resolved, timeout=20_000) as resolved:
        view.resolve_selected(Resolution.VALUE, "4")
    assert resolved.args == [1], view.message.text()
    assert world.sides(mapping) == (Decimal(4), Decimal(4))  # both emulators now hold the chosen value
    assert view.open_model.rowCount() == 0
    assert view.history_model.rowCount() == 1
    history = view.history_model.index(0, 8).data()
    assert history == "4"


def test_a_row_selected_while_the_view_is_busy_can_be_resolved_once_it_ends(world: Any, qtbot: Any) -> None:
    make_clash(world)
    view = ConflictsView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.open_model.rowCount() == 1 and not view.tasks.busy, timeout=5000)
    view.tasks.start(asyncio.sleep(0.05))  # e.g. the end of a load or of an earlier resolution
    view.table.selectRow(0)
    assert not view.enter_value.isEnabled()  # nothing is resolved twice at once
    qtbot.waitUntil(lambda: not view.tasks.busy, timeout=5000)
    assert view.table.selectionModel().selectedRows()
    assert view.enter_value.isEnabled() and view.take_atlas.isEnabled() and view.take_erp.isEnabled()


def test_mapping_an_unmatched_row_by_search_makes_the_next_sync_carry_it(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    view.status_filter.setCurrentIndex(view.status_filter.findData(MappingStatus.UNMATCHED_ATLAS))
    assert view.model.rowCount() > 0
    atlas_side = view.model.row_at(0)
    assert atlas_side is not None and atlas_side.status is MappingStatus.UNMATCHED_ATLAS
    erp_side = world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.UNMATCHED_ERP, search=None, offset=0, limit=1
    )[0]

    view.table.selectRow(0)
    assert view.map_button.isEnabled()
    view.on_map_button_clicked()
    dialog = view.map_dialog
    assert dialog is not None
    qtbot.waitSignal(dialog.searched, timeout=5000).wait()  # the candidates discovery found (none here)
    with qtbot.waitSignal(dialog.searched, timeout=5000):
        dialog.search.setText(erp_side.erp_item_id)  # search by the ERP item the person recognises
    row = next(i for i, c in enumerate(dialog.candidates) if c.location_id == erp_side.erp_location_id
               and c.lot == erp_side.lot and c.item_id == erp_side.erp_item_id)  # fmt: skip
    dialog.table.selectRow(row)
    with qtbot.waitSignal(view.changed, timeout=5000):
        dialog.buttons.accepted.emit()
    assert "Mapped" in view.message.text(), view.message.text()
    chosen = dialog.candidates[row]
    if chosen.name:  # issue 25: the item by name, not "ERP item 138"
        assert f"Mapped to {chosen.name}" in view.message.text(), view.message.text()

    paired = world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.MATCHED, search=atlas_side.atlas_inventory_id,
        offset=0, limit=5,
    )  # fmt: skip
    mapping = next(m for m in paired if m.atlas_inventory_id == atlas_side.atlas_inventory_id)
    assert mapping.erp_item_id == erp_side.erp_item_id
    run = world.run(world.engine.sync(world.connection_id))
    assert run.status is RunStatus.SUCCESS, run.error_message
    atlas_qty, erp_qty = world.sides(mapping)
    assert atlas_qty == erp_qty  # the next sync carried it: the ERP's count (initial source) reached Atlas
    assert world.engine.repos.mappings.get(mapping.id).base_quantity == erp_qty


def test_mapping_a_row_another_connection_maps_is_refused_naming_it(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    view.status_filter.setCurrentIndex(view.status_filter.findData(MappingStatus.UNMATCHED_ATLAS))
    atlas_side = view.model.row_at(0)
    assert atlas_side is not None and atlas_side.atlas_inventory_id
    # A second connection of the profile (another ERP) already maps this Atlas row.
    other = world.services.connections.add(world.services.connections.get(world.connection_id))
    world.services.connections.update(other, name="SAP plant 1000")
    draft = MappingDraft(atlas_side.atlas_inventory_id, "MAT-1", "1000/0001", None, None, None, None,
                         "Drug", MappingStatus.MATCHED, None)  # fmt: skip
    world.engine.repos.mappings.apply_discovery(other, [draft])
    erp_side = world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.UNMATCHED_ERP, search=None, offset=0, limit=1
    )[0]

    view.table.selectRow(0)
    view.on_map_button_clicked()
    dialog = view.map_dialog
    qtbot.waitSignal(dialog.searched, timeout=5000).wait()  # the candidates discovery found (none here)
    with qtbot.waitSignal(dialog.searched, timeout=5000):
        dialog.search.setText(erp_side.erp_item_id)
    dialog.table.selectRow(
        next(i for i, c in enumerate(dialog.candidates) if c.item_id == erp_side.erp_item_id)
    )
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(
        lambda: "already mapped by connection 'SAP plant 1000'" in view.message.text(), timeout=5000
    )
    assert world.engine.repos.mappings.get(atlas_side.id).status is MappingStatus.UNMATCHED_ATLAS


def test_unmap_direction_and_policy_on_a_selection(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    view.status_filter.setCurrentIndex(view.status_filter.findData(MappingStatus.MATCHED))
    first, second = view.model.row_at(0), view.model.row_at(1)
    view.select_rows([0, 1])
    assert len(view.selected()) == 2
    view.direction.setCurrentIndex(view.direction.findText("Atlas → ERP"))
    with qtbot.waitSignal(view.changed, timeout=5000):
        view.direction_button.click()
    view.select_rows([0, 1])
    view.policy.setCurrentIndex(view.policy.findText("ERP wins"))
    with qtbot.waitSignal(view.changed, timeout=5000):
        view.policy_button.click()
    repo = world.engine.repos.mappings
    assert {str(repo.get(m.id).sync_direction) for m in (first, second)} == {"atlas_to_erp"}
    assert {str(repo.get(m.id).conflict_policy) for m in (first, second)} == {"erp_wins"}
    before = view.model.rowCount()
    view.select_rows([0])
    with qtbot.waitSignal(view.changed, timeout=5000):
        view.unmap_button.click()
    assert view.model.rowCount() == before - 1
    assert repo.count(
        world.connection_id, status=MappingStatus.UNMATCHED_ATLAS, search=first.atlas_inventory_id
    )


def test_replay_of_a_failed_item_succeeds_once_the_fault_is_removed(world: Any, qtbot: Any) -> None:
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    _, erp_before = world.sides(mapping)
    world.atlas.sell(mapping.atlas_inventory_id, 1)
    rule = world.netsuite.faults.add(
        "status", path="/record/v1/inventoryAdjustment", method="POST", status=400
    )
    failed = world.run(world.engine.sync(world.connection_id))
    assert failed.status is RunStatus.PARTIAL and failed.items_failed == 1, failed
    assert world.sides(mapping)[1] == erp_before

    view = HistoryView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.errors_model.rowCount() == 1, timeout=5000)
    error = view.errors_model.rows[0]
    assert error.mapping_id == mapping.id
    assert error.fix, "a plain-words explanation is shown"
    assert view.errors_model.index(0, 3).data() == error.fix
    assert view.runs_model.index(0, 2).data() == "partial"

    world.netsuite.faults.rules.remove(rule)  # the cause is fixed (e.g. the item was re-activated)
    assert view.replay_button.isEnabled()
    with qtbot.waitSignal(view.replayed, timeout=20_000) as replayed:
        view.replay_button.click()
    assert replayed.args[0].status is RunStatus.SUCCESS, replayed.args[0]
    assert world.sides(mapping) == (erp_before - 1, erp_before - 1)
    assert not world.engine.repos.runs.unreplayed_errors(world.connection_id)

    dialog = ExplainDialog(world.ctx, mapping.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.mapping is not None, timeout=5000)
    statuses = {dialog.table.item(r, 4).text() for r in range(dialog.table.rowCount())}
    assert {"failed", "done"} <= statuses
    keys = [dialog.table.item(r, 6).text() for r in range(dialog.table.rowCount())]
    assert len(set(keys)) == len(keys) and all(keys)  # each write has its own idempotency key
    assert "Base" in dialog.summary.text()
    assert dialog.table.item(0, 1).text() == "ERP"
    # The replayed ERP change went batched: its remote id is its document's, named with the batch's key.
    done = next(r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 4).text() == "done")
    document = dialog.table.item(done, 7)
    assert document.text() and "Carried by the ERP document " + document.text() in document.toolTip()
    assert "atb-" in document.toolTip()


def test_mapping_model_filters_searches_and_sorts_in_sql(world: Any, qtbot: Any, qtmodeltester: Any) -> None:
    from atlas_desktop.store.review_table import ReviewTable
    from atlas_desktop.ui.monitoring.mapping_model import MappingTableModel

    model = MappingTableModel(ReviewTable(world.services.store), page_size=7)  # several pages on 40 items
    model.set_query(world.connection_id)
    qtmodeltester.check(model, force_py=True)
    total = model.rowCount()
    ids = [model.index(r, 0).data(Qt.ItemDataRole.UserRole + 1) for r in range(total)]
    assert total > 30 and len(set(ids)) == total and model.pages_read >= total // 7
    some = world.matched()[3]
    ndc_key = some.ndc_key
    hyphenated = f"{ndc_key[:5]}-{ndc_key[5:9]}-{ndc_key[9:]}"
    model.set_query(world.connection_id, search=hyphenated)
    assert 1 <= model.rowCount() < total
    assert all(model.row_at(r).ndc_key == ndc_key for r in range(model.rowCount()))
    model.set_query(world.connection_id, status=MappingStatus.UNMATCHED_ERP)
    assert all(model.row_at(r).status is MappingStatus.UNMATCHED_ERP for r in range(model.rowCount()))
    model.set_query(world.connection_id)
    model.sort(2, Qt.SortOrder.DescendingOrder)
    names = [model.row_at(r).item_name or "" for r in range(model.rowCount())]
    assert names == sorted(names, reverse=True)
    qtmodeltester.check(model, force_py=True)


def test_a_conflict_shows_whole_values_and_why_and_asks_before_overwriting(world: Any, qtbot: Any) -> None:
    mapping = make_clash(world)
    view = ConflictsView(world.ctx)
    qtbot.addWidget(view)
    view.resize(1024, 600)
    view.show()
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.open_model.rowCount() == 1, timeout=5000)
    conflict = view.open_model.rows[0]
    # Values are whole in the table, and the first conflict's "why" is in view without a click.
    for column in (4, 5, 6):
        text = view.proxy.index(0, column).data()
        needed = view.table.fontMetrics().horizontalAdvance(text)
        assert view.table.columnWidth(column) >= needed, (column, text)
    assert "Why:" in view.details.text() and (conflict.note or "—") in view.details.text()
    assert not view.empty.isVisible()
    # Take ERP asks first; Cancel changes nothing.
    view.table.selectRow(0)
    box = view.confirm_overwrite(Resolution.TAKE_ERP)
    assert box is not None and "overwrite the Atlas value" in box.text() and "1 conflict " in box.text()
    box.reject()
    assert view.open_model.rowCount() == 1 and world.sides(mapping) == (Decimal(0), Decimal(0))
    box = view.confirm_overwrite(Resolution.TAKE_ERP)
    with qtbot.waitSignal(view.resolved, timeout=20_000):
        box.accept()
    qtbot.waitUntil(lambda: view.open_model.rowCount() == 0, timeout=5000)
    assert view.empty.isVisible() and "No conflicts" in view.empty.text()
    assert view.message.text().startswith("1 conflict resolved")
