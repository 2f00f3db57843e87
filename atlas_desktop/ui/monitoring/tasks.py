"""Coroutines started from widgets: kept referenced, cancelled on close, expected errors shown inline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from atlas_desktop.domain.errors import AtlasDesktopError

log = logging.getLogger(__name__)


class TaskGroup:
    """Owns a widget's background tasks. `on_error` gets the text of an expected (typed) error;
    `on_idle` runs when the last task ends, so buttons disabled while busy come back by themselves."""

    def __init__(self, on_error: Callable[[str], None], on_idle: Callable[[], None] | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error
        self._on_idle = on_idle

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not self._tasks and self._on_idle is not None:
            self._on_idle()

    async def _guard(self, coro: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await coro
        except AtlasDesktopError as error:
            # Expected failures are shown next to what the person did, with the fix; never a modal.
            self._on_error(f"{error.message} — {error.fix}" if error.fix else error.message)
        return None

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def cancel_all(self) -> None:
        """Cancel without waiting (a dialog that closes: its reads have nobody to show them to)."""
        for task in list(self._tasks):
            task.cancel()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
