"""Exclusive locks between processes sharing one profile, released by the OS when the holder dies.

A lock is a file in the profile's `locks/` folder held with flock (Unix) or LockFileEx (Windows) through
`filelock`; a killed process leaves no stale lock behind. The holder writes its pid beside the lock so
a process that is refused can say who has it.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from filelock import FileLock, Timeout

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class ProcessLock:
    """One named lock. `acquire` never blocks longer than asked; `release` is idempotent."""

    def __init__(self, folder: Path, name: str) -> None:
        safe = _SAFE_NAME.sub("_", name)
        self._path = folder / f"{safe}.lock"
        self._pid_path = folder / f"{safe}.pid"
        self._folder = folder
        # thread_local=False: the event loop's thread takes it, a DB or worker thread may release it.
        self._lock = FileLock(self._path, thread_local=False, is_singleton=False)
        self.name = name

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self, wait: float = 0.0) -> bool:
        """True once this process holds the lock; False if another one still holds it after `wait` s."""
        if self._lock.is_locked:
            return True
        self._folder.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=max(wait, 0.0), poll_interval=0.05)
        except Timeout:
            return False
        with contextlib.suppress(OSError):
            self._pid_path.write_text(str(os.getpid()), encoding="ascii")
        return True

    def release(self) -> None:
        if not self._lock.is_locked:
            return
        with contextlib.suppress(OSError):
            self._pid_path.unlink()
        self._lock.release(force=True)

    def holder_pid(self) -> int | None:
        """The pid of the process that holds the lock, if it said so (None when free or unknown)."""
        if self._lock.is_locked:
            return os.getpid()
        try:
            text = self._pid_path.read_text(encoding="ascii").strip()
        except OSError:
            return None
        return int(text) if text.isdigit() and text.isascii() else None

    def is_held_elsewhere(self) -> bool:
        """True when another process holds the lock right now (probes without keeping it)."""
        if self._lock.is_locked:
            return False
        if self.acquire():
            self.release()
            return False
        return True


class ProcessLocks:
    """The profile's named locks: one per connection's sync run, one for the schedule."""

    SCHEDULER = "scheduler"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._locks: dict[str, ProcessLock] = {}

    def named(self, name: str) -> ProcessLock:
        if name not in self._locks:
            self._locks[name] = ProcessLock(self.folder, name)
        return self._locks[name]

    def run(self, connection_id: str) -> ProcessLock:
        """Held while a sync, discovery, reconcile or conflict resolution touches the connection."""
        return self.named(f"run-{connection_id}")

    def scheduler(self) -> ProcessLock:
        """Held by the one process (window or agent) that runs the profile's schedule and triggers."""
        return self.named(self.SCHEDULER)
