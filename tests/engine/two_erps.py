"""A profile with two connections, NetSuite and SAP, over one Atlas account (one catalog), in process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.sandbox.sap import build as build_sap
from atlas_desktop.store.keys import MemoryKeySource
from tests.engine.test_sync_e2e import NetSuiteSide, SapSide

NETSUITE_PORT, ATLAS_PORT, SAP_PORT = 8123, 8124, 8125


class Router(httpx.AsyncBaseTransport):
    """One transport for every ERP connector: each emulator answers on its own port."""

    def __init__(self, routes: dict[int, Any]) -> None:
        self.routes = {port: httpx.ASGITransport(app=app) for port, app in routes.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.routes[request.url.port].handle_async_request(request)


@dataclass
class TwoErps:
    services: Services
    engine: EngineService
    netsuite_id: str
    sap_id: str
    netsuite: NetSuiteSide
    sap: SapSide
    atlas: Any

    def name(self, connection_id: str) -> str:
        return str(self.services.connections.summary(connection_id).name)

    def matched(self, connection_id: str, status: MappingStatus = MappingStatus.MATCHED) -> list[Any]:
        return self.engine.repos.mappings.page(
            connection_id, status=status, search=None, offset=0, limit=100_000
        )

    def atlas_qty(self, mapping: Any) -> Decimal:
        return Decimal(self.atlas.row(mapping.atlas_inventory_id)["quantity"])

    def new_engine(self) -> EngineService:
        """An engine over the emulators, as a new process (the CLI) would build one."""
        return build_engine(
            self.services,
            transport=Router({NETSUITE_PORT: self.netsuite.emulator.app, SAP_PORT: self.sap.emulator.app}),
            atlas_options={"transport": httpx.ASGITransport(app=self.atlas.app)},
        )


def build_world(services: Services, size: int = 40, seed: int = 11) -> TwoErps:
    options = SandboxOptions(catalog=Catalog(seed=seed, size=size, today=date(2026, 11, 27)), seed=seed)
    netsuite = build_netsuite(options)
    sap = next(e for e in build_sap(options) if e.name == "sap-cloud")
    atlas = build_atlas(options)
    files = netsuite.credential_files(f"http://127.0.0.1:{NETSUITE_PORT}")
    netsuite_id = services.connections.add(parse_connection(files["netsuite.json"]))
    files = sap.credential_files(f"http://127.0.0.1:{SAP_PORT}")
    sap_id = services.connections.add(parse_connection(files["sap-cloud.json"]))
    services.atlas_accounts.save(
        base_url=f"http://127.0.0.1:{ATLAS_PORT}",
        auth_method="api_token",
        secrets={"api_token": Secret(atlas.api_token)},
    )
    world = TwoErps(services, None, netsuite_id, sap_id, NetSuiteSide(netsuite), SapSide(sap), atlas)  # type: ignore[arg-type]
    world.engine = world.new_engine()
    return world


@contextmanager
def two_erps(tmp_path: Path, size: int = 40) -> Iterator[TwoErps]:
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        yield build_world(services, size)
