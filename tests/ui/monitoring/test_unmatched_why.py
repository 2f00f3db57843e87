"""The mapping review says why each Atlas row found no ERP position (the Why column), and that ERP items not
listed on Atlas are information, not a failure (there and in discovery)."""

from __future__ import annotations

from typing import Any

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.engine.api import DiscoverySummary
from atlas_desktop.engine.unmatched import UnmatchedRow
from atlas_desktop.ui.monitoring.mapping_model import COL_MATCH, COL_WHY
from atlas_desktop.ui.monitoring.mapping_view import MappingsView
from atlas_desktop.ui.wizard.discovery_page import summary_html
from atlas_desktop.ui.wizard.unmatched_dialog import UnmatchedDialog


def test_the_why_column_names_the_reason_and_its_tooltip_the_note(world: Any, qtbot: Any) -> None:
    known = next(m for m in world.matched() if m.lot)
    world.atlas.add_row(ndc="", name="AAA no NDC cream", quantity=4)
    world.atlas.add_row(ndc=known.ndc_text_atlas, name="AAA elsewhere", lot_number=known.lot,
                        location="WH-NORTH", quantity=6)  # fmt: skip
    world.run(world.engine.discover(world.connection_id))
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.set_active(True)
    view.set_connection(world.connection_id)
    view.show_status(MappingStatus.UNMATCHED_ATLAS)
    qtbot.waitUntil(lambda: view.model.rowCount() >= 2, timeout=5000)
    rows = {}
    for row in range(view.model.rowCount()):
        index = view.model.index(row, COL_WHY)
        rows[view.model.row_at(row).item_name] = (index.data(), index.data(3))  # 3: ToolTipRole
    assert rows["AAA no NDC cream"] == ("no NDC on the Atlas listing", "NDC not usable: no NDC")
    why, note = rows["AAA elsewhere"]
    assert why == "location not mapped to an ERP location" and "WH-NORTH" in note


def test_the_unmatched_list_shows_each_ndc_in_the_one_display_form(qtbot: Any) -> None:
    def row(ndc: str) -> UnmatchedRow:
        return UnmatchedRow(item="Amoxicillin", ndc=ndc, lot="", location="", reason="", note="", fix="")

    dialog = UnmatchedDialog([row("0093-7153-01"), row("0093715301"), row("")])
    qtbot.addWidget(dialog)
    shown = [dialog.model.index(r, 1).data() for r in range(3)]
    assert shown == ["00093-7153-01", "0093715301", "—"]  # an ambiguous NDC stays as Atlas holds it


def test_items_only_in_the_erp_are_said_to_be_information_not_a_failure(world: Any, qtbot: Any) -> None:
    view = MappingsView(world.ctx)
    qtbot.addWidget(view)
    view.show()
    view.set_connection(world.connection_id)
    assert view.info.isHidden()
    view.show_status(MappingStatus.UNMATCHED_ERP)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
    assert view.status_filter.currentText() == "Only in ERP (information)"
    assert not view.info.isHidden()
    assert view.info.text().startswith("These ERP items are not listed on Atlas: information, not a failure.")
    whys = {view.model.index(row, COL_WHY).data() for row in range(view.model.rowCount())}
    assert whys == {"information: not on Atlas"}
    # Nothing is pending on these rows: the Match column does not read "not matched yet" like a failure.
    matches = {view.model.index(row, COL_MATCH).data() for row in range(view.model.rowCount())}
    assert matches == {"not on Atlas"}
    view.show_status(MappingStatus.AMBIGUOUS)
    assert view.info.isHidden()


def test_discovery_says_items_only_in_the_erp_are_information() -> None:
    html = summary_html(DiscoverySummary(3, 0, 1, 2))
    assert "In the ERP, not listed on Atlas (information)" in html
