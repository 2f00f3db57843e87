"""The NetSuite ErpConnector: wires settings, sign-in (TBA or OAuth 2.0), REST client, reads, writes, test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from datetime import datetime, timedelta

import httpx

from atlas_desktop.connectors.http import HttpClient, Sleep, UsesHttpClient
from atlas_desktop.connectors.netsuite import batch_writes, discovery
from atlas_desktop.connectors.netsuite.client import MAX_ROWS_PER_QUERY, PAGE_SIZE, NetSuiteClient
from atlas_desktop.connectors.netsuite.connection_test import ConnectionTest
from atlas_desktop.connectors.netsuite.m2m import TOKEN_PATH, M2MAuth, M2MCredentials
from atlas_desktop.connectors.netsuite.reads import Reader
from atlas_desktop.connectors.netsuite.settings import NetSuiteSettings, settings_from_spec
from atlas_desktop.connectors.netsuite.tba import TbaAuth
from atlas_desktop.connectors.netsuite.user_zone import UserZoneLookup
from atlas_desktop.connectors.netsuite.writes import Writer
from atlas_desktop.domain.connection import NETSUITE_M2M_SECRET_FIELDS, NETSUITE_SECRET_FIELDS, ConnectionSpec
from atlas_desktop.domain.connector import BatchOutcome, NdcPlaceCandidate, StockRead
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import (
    ConnectionReport,
    Location,
    Product,
    PurchaseOrder,
    StockChange,
    WriteResult,
    utc_now,
)


def build_auth(spec: ConnectionSpec, settings: NetSuiteSettings, clock: Callable[[], datetime]) -> httpx.Auth:
    """OAuth 2.0 M2M for connections made with it, TBA for the others (existing connections keep it)."""
    names = NETSUITE_M2M_SECRET_FIELDS if settings.uses_m2m else NETSUITE_SECRET_FIELDS
    missing = [name for name in names if not spec.secrets.get(name)]
    if missing:
        raise ConfigError(missing[0], "is missing", fix="Import the connection file again.")
    if settings.uses_m2m:
        if not settings.certificate_id:
            raise ConfigError("certificate_id", "is missing", fix="Import the connection file again.")
        credentials = M2MCredentials(
            client_id=spec.secrets["client_id"],
            certificate_id=settings.certificate_id,
            private_key=spec.secrets["private_key"],
            token_url=settings.base_url + TOKEN_PATH,
        )
        return M2MAuth(credentials, clock=clock)
    return TbaAuth(
        account_id=settings.account_id,
        consumer_key=spec.secrets["consumer_key"],
        consumer_secret=spec.secrets["consumer_secret"],
        token_id=spec.secrets["token_id"],
        token_secret=spec.secrets["token_secret"],
    )


class NetSuiteConnector(UsesHttpClient):
    """One NetSuite account as the engine sees it (domain.connector.ErpConnector).

    After a read has been consumed to the end, `watermarks["products"|"stock"]` holds the server-time
    watermark to pass as `since` next time.
    """

    def __init__(
        self,
        spec: ConnectionSpec,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        page_size: int = PAGE_SIZE,
        max_rows_per_query: int = MAX_ROWS_PER_QUERY,
        overlap: timedelta | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings: NetSuiteSettings = settings_from_spec(spec)
        self.auth = build_auth(spec, self.settings, clock)
        auth = self.auth
        self._in_process = transport is not None
        self.http = HttpClient(
            self.settings.http_settings(),
            auth=auth,
            headers={"Accept": "application/json"},
            transport=transport,
            sleep=sleep,
        )
        self.client = NetSuiteClient(
            self.http,
            page_size=page_size,
            max_rows_per_query=max_rows_per_query,
            concurrency=self.settings.concurrency,
            sleep=sleep,
        )
        # SuiteQL's datetimes are in the token user's zone: asked of the account, shared by reads and test
        self.zones = UserZoneLookup(self.client, self.settings.configured_timezone, clock=clock)
        self.reader = Reader(
            self.client,
            self.settings.fields,
            overlap=overlap if overlap is not None else self.settings.overlap,
            clock=clock,
            zones=self.zones,
        )
        self.writer = Writer(self.client, self.settings)
        self.writer.zone = lambda: self.zones.known.name if self.zones.known else None

    # ---- ErpConnector -----------------------------------------------------------------------------

    async def test_connection(self) -> ConnectionReport:
        token = self.auth if isinstance(self.auth, M2MAuth) else None
        return await ConnectionTest(
            self.client, self.settings, in_process=self._in_process, m2m=token, zones=self.zones
        ).run()

    async def locations(self) -> list[Location]:
        """Stock locations: `id` is what StockKey.location_id holds; `code` the external id, if any."""
        return [Location(c.id, c.name, c.detail) for c in await discovery.list_locations(self.client)]

    def products(self, since: datetime | None = None) -> AsyncIterator[Product]:
        return self.reader.products(since)

    def stock(self, since: datetime | None = None) -> AsyncIterator[StockRead]:
        return self.reader.stock(since)

    def read_watermark(self, stream: str) -> datetime | None:
        return self.reader.watermarks.get(stream)

    async def adjust_stock(self, change: StockChange, key: str) -> WriteResult:
        return await self.writer.adjust_stock(change, key)

    @property
    def batch_limit(self) -> int:
        return self.settings.lines_per_record

    def batch_group(self, change: StockChange) -> Hashable:
        return batch_writes.batch_group(change)

    @property
    def parallel_documents(self) -> int:
        return self.settings.concurrency

    async def adjust_stock_batch(
        self, changes: Sequence[tuple[StockChange, str]], batch_key: str
    ) -> list[BatchOutcome]:
        return await batch_writes.adjust_stock_batch(self.writer, changes, batch_key)

    async def adjust_stock_batches(
        self, batches: Sequence[tuple[Sequence[tuple[StockChange, str]], str]]
    ) -> list[list[BatchOutcome]]:
        # One record per request (REST has no synchronous multi-record call); the HTTP client keeps to
        # the account's concurrency.
        return list(await asyncio.gather(*(self.adjust_stock_batch(c, key) for c, key in batches)))

    async def find_write(self, key: str) -> WriteResult | None:
        return await self.writer.find_by_external_id(key)

    async def posted_before(self, keys: Sequence[str]) -> dict[str, WriteResult]:
        # A one-change record's externalId is its key, and NetSuite refuses it twice; but a change posted
        # in a batch's record is known only by its line's memo: asked for, one query per 500 keys.
        return await batch_writes.posted_before(self.writer, keys)

    async def create_purchase_order(self, order: PurchaseOrder, key: str) -> WriteResult:
        return await self.writer.create_purchase_order(order, key)

    # ---- discovery for the wizard ---------------------------------------------------------------

    async def list_locations(self) -> list[discovery.Choice]:
        return await discovery.list_locations(self.client)

    async def list_subsidiaries(self) -> list[discovery.Choice]:
        return await discovery.list_subsidiaries(self.client)

    async def list_accounts(self) -> list[discovery.Choice]:
        return await discovery.list_accounts(self.client)

    async def ndc_field_candidates(self) -> list[NdcPlaceCandidate]:
        return await discovery.ndc_field_candidates(self.client)

    async def setting_choices(self, key: str) -> Sequence[object] | None:
        listers: dict[str, Callable[[], Awaitable[Sequence[object]]]] = {
            "subsidiary_id": self.list_subsidiaries,
            "default_location_id": self.list_locations,
            "adjustment_account_id": self.list_accounts,
            "ndc_field": self.ndc_field_candidates,
        }
        lister = listers.get(key)
        return None if lister is None else await lister()
