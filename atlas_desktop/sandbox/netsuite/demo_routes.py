"""The ERP user's side of the demo in NetSuite: list stock positions, receive, issue, change a lot's expiry.

`/_sandbox/stock` (GET) and `/_sandbox/stock/receive|issue|expiry` (POST `{"key", "quantity"}` or
`{"key", "expiry": "YYYY-MM-DD"}`); a key is "item|location|lot". Stock moves only by inventory
adjustment, as a warehouse user posts it, so the sync reads it as any other adjustment.
"""

from __future__ import annotations

from typing import Any

from atlas_desktop.sandbox.control_routes import (
    ControlError,
    ControlRoute,
    date_field,
    quantity_field,
    text_field,
)
from atlas_desktop.sandbox.netsuite.errors import NsError
from atlas_desktop.sandbox.netsuite.state import NetSuiteState, dec

STOCK = "/_sandbox/stock"

_POSITIONS = """
SELECT b.item, b.location, n.inventorynumber AS lot, n.expirationdate, b.quantityonhand,
       COALESCE(i.displayname, i.itemid) AS name, l.name AS location_name
FROM inventorybalance b JOIN item i ON i.id = b.item
LEFT JOIN inventorynumber n ON n.id = b.inventorynumber LEFT JOIN location l ON l.id = b.location
ORDER BY name, b.location, lot
"""


def _key(body: dict[str, Any]) -> tuple[int, int, str | None]:
    item, _, rest = text_field(body, "key").partition("|")
    location, _, lot = rest.partition("|")
    try:
        return int(item), int(location), lot or None
    except ValueError:
        raise ControlError(400, "'key' is item|location|lot, as /_sandbox/stock lists it") from None


def stock_routes(state: NetSuiteState) -> list[ControlRoute]:
    def positions(_body: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "key": f"{r['item']}|{r['location']}|{r['lot'] or ''}",
                "name": r["name"],
                "location": r["location_name"] or str(r["location"]),
                "lot": r["lot"],
                "expiry": (r["expirationdate"] or "")[:10] or None,
                "quantity": str(dec(r["quantityonhand"])),
            }
            for r in state.query(_POSITIONS)
        ]

    def moved(item: int, location: int, lot: str | None) -> dict[str, Any]:
        return {"key": f"{item}|{location}|{lot or ''}", "quantity": str(state.stock(item, location, lot))}

    def receive(body: dict[str, Any]) -> dict[str, Any]:
        item, location, lot = _key(body)
        quantity = quantity_field(body)
        try:
            state.receive(item, location, quantity, lot, memo="received in the demo")
        except NsError as exc:
            raise ControlError(exc.status, exc.detail) from None
        return moved(item, location, lot)

    def issue(body: dict[str, Any]) -> dict[str, Any]:
        item, location, lot = _key(body)
        quantity = quantity_field(body)
        try:
            state.issue(item, location, quantity, lot, memo="issued in the demo")
        except NsError as exc:  # more than the position holds
            raise ControlError(exc.status, exc.detail) from None
        return moved(item, location, lot)

    def expiry(body: dict[str, Any]) -> dict[str, Any]:
        item, _location, lot = _key(body)
        day = date_field(body, "expiry")
        if lot is None or state.lot_id(item, lot) is None:
            raise ControlError(400, "only a lot has an expiry date; pick a position with a lot")
        state.set_expiry(item, lot, day)
        return {"key": body["key"], "expiry": day.isoformat()}

    return [
        ControlRoute("GET", STOCK, positions),
        ControlRoute("POST", f"{STOCK}/receive", receive),
        ControlRoute("POST", f"{STOCK}/issue", issue),
        ControlRoute("POST", f"{STOCK}/expiry", expiry),
    ]
