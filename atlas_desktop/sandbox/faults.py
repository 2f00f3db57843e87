"""Fault injection and request counting for any emulator: a pure ASGI middleware with a control endpoint.

Each emulator wraps its own app::

    app = FaultMiddleware(inner, faults, rate_limited=my_429, server_error=my_5xx)

so that a concurrency rejection or an injected 5xx is answered in that system's own shape.

Per request, in order: control routes (`/_sandbox/faults`, `/_sandbox/stats`, never counted or faulted) ->
count -> concurrency slot (over the limit: the emulator's 429 at once, or with `over_limit="slow_refusal"`
its slow refusal after `over_limit_delay_s`, holding no slot meanwhile: NetSuite has answered over-limit
requests with "Invalid login attempt" after ~60 s) -> `latency_ms` while
holding the slot -> the first rule that matches and fires. The slot is freed as the last body chunk of the
answer is sent (as a real server stops counting a request once it has answered), or when the request ends
without one.
Rule kinds:

    status       answer `status` without calling the app (429 -> rate_limited(), else server_error(status))
    drop_before  cut the connection; the app never sees the request
    drop_after   the app handles the request (its state changes) and then the response is lost
    delay        the app answers, the response leaves `delay_s` later

A dropped connection is a response started with a Content-Length larger than what is sent, then
`ConnectionDropped` raised: uvicorn closes the socket (the client sees a truncated response,
`httpx.RemoteProtocolError`), and `httpx.ASGITransport` (raise_app_exceptions=True, its default) re-raises
it, which is itself an `httpx.RemoteProtocolError`, i.e. a transport error to the client code.

Control endpoint (JSON): `GET /_sandbox/faults`, `PUT` (set the fields given), `DELETE` (back to the
config the middleware started with), `POST /_sandbox/faults/rules` (append one rule);
`GET /_sandbox/stats[?method=GET&prefix=/api]` (with a filter, `matched` counts those requests),
`DELETE /_sandbox/stats` (zero the counters).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qs

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
ErrorResponse = tuple[int, dict[str, str], bytes]

FAULT_KINDS: tuple[str, ...] = ("status", "drop_before", "drop_after", "delay")
OVER_LIMIT_MODES: tuple[str, ...] = ("reject", "slow_refusal")
CONTROL_PREFIX = "/_sandbox/"
_FAULTS_PATH = "/_sandbox/faults"
_RULES_PATH = "/_sandbox/faults/rules"
_STATS_PATH = "/_sandbox/stats"


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the middleware to cut a connection on purpose (a simulated network fault)."""


class _DropFilter(logging.Filter):
    """Keeps uvicorn from logging a traceback for every connection we drop on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


_DROP_FILTER = _DropFilter()


def quiet_dropped_connections() -> None:
    """Install the filter on uvicorn's error logger (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if _DROP_FILTER not in logger.filters:
        logger.addFilter(_DROP_FILTER)


class FaultConfigError(ValueError):
    """A fault rule or config the control endpoint cannot accept; the message names the field."""


@dataclass
class FaultRule:
    kind: str
    path: str = ".*"  # regex, searched in the request path
    method: str | None = None  # None = any
    status: int = 503
    delay_s: float = 0.0
    times: int | None = None  # None = unlimited; counts down on every hit
    probability: float = 1.0
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultConfigError(f"kind: {self.kind!r} is not one of {', '.join(FAULT_KINDS)}")
        try:
            self._pattern = re.compile(self.path)
        except re.error as exc:
            raise FaultConfigError(f"path: not a valid regular expression ({exc})") from None
        if self.method is not None:
            self.method = self.method.upper()
        if not 100 <= int(self.status) <= 599:
            raise FaultConfigError(f"status: {self.status} is not an HTTP status")
        if self.delay_s < 0:
            raise FaultConfigError("delay_s: must not be negative")
        if self.times is not None and self.times < 0:
            raise FaultConfigError("times: must be None or >= 0")
        if not 0.0 <= self.probability <= 1.0:
            raise FaultConfigError("probability: must be between 0 and 1")

    def matches(self, method: str, path: str) -> bool:
        if self.times == 0:
            return False
        if self.method is not None and self.method != method:
            return False
        return self._pattern.search(path) is not None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        if not isinstance(data, dict) or "kind" not in data:
            raise FaultConfigError("rules: each rule must be an object with a 'kind'")
        known = {f.name for f in fields(cls) if not f.name.startswith("_")}
        unknown = set(data) - known
        if unknown:
            raise FaultConfigError(f"rules: unknown field(s) {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass
class FaultConfig:
    """Mutable on purpose: the emulator, the tests and the control endpoint share one instance."""

    latency_ms: float = 0.0
    concurrency_limit: int | None = None
    rules: list[FaultRule] = field(default_factory=list)
    seed: int = 0  # seeds the probability draws so a run repeats
    over_limit: str = "reject"  # or "slow_refusal": see the module docstring
    over_limit_delay_s: float = 60.0  # how long a slow refusal takes (tests set it short)

    def add(self, kind: str, **options: Any) -> FaultRule:
        rule = FaultRule(kind, **options)
        self.rules.append(rule)
        return rule

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "concurrency_limit": self.concurrency_limit,
            "rules": [rule.to_dict() for rule in self.rules],
            "seed": self.seed,
            "over_limit": self.over_limit,
            "over_limit_delay_s": self.over_limit_delay_s,
        }

    def update(self, data: dict[str, Any]) -> None:
        """Set the fields present in `data` (validated first, so a bad update changes nothing)."""
        if not isinstance(data, dict):
            raise FaultConfigError("body: must be a JSON object")
        unknown = set(data) - {
            "latency_ms",
            "concurrency_limit",
            "rules",
            "seed",
            "over_limit",
            "over_limit_delay_s",
        }
        if unknown:
            raise FaultConfigError(f"unknown field(s) {', '.join(sorted(unknown))}")
        latency = data.get("latency_ms", self.latency_ms)
        if not isinstance(latency, int | float) or latency < 0:
            raise FaultConfigError("latency_ms: must be a number >= 0")
        limit = data.get("concurrency_limit", self.concurrency_limit)
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise FaultConfigError("concurrency_limit: must be null or an integer >= 1")
        seed = data.get("seed", self.seed)
        if not isinstance(seed, int):
            raise FaultConfigError("seed: must be an integer")
        over_limit = data.get("over_limit", self.over_limit)
        if over_limit not in OVER_LIMIT_MODES:
            raise FaultConfigError(f"over_limit: {over_limit!r} is not one of {', '.join(OVER_LIMIT_MODES)}")
        delay = data.get("over_limit_delay_s", self.over_limit_delay_s)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise FaultConfigError("over_limit_delay_s: must be a number >= 0")
        raw_rules = data.get("rules")
        if raw_rules is not None and not isinstance(raw_rules, list):
            raise FaultConfigError("rules: must be a list")
        rules = [FaultRule.from_dict(r) for r in raw_rules] if raw_rules is not None else self.rules
        self.latency_ms, self.concurrency_limit, self.seed, self.rules = float(latency), limit, seed, rules
        self.over_limit, self.over_limit_delay_s = over_limit, float(delay)

    def copy(self) -> FaultConfig:
        rules = [FaultRule.from_dict(rule.to_dict()) for rule in self.rules]
        return FaultConfig(
            self.latency_ms,
            self.concurrency_limit,
            rules,
            self.seed,
            self.over_limit,
            self.over_limit_delay_s,
        )


@dataclass
class SandboxStats:
    """Requests as the server saw them: what benchmarks and tests assert API-call counts against."""

    total: int = 0
    by_route: Counter[str] = field(default_factory=Counter)  # "GET /path" (no query string)
    by_status: Counter[int] = field(default_factory=Counter)
    rejected_concurrency: int = 0
    faults_fired: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0

    def count(self, method: str | None = None, prefix: str = "") -> int:
        """Requests with this method (any if None) whose path starts with `prefix`."""
        wanted = method.upper() if method else None
        total = 0
        for route, n in self.by_route.items():
            route_method, _, path = route.partition(" ")
            if (wanted is None or route_method == wanted) and path.startswith(prefix):
                total += n
        return total

    def reset(self) -> None:
        """Zero the counters; requests still in flight stay counted as in flight."""
        self.total = self.rejected_concurrency = 0
        self.by_route.clear()
        self.by_status.clear()
        self.faults_fired.clear()
        self.max_in_flight = self.in_flight

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_route": dict(self.by_route),
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "rejected_concurrency": self.rejected_concurrency,
            "faults_fired": dict(self.faults_fired),
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
        }


def generic_rate_limited() -> ErrorResponse:
    body = json.dumps({"error": "rate_limited", "message": "Too many concurrent requests."}).encode()
    return 429, {"content-type": "application/json", "retry-after": "1"}, body


def generic_server_error(status: int) -> ErrorResponse:
    body = json.dumps({"error": "server_error", "message": f"Injected fault (HTTP {status})."}).encode()
    return status, {"content-type": "application/json"}, body


class FaultMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        config: FaultConfig | None = None,
        *,
        rate_limited: Callable[[], ErrorResponse] = generic_rate_limited,
        server_error: Callable[[int], ErrorResponse] = generic_server_error,
        refused_slowly: Callable[[], ErrorResponse] | None = None,
    ) -> None:
        self.app = app
        self.config = config if config is not None else FaultConfig()
        self.rate_limited = rate_limited
        self.server_error = server_error
        # the answer of over_limit="slow_refusal"; an emulator without one of its own sends its 429 late
        self.refused_slowly = refused_slowly or rate_limited
        self.stats = SandboxStats()
        self._baseline = self.config.copy()
        self._rng = random.Random(self.config.seed)
        self._rng_seed = self.config.seed
        quiet_dropped_connections()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX) and path.rstrip("/") in (_FAULTS_PATH, _RULES_PATH, _STATS_PATH):
            await self._control(scope, receive, send)
            return
        method: str = scope["method"]
        stats = self.stats
        stats.total += 1
        stats.by_route[f"{method} {path}"] += 1
        config = self.config
        limit = config.concurrency_limit
        if limit is not None and stats.in_flight >= limit:
            stats.rejected_concurrency += 1
            if config.over_limit == "slow_refusal":
                await asyncio.sleep(config.over_limit_delay_s)
                await self._respond(send, *self.refused_slowly())
            else:
                await self._respond(send, *self.rate_limited())
            return
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                stats.in_flight -= 1

        async def releasing(message: Message) -> None:
            # A server stops counting a request once its answer is out: free the slot before the last
            # body chunk leaves, or a client that sends its next request at once (still within its own
            # limit) could find the slot taken by work the app does after answering, and get a 429.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                release()
            await send(message)

        try:
            if config.latency_ms > 0:
                await asyncio.sleep(config.latency_ms / 1000)
            rule = self._pick(method, path)
            if rule is None:
                await self.app(scope, receive, self._counting(releasing))
            else:
                await self._apply(rule, scope, receive, releasing)
        finally:
            release()  # no complete answer went out (error, dropped connection): free the slot now

    def _pick(self, method: str, path: str) -> FaultRule | None:
        if self.config.seed != self._rng_seed:
            self._rng, self._rng_seed = random.Random(self.config.seed), self.config.seed
        for rule in list(self.config.rules):
            if not rule.matches(method, path):
                continue
            # Draw only for matching rules, so the same request sequence gives the same faults.
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            if rule.times is not None:
                rule.times -= 1
            self.stats.faults_fired[rule.kind] += 1
            return rule
        return None

    async def _apply(self, rule: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        if rule.kind == "status":
            status = rule.status
            await self._respond(send, *(self.rate_limited() if status == 429 else self.server_error(status)))
        elif rule.kind == "drop_before":
            # Read the request first: a socket closed with unread bytes is reset (RST) by the kernel,
            # and the client would see a reset or a truncated answer depending on timing.
            await _drain(receive)
            await _drop(send, 200, [(b"content-type", b"application/json")], b"")
        elif rule.kind == "drop_after":
            start: Message | None = None
            body = bytearray()

            async def capture(message: Message) -> None:
                nonlocal start
                if message["type"] == "http.response.start":
                    start = message
                elif message["type"] == "http.response.body":
                    body.extend(message.get("body", b""))

            await self.app(scope, receive, capture)
            status = start["status"] if start else 200
            self.stats.by_status[status] += 1  # the app answered; only the client never hears it
            headers = [(k, v) for k, v in (start or {}).get("headers", []) if k.lower() != b"content-length"]
            await _drop(send, status, headers, bytes(body[: len(body) // 2]))
        elif rule.kind == "delay":
            delayed = False
            counting = self._counting(send)

            async def slow(message: Message) -> None:
                nonlocal delayed
                if message["type"] == "http.response.start" and not delayed:
                    delayed = True
                    await asyncio.sleep(rule.delay_s)
                await counting(message)

            await self.app(scope, receive, slow)

    def _counting(self, send: Send) -> Send:
        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stats.by_status[message["status"]] += 1
            await send(message)

        return counting

    async def _respond(self, send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
        self.stats.by_status[status] += 1
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if not any(k == b"content-length" for k, _ in raw):
            raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"].rstrip("/")
        try:
            if path == _STATS_PATH:
                if method == "DELETE":
                    self.stats.reset()
                elif method != "GET":
                    raise _NotAllowed
                result = self.stats.to_dict()
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                if "method" in query or "prefix" in query:
                    wanted = query.get("method", [None])[0]
                    result["matched"] = self.stats.count(wanted, query.get("prefix", [""])[0])
            elif path == _RULES_PATH:
                if method != "POST":
                    raise _NotAllowed
                self.config.rules.append(FaultRule.from_dict(await _read_json(receive)))
                result = self.config.to_dict()
            else:
                if method == "PUT":
                    self.config.update(await _read_json(receive))
                elif method == "DELETE":
                    self.config.update(self._baseline.copy().to_dict())
                elif method != "GET":
                    raise _NotAllowed
                result = self.config.to_dict()
        except _NotAllowed:
            await self._control_reply(send, 405, {"error": f"{method} is not allowed on {path}"})
            return
        except (FaultConfigError, TypeError, ValueError) as exc:
            await self._control_reply(send, 400, {"error": str(exc)})
            return
        await self._control_reply(send, 200, result)

    @staticmethod
    async def _control_reply(send: Send, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class _NotAllowed(Exception):
    pass


async def _read_json(receive: Receive) -> Any:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.extend(message.get("body", b""))
        if not message.get("more_body", False):
            break
    try:
        return json.loads(chunks or b"{}")
    except json.JSONDecodeError as exc:
        raise FaultConfigError(f"body: not valid JSON ({exc.msg})") from None


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def _drop(send: Send, status: int, headers: list[tuple[bytes, bytes]], partial: bytes) -> None:
    # Promise more bytes than ever come, then fail: uvicorn closes the socket mid-body.
    promised = str(len(partial) + 1024).encode()
    headers = [*headers, (b"content-length", promised)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if partial:
        await send({"type": "http.response.body", "body": partial, "more_body": True})
    raise ConnectionDropped("connection dropped by the sandbox (injected fault)")
