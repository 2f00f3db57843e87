"""Shared test helpers: a NetSuite ConnectionSpec and a scripted MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from atlas_desktop.domain.connection import ConnectionSpec, parse_connection

ACCOUNT = "1234567_SB1"
CONSUMER_KEY = "a1" * 32
CONSUMER_SECRET = "b2" * 32
TOKEN_ID = "c3" * 32
TOKEN_SECRET = "d4" * 32
BASE_URL = "http://127.0.0.1:8765"


def connection_file(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_id": ACCOUNT,
        "consumer_key": CONSUMER_KEY,
        "consumer_secret": CONSUMER_SECRET,
        "token_id": TOKEN_ID,
        "token_secret": TOKEN_SECRET,
        "base_url": BASE_URL,
        "settings": {"adjustment_account_id": "2615", "subsidiary_id": "1"},
    }
    data.update(overrides)
    return data


def make_spec(**overrides: Any) -> ConnectionSpec:
    return parse_connection(connection_file(**overrides))


def error_response(status: int, code: str, detail: str, **extra: str) -> httpx.Response:
    body = {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        "title": "Bad Request",
        "status": status,
        "o:errorDetails": [{"detail": detail, "o:errorCode": code, **extra}],
    }
    return httpx.Response(status, json=body)


def suiteql_response(items: list[dict[str, Any]], *, offset: int, limit: int, total: int) -> httpx.Response:
    rows = [{**row, "links": []} for row in items]
    return httpx.Response(
        200,
        json={
            "links": [],
            "count": len(rows),
            "hasMore": offset + len(rows) < total,
            "offset": offset,
            "totalResults": total,
            "items": rows,
        },
    )


def answering_zone(
    answer: Callable[[httpx.Request], httpx.Response], zone: str = "UTC"
) -> Callable[[httpx.Request], httpx.Response]:
    """`answer`, plus the connector's time-zone probes (SuiteQL on dual) as a user in `zone` answers them."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/suiteql") and " FROM dual" in json.loads(request.content)["q"]:
            return suiteql_response([{"zone": zone}], offset=0, limit=1, total=1)
        return answer(request)

    return handler


class Recorder:
    """A MockTransport handler: records each request, answers through `answer(request)`."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def queries(self) -> list[str]:
        return [json.loads(r.content)["q"] for r in self.requests if r.url.path.endswith("/suiteql")]


async def no_sleep(_: float) -> None:
    return None
