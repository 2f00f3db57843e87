"""The window's qasync loop, with cancelled timers taken out of Qt at once (not left to fire later)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import Context
from typing import Any

import PySide6  # noqa: F401 - before qasync, which binds to the Qt binding already imported
import qasync
from PySide6.QtCore import QObject, QTimerEvent

# Why: qasync arms one Qt timer per call_later and leaves it armed when the handle is cancelled. Every
# HTTP request arms 10-60 s timeouts (anyio) and cancels them when the answer comes, so a sync keeps tens of
# thousands of dead timers in Qt; Qt rounds timers of 20 s and more to whole seconds, so they expire in a
# burst every second and stall the window. Delays
# from this long on get a timer that a cancel kills; shorter ones expire soon anyway and stay qasync's.
KILLED_FROM_S = 1.0


class _Timers(QObject):
    """One Qt timer per pending handle; a cancelled handle's timer is killed, not left to fire."""

    def __init__(self) -> None:
        super().__init__()
        self._handles: dict[int, asyncio.TimerHandle] = {}
        self._ids: dict[int, int] = {}  # id(handle) -> Qt timer id

    def add(self, handle: asyncio.TimerHandle, delay: float) -> None:
        timer_id = self.startTimer(int(max(0.0, delay) * 1000))
        self._handles[timer_id] = handle
        self._ids[id(handle)] = timer_id

    def cancel(self, handle: asyncio.TimerHandle) -> None:
        timer_id = self._ids.pop(id(handle), None)
        if timer_id is not None:
            self._handles.pop(timer_id, None)
            self.killTimer(timer_id)

    def stop(self) -> None:
        for timer_id in list(self._handles):
            self.killTimer(timer_id)
        self._handles.clear()
        self._ids.clear()

    def pending(self) -> int:
        return len(self._handles)

    def timerEvent(self, event: QTimerEvent) -> None:  # noqa: N802 - Qt override
        timer_id = event.timerId()
        self.killTimer(timer_id)
        handle = self._handles.pop(timer_id, None)
        if handle is None:
            return
        self._ids.pop(id(handle), None)
        if not handle.cancelled():
            handle._run()


class EventLoop(qasync.QEventLoop):
    """qasync.QEventLoop whose long timers (timeouts, mostly) leave Qt as soon as they are cancelled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._long_timers = _Timers()

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, context: Context | None = None
    ) -> Any:
        if delay < KILLED_FROM_S:
            return super().call_later(delay, callback, *args, context=context)
        handle = asyncio.TimerHandle(self.time() + delay, callback, args, self, context=context)
        handle._scheduled = True  # type: ignore[attr-defined]  # cancel() then tells _timer_handle_cancelled
        self._long_timers.add(handle, delay)
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        self._long_timers.cancel(handle)

    def close(self) -> None:
        self._long_timers.stop()
        super().close()
