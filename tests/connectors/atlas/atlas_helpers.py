"""Helpers for the Atlas client tests: a fake clock, sample rows, a client on an in-process emulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from atlas_desktop.connectors.atlas import AtlasClient, build_client
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import AtlasEmulator

BASE_URL = "http://127.0.0.1:8765"


class FakeClock:
    """Wall-clock seconds shared by the emulator and the client; `sleep` advances it instead of waiting."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


def sample_rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"SKU-{i:05d}",
            "ndc": f"{10000 + i:05d}-{i % 1000:03d}-{i % 100:02d}",
            "name": f"Product {i}",
            "lot_number": f"L{i:05d}",
            "expiry_date": "2027-06-30",
            "quantity": str(100 + i),
            "unit": "EA",
            "location": "MAIN",
        }
        for i in range(count)
    ]


def make_client(emulator: AtlasEmulator, token: str | None = None, **options: Any) -> AtlasClient:
    options.setdefault("sleep", _no_wait)
    return build_client(
        BASE_URL,
        token=Secret(token or emulator.api_token),
        transport=httpx.ASGITransport(app=emulator.app),
        **options,
    )


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)
