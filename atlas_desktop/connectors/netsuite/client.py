"""SuiteTalk REST calls: record reads and writes, SuiteQL paging (concurrent, sliced past 100,000 rows)."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from atlas_desktop.connectors.http import HttpClient, Sleep
from atlas_desktop.connectors.netsuite.capacity import (
    CAPACITY_RETRIES,
    CAPACITY_WINDOW_S,
    SLOW_LOGIN_S,
    capacity_backoff,
    capacity_refusal,
    credentials_refused,
)
from atlas_desktop.connectors.netsuite.errors import map_error, unreadable_success
from atlas_desktop.connectors.offload import OFF_LOOP_BYTES, loads_json, off_loop
from atlas_desktop.domain.errors import AuthFailed, InvalidResponse

log = logging.getLogger(__name__)

RECORD_PATH = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
PAGE_SIZE = 1000  # NetSuite's maximum page
MAX_ROWS_PER_QUERY = 100_000  # SuiteQL's cap per query without SuiteAnalytics Connect

Row = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Row]
    has_more: bool
    total: int | None
    offset: int


def folded_keys(row: Row) -> Row:
    """A SuiteQL row keyed in lower case: Oracle says column casing "may not always be consistent and can
    change", so every reader looks columns up by their lower-case name."""
    if all(key.islower() for key in row):
        return row  # the usual answer: nothing to copy
    return {key.lower(): value for key, value in row.items()}


def folded_rows(items: list[Any]) -> list[Row]:
    """`folded_keys` of a page's rows (non-objects dropped). A page's rows mostly share one set of column
    names: each distinct set is checked once, not every row's keys."""
    rows: list[Row] = []
    lower: set[tuple[str, ...]] = set()  # column sets already seen all in lower case
    for row in items:
        if not isinstance(row, dict):
            continue
        columns = tuple(row)
        if columns in lower:
            rows.append(row)
            continue
        folded = folded_keys(row)
        if folded is row:
            lower.add(columns)
        rows.append(folded)
    return rows


def record_url(record_type: str, record_id: str | None = None) -> str:
    if record_id is None:
        return f"{RECORD_PATH}/{record_type}"
    return f"{RECORD_PATH}/{record_type}/{quote(record_id, safe=':')}"


def eid(external_id: str) -> str:
    """The `eid:<externalId>` path form (percent-encoded: keys may hold characters a path cannot)."""
    return "eid:" + quote(external_id, safe="")


def id_from_location(response: httpx.Response) -> str | None:
    location = response.headers.get("Location")
    if not location:
        return None
    last = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return last or None


class NetSuiteClient:
    """One account's REST API. Every method raises the taxonomy (errors.map_error) on a non-2xx answer."""

    def __init__(
        self,
        http: HttpClient,
        *,
        page_size: int = PAGE_SIZE,
        max_rows_per_query: int = MAX_ROWS_PER_QUERY,
        concurrency: int = 5,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.page_size = max(1, min(page_size, PAGE_SIZE))
        # Keep slices a whole number of pages so every offset stays a multiple of the limit.
        self.max_rows = max(self.page_size, max_rows_per_query - max_rows_per_query % self.page_size)
        self.concurrency = max(1, concurrency)
        self.last_server_time: datetime | None = None
        # A slow 401 right after good calls is the account being busy (capacity.py): how slow, how
        # recent the good call, how many retries before saying so.
        self.slow_login_s = SLOW_LOGIN_S
        self.capacity_window_s = CAPACITY_WINDOW_S
        self.capacity_retries = CAPACITY_RETRIES
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = random.Random()
        self._last_good: float | None = None  # when a call last succeeded in this session

    # ---- plumbing -------------------------------------------------------------------------------

    async def send(self, method: str, url: str, *, action: str, **kwargs: Any) -> httpx.Response:
        retries = 0
        while True:
            started = self._monotonic()
            response = await self.http.request(method, url, **kwargs)
            waited = self._monotonic() - started
            self._note_server_time(response)
            if response.status_code < 400:
                self._last_good = self._monotonic()
                return response
            await response.aread()
            error = map_error(response, action)
            if not isinstance(error, AuthFailed) or response.status_code != 401:
                raise error
            since_good = None if self._last_good is None else started - self._last_good
            slow = waited >= self.slow_login_s
            if not slow or since_good is None or since_good > self.capacity_window_s:
                raise credentials_refused(
                    error, waited=waited, slow=slow, worked_before=since_good is not None
                )
            if retries >= self.capacity_retries:
                raise capacity_refusal(error, waited=waited, attempts=retries + 1, since_good_s=since_good)
            # NetSuite refused it at the door, so nothing was processed: even a POST may go again.
            delay = capacity_backoff(retries, self._rng)
            log.warning(
                "NetSuite answered 401 after %.1fs right after good calls: the account looks busy; "
                "trying again in %.1fs (%d of %d)",
                waited,
                delay,
                retries + 1,
                self.capacity_retries,
            )
            await self._sleep(delay)
            retries += 1

    def _note_server_time(self, response: httpx.Response) -> None:
        value = response.headers.get("Date")
        if not value:
            return
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return
        self.last_server_time = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    @staticmethod
    def json_of(response: httpx.Response, action: str) -> Row:
        try:
            payload = loads_json(response.content)
        except (ValueError, UnicodeDecodeError):
            raise unreadable_success(response, action) from None
        if not isinstance(payload, dict):
            raise unreadable_success(response, action)
        return payload

    # ---- records --------------------------------------------------------------------------------

    async def get_record(
        self, record_type: str, record_id: str, *, action: str, params: dict[str, str] | None = None
    ) -> Row:
        response = await self.send("GET", record_url(record_type, record_id), action=action, params=params)
        return self.json_of(response, action)

    async def list_records(self, record_type: str, *, action: str, limit: int = 1) -> Row:
        response = await self.send(
            "GET", record_url(record_type), action=action, params={"limit": str(limit), "offset": "0"}
        )
        return self.json_of(response, action)

    async def create_record(self, record_type: str, body: Row, *, action: str) -> str | None:
        """POST; answers the new internal id from `Location` (204). Never retried blindly."""
        response = await self.send("POST", record_url(record_type), action=action, json=body)
        return id_from_location(response)

    async def upsert_record(
        self, record_type: str, external_id: str, body: Row, *, action: str
    ) -> str | None:
        response = await self.send("PUT", record_url(record_type, eid(external_id)), action=action, json=body)
        return id_from_location(response)

    # ---- SuiteQL ----------------------------------------------------------------------------------

    async def suiteql_page(self, query: str, *, offset: int = 0, limit: int | None = None) -> Page:
        limit = limit or self.page_size
        action = "run a SuiteQL query"
        response = await self.send(
            "POST",
            SUITEQL_PATH,
            action=action,
            params={"limit": str(limit), "offset": str(offset)},
            json={"q": query},
            headers={"Prefer": "transient"},
            idempotent=True,  # a query changes nothing, so the HTTP layer may repeat it
        )
        # A 1,000-row page takes milliseconds to decode: on a worker thread, not the app's event loop.
        return await off_loop(len(response.content), OFF_LOOP_BYTES, self._page_of, response, action, offset)

    @classmethod
    def _page_of(cls, response: httpx.Response, action: str, offset: int) -> Page:
        payload = cls.json_of(response, action)
        items = payload.get("items")
        if not isinstance(items, list):
            raise InvalidResponse(
                "NetSuite answered a SuiteQL query without an 'items' list.",
                system="NetSuite",
                status=response.status_code,
            )
        total = payload.get("totalResults")
        return Page(
            items=folded_rows(items),
            has_more=bool(payload.get("hasMore")),
            total=int(total) if isinstance(total, int | str) and str(total).isdecimal() else None,
            offset=offset,
        )

    async def suiteql_one_query(self, query: str) -> AsyncIterator[Page]:
        """The pages of one query, in order, at most `max_rows` rows.

        Once the first page tells the total, the remaining pages are fetched `concurrency` at a time
        (a sliding window, so memory holds at most that many pages) and handed out in order.
        """
        first = await self.suiteql_page(query, offset=0)
        yield first
        if not first.has_more:
            return
        fetched = len(first.items)
        if first.total is not None:
            planned = min(first.total, self.max_rows)
            offsets = list(
                range(self.page_size, math.ceil(planned / self.page_size) * self.page_size, self.page_size)
            )
            last: Page | None = None
            async for page in self._pages_concurrently(query, offsets):
                fetched += len(page.items)
                last = page
                yield page
            if last is None or not last.has_more:
                return
            offset = last.offset + self.page_size
        else:
            offset = self.page_size
        # Total unknown or grown meanwhile: carry on one page at a time while NetSuite says there is more.
        while offset < self.max_rows:
            page = await self.suiteql_page(query, offset=offset)
            yield page
            if not page.has_more or not page.items:
                return
            offset += self.page_size

    async def _pages_concurrently(self, query: str, offsets: list[int]) -> AsyncIterator[Page]:
        pending: list[asyncio.Task[Page]] = []
        queue = iter(offsets)
        try:
            for offset in queue:
                pending.append(asyncio.create_task(self.suiteql_page(query, offset=offset)))
                if len(pending) >= self.concurrency:
                    break
            while pending:
                page = await pending.pop(0)
                next_offset = next(queue, None)
                if next_offset is not None:
                    pending.append(asyncio.create_task(self.suiteql_page(query, offset=next_offset)))
                yield page
        finally:
            for task in pending:
                task.cancel()
            for task in pending:
                try:
                    await task
                except BaseException:  # noqa: BLE001 - already failing or abandoned; the first error wins
                    pass

    async def suiteql_rows(
        self,
        build: Callable[[str | None], str],
        slice_key: Callable[[Row], str],
        order_key: Callable[[Row], tuple[Any, ...]],
    ) -> AsyncIterator[Row]:
        """Every row of a query of any size, by keyset slices of at most `max_rows`.

        `build(after)` returns the query text, restricted to `slice column >= after` when `after` is
        given, with a unique ORDER BY whose first column is the slice column. A slice restarts at the
        last slice value seen (inclusive, so a value's rows are never split) and skips rows already
        handed out; `order_key` gives each row's position in the ORDER BY.
        """
        async for rows in self.suiteql_row_pages(build, slice_key, order_key):
            for row in rows:
                yield row

    async def suiteql_row_pages(
        self,
        build: Callable[[str | None], str],
        slice_key: Callable[[Row], str],
        order_key: Callable[[Row], tuple[Any, ...]],
    ) -> AsyncIterator[list[Row]]:
        """The rows of `suiteql_rows`, a page at a time (so a caller can map a whole page at once)."""
        after: str | None = None
        last: tuple[Any, ...] | None = None
        while True:
            rows_in_slice = 0
            capped = False
            last_row: Row | None = None
            async for page in self.suiteql_one_query(build(after)):
                rows_in_slice += len(page.items)
                fresh: list[Row] = []
                for row in page.items:
                    try:
                        position = order_key(row)
                    except (KeyError, TypeError, ValueError, OverflowError):  # Overflow: an Infinity id
                        raise InvalidResponse(
                            "NetSuite sent a SuiteQL row without its key columns.", system="NetSuite"
                        ) from None
                    last_row = row
                    if last is not None and position <= last:
                        continue
                    last = position
                    fresh.append(row)
                if fresh:
                    yield fresh
                capped = rows_in_slice >= self.max_rows and (
                    page.has_more or page.total is None or page.total > rows_in_slice
                )
            if not capped or last_row is None:
                return
            next_after = slice_key(last_row)
            if next_after == after:
                raise InvalidResponse(
                    f"A single key ({after}) has more than {self.max_rows} rows in one SuiteQL query; "
                    "Atlas Desktop cannot page past it.",
                    system="NetSuite",
                )
            after = next_after
