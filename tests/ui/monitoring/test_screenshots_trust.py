"""The preview's list of changes, the ambiguous-row dialog, discovery's reasons and the review's ERP-only
items (information), rendered from a store real
syncs filled; PNGs go to ATLAS_SCREENSHOT_DIR when set (docs/screenshots)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ambiguous_rows import make_ambiguous, open_on_first_ambiguous

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.ui.monitoring.mapping_view import MappingsView
from atlas_desktop.ui.widgets.changes_dialog import ChangesDialog
from atlas_desktop.ui.wizard.unmatched_dialog import UnmatchedDialog


def test_preview_list_screenshot(world: Any, qtbot: Any, shoot: Any) -> None:
    mappings = [m for m in world.matched() if world.sides(m)[0] >= 3]
    for mapping in mappings[:6]:
        world.atlas.sell(mapping.atlas_inventory_id, 2)
    for mapping in mappings[6:9]:
        world.netsuite.state.receive(
            int(mapping.erp_item_id), int(mapping.erp_location_id), Decimal(12), mapping.lot
        )
    world.netsuite.state.edit_item(
        int(mappings[9].erp_item_id), displayname="Amoxicillin 500 mg caps, 100 ct"
    )
    plan = world.run(world.engine.preview(world.connection_id))
    assert len(plan.changes) >= 10
    dialog = ChangesDialog(plan.changes, title="What the sync will change", kinds=plan.kinds)
    qtbot.addWidget(dialog)
    dialog.resize(1280, 560)
    shoot(dialog, "preview-changes.png")


def test_ambiguous_resolution_screenshot(world: Any, qtbot: Any, shoot: Any) -> None:
    make_ambiguous(world)
    _view, dialog = open_on_first_ambiguous(world, qtbot)
    qtbot.waitUntil(dialog.accept_obvious.isEnabled, timeout=10_000)
    shoot(dialog, "map-ambiguous.png")


def test_unmatched_reasons_screenshot(world: Any, qtbot: Any, shoot: Any) -> None:
    known = next(m for m in world.matched() if m.lot)
    world.atlas.add_row(ndc="", name="Hydrocortisone 1% cream, 30 g", quantity=4)
    world.atlas.add_row(ndc="99999-9999-99", name="Vitamin D3 1000 IU caps, 90", quantity=12)
    world.atlas.add_row(ndc=known.ndc_text_atlas, name=f"{known.item_name} (north)", lot_number=known.lot,
                        location="WH-NORTH", quantity=6)  # fmt: skip
    world.run(world.engine.discover(world.connection_id))
    rows = world.run(world.engine.unmatched_atlas(world.connection_id))
    dialog = UnmatchedDialog(rows)
    qtbot.addWidget(dialog)
    shoot(dialog, "discovery-unmatched-why.png")


def test_erp_only_items_as_information_screenshot(world: Any, qtbot: Any, shoot: Any) -> None:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.resize(1240, 380)
    view.set_connection(world.connection_id)
    view.show_status(MappingStatus.UNMATCHED_ERP)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and bool(view.model.location_names), timeout=5000)
    assert "information, not a failure" in view.info.text()
    shoot(view, "mappings-erp-only-information.png")
