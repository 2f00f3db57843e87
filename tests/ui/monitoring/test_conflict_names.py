"""Issue 25: the Conflicts view names the item, never a raw Atlas id where a name is known (the ids are in
the tooltip), and counts in words with the right plural."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from atlas_desktop.ui.monitoring.conflicts_view import ConflictsView
from tests.ui.monitoring.test_views import make_clash

TOOLTIP = 3  # Qt.ItemDataRole.ToolTipRole


def open_view(world: Any, qtbot: Any) -> ConflictsView:
    view = ConflictsView(world.ctx)
    qtbot.addWidget(view)
    view.resize(1024, 600)
    view.show()
    view.set_connection(world.connection_id)
    qtbot.waitUntil(lambda: view.open_model.rowCount() == 1, timeout=5000)
    return view


def test_the_item_column_shows_the_name_and_the_ids_in_its_tooltip(world: Any, qtbot: Any) -> None:
    mapping = make_clash(world)
    # A mapping stored without a name (an older profile): the Atlas listing still names the item.
    with world.services.store.session() as session:
        session.execute(sa.text("UPDATE erp_inventory_mappings SET item_name = NULL WHERE id = :id"),
                        {"id": mapping.id})  # fmt: skip
        session.commit()
    atlas_name = world.atlas.row(mapping.atlas_inventory_id)["name"]
    view = open_view(world, qtbot)
    item = view.proxy.index(0, 0)
    assert item.data() == atlas_name
    assert mapping.atlas_inventory_id in item.data(TOOLTIP) and "inv_" not in item.data()
    assert mapping.atlas_inventory_id not in view.details.text() and atlas_name in view.details.text()


def test_the_selected_conflict_names_its_erp_location(world: Any, qtbot: Any) -> None:
    mapping = make_clash(world)
    names = world.run(world.ctx.locations.names(world.connection_id))
    where = names[mapping.erp_location_id]
    view = open_view(world, qtbot)
    qtbot.waitUntil(lambda: f" at {where}" in view.details.text(), timeout=5000)
