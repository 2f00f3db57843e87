"""A profile populated by a REAL sync against the in-process NetSuite and Atlas emulators, and a way to
run engine coroutines from a synchronous pytest-qt test body (the qasync loop turns while qtbot waits)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QApplication, QWidget

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
from atlas_desktop.store.keys import MemoryKeySource
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.theme import ThemeMode, apply_theme

NS_URL = "http://127.0.0.1:8123"
ATLAS_URL = "http://127.0.0.1:8124"


@dataclass
class World:
    services: Services
    engine: EngineService
    connection_id: str
    netsuite: Any
    atlas: Any
    ctx: MonitoringContext
    run: Callable[[Coroutine[Any, Any, Any]], Any]

    def matched(self) -> list[Any]:
        return self.engine.repos.mappings.page(
            self.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=10_000
        )

    def sides(self, mapping: Any) -> tuple[Decimal, Decimal]:
        atlas_row = self.atlas.row(mapping.atlas_inventory_id)
        erp = self.netsuite.state.stock(int(mapping.erp_item_id), int(mapping.erp_location_id), mapping.lot)
        return Decimal(atlas_row["quantity"]), erp


@pytest.fixture
def run(qtbot: Any, qloop: Any) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    def run(coro: Coroutine[Any, Any, Any], timeout: int = 30_000) -> Any:
        task = asyncio.ensure_future(coro)
        qtbot.waitUntil(task.done, timeout=timeout)
        return task.result()

    return run


@pytest.fixture
def world(tmp_path: Path, run: Any, qtbot: Any) -> Iterator[World]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=40, today=date(2026, 11, 27)), seed=11)
    netsuite, atlas = build_netsuite(options), build_atlas(options)
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
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
        ctx = MonitoringContext.for_services(engine, services)
        assert ctx is not None
        run(engine.discover(connection_id))
        first = run(engine.sync(connection_id, approve=True))
        assert str(first.status) == "success", first.error_message
        yield World(services, engine, connection_id, netsuite, atlas, ctx, run)
        run(engine.aclose())
    gc.collect()  # cycles from this profile go while Qt and the loop are alive


@pytest.fixture
def window(world: World, qtbot: Any) -> Iterator[MainWindow]:
    """The main window on `world`, shown; its first loads done when the test ends (modules that need
    another window define their own)."""
    made = MainWindow(world.services.connections, world.engine, lambda: None, monitoring=world.ctx)
    qtbot.addWidget(made)
    made.show()
    yield made
    assert made.dashboard is not None
    qtbot.waitUntil(lambda: not made.dashboard.tasks.busy, timeout=5000)


@pytest.fixture
def shoot(qapp: Any) -> Iterator[Callable[[QWidget, str], None]]:
    """Render a widget; write it as PNG only when ATLAS_SCREENSHOT_DIR names a folder."""
    folder = os.environ.get("ATLAS_SCREENSHOT_DIR")
    apply_theme(qapp, ThemeMode.LIGHT)

    def shoot(widget: QWidget, name: str) -> None:
        widget.show()
        QApplication.processEvents()
        image = widget.grab()
        assert image.width() >= 500 and image.height() >= 300, (name, image.size())
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            assert image.save(str(Path(folder) / name)), name

    yield shoot
