"""Step 8: what the first sync will do (the engine's preview), and Finish starts it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.engine.api import SyncPlan
from atlas_desktop.engine.changes import ChangeKind
from atlas_desktop.ui.widgets.changes_dialog import ChangesDialog, counts_html
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.state import WizardState


def plan_html(plan: SyncPlan) -> str:
    """Every kind of change the first sync will make, counted as the run will carry them out."""
    if plan.kinds:
        return counts_html(plan.kinds)
    kinds = {ChangeKind.QUANTITY_TO_ATLAS: plan.to_atlas, ChangeKind.QUANTITY_TO_ERP: plan.to_erp,
             ChangeKind.CONFLICT: plan.conflicts, ChangeKind.ALREADY_SAME: plan.unchanged}  # fmt: skip
    return counts_html({str(kind): count for kind, count in kinds.items()})


class ActivatePage(WizardPageBase):
    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Start syncing")
        self.setSubTitle(
            "This is what the first sync will do. Finish starts it; you can watch it in the main window."
        )
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.plan_label = QLabel()
        self.plan_label.setObjectName("planSummary")
        self.plan_label.setTextFormat(Qt.TextFormat.RichText)
        self.plan_label.setAccessibleName("First sync preview")
        self.retry = QPushButton("&Try again")
        self.retry.setVisible(False)
        self.show_changes = QPushButton("&Show what will change…")
        self.show_changes.setVisible(False)
        self.changes_dialog: ChangesDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plan_label)
        layout.addWidget(self.show_changes)
        layout.addWidget(self.retry)
        layout.addStretch(1)
        self.plan: SyncPlan | None = None
        self.retry.clicked.connect(self.on_retry_clicked)
        self.show_changes.clicked.connect(self.on_show_changes_clicked)
        self.setFinalPage(True)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        if self.plan is None and not self.busy():
            self.start()

    def start(self) -> None:
        self.retry.setVisible(False)
        self.show_changes.setVisible(False)
        self.status.setText("Working out what the first sync will do…")
        self.start_task(self._run(), "first-sync-preview")
        self.completeChanged.emit()

    def on_retry_clicked(self) -> None:
        self.start()

    async def _run(self) -> None:
        engine, connection_id = self.ctx.engine, self.state.connection_id
        if engine is None or connection_id is None:
            self._failed("The sync engine is not available in this build.", "Update Atlas Desktop.")
            return
        try:
            self.plan = await engine.preview(connection_id)
        except AtlasDesktopError as error:
            self._failed(error.message, error.fix)
            return
        self.status.setText(
            "Ready. Click Start sync to begin; later syncs run by themselves on your schedule "
            "while Atlas Desktop is open (or its agent runs)."
        )
        self.plan_label.setText(plan_html(self.plan))
        self.show_changes.setVisible(bool(self.plan.changes))
        self.state_changed()

    def on_show_changes_clicked(self) -> ChangesDialog | None:
        """The list behind the counts: each change with its item, lot, location, direction, old -> new."""
        if self.plan is None:
            return None
        self.changes_dialog = ChangesDialog(
            self.plan.changes, title="What the first sync will change", kinds=self.plan.kinds,
            left_out=self.plan.left_out, parent=self,
        )  # fmt: skip
        self.changes_dialog.open()
        return self.changes_dialog

    def _failed(self, message: str, fix: str) -> None:
        self.status.setText(
            f"<span style='color:{ERROR_COLOUR}'>✗ {escape(message)}</span><br><b>Fix:</b> {escape(fix)}"
        )
        self.retry.setVisible(True)

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.plan is not None and not self.busy()
