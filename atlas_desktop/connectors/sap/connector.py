"""SapConnector: the ErpConnector surface over the SAP pieces (auth, CSRF, paging, reads, writes, test)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from datetime import UTC, date, datetime

from atlas_desktop.connectors.http import HttpClient, UsesHttpClient
from atlas_desktop.connectors.sap import batch_writes
from atlas_desktop.connectors.sap.auth import SapAuth
from atlas_desktop.connectors.sap.batch_reads import BatchReader
from atlas_desktop.connectors.sap.config import SapConfig
from atlas_desktop.connectors.sap.connection_test import ConnectionTester
from atlas_desktop.connectors.sap.csrf import CsrfGuard
from atlas_desktop.connectors.sap.discovery import ndc_source_candidates
from atlas_desktop.connectors.sap.mapping import location_id, split_location
from atlas_desktop.connectors.sap.paging import Pager
from atlas_desktop.connectors.sap.reads import Reader
from atlas_desktop.connectors.sap.writes import Sleep, Writer
from atlas_desktop.domain.connector import BatchOutcome, NdcPlaceCandidate, StockRead
from atlas_desktop.domain.model import (
    ConnectionReport,
    Location,
    Product,
    PurchaseOrder,
    StockChange,
    WriteResult,
)


class SapConnector(UsesHttpClient):
    """One SAP S/4HANA connection (cloud or on-premise) as the engine sees it.

    After a read has run to its end, `products_watermark` / `stock_watermark` hold the moment it started:
    the `since` to pass next time (the connector applies its own overlap).
    """

    system = "SAP"

    def __init__(
        self,
        config: SapConfig,
        *,
        http: HttpClient,
        auth: SapAuth,
        sleep: Sleep,
        network_checks: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.http = http
        self.auth = auth
        self._clock = clock or (lambda: datetime.now(UTC))
        self.csrf = CsrfGuard(http)
        self.pager = Pager(http, page_size=config.page_size, concurrency=config.max_concurrency)
        self.reader = Reader(self.pager, config, BatchReader(self.pager, self.csrf))
        self.writer = Writer(http, self.csrf, config, sleep=sleep)
        self._network_checks = network_checks
        self.products_watermark: datetime | None = None
        self.stock_watermark: datetime | None = None

    async def test_connection(self) -> ConnectionReport:
        tester = ConnectionTester(
            self.http, self.auth, self.csrf, self.config, network_checks=self._network_checks
        )
        return await tester.run()

    async def locations(self) -> list[Location]:
        """The stock locations this connection reads, as plant/storage location ids, with their names.

        No SAP API lists plant or storage-location names, so the names are the ones the user gave
        in the connection's `location_names` setting ({"1010/0001": "Main warehouse"}); an unnamed one is
        its codes in words. Atlas location codes come from `location_map` ({"MAIN": "1010/0001"});
        configured plants and storage locations, and every named location, are listed too.
        """
        names = self.config.location_names

        def named(ident: str, code: str = "") -> Location:
            plant, storage_location = split_location(ident)
            fallback = f"Plant {plant}, storage location {storage_location}"
            return Location(ident, names.get(ident) or fallback, code)

        found: dict[str, Location] = {}
        for code, target in self.config.location_map.items():
            found[str(target)] = named(str(target), code)
        for plant in self.config.plants:
            for storage_location in self.config.storage_locations:
                ident = location_id(plant, storage_location)
                found.setdefault(ident, named(ident))
        for ident in names:
            if "/" in ident:  # a name for something that is not plant/storage location: nothing to name
                found.setdefault(ident, named(ident))
        return list(found.values())

    async def products(self, since: datetime | None = None) -> AsyncIterator[Product]:
        started = self._clock()
        async for product in self.reader.products(since):
            yield product
        self.products_watermark = started

    async def stock(self, since: datetime | None = None) -> AsyncIterator[StockRead]:
        started = self._clock()
        async for level in self.reader.stock(since):
            yield level
        self.stock_watermark = started

    async def adjust_stock(
        self, change: StockChange, key: str, *, manufacture_date: date | None = None
    ) -> WriteResult:
        """One goods movement; `manufacture_date` goes on a receipt that creates a batch (optional)."""
        return await self.writer.adjust_stock(change, key, manufacture_date=manufacture_date)

    async def find_write(self, key: str) -> WriteResult | None:
        return await self.writer.find_write(key)

    async def ndc_field_candidates(self) -> list[NdcPlaceCandidate]:
        """For the wizard: where this system keeps the NDC, best first."""
        return await ndc_source_candidates(self.http, self.config)

    async def setting_choices(self, key: str) -> Sequence[object] | None:
        return await self.ndc_field_candidates() if key == "ndc_field" else None

    def read_watermark(self, stream: str) -> datetime | None:
        return {"products": self.products_watermark, "stock": self.stock_watermark}.get(stream)

    async def posted_before(self, keys: Sequence[str]) -> dict[str, WriteResult]:
        # A material document POST has no duplicate check of its own: look the keys up, many per request,
        # in header texts (one-change documents) and item texts (batched documents).
        found = await self.writer.find_material_documents(keys)
        rest = [key for key in keys if key not in found]
        if rest:
            found.update(await batch_writes.posted_by_item_text(self.writer, rest))
        return found

    @property
    def batch_limit(self) -> int:
        return self.config.items_per_document

    def batch_group(self, change: StockChange) -> Hashable:
        return batch_writes.batch_group(self.writer, change)

    @property
    def parallel_documents(self) -> int:
        return self.config.max_concurrency

    async def adjust_stock_batches(
        self, batches: Sequence[tuple[Sequence[tuple[StockChange, str]], str]]
    ) -> list[list[BatchOutcome]]:
        return await batch_writes.adjust_stock_batches(self.writer, batches)

    async def create_purchase_order(self, order: PurchaseOrder, key: str) -> WriteResult:
        return await self.writer.create_purchase_order(order, key)
