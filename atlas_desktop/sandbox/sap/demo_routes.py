"""The ERP user's side of the demo in SAP: list stock, post a receipt or an issue, change a batch's expiry.

Same routes as the NetSuite emulator's (`/_sandbox/stock`, `/_sandbox/stock/receive|issue|expiry`), so
the demo's client needs no SAP knowledge; a key is "material|plant|storage location|batch". Receipts
(501) and issues (201, to the first cost center) are material documents posted with the API's rules, and an
expiry change updates the batch master as MSC2N does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from atlas_desktop.sandbox.control_routes import (
    ControlError,
    ControlRoute,
    date_field,
    quantity_field,
    text_field,
)
from atlas_desktop.sandbox.sap.errors import GatewayError

if TYPE_CHECKING:
    from atlas_desktop.sandbox.sap import SapEmulator

STOCK = "/_sandbox/stock"
_UNRESTRICTED = "01"


def _key(body: dict[str, Any]) -> tuple[str, str, str, str]:
    parts = text_field(body, "key").split("|")
    if len(parts) != 4 or not all(parts[:3]):
        raise ControlError(400, "'key' is material|plant|storage location|batch, as /_sandbox/stock lists it")
    return parts[0], parts[1], parts[2], parts[3]


def stock_routes(emulator: SapEmulator) -> list[ControlRoute]:
    def state() -> Any:
        return emulator.tenant.ensure_seeded()

    def positions(_body: dict[str, Any]) -> list[dict[str, Any]]:
        tables = state()
        names = {
            r["Product"]: r["ProductDescription"]
            for r in tables.table("A_ProductDescription").rows.values()
            if r["Language"] == "EN"
        }
        batches = tables.table("Batch")
        found = []
        for r in emulator.stock_rows():
            if r["InventoryStockType"] != _UNRESTRICTED or r["InventorySpecialStockType"]:
                continue
            batch = batches.get((r["Material"], "", r["Batch"])) if r["Batch"] else None
            expiry = batch["ShelfLifeExpirationDate"] if batch else None
            found.append({
                "key": "|".join((r["Material"], r["Plant"], r["StorageLocation"], r["Batch"])),
                "name": names.get(r["Material"], r["Material"]),
                "location": f"{r['Plant']}/{r['StorageLocation']}",
                "lot": r["Batch"] or None,
                "expiry": expiry.date().isoformat() if expiry else None,
                "quantity": str(r["MatlWrhsStkQtyInMatlBaseUnit"]),
            })  # fmt: skip
        return sorted(found, key=lambda p: (p["name"], p["key"]))

    def moved(material: str, plant: str, sloc: str, batch: str) -> dict[str, Any]:
        quantity = emulator.unrestricted_stock(material, plant, sloc, batch)
        return {"key": "|".join((material, plant, sloc, batch)), "quantity": str(quantity)}

    def post(body: dict[str, Any], movement: str) -> dict[str, Any]:
        material, plant, sloc, batch = _key(body)
        quantity = quantity_field(body)
        poster = emulator.post_goods_receipt if movement == "receipt" else emulator.post_goods_issue
        try:
            poster(material, plant, sloc, quantity, batch=batch, header_text=f"demo {movement}")
        except GatewayError as exc:  # e.g. an issue beyond the unrestricted stock (M7/021)
            raise ControlError(exc.status, exc.message) from None
        return moved(material, plant, sloc, batch)

    def expiry(body: dict[str, Any]) -> dict[str, Any]:
        material, _plant, _sloc, batch = _key(body)
        day = date_field(body, "expiry")
        tables = state()
        if not batch or tables.table("Batch").get((material, "", batch)) is None:
            raise ControlError(400, "only a batch has an expiry date; pick a position with a batch")
        with tables.transaction():
            tables.update("Batch", (material, "", batch), {
                "ShelfLifeExpirationDate": datetime(day.year, day.month, day.day, tzinfo=UTC),
                "LastChangeDateTime": tables.now(),
            })  # fmt: skip
        return {"key": body["key"], "expiry": day.isoformat()}

    return [
        ControlRoute("GET", STOCK, positions),
        ControlRoute("POST", f"{STOCK}/receive", lambda body: post(body, "receipt")),
        ControlRoute("POST", f"{STOCK}/issue", lambda body: post(body, "issue")),
        ControlRoute("POST", f"{STOCK}/expiry", expiry),
    ]
