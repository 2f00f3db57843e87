"""Closing the window hides it to the tray (issue 24): the app and its scheduled syncs go on; Quit (the
menu or the tray) ends the app with the background work stopped cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from atlas_desktop.app import gui
from atlas_desktop.app.background import BackgroundTiming
from atlas_desktop.domain.enums import SyncType
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.tray import TrayController
from tests.ui.test_window_schedule import Profile, profile  # noqa: F401 - `profile` is a fixture


@pytest.fixture
def with_tray(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A desktop that shows tray icons (the offscreen platform has none)."""
    monkeypatch.setattr(TrayController, "available", staticmethod(lambda: True))
    monkeypatch.setattr(gui, "freeze_startup_heap", lambda: None)  # would keep this test's heap for good
    yield


def start_app(world: Profile, qtbot: Any, timing: BackgroundTiming) -> tuple[MainWindow, asyncio.Task[int]]:
    before = set(QApplication.topLevelWidgets())
    task = asyncio.ensure_future(gui.run_app(world.services, None, engine=world.engine, timing=timing))
    found: list[MainWindow] = []

    def shown() -> bool:
        found[:] = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w not in before
        ]
        return bool(found) and found[0].isVisible() and bool(found[0].schedule_label.text())

    qtbot.waitUntil(shown, timeout=10_000)
    return found[0], task


def test_a_closed_window_hides_while_scheduled_syncs_go_on_until_quit(
    profile: Profile,  # noqa: F811 - the fixture
    with_tray: None,
    qtbot: Any,
) -> None:
    window, task = start_app(profile, qtbot, BackgroundTiming(first_run_s=0.5, takeover_s=0.3, reload_s=30))
    assert window.schedule_label.text() == "Scheduled syncs run here."
    window.close()  # the close button, Alt+F4
    assert not window.isVisible() and not task.done()
    assert SyncType.SCHEDULED not in profile.finished  # the first one is due after the close
    assert window.tray is not None and window.tray.notifications[0][0] == "Atlas Desktop keeps syncing"
    qtbot.waitUntil(lambda: SyncType.SCHEDULED in profile.finished, timeout=10_000)  # still scheduled
    assert not task.done()

    window.tray.quit_action.trigger()  # Quit in the tray menu
    qtbot.waitUntil(task.done, timeout=15_000)
    assert task.result() == 0
    assert not window.tray.icon.isVisible()  # run_app's clean-up ran (schedule, window, engine)


def test_quit_in_the_file_menu_ends_the_app(
    profile: Profile,  # noqa: F811 - the fixture
    with_tray: None,
    qtbot: Any,
) -> None:
    window, task = start_app(profile, qtbot, BackgroundTiming(first_run_s=3600, takeover_s=0.3, reload_s=30))
    quit_action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Quit")
    quit_action.trigger()
    qtbot.waitUntil(task.done, timeout=15_000)
    assert task.result() == 0
