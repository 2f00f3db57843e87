"""Remove a connection from the window, with the protection `connections remove` has on the command line:
never during a run of it, never silently discarding writes decided but not confirmed (a sale still to
reach the ERP). The dialog says what is lost before anything is deleted."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.store.repositories import ConnectionSummary, OpenWrites, UnsettledWrites
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.tasks import TaskGroup
from atlas_desktop.ui.monitoring.wording import plural


def writes_words(writes: OpenWrites) -> str:
    parts = []
    if writes.pending:
        parts.append(f"{plural(writes.pending, 'change')} decided but not sent yet")
    if writes.in_doubt:
        parts.append(f"{plural(writes.in_doubt, 'change')} sent without an answer (it may have landed)")
    return " and ".join(parts)


class RemoveConnectionDialog(QDialog):
    removed = Signal(str)  # connection id
    loaded = Signal()
    tasks: TaskGroup

    def __init__(
        self, ctx: MonitoringContext, summary: ConnectionSummary, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id, self.name = summary.id, summary.name
        self.writes = OpenWrites()
        self.setWindowTitle(f"Remove {summary.name}")
        self.explanation = QLabel("Counting what this connection holds…")
        self.explanation.setWordWrap(True)
        self.discard = QCheckBox("Discard these changes and remove the connection anyway")
        self.discard.setVisible(False)
        self.discard.toggled.connect(lambda _on: self._update_button())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.remove_button = QPushButton("Remove connection")
        self.remove_button.setEnabled(False)
        self.buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.remove_button.clicked.connect(lambda: self.tasks.start(self.remove()))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.discard)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.tasks = TaskGroup(self.message.setText)
        self.tasks.start(self._load())

    async def _load(self) -> None:
        self.writes = await self.ctx.db(self.ctx.connections.open_writes, self.connection_id)
        counts = await self.ctx.db(self.ctx.explain.counts, self.connection_id)
        mappings = sum(counts.mappings.values())
        text = (
            f"Removing <b>{escape(self.name)}</b> deletes from this computer its stored credentials, "
            f"its {plural(mappings, 'item pairing')}, its sync history and "
            f"{plural(counts.open_conflicts, 'open conflict')}. Stock in Atlas and in the ERP stays as it "
            "is; setting the connection up again matches the items anew."
        )
        if self.writes.total:
            text += (
                f"<br><br><b>Not settled yet:</b> {escape(writes_words(self.writes))}. Removing now loses "
                "them: the other side would never get them. Run <b>Sync now</b> first to send them."
            )
        self.explanation.setText(text)
        self.discard.setVisible(bool(self.writes.total))
        self._update_button()
        self.loaded.emit()

    def _update_button(self) -> None:
        self.remove_button.setEnabled(not self.writes.total or self.discard.isChecked())

    async def remove(self) -> bool:
        self.remove_button.setEnabled(False)
        force = self.discard.isChecked()
        try:
            async with self.ctx.engine.exclusive(self.connection_id):  # never under a run of it
                await self.ctx.db(self.ctx.connections.remove, self.connection_id, force=force)
        except UnsettledWrites as refused:  # written meanwhile, by a run of the schedule
            self.writes = refused.writes
            self.message.setText(f"Not removed: {writes_words(refused.writes)} appeared meanwhile.")
            self.discard.setChecked(False)
            self.discard.setVisible(True)
            self._update_button()
            return False
        except AtlasDesktopError as error:  # a sync of it is running (here or in the agent)
            self.message.setText(f"Not removed: {error.message} {error.fix or ''}".strip())
            self._update_button()
            return False
        forget = getattr(self.ctx.engine, "forget_connector", None)
        if forget is not None:
            await forget(self.connection_id)  # its ERP client is closed, not left with old credentials
        self.removed.emit(self.connection_id)
        self.accept()
        return True
