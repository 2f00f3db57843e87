"""The tray (issue 24): a badge whose shape says the state, a menu per connection that syncs, pauses, opens
and quits; closing the window hides it to the tray while syncs go on; a long run shows "N of M" and can be
cancelled. Driven in the real window over a store a real sync filled."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from atlas_desktop.domain.enums import ConnectionStatus, SyncType
from atlas_desktop.engine.api import EngineEvent, RunFinished, RunProgress, RunStarted, RunStatus
from atlas_desktop.engine.health import HealthKind
from atlas_desktop.ui.main_window import MainWindow
from atlas_desktop.ui.monitoring.tray import TrayController
from atlas_desktop.ui.monitoring.tray_icon import badged_pixmap
from atlas_desktop.ui.theme import ThemeMode, apply_theme


@pytest.fixture
def window(world: Any, qtbot: Any) -> Iterator[MainWindow]:
    """The window, closed after the test by this fixture (not pytest-qt, which would delete it while the
    views' reloads a run started are still awaited here)."""
    made = MainWindow(
        world.services.connections, world.engine, lambda: None, monitoring=world.ctx, services=world.services
    )
    made.show()
    assert made.dashboard is not None and made.tray is not None
    qtbot.waitUntil(lambda: world.connection_id in made.dashboard.cards, timeout=5000)
    yield made
    world.run(made.aclose())
    made.quit_app()
    made.deleteLater()


def finished_runs(world: Any) -> list[RunFinished]:
    seen: list[RunFinished] = []

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, RunFinished):
            seen.append(event)

    world.engine.events.subscribe(on_event)
    return seen


def menu_texts(tray: TrayController) -> list[tuple[str, bool]]:
    return [(a.text(), a.isEnabled()) for a in tray.menu.actions() if not a.isSeparator()]


def test_the_badge_has_a_shape_per_state_not_only_a_colour(qapp: Any) -> None:
    grey = {
        kind: badged_pixmap(kind, 32).toImage().convertToFormat(QImage.Format.Format_Grayscale8)
        for kind in (None, *HealthKind)
    }
    for (a, image_a), (b, image_b) in combinations(grey.items(), 2):
        assert image_a != image_b, f"{a} and {b} look alike in grey"
    assert badged_pixmap(HealthKind.IN_SYNC, 16).size().width() == 16  # drawn for the smallest tray too


def test_the_tray_menu_lists_each_connection_and_syncs_pauses_opens_and_quits(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    tray = window.tray
    assert tray is not None
    qtbot.waitUntil(lambda: tray.health is HealthKind.IN_SYNC, timeout=5000)
    assert menu_texts(tray) == [
        ("NetSuite sandbox — In sync", False),  # a status line, not a command
        ("Sync now", True),
        ("Pause syncing", True),
        ("Open Atlas Desktop", True),
        ("Quit Atlas Desktop", True),
    ]
    assert tray.icon.toolTip() == "Atlas Desktop — In sync"

    finished = finished_runs(world)
    tray.sync_action.trigger()
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=15_000)
    assert finished[0].summary.status is RunStatus.SUCCESS

    with qtbot.waitSignal(window.connections_changed, timeout=5000):  # the schedule reads them again
        tray.pause_action.trigger()
    assert world.services.connections.summary(world.connection_id).status is ConnectionStatus.PAUSED
    qtbot.waitUntil(lambda: tray.pause_action.text() == "Resume syncing", timeout=5000)
    assert menu_texts(tray)[0] == ("NetSuite sandbox — Paused", False)
    assert not tray.sync_action.isEnabled()  # nothing to sync while everything is paused
    with qtbot.waitSignal(window.connections_changed, timeout=5000):
        tray.pause_action.trigger()
    assert world.services.connections.summary(world.connection_id).status is ConnectionStatus.ACTIVE
    qtbot.waitUntil(lambda: tray.pause_action.text() == "Pause syncing", timeout=5000)

    window.hide()
    tray.open_action.trigger()
    assert window.isVisible()

    with qtbot.waitSignal(window.closed, timeout=5000):
        tray.quit_action.trigger()
    assert not window.isVisible()


def test_an_alert_still_notifies_through_the_tray(world: Any, window: MainWindow, qtbot: Any) -> None:
    from atlas_desktop.engine.api import ConnectionAlert

    assert window.tray is not None
    world.engine.events.publish(ConnectionAlert(world.connection_id, "3 syncs failed in a row", 3))
    qtbot.waitUntil(lambda: bool(window.tray.notifications), timeout=5000)
    assert window.tray.notifications == [
        ("NetSuite sandbox needs attention", "3 syncs failed in a row. Open Atlas Desktop to review.")
    ]
    # The same kind again soon, whatever its count, is not repeated; another kind is told.
    for count in (1, 2):
        world.engine.events.publish(ConnectionAlert(world.connection_id, f"{count} x", kind="conflicts"))
    world.engine.events.publish(ConnectionAlert(world.connection_id, "1 write is in doubt", kind="in_doubt"))
    qtbot.waitUntil(lambda: len(window.tray.notifications) == 3, timeout=5000)
    qtbot.wait(50)
    assert [text for _, text in window.tray.notifications[1:]] == [
        "1 x. Open Atlas Desktop to review.", "1 write is in doubt. Open Atlas Desktop to review."
    ]


def test_a_real_conflict_and_three_real_failures_alert_through_the_tray_in_words(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    tray = window.tray
    assert tray is not None
    mapping = next(m for m in world.matched() if world.sides(m)[0] >= 3)
    atlas_qty, erp_qty = world.sides(mapping)
    world.atlas.sell(mapping.atlas_inventory_id, atlas_qty)  # both sides moved: a conflict
    world.netsuite.state.issue(int(mapping.erp_item_id), int(mapping.erp_location_id), erp_qty, mapping.lot)
    assert world.run(world.engine.sync(world.connection_id)).conflicts_opened == 1
    qtbot.waitUntil(lambda: bool(tray.notifications), timeout=5000)
    assert tray.notifications == [
        ("NetSuite sandbox needs attention", "1 conflict needs a decision. Open Atlas Desktop to review.")
    ]

    rule = world.netsuite.faults.add("status", status=401)
    for number in (1, 2, 3):
        assert world.run(world.engine.sync(world.connection_id)).status is RunStatus.FAILED
        if number < 3:
            qtbot.wait(50)
            assert len(tray.notifications) == 1, tray.notifications  # not before the third
    world.netsuite.faults.rules.remove(rule)
    qtbot.waitUntil(lambda: len(tray.notifications) == 2, timeout=5000)
    assert tray.notifications[1] == (
        "NetSuite sandbox needs attention", "3 syncs failed in a row. Open Atlas Desktop to review."
    )


def test_without_a_system_tray_closing_the_window_quits(window: MainWindow, qtbot: Any) -> None:
    assert not TrayController.available()  # the offscreen platform has none
    with qtbot.waitSignal(window.closed, timeout=5000):
        window.close()


def test_closing_hides_to_the_tray_with_a_notice_shown_once(
    world: Any, window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TrayController, "available", staticmethod(lambda: True))
    assert window.tray is not None
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    window.close()
    assert not window.isVisible() and not closed  # hidden, the app goes on
    assert [title for title, _ in window.tray.notifications] == ["Atlas Desktop keeps syncing"]
    assert world.services.settings.get("tray_notice_shown") is True  # remembered for the next start
    window.show_and_raise()
    window.close()
    assert not window.isVisible() and not closed
    assert len(window.tray.notifications) == 1  # once
    window.quit_app()  # only Quit quits
    assert closed == [True]


def test_the_session_ending_closes_for_good_even_with_a_tray(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TrayController, "available", staticmethod(lambda: True))
    monkeypatch.setattr(QApplication, "isSavingSession", lambda self: True)  # logging out, shutting down
    with qtbot.waitSignal(window.closed, timeout=5000):
        window.close()


def test_the_card_shows_n_of_m_and_cancels_the_run(world: Any, window: MainWindow, qtbot: Any) -> None:
    dashboard = window.dashboard
    assert dashboard is not None
    card = dashboard.cards[world.connection_id]
    assert not card.cancel_button.isVisibleTo(card)
    world.engine.events.publish(RunStarted(world.connection_id, SyncType.FULL))
    world.engine.events.publish(RunProgress(world.connection_id, "merge", 1_240, 4_180))
    qtbot.waitUntil(lambda: card.progress.maximum() == 4_180, timeout=5000)
    assert card.progress.isVisibleTo(card) and card.progress.value() == 1_240
    assert card.progress.text() == "1,240 of 4,180"
    assert card.problems.text() == "Syncing — comparing both sides: 1,240 of 4,180 items compared."
    assert card.cancel_button.isVisibleTo(card) and card.cancel_button.isEnabled()
    assert window.tray is not None and window.tray.health is HealthKind.SYNCING
    world.engine.events.publish(RunProgress(world.connection_id, "pull erp stock", 300))
    qtbot.waitUntil(lambda: card.progress.maximum() == 0, timeout=5000)  # no total known: busy
    world.engine.events.publish(RunFinished(_summary(world.connection_id)))
    qtbot.waitUntil(lambda: not card.cancel_button.isVisibleTo(card), timeout=5000)


def _summary(connection_id: str) -> Any:
    from atlas_desktop.engine.api import RunSummary

    return RunSummary(1, connection_id, SyncType.FULL, RunStatus.SUCCESS)


def test_cancel_on_the_card_stops_a_real_run_which_the_next_run_completes(
    world: Any, window: MainWindow, qtbot: Any
) -> None:
    dashboard = window.dashboard
    assert dashboard is not None
    card = dashboard.cards[world.connection_id]
    moved = [m for m in world.matched() if world.sides(m)[0] >= 3][:4]
    expected = {}
    for mapping in moved:
        world.atlas.sell(mapping.atlas_inventory_id, 1)
        expected[mapping.id] = world.sides(mapping)[0]
    world.netsuite.faults.latency_ms = 300  # a slow ERP: time to see the run and cancel it
    finished = finished_runs(world)
    window.start_sync(world.connection_id)
    qtbot.waitUntil(card.cancel_button.isVisible, timeout=10_000)
    card.cancel_button.click()
    assert card.cancel_button.text() == "Cancelling…" and not card.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: len(finished) == 1, timeout=20_000)
    assert finished[0].summary.status is RunStatus.CANCELLED
    qtbot.waitUntil(lambda: not card.cancel_button.isVisible(), timeout=5000)
    # Right after the cancelled run's RunFinished: a new run, not the cancelled one joined again.
    world.netsuite.faults.latency_ms = 0

    after = world.run(world.engine.sync(world.connection_id))
    assert after.status is RunStatus.SUCCESS, after.error_message
    for mapping in moved:
        assert world.sides(mapping) == (expected[mapping.id], expected[mapping.id])
    assert all(world.sides(m)[0] == world.sides(m)[1] for m in world.matched())


def test_the_tray_menu_and_badges_render(
    world: Any, window: MainWindow, qtbot: Any, qapp: Any
) -> None:
    """The tray menu and the badges; PNGs go to ATLAS_SCREENSHOT_DIR when set (docs/screenshots)."""
    apply_theme(qapp, ThemeMode.LIGHT)
    tray = window.tray
    assert tray is not None
    second = world.services.connections.add(world.services.connections.get(world.connection_id))
    world.services.connections.update(
        second, name="NetSuite — second subsidiary", status=ConnectionStatus.PAUSED
    )
    window.refresh()
    qtbot.waitUntil(lambda: len(tray.states) == 2, timeout=5000)
    world.engine.events.publish(RunStarted(world.connection_id, SyncType.FULL))
    world.engine.events.publish(RunProgress(world.connection_id, "merge", 1_240, 4_180))
    qtbot.waitUntil(lambda: tray.health is HealthKind.SYNCING, timeout=5000)
    tray.menu.adjustSize()
    tray.menu.show()
    QApplication.processEvents()
    menu = tray.menu.grab()
    tray.menu.hide()
    assert menu.width() >= 150 and menu.height() >= 120
    texts = [text for text, _ in menu_texts(tray)]
    assert texts[:2] == ["NetSuite sandbox — Syncing", "NetSuite — second subsidiary — Paused"]
    assert window.dashboard is not None  # the syncing card: monitoring-card-syncing.png (its own test)
    card = window.dashboard.cards[world.connection_id]
    qtbot.waitUntil(lambda: card.progress.text() == "1,240 of 4,180", timeout=5000)
    folder = os.environ.get("ATLAS_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        assert menu.save(str(Path(folder) / "tray-menu.png"))
        assert tray_icon_strip().save(str(Path(folder) / "tray-badges.png"))
    world.engine.events.publish(RunFinished(_summary(world.connection_id)))


def tray_icon_strip() -> Any:
    """Every badge side by side at 48 px, for the README."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPainter, QPixmap

    kinds = list(HealthKind)
    strip = QPixmap(len(kinds) * 56, 56)
    strip.fill(Qt.GlobalColor.white)
    painter = QPainter(strip)
    for position, kind in enumerate(kinds):
        painter.drawPixmap(position * 56 + 4, 4, badged_pixmap(kind, 48))
    painter.end()
    return strip


def test_a_cancelled_run_is_grey_in_the_run_chart() -> None:
    from atlas_desktop.ui.monitoring.run_chart import COLOURS
    from atlas_desktop.ui.monitoring.run_chart_layout import RunBar, outcome

    assert outcome(RunBar(3.0, 0, "cancelled")) == "stopped"
    assert COLOURS["stopped"].name() == "#8c959f"  # grey: neither green nor red
    assert outcome(RunBar(3.0, 0, "success")) == "ok"
