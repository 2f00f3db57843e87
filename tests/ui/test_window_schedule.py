"""The window runs what the agent runs: due syncs and Atlas change-feed runs with no agent, and it leaves
the schedule to the process holding it, says which one, and takes over when that process ends."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtWidgets import QApplication

from atlas_desktop.app import gui
from atlas_desktop.app.background import BackgroundTiming
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import ConnectionStatus, MappingStatus, SyncType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunFinished
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.keys import MemoryKeySource
from atlas_desktop.ui.main_window import MainWindow

NS_URL = "http://127.0.0.1:8123"
ATLAS_URL = "http://127.0.0.1:8124"

_HOLD = """
import sys, time
from pathlib import Path
from atlas_desktop.store.process_locks import ProcessLock
lock = ProcessLock(Path(sys.argv[1]), "scheduler")  # kept: a collected lock is released
assert lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


@dataclass
class Profile:
    services: Services
    engine: EngineService
    connection_id: str
    netsuite: Any
    atlas: Any
    finished: list[SyncType] = field(default_factory=list)  # sync types of the runs, in order


@pytest.fixture
def profile(tmp_path: Path, qtbot: Any, qloop: Any) -> Iterator[Profile]:
    """A connection synced once (so it is active) and due every minute, engine on in-process emulators."""
    options = SandboxOptions(catalog=Catalog(seed=7, size=20, today=date(2026, 11, 27)), seed=7)
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
        world = Profile(services, engine, connection_id, netsuite, atlas)
        _run(qtbot, engine.discover(connection_id))
        first = _run(qtbot, engine.sync(connection_id, approve=True))  # approving activates it
        assert str(first.status) == "success", first.error_message
        services.connections.update(connection_id, sync_frequency_minutes=1)
        engine.events.subscribe(
            lambda event: (
                world.finished.append(event.summary.sync_type) if isinstance(event, RunFinished) else None
            )
        )
        yield world
        _run(qtbot, engine.aclose())  # run_app closed it already; closing twice is harmless
    gc.collect()  # this profile's Qt and engine cycles go while Qt and the loop are alive


def _run(qtbot: Any, coro: Any, timeout: int = 30_000) -> Any:
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


@pytest.fixture
def open_app(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Profile, BackgroundTiming], MainWindow]]:
    """`run_app` as `atlas-desktop` runs it (given the test's engine and delays); closed after the test."""
    # gc.freeze() would keep every test's leftovers for the rest of the session.
    monkeypatch.setattr(gui, "freeze_startup_heap", lambda: None)
    apps: list[tuple[MainWindow, asyncio.Task[int]]] = []

    def start(world: Profile, timing: BackgroundTiming) -> MainWindow:
        before = set(QApplication.topLevelWidgets())
        task = asyncio.ensure_future(gui.run_app(world.services, None, engine=world.engine, timing=timing))
        found: list[MainWindow] = []

        def shown() -> bool:
            found[:] = [
                w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w not in before
            ]
            return bool(found) and found[0].isVisible() and bool(found[0].schedule_label.text())

        qtbot.waitUntil(shown, timeout=10_000)
        apps.append((found[0], task))
        return found[0]

    yield start
    for window, task in apps:
        window.close()  # what the user does: run_app stops the schedule, then returns
        qtbot.waitUntil(task.done, timeout=15_000)
        assert task.result() == 0


def test_the_window_runs_a_due_sync_with_no_agent(profile: Profile, open_app: Any, qtbot: Any) -> None:
    window = open_app(profile, BackgroundTiming(first_run_s=0.5, takeover_s=0.3, reload_s=30))
    assert window.schedule_label.text() == "Scheduled syncs run here."
    qtbot.waitUntil(lambda: SyncType.SCHEDULED in profile.finished, timeout=10_000)


def test_the_window_leaves_the_schedule_to_its_holder_and_takes_over_when_it_dies(
    profile: Profile, open_app: Any, qtbot: Any
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(profile.services.locks.folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        window = open_app(profile, BackgroundTiming(first_run_s=0.2, takeover_s=0.5, reload_s=30))
        assert window.schedule_label.text() == (
            f"Scheduled syncs run by another Atlas Desktop process (process {holder.pid})."
        )
        qtbot.wait(1500)  # three takeover tries and well past the first run the window would have made
        assert SyncType.SCHEDULED not in profile.finished
    finally:
        holder.kill()
        holder.wait()
    qtbot.waitUntil(lambda: window.schedule_label.text() == "Scheduled syncs run here.", timeout=5_000)
    qtbot.waitUntil(lambda: SyncType.SCHEDULED in profile.finished, timeout=10_000)


def test_a_sale_on_atlas_reaches_the_erp_through_the_windows_change_feed_trigger(
    profile: Profile, open_app: Any, qtbot: Any
) -> None:
    mapping = profile.engine.repos.mappings.page(
        profile.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=1
    )[0]
    erp_key = (int(mapping.erp_item_id), int(mapping.erp_location_id), mapping.lot)
    before = profile.netsuite.state.stock(*erp_key)
    assert before >= 2
    # No scheduled run within the test: only the change feed can bring the sale across.
    open_app(profile, BackgroundTiming(first_run_s=3600, takeover_s=0.3, reload_s=30))
    qtbot.wait(300)  # the trigger's long-poll is waiting
    profile.atlas.sell(mapping.atlas_inventory_id, 2)
    qtbot.waitUntil(lambda: SyncType.REAL_TIME in profile.finished, timeout=10_000)
    assert SyncType.SCHEDULED not in profile.finished
    assert profile.netsuite.state.stock(*erp_key) == before - Decimal(2)


def test_a_connection_resumed_on_the_dashboard_joins_the_windows_schedule_at_once(
    profile: Profile, open_app: Any, qtbot: Any
) -> None:
    profile.services.connections.update(profile.connection_id, status=ConnectionStatus.PAUSED)
    # The periodic re-read is far off: only the window's own event can bring the connection back in time.
    window = open_app(profile, BackgroundTiming(first_run_s=0.3, takeover_s=0.3, reload_s=3600))
    assert window.dashboard is not None
    qtbot.waitUntil(lambda: profile.connection_id in window.dashboard.cards, timeout=5_000)
    qtbot.wait(800)
    assert SyncType.SCHEDULED not in profile.finished  # paused: not scheduled
    card = window.dashboard.cards[profile.connection_id]
    assert card.pause_button.text() == "Resume"
    card.pause_button.click()
    qtbot.waitUntil(lambda: SyncType.SCHEDULED in profile.finished, timeout=10_000)
