"""The marketplace's side of the demo: list the listing, sell from it, place a purchase (an order).

`/_sandbox/marketplace/items` (GET), `/sell` and `/order` (POST `{"id", "quantity"}`). A sale lowers the
row as a buyer's purchase does; an order is a confirmed purchase this account made, which the sync enters
in the ERP as a purchase order (the contract's "Orders").
"""

from __future__ import annotations

from typing import Any

from atlas_desktop.sandbox.atlas.state import AtlasState
from atlas_desktop.sandbox.atlas.wire import ApiError
from atlas_desktop.sandbox.control_routes import ControlError, ControlRoute, quantity_field, text_field

PREFIX = "/_sandbox/marketplace"
# The seller the demo buys from; the seeded orders use the same kind of account.
DEMO_SUPPLIER = {"name": "Sandbox Supplier 1", "atlas_id": "acct_supplier_001"}
_MAX_ROWS = 100_000


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "ndc": row["ndc"],
        "quantity": str(row["quantity"]),
        "unit": row["unit"],
        "lot": row.get("lot_number"),
        "expiry": row.get("expiry_date"),
        "location": row.get("location"),
    }


def marketplace_routes(state: AtlasState) -> list[ControlRoute]:
    def row(body: dict[str, Any]) -> dict[str, Any]:
        found = state.get_row(text_field(body, "id"))
        if found is None:
            raise ControlError(404, f"no listing row {body['id']}")
        return found

    def items(_body: dict[str, Any]) -> list[dict[str, Any]]:
        return [_item(r) for r in state.list_rows(None, _MAX_ROWS)[0]]

    def sell(body: dict[str, Any]) -> dict[str, Any]:
        quantity = quantity_field(body)
        try:
            return _item(state.adjust_row(row(body)["id"], -quantity))
        except ApiError as exc:  # more than the row holds
            raise ControlError(exc.status, exc.message) from None

    def order(body: dict[str, Any]) -> dict[str, Any]:
        quantity, listed = quantity_field(body), row(body)
        line = {"ndc": listed["ndc"], "name": listed["name"], "quantity": str(quantity),
                "unit": listed["unit"], "unit_price": "12.50", "currency": "USD"}  # fmt: skip
        placed = state.insert_order({"supplier": dict(DEMO_SUPPLIER), "lines": [line]}, "confirmed")
        return {"id": placed["id"], "number": placed["number"], "supplier": DEMO_SUPPLIER["name"]}

    return [
        ControlRoute("GET", f"{PREFIX}/items", items),
        ControlRoute("POST", f"{PREFIX}/sell", sell),
        ControlRoute("POST", f"{PREFIX}/order", order),
    ]
