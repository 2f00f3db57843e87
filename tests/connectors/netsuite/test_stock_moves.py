"""An incremental stock read finds a change whatever transaction moved the stock (reference §9)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.activity import Component, StockActivity

from .emulator_support import Clock, connect, make_emulator
from .test_against_emulator import as_map, emulator_stock


def _lot_at(emulator: NetSuiteEmulator, locations: int = 1) -> tuple[int, str, list[int]]:
    """A lot item with one lot on hand at `locations` or more locations: (item, lot, those locations)."""
    row = emulator.state.one(
        "SELECT n.item, n.inventorynumber, GROUP_CONCAT(l.location) FROM inventorynumberlocation l "
        "JOIN inventorynumber n ON n.id = l.inventorynumber WHERE l.quantityonhand >= 5 "
        "GROUP BY n.id HAVING COUNT(*) >= ? ORDER BY n.item LIMIT 1",
        (locations,),
    )
    assert row is not None
    return int(row[0]), str(row[1]), sorted(int(x) for x in str(row[2]).split(","))


def _plain_at(emulator: NetSuiteEmulator, skip: int = 0) -> tuple[int, int]:
    row = emulator.state.query(
        "SELECT a.item, a.location FROM aggregateitemlocation a JOIN item i ON i.id = a.item "
        "WHERE i.islotitem = 'F' AND a.quantityonhand >= 5 ORDER BY a.item, a.location"
    )[skip]
    return int(row[0]), int(row[1])


Move = Callable[[NetSuiteEmulator, StockActivity], set[tuple[str, str, str | None]]]


def receipt(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    item, location = _plain_at(emulator)
    activity.item_receipt(item, location, 3)
    return {(str(item), str(location), None)}


def fulfilment(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    item, lot, (location, *_) = _lot_at(emulator)
    activity.fulfil(item, location, 2, lot)
    return {(str(item), str(location), lot)}


def cash_sale(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    item, location = _plain_at(emulator)
    activity.sell(item, location, 2)
    return {(str(item), str(location), None)}


def invoice(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    item, lot, (location, *_) = _lot_at(emulator)
    activity.sell(item, location, 1, lot, invoice=True)
    return {(str(item), str(location), lot)}


def transfer(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    item, lot, (source, target, *_) = _lot_at(emulator, locations=2)
    activity.transfer(item, source, target, 4, lot)
    return {(str(item), str(source), lot), (str(item), str(target), lot)}


def plain_transfer_to_a_new_location(
    emulator: NetSuiteEmulator, activity: StockActivity
) -> set[tuple[str, str, str | None]]:
    item, source = _plain_at(emulator)
    rows = emulator.state.query("SELECT location FROM aggregateitemlocation WHERE item = ?", (item,))
    held = {int(r[0]) for r in rows}
    target = next(loc for loc in (1, 2, 3) if loc not in held)
    activity.transfer(item, source, target, 2)
    return {(str(item), str(source), None), (str(item), str(target), None)}


def assembly_build(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    part, location = _plain_at(emulator)
    assembly = next(i for i in emulator.state.item_ids(lot=False, limit=20) if i != part)
    activity.build(assembly, location, 1, [Component(part, 2)])
    return {(str(assembly), str(location), None), (str(part), str(location), None)}


def status_change(emulator: NetSuiteEmulator, activity: StockActivity) -> set[tuple[str, str, str | None]]:
    item, lot, (location, *_) = _lot_at(emulator)
    activity.change_status(item, location, 2, lot, to_status=2)
    return {(str(item), str(location), lot)}


@pytest.mark.parametrize(
    "move",
    [
        receipt,
        fulfilment,
        cash_sale,
        invoice,
        transfer,
        plain_transfer_to_a_new_location,
        assembly_build,
        status_change,
    ],
)
async def test_incremental_stock_read_finds_the_move(move: Move) -> None:
    clock = Clock()
    emulator = make_emulator(80, clock)
    connector = connect(emulator, clock)
    [lv async for lv in connector.stock()]
    mark = connector.read_watermark("stock")
    clock.advance(5)
    before = emulator_stock(emulator)
    touched = move(emulator, emulator.activity)

    got = as_map([lv async for lv in connector.stock(mark)])
    truth = emulator_stock(emulator)
    assert touched <= set(got), f"not re-read: {touched - set(got)}"
    assert all(truth[key] == qty for key, qty in got.items())
    changed: dict[Any, Decimal] = {k: v for k, v in truth.items() if before.get(k) != v}
    assert set(changed) <= set(got)  # every position that moved came back, with its new quantity
    await connector.aclose()
