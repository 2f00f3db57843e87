"""Many collection reads of one service in one OData `$batch` (reference §8): a request, not one per query.

Each query is a retrieval: a GET part outside any change set. Its answer is a page like any other, so
it pages like one: its own `__next` is followed, and a `__count` above the rows read asks for the next
window; the retrievals that need more go together in the next `$batch`, until each has all its rows. A
failed retrieval fails the read with its own query named. `$batch` is a POST: it carries the CSRF token
(§6), so a read of one or two queries without a token at hand is cheaper as plain GETs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx

from atlas_desktop.connectors.offload import OFF_LOOP_BYTES, off_loop
from atlas_desktop.connectors.sap.batch import PartResponse, decode_batch, encode_reads
from atlas_desktop.connectors.sap.csrf import CsrfGuard
from atlas_desktop.connectors.sap.errors import raise_for_sap
from atlas_desktop.connectors.sap.odata import invalid, read_page, resolve_next
from atlas_desktop.connectors.sap.paging import Pager, Query, Rows

# No documented cap on a $batch's operations (reference §13), but Gateway runs them one after another
# within one ICM request timeout: a few dozen page reads at most.
READS_PER_BATCH = 20


@dataclass
class _Retrieval:
    query: Query
    target: str | None  # its next request, relative to the service root; None once read to the end
    rows: Rows = field(default_factory=list)
    total: int | None = None  # the __count of its first page


class BatchReader:
    """Reads several `Query`s of one service, many to a `$batch` request."""

    def __init__(self, pager: Pager, csrf: CsrfGuard, *, per_batch: int = READS_PER_BATCH) -> None:
        self._pager = pager
        self._csrf = csrf
        self._per_batch = max(1, per_batch)

    async def all(self, service_root: str, queries: Sequence[Query]) -> list[Rows]:
        """The rows of each query (a path under `service_root`), in the order of `queries`."""
        if len(queries) <= (1 if self._csrf.holds(service_root) else 2):
            return list(await asyncio.gather(*(self._pager.all(query) for query in queries)))
        size = self._pager.page_size
        for query in queries:
            if query.path.rpartition("/")[0] != service_root.rstrip("/"):
                raise ValueError(f"{query.path} is not an entity set of {service_root}")
        retrievals = [_Retrieval(q, _target(q.path, q.params(size, 0, count=True))) for q in queries]
        limit = asyncio.Semaphore(self._pager.concurrency)

        async def send(group: list[_Retrieval]) -> None:
            async with limit:
                await self._round(service_root, group)

        while pending := [r for r in retrievals if r.target is not None]:
            per = self._per_batch
            await asyncio.gather(*(send(pending[i : i + per]) for i in range(0, len(pending), per)))
        return [r.rows for r in retrievals]

    async def _round(self, service_root: str, group: list[_Retrieval]) -> None:
        targets = [r.target for r in group if r.target is not None]
        content_type, body = encode_reads(targets)
        what = f"{group[0].query.context} ({len(group)} reads in one $batch)"
        response = await self._csrf.send(
            "POST",
            f"{service_root}/$batch",
            service_root=service_root,
            content=body,
            headers={"Content-Type": content_type},
            idempotent=True,  # nothing but reads: safe to repeat
        )
        await response.aread()
        raise_for_sap(response, context=what)
        try:
            answers = decode_batch(response)
        except ValueError as exc:
            raise invalid(
                f"{what}: cannot read the $batch answer ({exc})", status=response.status_code
            ) from None
        if len(answers) != len(group) or any(len(answer) != 1 for answer in answers):
            raise invalid(f"{what}: the $batch answer holds {len(answers)} parts for {len(group)} reads")
        batch_url = response.request.url
        for number, (retrieval, (answer,)) in enumerate(zip(group, answers, strict=True), start=1):
            context = f"{retrieval.query.context} (read {number} of {len(group)} in a $batch)"
            await self._take(retrieval, answer, batch_url, context)

    async def _take(
        self, retrieval: _Retrieval, answer: PartResponse, batch_url: httpx.URL, context: str
    ) -> None:
        """Add a retrieval's page to its rows and set what it asks next."""
        assert retrieval.target is not None
        url = batch_url.join(retrieval.target)
        response = httpx.Response(
            answer.status,
            headers=dict(answer.headers),
            content=answer.body,
            request=httpx.Request("GET", url),
        )
        raise_for_sap(response, context=context)
        page = await off_loop(len(answer.body), OFF_LOOP_BYTES, read_page, response)
        retrieval.rows.extend(page.rows)
        retrieval.target = None
        if page.count is not None:
            retrieval.total = page.count
        if not page.rows:
            return
        if page.next_url:
            following = resolve_next(url, page.next_url)
            root = batch_url.path.rpartition("/")[0] + "/"
            if following.path.startswith(root):
                retrieval.target = following.raw_path.decode("ascii")[len(root) :]
            else:  # a link the service root cannot address: followed on its own
                retrieval.rows.extend(await self._pager.follow(str(following), retrieval.query.context))
            return
        if retrieval.total is not None and len(retrieval.rows) < retrieval.total:
            query, size = retrieval.query, self._pager.page_size
            retrieval.target = _target(query.path, query.params(size, len(retrieval.rows), count=False))


def _target(path: str, params: dict[str, str]) -> str:
    """The entity set and query of `path`, as a $batch part names it (relative to the service root)."""
    return f"{path.rpartition('/')[2]}?{urlencode(params)}"
