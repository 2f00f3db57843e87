"""Issuing stock from a lot names the lot by its internal id: the stock read's `lot_ref`, else a lookup."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atlas_desktop.connectors.netsuite.mapping import FieldMap, stock_from_row
from atlas_desktop.domain.errors import ValidationFailed
from atlas_desktop.domain.model import StockChange, StockLevel

from .emulator_support import Clock, connect, make_emulator


def _lot_levels(levels: list[StockLevel]) -> list[StockLevel]:
    return [level for level in levels if level.key.lot and level.quantity >= 2]


async def test_the_read_carries_each_lots_id_and_an_issue_with_it_costs_one_request() -> None:
    clock = Clock()
    emulator = make_emulator(20, clock)
    connector = connect(emulator, clock)
    levels = [level async for level in connector.stock(None)]
    lot_level = _lot_levels(levels)[0]
    assert lot_level.lot_ref and lot_level.lot_ref.isdigit()
    assert all(level.lot_ref is None for level in levels if level.key.lot is None)
    before = connector.api_calls
    change = StockChange(lot_level.key, Decimal(-1), lot_level.unit, lot_ref=lot_level.lot_ref)
    await connector.adjust_stock(change, "atl-lot-ref-1")
    assert connector.api_calls - before == 1
    item, location = int(lot_level.key.item_id), int(lot_level.key.location_id)
    assert emulator.state.stock(item, location, lot_level.key.lot) == lot_level.quantity - 1
    await connector.aclose()


async def test_an_issue_without_the_lots_id_looks_it_up_first() -> None:
    clock = Clock()
    emulator = make_emulator(20, clock)
    connector = connect(emulator, clock)
    lot_level = _lot_levels([level async for level in connector.stock(None)])[0]
    before = connector.api_calls
    await connector.adjust_stock(StockChange(lot_level.key, Decimal(-1), lot_level.unit), "atl-lot-ref-2")
    assert connector.api_calls - before == 2  # the SuiteQL lookup, then the adjustment
    item, location = int(lot_level.key.item_id), int(lot_level.key.location_id)
    assert emulator.state.stock(item, location, lot_level.key.lot) == lot_level.quantity - 1
    await connector.aclose()


async def test_a_lot_id_of_another_item_is_refused_and_nothing_moves() -> None:
    clock = Clock()
    emulator = make_emulator(20, clock)
    connector = connect(emulator, clock)
    lots = _lot_levels([level async for level in connector.stock(None)])
    mine = lots[0]
    other = next(level for level in lots if level.key.item_id != mine.key.item_id)
    change = StockChange(mine.key, Decimal(-1), mine.unit, lot_ref=other.lot_ref)
    with pytest.raises(ValidationFailed):
        await connector.adjust_stock(change, "atl-lot-ref-3")
    item, location = int(mine.key.item_id), int(mine.key.location_id)
    assert emulator.state.stock(item, location, mine.key.lot) == mine.quantity
    await connector.aclose()


def test_a_lot_ref_is_only_kept_when_it_is_an_internal_id() -> None:
    row = {"item": "7", "location": "1", "stockunit": "EA", "lot": "L1", "expiry": None, "qty": "3"}
    assert stock_from_row({**row, "numid": "42"}, FieldMap(), lot_row=True).lot_ref == "42"
    assert stock_from_row({**row, "numid": "4x"}, FieldMap(), lot_row=True).lot_ref is None
    assert stock_from_row({**row, "numid": None}, FieldMap(), lot_row=True).lot_ref is None
    assert stock_from_row({**row, "numid": "42"}, FieldMap(), lot_row=False).lot_ref is None
