"""What a run wrote to the ERP shows in the mirror (and the mapping review) as soon as it is confirmed.

Issue 24: after a sale of 5 on Atlas was carried to the ERP, the review showed Atlas 234 / ERP 239 until
the next sync read the ERP again.
"""

from __future__ import annotations

from decimal import Decimal

from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.engine.api import RunStatus
from tests.engine.test_sync_e2e import World, matched, sides, world  # noqa: F401 - `world` is a fixture


def review_row(built: World, mapping_id: int) -> tuple[Decimal | None, Decimal | None]:
    """(Atlas, ERP) quantities as the mapping review shows them: the mirrors, not the remotes."""
    rows = built.engine.repos.mappings.page(
        built.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
    )
    row = next(r for r in rows if r.id == mapping_id)
    return row.atlas_quantity, row.erp_quantity


async def test_a_confirmed_erp_write_shows_in_the_review_without_another_read(
    world: World,  # noqa: F811 - the fixture
) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)
    assert first.status is RunStatus.SUCCESS, first.error_message
    mapping = next(m for m in matched(world) if sides(world, m)[0] >= 5)
    atlas_before, _ = sides(world, mapping)

    world.atlas.sell(mapping.atlas_inventory_id, 5)  # the run carries -5 to the ERP
    run = await engine.sync(cid)
    assert run.status is RunStatus.SUCCESS and run.items_synced >= 1, run.error_message

    expected = atlas_before - 5
    assert sides(world, mapping) == (expected, expected)  # the remotes
    assert review_row(world, mapping.id) == (expected, expected)  # and what the window shows

    # The next read sees the value the mirror already holds: nothing to carry, nothing counted twice.
    idle = await engine.sync(cid)
    assert idle.status is RunStatus.SUCCESS and idle.items_synced == 0
    assert review_row(world, mapping.id) == (expected, expected)
    assert sides(world, mapping) == (expected, expected)
