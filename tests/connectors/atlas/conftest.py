"""Fixtures for the Atlas client tests: an in-process emulator on a fake clock, and a client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from atlas_desktop.connectors.atlas import AtlasClient
from atlas_desktop.sandbox.atlas import AtlasEmulator
from tests.connectors.atlas.atlas_helpers import FakeClock, make_client, sample_rows


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> AtlasEmulator:
    return AtlasEmulator(rows=sample_rows(25), clock=clock)


@pytest.fixture
async def client(emulator: AtlasEmulator) -> AsyncIterator[AtlasClient]:
    atlas = make_client(emulator)
    yield atlas
    await atlas.aclose()
