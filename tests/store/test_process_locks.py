"""Process locks: one holder across processes, freed by the OS when the holder is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from atlas_desktop.store.process_locks import ProcessLock, ProcessLocks

_HOLD = """
import sys, time
from pathlib import Path
from atlas_desktop.store.process_locks import ProcessLock
lock = ProcessLock(Path(sys.argv[1]), sys.argv[2])
assert lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def _holder(folder: Path, name: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(folder), name], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_process_is_refused_and_told_the_holder(tmp_path: Path) -> None:
    process = _holder(tmp_path, "run-c1")
    try:
        lock = ProcessLock(tmp_path, "run-c1")
        assert not lock.acquire()
        assert not lock.acquire(wait=0.2)
        assert lock.is_held_elsewhere()
        assert lock.holder_pid() == process.pid
        assert ProcessLock(tmp_path, "run-c2").acquire()  # other names are independent
    finally:
        process.kill()
        process.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    process = _holder(tmp_path, "scheduler")
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    lock = ProcessLocks(tmp_path).scheduler()
    assert lock.acquire(wait=2.0)
    assert lock.holder_pid() == os.getpid()
    lock.release()
    lock.release()  # idempotent
    assert not lock.held


def test_waiting_acquire_gets_the_lock_when_the_holder_ends(tmp_path: Path) -> None:
    process = _holder(tmp_path, "run-c1")
    lock = ProcessLock(tmp_path, "run-c1")
    started = time.monotonic()
    process.terminate()
    assert lock.acquire(wait=5.0)
    assert time.monotonic() - started < 5.0
    process.wait()
    assert not lock.is_held_elsewhere()


def test_names_are_made_safe_for_the_file_system(tmp_path: Path) -> None:
    lock = ProcessLocks(tmp_path).run("../../etc/x y")
    assert lock.acquire()
    assert all(path.parent == tmp_path for path in tmp_path.iterdir())
    lock.release()
