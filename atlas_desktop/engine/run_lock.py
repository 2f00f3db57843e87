"""One run per connection across processes: the lock the composition root hands in, taken off the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

DEFAULT_WAIT_S = 5.0  # long enough to queue behind a short run, short enough for a person at a command line


class ProcessLockPort(Protocol):
    """A lock between processes (store.process_locks.ProcessLock), released by the OS if its holder dies."""

    def acquire(self, wait: float = 0.0) -> bool: ...

    def release(self) -> None: ...

    def holder_pid(self) -> int | None: ...


RunLocks = Callable[[str], ProcessLockPort]  # connection id -> the lock its runs hold


async def acquire(lock: ProcessLockPort, wait: float) -> bool:
    """`lock.acquire(wait)` on a worker thread, so the event loop (and the window) never waits for it.

    A caller cancelled while the thread still waits must not leave the lock held by nobody's run: the
    thread's late success is released as soon as it lands.
    """
    attempt = asyncio.ensure_future(asyncio.to_thread(lock.acquire, wait))
    try:
        return await asyncio.shield(attempt)
    except asyncio.CancelledError:
        attempt.add_done_callback(lambda done: _release_if_taken(lock, done))
        raise


def _release_if_taken(lock: ProcessLockPort, done: asyncio.Future[bool]) -> None:
    if not done.cancelled() and done.exception() is None and done.result():
        lock.release()
