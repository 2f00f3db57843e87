"""The emulated NetSuite account: SQLite tables named like NetSuite's, seeding, and the only way stock moves.

Stock moves only through transactions:
`post_stock` posts any of STOCK_TRANSACTION_TYPES, each line carrying its own stock effect and
`transactionline.isinventoryaffecting = 'T'`; lots move through inventoryassignment rows. Inventory
statuses (Good / Quarantine / Damaged) split a location's stock: only available statuses count in
`quantityavailable`; `quantityonhand` counts them all.

Dates and datetimes are stored as text `YYYY-MM-DD HH:MM:SS` (UTC); SuiteQL shows and reads datetimes in the
user's time zone (`user_zone`, user_time.py) and converts its literals before comparing as text.
Quantities are NUMERIC (SQLite keeps whole numbers as integers); Python works with Decimal.
Columns whose name starts with `_` are emulator bookkeeping that SuiteQL does not expose.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.netsuite import user_time
from atlas_desktop.sandbox.netsuite.errors import invalid_content, user_error

Clock = Callable[[], datetime]

# SuiteQL-visible schema: table -> column -> kind (int, text, num, bool, date, datetime).
SCHEMA: dict[str, dict[str, str]] = {
    "subsidiary": {"id": "int", "name": "text", "isinactive": "bool"},
    "account": {
        "id": "int",
        "acctnumber": "text",
        "acctname": "text",
        "fullname": "text",
        "accttype": "text",
        "isinactive": "bool",
    },
    "location": {
        "id": "int",
        "name": "text",
        "fullname": "text",
        "subsidiary": "int",
        "isinactive": "bool",
        "externalid": "text",
        "lastmodifieddate": "datetime",
    },
    "vendor": {
        "id": "int",
        "entityid": "text",
        "companyname": "text",
        "email": "text",
        "subsidiary": "int",
        "isinactive": "bool",
        "externalid": "text",
        "datecreated": "datetime",
        "lastmodifieddate": "datetime",
    },
    "item": {
        "id": "int",
        "itemid": "text",
        "displayname": "text",
        "description": "text",
        "purchasedescription": "text",
        "upccode": "text",
        "custitem_ndc_code": "text",
        "itemtype": "text",
        "islotitem": "bool",
        "isinactive": "bool",
        "manufacturer": "text",
        "mpn": "text",
        "vendorname": "text",
        "cost": "num",
        "averagecost": "num",
        "stockunit": "text",
        "totalquantityonhand": "num",
        "externalid": "text",
        "createddate": "datetime",
        "lastmodifieddate": "datetime",
        "subsidiary": "int",
    },
    # Oracle's one-row table: `SELECT SYSDATE FROM dual`, the usual time-zone probe.
    "dual": {"dummy": "text"},
    "inventorynumber": {
        "id": "int",
        "inventorynumber": "text",
        "item": "int",
        "expirationdate": "date",
        "memo": "text",
        "lastmodifieddate": "datetime",
    },
    "inventorynumberlocation": {
        "inventorynumber": "int",
        "location": "int",
        "quantityonhand": "num",
        "quantityavailable": "num",
        "quantityonorder": "num",
        "quantityintransit": "num",
    },
    "inventorystatus": {"id": "int", "name": "text", "inventoryavailable": "bool", "isinactive": "bool"},
    "inventorybalance": {
        "item": "int",
        "location": "int",
        "binnumber": "int",
        "inventorynumber": "int",
        "inventorystatus": "int",
        "quantityonhand": "num",
        "quantityavailable": "num",
    },
    "aggregateitemlocation": {
        "item": "int",
        "location": "int",
        "quantityonhand": "num",
        "quantityavailable": "num",
        "quantitycommitted": "num",
        "quantityonorder": "num",
        "quantityintransit": "num",
    },
    "transaction": {
        "id": "int",
        "tranid": "text",
        "type": "text",
        "recordtype": "text",
        "trandate": "date",
        "duedate": "date",
        "createddate": "datetime",
        "lastmodifieddate": "datetime",
        "externalid": "text",
        "memo": "text",
        "entity": "int",
        "subsidiary": "int",
        "location": "int",
        "transferlocation": "int",
        "status": "text",
    },
    "transactionline": {
        "transaction": "int",
        "id": "int",
        "linesequencenumber": "int",
        "uniquekey": "int",
        "mainline": "bool",
        "item": "int",
        "location": "int",
        "quantity": "num",
        "rate": "num",
        "netamount": "num",
        "memo": "text",
        "isinventoryaffecting": "bool",
        "quantityshiprecv": "num",
    },
    "inventoryassignment": {
        "transaction": "int",
        "transactionline": "int",
        "inventorynumber": "int",
        "quantity": "num",
    },
}

# Reference columns: (table, column) -> referenced table (BUILTIN.DF and the record API's {id, refName}).
REFERENCES: dict[tuple[str, str], str] = {
    ("location", "subsidiary"): "subsidiary",
    ("vendor", "subsidiary"): "subsidiary",
    ("item", "subsidiary"): "subsidiary",
    ("inventorynumber", "item"): "item",
    ("inventorynumberlocation", "inventorynumber"): "inventorynumber",
    ("inventorynumberlocation", "location"): "location",
    ("inventorybalance", "item"): "item",
    ("inventorybalance", "location"): "location",
    ("inventorybalance", "inventorynumber"): "inventorynumber",
    ("inventorybalance", "inventorystatus"): "inventorystatus",
    ("aggregateitemlocation", "item"): "item",
    ("aggregateitemlocation", "location"): "location",
    ("transaction", "entity"): "vendor",
    ("transaction", "subsidiary"): "subsidiary",
    ("transaction", "location"): "location",
    ("transaction", "transferlocation"): "location",
    ("transactionline", "transaction"): "transaction",
    ("transactionline", "item"): "item",
    ("transactionline", "location"): "location",
    ("inventoryassignment", "transaction"): "transaction",
    ("inventoryassignment", "inventorynumber"): "inventorynumber",
}
# The column BUILTIN.DF shows for a referenced record.
DISPLAY_COLUMN = {
    "subsidiary": "name",
    "account": "fullname",
    "location": "name",
    "vendor": "companyname",
    "item": "itemid",
    "inventorynumber": "inventorynumber",
    "inventorystatus": "name",
    "transaction": "tranid",
}
# Transaction types that move stock: type code -> (record type, display name). Codes checked against
# public SuiteQL/search code: InvAdjst, ItemRcpt, ItemShip, InvTrnfr, CashSale, CustInvc, Build.
# InvStCng is [UNVERIFIED] (no public source found); the record type names follow the REST record ids.
STOCK_TRANSACTION_TYPES: dict[str, tuple[str, str]] = {
    "InvAdjst": ("inventoryadjustment", "Inventory Adjustment"),
    "ItemRcpt": ("itemreceipt", "Item Receipt"),
    "ItemShip": ("itemfulfillment", "Item Fulfillment"),
    "InvTrnfr": ("inventorytransfer", "Inventory Transfer"),
    "CashSale": ("cashsale", "Cash Sale"),
    "CustInvc": ("invoice", "Invoice"),
    "Build": ("assemblybuild", "Assembly Build"),
    "InvStCng": ("inventorystatuschange", "Inventory Status Change"),
}
# Inventory statuses (Inventory Status feature): id -> (name, counts as available). The SuiteQL column
# `inventorystatus.inventoryavailable` and a transaction line's status living on the line are [UNVERIFIED].
INVENTORY_STATUSES = {1: ("Good", True), 2: ("Quarantine", False), 3: ("Damaged", False)}
GOOD = 1

# Display text of list values (BUILTIN.DF over a non-reference column).
ENUM_DISPLAY = {
    ("item", "itemtype"): {"InvtPart": "Inventory Item"},
    ("transaction", "type"): {
        "PurchOrd": "Purchase Order",
        **{code: display for code, (_, display) in STOCK_TRANSACTION_TYPES.items()},
    },
    ("transaction", "status"): {
        "A": "Pending Supervisor Approval",
        "B": "Pending Receipt",
        "Approved": "Approved",
    },
}

_DDL = """
CREATE TABLE subsidiary (id INTEGER PRIMARY KEY, name TEXT, isinactive TEXT DEFAULT 'F');
CREATE TABLE account (id INTEGER PRIMARY KEY, acctnumber TEXT, acctname TEXT, fullname TEXT, accttype TEXT,
    isinactive TEXT DEFAULT 'F');
CREATE TABLE location (id INTEGER PRIMARY KEY, name TEXT, fullname TEXT, subsidiary INTEGER,
    isinactive TEXT DEFAULT 'F', externalid TEXT UNIQUE, lastmodifieddate TEXT);
CREATE TABLE vendor (id INTEGER PRIMARY KEY, entityid TEXT, companyname TEXT, email TEXT, subsidiary INTEGER,
    isinactive TEXT DEFAULT 'F', externalid TEXT UNIQUE, datecreated TEXT, lastmodifieddate TEXT);
CREATE TABLE item (id INTEGER PRIMARY KEY, itemid TEXT, displayname TEXT, description TEXT,
    purchasedescription TEXT, upccode TEXT, custitem_ndc_code TEXT, itemtype TEXT DEFAULT 'InvtPart',
    islotitem TEXT DEFAULT 'F', isinactive TEXT DEFAULT 'F', manufacturer TEXT, mpn TEXT, vendorname TEXT,
    cost NUMERIC, averagecost NUMERIC, stockunit TEXT, totalquantityonhand NUMERIC DEFAULT 0,
    externalid TEXT UNIQUE, createddate TEXT, lastmodifieddate TEXT, subsidiary INTEGER);
CREATE INDEX item_lmd ON item (lastmodifieddate);
CREATE INDEX item_itemid ON item (itemid);
CREATE TABLE dual (dummy TEXT);
INSERT INTO dual VALUES ('X');
CREATE TABLE inventorynumber (id INTEGER PRIMARY KEY, inventorynumber TEXT, item INTEGER, expirationdate TEXT,
    memo TEXT, lastmodifieddate TEXT, UNIQUE (item, inventorynumber));
CREATE INDEX inventorynumber_item ON inventorynumber (item, id);
CREATE TABLE inventorynumberlocation (inventorynumber INTEGER, location INTEGER, quantityonhand NUMERIC,
    quantityavailable NUMERIC, quantityonorder NUMERIC DEFAULT 0, quantityintransit NUMERIC DEFAULT 0,
    PRIMARY KEY (inventorynumber, location));
CREATE TABLE inventorystatus (id INTEGER PRIMARY KEY, name TEXT, inventoryavailable TEXT,
    isinactive TEXT DEFAULT 'F');
CREATE TABLE inventorybalance (item INTEGER, location INTEGER, binnumber INTEGER, inventorynumber INTEGER,
    inventorystatus INTEGER DEFAULT 1, quantityonhand NUMERIC, quantityavailable NUMERIC);
CREATE UNIQUE INDEX inventorybalance_key ON inventorybalance (item, location, IFNULL(inventorynumber, 0),
    inventorystatus);
CREATE TABLE aggregateitemlocation (item INTEGER, location INTEGER, quantityonhand NUMERIC,
    quantityavailable NUMERIC, quantitycommitted NUMERIC DEFAULT 0, quantityonorder NUMERIC DEFAULT 0,
    quantityintransit NUMERIC DEFAULT 0, PRIMARY KEY (item, location));
CREATE TABLE "transaction" (id INTEGER PRIMARY KEY, tranid TEXT, type TEXT, recordtype TEXT, trandate TEXT,
    duedate TEXT, createddate TEXT, lastmodifieddate TEXT, externalid TEXT, memo TEXT, entity INTEGER,
    subsidiary INTEGER, location INTEGER, transferlocation INTEGER, status TEXT, _account INTEGER,
    UNIQUE (recordtype, externalid));
CREATE INDEX transaction_lmd ON "transaction" (lastmodifieddate);
CREATE TABLE transactionline ("transaction" INTEGER, id INTEGER, linesequencenumber INTEGER,
    uniquekey INTEGER PRIMARY KEY, mainline TEXT, item INTEGER, location INTEGER, quantity NUMERIC,
    rate NUMERIC, netamount NUMERIC, memo TEXT, isinventoryaffecting TEXT, quantityshiprecv NUMERIC,
    _expirationdate TEXT, _status INTEGER);
CREATE INDEX transactionline_txn ON transactionline ("transaction");
CREATE INDEX transactionline_item ON transactionline (item);
CREATE TABLE inventoryassignment ("transaction" INTEGER, transactionline INTEGER, inventorynumber INTEGER,
    quantity NUMERIC, _receipt TEXT);
CREATE INDEX inventoryassignment_txn ON inventoryassignment ("transaction");
"""

_ITEM_ID_BASE = 100  # item i of the catalog is internal id 100 + i: stable across restarts
_DEFAULT_SUBSIDIARY = 1
ADJUSTMENT_ACCOUNTS = (
    (58, "5810", "Inventory Adjustments", "COGS"),
    (59, "5820", "Inventory Shrinkage", "Expense"),
)
_OTHER_ACCOUNTS = ((31, "1310", "Inventory Asset", "OthCurrAsset"),)


def to_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def date_text(day: date) -> str:
    return f"{day.isoformat()} 00:00:00"


def dec(value: Any) -> Decimal:
    """A SQLite number (int or float) or text as Decimal; float via str so 0.5 stays 0.5."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def num(value: Decimal) -> int | str:
    """Decimal -> what SQLite should store (NUMERIC affinity: '12.5' becomes a REAL, '12' an INTEGER)."""
    return int(value) if value == value.to_integral_value() else str(value)


def upc_from_ndc(ndc: str) -> str:
    """GTIN-12 (UPC-A, number system 3) of a 10-digit NDC: how drug packages are barcoded in the US."""
    body = "3" + ndc.replace("-", "")
    total = 3 * sum(map(int, body[-1::-2])) + sum(map(int, body[-2::-2]))
    return body + str((10 - total % 10) % 10)


@dataclass
class Assignment:
    """One inventoryAssignment line: a receipt of `lot` text, or an issue from inventory number `lot_id`."""

    quantity: Decimal
    receipt: str | None = None
    lot_id: int | None = None
    expiry: str | None = None


@dataclass
class AdjustmentLine:
    item: int
    location: int
    quantity: Decimal
    assignments: list[Assignment] = field(default_factory=list)
    memo: str | None = None
    path: str = "inventory.items[0]"
    status: int = GOOD  # the inventory status the stock moves into (positive) or out of (negative)


class NetSuiteState:
    """All records of one account. Thread-safe (one lock): uvicorn serves while tests poke from outside."""

    def __init__(self, clock: Clock, path: str = ":memory:", *, timezone: str = "UTC") -> None:
        self.clock = clock
        # the token user's time-zone preference (Home > Set Preferences); tests may change it live
        self.user_zone = user_time.user_zone(timezone)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        # Oracle's LIKE is case-sensitive; a sandbox file needs no durability across crashes
        self.db.execute("PRAGMA case_sensitive_like = ON")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA journal_mode = MEMORY")
        self.db.executescript(_DDL)
        user_time.install(self.db, lambda: self.user_zone)
        self._seed_reference()

    # ---------------------------------------------------------------- plumbing

    def now(self) -> str:
        return to_text(self.clock())

    def today(self) -> date:
        """The user's date now: what NetSuite puts in a new transaction's trandate."""
        return self.clock().astimezone(self.user_zone).date()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, tuple(params)).fetchall()

    def one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, tuple(params)).fetchone()

    def transaction(self) -> _Tx:
        return _Tx(self)

    # ---------------------------------------------------------------- seeding

    def _seed_reference(self) -> None:
        db = self.db
        db.execute(
            "INSERT INTO subsidiary VALUES (?, ?, 'F')", (_DEFAULT_SUBSIDIARY, "Atlas Pharma Distribution")
        )
        for acct_id, number, name, kind in ADJUSTMENT_ACCOUNTS + _OTHER_ACCOUNTS:
            db.execute(
                "INSERT INTO account VALUES (?, ?, ?, ?, ?, 'F')",
                (acct_id, number, name, f"{number} {name}", kind),
            )
        for status_id, (name, available) in INVENTORY_STATUSES.items():
            db.execute(
                "INSERT INTO inventorystatus VALUES (?, ?, ?, 'F')",
                (status_id, name, "T" if available else "F"),
            )

    def seed_catalog(self, catalog: Any, vendors: int = 6) -> int:
        """Load the shared catalog (atlas_desktop.sandbox.catalog) with bulk inserts; returns items loaded."""
        from atlas_desktop.sandbox.catalog import erp_items

        manufacturers = sorted({catalog.product(i).manufacturer for i in range(min(len(catalog), 500))})
        return self.seed_items(catalog.locations, erp_items(catalog, "netsuite"), manufacturers[:vendors])

    def seed_items(
        self, locations: Iterable[Any], seed_items: Iterable[Any], vendor_names: Iterable[str]
    ) -> int:
        """Bulk-load locations (code, name), catalog ErpSeedItems and vendors in one SQLite transaction.

        Seeded records are stamped a day in the past, so an incremental read right after start sees only
        what changed since (opening balances are not transactions).
        """
        now = to_text(self.clock() - timedelta(days=1))
        with self.lock, self.transaction():
            db = self.db
            location_ids: dict[str, int] = {}
            for n, loc in enumerate(locations, start=1):
                location_ids[loc.code] = n
                db.execute(
                    "INSERT INTO location VALUES (?, ?, ?, ?, 'F', ?, ?)",
                    (n, loc.name, loc.name, _DEFAULT_SUBSIDIARY, loc.code, now),
                )
            for n, name in enumerate(vendor_names, start=1):
                db.execute(
                    "INSERT INTO vendor VALUES (?, ?, ?, ?, ?, 'F', NULL, ?, ?)",
                    (
                        n,
                        name,
                        name,
                        f"orders@{name.split()[0].lower()}.example",
                        _DEFAULT_SUBSIDIARY,
                        now,
                        now,
                    ),
                )
            items: list[tuple[Any, ...]] = []
            lots: list[tuple[Any, ...]] = []
            lot_locations: list[tuple[Any, ...]] = []
            balances: dict[tuple[int, int, int | None], Decimal] = {}
            lot_ids: dict[tuple[int, str], int] = {}
            count = 0
            for seed_item in seed_items:
                product = seed_item.product
                item_id = _ITEM_ID_BASE + product.index
                total = sum((s.quantity for s in seed_item.stock), Decimal(0))
                items.append(
                    (
                        item_id,
                        product.sku,
                        product.name,
                        product.name,
                        product.name,
                        upc_from_ndc(product.ndc),
                        product.ndc,
                        "T" if product.lot_tracked else "F",
                        product.manufacturer,
                        product.manufacturer,
                        product.unit,
                        str(total),
                        now,
                        now,
                        _DEFAULT_SUBSIDIARY,
                    )
                )
                for lot in seed_item.lots:
                    lot_id = len(lot_ids) + 1
                    lot_ids[(item_id, lot.lot)] = lot_id
                    lots.append((lot_id, lot.lot, item_id, date_text(lot.expiry), now))
                for stock in seed_item.stock:
                    location = location_ids[stock.location]
                    stock_lot = lot_ids[(item_id, stock.lot)] if stock.lot else None
                    if stock_lot is not None:
                        # NUMERIC affinity stores '12' as an integer and '0.5' as a real
                        qty = str(stock.quantity)
                        lot_locations.append((stock_lot, location, qty, qty))
                    key = (item_id, location, stock_lot)
                    balances[key] = balances.get(key, Decimal(0)) + stock.quantity
                count += 1
                if len(items) >= 5000:
                    self._flush_seed(items, lots, lot_locations)
            self._flush_seed(items, lots, lot_locations)
            db.executemany(
                "INSERT INTO inventorybalance (item, location, binnumber, inventorynumber, inventorystatus,"
                " quantityonhand, quantityavailable) VALUES (?, ?, NULL, ?, 1, ?, ?)",
                ((i, loc, lot, str(q), str(q)) for (i, loc, lot), q in balances.items()),
            )
            db.execute(
                "INSERT INTO aggregateitemlocation (item, location, quantityonhand, quantityavailable)"
                " SELECT item, location, SUM(quantityonhand), SUM(quantityavailable) FROM inventorybalance"
                " GROUP BY item, location"
            )
        return count

    def _flush_seed(
        self, items: list[tuple[Any, ...]], lots: list[tuple[Any, ...]], lot_locations: list[Any]
    ) -> None:
        self.db.executemany(
            "INSERT INTO item (id, itemid, displayname, description, purchasedescription, upccode,"
            " custitem_ndc_code, islotitem, manufacturer, vendorname, stockunit, totalquantityonhand,"
            " createddate, lastmodifieddate, subsidiary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?)",
            items,
        )
        self.db.executemany(
            "INSERT INTO inventorynumber (id, inventorynumber, item, expirationdate, lastmodifieddate)"
            " VALUES (?, ?, ?, ?, ?)",
            lots,
        )
        self.db.executemany(
            "INSERT INTO inventorynumberlocation (inventorynumber, location, quantityonhand, "
            "quantityavailable)"
            " VALUES (?, ?, ?, ?)",
            lot_locations,
        )
        items.clear()
        lots.clear()
        lot_locations.clear()

    # ---------------------------------------------------------------- generic records

    def insert(self, table: str, values: Mapping[str, Any]) -> int:
        columns = ", ".join(f'"{c}"' for c in values)
        marks = ", ".join("?" for _ in values)
        with self.lock:
            cursor = self.db.execute(
                f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', tuple(values.values())
            )
            return int(cursor.lastrowid or 0)

    def update(self, table: str, record_id: int, values: Mapping[str, Any]) -> None:
        if not values:
            return
        sets = ", ".join(f'"{c}" = ?' for c in values)
        with self.lock:
            self.db.execute(f'UPDATE "{table}" SET {sets} WHERE id = ?', (*values.values(), record_id))

    def get(self, table: str, record_id: int) -> sqlite3.Row | None:
        return self.one(f'SELECT * FROM "{table}" WHERE id = ?', (record_id,))

    def by_external_id(
        self, table: str, external_id: str, recordtype: str | None = None
    ) -> sqlite3.Row | None:
        if recordtype:
            return self.one(
                'SELECT * FROM "transaction" WHERE externalid = ? AND recordtype = ?',
                (external_id, recordtype),
            )
        return self.one(f'SELECT * FROM "{table}" WHERE externalid = ?', (external_id,))

    # ---------------------------------------------------------------- stock: the only way it moves

    def post_adjustment(
        self, header: Mapping[str, Any], lines: list[AdjustmentLine], *, replace: int | None = None
    ) -> int:
        """Create (or, with `replace`, rewrite) an inventory adjustment; all or nothing."""
        return self._post_stock("InvAdjst", header, lines, replace=replace)

    def post_stock(self, type_code: str, header: Mapping[str, Any], lines: list[AdjustmentLine]) -> int:
        """Post any stock-moving transaction (STOCK_TRANSACTION_TYPES); each line's quantity is its stock
        effect at its location and status (negative = out). All or nothing."""
        if type_code not in STOCK_TRANSACTION_TYPES:
            raise ValueError(f"{type_code} is not a stock-moving transaction type")
        return self._post_stock(type_code, header, lines, replace=None)

    def _post_stock(
        self,
        type_code: str,
        header: Mapping[str, Any],
        lines: list[AdjustmentLine],
        *,
        replace: int | None,
    ) -> int:
        now = self.now()
        with self.lock, self.transaction():
            if replace is None:
                txn = self.insert(
                    "transaction",
                    {
                        "type": type_code,
                        "recordtype": STOCK_TRANSACTION_TYPES[type_code][0],
                        "createddate": now,
                        "lastmodifieddate": now,
                        "status": None,
                        **header,
                    },
                )
                self.update("transaction", txn, {"tranid": str(txn)})
            else:
                txn = replace
                self._reverse(txn)
                self.update("transaction", txn, {**header, "lastmodifieddate": now})
            self._line(txn, 0, None, None, None, mainline=True)
            for n, line in enumerate(lines, start=1):
                key = self._line(
                    txn,
                    n,
                    line.item,
                    line.location,
                    line.quantity,
                    memo=line.memo,
                    inventory=True,
                    status=line.status,
                )
                self._apply(txn, key, line, now)
            return txn

    def _line(
        self,
        txn: int,
        line_id: int,
        item: int | None,
        location: int | None,
        quantity: Decimal | None,
        *,
        mainline: bool = False,
        memo: str | None = None,
        inventory: bool = False,
        rate: Decimal | None = None,
        status: int | None = None,
    ) -> int:
        return self.insert(
            "transactionline",
            {
                "transaction": txn,
                "id": line_id,
                "linesequencenumber": line_id,
                "mainline": "T" if mainline else "F",
                "item": item,
                "location": location,
                "quantity": None if quantity is None else num(quantity),
                "rate": None if rate is None else num(rate),
                "netamount": None if rate is None or quantity is None else num(rate * quantity),
                "memo": memo,
                "isinventoryaffecting": "T" if inventory else "F",
                "_status": status,
            },
        )

    def _apply(self, txn: int, line_key: int, line: AdjustmentLine, now: str) -> None:
        item = self.get("item", line.item)
        assert item is not None  # records.py resolved the reference
        available = _available(line.status)
        if item["islotitem"] == "T":
            for k, a in enumerate(line.assignments):
                path = f"{line.path}.inventoryDetail.inventoryAssignment.items[{k}]"
                lot_id = a.lot_id
                if a.receipt is not None:
                    lot_id = self._lot_for_receipt(line.item, a.receipt, a.expiry, now)
                assert lot_id is not None
                self._move_lot(lot_id, line.location, a.quantity, path, available)
                self.insert(
                    "inventoryassignment",
                    {
                        "transaction": txn,
                        "transactionline": line_key,
                        "inventorynumber": lot_id,
                        "quantity": num(a.quantity),
                        "_receipt": a.receipt,
                    },
                )
                self._move_balance(line.item, line.location, lot_id, a.quantity, path, line.status)
        else:
            self._move_balance(line.item, line.location, None, line.quantity, line.path, line.status)
        self._move_aggregate(line.item, line.location, line.quantity, line.path, available)

    def _lot_for_receipt(self, item: int, text: str, expiry: str | None, now: str) -> int:
        row = self.one(
            "SELECT id, expirationdate FROM inventorynumber WHERE item = ? AND inventorynumber = ?",
            (item, text),
        )
        if row is not None:
            if expiry and row["expirationdate"] is None:
                self.update("inventorynumber", row["id"], {"expirationdate": expiry, "lastmodifieddate": now})
            return int(row["id"])
        return self.insert(
            "inventorynumber",
            {"inventorynumber": text, "item": item, "expirationdate": expiry, "lastmodifieddate": now},
        )

    def _move_lot(self, lot_id: int, location: int, qty: Decimal, path: str, available: bool = True) -> None:
        row = self.one(
            "SELECT quantityonhand, quantityavailable FROM inventorynumberlocation WHERE inventorynumber = ?"
            " AND location = ?",
            (lot_id, location),
        )
        before = dec(row["quantityonhand"]) if row else Decimal(0)
        after = before + qty
        free = (dec(row["quantityavailable"]) if row else Decimal(0)) + (qty if available else Decimal(0))
        if after < 0:
            lot = self.get("inventorynumber", lot_id)
            raise user_error(
                f"The quantity of lot number {lot['inventorynumber'] if lot else lot_id} at this location is "
                f"{before}; you cannot remove {-qty}. Inventory cannot go below zero.",
                path,
            )
        if row is None:
            self.insert(
                "inventorynumberlocation",
                {
                    "inventorynumber": lot_id,
                    "location": location,
                    "quantityonhand": num(after),
                    "quantityavailable": num(free),
                },
            )
        else:
            self.db.execute(
                "UPDATE inventorynumberlocation SET quantityonhand = ?, quantityavailable = ?"
                " WHERE inventorynumber = ? AND location = ?",
                (num(after), num(free), lot_id, location),
            )

    def _move_balance(
        self, item: int, location: int, lot_id: int | None, qty: Decimal, path: str, status: int = GOOD
    ) -> None:
        row = self.one(
            "SELECT rowid, quantityonhand FROM inventorybalance WHERE item = ? AND location = ?"
            " AND IFNULL(inventorynumber, 0) = ? AND inventorystatus = ?",
            (item, location, lot_id or 0, status),
        )
        before = dec(row["quantityonhand"]) if row else Decimal(0)
        after = before + qty
        if after < 0:
            raise user_error(
                f"The quantity on hand of this item at this location is {before}; you cannot remove {-qty}. "
                "Inventory cannot go below zero.",
                path,
            )
        free = num(after) if _available(status) else 0
        if row is None:
            self.insert(
                "inventorybalance",
                {
                    "item": item,
                    "location": location,
                    "inventorynumber": lot_id,
                    "inventorystatus": status,
                    "quantityonhand": num(after),
                    "quantityavailable": free,
                },
            )
        else:
            self.db.execute(
                "UPDATE inventorybalance SET quantityonhand = ?, quantityavailable = ? WHERE rowid = ?",
                (num(after), free, row["rowid"]),
            )

    def _move_aggregate(
        self, item: int, location: int, qty: Decimal, path: str, available: bool = True
    ) -> None:
        row = self.one(
            "SELECT quantityonhand, quantityavailable FROM aggregateitemlocation WHERE item = ?"
            " AND location = ?",
            (item, location),
        )
        after = (dec(row["quantityonhand"]) if row else Decimal(0)) + qty
        free = (dec(row["quantityavailable"]) if row else Decimal(0)) + (qty if available else Decimal(0))
        if after < 0:
            raise user_error("Inventory cannot go below zero.", path)
        if row is None:
            self.insert(
                "aggregateitemlocation",
                {
                    "item": item,
                    "location": location,
                    "quantityonhand": num(after),
                    "quantityavailable": num(free),
                },
            )
        else:
            self.db.execute(
                "UPDATE aggregateitemlocation SET quantityonhand = ?, quantityavailable = ? WHERE item = ? "
                "AND location = ?",
                (num(after), num(free), item, location),
            )
        # item totals move with stock, but item.lastmodifieddate does not
        self.db.execute(
            "UPDATE item SET totalquantityonhand = (SELECT SUM(quantityonhand) FROM aggregateitemlocation"
            " WHERE item = ?) WHERE id = ?",
            (item, item),
        )

    def _reverse(self, txn: int) -> None:
        """Undo an adjustment's stock effect before it is rewritten by an upsert."""
        lines = self.query(
            'SELECT uniquekey, item, location, quantity, _status FROM transactionline WHERE "transaction" = ?'
            " AND mainline = 'F' ORDER BY id",
            (txn,),
        )
        for n, line in enumerate(lines):
            item = self.get("item", line["item"])
            assert item is not None
            path = f"inventory.items[{n}]"  # the line's place in the record being rewritten
            qty = -dec(line["quantity"])
            status = line["_status"] or GOOD
            available = _available(status)
            if item["islotitem"] == "T":
                for k, a in enumerate(
                    self.query(
                        "SELECT inventorynumber, quantity FROM inventoryassignment WHERE transactionline = ?"
                        " ORDER BY rowid",
                        (line["uniquekey"],),
                    )
                ):
                    where = f"{path}.inventoryDetail.inventoryAssignment.items[{k}]"
                    self._move_lot(
                        a["inventorynumber"], line["location"], -dec(a["quantity"]), where, available
                    )
                    self._move_balance(
                        line["item"],
                        line["location"],
                        a["inventorynumber"],
                        -dec(a["quantity"]),
                        where,
                        status,
                    )
            else:
                self._move_balance(line["item"], line["location"], None, qty, path, status)
            self._move_aggregate(line["item"], line["location"], qty, path, available)
        self.db.execute('DELETE FROM inventoryassignment WHERE "transaction" = ?', (txn,))
        self.db.execute('DELETE FROM transactionline WHERE "transaction" = ?', (txn,))

    # ---------------------------------------------------------------- purchase orders

    def post_purchase_order(
        self,
        header: Mapping[str, Any],
        lines: list[tuple[int, Decimal, Decimal | None, int | None]],
        *,
        replace: int | None = None,
    ) -> int:
        """lines: (item, quantity, rate, location). Raises quantity on order; stock does not move."""
        now = self.now()
        with self.lock, self.transaction():
            if replace is None:
                txn = self.insert(
                    "transaction",
                    {
                        "type": "PurchOrd",
                        "recordtype": "purchaseorder",
                        "createddate": now,
                        "lastmodifieddate": now,
                        "status": "B",
                        **header,
                    },
                )
                self.update("transaction", txn, {"tranid": f"PO{txn}"})
            else:
                txn = replace
                self._unorder(txn)
                self.update("transaction", txn, {**header, "lastmodifieddate": now})
            order = self.get("transaction", txn)
            assert order is not None
            self._line(txn, 0, None, order["location"], None, mainline=True)
            for n, (item, quantity, rate, location) in enumerate(lines, start=1):
                where = location or order["location"]
                self._line(txn, n, item, where, quantity, rate=rate)
                if where is not None:
                    self._on_order(item, where, quantity)
            return txn

    def _on_order(self, item: int, location: int, quantity: Decimal) -> None:
        self.db.execute(
            "INSERT INTO aggregateitemlocation (item, location, quantityonhand, quantityavailable, "
            "quantityonorder)"
            " VALUES (?, ?, 0, 0, ?) ON CONFLICT (item, location) DO UPDATE SET"
            " quantityonorder = quantityonorder + excluded.quantityonorder",
            (item, location, num(quantity)),
        )

    def _unorder(self, txn: int) -> None:
        for line in self.query(
            'SELECT item, location, quantity FROM transactionline WHERE "transaction" = ? AND mainline = '
            "'F'",
            (txn,),
        ):
            if line["location"] is not None:
                self._on_order(line["item"], line["location"], -dec(line["quantity"]))
        self.db.execute('DELETE FROM transactionline WHERE "transaction" = ?', (txn,))

    # ------------------------------------------------------------ helpers for tests and the demo (ERP users)

    def receive(
        self,
        item_id: int,
        location_id: int,
        qty: Decimal | int | str,
        lot: str | None = None,
        expiry: date | None = None,
        *,
        memo: str = "received by an ERP user",
    ) -> int:
        """A positive adjustment as a warehouse user would post it in the NetSuite UI; returns its id."""
        quantity = Decimal(str(qty))
        assignments = (
            [Assignment(quantity, receipt=lot, expiry=date_text(expiry) if expiry else None)] if lot else []
        )
        return self.post_adjustment(
            {
                "memo": memo,
                "trandate": date_text(self.today()),
                "subsidiary": _DEFAULT_SUBSIDIARY,
                "_account": ADJUSTMENT_ACCOUNTS[0][0],
                "location": location_id,
            },
            [AdjustmentLine(item_id, location_id, quantity, assignments)],
        )

    def issue(
        self,
        item_id: int,
        location_id: int,
        qty: Decimal | int | str,
        lot: str | None = None,
        *,
        memo: str = "issued by an ERP user",
    ) -> int:
        """A negative adjustment (qty is the amount removed, positive); refuses to go below zero."""
        quantity = -Decimal(str(qty))
        assignments = []
        if lot is not None:
            lot_id = self.lot_id(item_id, lot)
            if lot_id is None:
                raise invalid_content(f"Lot {lot} does not exist for item {item_id}.")
            assignments = [Assignment(quantity, lot_id=lot_id)]
        return self.post_adjustment(
            {
                "memo": memo,
                "trandate": date_text(self.today()),
                "subsidiary": _DEFAULT_SUBSIDIARY,
                "_account": ADJUSTMENT_ACCOUNTS[0][0],
                "location": location_id,
            },
            [AdjustmentLine(item_id, location_id, quantity, assignments)],
        )

    def edit_item(self, item_id: int, **fields: Any) -> None:
        """Change item master fields as a user would (moves lastmodifieddate)."""
        self.update("item", item_id, {**fields, "lastmodifieddate": self.now()})

    def set_expiry(self, item_id: int, lot: str, expiry: date) -> None:
        lot_id = self.lot_id(item_id, lot)
        if lot_id is None:
            raise KeyError(lot)
        self.update(
            "inventorynumber", lot_id, {"expirationdate": date_text(expiry), "lastmodifieddate": self.now()}
        )

    def lot_id(self, item_id: int, lot: str) -> int | None:
        row = self.one(
            "SELECT id FROM inventorynumber WHERE item = ? AND inventorynumber = ?", (item_id, lot)
        )
        return int(row["id"]) if row else None

    def stock(self, item_id: int, location_id: int | None = None, lot: str | None = None) -> Decimal:
        """Quantity on hand of an item (at a location, of a lot)."""
        sql = (
            "SELECT SUM(b.quantityonhand) FROM inventorybalance b"
            " LEFT JOIN inventorynumber n ON n.id = b.inventorynumber WHERE b.item = ?"
        )
        params: list[Any] = [item_id]
        if location_id is not None:
            sql += " AND b.location = ?"
            params.append(location_id)
        if lot is not None:
            sql += " AND n.inventorynumber = ?"
            params.append(lot)
        row = self.one(sql, params)
        return dec(row[0] if row else None)

    def count_transactions(
        self, recordtype: str = "inventoryadjustment", external_id: str | None = None
    ) -> int:
        """How many adjustments (or POs) carry this externalId: proves a retried write posted once."""
        sql = 'SELECT COUNT(*) FROM "transaction" WHERE recordtype = ?'
        params: list[Any] = [recordtype]
        if external_id is not None:
            sql += " AND externalid = ?"
            params.append(external_id)
        row = self.one(sql, params)
        return int(row[0]) if row else 0

    def count_lines(self, recordtype: str = "inventoryadjustment", memo: str | None = None) -> int:
        """How many item lines transactions of this type hold (with this line memo): a batched write's
        change is one line, found by the key its memo carries."""
        sql = (
            'SELECT COUNT(*) FROM transactionline l JOIN "transaction" t ON t.id = l."transaction" '
            "WHERE t.recordtype = ? AND l.mainline = 'F'"
        )
        params: list[Any] = [recordtype]
        if memo is not None:
            sql += " AND l.memo = ?"
            params.append(memo)
        row = self.one(sql, params)
        return int(row[0]) if row else 0

    def largest_transaction(self, recordtype: str = "inventoryadjustment") -> int:
        """The most item lines any one transaction of this type holds."""
        row = self.one(
            'SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM transactionline l JOIN "transaction" t '
            "ON t.id = l.\"transaction\" WHERE t.recordtype = ? AND l.mainline = 'F' GROUP BY t.id)",
            [recordtype],
        )
        return int(row[0] or 0) if row else 0

    def item_ids(self, *, lot: bool | None = None, limit: int = 10) -> list[int]:
        sql = "SELECT id FROM item"
        if lot is not None:
            sql += " WHERE islotitem = " + ("'T'" if lot else "'F'")
        return [int(r["id"]) for r in self.query(sql + " ORDER BY id LIMIT ?", (limit,))]


def _available(status: int) -> bool:
    return INVENTORY_STATUSES.get(status, ("", True))[1]


class _Tx:
    """BEGIN/COMMIT or ROLLBACK; nested use becomes a SAVEPOINT so inner failures undo only their part."""

    def __init__(self, state: NetSuiteState) -> None:
        self.state = state
        self.depth_name: str | None = None

    def __enter__(self) -> _Tx:
        self.state.lock.acquire()
        db = self.state.db
        if db.in_transaction:
            self.depth_name = f"sp{id(self)}"
            db.execute(f"SAVEPOINT {self.depth_name}")
        else:
            db.execute("BEGIN")
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self.state.db
        try:
            if self.depth_name:
                if exc_type is not None:
                    db.execute(f"ROLLBACK TO {self.depth_name}")
                db.execute(f"RELEASE {self.depth_name}")
            elif exc_type is not None:
                db.execute("ROLLBACK")
            else:
                db.execute("COMMIT")
        finally:
            self.state.lock.release()
