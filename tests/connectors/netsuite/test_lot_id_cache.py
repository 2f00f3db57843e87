"""A negative lot adjustment after a stock read costs one request: the read already saw the lot's id."""

from __future__ import annotations

from decimal import Decimal

from atlas_desktop.domain.model import StockChange

from .emulator_support import Clock, connect, make_emulator


async def test_issue_from_a_lot_seen_by_the_read_needs_no_lookup() -> None:
    clock = Clock()
    emulator = make_emulator(20, clock)
    connector = connect(emulator, clock)
    levels = [level async for level in connector.stock(None)]
    lot_level = next(level for level in levels if level.key.lot and level.quantity >= 2)
    before = connector.api_calls
    await connector.adjust_stock(StockChange(lot_level.key, Decimal(-1), lot_level.unit), "atl-lot-cache-1")
    assert connector.api_calls - before == 1
    item, location = int(lot_level.key.item_id), int(lot_level.key.location_id)
    assert emulator.state.stock(item, location, lot_level.key.lot) == lot_level.quantity - 1
    await connector.aclose()
