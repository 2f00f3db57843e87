"""Production-like server time for the emulators: an ASGI middleware sleeping what the real API would spend.

The emulators answer at once by default (`instant`), so tests stay fast; `realistic` makes benchmarks see the
orders of magnitude the references give (never exact figures):

- NetSuite: a SuiteQL page of 1,000 rows ≈ 1–3 s; a record create ≈ 0.5–1.5 s
  plus ≈ 10–20 ms per transaction line.
- SAP: an OData page read ≈ 0.3–1 s; a material document post ≈ 0.3–1 s plus
  ≈ 20–50 ms per item; a CSRF token fetch ≈ 0.1 s. Gateway runs a `$batch`'s operations one after another,
  so a batch costs the sum of its operations.
- Atlas (the contract's "Limits"): ≈ 30 ms per request plus 0.2 ms per row read or written.

The middleware sits inside the emulator's `FaultMiddleware` (`install_server_time`), so a request holds its
concurrency slot while the server "works", as on the real systems: with NetSuite's 5 slots and ≈ 1 s per
record, a client cannot post more than ~5 records a second however it tries. What a request does is read
from its body (lines of a transaction sublist, items of a material document, operations of a `$batch` or an
Atlas batch); rows returned are counted in the JSON answer. The write part is slept before the app runs
(the record is committed as the answer leaves), the per-row part after it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.sandbox.faults import ASGIApp, FaultMiddleware, Message, Receive, Scope, Send

SERVER_TIME_MODES: tuple[str, ...] = ("instant", "realistic")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Work:
    """What one request asks of the server, in the units a profile prices."""

    reads: int = 0  # requests (or $batch operations) that write nothing
    writes: int = 0  # records / documents / batch operations written
    lines: int = 0  # lines, items or rows written
    light: int = 0  # requests that only hand out a token (SAP's CSRF fetch)


@dataclass(frozen=True)
class ServerTimeProfile:
    """Seconds per unit of work for one service (midpoints of the ranges above)."""

    read_s: float
    write_s: float
    line_s: float
    row_s: float  # per row returned
    light_s: float
    work: Callable[[str, str, dict[str, str], bytes], Work]

    def before(self, work: Work) -> float:
        return (
            work.reads * self.read_s + work.writes * self.write_s + work.lines * self.line_s
            + work.light * self.light_s
        )  # fmt: skip


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None


def _sublist_lines(record: Any) -> int:
    """Lines of every sublist a NetSuite record body carries ({"inventory": {"items": [...]}, ...})."""
    if not isinstance(record, dict):
        return 0
    return sum(
        len(value["items"])
        for value in record.values()
        if isinstance(value, dict) and isinstance(value.get("items"), list)
    )


def netsuite_work(method: str, path: str, headers: dict[str, str], body: bytes) -> Work:
    if method != "GET" and "/record/v1/" in path:
        return Work(writes=1, lines=_sublist_lines(_json(body)))
    return Work(reads=1)


def _document_items(document: Any) -> int:
    if isinstance(document, dict) and isinstance(document.get("d"), dict):  # the verbose v2 wrapper
        document = document["d"]
    if not isinstance(document, dict):
        return 0
    items = document.get("to_MaterialDocumentItem")
    if isinstance(items, dict):
        items = items.get("results")
    return len(items) if isinstance(items, list) else 0


# A request line inside a $batch part: "POST A_MaterialDocumentHeader HTTP/1.1"
_BATCH_REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|MERGE|DELETE) \S+ HTTP/1\.1\s*$", re.M)


def _batch_work(body: bytes) -> Work:
    text = body.decode("utf-8", "replace")
    matches = list(_BATCH_REQUEST.finditer(text))
    reads = writes = lines = 0
    for index, match in enumerate(matches):
        if match.group(1) == "GET":
            reads += 1
            continue
        writes += 1
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        segment = text[match.end() : end]
        start, stop = segment.find("{"), segment.rfind("}")
        if start >= 0 and stop > start:
            lines += _document_items(_json(segment[start : stop + 1].encode()))
    return Work(reads=reads, writes=writes, lines=lines)


def sap_work(method: str, path: str, headers: dict[str, str], body: bytes) -> Work:
    if path.endswith("/$batch"):
        return _batch_work(body)
    if headers.get("x-csrf-token", "").lower() == "fetch":
        return Work(light=1)
    if method == "GET":
        return Work(reads=1)
    return Work(writes=1, lines=_document_items(_json(body)))


def atlas_work(method: str, path: str, headers: dict[str, str], body: bytes) -> Work:
    if method == "GET":
        return Work(reads=1)
    document = _json(body)
    operations = document.get("operations") if isinstance(document, dict) else None
    if isinstance(operations, list):
        return Work(writes=1, lines=len(operations))
    return Work(writes=1, lines=1)


PROFILES: dict[str, ServerTimeProfile] = {
    # 0.5 s + 1.5 ms/row: 2 s for a 1,000-row SuiteQL page; a record 1 s + 15 ms per line
    "netsuite": ServerTimeProfile(
        read_s=0.5, write_s=1.0, line_s=0.015, row_s=0.0015, light_s=0.5, work=netsuite_work
    ),
    # 0.3 s + 0.1 ms/row: 0.4 s for 1,000 rows, 0.8 s for 5,000; a document 0.6 s + 35 ms per item
    "sap": ServerTimeProfile(read_s=0.3, write_s=0.6, line_s=0.035, row_s=0.0001, light_s=0.1, work=sap_work),
    "atlas": ServerTimeProfile(
        read_s=0.030, write_s=0.030, line_s=0.0002, row_s=0.0002, light_s=0.030, work=atlas_work
    ),
}


def rows_returned(body: bytes) -> int:
    """Rows in a JSON answer: NetSuite/Atlas `items` or `changes`, OData v2 `d.results`; one entity is 1."""
    document = _json(body)
    if not isinstance(document, dict):
        return 0
    inner = document.get("d", document)
    if isinstance(inner, dict):
        for key in ("results", "items", "changes"):
            if isinstance(inner.get(key), list):
                return len(inner[key])
    return 1


class ServerTimeMiddleware:
    """Sleeps a service's server time around each HTTP request (never blocking the loop)."""

    def __init__(self, app: ASGIApp, profile: ServerTimeProfile, *, sleep: Sleep = asyncio.sleep) -> None:
        self.app = app
        self.profile = profile
        self.sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, replay = await _buffered(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        work = self.profile.work(scope["method"], scope["path"], headers, body)
        before = self.profile.before(work)
        if before > 0:
            await self.sleep(before)
        answer: list[Message] = []

        async def hold(message: Message) -> None:
            answer.append(message)

        await self.app(scope, replay, hold)
        if self.profile.row_s > 0:
            payload = b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body")
            after = rows_returned(payload) * self.profile.row_s
            if after > 0:
                await self.sleep(after)
        for message in answer:
            await send(message)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the request body once; hand the app a receive that replays it, then the real channel."""
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.extend(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = bytes(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _fault_layer(app: Any) -> FaultMiddleware | None:
    """The emulator's FaultMiddleware, found through wrappers that keep the wrapped app as `.app`."""
    for _ in range(8):
        if isinstance(app, FaultMiddleware):
            return app
        app = vars(app).get("app") if hasattr(app, "__dict__") else None
        if app is None:
            return None
    return None


def check_mode(mode: str) -> str:
    if mode not in SERVER_TIME_MODES:
        raise ConfigError("server_time", f"{mode!r} is not one of {', '.join(SERVER_TIME_MODES)}")
    return mode


def install_server_time(emulator: Any, service: str, mode: str, *, sleep: Sleep = asyncio.sleep) -> None:
    """Give `emulator` the server time of `service` ("netsuite", "sap", "atlas") unless `mode` is instant.

    Installed inside the emulator's FaultMiddleware (the concurrency slot is held while sleeping); an
    emulator without one gets it as its outermost layer.
    """
    if check_mode(mode) == "instant":
        return
    profile = PROFILES[service]
    faults = _fault_layer(emulator.app)
    if faults is not None:
        faults.app = ServerTimeMiddleware(faults.app, profile, sleep=sleep)
    else:
        emulator.app = ServerTimeMiddleware(emulator.app, profile, sleep=sleep)
