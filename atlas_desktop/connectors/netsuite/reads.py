"""Streamed reads of items and stock, full or since a watermark (overlap window + de-duplication).

Watermarks are server time: the `Date` of the read's first answer minus a second (our own clock only
when the server sends no Date). A read's watermark is never later than the moment its queries ran, so
the next read, asking from `watermark - overlap`, cannot leave a hole.
The overlap also catches rows stamped before they became visible (long transactions); what the
overlap brings back twice is dropped by remembering what the previous read already covered.
SuiteQL shows and compares datetimes in the token user's time zone: each read first learns
it from the account (user_zone.py), then renders its watermark in it and parses the rows' times from it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.client import NetSuiteClient, Row
from atlas_desktop.connectors.netsuite.mapping import (
    FieldMap,
    product_from_row,
    row_version,
    stock_from_row,
)
from atlas_desktop.connectors.netsuite.user_zone import UserZoneLookup
from atlas_desktop.connectors.offload import OFF_LOOP_ROWS, off_loop
from atlas_desktop.domain.connector import StockRead as Level
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.model import Product, require_aware, utc_now

# Items re-read per stock query in an incremental read (keeps the IN list and the answer small).
ITEM_CHUNK = 500


def _by_id(row: Row) -> tuple[int, ...]:
    return (int(row["id"]),)


def _by_item_numid_location(row: Row) -> tuple[int, ...]:
    return (int(row["item"]), int(row.get("numid") or 0), int(row["location"]))


def _by_item_location(row: Row) -> tuple[int, ...]:
    return (int(row["item"]), int(row["location"]))


def _by_transaction_line(row: Row) -> tuple[int, ...]:
    return (int(row["id"]), int(row.get("line") or 0))


class Reader:
    """Reads for one connection. Keeps the last watermarks and what the last overlap window covered."""

    def __init__(
        self,
        client: NetSuiteClient,
        fields: FieldMap,
        *,
        overlap: timedelta,
        clock: Callable[[], datetime] = utc_now,
        zones: UserZoneLookup | None = None,
    ) -> None:
        self.client = client
        self.fields = fields
        # None: the zone in `fields` is taken as it is (tests of the read logic alone)
        self.zones = zones
        self.overlap = overlap
        self.clock = clock
        self.watermarks: dict[str, datetime] = {}
        # product id -> digest of the row last handed out, for rows inside the last overlap window
        self._recent_products: dict[str, str] = {}
        # (source, id, lastmodified text) of transactions and lot edits already reflected in a stock read
        self._seen_changes: set[tuple[str, str, str]] = set()

    async def _learn_zone(self) -> None:
        """Use the zone SuiteQL will use for this read (asked before the read's clock starts)."""
        if self.zones is not None:
            zone = await self.zones.get()
            if zone.name != self.fields.timezone:
                self.fields = replace(self.fields, timezone=zone.name)

    def _watermark(self, started: datetime) -> datetime:
        server = self.client.last_server_time
        moment = server if server is not None and abs(server - started) < timedelta(days=1) else started
        return moment - timedelta(seconds=1)

    def _changed_since(self, since: datetime) -> str:
        require_aware(since, "since")
        return queries.to_date(since - self.overlap, self.fields.timezone)

    # ---- products -----------------------------------------------------------------------------

    async def products(self, since: datetime | None) -> AsyncIterator[Product]:
        await self._learn_zone()
        started = self.clock()
        self.client.last_server_time = None
        changed = self._changed_since(since) if since is not None else None
        previous = self._recent_products if since is not None else {}
        recent: dict[str, str] = {}
        watermark: datetime | None = None
        column = self.fields.ndc_column
        pages = self.client.suiteql_row_pages(
            lambda after: queries.products(column, after, changed), lambda row: str(row["id"]), _by_id
        )
        async for rows in pages:
            if watermark is None:
                watermark = self._watermark(started)
                window_start = watermark - self.overlap
            # Mapping a page of rows costs milliseconds: on a worker thread, not the app's event loop.
            parsed = await off_loop(
                len(rows), OFF_LOOP_ROWS, _products_of, rows, self.fields, window_start, previous
            )
            for product, version in parsed:
                if version is not None:
                    if product.last_modified is not None and product.last_modified >= window_start:
                        recent[product.erp_item_id] = version
                    if previous.get(product.erp_item_id) == version:
                        continue  # the overlap window brought back a row the last read already handed out
                yield product
        self._recent_products = recent
        self.watermarks["products"] = watermark or self._watermark(started)

    # ---- stock --------------------------------------------------------------------------------

    async def stock(self, since: datetime | None) -> AsyncIterator[Level]:
        await self._learn_zone()
        started = self.clock()
        self.client.last_server_time = None
        if since is None:
            # Note the stock transactions of the overlap window before reading balances: they are all
            # reflected in what follows, so the next incremental read need not re-read their items.
            window = started - 2 * self.overlap
            seen = await self._note_transactions(window)
            watermark = self._watermark(started)
            async for level in self._levels(None, note_lots_since=window, seen=seen):
                yield level
        else:
            affected, seen = await self._affected_items(since)
            watermark = self._watermark(started)
            ordered = sorted(affected, key=int)
            for index in range(0, len(ordered), ITEM_CHUNK):
                async for level in self._levels(ordered[index : index + ITEM_CHUNK]):
                    yield level
        self._seen_changes = seen
        self.watermarks["stock"] = watermark

    async def _levels(
        self,
        items: list[str] | None,
        *,
        note_lots_since: datetime | None = None,
        seen: set[tuple[str, str, str]] | None = None,
    ) -> AsyncIterator[Level]:
        """Stock positions (of `items`, or all). On a full read, lots edited within the window are noted
        in `seen` from the same rows, so the next incremental read does not re-read them."""
        lots = self.client.suiteql_row_pages(
            lambda after: queries.lot_stock(after, items),
            lambda row: str(row["item"]),
            _by_item_numid_location,
        )
        note_since = note_lots_since if seen is not None else None
        async for rows in lots:
            # Mapping a page of rows costs milliseconds: on a worker thread, not the app's event loop.
            levels, edited = await off_loop(
                len(rows), OFF_LOOP_ROWS, _lot_levels_of, rows, self.fields, note_since
            )
            if seen is not None:
                seen.update(edited)
            for level in levels:
                yield level
        plain = self.client.suiteql_row_pages(
            lambda after: queries.plain_stock(after, items), lambda row: str(row["item"]), _by_item_location
        )
        async for rows in plain:
            for level in await off_loop(len(rows), OFF_LOOP_ROWS, _plain_levels_of, rows, self.fields):
                yield level

    async def _changes(
        self, from_moment: str, *, lots: bool = True
    ) -> AsyncIterator[tuple[tuple[str, str, str], str | None]]:
        """(marker, item) for every stock transaction line and every lot edited since `from_moment`."""
        transactions = self.client.suiteql_rows(
            lambda after: queries.stock_transactions(from_moment, after),
            lambda row: str(row["id"]),
            _by_transaction_line,
        )
        async for row in transactions:
            yield ("transaction", str(row["id"]), str(row.get("modified") or "")), _text(row.get("item"))
        if not lots:
            return
        changed_lots = self.client.suiteql_rows(
            lambda after: queries.changed_lots(from_moment, after), lambda row: str(row["id"]), _by_id
        )
        async for row in changed_lots:
            yield ("lot", str(row["id"]), str(row.get("modified") or "")), _text(row.get("item"))

    async def _note_transactions(self, window_start: datetime) -> set[tuple[str, str, str]]:
        start = queries.to_date(window_start, self.fields.timezone)
        return {marker async for marker, _ in self._changes(start, lots=False)}

    async def _affected_items(self, since: datetime) -> tuple[set[str], set[tuple[str, str, str]]]:
        """Items touched by stock transactions or lot edits since the watermark, minus those already covered.

        Item `lastmodifieddate` does not move when stock moves, so transactions are the signal.
        """
        affected: set[str] = set()
        seen: set[tuple[str, str, str]] = set()
        async for marker, item in self._changes(self._changed_since(since)):
            seen.add(marker)
            if marker not in self._seen_changes and item:
                if not (item.isascii() and item.isdigit()):
                    raise InvalidResponse(
                        f"NetSuite sent a stock change for the item id {item[:40]!r}, which is not an id.",
                        system="NetSuite",
                    )
                affected.add(item)
        return affected, seen


# ---- a page of rows -> model objects (pure: they may run on a worker thread) ----------------------------
def _products_of(
    rows: list[Row], fields: FieldMap, window_start: datetime, previous: dict[str, str]
) -> list[tuple[Product, str | None]]:
    """Each row's product, with its digest when the overlap logic needs it (else None)."""
    parsed: list[tuple[Product, str | None]] = []
    for row in rows:
        product = product_from_row(row, fields)
        in_window = product.last_modified is not None and product.last_modified >= window_start
        # Digest only rows that can matter: most of a full read is older than the window.
        needs_version = in_window or product.erp_item_id in previous
        parsed.append((product, row_version(row) if needs_version else None))
    return parsed


def _lot_levels_of(
    rows: list[Row], fields: FieldMap, note_lots_since: datetime | None
) -> tuple[list[Level], list[tuple[str, str, str]]]:
    """(levels, each with its lot's internal id as `lot_ref`; lot edits at or after `note_lots_since`)."""
    levels: list[Level] = []
    edited: list[tuple[str, str, str]] = []
    for row in rows:
        if note_lots_since is not None:
            modified = str(row.get("lotmodified") or "")
            moment = queries.parse_datetime(modified, fields.timezone)
            if moment is not None and moment >= note_lots_since:
                edited.append(("lot", str(row.get("numid")), modified))
        levels.append(stock_from_row(row, fields, lot_row=True))
    return levels, edited


def _plain_levels_of(rows: list[Row], fields: FieldMap) -> list[Level]:
    return [stock_from_row(row, fields, lot_row=False) for row in rows]


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
