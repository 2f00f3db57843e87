"""What every wizard page shares: the context, the collected state, and coroutines it owns and cancels."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QWizardPage

from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.state import WizardState

if TYPE_CHECKING:
    from atlas_desktop.ui.wizard.wizard import SetupWizard

log = logging.getLogger(__name__)


def heading_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class WizardPageBase(QWizardPage):
    """A page that runs its network work as asyncio tasks on the shared (qasync) loop, never blocking."""

    def __init__(self, ctx: WizardContext, state: WizardState) -> None:
        super().__init__()
        self.ctx = ctx
        self.state = state
        self._tasks: set[asyncio.Task[Any]] = set()

    def setup_wizard(self) -> SetupWizard:
        from atlas_desktop.ui.wizard.wizard import SetupWizard

        wizard = self.wizard()
        assert isinstance(wizard, SetupWizard)
        return wizard

    def start_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # Pages are incomplete while busy: now that this work ended, Next may become enabled.
        self.completeChanged.emit()
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            # Pages turn expected (typed) errors into inline messages; anything else is a bug to report.
            task.get_loop().call_exception_handler(
                {"message": f"wizard task {task.get_name()} failed", "exception": error, "task": task}
            )

    def busy(self) -> bool:
        return any(not task.done() for task in self._tasks)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def state_changed(self) -> None:
        """Fields changed: re-check completeness and keep the draft current."""
        self.completeChanged.emit()
        wizard = self.wizard()
        if wizard is not None:
            self.setup_wizard().schedule_draft_save()

    def cleanupPage(self) -> None:  # noqa: N802 - Qt override
        # Going Back keeps the values (QWizard would reset fields); only running work stops.
        self.cancel_tasks()
