"""Builds an in-process NetSuite emulator and a connector wired to it, sharing one adjustable clock."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from atlas_desktop.connectors.netsuite import NetSuiteConnector, build_connector
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

BASE_URL = "http://127.0.0.1:8123"


@dataclass
class Clock:
    """Real time plus an offset: the emulator checks OAuth timestamps against it (±5 min), so stay close."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_emulator(size: int, clock: Clock, **options: Any) -> NetSuiteEmulator:
    return NetSuiteEmulator(catalog=Catalog(seed=7, size=size), clock=clock, **options)


def connect(
    emulator: NetSuiteEmulator,
    clock: Clock,
    *,
    settings: dict[str, Any] | None = None,
    file_overrides: dict[str, Any] | None = None,
    **options: Any,
) -> NetSuiteConnector:
    data = {**emulator.credential_files(BASE_URL)["netsuite.json"], **(file_overrides or {})}
    data["settings"] = {"adjustment_account_id": "58", "subsidiary_id": "1", **(settings or {})}
    spec = parse_connection(data)
    if "account_id" in options:
        spec = replace(spec, settings={**spec.settings, "account_id": options.pop("account_id")})
    options.setdefault("sleep", Sleeps())
    return build_connector(spec, transport=httpx.ASGITransport(app=emulator.app), clock=clock, **options)
