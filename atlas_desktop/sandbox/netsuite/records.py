"""Record API v1: record types, their JSON shape, collection paging, reads and writes over NetSuiteState."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from atlas_desktop.sandbox.netsuite.errors import (
    NsError,
    invalid_content,
    invalid_parameter,
    nonexistent_id,
    record_exists,
    user_error,
)
from atlas_desktop.sandbox.netsuite.qfilter import QFilter
from atlas_desktop.sandbox.netsuite.state import (
    DISPLAY_COLUMN,
    AdjustmentLine,
    Assignment,
    NetSuiteState,
    date_text,
    dec,
)

Field = tuple[str, str]  # (column, kind)


@dataclass(frozen=True)
class RecordType:
    name: str  # as NetSuite spells it in paths and links
    table: str
    where: str = "1 = 1"  # restricts the table to this record type
    fields: Mapping[str, Field] = field(default_factory=dict)  # body field -> column, kind
    refs: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # body field -> column, target table
    writable: frozenset[str] = frozenset()
    required: Mapping[str, str] = field(default_factory=dict)  # body field -> label in NetSuite's message
    read_only: frozenset[str] = frozenset()  # refused on write (stock moves by adjustments only)
    creatable: bool = True

    def filterable(self) -> dict[str, Field]:
        return {**self.fields, **{name: (column, "int") for name, (column, _) in self.refs.items()}}


_ITEM_FIELDS: dict[str, Field] = {
    "externalId": ("externalid", "text"),
    "itemId": ("itemid", "text"),
    "displayName": ("displayname", "text"),
    "description": ("description", "text"),
    "purchaseDescription": ("purchasedescription", "text"),
    "upcCode": ("upccode", "text"),
    "custitem_ndc_code": ("custitem_ndc_code", "text"),
    "manufacturer": ("manufacturer", "text"),
    "mpn": ("mpn", "text"),
    "vendorName": ("vendorname", "text"),
    "isInactive": ("isinactive", "bool"),
    "isLotItem": ("islotitem", "bool"),
    "cost": ("cost", "num"),
    "averageCost": ("averagecost", "num"),
    "createdDate": ("createddate", "datetime"),
    "lastModifiedDate": ("lastmodifieddate", "datetime"),
    "id": ("id", "int"),
}
_ITEM_WRITABLE = frozenset(
    {
        "externalId",
        "itemId",
        "displayName",
        "description",
        "purchaseDescription",
        "upcCode",
        "custitem_ndc_code",
        "manufacturer",
        "mpn",
        "vendorName",
        "isInactive",
        "cost",
    }
)
_ITEM_READ_ONLY = frozenset(
    {
        "quantityOnHand",
        "quantityAvailable",
        "quantityCommitted",
        "quantityOnOrder",
        "quantityBackOrdered",
        "totalValue",
        "averageCost",
        "lastModifiedDate",
        "createdDate",
        "isLotItem",
        "itemType",
        "numbers",
        "locations",
        "id",
        "internalId",
    }
)
_TXN_FIELDS: dict[str, Field] = {
    "id": ("id", "int"),
    "externalId": ("externalid", "text"),
    "tranId": ("tranid", "text"),
    "tranDate": ("trandate", "date"),
    "memo": ("memo", "text"),
    "createdDate": ("createddate", "datetime"),
    "lastModifiedDate": ("lastmodifieddate", "datetime"),
}

RECORD_TYPES: dict[str, RecordType] = {
    rt.name.lower(): rt
    for rt in (
        RecordType(
            "inventoryItem",
            "item",
            "islotitem = 'F'",
            _ITEM_FIELDS,
            {"subsidiary": ("subsidiary", "subsidiary")},
            _ITEM_WRITABLE,
            {"itemId": "Item Name/Number"},
            _ITEM_READ_ONLY,
        ),
        RecordType(
            "lotNumberedInventoryItem",
            "item",
            "islotitem = 'T'",
            _ITEM_FIELDS,
            {"subsidiary": ("subsidiary", "subsidiary")},
            _ITEM_WRITABLE,
            {"itemId": "Item Name/Number"},
            _ITEM_READ_ONLY,
        ),
        RecordType(
            "inventoryNumber",
            "inventorynumber",
            "1 = 1",
            {
                "id": ("id", "int"),
                "inventoryNumber": ("inventorynumber", "text"),
                "expirationDate": ("expirationdate", "date"),
                "memo": ("memo", "text"),
                "lastModifiedDate": ("lastmodifieddate", "datetime"),
            },
            {"item": ("item", "item")},
            frozenset({"expirationDate", "memo"}),
            read_only=frozenset(
                {"quantityOnHand", "quantityAvailable", "inventoryNumber", "item", "locations"}
            ),
            creatable=False,
        ),
        RecordType(
            "inventoryAdjustment",
            "transaction",
            "recordtype = 'inventoryadjustment'",
            _TXN_FIELDS,
            {
                "subsidiary": ("subsidiary", "subsidiary"),
                "account": ("_account", "account"),
                "adjLocation": ("location", "location"),
            },
            frozenset(
                {"externalId", "tranDate", "memo", "subsidiary", "account", "adjLocation", "inventory"}
            ),
            {"account": "Adjustment Account", "subsidiary": "Subsidiary"},
        ),
        RecordType(
            "purchaseOrder",
            "transaction",
            "recordtype = 'purchaseorder'",
            {**_TXN_FIELDS, "dueDate": ("duedate", "date")},
            {
                "entity": ("entity", "vendor"),
                "subsidiary": ("subsidiary", "subsidiary"),
                "location": ("location", "location"),
            },
            frozenset(
                {"externalId", "tranDate", "dueDate", "memo", "entity", "subsidiary", "location", "item"}
            ),
            {"entity": "Vendor"},
        ),
        RecordType(
            "location",
            "location",
            "1 = 1",
            {
                "id": ("id", "int"),
                "externalId": ("externalid", "text"),
                "name": ("name", "text"),
                "fullName": ("fullname", "text"),
                "isInactive": ("isinactive", "bool"),
                "lastModifiedDate": ("lastmodifieddate", "datetime"),
            },
            {"subsidiary": ("subsidiary", "subsidiary")},
            frozenset({"externalId", "name", "isInactive", "subsidiary"}),
            {"name": "Name"},
        ),
        RecordType(
            "vendor",
            "vendor",
            "1 = 1",
            {
                "id": ("id", "int"),
                "externalId": ("externalid", "text"),
                "entityId": ("entityid", "text"),
                "companyName": ("companyname", "text"),
                "email": ("email", "text"),
                "isInactive": ("isinactive", "bool"),
                "dateCreated": ("datecreated", "datetime"),
                "lastModifiedDate": ("lastmodifieddate", "datetime"),
            },
            {"subsidiary": ("subsidiary", "subsidiary")},
            frozenset({"externalId", "entityId", "companyName", "email", "isInactive", "subsidiary"}),
            {"companyName": "Company Name"},
        ),
        RecordType(
            "subsidiary",
            "subsidiary",
            "1 = 1",
            {"id": ("id", "int"), "name": ("name", "text"), "isInactive": ("isinactive", "bool")},
            creatable=False,
        ),
        RecordType(
            "account",
            "account",
            "1 = 1",
            {
                "id": ("id", "int"),
                "acctNumber": ("acctnumber", "text"),
                "acctName": ("acctname", "text"),
                "isInactive": ("isinactive", "bool"),
            },
            creatable=False,
        ),
    )
}

_ENUMS = {"InvtPart": "Inventory Item", "B": "Pending Receipt"}


def record_type(name: str) -> RecordType:
    """Path segment -> record type; NetSuite accepts record type ids in any case."""
    rt = RECORD_TYPES.get(name.lower())
    if rt is None:
        raise NsError(404, "INVALID_PARAMETER", f"Record type '{name}' does not exist.")
    return rt


def jnum(value: Any) -> int | float | None:
    """A quantity for a JSON body (NetSuite sends numbers); whole numbers stay integers."""
    if value is None:
        return None
    number = dec(value)
    return int(number) if number == number.to_integral_value() else float(number)


def jvalue(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return value == "T"
    if kind == "datetime":
        return value.replace(" ", "T") + "Z"
    if kind == "date":
        return value[:10]
    if kind == "num":
        return jnum(value)
    if kind == "int":
        return str(value) if isinstance(value, int) else value
    return value


@dataclass
class Paging:
    max_limit: int = 1000
    offset_multiple_of_limit: bool = True


@dataclass
class WriteLimits:
    """An account's limits on what one write may carry (mutable: tests and the demo lower them)."""

    # Oracle advises at most 1,000 lines per transaction for REST (UI 500, SOAP/CSV 5,000).
    max_lines: int = 1000


class Records:
    def __init__(self, state: NetSuiteState, paging: Paging, limits: WriteLimits | None = None) -> None:
        self.state = state
        self.paging = paging
        self.limits = limits or WriteLimits()

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def url(base: str, type_name: str, record_id: Any = None) -> str:
        path = f"{base}/services/rest/record/v1/{type_name}"
        return path if record_id is None else f"{path}/{record_id}"

    def type_of(self, table: str, record_id: int) -> str:
        if table == "item":
            row = self.state.one("SELECT islotitem FROM item WHERE id = ?", (record_id,))
            return "lotNumberedInventoryItem" if row and row["islotitem"] == "T" else "inventoryItem"
        if table == "transaction":
            row = self.state.one('SELECT recordtype FROM "transaction" WHERE id = ?', (record_id,))
            return "purchaseOrder" if row and row["recordtype"] == "purchaseorder" else "inventoryAdjustment"
        return {"inventorynumber": "inventoryNumber"}.get(table, table)

    def ref(self, base: str, table: str, record_id: Any) -> dict[str, Any] | None:
        if record_id is None:
            return None
        display = DISPLAY_COLUMN.get(table, "id")
        row = self.state.one(f'SELECT "{display}" FROM "{table}" WHERE id = ?', (record_id,))
        result: dict[str, Any] = {
            "links": [{"rel": "self", "href": self.url(base, self.type_of(table, record_id), record_id)}],
            "id": str(record_id),
        }
        if row is not None and row[0] is not None:
            result["refName"] = str(row[0])
        return result

    def find(self, rt: RecordType, raw_id: str) -> sqlite3.Row:
        """The row for `{id}` or `eid:{externalId}` of this record type, or 404 NONEXISTENT_ID."""
        if raw_id.startswith("eid:"):
            row = (
                self.state.one(
                    f'SELECT * FROM "{rt.table}" WHERE externalid = ? AND {rt.where}', (raw_id[4:],)
                )
                if "externalid" in _columns(rt.table)
                else None
            )
        elif raw_id.isdigit():
            row = self.state.one(f'SELECT * FROM "{rt.table}" WHERE id = ? AND {rt.where}', (int(raw_id),))
        else:
            row = None
        if row is None:
            raise nonexistent_id()
        return row

    # ------------------------------------------------------------------ collection

    def collection(self, rt: RecordType, base: str, params: Mapping[str, str]) -> dict[str, Any]:
        limit = self._int_param(params, "limit", self.paging.max_limit)
        offset = self._int_param(params, "offset", 0)
        if not 1 <= limit <= self.paging.max_limit:
            raise invalid_parameter(
                f"Invalid query parameter value. The limit must be between 1 and {self.paging.max_limit}.",
                "limit",
            )
        if offset < 0:
            raise invalid_parameter(
                "Invalid query parameter value. The offset must not be negative.", "offset"
            )
        if self.paging.offset_multiple_of_limit and offset % limit:
            raise invalid_parameter(
                "Invalid query parameter value. The offset must be a multiple of the limit.", "offset"
            )
        where = rt.where
        args: list[Any] = []
        q = params.get("q")
        if q:
            condition, args = QFilter(q, rt.filterable()).sql()
            where = f"({where}) AND {condition}"
        total = self.state.one(f'SELECT COUNT(*) FROM "{rt.table}" WHERE {where}', args)[0]  # type: ignore[index]
        rows = self.state.query(
            f'SELECT id FROM "{rt.table}" WHERE {where} ORDER BY id LIMIT ? OFFSET ?', [*args, limit, offset]
        )
        items = [
            {"links": [{"rel": "self", "href": self.url(base, rt.name, r["id"])}], "id": str(r["id"])}
            for r in rows
        ]
        has_more = offset + len(items) < total

        def page(at: int) -> str:
            query: dict[str, int | str] = {"limit": limit, "offset": at}
            if q:
                query["q"] = q
            return f"{self.url(base, rt.name)}?{urlencode(query)}"

        links = []
        if offset > 0:
            links += [
                {"rel": "first", "href": page(0)},
                {"rel": "prev", "href": page(max(offset - limit, 0))},
            ]
        if has_more:
            links.append({"rel": "next", "href": page(offset + limit)})
        last = max((total - 1) // limit * limit, 0)
        links += [{"rel": "last", "href": page(last)}, {"rel": "self", "href": page(offset)}]
        return {
            "links": links,
            "count": len(items),
            "hasMore": has_more,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }

    @staticmethod
    def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
        raw = params.get(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise invalid_parameter(
                f"Invalid query parameter value. The value of {name} must be an integer.", name
            ) from None

    # ------------------------------------------------------------------ single record

    def read(self, rt: RecordType, raw_id: str, base: str, params: Mapping[str, str]) -> dict[str, Any]:
        row = self.find(rt, raw_id)
        expand = params.get("expandSubResources", "false").lower() == "true"
        record_id = row["id"]
        body: dict[str, Any] = {"links": [{"rel": "self", "href": self.url(base, rt.name, record_id)}]}
        for name, (column, kind) in rt.fields.items():
            value = jvalue(row[column], kind)
            if value is not None:
                body[name] = value
        for name, (column, table) in rt.refs.items():
            reference = self.ref(base, table, row[column])
            if reference is not None:
                body[name] = reference
        body["id"] = str(record_id)
        extra = getattr(self, f"_extra_{rt.table}", None)
        if extra is not None:
            extra(rt, row, base, body, expand)
        wanted = params.get("fields")
        if wanted:
            keep = {f.strip() for f in wanted.split(",")} | {"links", "id"}
            body = {k: v for k, v in body.items() if k in keep}
        return body

    def _sublist(
        self, base: str, owner: str, name: str, lines: list[dict[str, Any]], expand: bool
    ) -> dict[str, Any]:
        links = [{"rel": "self", "href": f"{owner}/{name}"}]
        if not expand:
            return {"links": links}
        return {"links": links, "items": lines, "totalResults": len(lines)}

    def _extra_item(
        self, rt: RecordType, row: sqlite3.Row, base: str, body: dict[str, Any], expand: bool
    ) -> None:
        body["itemType"] = {"id": row["itemtype"], "refName": _ENUMS.get(row["itemtype"], row["itemtype"])}
        if row["stockunit"]:
            body["stockUnit"] = {"id": "1", "refName": row["stockunit"]}
        totals = self.state.one(
            "SELECT SUM(quantityonhand), SUM(quantityavailable), SUM(quantityonorder), SUM(quantitycommitted)"
            " FROM aggregateitemlocation WHERE item = ?",
            (row["id"],),
        )
        assert totals is not None
        body["quantityOnHand"] = jnum(totals[0] or 0)
        body["quantityAvailable"] = jnum(totals[1] or 0)
        body["quantityOnOrder"] = jnum(totals[2] or 0)
        body["quantityCommitted"] = jnum(totals[3] or 0)
        owner = self.url(base, rt.name, row["id"])
        locations: list[dict[str, Any]] = [
            {
                "links": [],
                "location": self.ref(base, "location", r["location"]),
                "locationId": jnum(r["location"]),
                "quantityOnHand": jnum(r["quantityonhand"]),
                "quantityAvailable": jnum(r["quantityavailable"]),
                "quantityOnOrder": jnum(r["quantityonorder"]),
                "quantityCommitted": jnum(r["quantitycommitted"]),
                "quantityInTransit": jnum(r["quantityintransit"]),
            }
            for r in self.state.query(
                "SELECT * FROM aggregateitemlocation WHERE item = ? ORDER BY location", (row["id"],)
            )
        ]
        body["locations"] = self._sublist(base, owner, "locations", locations, expand)
        if row["islotitem"] == "T":
            numbers = [
                {
                    "links": [],
                    "inventoryNumber": self.ref(base, "inventorynumber", r["id"]),
                    "inventoryNumberId": str(r["id"]),
                    "serialNumber": r["inventorynumber"],
                    **({"expirationDate": r["expirationdate"][:10]} if r["expirationdate"] else {}),
                    # typed string in NetSuite's spec (lotNumberedInventoryItem)
                    "quantityOnHand": str(jnum(r["qty"] or 0)),
                }
                for r in self.state.query(
                    "SELECT n.id, n.inventorynumber, n.expirationdate, SUM(l.quantityonhand) AS qty"
                    " FROM inventorynumber n LEFT JOIN inventorynumberlocation l ON l.inventorynumber = n.id"
                    " WHERE n.item = ? GROUP BY n.id ORDER BY n.id",
                    (row["id"],),
                )
            ]
            body["numbers"] = self._sublist(base, owner, "numbers", numbers, expand)

    def _extra_inventorynumber(
        self, rt: RecordType, row: sqlite3.Row, base: str, body: dict[str, Any], expand: bool
    ) -> None:
        lines = self.state.query(
            "SELECT * FROM inventorynumberlocation WHERE inventorynumber = ? ORDER BY location", (row["id"],)
        )
        body["quantityOnHand"] = jnum(sum((dec(r["quantityonhand"]) for r in lines), Decimal(0)))
        body["quantityAvailable"] = jnum(sum((dec(r["quantityavailable"]) for r in lines), Decimal(0)))
        locations: list[dict[str, Any]] = [
            {
                "links": [],
                "location": self.ref(base, "location", r["location"]),
                "quantityOnHand": jnum(r["quantityonhand"]),
                "quantityAvailable": jnum(r["quantityavailable"]),
                "quantityOnOrder": jnum(r["quantityonorder"]),
                "quantityInTransit": jnum(r["quantityintransit"]),
            }
            for r in lines
        ]
        body["locations"] = self._sublist(
            base, self.url(base, rt.name, row["id"]), "locations", locations, expand
        )

    def _extra_transaction(
        self, rt: RecordType, row: sqlite3.Row, base: str, body: dict[str, Any], expand: bool
    ) -> None:
        owner = self.url(base, rt.name, row["id"])
        lines = self.state.query(
            "SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F' ORDER BY id",
            (row["id"],),
        )
        if rt.name == "purchaseOrder":
            body["status"] = {"id": row["status"], "refName": _ENUMS.get(row["status"], row["status"])}
            items = [
                {
                    "links": [],
                    "line": line["id"],
                    "item": self.ref(base, "item", line["item"]),
                    "quantity": jnum(line["quantity"]),
                    "rate": jnum(line["rate"]),
                    "amount": jnum(line["netamount"]),
                    **(
                        {"location": self.ref(base, "location", line["location"])} if line["location"] else {}
                    ),
                }
                for line in lines
            ]
            body["item"] = self._sublist(base, owner, "item", items, expand)
            return
        items = []
        for line in lines:
            entry: dict[str, Any] = {
                "links": [],
                "line": line["id"],
                "item": self.ref(base, "item", line["item"]),
                "location": self.ref(base, "location", line["location"]),
                "adjustQtyBy": jnum(line["quantity"]),
            }
            if line["memo"]:
                entry["memo"] = line["memo"]
            assignments = self.state.query(
                "SELECT a.*, n.inventorynumber AS lot, n.expirationdate FROM inventoryassignment a"
                " JOIN inventorynumber n ON n.id = a.inventorynumber WHERE a.transactionline = ?",
                (line["uniquekey"],),
            )
            if assignments:
                detail_items = []
                for a in assignments:
                    detail: dict[str, Any] = {"links": [], "quantity": jnum(a["quantity"])}
                    if a["_receipt"] is not None:
                        detail["receiptInventoryNumber"] = a["_receipt"]
                    else:
                        detail["issueInventoryNumber"] = self.ref(
                            base, "inventorynumber", a["inventorynumber"]
                        )
                    if a["expirationdate"]:
                        detail["expirationDate"] = a["expirationdate"][:10]
                    detail_items.append(detail)
                entry["inventoryDetail"] = {
                    "links": [],
                    "quantity": jnum(line["quantity"]),
                    "inventoryAssignment": {
                        "links": [],
                        "items": detail_items,
                        "totalResults": len(detail_items),
                    },
                }
            items.append(entry)
        body["inventory"] = self._sublist(base, owner, "inventory", items, expand)

    # ------------------------------------------------------------------ writes

    def create(self, rt: RecordType, body: Mapping[str, Any], strict_names: bool) -> int:
        if not rt.creatable:
            raise user_error(
                f"You cannot create a {rt.name} record with this request. "
                + (
                    "Inventory numbers are created by receipts and positive adjustments."
                    if rt.table == "inventorynumber"
                    else ""
                )
            )
        self._check_names(rt, body, strict_names)
        external_id = body.get("externalId")
        if external_id is not None:
            self._check_external_id(rt, external_id, None)
        for name, label in rt.required.items():
            if body.get(name) in (None, ""):
                raise user_error(f"Please enter value(s) for: {label}")
        if rt.table == "transaction":
            return self._write_transaction(rt, body, None)
        values = self._scalar_values(rt, body)
        if rt.table == "item":
            self._check_item_name(values.get("itemid"), None)
            now = self.state.now()
            values.update(
                {
                    "islotitem": "T" if rt.name == "lotNumberedInventoryItem" else "F",
                    "createddate": now,
                    "lastmodifieddate": now,
                    "subsidiary": values.get("subsidiary", 1),
                }
            )
        elif rt.table in ("location", "vendor"):
            values.setdefault("subsidiary", 1)
            values["lastmodifieddate"] = self.state.now()
            if rt.table == "vendor":
                values["datecreated"] = values["lastmodifieddate"]
                values.setdefault("entityid", values.get("companyname"))
            if rt.table == "location":
                values["fullname"] = values.get("name")
        with self.state.transaction():
            return self.state.insert(rt.table, values)

    def update(
        self, rt: RecordType, row: sqlite3.Row, body: Mapping[str, Any], strict_names: bool, replace: set[str]
    ) -> int:
        self._check_names(rt, body, strict_names)
        if "externalId" in body and body["externalId"] is not None:
            self._check_external_id(rt, body["externalId"], row["id"])
        if rt.table == "transaction":
            return self._write_transaction(rt, body, row, replace=replace)
        values = self._scalar_values(rt, body)
        if rt.table == "item" and "itemid" in values:
            if values["itemid"] in (None, ""):
                raise user_error("Please enter value(s) for: Item Name/Number")
            self._check_item_name(values["itemid"], row["id"])
        if "lastmodifieddate" in _columns(rt.table) and values:
            values["lastmodifieddate"] = self.state.now()
        with self.state.transaction():
            self.state.update(rt.table, row["id"], values)
        return int(row["id"])

    def upsert(self, rt: RecordType, raw_id: str, body: Mapping[str, Any], strict_names: bool) -> int:
        if not raw_id.startswith("eid:") or len(raw_id) <= 4:
            raise invalid_parameter(
                "Invalid request. Use PUT with an external ID in the path (eid:<externalId>) to insert or "
                "update."
            )
        external_id = raw_id[4:]
        try:
            row = self.find(rt, raw_id)
        except NsError:
            row = None
        merged = {**body, "externalId": external_id}
        if row is None:
            return self.create(rt, merged, strict_names)
        # PUT replaces the record: its sublists are replaced, not appended to
        return self.update(rt, row, merged, strict_names, replace={"inventory", "item"})

    def delete(self, rt: RecordType, row: sqlite3.Row) -> None:
        if rt.table != "transaction":
            raise NsError(
                405, "INVALID_PARAMETER", f"Deleting a {rt.name} record is not supported by the sandbox."
            )
        with self.state.lock, self.state.transaction():
            if rt.name == "inventoryAdjustment":
                self.state._reverse(row["id"])
            else:
                self.state._unorder(row["id"])
            self.state.db.execute('DELETE FROM "transaction" WHERE id = ?', (row["id"],))

    # ------------------------------------------------------------------ write helpers

    def _check_names(self, rt: RecordType, body: Mapping[str, Any], strict: bool) -> None:
        if not isinstance(body, Mapping):
            raise invalid_content("The request body must be a JSON object.")
        for name in body:
            if name in rt.read_only or (
                name in rt.fields and name not in rt.writable and name != "externalId"
            ):
                raise invalid_content(
                    f"The field {name} is read-only and cannot be set."
                    + (
                        " Stock changes only through inventory adjustments."
                        if name.startswith("quantity")
                        else ""
                    ),
                    name,
                )
            known = name in rt.writable or name in rt.refs or name in ("links",)
            if not known and strict:
                raise NsError(
                    400,
                    "NONEXISTENT_FIELD",
                    f"Error while accessing a resource. The field {name} does not exist on {rt.name}.",
                    errorPath=name,
                )

    def _check_external_id(self, rt: RecordType, external_id: Any, own_id: int | None) -> None:
        if not isinstance(external_id, str) or not external_id:
            raise invalid_content(
                f"You have entered an Invalid Field Value {external_id} for the following field: externalId",
                "externalId",
            )
        row = self.state.one(
            f'SELECT id FROM "{rt.table}" WHERE externalid = ? AND {rt.where}', (external_id,)
        )
        if row is not None and row["id"] != own_id:
            raise record_exists()

    def _check_item_name(self, item_name: Any, own_id: int | None) -> None:
        row = self.state.one("SELECT id FROM item WHERE itemid = ?", (item_name,))
        if row is not None and row["id"] != own_id:
            raise user_error(
                f"The item name you have chosen ({item_name}) is already used. Go back and choose another "
                "name.",
                "itemId",
            )

    def _scalar_values(self, rt: RecordType, body: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name in rt.refs and name in rt.writable | set(rt.refs):
                column, table = rt.refs[name]
                values[column] = None if value is None else self._ref_id(value, table, name)
                continue
            if name not in rt.fields or name not in rt.writable:
                continue  # unknown names are ignored (X-NetSuite-PropertyNameValidation: Warning)
            column, kind = rt.fields[name]
            values[column] = self._scalar(value, kind, name)
        return values

    @staticmethod
    def _scalar(value: Any, kind: str, name: str) -> Any:
        if value is None:
            return None
        if kind == "bool":
            if not isinstance(value, bool):
                raise invalid_content(f"Invalid value for the field {name}: expected true or false.", name)
            return "T" if value else "F"
        if kind == "num":
            try:
                return str(Decimal(str(value))) if not isinstance(value, bool) else _raise_num(name)
            except InvalidOperation:
                raise invalid_content(
                    f"You have entered an Invalid Field Value {value} for the following field: {name}", name
                ) from None
        if kind == "date":
            return _date(value, name)
        if not isinstance(value, str | int):
            raise invalid_content(
                f"You have entered an Invalid Field Value {value} for the following field: {name}", name
            )
        return str(value)

    def _ref_id(self, value: Any, table: str, path: str) -> int:
        """{"id": "12"} or {"externalId": "X"} -> 12, or INVALID_CONTENT naming the field."""
        bad = invalid_content(
            "You have entered an Invalid Field Value "
            f"{value.get('id') if isinstance(value, dict) else value} "
            f"for the following field: {path.rsplit('.', 1)[-1]}",
            path,
        )
        if not isinstance(value, dict):
            raise bad
        if value.get("id") is not None:
            raw = str(value["id"])
            if not raw.isdigit():
                raise bad
            row = self.state.one(f'SELECT id FROM "{table}" WHERE id = ?', (int(raw),))
        elif value.get("externalId") is not None and "externalid" in _columns(table):
            row = self.state.one(
                f'SELECT id FROM "{table}" WHERE externalid = ?', (str(value["externalId"]),)
            )
        else:
            raise bad
        if row is None:
            raise bad
        return int(row["id"])

    def _write_transaction(
        self,
        rt: RecordType,
        body: Mapping[str, Any],
        row: sqlite3.Row | None,
        replace: set[str] | frozenset[str] = frozenset(),
    ) -> int:
        header = self._scalar_values(rt, body)
        if "trandate" not in header and row is None:
            header["trandate"] = date_text(self.state.today())
        if rt.name == "inventoryAdjustment":
            if row is None and not isinstance(body.get("inventory"), dict):
                raise user_error("You must enter at least one line item for this transaction.", "inventory")
            lines = (
                self._existing_adjustment_lines(row["id"])
                if row is not None and "inventory" not in replace
                else []
            )
            if "inventory" in body:
                lines += self._adjustment_lines(body["inventory"], offset=len(lines))
            elif row is not None:
                lines = self._existing_adjustment_lines(row["id"])
            if not lines:
                raise user_error("You must enter at least one line item for this transaction.", "inventory")
            return self.state.post_adjustment(header, lines, replace=None if row is None else row["id"])
        lines_po = self._existing_po_lines(row["id"]) if row is not None and "item" not in replace else []
        if "item" in body:
            lines_po += self._po_lines(body["item"], offset=len(lines_po))
        elif row is not None:
            lines_po = self._existing_po_lines(row["id"])
        if not lines_po:
            raise user_error("You must enter at least one line item for this transaction.", "item")
        return self.state.post_purchase_order(header, lines_po, replace=None if row is None else row["id"])

    def _items_of(self, sublist: Any, name: str, existing: int = 0) -> list[Any]:
        """A sublist's lines as written. A body sublist (no dot in `name`: inventory, item, ...) holds a
        transaction's lines, which count against the line limit with the `existing` lines they join."""
        if not isinstance(sublist, dict) or not isinstance(sublist.get("items"), list):
            raise invalid_content(f'The sublist {name} must be written as {{"items": [...]}}.', name)
        items: list[Any] = sublist["items"]
        if "." not in name:
            self._check_line_count(name, existing, len(items))
        return items

    def _check_line_count(self, name: str, existing: int, added: int) -> None:
        limit = self.limits.max_lines
        if existing + added <= limit:
            return
        # The wording is ours: Oracle documents the limit, not the REST error text.
        raise user_error(
            f"This transaction has {existing + added} lines; at most {limit} lines are allowed in one "
            "transaction. Split the lines over several transactions.",
            f"{name}.items[{max(limit - existing, 0)}]",
        )

    def _adjustment_lines(self, sublist: Any, offset: int) -> list[AdjustmentLine]:
        lines = []
        for n, raw in enumerate(self._items_of(sublist, "inventory", offset)):
            path = f"inventory.items[{n}]"
            if not isinstance(raw, dict):
                raise invalid_content("Each line must be an object.", path)
            if "newQuantity" in raw and "adjustQtyBy" not in raw:
                raise invalid_content(
                    "The sandbox supports adjustQtyBy only (not newQuantity).", f"{path}.newQuantity"
                )
            if raw.get("item") is None:
                raise user_error("Please enter value(s) for: Item", f"{path}.item")
            item = self._ref_id(raw["item"], "item", f"{path}.item")
            if raw.get("location") is None:
                raise user_error("Please enter value(s) for: Location", f"{path}.location")
            location = self._ref_id(raw["location"], "location", f"{path}.location")
            qty = _quantity(raw.get("adjustQtyBy"), f"{path}.adjustQtyBy")
            if qty == 0:
                raise user_error("Please enter value(s) for: Adjust Qty. By", f"{path}.adjustQtyBy")
            is_lot = self.state.one("SELECT islotitem FROM item WHERE id = ?", (item,))["islotitem"] == "T"  # type: ignore[index]
            detail = raw.get("inventoryDetail")
            assignments: list[Assignment] = []
            if is_lot:
                if detail is None:
                    raise user_error(
                        f"Please configure the inventory detail in line {offset + n + 1} of the inventory "
                        "list.",
                        f"{path}.inventoryDetail",
                    )
                assignments = self._assignments(detail, item, qty, f"{path}.inventoryDetail", offset + n + 1)
            elif detail is not None:
                raise user_error(
                    "Inventory detail is only available for lot or serial numbered items.",
                    f"{path}.inventoryDetail",
                )
            memo = raw.get("memo")
            lines.append(
                AdjustmentLine(
                    item, location, qty, assignments, memo if isinstance(memo, str) else None, path
                )
            )
        return lines

    def _assignments(self, detail: Any, item: int, qty: Decimal, path: str, line_no: int) -> list[Assignment]:
        if not isinstance(detail, dict):
            raise invalid_content("inventoryDetail must be an object.", path)
        raw_items = self._items_of(detail.get("inventoryAssignment"), f"{path}.inventoryAssignment")
        result = []
        for k, raw in enumerate(raw_items):
            where = f"{path}.inventoryAssignment.items[{k}]"
            if not isinstance(raw, dict):
                raise invalid_content("Each inventory assignment must be an object.", where)
            receipt, issue = raw.get("receiptInventoryNumber"), raw.get("issueInventoryNumber")
            if (receipt is None) == (issue is None):
                raise invalid_content(
                    "Set either receiptInventoryNumber (a new or existing lot, for quantities added) or "
                    "issueInventoryNumber (an existing lot, for quantities removed), not both or neither.",
                    where,
                )
            amount = _quantity(raw.get("quantity"), f"{where}.quantity")
            if receipt is not None:
                if not isinstance(receipt, str) or not receipt.strip():
                    raise invalid_content(
                        f"You have entered an Invalid Field Value {receipt} for the following field: "
                        "receiptInventoryNumber",
                        f"{where}.receiptInventoryNumber",
                    )
                if amount <= 0:
                    raise user_error("A received lot needs a positive quantity.", f"{where}.quantity")
                expiry = (
                    _date(raw["expirationDate"], f"{where}.expirationDate")
                    if raw.get("expirationDate")
                    else None
                )
                result.append(Assignment(amount, receipt=receipt.strip(), expiry=expiry))
            else:
                lot_id = self._ref_id(issue, "inventorynumber", f"{where}.issueInventoryNumber")
                owner = self.state.one("SELECT item FROM inventorynumber WHERE id = ?", (lot_id,))
                if owner is None or owner["item"] != item:
                    raise invalid_content(
                        f"You have entered an Invalid Field Value {lot_id} for the following field: "
                        "issueInventoryNumber",
                        f"{where}.issueInventoryNumber",
                    )
                if amount >= 0:
                    raise user_error("An issued lot needs a negative quantity.", f"{where}.quantity")
                result.append(Assignment(amount, lot_id=lot_id))
        total = sum((a.quantity for a in result), Decimal(0))
        if total != qty:
            raise user_error(
                f"The total inventory detail quantity must be {_plain(qty)} (line {line_no} has "
                f"{_plain(total)}).",
                f"{path}.inventoryAssignment",
            )
        return result

    def _existing_adjustment_lines(self, txn: int) -> list[AdjustmentLine]:
        lines = []
        for n, line in enumerate(
            self.state.query(
                "SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F' ORDER BY id",
                (txn,),
            )
        ):
            assignments = [
                Assignment(
                    dec(a["quantity"]),
                    receipt=a["_receipt"],
                    lot_id=None if a["_receipt"] else a["inventorynumber"],
                    expiry=a["expirationdate"],
                )
                for a in self.state.query(
                    "SELECT a.*, n.expirationdate FROM inventoryassignment a JOIN inventorynumber n"
                    " ON n.id = a.inventorynumber WHERE a.transactionline = ?",
                    (line["uniquekey"],),
                )
            ]
            lines.append(
                # not in the request body: a refusal names the line by its place in the record
                AdjustmentLine(
                    line["item"],
                    line["location"],
                    dec(line["quantity"]),
                    assignments,
                    line["memo"],
                    f"inventory.items[{n}]",
                )
            )
        return lines

    def _po_lines(self, sublist: Any, offset: int) -> list[tuple[int, Decimal, Decimal | None, int | None]]:
        lines = []
        for n, raw in enumerate(self._items_of(sublist, "item", offset)):
            path = f"item.items[{n}]"
            if not isinstance(raw, dict) or raw.get("item") is None:
                raise user_error("Please enter value(s) for: Item", f"{path}.item")
            item = self._ref_id(raw["item"], "item", f"{path}.item")
            qty = _quantity(raw.get("quantity", 1), f"{path}.quantity")
            if qty <= 0:
                raise invalid_content(
                    f"You have entered an Invalid Field Value {qty} for the following field: quantity",
                    f"{path}.quantity",
                )
            rate = _quantity(raw["rate"], f"{path}.rate") if raw.get("rate") is not None else None
            location = (
                self._ref_id(raw["location"], "location", f"{path}.location") if raw.get("location") else None
            )
            lines.append((item, qty, rate, location))
        return lines

    def _existing_po_lines(self, txn: int) -> list[tuple[int, Decimal, Decimal | None, int | None]]:
        return [
            (
                line["item"],
                dec(line["quantity"]),
                dec(line["rate"]) if line["rate"] is not None else None,
                line["location"],
            )
            for line in self.state.query(
                "SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F' ORDER BY id",
                (txn,),
            )
        ]


def _columns(table: str) -> set[str]:
    from atlas_desktop.sandbox.netsuite.state import SCHEMA

    return set(SCHEMA.get(table, {}))


def _plain(value: Decimal) -> str:
    return str(jnum(value))


def _raise_num(name: str) -> Any:
    raise invalid_content(f"Invalid value for the field {name}: expected a number.", name)


def _quantity(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise invalid_content(
            f"You have entered an Invalid Field Value {value} for the following field: "
            f"{path.rsplit('.', 1)[-1]}",
            path,
        )
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise invalid_content(
            f"You have entered an Invalid Field Value {value} for the following field: "
            f"{path.rsplit('.', 1)[-1]}",
            path,
        ) from None
    if not number.is_finite():
        raise invalid_content(f"You have entered an Invalid Field Value {value}.", path)
    return number


def _date(value: Any, path: str) -> str:
    """REST dates are `YYYY-MM-DD` (or an ISO datetime, of which the date counts)."""
    if isinstance(value, str):
        try:
            return date_text(date.fromisoformat(value[:10]))
        except ValueError:
            pass
    raise invalid_content(
        f"You have entered an Invalid Field Value {value} for the following field: {path.rsplit('.', 1)[-1]}",
        path,
    )
