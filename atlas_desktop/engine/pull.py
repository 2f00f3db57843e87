"""The pull phase: what changed on each side since its watermark, streamed into the local mirrors.

Watermarks move only after the rows they cover are committed, so a crash replays a batch (upserts are
idempotent) and never skips one. The ERP watermark is the time the pull started (the connector reads
from it minus its own overlap window, which also absorbs clock skew between us and the ERP).
A first pull, or a full one, reads everything and marks what it saw: ERP stock rows it did not see
are gone (quantity zero) — but only when the pull saw something at all, so an empty answer is never
taken as "everything was deleted".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.model import Side
from atlas_desktop.engine.discovery import unambiguous_key
from atlas_desktop.store.enums import WatermarkStream

T = TypeVar("T")
Db = Callable[..., Awaitable[Any]]
BATCH = 2000


@dataclass
class PullStats:
    erp_products: int = 0
    erp_stock: int = 0
    erp_gone: int = 0
    atlas_rows: int = 0
    full: bool = False


async def batched(source: AsyncIterator[T], size: int = BATCH) -> AsyncIterator[list[T]]:
    batch: list[T] = []
    async for item in source:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse_mark(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def connector_watermark(erp: object, stream: str) -> datetime | None:
    """The server-time watermark a connector offers after a read (NetSuite: `watermarks[stream]`,
    SAP: `<stream>_watermark`); better than our clock, which may be skewed against the ERP's."""
    marks = getattr(erp, "watermarks", None)
    value = marks.get(stream) if isinstance(marks, dict) else getattr(erp, f"{stream}_watermark", None)
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


class Puller:
    def __init__(
        self,
        db: Db,
        mirrors: Any,
        runs: Any,
        connection_id: str,
        erp: ErpConnector,
        atlas: Any,
        *,
        progress: Callable[[str, int], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.mirrors = mirrors
        self.runs = runs
        self.connection_id = connection_id
        self.erp = erp
        self.atlas = atlas
        self.progress = progress or (lambda phase, done: None)
        self.clock = clock
        self.stats = PullStats()

    async def _watermark(self, source: Side, stream: WatermarkStream) -> str | None:
        value: str | None = await self.db(self.runs.get_watermark, self.connection_id, source, stream)
        return value

    async def _set_watermark(self, source: Side, stream: WatermarkStream, value: str) -> None:
        await self.db(self.runs.set_watermark, self.connection_id, source, stream, value)

    async def pull_erp(self, *, full: bool = False, products: bool = True) -> PullStats:
        started = self.clock().isoformat()
        if products:
            since = None if full else _parse_mark(await self._watermark(Side.ERP, WatermarkStream.PRODUCTS))
            async for batch in batched(self.erp.products(since)):
                self.stats.erp_products += await self.db(
                    self.mirrors.upsert_erp_products, self.connection_id, batch, unambiguous_key
                )
                self.progress("pull erp products", self.stats.erp_products)
            mark = connector_watermark(self.erp, "products")
            await self._set_watermark(
                Side.ERP, WatermarkStream.PRODUCTS, mark.isoformat() if mark else started
            )
        since = None if full else _parse_mark(await self._watermark(Side.ERP, WatermarkStream.STOCK))
        marker = uuid.uuid4().hex if since is None else None
        self.stats.full = since is None
        async for batch in batched(self.erp.stock(since)):
            self.stats.erp_stock += await self.db(
                self.mirrors.upsert_erp_stock, self.connection_id, batch, seen_marker=marker
            )
            self.progress("pull erp stock", self.stats.erp_stock)
        if marker is not None and self.stats.erp_stock > 0:
            for key in await self.db(self.mirrors.erp_stock_not_seen, self.connection_id, marker):
                await self.db(self.mirrors.set_erp_stock_quantity, self.connection_id, key, Decimal(0))
                self.stats.erp_gone += 1
        mark = connector_watermark(self.erp, "stock")
        await self._set_watermark(Side.ERP, WatermarkStream.STOCK, mark.isoformat() if mark else started)
        return self.stats

    async def pull_atlas_full(self) -> PullStats:
        """The whole Atlas listing, independent of the change-feed cursor (reconciliation)."""
        async for batch in batched(self.atlas.inventory(page_size=1000)):
            self.stats.atlas_rows += await self.db(
                self.mirrors.upsert_atlas_rows, self.connection_id, batch, unambiguous_key
            )
            self.progress("reconcile atlas", self.stats.atlas_rows)
        return self.stats

    async def pull_atlas(self) -> PullStats:
        """The change feed from the stored cursor (from the beginning on a first run: every row once)."""
        cursor = await self._watermark(Side.ATLAS, WatermarkStream.CHANGES)
        async for batch in self.atlas.changes(since=cursor):
            if batch.changes:
                self.stats.atlas_rows += await self.db(
                    self.mirrors.upsert_atlas_rows, self.connection_id, batch.changes, unambiguous_key
                )
            # After the rows are committed, never before: a crash here replays the batch.
            await self._set_watermark(Side.ATLAS, WatermarkStream.CHANGES, batch.cursor)
            self.progress("pull atlas", self.stats.atlas_rows)
        return self.stats
