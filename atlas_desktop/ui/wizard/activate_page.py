"""Step 8: what the first sync will do (the engine's preview), and Finish starts it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout

from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.engine.api import SyncPlan
from atlas_desktop.ui.widgets.fields import ERROR_COLOUR
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.state import WizardState


def plan_html(plan: SyncPlan) -> str:
    rows = [
        ("Updates to Atlas", plan.to_atlas),
        ("New listings on Atlas", plan.creates_on_atlas),
        ("Updates to the ERP", plan.to_erp),
        ("Conflicts for you to decide", plan.conflicts),
        ("Already the same", plan.unchanged),
    ]
    cells = "".join(
        f"<tr><td style='padding-right:16px'>{escape(label)}</td><td align='right'><b>{count:,}</b></td></tr>"
        for label, count in rows
    )
    return f"<table>{cells}</table>"


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
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.plan_label)
        layout.addWidget(self.retry)
        layout.addStretch(1)
        self.plan: SyncPlan | None = None
        self.retry.clicked.connect(self.on_retry_clicked)
        self.setFinalPage(True)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        if self.plan is None and not self.busy():
            self.start()

    def start(self) -> None:
        self.retry.setVisible(False)
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
        self.state_changed()

    def _failed(self, message: str, fix: str) -> None:
        self.status.setText(
            f"<span style='color:{ERROR_COLOUR}'>✗ {escape(message)}</span><br><b>Fix:</b> {escape(fix)}"
        )
        self.retry.setVisible(True)

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.plan is not None and not self.busy()
