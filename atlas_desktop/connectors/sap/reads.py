"""Streaming reads: products (API_PRODUCT_SRV), stock (API_MATERIAL_STOCK_SRV) joined with batch expiry.

Full reads page through whole collections; incremental reads use `LastChangeDateTime` (products, with an
overlap window and de-duplication) and new material documents since the watermark (stock: which
materials moved -> re-read their stock rows; positions a document touched that no longer have a stock row
are reported as zero, because SAP drops empty rows rather than showing 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus, urlencode

from atlas_desktop.connectors.offload import OFF_LOOP_ROWS, off_loop
from atlas_desktop.connectors.sap.batch_reads import BatchReader
from atlas_desktop.connectors.sap.config import (
    BATCH_SRV,
    EAN_SOURCE,
    MATDOC_SRV,
    PRODUCT_SRV,
    STOCK_SRV,
    SapConfig,
)
from atlas_desktop.connectors.sap.mapping import (
    STOCK_ORDER,
    STOCK_SELECT,
    BatchInfo,
    batch_info,
    location_id,
    pick_batch,
    product_expand,
    product_from_row,
    product_select,
    stock_key,
    stock_level,
    stock_quantity,
)
from atlas_desktop.connectors.sap.odata import (
    all_of,
    any_of,
    datetime_literal,
    datetimeoffset_literal,
    nav_results,
    quote_literal,
)
from atlas_desktop.connectors.sap.paging import Pager, Query
from atlas_desktop.domain.connector import StockRead
from atlas_desktop.domain.model import Product, StockKey
from atlas_desktop.domain.quantity import SAP as QUANTITY
from atlas_desktop.domain.quantity import QuantityRefused, RejectedRow, erp_ref, refused
from atlas_desktop.domain.release import empty_gradually

# Keeps a `(Material eq '…' or …)` filter well under the 8 KB URL limit of common proxies.
FILTER_CHUNK = 40
# NW AS ABAP takes URLs of at most 4,096 characters [R: SAP forum answer]; a next-page link repeats the
# filter with a $skiptoken and sap-client, hence the margin.
URL_LIMIT = 4096
URL_BUDGET = URL_LIMIT - 256
BatchIndex = dict[tuple[str, str], list[BatchInfo]]


def chunks(values: Sequence[str], size: int = FILTER_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def url_length(query: Query, page_size: int) -> int:
    """The length of the URL (path and query, encoded as sent) of the query's first page."""
    return len(query.path) + 1 + len(urlencode(query.params(page_size, 0, count=True)))


def fitted(
    field: str, values: Sequence[str], query_of: Callable[[Sequence[str]], Query], page_size: int
) -> list[Query]:
    """Queries over all `values`, each `query_of` as many as its URL holds within URL_BUDGET.

    `query_of` must end its filter with `any_of(field, values)`: one value more lengthens the URL by
    exactly its encoded " or <field> eq '<value>'", and two or more add the parentheses.
    """
    queries: list[Query] = []
    start = 0
    while start < len(values):
        length = url_length(query_of(values[start : start + 1]), page_size) + len(quote_plus("()"))
        end = start + 1
        while end < len(values):
            length += len(quote_plus(f" or {field} eq {quote_literal(values[end])}"))
            if length > URL_BUDGET:
                break
            end += 1
        queries.append(query_of(values[start:end]))
        start = end
    return queries


class Reader:
    """Products and stock of one SAP connection, as async iterators of canonical records."""

    def __init__(self, pager: Pager, config: SapConfig, batch: BatchReader) -> None:
        self._pager = pager
        self._config = config
        self._batch = batch

    def _path(self, service: str, entity_set: str) -> str:
        return f"{self._config.service_url(service)}/{entity_set}"

    # --- products ------------------------------------------------------------------------------------

    async def products(self, since: datetime | None) -> AsyncIterator[Product]:
        config = self._config
        filter_ = None
        if since is not None:
            start = since - timedelta(seconds=config.product_overlap_s)
            filter_ = f"LastChangeDateTime ge {datetimeoffset_literal(start)}"
        query = Query(
            path=self._path(PRODUCT_SRV, "A_Product"),
            filter=filter_,
            select=product_select(config),
            expand=product_expand(config),
            orderby="LastChangeDateTime,Product" if since is not None else "Product",
            context="reading products",
        )
        seen: set[str] = set()
        async for page in self._pager.pages(query):
            eans = (
                await self._eans([str(r.get("Product")) for r in page])
                if config.ndc_field
                in (
                    EAN_SOURCE,
                    "ean",
                )
                else {}
            )
            # Mapping a page of rows costs milliseconds: on a worker thread, not the app's event loop.
            for product in await off_loop(len(page), OFF_LOOP_ROWS, _products_of, page, config, eans, seen):
                yield product

    async def _eans(self, materials: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        """GTINs per product and unit of measure, the main one of each unit first (A_ProductUnitsOfMeasureEAN:
        several per unit, and a case carries another GTIN, with another NDC package code, than an each)."""
        found: dict[str, dict[str, list[tuple[bool, str, str]]]] = {}

        async def one(part: Sequence[str]) -> None:
            query = Query(
                path=self._path(PRODUCT_SRV, EAN_SOURCE),
                filter=any_of("Product", part),
                select="Product,AlternativeUnit,ConsecutiveNumber,ProductStandardID,IsMainGlobalTradeItemNumber",
                context="reading product EANs",
            )
            async for row in self._pager.rows(query):
                gtin = str(row.get("ProductStandardID") or "").strip()
                if not gtin:
                    continue
                units = found.setdefault(str(row.get("Product")), {})
                entry = (
                    not row.get("IsMainGlobalTradeItemNumber"),
                    str(row.get("ConsecutiveNumber") or ""),
                    gtin,
                )
                units.setdefault(str(row.get("AlternativeUnit") or ""), []).append(entry)

        await asyncio.gather(*(one(part) for part in chunks(list(materials))))
        return {
            material: {unit: [gtin for *_, gtin in sorted(entries)] for unit, entries in units.items()}
            for material, units in found.items()
        }

    # --- stock ---------------------------------------------------------------------------------------

    def _stock_filter(self, materials: Sequence[str] | None = None) -> str | None:
        config = self._config
        return all_of(
            any_of("InventoryStockType", config.stock_types),
            any_of("InventorySpecialStockType", config.special_stock_types),
            any_of("Plant", config.plants) if config.plants else None,
            any_of("StorageLocation", config.storage_locations) if config.storage_locations else None,
            any_of("Material", materials) if materials else None,
        )

    def _stock_query(self, materials: Sequence[str] | None = None) -> Query:
        return Query(
            path=self._path(STOCK_SRV, "A_MatlStkInAcctMod"),
            filter=self._stock_filter(materials),
            select=STOCK_SELECT,
            orderby=STOCK_ORDER,
            context="reading stock",
        )

    def _batch_query(self, materials: Sequence[str] | None = None) -> Query:
        return Query(
            path=self._path(BATCH_SRV, "Batch"),
            filter=any_of("Material", materials) if materials else None,
            select="Material,BatchIdentifyingPlant,Batch,ShelfLifeExpirationDate,ManufactureDate",
            orderby="Material,Batch,BatchIdentifyingPlant",
            context="reading batch expiry dates",
        )

    async def _batches(self, materials: Sequence[str] | None) -> BatchIndex:
        index: BatchIndex = {}
        if materials is None:
            async for page in self._pager.pages(self._batch_query()):
                for key, info in await off_loop(len(page), OFF_LOOP_ROWS, _batch_infos, page):
                    index.setdefault(key, []).append(info)
            return index
        queries = fitted("Material", materials, self._batch_query, self._pager.page_size)
        pages = await self._batch.all(self._config.service_url(BATCH_SRV), queries)
        rows = [row for page in pages for row in page]
        for key, info in await off_loop(len(rows), OFF_LOOP_ROWS, _batch_infos, rows):
            index.setdefault(key, []).append(info)
        return index

    async def stock(self, since: datetime | None) -> AsyncIterator[StockRead]:
        if since is None:
            async for level in self._full_stock():
                yield level
            return
        async for level in self._stock_since(since):
            yield level

    async def _full_stock(self) -> AsyncIterator[StockRead]:
        # Batches load while the first stock pages arrive; expiry is needed before a row is yielded.
        batches_task = asyncio.create_task(self._batches(None))
        try:
            merger = _Merger()
            batches: BatchIndex | None = None
            async for page in self._pager.pages(self._stock_query()):
                if batches is None:
                    batches = await batches_task
                for level in await off_loop(len(page), OFF_LOOP_ROWS, _fed, merger, [page], batches):
                    yield level
            for level in merger.flush(batches or {}):
                yield level
            if batches:
                # One entry per batch of the catalog: freed at once on the event loop's thread, so
                # many entries would stall the window.
                await asyncio.to_thread(empty_gradually, batches)
        finally:
            if not batches_task.done():
                batches_task.cancel()
                await asyncio.gather(batches_task, return_exceptions=True)

    async def moved_positions(self, since: datetime) -> dict[StockKey, str]:
        """Stock positions touched by material documents created since `since` -> their unit.

        CreationDate is a date in the SAP system's time zone, so the filter starts
        `stock_overlap_days` before; re-reading a few extra materials is harmless.
        """
        day = (since - timedelta(days=self._config.stock_overlap_days)).date()
        query = Query(
            path=self._path(MATDOC_SRV, "A_MaterialDocumentHeader"),
            filter=f"CreationDate ge {datetime_literal(day)}",
            expand="to_MaterialDocumentItem",
            orderby="MaterialDocumentYear,MaterialDocument",
            context="reading new material documents",
        )
        plants = set(self._config.plants)
        locations = set(self._config.storage_locations)
        moved: dict[StockKey, str] = {}
        async for page in self._pager.pages(query):
            moved.update(await off_loop(len(page), OFF_LOOP_ROWS, _moved_in, page, plants, locations))
        return moved

    async def _stock_since(self, since: datetime) -> AsyncIterator[StockRead]:
        moved = await self.moved_positions(since)
        if not moved:
            return
        materials = sorted({key.item_id for key in moved})
        batches_task = asyncio.create_task(self._batches(materials))
        try:
            queries = fitted("Material", materials, self._stock_query, self._pager.page_size)
            parts = await self._batch.all(self._config.service_url(STOCK_SRV), queries)
        except BaseException:
            batches_task.cancel()
            await asyncio.gather(batches_task, return_exceptions=True)
            raise
        batches = await batches_task
        merger = _Merger()
        rows = sum(len(part) for part in parts)
        levels = await off_loop(rows, OFF_LOOP_ROWS, _fed, merger, parts, batches)
        for level in [*levels, *merger.flush(batches)]:
            if level.key is not None:  # a refused row may name no position
                moved.pop(level.key, None)
            yield level
        for key, unit in moved.items():
            plant = key.location_id.partition("/")[0]
            info = pick_batch(batches.get((key.item_id, key.lot or "")), plant)
            yield stock_level(key, Decimal(0), unit, info)


# ---- pages of rows -> model objects (pure but for their arguments: they may run on a worker thread) -------
def _products_of(
    page: list[dict[str, Any]], config: SapConfig, eans: dict[str, dict[str, list[str]]], seen: set[str]
) -> list[Product]:
    products = []
    for row in page:
        material = str(row.get("Product") or "")
        # A product changed during the read can move to a later page: report it once.
        if material in seen:
            continue
        seen.add(material)
        products.append(product_from_row(row, config, eans.get(material)))
    return products


def _batch_infos(page: list[dict[str, Any]]) -> list[tuple[tuple[str, str], BatchInfo]]:
    return [((str(row.get("Material") or ""), str(row.get("Batch") or "")), batch_info(row)) for row in page]


def _moved_in(page: list[dict[str, Any]], plants: set[str], locations: set[str]) -> dict[StockKey, str]:
    """The stock positions the items of a page of material documents touched -> their unit."""
    moved: dict[StockKey, str] = {}
    for header in page:
        for item in nav_results(header, "to_MaterialDocumentItem"):
            plant = str(item.get("Plant") or "")
            storage_location = str(item.get("StorageLocation") or "")
            if not item.get("Material") or (plants and plant not in plants):
                continue
            if locations and storage_location not in locations:
                continue
            key = StockKey(
                str(item["Material"]),
                location_id(plant, storage_location),
                str(item.get("Batch") or "") or None,
            )
            moved[key] = str(item.get("MaterialBaseUnit") or item.get("EntryUnit") or "")
    return moved


def _fed(merger: _Merger, pages: list[list[dict[str, Any]]], batches: BatchIndex) -> list[StockRead]:
    """The levels `merger` completes from `pages` (its last key stays open until `flush`)."""
    return [level for page in pages for level in merger.feed(page, batches)]


class _Merger:
    """Sums adjacent rows of one StockKey (several stock types or special stocks configured as sellable).

    A row whose quantity SAP cannot hold (NaN, Infinity, beyond DEC 13,3), or a sum beyond it, makes
    the key a RejectedRow: that position is refused, the rest of the read goes on.
    """

    def __init__(self) -> None:
        self._key: StockKey | None = None
        self._quantity = Decimal(0)
        self._unit = ""
        self._refused: QuantityRefused | None = None

    def _emit(self, batches: BatchIndex) -> StockRead | None:
        key = self._key
        if key is None:
            return None
        problem = None if self._refused is not None else QUANTITY.problem(self._quantity)
        if problem is not None:  # each row fits, their sum does not
            self._refused = refused(QUANTITY, self._quantity, problem, erp_ref(key), "the sum of its rows")
        if self._refused is not None:
            return RejectedRow(erp_ref(key), self._refused, key=key)
        plant = key.location_id.partition("/")[0]
        info = pick_batch(batches.get((key.item_id, key.lot or "")), plant)
        return stock_level(key, self._quantity, self._unit, info)

    def _add(self, row: dict[str, Any], key: StockKey) -> None:
        if self._refused is not None:
            return
        try:
            self._quantity += stock_quantity(row, key)
        except QuantityRefused as error:
            self._refused = error

    def feed(self, rows: Iterable[dict[str, Any]], batches: BatchIndex) -> Iterable[StockRead]:
        for row in rows:
            key = stock_key(row)
            if key == self._key:
                self._add(row, key)
                continue
            done = self._emit(batches)
            if done is not None:
                yield done
            self._key, self._quantity, self._unit = key, Decimal(0), str(row.get("MaterialBaseUnit") or "")
            self._refused = None
            self._add(row, key)

    def flush(self, batches: BatchIndex) -> Iterable[StockRead]:
        done = self._emit(batches)
        self._key = None
        if done is not None:
            yield done
