"""Test helpers: an SAP connection spec and a scripted MockTransport for shape tests (no emulator)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from atlas_desktop.connectors.sap import build_connector
from atlas_desktop.connectors.sap.connector import SapConnector
from atlas_desktop.domain.connection import parse_connection

BASE = "http://127.0.0.1:8500"


def spec(**extra: Any):  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {
        "erp_type": "sap",
        "environment": extra.pop("environment", "cloud"),
        "base_url": BASE,
        "username": "ATLAS_USER",
        "password": "pass-word-123",
    }
    data.update(extra)
    return parse_connection(data)


async def no_sleep(_: float) -> None:
    return None


def make(handler: Callable[[httpx.Request], httpx.Response], **extra: Any) -> SapConnector:
    options = extra.pop("options", {})
    return build_connector(spec(**extra), transport=httpx.MockTransport(handler), sleep=no_sleep, **options)


def odata(
    results: list[dict[str, Any]], *, count: int | None = None, next_url: str | None = None
) -> httpx.Response:
    d: dict[str, Any] = {"results": results}
    if count is not None:
        d["__count"] = str(count)
    if next_url:
        d["__next"] = next_url
    return httpx.Response(200, json={"d": d})


def gateway_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {
        "error": {
            "code": code,
            "message": {"lang": "en", "value": message},
            "innererror": {"errordetails": [{"code": code, "message": message, "severity": "error"}]},
        }
    }
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
    )
