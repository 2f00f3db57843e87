"""SuiteQL text for every read, built from checked identifiers and escaped literals only.

Joins are written in Oracle's syntax (tables listed in FROM, joined in WHERE): Oracle advises it for
SuiteQL, whose ANSI joins are converted first and can time out on large accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from atlas_desktop.domain.errors import ConfigError

DATETIME_FORMAT = "YYYY-MM-DD HH24:MI:SS"
_PY_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
_ID = re.compile(r"^\d{1,20}$")
MAX_IN_LIST = 1000  # values Oracle allows in one IN (...) list; more fail with ORA-01795


def column(field_name: str, *, setting: str = "field_mappings.ndc_field") -> str:
    """A record field as a SuiteQL column (`upcCode` -> `upccode`); refuses anything that is not a name."""
    name = field_name.strip().lower()
    if not _COLUMN.match(name):
        raise ConfigError(
            setting,
            f"'{field_name}' is not a NetSuite field id",
            fix="Use the field's id as NetSuite shows it, e.g. custitem_ndc_code, upcCode or itemId.",
        )
    return name


def literal(text: str) -> str:
    """A SuiteQL string literal (Oracle syntax: quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def internal_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"'{value}' is not a NetSuite internal id")
    return value


def in_list(column: str, values: Iterable[str]) -> str:
    """`column IN (...)` over already-rendered SQL values, split into OR-ed lists of at most MAX_IN_LIST
    (Oracle's own advice for longer lists)."""
    rendered = list(values)
    if not rendered:
        return "1 = 0"  # Oracle has no empty IN list; nothing matches
    lists = [
        f"{column} IN ({', '.join(rendered[i : i + MAX_IN_LIST])})"
        for i in range(0, len(rendered), MAX_IN_LIST)
    ]
    return lists[0] if len(lists) == 1 else f"({' OR '.join(lists)})"


def id_list(column: str, values: Iterable[str]) -> str:
    return in_list(column, (internal_id(v) for v in values))


def to_date(moment: datetime, timezone: str = "UTC") -> str:
    """`TO_DATE('2026-03-30 14:00:00', ...)` in the user's time zone; never truncated to a day.

    A moment in the hour DST repeats shows a wall time NetSuite may read as the hour's earlier instant:
    the read then starts up to an hour early, which the overlap de-duplication absorbs.
    """
    local = moment.astimezone(ZoneInfo(timezone))
    return f"TO_DATE('{local.strftime(_PY_DATETIME_FORMAT)}', '{DATETIME_FORMAT}')"


def parse_datetime(text: str | None, timezone: str = "UTC") -> datetime | None:
    """A `TO_CHAR(..., 'YYYY-MM-DD HH24:MI:SS')` value back to an aware UTC datetime."""
    if not text:
        return None
    return _parse_datetime(text, timezone)


# A full read repeats the same few stamps over thousands of rows (lots edited by one import, say):
# remember them. Datetimes are immutable, so sharing one object between rows is safe.
@lru_cache(maxsize=4096)
def _parse_datetime(text: str, timezone: str) -> datetime | None:
    value = text.strip()
    try:
        if (
            len(value) == 19
            and value.isascii()
            and value[4] == value[7] == "-"
            and value[10] == " "
            and value[13] == value[16] == ":"
            and (value[0:4] + value[5:7] + value[8:10] + value[11:13] + value[14:16] + value[17:19]).isdigit()
        ):
            # The fixed TO_CHAR layout: slicing is much faster than strptime.
            naive = datetime(
                int(value[0:4]), int(value[5:7]), int(value[8:10]),
                int(value[11:13]), int(value[14:16]), int(value[17:19]),
            )  # fmt: skip
        else:
            naive = datetime.strptime(value, _PY_DATETIME_FORMAT)
    except ValueError:
        return None
    if timezone == "UTC":
        return naive.replace(tzinfo=UTC)
    # A wall time of the hour DST repeats is read as its later instant: the reads compare these times
    # with their window's start, and "inside the window" is the side that never drops a change.
    return naive.replace(tzinfo=ZoneInfo(timezone), fold=1).astimezone(UTC)


def products(ndc_column: str, after: str | None, changed_since: str | None) -> str:
    where = ["item.itemtype = 'InvtPart'"]
    if after is not None:
        where.append(f"item.id >= {internal_id(after)}")
    if changed_since is not None:
        where.append(f"item.lastmodifieddate >= {changed_since}")
    ndc = f"item.{ndc_column} AS ndc, " if ndc_column not in ("itemid", "upccode") else ""
    return (
        f"SELECT item.id, item.itemid, item.displayname, {ndc}item.upccode, item.islotitem, item.isinactive, "
        f"item.manufacturer, item.stockunit, TO_CHAR(item.lastmodifieddate, '{DATETIME_FORMAT}') AS modified "
        f"FROM item WHERE {' AND '.join(where)} ORDER BY item.id"
    )


def lot_stock(after: str | None, items: Iterable[str] | None = None) -> str:
    where = [
        "inventorynumber.id = inventorynumberlocation.inventorynumber",
        "item.id = inventorynumber.item",
    ]
    if after is not None:
        where.append(f"inventorynumber.item >= {internal_id(after)}")
    if items is not None:
        where.append(id_list("inventorynumber.item", items))
    return (
        "SELECT inventorynumber.item AS item, inventorynumberlocation.inventorynumber AS numid, "
        "inventorynumberlocation.location AS location, inventorynumberlocation.quantityonhand AS qty, "
        "inventorynumber.inventorynumber AS lot, "
        "TO_CHAR(inventorynumber.expirationdate, 'YYYY-MM-DD') AS expiry, "
        f"TO_CHAR(inventorynumber.lastmodifieddate, '{DATETIME_FORMAT}') AS lotmodified, "
        "item.stockunit AS stockunit FROM inventorynumberlocation, inventorynumber, item "
        f"WHERE {' AND '.join(where)} ORDER BY inventorynumber.item, "
        "inventorynumberlocation.inventorynumber, inventorynumberlocation.location"
    )


def plain_stock(after: str | None, items: Iterable[str] | None = None) -> str:
    """Per item and location, for items without lots (lot items come from `lot_stock`)."""
    where = ["item.id = aggregateitemlocation.item", "item.islotitem = 'F'"]
    if after is not None:
        where.append(f"aggregateitemlocation.item >= {internal_id(after)}")
    if items is not None:
        where.append(id_list("aggregateitemlocation.item", items))
    return (
        "SELECT aggregateitemlocation.item AS item, aggregateitemlocation.location AS location, "
        "aggregateitemlocation.quantityonhand AS qty, item.stockunit AS stockunit "
        "FROM aggregateitemlocation, item "
        f"WHERE {' AND '.join(where)} ORDER BY aggregateitemlocation.item, aggregateitemlocation.location"
    )


def stock_transactions(changed_since: str, after: str | None) -> str:
    """Lines of stock-moving transactions changed since the watermark: which items to re-read.

    Stock moves through many transaction types (sales, builds, status changes, work orders, ...), so the
    line's own inventory effect decides, not a list of types. A transfer's lines name both
    locations; the re-read is per item, so both come back.
    """
    where = [
        "transaction.id = transactionline.transaction",
        f"transaction.lastmodifieddate >= {changed_since}",
        "transactionline.isinventoryaffecting = 'T'",
        "transactionline.item IS NOT NULL",
    ]
    if after is not None:
        where.append(f"transaction.id >= {internal_id(after)}")
    return (
        "SELECT transaction.id AS id, transactionline.id AS line, transactionline.item AS item, "
        f"TO_CHAR(transaction.lastmodifieddate, '{DATETIME_FORMAT}') AS modified "
        "FROM transactionline, transaction "
        f"WHERE {' AND '.join(where)} ORDER BY transaction.id, transactionline.id"
    )


def changed_lots(changed_since: str, after: str | None) -> str:
    """Lots whose own fields (expiry) changed since the watermark: no transaction records that."""
    where = [f"inventorynumber.lastmodifieddate >= {changed_since}"]
    if after is not None:
        where.append(f"inventorynumber.id >= {internal_id(after)}")
    return (
        "SELECT inventorynumber.id AS id, inventorynumber.item AS item, "
        f"TO_CHAR(inventorynumber.lastmodifieddate, '{DATETIME_FORMAT}') AS modified "
        f"FROM inventorynumber WHERE {' AND '.join(where)} ORDER BY inventorynumber.id"
    )


def lot_number_id(item_id: str, lot: str) -> str:
    return (
        "SELECT id FROM inventorynumber "
        f"WHERE item = {internal_id(item_id)} AND inventorynumber = {literal(lot)} ORDER BY id"
    )


def write_by_external_id(external_id: str) -> str:
    return f"SELECT id, tranid, type FROM transaction WHERE externalid = {literal(external_id)} ORDER BY id"


def items_by_ndc(ndc_column: str, texts: Iterable[str]) -> str:
    matches = in_list(ndc_column, (literal(t) for t in texts))
    return f"SELECT id, {ndc_column} AS ndc, isinactive FROM item WHERE {matches} ORDER BY id"


def vendor_by_name(name: str) -> str:
    value = literal(name)
    return (
        "SELECT id, companyname, entityid FROM vendor "
        f"WHERE companyname = {value} OR entityid = {value} ORDER BY id"
    )


def locations() -> str:
    return "SELECT id, name, externalid, isinactive FROM location ORDER BY id"


def subsidiaries() -> str:
    return "SELECT id, name, isinactive FROM subsidiary ORDER BY id"


def accounts() -> str:
    return "SELECT id, acctnumber, fullname AS name, accttype FROM account WHERE isinactive = 'F' ORDER BY id"


def item_sample(limit_hint: str = "") -> str:
    return f"SELECT * FROM item WHERE itemtype = 'InvtPart'{limit_hint} ORDER BY id"


def field_sample(field: str) -> str:
    return f"SELECT id, {field} AS value FROM item WHERE {field} IS NOT NULL ORDER BY id"


def probe_items() -> str:
    return "SELECT id, itemid, islotitem FROM item WHERE itemtype = 'InvtPart' ORDER BY id"


def probe_lots() -> str:
    return "SELECT id, inventorynumber, item FROM inventorynumber ORDER BY id"


def adjustments_by_key(keys: Sequence[str]) -> str:
    """The adjustment lines carrying one of these write keys: as their line's memo (a batched record) or as
    their record's externalId (a one-change record)."""
    rendered = [literal(k) for k in keys]
    memo, external = in_list("tl.memo", rendered), in_list("t.externalid", rendered)
    return (
        "SELECT tl.memo AS memo, t.externalid AS externalid, t.id AS id, t.tranid AS tranid "
        "FROM transaction t, transactionline tl WHERE tl.transaction = t.id AND t.type = 'InvAdjst' "
        f"AND tl.mainline = 'F' AND ({memo} OR {external}) ORDER BY t.id"
    )
