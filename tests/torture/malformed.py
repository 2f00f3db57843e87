"""Hypothesis helpers for bad remote input: mutated JSON answers served by a scripted MockTransport."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from atlas_desktop.domain.errors import AtlasDesktopError, ConnectorError

HUGE = "x" * 100_000
# Texts that break naive parsers of numbers, dates and markup.
WEIRD_TEXTS = (
    "", " ", "NaN", "-Infinity", "sNaN", "1e999999", "-1e999999", "12,5", "1.2.3", "0x10", "²", "٣",
    "\x00", "\u202e", HUGE, "2026-02-30", "0000-00-00", "2026-13-01 25:61:61",
    "/Date(99999999999999999999)/", "/Date(-99999999999999999)/", "/Date(abc)/", "\\/Date(1+99999)\\/",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-03-03T10:00:00", "<html>", "null", "[]",
)  # fmt: skip
weird_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WEIRD_TEXTS),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
BAD_STATUSES = (200, 201, 204, 400, 401, 403, 404, 409, 412, 422, 428, 429, 500, 503)
CONTENT_TYPES = ("application/json", "application/json; charset=utf-8", "text/html", "text/plain", "")
FORMS = (
    "json", "json", "json", "json", "truncated", "html", "empty", "garbage", "error_on_200",
    "deep", "surrogate",
)  # fmt: skip

Good = tuple[int, Any, dict[str, str]]  # status, JSON body (None: empty), headers


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key in value:
            found += _paths(value[key], (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def mutate(data: st.DataObject, body: Any) -> Any:
    """One to three changes at random places: a field removed, replaced by a weird value, or retyped."""
    body = copy.deepcopy(body)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(body)
        path = data.draw(st.sampled_from(paths), label="path")
        action = data.draw(st.sampled_from(("delete", "replace", "replace", "wrap", "stringify")))
        if not path:
            body = data.draw(weird_values) if action != "wrap" else [body]
            continue
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if action == "delete":
            del parent[last]
        elif action == "replace":
            parent[last] = data.draw(weird_values, label="value")
        elif action == "wrap":
            parent[last] = [parent[last]]
        else:
            parent[last] = json.dumps(parent[last])
    return body


def render(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    all_headers = {"content-type": "application/json", **(headers or {})}
    return httpx.Response(status, content=content, headers=all_headers)


def bad_answer(data: st.DataObject, good: Good, error_body: Any) -> httpx.Response:
    """A damaged version of a good answer: mutated JSON, truncated, HTML, empty, garbage, or an error."""
    status, body, headers = good
    form = data.draw(st.sampled_from(FORMS), label="form")
    if data.draw(st.booleans(), label="change status"):
        status = data.draw(st.sampled_from(BAD_STATUSES), label="status")
    headers = dict(headers)
    headers["content-type"] = data.draw(st.sampled_from(CONTENT_TYPES), label="content type")
    if form == "error_on_200":
        body = mutate(data, error_body) if data.draw(st.booleans()) else error_body
    elif body is not None and form in ("json", "truncated"):
        body = mutate(data, body)
    text = json.dumps(body, default=str) if body is not None else ""
    if form == "truncated":
        content = text.encode()[: data.draw(st.integers(0, max(0, len(text) - 1)), label="cut")]
    elif form == "html":
        content = b"<!DOCTYPE html><html><head><title>Proxy</title></head><body><p>Bad gateway</p></body>"
    elif form == "empty":
        content = b""
    elif form == "garbage":
        content = b"\xff\xfe\x00{" + HUGE.encode()[:5000]
    elif form == "deep":  # valid JSON the C decoder cannot descend (RecursionError)
        content = b'{"value": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    elif form == "surrogate":  # valid JSON whose strings are not text: a lone UTF-16 surrogate
        content = text.replace('"', '"\\ud800', 1).encode() if '"' in text else b'"\\udc00"'
    else:
        content = text.encode()
    return httpx.Response(status, content=content, headers=headers)


@dataclass
class Script:
    """A MockTransport handler: good answers, except the requests numbered in `bad` get damaged ones."""

    data: st.DataObject
    good: Callable[[httpx.Request], Good]
    error_body: Any
    bad: set[int]
    bad_headers: dict[str, Any] = field(default_factory=dict)  # header -> JSON template to damage
    limit: int = 400
    seen: int = 0
    log: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        index, self.seen = self.seen, self.seen + 1
        if self.seen > self.limit:
            raise RuntimeError(f"runaway: more than {self.limit} requests for one operation")
        self.log.append(f"{request.method} {request.url.path}")
        good = self.good(request)
        if index in self.bad:
            response = bad_answer(self.data, good, self.error_body)
            for name, template in self.bad_headers.items():
                if self.data.draw(st.booleans(), label=f"damage {name}"):
                    response.headers[name] = json.dumps(mutate(self.data, template))
            return response
        return render(*good)


def draw_bad(data: st.DataObject) -> set[int]:
    return data.draw(st.sets(st.integers(0, 5), min_size=1, max_size=3), label="bad requests")


def outcome(run: Callable[[], Awaitable[object]]) -> AtlasDesktopError | None:
    """Run one public operation to its end; allow success or a taxonomy error, nothing else."""
    return asyncio.run(checked(run))


async def checked(run: Callable[[], Awaitable[object]]) -> AtlasDesktopError | None:
    try:
        await run()
    except AtlasDesktopError as exc:
        error: AtlasDesktopError | None = exc
    else:
        error = None
    if error is not None:
        assert isinstance(error, ConnectorError), f"a remote answer raised a local error: {error!r}"
        assert len(error.message.strip()) >= 10, f"no useful message: {error!r}"
        assert error.fix.strip(), f"no fix: {error!r}"
        # A huge remote string must not be copied whole into what the user sees (or the log).
        assert len(error.message) < 2_000 and len(error.fix) < 2_000, error.message[:200]
        assert len(error.remote_message or "") < 2_000
    return error


async def drain(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


MISSING = object()
# One of each kind of wrong value, for sweeps over every field of a template.
SWEEP_VALUES = (
    MISSING, None, True, [1], {"a": 1}, float("inf"), "", "NaN", "1e999999", "12,5", HUGE,
    "/Date(99999999999999999999)/", "9999-12-31T23:59:59-01:00", "2026-02-30",
)  # fmt: skip


def field_names(body: Any) -> set[str]:
    """Every key of every object in a template (nested rows, navigations and lines included)."""
    names: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            names.add(key)
            names |= field_names(value)
    elif isinstance(body, list):
        for item in body:
            names |= field_names(item)
    return names


def damage_field(body: Any, name: str, value: Any) -> Any:
    """A copy of `body` with `name` removed (MISSING) or set to `value` in every object holding it."""
    if isinstance(body, list):
        return [damage_field(item, name, value) for item in body]
    if not isinstance(body, dict):
        return body
    out = {k: damage_field(v, name, value) for k, v in body.items() if not (k == name and value is MISSING)}
    if name in body and value is not MISSING:
        out[name] = value
    return out


def sweep_transport(good: Callable[[httpx.Request], Good], name: str, value: Any) -> httpx.MockTransport:
    """Every answer good, except that field `name` is damaged wherever it occurs."""
    seen = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        if seen > 400:
            raise RuntimeError("runaway: more than 400 requests for one operation")
        status, body, headers = good(request)
        return render(status, damage_field(body, name, value), headers)

    return httpx.MockTransport(handler)
