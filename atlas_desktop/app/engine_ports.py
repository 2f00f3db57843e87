"""The engine's ports (engine/ports.py) filled with the profile's repositories, each call on the DB thread.

One small async method per port method, spelled out so a reader and a type checker can follow every
call from the engine to the SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.audit_events import AuditEvent, AuditSource
from atlas_desktop.domain.conflict_view import ConflictView
from atlas_desktop.domain.drafts import DecisionDraft
from atlas_desktop.domain.enums import (
    MappingStatus,
    Resolution,
    SyncDirection,
    SyncLogStatus,
    SyncType,
    WatermarkStream,
)
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.model import AtlasInventoryRow, Product, Side, StockKey, StockLevel
from atlas_desktop.domain.outbox import OutboxEntry
from atlas_desktop.domain.ownership import Double
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.domain.review_rows import UnmatchedAtlasRow
from atlas_desktop.domain.run_log import ItemErrorView, RunView, RunWrite
from atlas_desktop.engine.health import CountFacts
from atlas_desktop.engine.ports import EnginePorts, Label, NdcKey
from atlas_desktop.store.audit import AuditLog
from atlas_desktop.store.conflicts import ConflictRepository
from atlas_desktop.store.db import Store
from atlas_desktop.store.db_thread import DbThread
from atlas_desktop.store.decisions import DecisionRepository
from atlas_desktop.store.discovery_scratch import DiscoveryScratches
from atlas_desktop.store.explain import ExplainRepository
from atlas_desktop.store.mappings import MappingRepository
from atlas_desktop.store.mirrors import MirrorRepository
from atlas_desktop.store.runs import RunRepository
from atlas_desktop.store.sent_mark import SentMark
from atlas_desktop.store.unmatched_reads import unmatched_atlas_notes, unmatched_atlas_rows


@dataclass(frozen=True)
class StoreRepos:
    """The profile's repositories: the engine's ports wrap them; the window, the CLI and the API read them."""

    mirrors: MirrorRepository
    mappings: MappingRepository
    decisions: DecisionRepository
    conflicts: ConflictRepository
    runs: RunRepository
    explain: ExplainRepository
    discovery: DiscoveryScratches
    audit: AuditLog | None = None
    sent_mark: SentMark | None = None

    @classmethod
    def of(cls, store: Store, audit: AuditLog | None) -> StoreRepos:
        return cls(
            mirrors=MirrorRepository(store),
            mappings=MappingRepository(store),
            decisions=DecisionRepository(store),
            conflicts=ConflictRepository(store),
            runs=RunRepository(store),
            explain=ExplainRepository(store),
            discovery=DiscoveryScratches(store),
            audit=audit,
            sent_mark=SentMark(store),
        )


class _Mirrors:
    def __init__(self, repo: MirrorRepository, db: DbThread) -> None:
        self._repo, self._db = repo, db

    async def upsert_erp_products(
        self, connection_id: str, products: Iterable[Product], ndc_key: NdcKey
    ) -> int:
        return await self._db(self._repo.upsert_erp_products, connection_id, products, ndc_key)

    async def upsert_erp_stock(
        self, connection_id: str, levels: Iterable[StockLevel], *, seen_marker: str | None = None
    ) -> int:
        return await self._db(self._repo.upsert_erp_stock, connection_id, levels, seen_marker=seen_marker)

    async def erp_stock_not_seen(self, connection_id: str, seen_marker: str) -> list[StockKey]:
        return await self._db(self._repo.erp_stock_not_seen, connection_id, seen_marker)

    async def set_erp_stock_quantity(self, connection_id: str, key: StockKey, quantity: Decimal) -> None:
        await self._db(self._repo.set_erp_stock_quantity, connection_id, key, quantity)

    async def upsert_atlas_rows(
        self, connection_id: str, rows: Iterable[AtlasInventoryRow], ndc_key: Callable[[str], str | None]
    ) -> int:
        return await self._db(self._repo.upsert_atlas_rows, connection_id, rows, ndc_key)

    async def sides_with_stock(self, connection_id: str) -> tuple[bool, bool]:
        return await self._db(self._repo.sides_with_stock, connection_id)


class _Mappings:
    def __init__(self, repo: MappingRepository, db: DbThread) -> None:
        self._repo, self._db = repo, db

    async def any_matched(self, connection_id: str) -> bool:
        return await self._db(self._repo.any_matched, connection_id)

    async def count(self, connection_id: str, *, status: MappingStatus | None = None) -> int:
        return await self._db(self._repo.count, connection_id, status=status)

    async def labels(self, mapping_ids: Collection[int]) -> dict[int, Label]:
        return await self._db(self._repo.labels, mapping_ids)

    async def settle_doubles(self, connection_id: str) -> list[Double]:
        return await self._db(self._repo.settle_doubles, connection_id)

    async def merge_rows(self, connection_id: str, mapping_ids: Collection[int]) -> list[MergeRow]:
        def read() -> list[MergeRow]:
            return list(self._repo.merge_inputs(connection_id, mapping_ids=mapping_ids))

        return await self._db(read)

    async def unmatched_atlas_notes(self, connection_id: str) -> list[str]:
        return await self._db(unmatched_atlas_notes, self._repo.store, connection_id)

    async def unmatched_atlas_rows(self, connection_id: str, limit: int) -> list[UnmatchedAtlasRow]:
        return await self._db(unmatched_atlas_rows, self._repo.store, connection_id, limit)


class _Outbox:
    def __init__(self, repo: DecisionRepository, db: DbThread) -> None:
        self._repo, self._db = repo, db

    async def record(
        self, connection_id: str, sync_log_id: int | None, decisions: Sequence[DecisionDraft]
    ) -> list[int]:
        return await self._db(self._repo.record, connection_id, sync_log_id, decisions)

    async def touch_bases(self, mapping_ids: Sequence[int]) -> None:
        await self._db(self._repo.touch_bases, mapping_ids)

    async def recent_base_quantities(
        self, connection_id: str, since: datetime, *, min_decisions: int
    ) -> dict[int, list[Decimal]]:
        return await self._db(
            self._repo.recent_base_quantities, connection_id, since, min_decisions=min_decisions
        )

    async def counts(self, connection_id: str) -> dict[str, int]:
        return await self._db(self._repo.counts, connection_id)

    async def pending_writes(self, connection_id: str, *, limit: int, after_id: int) -> list[OutboxEntry]:
        return await self._db(self._repo.pending_writes, connection_id, limit=limit, after_id=after_id)

    async def mark_sending_many(self, outbox_ids: Sequence[int]) -> list[int]:
        return await self._db(self._repo.mark_sending_many, outbox_ids)

    async def freeze_batches(
        self, connection_id: str, target: Side, batches: Sequence[tuple[str, Sequence[int]]]
    ) -> list[list[int]]:
        return await self._db(self._repo.freeze_batches, connection_id, target, batches)

    async def settle_batches(self, answers: Sequence[tuple[str, str, str | None]]) -> None:
        await self._db(self._repo.settle_batches, answers)

    async def mark_done_many(self, confirmed: Sequence[tuple[int, str | None]]) -> int:
        return await self._db(self._repo.mark_done_many, confirmed)

    async def mark_in_doubt(self, outbox_id: int, error: str) -> None:
        await self._db(self._repo.mark_in_doubt, outbox_id, error)

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        await self._db(self._repo.mark_failed, outbox_id, error)


class _RunLog:
    def __init__(self, repo: RunRepository, explain: ExplainRepository, db: DbThread) -> None:
        self._repo, self._explain, self._db = repo, explain, db

    async def start(self, connection_id: str, sync_type: SyncType, direction: SyncDirection) -> int:
        return await self._db(self._repo.start, connection_id, sync_type, direction)

    async def finish(
        self,
        sync_log_id: int,
        *,
        status: SyncLogStatus,
        items_synced: int,
        items_failed: int,
        items_skipped: int,
        api_calls_made: int,
        api_errors: int,
        conflicts_opened: int,
        in_doubt: int,
        error_message: str | None,
        error_details: dict[str, Any] | None,
    ) -> None:
        await self._db(
            self._repo.finish,
            sync_log_id,
            status=status,
            items_synced=items_synced,
            items_failed=items_failed,
            items_skipped=items_skipped,
            api_calls_made=api_calls_made,
            api_errors=api_errors,
            conflicts_opened=conflicts_opened,
            in_doubt=in_doubt,
            error_message=error_message,
            error_details=error_details,
        )

    async def get(self, sync_log_id: int) -> RunView:
        return await self._db(self._repo.get, sync_log_id)

    async def reads_done(self, sync_log_id: int, at: datetime) -> None:
        await self._db(self._repo.reads_done, sync_log_id, at)

    async def recent(self, connection_id: str, limit: int) -> list[RunView]:
        return await self._db(self._repo.recent, connection_id, limit)

    async def mark_interrupted(self, connection_id: str) -> int:
        return await self._db(self._repo.mark_interrupted, connection_id)

    async def add_item_error(
        self,
        sync_log_id: int,
        connection_id: str,
        mapping_id: int | None,
        item_ref: str,
        error: Mapping[str, Any],
    ) -> None:
        await self._db(self._repo.add_item_error, sync_log_id, connection_id, mapping_id, item_ref, error)

    async def unreplayed_errors(self, connection_id: str) -> list[ItemErrorView]:
        return await self._db(self._repo.unreplayed_errors, connection_id)

    async def mark_replayed(self, ids: Iterable[int]) -> None:
        await self._db(self._repo.mark_replayed, ids)

    async def open_refusals(self, connection_id: str) -> list[ItemErrorView]:
        return await self._db(self._repo.open_refusals, connection_id)

    async def record_refusals(
        self, sync_log_id: int, connection_id: str, found: Sequence[Refusal], *, close: Iterable[int] = ()
    ) -> int:
        return await self._db(self._repo.record_refusals, sync_log_id, connection_id, found, close=close)

    async def close_refusals(self, ids: Iterable[int]) -> None:
        await self._db(self._repo.close_refusals, ids)

    async def get_watermark(self, connection_id: str, source: Side, stream: WatermarkStream) -> str | None:
        return await self._db(self._repo.get_watermark, connection_id, source, stream)

    async def set_watermark(
        self, connection_id: str, source: Side, stream: WatermarkStream, value: str
    ) -> None:
        await self._db(self._repo.set_watermark, connection_id, source, stream, value)

    async def run_writes(self, sync_log_id: int) -> list[RunWrite]:
        return await self._db(self._explain.run_writes, sync_log_id)


class _Conflicts:
    def __init__(self, repo: ConflictRepository, db: DbThread) -> None:
        self._repo, self._db = repo, db

    async def get(self, conflict_id: int) -> ConflictView:
        return await self._db(self._repo.get, conflict_id)

    async def resolve(self, conflict_id: int, resolution: Resolution, value: str | None) -> ConflictView:
        return await self._db(self._repo.resolve, conflict_id, resolution, value)


class _Counts:
    def __init__(self, repo: ExplainRepository, db: DbThread) -> None:
        self._repo, self._db = repo, db

    async def counts(self, connection_id: str) -> CountFacts:
        return await self._db(self._repo.counts, connection_id)


class _Audit:
    def __init__(self, log: AuditLog, db: DbThread) -> None:
        self._log, self._db = log, db

    async def append_many(self, events: Iterable[AuditEvent]) -> None:
        await self._db(self._log.append_many, events)

    async def append(
        self,
        action: str,
        *,
        actor: str,
        source: AuditSource | str,
        connection_id: str | None = None,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        await self._db(
            self._log.append,
            action,
            actor=actor,
            source=source,
            connection_id=connection_id,
            subject=subject,
            details=details,
        )


class _SentMark:
    def __init__(self, mark: SentMark, db: DbThread) -> None:
        self._mark, self._db = mark, db

    async def rewound(self, connection_id: str) -> bool:
        return await self._db(self._mark.rewound, connection_id)

    async def settle(self, connection_id: str) -> bool:
        return await self._db(self._mark.settle, connection_id)


def engine_ports(repos: StoreRepos, db: DbThread) -> EnginePorts:
    """The ports over `repos`, every call on `db` (the profile's one DB thread)."""
    return EnginePorts(
        thread=db,
        mirrors=_Mirrors(repos.mirrors, db),
        mirror_reads=repos.mirrors,
        mappings=_Mappings(repos.mappings, db),
        merge_reads=repos.mappings,
        outbox=_Outbox(repos.decisions, db),
        runs=_RunLog(repos.runs, repos.explain, db),
        conflicts=_Conflicts(repos.conflicts, db),
        counts=_Counts(repos.explain, db),
        audit=_Audit(repos.audit, db) if repos.audit is not None else None,
        sent_mark=_SentMark(repos.sent_mark, db) if repos.sent_mark is not None else None,
        discovery=repos.discovery,
    )
