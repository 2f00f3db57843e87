"""The dashboard: one card per connection with its health, sync times, counts, recent runs and actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.connection import NetSuiteAuthMode
from atlas_desktop.domain.enums import ConnectionStatus
from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES, expires_soon, parse_not_after
from atlas_desktop.engine.api import RunFinished, RunProgress, RunStarted
from atlas_desktop.engine.health import Activity, HealthKind, HealthState
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.health import COLOURS, SIGNS, ConnectionSnapshot, load_snapshots
from atlas_desktop.ui.monitoring.renew_certificate_dialog import RenewCertificateDialog
from atlas_desktop.ui.monitoring.run_chart import RunBar, RunChart
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import plural
from atlas_desktop.ui.wizard.forms import ERP_LABELS

# The views a waiting choice links to; the window opens them filtered (MainWindow.open_review).
CHOICE_VIEWS = ("ambiguous", "conflicts")


def when(moment: datetime | None, empty: str = "never") -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else empty


class ConnectionCard(QFrame):
    sync_requested = Signal(str)
    pause_toggled = Signal(str, bool)  # connection id, paused
    edit_requested = Signal(str)
    review_requested = Signal(str, str)  # connection id, what: "ambiguous" (Mappings) or "conflicts"
    renew_requested = Signal(str)  # connection id: NetSuite M2M certificate
    cancel_requested = Signal(str)

    def __init__(self, snapshot: ConnectionSnapshot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("connectionCard")
        self.connection_id = snapshot.summary.id
        self.title = QLabel()
        self.badge = QLabel()
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setMinimumWidth(84)
        self.problems = QLabel()  # the state in one sentence: what runs, fails or waits
        self.problems.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setMaximumHeight(18)
        # A run going on in this window can be cancelled: it stops at its next safe point (a page, a merge
        # chunk, a push wave); what it did is kept and the next run carries on (engine/runner.RunCancelled).
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel the sync")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        # Each choice waiting for a person is a link to the view that lists exactly those items.
        self.choices: dict[str, QPushButton] = {}
        choices = QHBoxLayout()
        for key in CHOICE_VIEWS:
            button = QPushButton()
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setStyleSheet("QPushButton { color: palette(link); text-decoration: underline; "
                                 "text-align: left; border: none; padding: 0; }")  # fmt: skip
            button.clicked.connect(lambda _=False, k=key: self.review_requested.emit(self.connection_id, k))
            self.choices[key] = button
            choices.addWidget(button)
        choices.addStretch(1)
        self.certificate = QLabel()  # a NetSuite M2M certificate near its end: renew before it stops syncs
        self.certificate.setObjectName("certificateWarning")
        self.certificate.setWordWrap(True)
        self.certificate.setStyleSheet(f"color: {COLOURS[HealthKind.DEGRADED]}; font-weight: bold;")
        self.renew_button = QPushButton("Renew certificate…")
        self.renew_button.clicked.connect(lambda: self.renew_requested.emit(self.connection_id))
        self.notes = QLabel()  # information, not a problem: items only on one side
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: gray;")
        self.facts = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, (key, label) in enumerate(
            (("last", "Last sync"), ("next", "Next sync"), ("mapped", "Mapped"),
             ("unmapped", "Not on Atlas (information)"), ("conflicts", "Open conflicts"),
             ("ambiguous", "Ambiguous"), ("pending", "Changes waiting"), ("in_doubt", "Writes in doubt"))
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
        head.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QHBoxLayout()
        for button in (self.sync_button, self.pause_button, self.edit_button, self.renew_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.problems)
        running = QHBoxLayout()
        running.addWidget(self.progress, 1)
        running.addWidget(self.cancel_button)
        layout.addLayout(running)
        layout.addLayout(choices)
        layout.addWidget(self.certificate)
        layout.addWidget(self.notes)
        layout.addLayout(self.facts)
        layout.addWidget(QLabel("Runs of the last days (height = duration; ✕ failed, ▲ items failed):"))
        layout.addWidget(self.chart)
        layout.addLayout(buttons)
        self.update_snapshot(snapshot)

    def update_snapshot(self, snapshot: ConnectionSnapshot) -> None:
        summary, counts = snapshot.summary, snapshot.counts
        self.snapshot = snapshot
        self.state = state = snapshot.state
        self.health = state.kind
        erp = ERP_LABELS.get(summary.erp_type, str(summary.erp_type))
        self.title.setText(f"<b>{summary.name}</b> &nbsp; <span style='color:gray'>{erp}</span>")
        colour = COLOURS[state.kind]
        self.badge.setText(f"{SIGNS[state.kind]} {state.label}")
        self.badge.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; border-radius: 9px; padding: 2px 10px; }}"
        )
        self.badge.setAccessibleName(f"State: {state.label}")
        self.problems.setText(sentence(state))
        self.problems.setStyleSheet("" if state.kind is HealthKind.IN_SYNC else f"color: {colour};")
        self._show_progress(state.activity)
        for key, button in self.choices.items():
            reason = state.reason(key)
            button.setVisible(reason is not None)
            button.setText(f"{reason.text} →" if reason else "")
        self._show_certificate(summary.settings)
        self.notes.setText("\n".join(state.notes))
        self.notes.setVisible(bool(state.notes))
        status = f" ({summary.last_sync_status})" if summary.last_sync_status else ""
        self.values["last"].setText(when(summary.last_sync_at) + status)
        paused = summary.status is ConnectionStatus.PAUSED
        self.values["next"].setText("paused" if paused else when(snapshot.next_sync, "after the first sync"))
        self.values["mapped"].setText(f"{counts.mapped:,}")
        self.values["unmapped"].setText(f"{counts.erp_only:,}")  # ambiguous ones are counted apart
        self.values["conflicts"].setText(f"{counts.open_conflicts:,}")
        self.values["ambiguous"].setText(f"{counts.ambiguous:,}")
        self.values["pending"].setText(f"{counts.pending_writes:,}")
        self.values["in_doubt"].setText(f"{counts.in_doubt_writes:,}")
        self.pause_button.setText("Resume" if paused else "Pause")
        self.sync_button.setEnabled(not paused and state.activity is None)
        bars = [
            RunBar(float(run.duration_seconds or 0), run.items_failed, str(run.status), run.started_at)
            for run in reversed(snapshot.runs)
        ]
        self.chart.set_runs(bars)

    def _show_certificate(self, settings: Mapping[str, Any]) -> None:
        m2m = settings.get("auth_mode") == NetSuiteAuthMode.OAUTH2_M2M
        self.renew_button.setVisible(m2m)
        not_after = parse_not_after(settings.get(CERTIFICATE_EXPIRES))
        now = datetime.now(UTC)
        warn = m2m and not_after is not None and expires_soon(not_after, now)
        self.certificate.setVisible(warn)
        if warn and not_after is not None:
            days = (not_after - now).days
            when_text = f"in {plural(days, 'day')}" if days > 0 else ("today" if days == 0 else "already")
            waiting = (
                " A new certificate is waiting for its Certificate ID."
                if settings.get("pending_certificate_file")
                else ""
            )
            self.certificate.setText(
                f"⚠ The NetSuite certificate expires on {not_after:%Y-%m-%d} ({when_text}): syncing stops "
                f"then. Click Renew certificate… to make and upload a new one.{waiting}"
            )

    def _show_progress(self, activity: Activity | None) -> None:
        self.progress.setVisible(activity is not None)
        # Only a run of this process can be cancelled here (`where` names another process's run).
        self.cancel_button.setVisible(activity is not None and activity.where is None)
        if activity is None:
            self.cancel_button.setEnabled(True)
            self.cancel_button.setText("Cancel")
            return
        if activity.total:
            self.progress.setRange(0, activity.total)
            self.progress.setValue(min(activity.done, activity.total))
            self.progress.setFormat(f"{activity.done:,} of {activity.total:,}")  # the phase: the line above
            self.progress.setTextVisible(True)
        else:
            self.progress.setRange(0, 0)  # busy: the phase has no known total
            self.progress.setTextVisible(False)

    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit(self.connection_id)


def sentence(state: HealthState) -> str:
    """The card's line under the title: the run's progress, or the problems (choices are links below)."""
    if state.activity is not None:
        return f"Syncing — {state.activity.words()}."
    if state.kind is HealthKind.IN_SYNC:
        return "Everything is in sync."
    if state.kind is HealthKind.NOT_YET_SYNCED:
        return "No sync has completed yet."
    texts = [reason.text for reason in state.reasons if reason.key not in CHOICE_VIEWS]
    if not texts:
        return "Your choice is needed before these items sync:"
    line = "; ".join(texts)
    return line[0].upper() + line[1:] + "."


class DashboardView(QWidget):
    """Cards for every connection; `reload()` reads them on the DB thread, never on the window's."""

    sync_requested = Signal(str)
    edit_requested = Signal(str)
    pause_changed = Signal(str, bool)  # connection id, paused: stored
    review_requested = Signal(str, str)  # connection id, "ambiguous" or "conflicts": the window opens it
    cancel_requested = Signal(str)  # a card's Cancel: the window asks the engine
    reloaded = Signal()
    states_changed = Signal()  # a card's state changed (a reload, or a run started, moved or ended)
    # A run this window did not start (another process) began or ended: its lists are out of date.
    runs_changed_elsewhere = Signal()

    def __init__(self, ctx: MonitoringContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.cards: dict[str, ConnectionCard] = {}
        self.snapshots: list[ConnectionSnapshot] = []
        # Runs going on, from the engine's events: the store cannot tell a run in this process apart.
        self.activities: dict[str, Activity] = {}
        # Each connection's newest run (id, status) as last read, and the runs this window ran: a change
        # of the newest run that is not one of those is another process's doing. By id, not "a run ended
        # here since the last read": a read taken while our run was still going sees it end a read later.
        self._newest_runs: dict[str, tuple[int, str] | None] = {}
        self._runs_here: set[int] = set()
        self.renewals: dict[str, RenewCertificateDialog] = {}
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
        self._follow = QTimer(self)
        self._follow.timeout.connect(self._on_follow_timeout)

    def reload(self) -> None:
        self.tasks.start(self._reload())

    def follow(self, interval_ms: int) -> None:
        """Read again every `interval_ms`: runs of other processes (the agent, a command) send this window
        no events, yet their progress, failures and counts must show here and in the tray."""
        self._follow.start(interval_ms)

    def stop_following(self) -> None:
        self._follow.stop()

    def _on_follow_timeout(self) -> None:
        if not self.tasks.busy:  # a read still going will show the same
            self.reload()

    async def _reload(self) -> None:
        ctx = self.ctx
        snapshots = await ctx.db(load_snapshots, ctx.connections, ctx.repos.runs, ctx.explain, ctx.elsewhere)
        self.show_snapshots(snapshots)

    def show_snapshots(self, snapshots: Sequence[ConnectionSnapshot]) -> None:
        self.snapshots = [s.with_activity(self.activities.get(s.summary.id) or s.activity) for s in snapshots]
        snapshots = self.snapshots
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
                card.review_requested.connect(self.review_requested)
                card.renew_requested.connect(self.open_renewal)
                card.cancel_requested.connect(self.cancel_requested)
                self.cards[snapshot.summary.id] = card
                self._cards.insertWidget(position, card)
            else:
                card.update_snapshot(snapshot)
        self.empty.setVisible(not snapshots)
        elsewhere = self._note_newest_runs(snapshots)
        self.reloaded.emit()
        self.states_changed.emit()
        if elsewhere:
            self.runs_changed_elsewhere.emit()

    def _note_newest_runs(self, snapshots: Sequence[ConnectionSnapshot]) -> bool:
        """True when a connection's newest run changed since the last read and this window did not run it
        (another process did)."""
        changed = False
        for snapshot in snapshots:
            cid = snapshot.summary.id
            newest = (snapshot.runs[0].id, str(snapshot.runs[0].status)) if snapshot.runs else None
            ours = cid in self.activities or (newest is not None and newest[0] in self._runs_here)
            if cid in self._newest_runs and self._newest_runs[cid] != newest and not ours:
                changed = True
            self._newest_runs[cid] = newest
        return changed

    def open_renewal(self, connection_id: str) -> None:
        """The card's "Renew certificate…": one dialog per connection, kept while it is open."""
        if self.ctx.renewal is None:
            self.message.setText("Renewing a certificate is not available here.")
            return
        dialog = self.renewals.get(connection_id)
        if dialog is None:
            name = self.cards[connection_id].snapshot.summary.name if connection_id in self.cards else ""
            dialog = RenewCertificateDialog(self.ctx, connection_id, name, self)
            dialog.switched.connect(lambda _cid: self.reload())
            dialog.finished.connect(lambda _r, cid=connection_id: self.renewals.pop(cid, None))
            self.renewals[connection_id] = dialog
        dialog.show()
        dialog.raise_()

    def healths(self) -> dict[str, HealthKind]:
        return {snapshot.summary.id: snapshot.health for snapshot in self.snapshots}

    def states(self) -> dict[str, HealthState]:
        return {snapshot.summary.id: snapshot.state for snapshot in self.snapshots}

    # ---- runs going on (the window connects the bridge's signals here) ----------------------------
    def on_bridge_run_started(self, event: RunStarted) -> None:
        self._set_activity(event.connection_id, Activity())

    def on_bridge_run_progressed(self, event: RunProgress) -> None:
        self._set_activity(event.connection_id, Activity(event.phase, event.done, event.total))

    def on_bridge_run_finished(self, event: RunFinished) -> None:
        # The counts the run changed arrive with the reload the window starts after every run.
        self._runs_here.add(event.summary.sync_log_id)
        self._set_activity(event.summary.connection_id, None)

    def _set_activity(self, connection_id: str, activity: Activity | None) -> None:
        if activity is None:
            self.activities.pop(connection_id, None)
        else:
            self.activities[connection_id] = activity
        for position, snapshot in enumerate(self.snapshots):
            if snapshot.summary.id == connection_id:
                self.snapshots[position] = snapshot.with_activity(activity)
                self.cards[connection_id].update_snapshot(self.snapshots[position])
                self.states_changed.emit()

    def on_card_pause_toggled(self, connection_id: str, paused: bool) -> None:
        self.tasks.start(self._set_paused(connection_id, paused))

    async def _set_paused(self, connection_id: str, paused: bool) -> None:
        status = ConnectionStatus.PAUSED if paused else ConnectionStatus.ACTIVE
        await self.ctx.db(self.ctx.connections.update, connection_id, status=status)
        self.pause_changed.emit(connection_id, paused)
        await self._reload()
