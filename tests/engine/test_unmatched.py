"""Discovery's "N on Atlas, not found in the ERP" says why, per row and counted by reason."""

from __future__ import annotations

import pytest

from atlas_desktop.engine.unmatched import LABELS, Unmatched, classify
from tests.engine import test_sync_e2e as e2e
from tests.engine.test_sync_e2e import World, matched

world = e2e.world  # the seeded sandbox world fixture


@pytest.mark.parametrize("world", ["netsuite"], indirect=True)
async def test_each_atlas_row_not_found_in_the_erp_says_why(world: World) -> None:
    engine, cid = world.engine, world.connection_id
    await engine.discover(cid)
    known = next(m for m in matched(world) if m.lot)
    rows = {
        Unmatched.NO_NDC: world.atlas.add_row(ndc="", name="No NDC cream", quantity=3),
        Unmatched.NDC_UNREADABLE: world.atlas.add_row(ndc="12-34", name="Typo tabs", quantity=3),
        Unmatched.NDC_NOT_IN_ERP: world.atlas.add_row(ndc="99999-9999-99", name="Unknown caps", quantity=3),
        Unmatched.LOCATION_NOT_MAPPED: world.atlas.add_row(
            ndc=known.ndc_text_atlas, name="Elsewhere", lot_number=known.lot, location="WH-NORTH", quantity=3
        ),
        Unmatched.LOT_NOT_IN_ERP: world.atlas.add_row(
            ndc=known.ndc_text_atlas, name="New lot", lot_number="NOPE-1", location=known.erp_location_id,
            quantity=3,
        ),
    }  # fmt: skip
    summary = await engine.discover(cid)
    reasons = dict(summary.unmatched_reasons)
    assert sum(reasons.values()) == summary.unmatched_atlas
    for reason in rows:
        assert reasons.get(LABELS[reason], 0) >= 1, (reason, reasons)

    explained = {row.item: row for row in await engine.unmatched_atlas(cid)}
    assert len(explained) == summary.unmatched_atlas
    for reason, row in rows.items():
        line = explained[row["name"]]
        assert line.reason == LABELS[reason] and line.fix and classify(line.note) is reason
    assert explained["Elsewhere"].location == "WH-NORTH" and "WH-NORTH" in explained["Elsewhere"].note
    assert explained["New lot"].lot == "NOPE-1"
