"""The push phase: drains the outbox, each write sent with its key, in-doubt writes looked up first.

A write is marked `sending` (durably) before it leaves. If the process dies, or no answer comes,
it is `in_doubt`: before it is sent again, the ERP is asked whether a write with its key exists
(`find_write`); the Atlas API replays the first answer for a repeated Idempotency-Key, so an Atlas
write is simply sent again with the same key. Nothing is ever posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from atlas_desktop.domain.connector import ErpConnector
from atlas_desktop.domain.errors import AtlasDesktopError, Conflict, ConnectorError, NetworkError
from atlas_desktop.domain.model import Side, StockChange, StockKey
from atlas_desktop.engine.discovery import unambiguous_key
from atlas_desktop.engine.plan import ATLAS_ADJUST, ATLAS_SET_EXPIRY, ERP_ADJUST
from atlas_desktop.store.decisions import OutboxEntryClosed
from atlas_desktop.store.enums import OutboxStatus

log = logging.getLogger(__name__)
T = TypeVar("T")
Db = Callable[..., Awaitable[Any]]


@dataclass
class PushStats:
    done: int = 0
    failed: int = 0
    in_doubt: int = 0
    errors: list[tuple[Any, AtlasDesktopError]] = field(default_factory=list)  # (entry, error)
    written: list[tuple[Any, str | None]] = field(default_factory=list)  # (entry, remote id): the audit


def _group_of(entry: Any) -> object:
    return entry.mapping_id if entry.mapping_id is not None else f"outbox-{entry.id}"


class Pusher:
    """Sends one connection's pending writes. Writes of one mapping go in order; mappings in parallel."""

    def __init__(
        self,
        db: Db,
        decisions: Any,
        mirrors: Any,
        connection_id: str,
        erp: ErpConnector,
        atlas: Any,
        *,
        parallel: int = 8,
    ) -> None:
        self.db = db
        self.decisions = decisions
        self.mirrors = mirrors
        self.connection_id = connection_id
        self.erp = erp
        self.atlas = atlas
        self.parallel = parallel
        self.stats = PushStats()

    async def drain(self) -> PushStats:
        # Mappings whose next write is left in doubt this run: their later writes must wait (order).
        self._blocked: set[object] = set()
        limit = asyncio.Semaphore(self.parallel)

        async def run_group(group: list[Any]) -> None:
            async with limit:
                for entry in group:
                    if not await self._send(entry):
                        return  # keep the mapping's order: its later writes wait for this one

        after_id = 0
        while entries := await self.db(
            self.decisions.pending_writes, self.connection_id, limit=500, after_id=after_id
        ):
            after_id = entries[-1].id
            by_mapping: dict[object, list[Any]] = defaultdict(list)
            for entry in entries:
                group = _group_of(entry)
                if group not in self._blocked:
                    by_mapping[group].append(entry)
            await asyncio.gather(*(run_group(group) for group in by_mapping.values()))
        return self.stats

    async def _send(self, entry: Any) -> bool:
        """True when the write is settled (done or failed for good)."""
        try:
            if entry.status in (OutboxStatus.SENDING, OutboxStatus.IN_DOUBT) and entry.target is Side.ERP:
                found = await self.erp.find_write(entry.idempotency_key)
                if found is not None:
                    await self._done(entry, found.remote_id)
                    return True
            try:
                await self.db(self.decisions.mark_sending, entry.id)
            except OutboxEntryClosed:
                return True  # settled meanwhile (cancelled by the user, or done by a lookup): never send
            remote_id = await self._execute(entry)
        except ConnectorError as error:
            if error.retryable:
                # No answer, throttled, or a server error after the HTTP layer's own retries: the write
                # may or may not have landed. It stays in the outbox, looked up by key next run.
                await self.db(self.decisions.mark_in_doubt, entry.id, error.message)
                self.stats.in_doubt += 1
                self._blocked.add(_group_of(entry))
                self.stats.errors.append((entry, error))
                return False
            await self.db(self.decisions.mark_failed, entry.id, f"{error.message} — {error.fix}")
            self.stats.failed += 1
            self.stats.errors.append((entry, error))
            return True
        await self._done(entry, remote_id)
        return True

    async def _done(self, entry: Any, remote_id: str | None) -> None:
        await self.db(self.decisions.mark_done, entry.id, remote_id)
        self.stats.done += 1
        self.stats.written.append((entry, remote_id))

    async def _execute(self, entry: Any) -> str | None:
        payload = entry.payload
        if entry.operation == ERP_ADJUST:
            key = StockKey(payload["item_id"], payload["location_id"], payload.get("lot"))
            expiry = date.fromisoformat(payload["expiry"]) if payload.get("expiry") else None
            change = StockChange(key, Decimal(payload["delta"]), payload.get("unit") or "EA", expiry)
            result = await self.erp.adjust_stock(change, entry.idempotency_key)
            return result.remote_id
        if entry.operation == ATLAS_ADJUST:
            row = await self.atlas.adjust(
                payload["row_id"], Decimal(payload["delta"]), key=entry.idempotency_key
            )
            await self.db(self.mirrors.apply_atlas_row, self.connection_id, row, unambiguous_key)
            return str(row.id)
        if entry.operation == ATLAS_SET_EXPIRY:
            return await self._set_atlas_expiry(entry)
        raise AssertionError(f"unknown outbox operation {entry.operation}")

    async def _set_atlas_expiry(self, entry: Any) -> str:
        payload = entry.payload
        for _attempt in range(3):
            current = await self.atlas.get_row(payload["row_id"])
            try:
                row = await self.atlas.update_row(
                    payload["row_id"],
                    {"expiry_date": date.fromisoformat(payload["expiry"]) if payload["expiry"] else None},
                    version=current.version,
                    # No Idempotency-Key: a replayed 412 would block the retry; If-Match makes it safe.
                    key=None,
                )
            except Conflict:
                continue  # changed meanwhile (a sale): read the new version and set the date again
            await self.db(self.mirrors.apply_atlas_row, self.connection_id, row, unambiguous_key)
            return str(row.id)
        raise NetworkError("Atlas: the row kept changing while its expiry was being set", in_doubt=False)
