"""Ambiguous rows resolved in seconds: "Map to ERP item…" lists the candidates discovery weighed, best
first, the obvious one selected; the next ambiguous row follows; every obvious one can be accepted at once."""

from __future__ import annotations

import asyncio
from typing import Any

from ambiguous_rows import make_ambiguous, open_on_first_ambiguous
from PySide6.QtCore import Qt

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.review_rows import ErpCandidate
from atlas_desktop.ui.monitoring.map_dialog import LOCATION, NAME, NDC


def test_map_lists_discoverys_candidates_best_first_with_the_obvious_one_selected(
    world: Any, qtbot: Any
) -> None:
    truth = make_ambiguous(world)
    view, dialog = open_on_first_ambiguous(world, qtbot)
    assert "No ERP stock position matches" not in dialog.message.text()
    best = dialog.ranked[0]
    assert "same NDC read as" in best.why and "same lot" in best.why and "same location" in best.why
    chosen = dialog.selected()
    assert chosen is best.position  # pre-selected
    assert (chosen.item_id, chosen.location_id, chosen.lot) == truth[dialog.mapping.atlas_inventory_id]
    assert [r.score for r in dialog.ranked] == sorted((r.score for r in dialog.ranked), reverse=True)
    assert dialog.table.item(0, NAME).text() and dialog.table.columnWidth(NAME) >= 200  # names readable
    assert "obvious match" in dialog.message.text()


def test_rows_are_resolved_one_after_another_or_every_obvious_one_at_once(world: Any, qtbot: Any) -> None:
    truth = make_ambiguous(world)
    view, dialog = open_on_first_ambiguous(world, qtbot)
    total = len(truth)
    qtbot.waitUntil(lambda: dialog.accept_obvious.isEnabled(), timeout=10_000)
    assert dialog.accept_obvious.text() == f"Accept {total} obvious matches"
    assert dialog.windowTitle().endswith(f"row 1 of {total}")
    first = dialog.mapping
    with qtbot.waitSignal(view.changed, timeout=5000):
        qtbot.mouseClick(dialog.map_button, Qt.MouseButton.LeftButton)  # the pre-selected one
    qtbot.waitUntil(lambda: dialog.mapping is not first and bool(dialog.ranked), timeout=5000)
    assert dialog.windowTitle().endswith(f"row 2 of {total}")  # on to the next ambiguous row
    assert dialog.accept_obvious.text() == f"Accept {total - 1} obvious matches"
    with qtbot.waitSignal(view.changed, timeout=5000):
        qtbot.mouseClick(dialog.accept_obvious, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert f"Mapped {total - 1} rows" in view.message.text()
    matched = world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )
    paired = {m.atlas_inventory_id: (m.erp_item_id, m.erp_location_id, m.lot) for m in matched}
    assert {atlas_id: paired.get(atlas_id) for atlas_id in truth} == truth


def test_closing_the_dialog_stops_its_reads(world: Any, qtbot: Any) -> None:
    make_ambiguous(world)
    _view, dialog = open_on_first_ambiguous(world, qtbot)
    never = asyncio.Event()
    dialog.tasks.start(never.wait())  # a read still going when the person closes the dialog
    qtbot.wait(20)
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.tasks.busy, timeout=1000)


def test_candidates_show_location_names_and_ndcs_in_the_one_display_form(world: Any, qtbot: Any) -> None:
    make_ambiguous(world)
    _view, dialog = open_on_first_ambiguous(world, qtbot)
    names = world.run(world.ctx.locations.names(world.connection_id))
    first = dialog.ranked[0].position
    assert names.get(first.location_id)
    qtbot.waitUntil(lambda: dialog.table.item(0, LOCATION).text() == names[first.location_id], timeout=5000)
    assert f"(id {first.location_id})" in dialog.table.item(0, LOCATION).toolTip()
    written = ErpCandidate(item_id="77", location_id="nowhere", lot=None, sku=None, name="Written 4-4-2",
                           ndc_text="0093-7153-01", quantity=None, mapped=False)  # fmt: skip
    dialog.show_candidates([written])
    ndc = dialog.table.item(0, NDC)
    assert ndc.text() == "00093-7153-01" and "0093-7153-01)" in ndc.toolTip()
    assert dialog.table.item(0, LOCATION).text() == "location nowhere"  # not one the ERP named


def test_an_erp_slow_to_name_its_locations_does_not_hold_the_candidates(world: Any, qtbot: Any) -> None:
    class Unanswered:
        async def names(self, connection_id: str) -> dict[str, str]:
            await asyncio.Event().wait()  # an offline ERP, still timing out
            return {}

    world.ctx._locations = Unanswered()
    make_ambiguous(world)
    _view, dialog = open_on_first_ambiguous(world, qtbot)  # candidates listed meanwhile
    first = dialog.ranked[0].position
    assert dialog.table.item(0, LOCATION).text() == f"location {first.location_id}"
    dialog.reject()
