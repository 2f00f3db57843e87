"""The physical limit of a sync: the fewest requests the APIs allow for the work, and the time they need.

Every term of the minimum is a number of requests and the API limit it comes from (`Term`); `--explain`
prints them per row. The limits are the real APIs' (the references), not this app's choices:

Reads: every row a side must hand over, divided by that API's largest page (NetSuite SuiteQL 1,000 rows,
SAP OData 5,000 rows with $top, Atlas 1,000 rows), rounded up, per row source the API has (NetSuite:
items, lot-numbered stock, plain stock; SAP: products, stock, batches for expiry; Atlas: one listing).
An incremental read costs at least one request per source even when nothing changed.
Writes, batched at each API's limit:
  Atlas     POST /inventory/batch takes 500 operations, each its own key and result: ceil(writes / 500).
  NetSuite  one inventoryAdjustment carries the lines of one location (adjLocation is a record field),
            at most 500 lines (`lines_per_record`'s default; the account's limit is 1,000 per transaction,
            netsuite.md §9), one record per request (REST has no synchronous multi-record create):
            sum over locations of ceil(changes there / 500).
  SAP       one material document carries at most 499 items (999 FI lines, two per item, sap.md §13), and
            receipts (GoodsMovementCode 05) and issues (03) go in separate documents; Gateway takes one
            document per change set but any number of change sets per $batch (no documented cap; the
            client sends a round's documents in one $batch): 1 $batch for any number of documents, plus
            one CSRF token fetch before the first write.
The one-per-change writer (`--writes single`) is measured against the same batched minimum: its excess is
what batching saves. Not counted: the app's own safety lookups (whether a change was posted before, by
key), which the APIs do not require for the work itself.
Time: the ERP and Atlas are separate servers with their own limit, so they work in parallel: the reads
phase needs max over APIs of ceil(reads / concurrency) round trips, then the writes phase the same for
writes (a write depends on both sides' reads). lower_bound_s = (read rounds + write rounds) x latency.
With --server-time realistic each round trip also costs that API's server time for one request (a read's
base, a write's base), and each line written its line time spread over every slot (lines / concurrency x
line time); rows read are left out, so the bound stays a lower bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from atlas_desktop.sandbox.server_time import PROFILES

PAGE = {"netsuite": 1000, "sap": 5000, "atlas": 1000}
ATLAS_BATCH = 500  # operations per POST /api/v1/inventory/batch (atlas-cloud-api.md "Batch writes")
NETSUITE_LINES = 500  # lines per inventoryAdjustment: lines_per_record's default (account limit 1,000)
SAP_ITEMS = 499  # items per valuated material document: 999 FI lines, two per item (sap.md §13)
EXPLANATION = __doc__ or ""


@dataclass(frozen=True)
class Term:
    """Requests one part of the work needs at least, and why."""

    api: str  # "erp" | "atlas"
    phase: str  # "read" | "write"
    requests: int
    why: str
    lines: int = 0  # lines or items the requests write (server time per line, realistic mode)


@dataclass(frozen=True)
class Bound:
    terms: tuple[Term, ...]

    def _sum(self, api: str, phase: str) -> int:
        return sum(t.requests for t in self.terms if t.api == api and t.phase == phase)

    @property
    def erp_reads(self) -> int:
        return self._sum("erp", "read")

    @property
    def atlas_reads(self) -> int:
        return self._sum("atlas", "read")

    @property
    def erp_writes(self) -> int:
        return self._sum("erp", "write")

    @property
    def atlas_writes(self) -> int:
        return self._sum("atlas", "write")

    @property
    def requests(self) -> int:
        return sum(t.requests for t in self.terms)

    def explain(self) -> str:
        return "\n".join(
            f"    {t.requests:>6,}  {t.api} {t.phase}: {t.why}" for t in self.terms if t.requests
        )

    def seconds(
        self, concurrency: int, latency_ms: float, erp: str = "netsuite", server_time: str = "instant"
    ) -> float:
        def trip(api: str, write: bool) -> float:
            cost = latency_ms / 1000
            if server_time == "realistic":
                profile = PROFILES[api]
                cost += profile.write_s if write else profile.read_s
            return cost

        def lines(side: str, api: str) -> float:
            if server_time != "realistic":
                return 0.0
            written = sum(t.lines for t in self.terms if t.api == side and t.phase == "write")
            return written * PROFILES[api].line_s / concurrency

        def phase(erp_requests: int, atlas_requests: int, write: bool) -> float:
            return max(
                math.ceil(erp_requests / concurrency) * trip(erp, write)
                + (lines("erp", erp) if write else 0),
                math.ceil(atlas_requests / concurrency) * trip("atlas", write)
                + (lines("atlas", "atlas") if write else 0),
            )

        reads = phase(self.erp_reads, self.atlas_reads, False)
        return reads + phase(self.erp_writes, self.atlas_writes, True)


def pages(rows: int, page: int) -> int:
    """Requests to read `rows` rows; an empty read still costs one request."""
    return max(1, math.ceil(rows / page))


def _read(api: str, source: str, rows: int, page: int) -> Term:
    return Term(api, "read", pages(rows, page), f"{source}: {rows:,} rows at {page:,} a page")


def full_sync(
    erp: str, rows: dict[str, int], erp_changes: Iterable[tuple[str, int]], atlas_writes: int
) -> Bound:
    """First sync (discovery + the approved first run): everything read once, each difference written once.
    `erp_changes`: the ERP stock changes written, as (location, delta sign) pairs."""
    reads = [
        _read("erp", k.removeprefix("erp_"), v, PAGE[erp]) for k, v in rows.items() if k.startswith("erp_")
    ]
    reads.append(_read("atlas", "inventory listing", rows["atlas_rows"], PAGE["atlas"]))
    return Bound((*reads, *erp_write_terms(erp, list(erp_changes)), atlas_term(atlas_writes)))


def incremental(erp: str, erp_changes: int, atlas_changes: Iterable[tuple[str, int]]) -> Bound:
    """A run after `erp_changes` ERP moves and the Atlas moves `atlas_changes` ((location, delta sign) of
    the ERP change each makes): read the deltas, write across."""
    across = list(atlas_changes)
    sources = 2 if erp == "netsuite" else 1  # NetSuite: lot + plain stock queries; SAP: one stock set
    erp_reads = sources + max(0, pages(erp_changes, PAGE[erp]) - 1)
    why = f"{sources} stock source(s), {erp_changes:,} changed rows at {PAGE[erp]:,} a page"
    return Bound((
        Term("erp", "read", erp_reads, why),
        _read("atlas", "change feed", len(across), PAGE["atlas"]),
        *erp_write_terms(erp, across),
        atlas_term(erp_changes),
    ))  # fmt: skip


def naive(erp: str, mapped: int, atlas_rows: int) -> Bound:
    """The design plan's way: one ERP GET and one Atlas PATCH per mapped row (+ the listing for versions)."""
    return Bound((
        Term("erp", "read", mapped, "one GET per mapped row (the design plan's way)"),
        _read("atlas", "inventory listing", atlas_rows, PAGE["atlas"]),
        Term("atlas", "write", mapped, "one PATCH per mapped row (the design plan's way)"),
    ))  # fmt: skip


def atlas_requests(writes: int) -> int:
    """Requests to make `writes` Atlas writes: batches of 500 (none when there is nothing to write)."""
    return math.ceil(writes / ATLAS_BATCH)


def atlas_term(writes: int) -> Term:
    why = f"{writes:,} writes, {ATLAS_BATCH} operations per POST /inventory/batch"
    return Term("atlas", "write", atlas_requests(writes), why, lines=writes)


def erp_write_terms(erp: str, changes: list[tuple[str, int]]) -> list[Term]:
    """The ERP requests that write `changes` ((location, delta sign) each) at the API's limits."""
    if not changes:
        return []
    if erp == "netsuite":
        per_location: dict[str, int] = {}
        for location, _sign in changes:
            per_location[location] = per_location.get(location, 0) + 1
        records = sum(math.ceil(n / NETSUITE_LINES) for n in per_location.values())
        why = (
            f"{len(changes):,} changes at {len(per_location)} location(s), one inventoryAdjustment per "
            f"location and {NETSUITE_LINES} lines, one record per request"
        )
        return [Term("erp", "write", records, why, lines=len(changes))]
    receipts = sum(1 for _location, sign in changes if sign > 0)
    issues = len(changes) - receipts
    documents = math.ceil(receipts / SAP_ITEMS) + math.ceil(issues / SAP_ITEMS)
    why = (
        f"{len(changes):,} changes ({receipts:,} receipts, {issues:,} issues) in {documents} material "
        f"document(s) of <= {SAP_ITEMS} items, one change set each, all in one $batch"
    )
    return [
        Term("erp", "write", 1, "CSRF token fetch before the first write"),
        Term("erp", "write", 1, why, lines=len(changes)),
    ]


def describe(bounds: Mapping[str, Bound]) -> str:
    """The terms of each row's minimum, for --explain."""
    return "\n".join(f"  {label}: minimum {b.requests:,}\n{b.explain()}" for label, b in bounds.items())
