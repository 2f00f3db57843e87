"""The Atlas cloud API client: listing in pages, the change feed (batch + cursor), long-poll, keyed writes.

Cursors are the caller's to keep. `changes()` and `follow_changes()` yield `ChangeBatch` objects; the caller
commits `batch.changes` and `batch.cursor` in one transaction, and passes the committed cursor as `since`
after a restart. The client never stores a cursor, so it cannot advance one past changes not yet committed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from atlas_desktop.connectors.atlas.batch import (
    MAX_OPERATIONS,
    AdjustOp,
    BatchOp,
    CreateOp,
    OpResult,
    UpdateOp,
    op_json,
    read_results,
    update_body,
)
from atlas_desktop.connectors.atlas.errors import SYSTEM, check, json_object
from atlas_desktop.connectors.atlas.mapping import (
    NewInventoryRow,
    decimal_text,
    parse_order,
    parse_row,
    read_row,
    rfc3339,
)
from atlas_desktop.connectors.http import HttpClient, UsesHttpClient
from atlas_desktop.connectors.offload import OFF_LOOP_BYTES, off_loop
from atlas_desktop.domain.errors import (
    ConfigError,
    ConnectorError,
    InvalidResponse,
    NetworkError,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from atlas_desktop.domain.model import AtlasInventoryRow, ConnectionReport, ErpType, PurchaseOrder
from atlas_desktop.domain.quantity import ATLAS as QUANTITY
from atlas_desktop.domain.quantity import RejectedRow, atlas_ref, require_writable
from atlas_desktop.domain.secrets import known_secret_values, redact

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PAGE = 1000
MAX_WAIT_S = 60
MAX_BODY_BYTES = 5 * 1024 * 1024
# Long-poll reconnects: full jitter between 0 and min(cap, base * 2**attempt).
RECONNECT_BASE_S = 1.0
RECONNECT_CAP_S = 60.0
_CREDENTIAL_KEY = re.compile(
    r"(?i)(secret|password|passwd|passphrase|token|api[_-]?key|authorization|credential|private[_-]?key|"
    r"consumer[_-]?key|client[_-]?id|cookie|device[_-]?code)"
)


@dataclass(frozen=True)
class ChangeBatch:
    """Changed rows (deletions have deleted=True) and the cursor to store once they are committed.

    `rejected`: rows of the batch refused for their quantity (domain/quantity.py); the cursor covers them
    too, so the caller records them before it stores the cursor.
    """

    changes: tuple[AtlasInventoryRow, ...]
    cursor: str
    has_more: bool
    rejected: tuple[RejectedRow, ...] = ()


@dataclass(frozen=True)
class OrderBatch:
    orders: tuple[PurchaseOrder, ...]
    cursor: str
    has_more: bool


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    company_name: str
    user_email: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class OrderLink:
    order_id: str
    erp_type: str
    erp_document_id: str
    erp_document_number: str | None


@dataclass(frozen=True)
class HealthReport:
    """PUT /erp/connections/{id}/health: counts and states only, never a credential."""

    erp_type: ErpType
    status: str  # healthy | degraded | failing | paused
    last_sync_at: datetime | None
    last_sync_status: str | None
    consecutive_failures: int
    items_mapped: int
    items_unmapped: int
    open_conflicts: int
    app_version: str


@dataclass(frozen=True)
class SyncLogSummary:
    """POST /erp/connections/{id}/sync-logs: one run of erp_sync_logs, without per-item data."""

    sync_type: str
    direction: str
    status: str
    started_at: datetime
    completed_at: datetime | None = None
    duration_seconds: Decimal | None = None
    items_synced: int = 0
    items_failed: int = 0
    items_skipped: int = 0
    api_calls_made: int = 0
    api_errors: int = 0
    conflicts_opened: int = 0
    in_doubt: int = 0
    error_message: str | None = None


def _report_json(report: HealthReport | SyncLogSummary) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for item in fields(report):
        value = getattr(report, item.name)
        if isinstance(value, datetime):
            value = rfc3339(value)
        elif isinstance(value, Decimal):
            value = decimal_text(value)
        elif isinstance(value, ErpType):
            value = value.value
        elif isinstance(value, str):
            value = redact(value)  # a remote error text may quote a credential
        body[item.name] = value
    assert_no_credentials(body)
    return body


def assert_no_credentials(body: Mapping[str, Any]) -> None:
    """Refuse to send a report with a credential-like key or any registered secret value."""
    secrets_known = known_secret_values()
    for key, value in body.items():
        if _CREDENTIAL_KEY.search(key):
            raise ValueError(f"a report to Atlas must not carry the field {key!r}")
        if isinstance(value, str) and any(secret in value for secret in secrets_known):
            raise ValueError(f"a report to Atlas must not carry a credential (field {key!r})")


def _path_id(value: str, what: str) -> str:
    if not value or "/" in value:
        raise ConfigError(what, f"{value!r} is not an Atlas id")
    return quote(value, safe="")


def _check_page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"page size must be 1..{MAX_PAGE}")
    return limit


class AtlasClient(UsesHttpClient):
    """One Atlas account. Use `build_client()` to make one."""

    def __init__(
        self,
        http: HttpClient,
        *,
        sleep: Any = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self._sleep = sleep
        self._rng = rng or random.Random()
        # False once the server answered 404 on POST /inventory/batch (it predates it): single rows from then.
        self.batch_route = True

    # ---- reads ---------------------------------------------------------------------------------------
    async def _get(self, url: str, doing: str, **kwargs: Any) -> dict[str, Any]:
        response = await self.http.request("GET", url, **kwargs)
        check(response, doing)
        return json_object(response, doing)

    async def _get_page(self, url: str, doing: str, build: Callable[[dict[str, Any]], T], **kwargs: Any) -> T:
        """GET a page and `build` its result from the JSON object; a large page is decoded and built
        on a worker thread (the desktop app's event loop must not wait)."""
        response = await self.http.request("GET", url, **kwargs)
        check(response, doing)
        return await off_loop(len(response.content), OFF_LOOP_BYTES, _built, response, doing, build)

    async def me(self) -> AccountInfo:
        data = await self._get("/api/v1/me", "reading the account")
        scopes = data.get("scopes")
        if not isinstance(scopes, list) or not isinstance(data.get("account_id"), str):
            raise InvalidResponse(f"{SYSTEM}: /me lacks account_id or scopes", system=SYSTEM)
        return AccountInfo(
            account_id=data["account_id"],
            company_name=str(data.get("company_name") or ""),
            user_email=str(data.get("user_email") or ""),
            scopes=frozenset(str(s) for s in scopes),
        )

    async def inventory(self, *, page_size: int = 500) -> AsyncIterator[AtlasInventoryRow | RejectedRow]:
        """Every listed row, ordered by id, fetched one page at a time (streams; never all in memory).
        A row refused for its quantity comes as a RejectedRow in its place."""
        params: dict[str, Any] = {"limit": _check_page_size(page_size)}
        while True:
            rows, cursor = await self._get_page(
                "/api/v1/inventory", "reading the listing", _listing_page, params=params
            )
            for row in rows:
                yield row
            if not cursor:
                return
            _check_advanced(params.get("cursor"), cursor, "listing")
            params = {"limit": page_size, "cursor": cursor}

    async def get_row(self, row_id: str) -> AtlasInventoryRow:
        return parse_row(await self._get(f"/api/v1/inventory/{_path_id(row_id, 'row_id')}", "reading a row"))

    async def changes_page(self, *, since: str | None, limit: int = MAX_PAGE, wait: float = 0) -> ChangeBatch:
        """One request to the change feed. `wait` > 0 long-polls: answered as soon as a change exists."""
        if not 0 <= wait <= MAX_WAIT_S:
            raise ValueError(f"wait must be 0..{MAX_WAIT_S} seconds")
        params: dict[str, Any] = {"limit": _check_page_size(limit)}
        if since is not None:
            params["since"] = since
        extra: dict[str, Any] = {}
        if wait:
            params["wait"] = f"{wait:g}"
            base = self.http.settings
            extra["timeout"] = httpx.Timeout(base.timeout_s + wait, connect=base.connect_timeout_s)
        return await self._get_page(
            "/api/v1/inventory/changes", "reading the change feed", _change_batch, params=params, **extra
        )

    async def changes(self, *, since: str | None, limit: int = MAX_PAGE) -> AsyncIterator[ChangeBatch]:
        """Every change after `since` (None: from the beginning), batch by batch, until caught up.

        Commit each batch's changes and its cursor together before asking for the next batch. The next
        batch is already being read meanwhile (its cursor is in the batch handed out): reading is not
        storing, so a caller that stops or fails before committing loses nothing, and the network wait
        overlaps the caller's work.
        """
        cursor = since
        batch = await self.changes_page(since=cursor, limit=limit)
        ahead: asyncio.Task[ChangeBatch] | None = None
        try:
            while True:
                # A page saying "more" with its own cursor again is refused below, after it is handed out.
                if batch.has_more and batch.cursor != cursor:
                    ahead = asyncio.ensure_future(self.changes_page(since=batch.cursor, limit=limit))
                if batch.changes or batch.rejected or batch.cursor != cursor:
                    yield batch
                if not batch.has_more:
                    return
                _check_advanced(cursor, batch.cursor, "change feed")
                assert ahead is not None  # a page with more and a new cursor started one
                cursor, batch, ahead = batch.cursor, await ahead, None
        finally:
            if ahead is not None:  # the caller stopped (or failed) before asking for it
                ahead.cancel()
                await asyncio.wait([ahead])
                if not ahead.cancelled():
                    ahead.exception()  # read: a failure of a page nobody asked for is not worth a warning

    async def follow_changes(
        self, *, since: str | None, wait: float = 30, limit: int = MAX_PAGE
    ) -> AsyncIterator[ChangeBatch]:
        """Catch up, then long-poll forever (outbound only), reconnecting with backoff after failures.

        Yields only batches with changes. Stop by breaking out or cancelling the task. Auth, permission and
        cursor errors are raised: waiting would not fix them.
        """
        cursor = since
        failures = 0
        more = False
        while True:
            try:
                # After a full page there is more to read at once: no need to wait.
                batch = await self.changes_page(since=cursor, limit=limit, wait=0 if more else wait)
            except (NetworkError, ServerError, RateLimited, InvalidResponse) as exc:
                delay = self._reconnect_delay(failures, exc)
                failures += 1
                log.warning("%s change feed: %s; reconnecting in %.1fs", SYSTEM, redact(exc.message), delay)
                await self._sleep(delay)
                continue
            failures = 0
            more = batch.has_more
            if batch.changes or batch.rejected:
                yield batch
            cursor = batch.cursor

    def _reconnect_delay(self, failures: int, exc: Exception) -> float:
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, RECONNECT_CAP_S)
        return self._rng.uniform(0, min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2**failures))

    async def orders(
        self, *, since: str | None, status: str | None = "confirmed", limit: int | None = None
    ) -> AsyncIterator[OrderBatch]:
        """Orders changed after `since` (None: all), batch by batch; commit each batch's cursor after it."""
        cursor = since
        while True:
            params: dict[str, Any] = {}
            if status:
                params["status"] = status
            if cursor is not None:
                params["since"] = cursor
            if limit is not None:
                params["limit"] = _check_page_size(limit)
            batch = await self._get_page("/api/v1/orders", "reading orders", _order_batch, params=params)
            if batch.orders or batch.cursor != cursor:
                yield batch
            if not batch.has_more:
                return
            _check_advanced(cursor, batch.cursor, "orders feed")
            cursor = batch.cursor

    # ---- writes --------------------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        url: str,
        body: Any,
        doing: str,
        *,
        key: str | None,
        expect: tuple[int, ...] = (200,),
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        content = _encode(body)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            all_headers["Idempotency-Key"] = key
        response = await self.http.request(
            method, url, content=content, headers=all_headers, idempotency_key=key
        )
        check(response, doing, expect=expect)
        return response

    async def adjust(
        self, row_id: str, delta: Decimal, *, key: str, reason: str = "erp_sync"
    ) -> AtlasInventoryRow:
        """Move a row's quantity by `delta` (relative; no If-Match). Safe to retry: keyed."""
        if not isinstance(delta, Decimal) or delta == 0:
            raise ValueError("delta must be a non-zero Decimal")
        require_writable(delta, QUANTITY, item=atlas_ref(row_id), what="The adjustment")
        body = {"delta": decimal_text(delta), "reason": reason, "reference": key}
        url = f"/api/v1/inventory/{_path_id(row_id, 'row_id')}/adjustments"
        response = await self._send("POST", url, body, "adjusting a row", key=_require_key(key))
        return parse_row(json_object(response, "adjusting a row"))

    async def update_row(
        self, row_id: str, changes: Mapping[str, Any], *, version: int, key: str | None = None
    ) -> AtlasInventoryRow:
        """PATCH fields (quantity, lot_number, expiry_date, name, unit, location) if the row is at `version`.

        Raises AtlasVersionConflict (a domain Conflict) carrying the current row when it is not.
        """
        allowed = {"quantity", "lot_number", "expiry_date", "name", "unit", "location"}
        unknown = set(changes) - allowed
        if unknown or not changes:
            raise ValueError(f"update_row takes some of {sorted(allowed)}; not {sorted(unknown)}")
        body = update_body(changes)
        url = f"/api/v1/inventory/{_path_id(row_id, 'row_id')}"
        response = await self._send(
            "PATCH", url, body, "updating a row", key=key, headers={"If-Match": f'"{int(version)}"'}
        )
        return parse_row(json_object(response, "updating a row"))

    async def create_row(self, row: NewInventoryRow, *, key: str, allow_create: bool) -> AtlasInventoryRow:
        """List an ERP item on Atlas. Only when the user enabled creating rows (`allow_create`)."""
        if not allow_create:
            raise ConfigError(
                "create_atlas_rows",
                "creating Atlas listings is turned off for this connection",
                fix="Turn on 'Create Atlas listings for ERP items' in the connection settings to list it.",
            )
        response = await self._send(
            "POST", "/api/v1/inventory", row.to_json(), "creating a row", key=_require_key(key), expect=(201,)
        )
        return parse_row(json_object(response, "creating a row"))

    async def batch(self, operations: list[BatchOp]) -> list[OpResult]:
        """Apply many writes, 500 per request; one result per operation, in order (never raises for one).

        Each operation stands alone (the batch is not all-or-nothing) and carries its own key, so a request
        without an answer is safe to send again: its operations' results are NetworkErrors (in doubt). A
        server without the batch route (404) is remembered, and the writes go one row at a time.
        """
        results: list[OpResult | None] = [None] * len(operations)
        ready: list[tuple[int, BatchOp, dict[str, Any]]] = []
        for index, op in enumerate(operations):
            try:
                _require_key(op.key)
                ready.append((index, op, op_json(op)))
            except (ValueError, TypeError) as refused:
                results[index] = OpResult(
                    op.key, error=ValidationFailed(f"{SYSTEM}: {refused}", system=SYSTEM)
                )
            except ConnectorError as refused:
                results[index] = OpResult(op.key, error=refused)

        async def send(chunk: list[tuple[int, BatchOp, dict[str, Any]]]) -> None:
            sent = [op for _, op, _ in chunk]
            if self.batch_route:
                answered = await self._batch_request(sent, [body for _, _, body in chunk])
            else:
                answered = None
            if answered is None:
                answered = await self._one_by_one(sent)
            for (index, _, _), result in zip(chunk, answered, strict=True):
                results[index] = result

        chunks = [ready[start : start + MAX_OPERATIONS] for start in range(0, len(ready), MAX_OPERATIONS)]
        if _independent(chunks):  # no row in two requests: their order does not matter
            await asyncio.gather(*(send(chunk) for chunk in chunks))
        else:  # one after another: two operations on one row stay in order across requests too
            for chunk in chunks:
                await send(chunk)
        return [result for result in results if result is not None]

    async def _batch_request(
        self, sent: list[BatchOp], bodies: list[dict[str, Any]]
    ) -> list[OpResult] | None:
        """One POST /inventory/batch; None when the server has no such route."""
        try:
            content = _encode({"operations": bodies})
            # Safe to repeat after a lost answer: every operation is keyed (a repeat replays its result).
            response = await self.http.request(
                "POST", "/api/v1/inventory/batch", content=content,
                headers={"Content-Type": "application/json"}, idempotent=True,
            )  # fmt: skip
            if response.status_code == 404:
                log.info("%s has no batch route (HTTP 404): writing one row per request", SYSTEM)
                self.batch_route = False
                return None
            check(response, f"writing {len(sent)} rows in a batch")
            return read_results(json_object(response, "writing rows in a batch"), sent)
        except InvalidResponse as error:
            # Sent, but the answer cannot be read: the operations may have landed. In doubt, resent by key.
            doubt = NetworkError(error.message, system=SYSTEM, in_doubt=True)
            return [OpResult(op.key, error=doubt) for op in sent]
        except ConnectorError as error:
            return [OpResult(op.key, error=error) for op in sent]

    async def _one_by_one(self, sent: list[BatchOp]) -> list[OpResult]:
        """The single-row routes for a server without the batch: one row's writes in order, rows at once."""
        results: dict[int, OpResult] = {}
        rows: dict[object, list[tuple[int, BatchOp]]] = {}
        for index, op in enumerate(sent):
            rows.setdefault(op.row_id if not isinstance(op, CreateOp) else ("new", index), []).append(
                (index, op)
            )

        async def write(ops: list[tuple[int, BatchOp]]) -> None:
            for index, op in ops:
                try:
                    results[index] = OpResult(op.key, row=await self._write_one(op))
                except ConnectorError as error:
                    results[index] = OpResult(op.key, error=error)

        await asyncio.gather(*(write(ops) for ops in rows.values()))
        return [results[index] for index in range(len(sent))]

    async def _write_one(self, op: BatchOp) -> AtlasInventoryRow:
        if isinstance(op, AdjustOp):
            return await self.adjust(op.row_id, op.delta, key=op.key, reason=op.reason)
        if isinstance(op, UpdateOp):
            return await self.update_row(op.row_id, op.changes, version=op.version, key=op.key)
        return await self.create_row(op.row, key=op.key, allow_create=True)

    async def link_order(
        self, order_id: str, *, erp_type: ErpType, document_id: str, document_number: str | None, key: str
    ) -> OrderLink:
        """Record that the order's PO exists in the ERP. Idempotent on the same document id."""
        body = {"erp_type": ErpType(erp_type).value, "erp_document_id": document_id,
                "erp_document_number": document_number}  # fmt: skip
        url = f"/api/v1/orders/{_path_id(order_id, 'order_id')}/erp-link"
        response = await self._send("POST", url, body, "linking an order", key=_require_key(key))
        data = json_object(response, "linking an order")
        return OrderLink(
            order_id=str(data.get("order_id", order_id)),
            erp_type=str(data.get("erp_type", body["erp_type"])),
            erp_document_id=str(data.get("erp_document_id", document_id)),
            erp_document_number=data.get("erp_document_number", document_number),
        )

    async def report_health(
        self, local_connection_id: str, report: HealthReport, *, key: str | None = None
    ) -> None:
        url = f"/api/v1/erp/connections/{_path_id(local_connection_id, 'connection_id')}/health"
        # PUT replaces the whole report: repeating it is harmless, so it is retried like a read.
        content = _encode(_report_json(report))
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        response = await self.http.request("PUT", url, content=content, headers=headers, idempotent=True)
        check(response, "reporting connection health", expect=(204,))

    async def upload_sync_log(self, local_connection_id: str, summary: SyncLogSummary, *, key: str) -> str:
        url = f"/api/v1/erp/connections/{_path_id(local_connection_id, 'connection_id')}/sync-logs"
        response = await self._send(
            "POST", url, _report_json(summary), "uploading a sync log", key=_require_key(key), expect=(201,)
        )
        return str(json_object(response, "uploading a sync log").get("id", ""))

    async def test_connection(self) -> ConnectionReport:
        from atlas_desktop.connectors.atlas.connection_test import run_connection_test

        return await run_connection_test(self)


# ---- page bodies -> results (pure: they may run on a worker thread) -----------------------------------
def _built(response: httpx.Response, doing: str, build: Callable[[dict[str, Any]], T]) -> T:
    return build(json_object(response, doing))


def _listing_page(data: dict[str, Any]) -> tuple[list[AtlasInventoryRow | RejectedRow], str | None]:
    items, cursor = data.get("items"), data.get("next_cursor")
    if not isinstance(items, list) or not (cursor is None or isinstance(cursor, str)):
        raise InvalidResponse(f"{SYSTEM}: the listing page lacks items or next_cursor", system=SYSTEM)
    return [read_row(item, parse_row) for item in items], cursor


def _change_batch(data: dict[str, Any]) -> ChangeBatch:
    changes, cursor, has_more = data.get("changes"), data.get("cursor"), data.get("has_more")
    if not isinstance(changes, list) or not isinstance(cursor, str) or not isinstance(has_more, bool):
        raise InvalidResponse(
            f"{SYSTEM}: the change feed answer lacks changes, cursor or has_more", system=SYSTEM
        )
    rows: list[AtlasInventoryRow] = []
    rejected: list[RejectedRow] = []
    for change in changes:
        row = read_row(change, parse_row)
        if isinstance(row, RejectedRow):
            rejected.append(row)
        else:
            rows.append(row)
    return ChangeBatch(tuple(rows), cursor, has_more, tuple(rejected))


def _order_batch(data: dict[str, Any]) -> OrderBatch:
    orders, cursor, has_more = data.get("orders"), data.get("cursor"), data.get("has_more")
    if not isinstance(orders, list) or not isinstance(cursor, str) or not isinstance(has_more, bool):
        raise InvalidResponse(f"{SYSTEM}: the orders answer lacks orders, cursor or has_more", system=SYSTEM)
    return OrderBatch(tuple(parse_order(o) for o in orders), cursor, has_more)


def _independent(chunks: list[list[tuple[int, BatchOp, dict[str, Any]]]]) -> bool:
    """True when the batch requests of `chunks` may go at once: no row is written by two of them, and
    none creates a row (a new row is only known by what it holds, so two creates could meet)."""
    seen: set[str] = set()
    for chunk in chunks:
        rows: set[str] = set()
        for _, op, _ in chunk:
            if isinstance(op, CreateOp):
                return False
            rows.add(op.row_id)
        if not rows.isdisjoint(seen):
            return False
        seen |= rows
    return True


def _check_advanced(previous: str | None, cursor: str, feed: str) -> None:
    """A page that says "more" must move the cursor on, or reading it would never end."""
    if cursor == previous:
        raise InvalidResponse(
            f"{SYSTEM}: the {feed} said there is more to read but gave the same cursor again",
            system=SYSTEM,
        )


def _require_key(key: str) -> str:
    if (
        not isinstance(key, str)
        or not key
        or len(key) > 255
        or not key.isascii()
        or not key.isprintable()
        or " " in key
    ):
        raise ValueError("an idempotency key is 1-255 visible ASCII characters")
    return key


def _encode(body: Any) -> bytes:
    import json

    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if len(content) > MAX_BODY_BYTES:
        raise ValidationFailed(
            f"{SYSTEM}: the request body is {len(content)} bytes; Atlas takes at most {MAX_BODY_BYTES}",
            fix="Send fewer items per request.",
            system=SYSTEM,
        )
    return content
