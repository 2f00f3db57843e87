"""What the engine asks of the store and of Atlas, as typed ports; the app hands in what fills them.

The engine never imports the store (an import-linter contract): it names these protocols, and
app/engine_ports.py wraps the repositories so each call runs on the store's one thread. Async ports
carry single calls. Work that interleaves store reads with CPU work (a merge chunk, discovery) must run
on that thread as a whole, so it goes through `StoreThread` and reads through the synchronous `*Reads`
protocols, which are only called from inside such work.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ParamSpec, Protocol, TypeVar

from atlas_desktop.connectors.atlas import ChangeBatch, HealthReport, OrderBatch, OrderLink, SyncLogSummary
from atlas_desktop.connectors.atlas.batch import BatchOp, OpResult
from atlas_desktop.domain.audit_events import AuditEvent, AuditSource
from atlas_desktop.domain.change_window import ChangeWindow
from atlas_desktop.domain.conflict_view import ConflictView
from atlas_desktop.domain.discovery_counts import DiscoveryCounts
from atlas_desktop.domain.discovery_rows import (
    AtlasPick,
    ErpOpenPosition,
    Position,
    PositionPick,
    ProductPick,
)
from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft
from atlas_desktop.domain.enums import (
    MappingStatus,
    Resolution,
    SyncDirection,
    SyncLogStatus,
    SyncType,
    WatermarkStream,
)
from atlas_desktop.domain.merge_rows import MergeRow
from atlas_desktop.domain.mirror_rows import AtlasMirror, ErpProductMirror, ErpStockMirror
from atlas_desktop.domain.model import AtlasInventoryRow, ErpType, Product, Side, StockKey, StockLevel
from atlas_desktop.domain.outbox import OutboxEntry
from atlas_desktop.domain.ownership import Double
from atlas_desktop.domain.product_master import ProductMasterDiff
from atlas_desktop.domain.quantity import RejectedRow
from atlas_desktop.domain.refusals import Refusal
from atlas_desktop.domain.review_rows import UnmatchedAtlasRow
from atlas_desktop.domain.run_log import ItemErrorView, RunView, RunWrite
from atlas_desktop.engine.health import CountFacts

P = ParamSpec("P")
T = TypeVar("T")
NdcKey = Callable[[str | None], str | None]  # a text's NDC matching key, None when not one for sure
Label = tuple[str, str, str]  # (item name, lot, ERP location): what a person recognises a key by


class StoreThread(Protocol):
    """Runs blocking work on the store's one thread: SQLite writes serialised, the event loop free."""

    def __call__(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]: ...

    def close(self) -> None: ...


class MirrorsPort(Protocol):
    """Each side's rows as last read (store/mirrors.py)."""

    async def upsert_erp_products(
        self, connection_id: str, products: Iterable[Product], ndc_key: NdcKey
    ) -> int: ...
    async def upsert_erp_stock(
        self, connection_id: str, levels: Iterable[StockLevel], *, seen_marker: str | None = None
    ) -> int: ...
    async def erp_stock_not_seen(self, connection_id: str, seen_marker: str) -> list[StockKey]: ...
    async def set_erp_stock_quantity(self, connection_id: str, key: StockKey, quantity: Decimal) -> None: ...
    async def upsert_atlas_rows(
        self, connection_id: str, rows: Iterable[AtlasInventoryRow], ndc_key: Callable[[str], str | None]
    ) -> int: ...
    async def sides_with_stock(self, connection_id: str) -> tuple[bool, bool]: ...


class MirrorReads(Protocol):
    """The mirrors streamed page by page, inside StoreThread work only."""

    def iter_atlas_rows(self, connection_id: str) -> Iterator[AtlasMirror]: ...
    def iter_erp_products(self, connection_id: str) -> Iterator[ErpProductMirror]: ...
    def iter_erp_stock(self, connection_id: str) -> Iterator[ErpStockMirror]: ...


class DiscoveryScratchReads(Protocol):
    """One discovery's ERP side in scratch tables (store/discovery_scratch.py), inside StoreThread work."""

    def atlas_pages(self, size: int) -> Iterator[Sequence[AtlasPick]]: ...
    def products_linked(self, values: Collection[str]) -> list[ProductPick]: ...
    def positions_of(self, item_ids: Collection[str]) -> list[PositionPick]: ...
    def mark(self, claimed: Sequence[Position], asked: Sequence[Position]) -> None: ...
    def unclaimed(self) -> Iterator[ErpOpenPosition]: ...


class DiscoveryReads(Protocol):
    """Fills a discovery's scratch tables from the mirrors: `link_values(NDC text, unit, attributes)` gives
    the values a product is found by, `lot_key` a lot as discovery compares it."""

    def open(
        self,
        connection_id: str,
        link_values: Callable[[str | None, str, Mapping[str, str]], Iterable[str]],
        lot_key: Callable[[str | None], str],
    ) -> AbstractContextManager[DiscoveryScratchReads]: ...


class MappingsPort(Protocol):
    """The mappings as the merge and discovery use them (store/mappings.py, store/unmatched_reads.py)."""

    async def any_matched(self, connection_id: str) -> bool: ...
    async def count(self, connection_id: str, *, status: MappingStatus | None = None) -> int: ...
    async def labels(self, mapping_ids: Collection[int]) -> dict[int, Label]: ...
    async def settle_doubles(self, connection_id: str) -> list[Double]: ...
    async def merge_rows(self, connection_id: str, mapping_ids: Collection[int]) -> list[MergeRow]: ...
    async def unmatched_atlas_notes(self, connection_id: str) -> list[str]: ...
    async def unmatched_atlas_rows(self, connection_id: str, limit: int) -> list[UnmatchedAtlasRow]: ...


class MergeReads(Protocol):
    """The merge's input and what is read and written beside it, inside StoreThread work only."""

    def merge_inputs(
        self,
        connection_id: str,
        *,
        mapping_ids: Collection[int] | None = None,
        changed_since: ChangeWindow | None = None,
        batch: int = 2000,
        settled: list[int] | None = None,
    ) -> Iterator[MergeRow]: ...
    def labels(self, mapping_ids: Collection[int]) -> dict[int, Label]: ...
    def product_master_diffs(
        self, connection_id: str, *, changed_since: ChangeWindow | None = None
    ) -> list[ProductMasterDiff]: ...
    def note_erp_names(self, seen: Sequence[tuple[int, str]]) -> None: ...
    def apply_discovery(self, connection_id: str, drafts: Iterable[MappingDraft]) -> DiscoveryCounts: ...


class OutboxPort(Protocol):
    """Decisions and their writes (store/decisions.py): recorded before anything is sent."""

    async def record(
        self, connection_id: str, sync_log_id: int | None, decisions: Sequence[DecisionDraft]
    ) -> list[int]: ...
    async def touch_bases(self, mapping_ids: Sequence[int]) -> None: ...
    async def recent_base_quantities(
        self, connection_id: str, since: datetime, *, min_decisions: int
    ) -> dict[int, list[Decimal]]: ...
    async def counts(self, connection_id: str) -> dict[str, int]: ...
    async def pending_writes(self, connection_id: str, *, limit: int, after_id: int) -> list[OutboxEntry]: ...
    async def mark_sending_many(self, outbox_ids: Sequence[int]) -> list[int]: ...
    async def freeze_batches(
        self, connection_id: str, target: Side, batches: Sequence[tuple[str, Sequence[int]]]
    ) -> list[list[int]]: ...
    async def settle_batches(self, answers: Sequence[tuple[str, str, str | None]]) -> None: ...
    async def mark_done_many(self, confirmed: Sequence[tuple[int, str | None]]) -> int: ...
    async def mark_in_doubt(self, outbox_id: int, error: str) -> None: ...
    async def mark_failed(self, outbox_id: int, error: str) -> None: ...


class RunLogPort(Protocol):
    """Runs, their item errors and refusals, and the read watermarks (store/runs.py)."""

    async def start(self, connection_id: str, sync_type: SyncType, direction: SyncDirection) -> int: ...
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
    ) -> None: ...
    async def reads_done(self, sync_log_id: int, at: datetime) -> None: ...
    async def get(self, sync_log_id: int) -> RunView: ...
    async def recent(self, connection_id: str, limit: int) -> list[RunView]: ...
    async def mark_interrupted(self, connection_id: str) -> int: ...
    async def add_item_error(
        self,
        sync_log_id: int,
        connection_id: str,
        mapping_id: int | None,
        item_ref: str,
        error: Mapping[str, Any],
    ) -> None: ...
    async def unreplayed_errors(self, connection_id: str) -> list[ItemErrorView]: ...
    async def mark_replayed(self, ids: Iterable[int]) -> None: ...
    async def open_refusals(self, connection_id: str) -> list[ItemErrorView]: ...
    async def record_refusals(
        self, sync_log_id: int, connection_id: str, found: Sequence[Refusal], *, close: Iterable[int] = ()
    ) -> int: ...
    async def close_refusals(self, ids: Iterable[int]) -> None: ...
    async def get_watermark(
        self, connection_id: str, source: Side, stream: WatermarkStream
    ) -> str | None: ...
    async def set_watermark(
        self, connection_id: str, source: Side, stream: WatermarkStream, value: str
    ) -> None: ...
    async def run_writes(self, sync_log_id: int) -> list[RunWrite]: ...


class ConflictsPort(Protocol):
    async def get(self, conflict_id: int) -> ConflictView: ...
    async def resolve(self, conflict_id: int, resolution: Resolution, value: str | None) -> ConflictView: ...


class AuditPort(Protocol):
    """The profile's tamper-evident audit trail (store/audit.py)."""

    async def append_many(self, events: Iterable[AuditEvent]) -> None:
        """All or none, in one transaction; `events` is consumed on the DB thread."""

    async def append(
        self,
        action: str,
        *,
        actor: str,
        source: AuditSource | str,
        connection_id: str | None = None,
        subject: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None: ...


class SentMarkPort(Protocol):
    """Whether the database is older than the writes this machine sent (store/sent_mark.py)."""

    async def rewound(self, connection_id: str) -> bool: ...
    async def settle(self, connection_id: str) -> bool: ...


class CountsPort(Protocol):
    """A connection's counts for its health (store/explain.py)."""

    async def counts(self, connection_id: str) -> CountFacts: ...


class ChangeFeed(Protocol):
    """Atlas's change feed, followed by the real-time trigger (connectors/atlas/client.py)."""

    def follow_changes(self, *, since: str | None, wait: float = 30) -> AsyncIterator[ChangeBatch]: ...


class AtlasPort(ChangeFeed, Protocol):
    """What the engine uses of the Atlas client (connectors/atlas/client.py)."""

    api_calls: int
    api_errors: int

    def inventory(self, *, page_size: int = 500) -> AsyncIterator[AtlasInventoryRow | RejectedRow]: ...
    def changes(self, *, since: str | None) -> AsyncIterator[ChangeBatch]: ...
    def orders(self, *, since: str | None, status: str | None = "confirmed") -> AsyncIterator[OrderBatch]: ...
    async def get_row(self, row_id: str) -> AtlasInventoryRow: ...
    async def adjust(self, row_id: str, delta: Decimal, *, key: str) -> AtlasInventoryRow: ...
    async def update_row(
        self, row_id: str, changes: Mapping[str, Any], *, version: int, key: str | None = None
    ) -> AtlasInventoryRow: ...
    async def batch(self, operations: list[BatchOp]) -> list[OpResult]: ...
    async def link_order(
        self, order_id: str, *, erp_type: ErpType, document_id: str, document_number: str | None, key: str
    ) -> OrderLink: ...
    async def upload_sync_log(
        self, local_connection_id: str, summary: SyncLogSummary, *, key: str
    ) -> str: ...
    async def report_health(self, local_connection_id: str, report: HealthReport) -> None: ...
    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class EnginePorts:
    """Everything the engine reads and writes locally, for one profile."""

    thread: StoreThread
    mirrors: MirrorsPort
    mirror_reads: MirrorReads
    mappings: MappingsPort
    merge_reads: MergeReads
    outbox: OutboxPort
    runs: RunLogPort
    conflicts: ConflictsPort
    counts: CountsPort | None = None  # health sent to Atlas after a run
    audit: AuditPort | None = None  # when the profile keeps an audit trail
    sent_mark: SentMarkPort | None = None  # tells a database restored from an older copy
    discovery: DiscoveryReads | None = None  # without it, discovery holds the ERP side in memory
