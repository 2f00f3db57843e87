"""ERP users at work: the stock-moving transactions people post in NetSuite, besides adjustments.

Stock moves through many transaction types: receipts, fulfilments, transfers, cash
sales and invoices, assembly builds and inventory status changes all move stock, each line flagged
`transactionline.isinventoryaffecting = 'T'`. Lots move through inventoryassignment rows: a receipt
creates the lot (receiptInventoryNumber), every other move names an existing one (issueInventoryNumber).
Emulator decisions where Oracle's documentation is silent (unverified):
- a line's `quantity` is its stock effect (negative = out), as sales and fulfilment lines read in SuiteQL;
- an inventory transfer has two lines per item, out at `location` and in at `transferlocation`;
- an assembly build's assembly is line 1 (in), its components the following lines (out); any item may be
  built (the catalog has no assembly items), and an inventory status change has two lines per item, out of
  the old status and into the new one at the same location.

`POST /_sandbox/netsuite/transactions` posts one of them over HTTP (tests over sockets, the demo):
JSON `{"type": "InvTrnfr", "item": 101, "location": 1, "to_location": 2, "quantity": "3", "lot": "L1"}`;
`components` ([{item, quantity, lot}]) for Build, `to_status`/`from_status` for InvStCng, `expiry` for a
receipt. Answers `{"id": <transaction id>}`; a refusal answers the Record API's error body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from atlas_desktop.sandbox.netsuite.errors import ERROR_CONTENT_TYPE, NsError, invalid_content
from atlas_desktop.sandbox.netsuite.state import (
    GOOD,
    INVENTORY_STATUSES,
    AdjustmentLine,
    Assignment,
    NetSuiteState,
    date_text,
)

TRANSACTIONS_PATH = "/_sandbox/netsuite/transactions"
Quantity = Decimal | int | str


@dataclass(frozen=True)
class Component:
    item: int
    quantity: Quantity
    lot: str | None = None


class StockActivity:
    """Posts the transactions of warehouse, sales and production users; each returns the transaction id."""

    def __init__(self, state: NetSuiteState) -> None:
        self.state = state

    # ---- one transaction per kind ------------------------------------------------------------------

    def item_receipt(
        self, item: int, location: int, qty: Quantity, lot: str | None = None, expiry: date | None = None
    ) -> int:
        quantity = _positive(qty)
        line = AdjustmentLine(item, location, quantity, self._receipt(item, quantity, lot, expiry))
        return self._post("ItemRcpt", location, [line], memo="received against a purchase order")

    def fulfil(self, item: int, location: int, qty: Quantity, lot: str | None = None) -> int:
        return self._post("ItemShip", location, [self._out(item, location, qty, lot)], memo="shipped")

    def sell(
        self, item: int, location: int, qty: Quantity, lot: str | None = None, *, invoice: bool = False
    ) -> int:
        """A cash sale, or an invoice (without Advanced Shipping an invoice ships the goods itself)."""
        kind = "CustInvc" if invoice else "CashSale"
        return self._post(kind, location, [self._out(item, location, qty, lot)], memo="sold")

    def transfer(self, item: int, source: int, target: int, qty: Quantity, lot: str | None = None) -> int:
        if source == target:
            raise invalid_content("An inventory transfer needs two different locations.")
        out = self._out(item, source, qty, lot)
        inward = AdjustmentLine(
            item, target, -out.quantity, [Assignment(-a.quantity, lot_id=a.lot_id) for a in out.assignments]
        )
        header = {"transferlocation": target}
        return self._post("InvTrnfr", source, [out, inward], memo="transfer", header=header)

    def build(
        self,
        assembly: int,
        location: int,
        qty: Quantity,
        components: Sequence[Component],
        lot: str | None = None,
        expiry: date | None = None,
    ) -> int:
        """Components out, the assembly in, at one location (e.g. a repack of bulk into unit doses)."""
        if not components:
            raise invalid_content("An assembly build needs at least one component.")
        quantity = _positive(qty)
        made = AdjustmentLine(assembly, location, quantity, self._receipt(assembly, quantity, lot, expiry))
        used = [self._out(c.item, location, c.quantity, c.lot) for c in components]
        return self._post("Build", location, [made, *used], memo="assembly build")

    def change_status(
        self,
        item: int,
        location: int,
        qty: Quantity,
        lot: str | None = None,
        *,
        to_status: int = 2,
        from_status: int = GOOD,
    ) -> int:
        """Move stock between inventory statuses (e.g. Good -> Quarantine): on hand stays, available moves."""
        for status in (to_status, from_status):
            if status not in INVENTORY_STATUSES:
                raise invalid_content(f"Inventory status {status} does not exist.")
        if to_status == from_status:
            raise invalid_content("The new inventory status must differ from the previous one.")
        out = self._out(item, location, qty, lot, status=from_status)
        inward = AdjustmentLine(
            item,
            location,
            -out.quantity,
            [Assignment(-a.quantity, lot_id=a.lot_id) for a in out.assignments],
            status=to_status,
        )
        return self._post("InvStCng", location, [out, inward], memo="status change")

    # ---- helpers -----------------------------------------------------------------------------------

    def _lot_item(self, item: int) -> bool:
        row = self.state.get("item", item)
        if row is None:
            raise invalid_content(f"Item {item} does not exist.")
        return bool(row["islotitem"] == "T")

    def _receipt(
        self, item: int, quantity: Decimal, lot: str | None, expiry: date | None
    ) -> list[Assignment]:
        if not self._lot_item(item):
            return []
        if not lot:
            raise invalid_content(f"Item {item} is lot numbered: give the lot received.")
        return [Assignment(quantity, receipt=lot, expiry=date_text(expiry) if expiry else None)]

    def _out(
        self, item: int, location: int, qty: Quantity, lot: str | None, *, status: int = GOOD
    ) -> AdjustmentLine:
        quantity = -_positive(qty)
        assignments: list[Assignment] = []
        if self._lot_item(item):
            lot_id = self.state.lot_id(item, lot) if lot else None
            if lot_id is None:
                raise invalid_content(f"Item {item} is lot numbered: give an existing lot (not {lot!r}).")
            assignments = [Assignment(quantity, lot_id=lot_id)]
        return AdjustmentLine(item, location, quantity, assignments, status=status)

    def _post(
        self,
        type_code: str,
        location: int,
        lines: list[AdjustmentLine],
        *,
        memo: str,
        header: dict[str, Any] | None = None,
    ) -> int:
        state = self.state
        for n, line in enumerate(lines):
            line.path = f"item.items[{n}]"
        body = {
            "memo": memo,
            "trandate": date_text(state.clock().date()),
            "subsidiary": 1,
            "location": location,
            **(header or {}),
        }
        return state.post_stock(type_code, body, lines)


def _positive(qty: Quantity) -> Decimal:
    try:
        quantity = Decimal(str(qty))
    except InvalidOperation:
        raise invalid_content(f"{qty!r} is not a quantity.") from None
    if not quantity.is_finite() or quantity <= 0:
        raise invalid_content(f"The quantity must be positive, not {qty}.")
    return quantity


def post_from_json(activity: StockActivity, data: dict[str, Any]) -> int:
    """One transaction from the control route's JSON body (see the module docstring)."""
    kind = data.get("type")
    item, location, qty = int(data["item"]), int(data["location"]), str(data["quantity"])
    lot = data.get("lot") or None
    expiry = date.fromisoformat(data["expiry"]) if data.get("expiry") else None
    if kind == "ItemRcpt":
        return activity.item_receipt(item, location, qty, lot, expiry)
    if kind == "ItemShip":
        return activity.fulfil(item, location, qty, lot)
    if kind in ("CashSale", "CustInvc"):
        return activity.sell(item, location, qty, lot, invoice=kind == "CustInvc")
    if kind == "InvTrnfr":
        return activity.transfer(item, location, int(data["to_location"]), qty, lot)
    if kind == "Build":
        parts = [Component(int(c["item"]), str(c["quantity"]), c.get("lot")) for c in data["components"]]
        return activity.build(item, location, qty, parts, lot, expiry)
    if kind == "InvStCng":
        return activity.change_status(
            item,
            location,
            qty,
            lot,
            to_status=int(data.get("to_status", 2)),
            from_status=int(data.get("from_status", GOOD)),
        )
    raise invalid_content(f"Unknown transaction type {kind!r} for the sandbox.")


def activity_routes(activity: StockActivity) -> list[Route]:
    async def post(request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise invalid_content("Send a JSON object.")
            txn = post_from_json(activity, data)
        except NsError as exc:
            return Response(json.dumps(exc.body()), status_code=exc.status, media_type=ERROR_CONTENT_TYPE)
        except (KeyError, TypeError, ValueError) as exc:
            body = invalid_content(f"Bad transaction request ({exc.__class__.__name__}: {exc}).").body()
            return Response(json.dumps(body), status_code=400, media_type=ERROR_CONTENT_TYPE)
        return Response(json.dumps({"id": txn}), status_code=201, media_type="application/json")

    return [Route(TRANSACTIONS_PATH, post, methods=["POST"])]
