"""Reading an OData collection fast and completely: $top/$skip windows in parallel, __next always followed.

Rule: send `$top` <= 5000, loop with `$skip`, and follow `__next` whenever it
is present. The first page asks for `$inlinecount=allpages`; with the total known the remaining windows
are fetched concurrently (bounded; sent before the first page is handed out, so they travel while the
reader stores it) and yielded in order. A server that caps pages below our `$top`
answers the first page short with a `__next`: the window size then drops to that cap so later windows
need no `__next` at all; any window that still gets one follows it, within the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from atlas_desktop.connectors.http import HttpClient
from atlas_desktop.connectors.offload import OFF_LOOP_BYTES, off_loop
from atlas_desktop.connectors.sap.errors import raise_for_sap
from atlas_desktop.connectors.sap.odata import Page, read_page, resolve_next

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Query:
    """One collection read: path relative to the base URL and the system query options."""

    path: str
    filter: str | None = None
    select: str | None = None
    orderby: str | None = None
    expand: str | None = None
    context: str = ""

    def params(self, top: int, skip: int, *, count: bool) -> dict[str, str]:
        params = {"$format": "json", "$top": str(top), "$skip": str(skip)}
        for name, value in (
            ("$filter", self.filter),
            ("$select", self.select),
            ("$orderby", self.orderby),
            ("$expand", self.expand),
        ):
            if value:
                params[name] = value
        if count:
            params["$inlinecount"] = "allpages"
        return params


class Pager:
    """Streams the rows of `Query`s page by page, in server order."""

    def __init__(self, http: HttpClient, *, page_size: int, concurrency: int) -> None:
        self._http = http
        self.page_size = page_size
        self.concurrency = max(1, concurrency)
        self.next_links_followed = 0

    async def _fetch(
        self, url: str | httpx.URL, params: Mapping[str, str] | None, context: str
    ) -> httpx.Response:
        """One page's answer, read and checked but not decoded."""
        response = await self._http.request("GET", str(url), params=params)
        await response.aread()
        raise_for_sap(response, context=context)
        return response

    async def _decode(self, response: httpx.Response) -> Page:
        # Up to 5,000 rows (megabytes): decoded on a worker thread, not on the app's event loop.
        page = await off_loop(len(response.content), OFF_LOOP_BYTES, read_page, response)
        if page.next_url:
            # Resolve now, against the URL actually requested, so a relative __next works too.
            page = Page(page.rows, page.count, str(resolve_next(response.request.url, page.next_url)))
        return page

    async def _get(self, url: str | httpx.URL, params: Mapping[str, str] | None, context: str) -> Page:
        return await self._decode(await self._fetch(url, params, context))

    async def _window(self, query: Query, skip: int, size: int) -> tuple[Rows, bool]:
        """Rows [skip, skip+size), following __next inside the window. Returns (rows, more_beyond)."""
        return await self._complete(query, await self._fetch_window(query, skip, size), size)

    async def _fetch_window(self, query: Query, skip: int, size: int) -> httpx.Response:
        return await self._fetch(query.path, query.params(size, skip, count=False), query.context)

    async def _complete(self, query: Query, response: httpx.Response, size: int) -> tuple[Rows, bool]:
        """The window's rows from its first answer, following __next inside the window."""
        page = await self._decode(response)
        del response
        rows = list(page.rows)
        while page.next_url and len(rows) < size and page.rows:
            self.next_links_followed += 1
            page = await self._get(page.next_url, None, query.context)
            rows.extend(page.rows)
        return rows[:size], bool(page.next_url) or len(rows) > size

    async def pages(self, query: Query) -> AsyncIterator[Rows]:
        size = self.page_size
        first = await self._get(query.path, query.params(size, 0, count=True), query.context)
        if not first.rows:
            return
        skip = len(first.rows)
        if first.next_url and len(first.rows) < size:
            size = len(first.rows)  # the server's own cap (100 without $top, 5000 above)
        if first.count is None:
            yield first.rows
            if not first.next_url and len(first.rows) < self.page_size:
                return
        else:
            more, count = False, first.count
            skips = iter(range(skip, count, size))
            # The windows after the first go out now, while the caller takes the first page's rows.
            pending = self._start(query, skips, size)
            try:
                rows = first.rows
                del first  # the caller is the only one to keep the first page, as long as it needs it
                yield rows
                del rows
                windows = self._parallel(query, skips, size, pending)
                async with contextlib.aclosing(windows):
                    async for rows, window_more in windows:
                        if not rows:
                            # Fewer rows than __count said (deleted meanwhile, or a wrong count): stop here
                            # rather than ask for every window up to a total that is not there.
                            more = False
                            break
                        skip += len(rows)
                        more = window_more
                        yield rows
            finally:
                await _cancel(pending)
            # Trust the total; only a last window that still points further on is followed.
            if not more:
                return
            skip = max(skip, count)
        # Total unknown (or the collection grew while we read): windows one after another until short.
        while True:
            rows, more = await self._window(query, skip, size)
            if rows:
                yield rows
            if not rows or (len(rows) < size and not more):
                return
            skip += len(rows)

    def _start(self, query: Query, skips: Iterator[int], size: int) -> list[asyncio.Task[httpx.Response]]:
        """The first `concurrency` windows of `skips`, sent (taken from `skips`)."""
        return [
            asyncio.create_task(self._fetch_window(query, skip, size))
            for skip in itertools.islice(skips, self.concurrency)
        ]

    async def _parallel(
        self, query: Query, skips: Iterator[int], size: int, pending: list[asyncio.Task[httpx.Response]]
    ) -> AsyncGenerator[tuple[Rows, bool], None]:
        """Yield the windows in order: those `pending` (sent), then `skips`, at most `concurrency` ahead.

        The windows ahead wait as the bytes they arrived in; each is decoded only when its turn comes,
        so one decoded page is alive at a time (a decoded page takes about three times its bytes)."""
        try:
            while pending:
                response = await pending.pop(0)
                nxt = next(skips, None)
                if nxt is not None:
                    pending.append(asyncio.create_task(self._fetch_window(query, nxt, size)))
                window = await self._complete(query, response, size)
                del response
                yield window
        finally:
            await _cancel(pending)

    async def follow(self, next_url: str, context: str) -> Rows:
        """The rows behind a `__next` link and behind each link after it."""
        rows: Rows = []
        url: str | None = next_url
        while url:
            self.next_links_followed += 1
            page = await self._get(url, None, context)
            rows.extend(page.rows)
            url = page.next_url if page.rows else None
        return rows

    async def rows(self, query: Query) -> AsyncIterator[dict[str, Any]]:
        async for page in self.pages(query):
            for row in page:
                yield row

    async def all(self, query: Query) -> Rows:
        return [row async for row in self.rows(query)]


async def _cancel(tasks: list[asyncio.Task[httpx.Response]]) -> None:
    """Stop the windows still on their way (the reader stopped early, or one failed)."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
    tasks.clear()
