"""The pull phase: what changed on each side since its watermark, streamed into the local mirrors.

Watermarks move only after the rows they cover are committed, so a crash replays a batch (upserts are
idempotent) and never skips one. The ERP watermark is the time the pull started (the connector reads
from it minus its own overlap window, which also absorbs clock skew between us and the ERP).
A first pull, or a full one, reads everything and marks what it saw: ERP stock rows it did not see
are gone (quantity zero) — but only when the pull saw something at all, so an empty answer is never
taken as "everything was deleted".

Rows the connectors refused for their quantity (RejectedRow, domain/quantity.py) never reach the
mirror: the item keeps its last good value, and the refusal is recorded as an item error of the run
before the watermark that covers it moves (store/refusals.py). Refusals nothing read again stay open and
are recorded again by each run (`carry_refusals`); a clean read of the item closes them. A pull outside
a run (discovery) has nowhere to record them, so it leaves its watermark before them: the next run
reads them again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from atlas_desktop.domain.connector import ErpConnector, ReadWatermarks
from atlas_desktop.domain.enums import WatermarkStream
from atlas_desktop.domain.model import Side, StockKey
from atlas_desktop.domain.quantity import RejectedRow, atlas_ref, erp_ref, is_read_ref
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.domain.run_log import ItemErrorView
from atlas_desktop.engine.discovery import unambiguous_key
from atlas_desktop.engine.ports import AtlasPort, MirrorsPort, RunLogPort

T = TypeVar("T")
BATCH = 2000


@dataclass
class PullStats:
    erp_products: int = 0
    erp_stock: int = 0
    erp_gone: int = 0
    atlas_rows: int = 0
    full: bool = False
    refused: int = 0  # item errors recorded for refused quantities: read now, or still open (carried)


async def batched(source: AsyncIterator[T], size: int = BATCH) -> AsyncIterator[list[T]]:
    batch: list[T] = []
    async for item in source:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def split(batch: list[T | RejectedRow]) -> tuple[list[T], list[RejectedRow]]:
    """(rows to store, rows refused for their quantity) of a batch from a read."""
    rejected = [row for row in batch if isinstance(row, RejectedRow)]
    if not rejected:
        return cast(list[T], batch), rejected
    return [row for row in batch if not isinstance(row, RejectedRow)], rejected


def _error_of(view: ItemErrorView) -> dict[str, Any]:
    return {"kind": view.error_kind, "message": view.message, "fix": view.fix,
            "remote_code": view.remote_code, "remote_message": view.remote_message}  # fmt: skip


def _parse_mark(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def connector_watermark(erp: object, stream: str) -> datetime | None:
    """The server-time watermark a connector offers after a read; an offset-free time is not trusted."""
    value = erp.read_watermark(stream) if isinstance(erp, ReadWatermarks) else None
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


async def together(*steps: Awaitable[Any]) -> None:
    """Run `steps` at once; the first to fail stops the others and its error is raised as it is (no
    ExceptionGroup: callers tell a cancel from an ERP error by its type). What a stopped step committed
    stays committed: each step moves its watermarks only after its rows."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:  # a failure, or the caller cancelled: nothing goes on behind its back
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


class Puller:
    def __init__(
        self,
        mirrors: MirrorsPort,
        runs: RunLogPort,
        connection_id: str,
        erp: ErpConnector,
        atlas: AtlasPort,
        *,
        progress: Callable[[str, int], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        log_id: int | None = None,
    ) -> None:
        self.mirrors = mirrors
        self.runs = runs
        self.connection_id = connection_id
        self.erp = erp
        self.atlas = atlas
        self.progress = progress or (lambda phase, done: None)
        self.clock = clock
        self.stats = PullStats()
        self.log_id = log_id  # the run refusals are recorded with; None (discovery): not recorded
        self._open: dict[str, list[ItemErrorView]] | None = None  # item ref -> its open refusals, read once

    # ---- refused quantities --------------------------------------------------------------------------
    async def _open_refusals(self) -> dict[str, list[ItemErrorView]]:
        if self._open is None:
            self._open = {}
            for view in await self.runs.open_refusals(self.connection_id):
                if is_read_ref(view.item_ref):  # refusals of merged values are the runner's
                    self._open.setdefault(view.item_ref, []).append(view)
        return self._open

    async def _settle(self, clean: Iterable[str], rejected: Sequence[RejectedRow]) -> bool:
        """Close the refusals of items now read clean (`clean`: their refs, only iterated when some are
        open) and record this batch's refused rows. False when refused rows could not be recorded (no
        run): the caller then keeps its watermark before them. Call it before that watermark moves."""
        open_ = await self._open_refusals()
        closing = [view.id for ref in clean for view in open_.pop(ref, ())] if open_ else []
        if not rejected:
            if closing:
                await self.runs.close_refusals(closing)
            return True
        if self.log_id is None:
            if closing:
                await self.runs.close_refusals(closing)
            return False
        closing += [view.id for row in rejected for view in open_.pop(row.ref, ())]
        found = [Refusal(r.ref, r.error.as_dict(), key=r.key, atlas_id=r.atlas_id) for r in rejected]
        self.stats.refused += await self.runs.record_refusals(
            self.log_id, self.connection_id, found, close=closing
        )
        return True

    async def carry_refusals(self) -> int:
        """Refusals of mapped items that no read of this run touched: the remote still holds the value, so
        they are recorded again as this run's item errors (the old rows closed). Every run then names what
        it could not sync, until someone corrects the value. Unmapped rows sync nothing: not carried."""
        if self.log_id is None:
            return 0
        views = [view for views in (await self._open_refusals()).values() for view in views]
        latest = {view.item_ref: view for view in views if view.mapping_id is not None}
        if not latest:
            return 0
        found = [Refusal(v.item_ref, _error_of(v), mapping_id=v.mapping_id) for v in latest.values()]
        close = [view.id for view in views if view.mapping_id is not None]
        carried: int = await self.runs.record_refusals(self.log_id, self.connection_id, found, close=close)
        self._open = {}
        self.stats.refused += carried
        return carried

    async def _watermark(self, source: Side, stream: WatermarkStream) -> str | None:
        value: str | None = await self.runs.get_watermark(self.connection_id, source, stream)
        return value

    async def _set_watermark(self, source: Side, stream: WatermarkStream, value: str) -> None:
        await self.runs.set_watermark(self.connection_id, source, stream, value)

    async def pull_both(self, *, full: bool = False) -> PullStats:
        """The Atlas change feed and the ERP read at once: each waits on its own server and commits its
        own batches with its own watermarks, so neither waits for the other's round trips."""
        await self._open_refusals()  # loaded once, before either side settles its refusals
        report = self.progress

        def both(phase: str, done: int) -> None:
            # One phase, one count that only grows: each side's own would take turns on the screen.
            report("pull", self.stats.atlas_rows + self.stats.erp_products + self.stats.erp_stock)

        self.progress = both
        try:
            await together(self.pull_atlas(), self.pull_erp(full=full))
        finally:
            self.progress = report
        return self.stats

    async def pull_erp(self, *, full: bool = False, products: bool = True) -> PullStats:
        started = self.clock().isoformat()
        if products:
            since = None if full else _parse_mark(await self._watermark(Side.ERP, WatermarkStream.PRODUCTS))
            async for found in batched(self.erp.products(since)):
                self.stats.erp_products += await self.mirrors.upsert_erp_products(
                    self.connection_id, found, unambiguous_key
                )
                self.progress("pull erp products", self.stats.erp_products)
            mark = connector_watermark(self.erp, "products")
            await self._set_watermark(
                Side.ERP, WatermarkStream.PRODUCTS, mark.isoformat() if mark else started
            )
        since = None if full else _parse_mark(await self._watermark(Side.ERP, WatermarkStream.STOCK))
        marker = uuid.uuid4().hex if since is None else None
        self.stats.full = since is None
        refused_keys: set[StockKey] = set()
        recorded = True
        async for batch in batched(self.erp.stock(since)):
            levels, rejected = split(batch)
            if levels:
                self.stats.erp_stock += await self.mirrors.upsert_erp_stock(
                    self.connection_id, levels, seen_marker=marker
                )
            refused_keys.update(row.key for row in rejected if row.key is not None)
            recorded = await self._settle((erp_ref(level.key) for level in levels), rejected) and recorded
            self.progress("pull erp stock", self.stats.erp_stock)
        if marker is not None and self.stats.erp_stock > 0:
            # A refused position was seen: it is not gone, it keeps its last good value.
            gone = [
                key
                for key in await self.mirrors.erp_stock_not_seen(self.connection_id, marker)
                if key not in refused_keys
            ]
            for key in gone:
                await self.mirrors.set_erp_stock_quantity(self.connection_id, key, Decimal(0))
                self.stats.erp_gone += 1
            await self._settle((erp_ref(key) for key in gone), ())
        if recorded:
            mark = connector_watermark(self.erp, "stock")
            await self._set_watermark(Side.ERP, WatermarkStream.STOCK, mark.isoformat() if mark else started)
        return self.stats

    async def pull_atlas_full(self) -> PullStats:
        """The whole Atlas listing, independent of the change-feed cursor (reconciliation)."""
        async for batch in batched(self.atlas.inventory(page_size=1000)):
            rows, rejected = split(batch)
            if rows:
                self.stats.atlas_rows += await self.mirrors.upsert_atlas_rows(
                    self.connection_id, rows, unambiguous_key
                )
            await self._settle((atlas_ref(row.id) for row in rows), rejected)
            self.progress("reconcile atlas", self.stats.atlas_rows)
        return self.stats

    async def pull_atlas(self) -> PullStats:
        """The change feed from the stored cursor (from the beginning on a first run: every row once)."""
        cursor = await self._watermark(Side.ATLAS, WatermarkStream.CHANGES)
        recorded = True
        async for batch in self.atlas.changes(since=cursor):
            if batch.changes:
                self.stats.atlas_rows += await self.mirrors.upsert_atlas_rows(
                    self.connection_id, batch.changes, unambiguous_key
                )
            rejected = getattr(batch, "rejected", ())
            recorded = await self._settle((atlas_ref(row.id) for row in batch.changes), rejected) and recorded
            # After the rows are committed, never before: a crash here replays the batch. Once a refused
            # row could not be recorded (no run), the cursor stays before it for the next run to read.
            if recorded:
                await self._set_watermark(Side.ATLAS, WatermarkStream.CHANGES, batch.cursor)
            self.progress("pull atlas", self.stats.atlas_rows)
        return self.stats
