"""Fixtures for the webhook tests: a ready world with the connection synced once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.webhooks.world import World, close_world, make_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    built, cm = make_world(tmp_path)
    try:
        yield built
    finally:
        await close_world(built, cm)
