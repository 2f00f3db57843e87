"""The physical limit of a sync: the fewest requests the APIs allow for the work, and the time they need.

Reads: every row a side must hand over, divided by that API's largest page (NetSuite SuiteQL 1,000 rows,
SAP OData 5,000 rows with $top, Atlas 1,000 rows), rounded up, per row source the API has (NetSuite:
items, lot-numbered stock, plain stock; SAP: products, stock, batches for expiry; Atlas: one listing).
An incremental read costs at least one request per source even when nothing changed.
Writes: Atlas takes 500 writes per request (POST /inventory/batch, each write its own key and result),
so its minimum is ceil(writes / 500), not one request per write. NetSuite inventoryAdjustment and SAP
material documents carry the sync's idempotency key per record, so one record per change (a multi-line
adjustment or a $batch of change sets would save requests but lose the per-change key; not counted).
SAP writes need one CSRF token fetch first.
Time: the ERP and Atlas are separate servers with their own limit, so they work in parallel: the reads
phase needs max over APIs of ceil(reads / concurrency) round trips, then the writes phase the same for
writes (a write depends on both sides' reads). lower_bound_s = (read rounds + write rounds) x latency.
With --server-time realistic each round trip also costs that API's server time for one request (a read's
base, a write's base and one line; rows and further lines left out, so the bound stays a lower bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from atlas_desktop.sandbox.server_time import PROFILES

PAGE = {"netsuite": 1000, "sap": 5000, "atlas": 1000}
ATLAS_BATCH = 500  # operations per POST /api/v1/inventory/batch (atlas-cloud-api.md "Batch writes")
EXPLANATION = __doc__ or ""


@dataclass(frozen=True)
class Bound:
    erp_reads: int
    atlas_reads: int
    erp_writes: int
    atlas_writes: int

    @property
    def requests(self) -> int:
        return self.erp_reads + self.atlas_reads + self.erp_writes + self.atlas_writes

    def seconds(
        self, concurrency: int, latency_ms: float, erp: str = "netsuite", server_time: str = "instant"
    ) -> float:
        def trip(api: str, write: bool) -> float:
            cost = latency_ms / 1000
            if server_time == "realistic":
                profile = PROFILES[api]
                cost += profile.write_s + profile.line_s if write else profile.read_s
            return cost

        def phase(erp_requests: int, atlas_requests: int, write: bool) -> float:
            return max(
                math.ceil(erp_requests / concurrency) * trip(erp, write),
                math.ceil(atlas_requests / concurrency) * trip("atlas", write),
            )

        reads = phase(self.erp_reads, self.atlas_reads, False)
        return reads + phase(self.erp_writes, self.atlas_writes, True)


def pages(rows: int, page: int) -> int:
    """Requests to read `rows` rows; an empty read still costs one request."""
    return max(1, math.ceil(rows / page))


def full_sync(erp: str, rows: dict[str, int], erp_writes: int, atlas_writes: int) -> Bound:
    """First sync (discovery + the approved first run): everything read once, each difference written once."""
    erp_sources = [v for k, v in rows.items() if k.startswith("erp_")]
    erp_reads = sum(pages(n, PAGE[erp]) for n in erp_sources)
    return Bound(
        erp_reads, pages(rows["atlas_rows"], PAGE["atlas"]), _erp_writes(erp, erp_writes),
        atlas_requests(atlas_writes),
    )  # fmt: skip


def incremental(erp: str, erp_changes: int, atlas_changes: int) -> Bound:
    """A run after `erp_changes` ERP moves and `atlas_changes` Atlas moves: read the deltas, write across."""
    sources = 2 if erp == "netsuite" else 1  # NetSuite: lot + plain stock queries; SAP: one stock set
    erp_reads = sources + max(0, pages(erp_changes, PAGE[erp]) - 1)
    atlas_reads = pages(atlas_changes, PAGE["atlas"])
    return Bound(erp_reads, atlas_reads, _erp_writes(erp, atlas_changes), atlas_requests(erp_changes))


def naive(erp: str, mapped: int, atlas_rows: int) -> Bound:
    """The design plan's way: one ERP GET and one Atlas PATCH per mapped row (+ the listing for versions)."""
    return Bound(mapped, pages(atlas_rows, PAGE["atlas"]), 0, mapped)


def atlas_requests(writes: int) -> int:
    """Requests to make `writes` Atlas writes: batches of 500 (none when there is nothing to write)."""
    return math.ceil(writes / ATLAS_BATCH)


def _erp_writes(erp: str, writes: int) -> int:
    return writes + (1 if erp == "sap" and writes else 0)
