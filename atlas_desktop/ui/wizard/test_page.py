"""Step 5: the connection test, step by step in a live checklist; asynchronous and cancellable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout

from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.domain.model import ErpType, StepResult
from atlas_desktop.domain.secrets import redact
from atlas_desktop.engine.factory import with_network_defaults
from atlas_desktop.ui.monitoring.wording import plural
from atlas_desktop.ui.widgets.checklist import ChecklistWidget, StepState
from atlas_desktop.ui.wizard.base import WizardPageBase
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.forms import ERP_LABELS, form_values, spec_from_values
from atlas_desktop.ui.wizard.reach import REACH_STEP, reach, server_address
from atlas_desktop.ui.wizard.state import WizardState

log = logging.getLogger(__name__)


class TestPage(WizardPageBase):
    __test__ = False  # not a pytest test class, whatever its name says

    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__(ctx, state)
        self.setTitle("Test the connection")
        self.checklist = ChecklistWidget()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.checklist)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("testSummary")
        self.summary.setAccessibleName("Connection test summary")
        self.cancel_button = QPushButton("&Cancel test")
        self.rerun_button = QPushButton("&Run the test again")
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.rerun_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.on_cancel_button_clicked)
        self.rerun_button.clicked.connect(self.on_rerun_button_clicked)
        self._task: asyncio.Task[Any] | None = None
        self._buttons_for(running=False)

    def initializePage(self) -> None:  # noqa: N802 - Qt override
        erp = ERP_LABELS.get(self.state.erp_type or ErpType.NETSUITE, "the ERP")
        self.setSubTitle(f"Atlas Desktop signs in to {erp} and checks each permission the sync needs.")
        if self.state.tested_ok:
            if not self.checklist.rows:
                self.summary.setText(
                    "✓ The connection passed its test earlier. Run it again if anything changed."
                )
            return
        self.start()

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self.state.tested_ok = False
        self.checklist.clear()
        self.summary.setText("Testing…")
        self._buttons_for(running=True)
        self._task = self.start_task(self._run(), "erp-connection-test")
        self.completeChanged.emit()

    def _buttons_for(self, *, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.rerun_button.setEnabled(not running)

    def on_cancel_button_clicked(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def on_rerun_button_clicked(self) -> None:
        self.start()

    def _spec(self) -> ConnectionSpec:
        assert self.state.erp_type is not None
        values = form_values(self.state.fields, self.state.secrets)
        spec = spec_from_values(self.state.erp_type, values, self.state.auth_mode)
        return with_network_defaults(spec, self.ctx.network_defaults)

    async def _run(self) -> None:
        try:
            ok = await self._steps()
        except asyncio.CancelledError:
            self.checklist.cancel_running()
            self.summary.setText("Test cancelled. Run it again when you are ready.")
            self._buttons_for(running=False)
            raise
        self.state.tested_ok = ok
        self._buttons_for(running=False)
        if ok:
            self.summary.setText("✓ Everything needed works. Click Next.")
        else:
            failed = sum(1 for row in self.checklist.rows if row.state is StepState.FAILED)
            self.summary.setText(
                f"✗ {plural(failed, 'check')} failed. Fix what is shown above (Back returns to the "
                "credentials), then run the test again."
            )
        self.state_changed()

    def _show(self, step: StepResult) -> None:
        # The row still "checking…" is the one this result belongs to; it takes the step's name.
        row = self.checklist.running()
        if row is None:
            row = self.checklist.add(step.name)
        row.name = step.name
        state = StepState.SKIPPED if step.skipped else (StepState.PASSED if step.ok else StepState.FAILED)
        row.set_state(state, redact(step.detail), redact(step.cause), redact(step.fix))

    async def _steps(self) -> bool:
        try:
            spec = self._spec()
        except AtlasDesktopError as error:
            self._show(StepResult("Credentials complete", ok=False, cause=error.message, fix=error.fix))
            return False
        address = server_address(spec)
        if spec.settings.get("proxy"):
            self._show(StepResult(REACH_STEP, ok=True, skipped=True, detail="through the proxy"))
        elif address is not None:
            self.checklist.add(REACH_STEP)
            step = await (self.ctx.reach or reach)(*address)
            self._show(step)
            if not step.ok:
                return False
        try:
            connector = self.ctx.connector_factory(spec)
        except AtlasDesktopError as error:
            self._show(StepResult("Connector available", ok=False, cause=error.message, fix=error.fix))
            return False
        ok = True
        try:
            async for step in self._connector_steps(connector):
                self._show(step)
                ok = ok and (step.ok or step.skipped)
        except AtlasDesktopError as error:
            self._show(StepResult("Sign in", ok=False, cause=error.message, fix=error.fix))
            ok = False
        except Exception as exc:  # a connector bug must not leave the page spinning
            log.exception("connection test failed unexpectedly")
            self._show(
                StepResult(
                    "Connection test",
                    ok=False,
                    cause=f"Unexpected error ({type(exc).__name__}).",
                    fix="Send a diagnostics bundle to Atlas support.",
                )
            )
            ok = False
        finally:
            await connector.aclose()
        return ok

    async def _connector_steps(self, connector: Any) -> AsyncIterator[StepResult]:
        self.checklist.add("Signing in and checking permissions")
        report = await connector.test_connection()
        for step in report.steps:
            yield step

    def isComplete(self) -> bool:  # noqa: N802 - Qt override
        return self.state.tested_ok and not self.busy()
