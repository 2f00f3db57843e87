"""The surface every ERP connector offers the engine, so the engine holds no NetSuite or SAP knowledge."""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import (
    ConnectionReport,
    Location,
    Product,
    PurchaseOrder,
    StockChange,
    StockLevel,
    WriteResult,
)
from atlas_desktop.domain.quantity import RejectedRow

# What a stock read yields: a level, or a row refused for its quantity alone (the read goes on).
StockRead = StockLevel | RejectedRow


@dataclass(frozen=True)
class NdcPlaceCandidate:
    """A place in the ERP that may hold the NDC (a field, a custom field, SAP's EAN table): how many
    sampled items carry a readable NDC there. One measure for every ERP, so the wizard ranks alike."""

    field: str
    sampled: int
    ndc_like: int
    example: str | None
    label: str = ""  # what the ERP calls it (SAP's sap:label), when that differs from `field`

    @property
    def share(self) -> float:
        return self.ndc_like / self.sampled if self.sampled else 0.0


@runtime_checkable
class ErpConnector(Protocol):
    """An ERP as the engine sees it. Reads stream page by page; writes are relative and keyed.

    `since` is a watermark the connector returned before (aware UTC); None means a full read.
    Connectors apply their own overlap window; the engine de-duplicates by key. A stock row whose
    quantity the ERP cannot hold (domain/quantity.py) comes as a RejectedRow in its place.
    """

    async def test_connection(self) -> ConnectionReport: ...

    async def locations(self) -> list[Location]: ...

    def products(self, since: datetime | None = None) -> AsyncIterator[Product]: ...

    def stock(self, since: datetime | None = None) -> AsyncIterator[StockRead]: ...

    async def adjust_stock(self, change: StockChange, key: str) -> WriteResult: ...

    async def find_write(self, key: str) -> WriteResult | None: ...

    async def posted_before(self, keys: Sequence[str]) -> dict[str, WriteResult]:
        """Of these write keys, those the ERP holds already, in any document (a batch's line or item
        carries its change's key). Asked for writes marked sending whose batch key is not recorded."""
        ...

    async def create_purchase_order(self, order: PurchaseOrder, key: str) -> WriteResult: ...

    @property
    def api_calls(self) -> int: ...

    @property
    def api_errors(self) -> int: ...

    async def aclose(self) -> None: ...


# One change's outcome in a batch: posted (its result), refused alone (its error), or None: not posted
# because the document was refused as a whole without naming a line, so the caller sends it again in a
# smaller batch (under a new key).
BatchOutcome = WriteResult | AtlasDesktopError | None


@runtime_checkable
class BatchedStockWriter(Protocol):
    """An ERP that posts many stock changes as one document (one request), under one key.

    The caller freezes `batch_key` with the changes it carries before calling, finds an in-doubt batch
    again with `find_write(batch_key)`, and sends changes answered None again in smaller batches.
    """

    @property
    def batch_limit(self) -> int:
        """Most changes one document may carry (within the ERP's real limit)."""
        ...

    def batch_group(self, change: StockChange) -> Hashable:
        """What must be shared by the changes of one document (e.g. its location, receipt or issue)."""
        ...

    @property
    def parallel_documents(self) -> int:
        """Documents the connector posts at once (its requests in flight): how many a round may fill."""
        ...

    async def adjust_stock_batches(
        self, batches: Sequence[tuple[Sequence[tuple[StockChange, str]], str]]
    ) -> list[list[BatchOutcome]]:
        """Documents, each (its changes with their own keys, its batch key): per document, an outcome
        per change, in order. Documents may share requests; each is posted or refused whole.

        A change refused alone (its line named, or refused before sending) gets its error and the
        others None when the document was not posted. An error that leaves a document in doubt
        (retryable), or refuses it for a reason no line causes, is given to every change of it."""
        ...


# ---- what some connectors offer besides the ErpConnector surface (callers check with isinstance) ----


@runtime_checkable
class ReadWatermarks(Protocol):
    """A connector that knows, after a read ran to its end, the ERP's time the read started at."""

    def read_watermark(self, stream: str) -> datetime | None:
        """For "products" or "stock": aware UTC, better than our clock (which may be skewed against
        the ERP's); None before a full read of the stream."""
        ...


@runtime_checkable
class SettingChoices(Protocol):
    """A connector that lists, for the connection wizard, the values some of its settings may take."""

    async def setting_choices(self, key: str) -> Sequence[object] | None:
        """The values the setting `key` may take, as the ERP lists them (each with an `id` and a `name`,
        or an NdcPlaceCandidate); None when this ERP lists none for `key`."""
        ...
