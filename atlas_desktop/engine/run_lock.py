"""One run per connection across processes: the lock the composition root hands in, taken off the loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from atlas_desktop.engine.api import RunInProgress

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


class RunGate:
    """One run of a connection at a time: this process's asyncio lock, then the profile's run lock inside
    it, so no two runs overlap in any process (each would carry the same sale across, and post it twice).
    """

    def __init__(
        self,
        locks: RunLocks | None,
        *,
        wait: float,
        name_of: Callable[[str], Awaitable[str]],
        on_taken: Callable[[str], Awaitable[None]],
    ) -> None:
        self._locks = locks  # None: this process is the profile's only user (tests, in-memory profiles)
        self.wait = wait
        self._name_of = name_of
        self._on_taken = on_taken  # runs once no other process can be running the connection
        self._local: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, connection_id: str, *, queue_here: bool = True) -> AsyncIterator[None]:
        """Raises RunInProgress when another process still holds the connection after `wait` seconds,
        or at once with `queue_here=False` when this process is running it."""
        local = self._local.setdefault(connection_id, asyncio.Lock())
        if not queue_here and local.locked():
            raise RunInProgress(connection_id, await self._name_of(connection_id), os.getpid())
        async with local:
            if self._locks is None:
                yield
                return
            lock = self._locks(connection_id)
            if not await acquire(lock, self.wait):
                pid = await asyncio.to_thread(lock.holder_pid)
                raise RunInProgress(connection_id, await self._name_of(connection_id), pid)
            try:
                await self._on_taken(connection_id)
                yield
            finally:
                lock.release()
