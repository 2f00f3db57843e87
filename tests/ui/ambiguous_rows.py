"""Ambiguous rows in a real synced world (tests/ui/monitoring's `world`), and the map dialog opened on one."""

from __future__ import annotations

from typing import Any

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.ui.monitoring.map_dialog import MapDialog
from atlas_desktop.ui.monitoring.mapping_view import MappingsView


def make_ambiguous(world: Any) -> dict[str, tuple[str, str, str | None]]:
    """The ERP-only stock gets an Atlas twin whose NDC can be read several ways: the ERP keeps the NDC as
    11 digits with two padding zeros (two 10-digit sources), Atlas as bare 10 digits. Discovery leaves
    such rows ambiguous with a suggestion. Returns Atlas row id -> the ERP position it truly is."""
    repo = world.engine.repos.mappings
    erp_only = repo.page(
        world.connection_id, status=MappingStatus.UNMATCHED_ERP, search=None, offset=0, limit=50
    )
    truth = {}
    for m in erp_only:
        n = int(m.erp_item_id)
        world.netsuite.state.edit_item(n, custitem_ndc_code=f"0{n:04d}-0{n:03d}-{n % 100:02d}")
        bare = f"{n:04d}0{n:03d}{n % 100:02d}"
        row = world.atlas.add_row(ndc=bare, name=f"{m.item_name} (Atlas)", lot_number=m.lot,
                                  location=m.erp_location_id, quantity=m.erp_quantity)  # fmt: skip
        truth[row["id"]] = (m.erp_item_id, m.erp_location_id, m.lot)
    found = world.run(world.engine.discover(world.connection_id))
    assert found.ambiguous == len(truth) >= 3
    return truth


def open_on_first_ambiguous(world: Any, qtbot: Any) -> tuple[MappingsView, MapDialog]:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.set_connection(world.connection_id)
    view.show_status(MappingStatus.AMBIGUOUS)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
    view.table.selectRow(0)
    assert view.map_button.isEnabled()
    view.on_map_button_clicked()
    dialog = view.map_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: bool(dialog.ranked), timeout=5000)
    return view, dialog
