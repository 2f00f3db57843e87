"""A profile with a NetSuite connection, in-process NetSuite and Atlas emulators, engine and receiver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from atlas_desktop.app.api.server import build_app
from atlas_desktop.app.api.webhooks import WebhookReceiver
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStarted
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.models import Base
from atlas_desktop.store.webhooks import WebhookRepository

NS_URL = "http://127.0.0.1:8123"
ATLAS_URL = "http://127.0.0.1:8124"
APP_URL = "http://127.0.0.1:8765"


@dataclass
class World:
    services: Services
    engine: EngineService
    connection_id: str
    netsuite: Any
    atlas: Any
    webhooks: WebhookRepository
    receiver: WebhookReceiver
    app: Any
    runs: list[RunStarted] = field(default_factory=list)

    def client(self, **headers: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=APP_URL, headers=headers
        )

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: a refused request must leave this unchanged."""
        with self.services.store.engine.connect() as conn:
            return {
                table.name: sorted(map(tuple, conn.execute(sa.select(table)).all()), key=repr)
                for table in Base.metadata.sorted_tables
            }


def make_world(tmp_path: Path, *, size: int = 30, debounce: float = 0.1) -> Any:
    options = SandboxOptions(catalog=Catalog(seed=5, size=size, today=date(2026, 11, 27)), seed=5)
    netsuite, atlas = build_netsuite(options), build_atlas(options)
    cm = open_services(ProfilePaths(tmp_path / "profile"), key_source=_memory_key())
    services = cm.__enter__()
    spec = parse_connection(netsuite.credential_files(NS_URL)["netsuite.json"])
    connection_id = services.connections.add(spec)
    services.atlas_accounts.save(
        base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
    )
    engine = build_engine(
        services,
        transport=httpx.ASGITransport(app=netsuite.app),
        atlas_options={"transport": httpx.ASGITransport(app=atlas.app)},
    )
    webhooks = WebhookRepository(services.store, services.vault)
    receiver = WebhookReceiver(webhooks, engine, debounce=debounce)
    app = build_app(services, engine, receiver=receiver)
    world = World(services, engine, connection_id, netsuite, atlas, webhooks, receiver, app)
    engine.events.subscribe(lambda event: world.runs.append(event) if isinstance(event, RunStarted) else None)
    return world, cm


def _memory_key() -> Any:
    from atlas_desktop.store.keys import MemoryKeySource

    return MemoryKeySource()


async def close_world(world: World, cm: Any) -> None:
    await world.receiver.aclose()
    await world.engine.aclose()
    cm.__exit__(None, None, None)
