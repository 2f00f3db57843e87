"""What a run wrote to the ERP shows in the window's mapping review as soon as the run ends: no stale
"Atlas 234 / ERP 239" until the next sync reads the ERP again (issue 24). Driven in the real window."""

from __future__ import annotations

from typing import Any

from review_quantities import shown_quantities

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.ui.main_window import MainWindow


def test_an_erp_write_a_run_confirmed_shows_in_the_review_when_the_run_ends(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 5)
    before, _erp = world.sides(mapping)
    window.open_review(world.connection_id, MappingStatus.MATCHED)
    assert window.tabs.currentWidget() is window.mappings
    qtbot.waitUntil(lambda: shown_quantities(window, mapping.id) == (before, before), timeout=5000)

    world.atlas.sell(mapping.atlas_inventory_id, 5)  # the next run carries -5 to the ERP
    run = world.run(world.engine.sync(world.connection_id))
    assert run.status is RunStatus.SUCCESS and run.items_synced == 1
    assert world.sides(mapping) == (before - 5, before - 5)
    # No other read of the ERP: the window reloads its views after the run, and the mirror holds the write.
    qtbot.waitUntil(lambda: shown_quantities(window, mapping.id) == (before - 5, before - 5), timeout=5000)
