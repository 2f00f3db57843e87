"""Each connector checks quantities at the door: a refused row takes its own place in the read, never the
page's; a write the target cannot hold is refused before it is sent (a typed item error, never a crash)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from atlas_desktop.connectors.atlas import build_client
from atlas_desktop.connectors.atlas.client import _change_batch, _listing_page
from atlas_desktop.connectors.atlas.mapping import parse_row, read_row
from atlas_desktop.connectors.netsuite.mapping import adjustment_body, json_number
from atlas_desktop.connectors.sap.config import config_from_spec
from atlas_desktop.connectors.sap.mapping import movement_for
from atlas_desktop.domain.model import AtlasInventoryRow, StockChange, StockKey, StockLevel
from atlas_desktop.domain.quantity import QuantityRefused, RejectedRow
from atlas_desktop.domain.secrets import Secret
from tests.connectors.sap.helpers import make, spec
from tests.connectors.sap.test_reads import STOCK, Router

ROW: dict[str, Any] = {
    "id": "inv_1", "sku": None, "ndc": "59385-2918-6", "name": "Lisinopril", "lot_number": None,
    "expiry_date": None, "quantity": "184", "unit": "EA", "location": "MAIN", "version": 3,
    "updated_at": "2026-11-27T23:15:11Z", "deleted": False,
}  # fmt: skip


# ---- Atlas --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("quantity", ["1e400", "12345678901234567890.5", "NaN", "0.1234567", 184, "lots"])
def test_an_atlas_row_with_a_quantity_atlas_cannot_hold_is_refused_by_id(quantity: object) -> None:
    refused = read_row({**ROW, "quantity": quantity}, parse_row)
    assert isinstance(refused, RejectedRow) and refused.atlas_id == "inv_1"
    assert refused.ref == "Atlas row inv_1" and isinstance(refused.error, QuantityRefused)


def test_a_change_batch_keeps_its_good_rows_and_names_the_refused_ones() -> None:
    changes = [{**ROW, "id": "a"}, {**ROW, "id": "b", "quantity": "1e400"}, {**ROW, "id": "c"}]
    batch = _change_batch({"changes": changes, "cursor": "c9", "has_more": False})
    assert [row.id for row in batch.changes] == ["a", "c"] and batch.cursor == "c9"
    assert [row.atlas_id for row in batch.rejected] == ["b"]
    rows, _ = _listing_page({"items": changes, "next_cursor": None})
    assert [type(row) for row in rows] == [AtlasInventoryRow, RejectedRow, AtlasInventoryRow]


def test_a_deleted_row_is_not_refused_for_its_quantity_and_exponents_come_plain() -> None:
    deleted = read_row({**ROW, "quantity": "NaN", "deleted": True}, parse_row)
    assert isinstance(deleted, AtlasInventoryRow) and deleted.deleted and deleted.quantity == 0
    plain = read_row({**ROW, "quantity": "1.5E+2"}, parse_row)
    assert isinstance(plain, AtlasInventoryRow) and str(plain.quantity) == "150"
    assert read_row(dict(ROW), parse_row) == parse_row(dict(ROW))


async def test_an_atlas_adjustment_atlas_cannot_hold_is_refused_before_it_is_sent() -> None:
    sent: list[httpx.Request] = []
    client = build_client(
        "http://127.0.0.1:8765",
        token=Secret("atl_test_token_123456"),
        transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500)),
    )
    async with client:
        with pytest.raises(QuantityRefused, match="Atlas row inv_1"):
            await client.adjust("inv_1", Decimal("1e400"), key="k-1")
    assert sent == []


# ---- NetSuite -----------------------------------------------------------------------------------------
def test_a_netsuite_adjustment_netsuite_cannot_hold_is_refused_not_a_crash() -> None:
    for delta in (Decimal("1e400"), Decimal("12345678901234567575.5"), Decimal("0.1234567")):
        change = StockChange(StockKey("5", "1"), delta, "EA")
        with pytest.raises(QuantityRefused, match="NetSuite"):
            adjustment_body(change, "k", account_id="58", subsidiary_id=None, tran_date=date(2026, 1, 1))
    # The float limit is a refusal too now (it was a ValueError that stopped every later run).
    with pytest.raises(QuantityRefused):
        json_number(Decimal("1.0000000000000001"))


# ---- SAP ----------------------------------------------------------------------------------------------
def _stock_row(quantity: object, **key: str) -> dict[str, Any]:
    return {**STOCK[2], "MatlWrhsStkQtyInMatlBaseUnit": quantity, **key}


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "12345678901.500", "1.2345", "1e400"])
async def test_an_sap_position_sap_cannot_hold_is_refused_alone(quantity: str) -> None:
    router = Router()
    router.stock = [STOCK[0], _stock_row(quantity), _stock_row("3", Material="MAT-4")]
    read = [s async for s in make(router).stock()]
    assert [type(r) for r in read] == [StockLevel, RejectedRow, StockLevel]
    assert read[1].key == StockKey("MAT-2", "1020/0002", None)
    assert read[1].ref == "ERP stock MAT-2 at 1020/0002" and isinstance(read[1].error, QuantityRefused)


async def test_a_position_whose_rows_sum_past_13_3_is_refused() -> None:
    router = Router()
    big = _stock_row("9000000000", InventoryStockType="08")
    router.stock = [_stock_row("9000000000"), big]
    connector = make(router, settings={"field_mappings": {"stock_types": ["01", "08"]}})
    read = [s async for s in connector.stock()]
    assert len(read) == 1 and isinstance(read[0], RejectedRow) and "sum" in read[0].error.message


def test_an_sap_movement_sap_cannot_hold_is_refused_before_it_is_sent() -> None:
    config = config_from_spec(spec())
    for delta in (Decimal("12345678901"), Decimal("-0.0001")):
        change = StockChange(StockKey("MAT-2", "1020/0002"), delta, "EA")
        with pytest.raises(QuantityRefused, match="SAP"):
            movement_for(change, "k", config)

