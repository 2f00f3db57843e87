"""Edit a connection's schedule and sync rules (name, frequency, direction, conflict policy)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from atlas_desktop.domain.enums import ConflictPolicy, SyncDirection
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.store.repositories import ConnectionSummary
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.tasks import TaskGroup

DIRECTIONS = (("Both ways", SyncDirection.BIDIRECTIONAL), ("Atlas → ERP only", SyncDirection.ATLAS_TO_ERP),
              ("ERP → Atlas only", SyncDirection.ERP_TO_ATLAS))  # fmt: skip
POLICIES = (("Ask me (manual)", ConflictPolicy.MANUAL), ("Atlas wins", ConflictPolicy.ATLAS_WINS),
            ("ERP wins", ConflictPolicy.ERP_WINS))  # fmt: skip


class ConnectionDialog(QDialog):
    saved = Signal(str)
    tasks: TaskGroup

    def __init__(
        self, ctx: MonitoringContext, summary: ConnectionSummary, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connection_id = summary.id
        self.setWindowTitle(f"Edit {summary.name}")
        self.name = QLineEdit(summary.name)
        self.frequency = QSpinBox()
        self.frequency.setRange(1, 7 * 24 * 60)
        self.frequency.setSuffix(" min")
        self.frequency.setValue(summary.sync_frequency_minutes)
        self.direction = QComboBox()
        for label, value in DIRECTIONS:
            self.direction.addItem(label, value)
        self.direction.setCurrentIndex(self.direction.findData(summary.sync_direction))
        self.policy = QComboBox()
        for label, policy in POLICIES:
            self.policy.addItem(label, policy)
        self.policy.setCurrentIndex(self.policy.findData(summary.conflict_policy))
        self.message = QLabel()
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Sync every:", self.frequency)
        form.addRow("Direction:", self.direction)
        form.addRow("When both sides changed:", self.policy)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(lambda: self.tasks.start(self.save()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Credentials are replaced with Connection ▸ Replace credentials…"))
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.tasks = TaskGroup(self.message.setText)

    async def save(self) -> None:
        values = {
            "name": self.name.text(),
            "sync_frequency_minutes": self.frequency.value(),
            "sync_direction": self.direction.currentData(),
            "conflict_policy": self.policy.currentData(),
        }
        try:
            await self.ctx.db(self.ctx.connections.update, self.connection_id, **values)
        except AtlasDesktopError as error:
            self.message.setText(str(error))
            return
        self.saved.emit(self.connection_id)
        self.accept()
