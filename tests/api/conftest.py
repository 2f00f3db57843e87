"""Fixtures for the management API tests: the webhook world plus its API key and a key-carrying client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atlas_desktop.store.webhooks import ApiKeyRepository
from tests.webhooks.world import World, close_world, make_world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    built, cm = make_world(tmp_path, size=20)
    try:
        yield built
    finally:
        await close_world(built, cm)


@pytest.fixture
def api_key(world: World) -> str:
    return ApiKeyRepository(world.services.store, world.services.vault).ensure().reveal()
