"""The dashboard: one card per connection with its health, sync times, counts, recent runs and actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.store.enums import ConnectionStatus
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.health import COLOURS, ConnectionSnapshot, Health, load_snapshots
from atlas_desktop.ui.monitoring.run_chart import RunBar, RunChart
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.wizard.forms import ERP_LABELS


def when(moment: datetime | None, empty: str = "never") -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else empty


class ConnectionCard(QFrame):
    sync_requested = Signal(str)
    pause_toggled = Signal(str, bool)  # connection id, paused
    edit_requested = Signal(str)

    def __init__(self, snapshot: ConnectionSnapshot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("connectionCard")
        self.connection_id = snapshot.summary.id
        self.title = QLabel()
        self.badge = QLabel()
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setMinimumWidth(84)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.facts = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, (key, label) in enumerate(
            (("last", "Last sync"), ("next", "Next sync"), ("mapped", "Mapped"), ("unmapped", "Unmapped"),
             ("conflicts", "Open conflicts"), ("in_doubt", "Writes in doubt"))
        ):  # fmt: skip
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            self.facts.addWidget(QLabel(label + ":"), row // 2, (row % 2) * 2)
            self.facts.addWidget(value, row // 2, (row % 2) * 2 + 1)
        self.chart = RunChart()
        self.sync_button = QPushButton("Sync now")
        self.pause_button = QPushButton("Pause")
        self.edit_button = QPushButton("Edit connection…")
        self.sync_button.clicked.connect(lambda: self.sync_requested.emit(self.connection_id))
        self.pause_button.clicked.connect(
            lambda: self.pause_toggled.emit(self.connection_id, self.pause_button.text() == "Pause")
        )
        self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self.connection_id))

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.badge)
        buttons = QHBoxLayout()
        for button in (self.sync_button, self.pause_button, self.edit_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.problems)
        layout.addLayout(self.facts)
        layout.addWidget(QLabel("Recent runs (height = duration, red = failed):"))
        layout.addWidget(self.chart)
        layout.addLayout(buttons)
        self.update_snapshot(snapshot)

    def update_snapshot(self, snapshot: ConnectionSnapshot) -> None:
        summary, counts = snapshot.summary, snapshot.counts
        self.health = snapshot.health
        erp = ERP_LABELS.get(summary.erp_type, str(summary.erp_type))
        self.title.setText(f"<b>{summary.name}</b> &nbsp; <span style='color:gray'>{erp}</span>")
        colour = COLOURS[self.health]
        self.badge.setText(self.health.value.capitalize())
        self.badge.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; border-radius: 9px; padding: 2px 10px; }}"
        )
        self.badge.setAccessibleName(f"Health: {self.health.value}")
        problems = snapshot.problems()
        self.problems.setText("; ".join(problems).capitalize() if problems else "Everything is in sync.")
        self.problems.setStyleSheet(f"color: {colour};" if problems else "")
        status = f" ({summary.last_sync_status})" if summary.last_sync_status else ""
        self.values["last"].setText(when(summary.last_sync_at) + status)
        paused = summary.status is ConnectionStatus.PAUSED
        self.values["next"].setText("paused" if paused else when(snapshot.next_sync, "after the first sync"))
        self.values["mapped"].setText(f"{counts.mapped:,}")
        self.values["unmapped"].setText(f"{counts.unmapped:,}")
        self.values["conflicts"].setText(f"{counts.open_conflicts:,}")
        self.values["in_doubt"].setText(f"{counts.in_doubt_writes:,}")
        self.pause_button.setText("Resume" if paused else "Pause")
        self.sync_button.setEnabled(not paused)
        bars = [
            RunBar(float(run.duration_seconds or 0), run.items_failed, str(run.status))
            for run in reversed(snapshot.runs)
        ]
        self.chart.set_runs(bars)


class DashboardView(QWidget):
    """Cards for every connection; `reload()` reads them on the DB thread, never on the window's."""

    sync_requested = Signal(str)
    edit_requested = Signal(str)
    pause_changed = Signal(str, bool)  # connection id, paused: stored
    reloaded = Signal()

    def __init__(self, ctx: MonitoringContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.cards: dict[str, ConnectionCard] = {}
        self.snapshots: list[ConnectionSnapshot] = []
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.tasks = TaskGroup(self.message.setText)
        self._holder = QWidget()
        self._cards = QVBoxLayout(self._holder)
        self._cards.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._holder)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.empty = QLabel("No connection yet.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.empty)
        layout.addWidget(scroll, 1)

    def reload(self) -> None:
        self.tasks.start(self._reload())

    async def _reload(self) -> None:
        ctx = self.ctx
        snapshots = await ctx.db(load_snapshots, ctx.connections, ctx.repos.runs, ctx.explain)
        self.show_snapshots(snapshots)

    def show_snapshots(self, snapshots: Sequence[ConnectionSnapshot]) -> None:
        self.snapshots = list(snapshots)
        wanted = {snapshot.summary.id for snapshot in snapshots}
        for connection_id in [cid for cid in self.cards if cid not in wanted]:
            self.cards.pop(connection_id).deleteLater()
        for position, snapshot in enumerate(snapshots):
            card = self.cards.get(snapshot.summary.id)
            if card is None:
                card = ConnectionCard(snapshot)
                card.sync_requested.connect(self.sync_requested)
                card.edit_requested.connect(self.edit_requested)
                card.pause_toggled.connect(self.on_card_pause_toggled)
                self.cards[snapshot.summary.id] = card
                self._cards.insertWidget(position, card)
            else:
                card.update_snapshot(snapshot)
        self.empty.setVisible(not snapshots)
        self.reloaded.emit()

    def healths(self) -> dict[str, Health]:
        return {snapshot.summary.id: snapshot.health for snapshot in self.snapshots}

    def on_card_pause_toggled(self, connection_id: str, paused: bool) -> None:
        self.tasks.start(self._set_paused(connection_id, paused))

    async def _set_paused(self, connection_id: str, paused: bool) -> None:
        status = ConnectionStatus.PAUSED if paused else ConnectionStatus.ACTIVE
        await self.ctx.db(self.ctx.connections.update, connection_id, status=status)
        self.pause_changed.emit(connection_id, paused)
        await self._reload()
