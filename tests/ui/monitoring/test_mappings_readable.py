"""Issue 25, the Mappings view a person can read: at 1024×700 the numbers people compare and the Why
stay in view, the Name column has room, NDCs in the 5-4-2 form, names instead of Atlas ids (the id in a
tooltip), match methods and locations in words, and an empty table says what is empty and what to do."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.ndc import display_ndc
from atlas_desktop.ui.monitoring.mapping_model import COLUMNS
from atlas_desktop.ui.monitoring.mapping_view import MappingsView

TOOLTIP = 3  # Qt.ItemDataRole.ToolTipRole


def column(name: str) -> int:
    return next(i for i, (header, *_rest) in enumerate(COLUMNS) if header == name)


def shown(view: MappingsView, qtbot: Any, connection_id: str | None) -> None:
    qtbot.addWidget(view)
    view.resize(1000, 640)  # the Mappings tab of a 1024×700 window
    view.show()
    view.set_active(True)
    view.set_connection(connection_id)


def test_at_1024_the_quantities_and_why_are_in_view(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    shown(view, qtbot, world.connection_id)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
    room = view.table.viewport().width()
    for name in ("Atlas qty", "ERP qty", "Base", "Why"):
        col = column(name)
        right = view.table.columnViewportPosition(col) + view.table.columnWidth(col)
        assert 0 <= view.table.columnViewportPosition(col) and right <= room, (name, right, room)
    assert view.table.columnWidth(column("Name")) >= 180
    assert view.table.horizontalHeader().minimumSectionSize() >= 50  # never a ~20 px column


def test_rows_read_in_product_words(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    shown(view, qtbot, world.connection_id)
    view.show_status(MappingStatus.MATCHED)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
    headers = [h for h, *_ in COLUMNS]
    assert "Atlas row" not in headers
    qtbot.waitUntil(lambda: bool(view.model.location_names), timeout=5000)
    for row in range(view.model.rowCount()):
        mapping = view.model.row_at(row)
        cells = [view.model.index(row, c).data() for c in range(len(COLUMNS))]
        assert not any(str(cell).startswith("inv_") for cell in cells), cells
        name = view.model.index(row, column("Name"))
        assert name.data() == mapping.item_name and mapping.atlas_inventory_id in name.data(TOOLTIP)
        assert view.model.index(row, column("NDC")).data() == display_ndc(mapping.ndc_key)
        assert view.model.index(row, column("Match")).data() == "matched by NDC"
        assert view.model.index(row, column("Policy")).data() == "as the connection says"
        location = view.model.index(row, column("Location")).data()
        assert location and location != mapping.erp_location_id  # the ERP's name for it


def test_an_unnamed_row_shows_no_id_as_its_name(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    shown(view, qtbot, world.connection_id)
    view.show_status(MappingStatus.MATCHED)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
    unnamed = replace(view.model.row_at(0), item_name=None)
    view.model._pages[0][0] = unnamed  # as a row whose name neither side gave
    index = view.model.index(0, column("Name"))
    assert index.data() == "(no name)" and unnamed.atlas_inventory_id in index.data(TOOLTIP)


def test_empty_states_say_what_is_empty_and_what_to_do(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    shown(view, qtbot, None)
    assert view.empty.isVisible() and "No connection" in view.empty.text()
    assert not view.table.isVisible()

    view.set_connection(world.connection_id)
    view.search.setText("no such item zzzz")
    view.apply_filter()
    assert view.empty.isVisible() and "match" in view.empty.text() and "zzzz" in view.empty.text()
    assert view.clear_filter_button.isVisible() and not view.discover_button.isVisible()
    view.clear_filter_button.click()
    assert view.model.rowCount() > 0 and view.table.isVisible() and not view.empty.isVisible()

    spec = world.services.connections.get(world.connection_id)
    fresh = world.services.connections.add(replace(spec, name="Second NetSuite"))
    view.set_connection(fresh)
    assert view.empty.isVisible() and "discovery" in view.empty.text().lower()
    assert view.discover_button.isVisible() and view.discover_button.text() == "Run discovery…"
    view.discover_button.click()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=20_000)
    assert view.table.isVisible() and not view.empty.isVisible()


def test_a_bulk_action_counts_its_rows_in_words(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    shown(view, qtbot, world.connection_id)
    view.show_status(MappingStatus.MATCHED)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
    one = [view.model.row_at(0)]
    world.run(view.run_bulk(lambda mapping: None, one, "ignored"))
    assert view.message.text() == "1 row ignored."
