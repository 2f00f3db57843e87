"""The engine's run lock between processes: taken off the event loop, refused with RunInProgress, always
released, and around everything that changes a connection's sync state."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from atlas_desktop.domain.enums import Resolution
from atlas_desktop.engine.api import RunInProgress
from atlas_desktop.engine.ports import EnginePorts
from atlas_desktop.engine.run_lock import acquire
from atlas_desktop.engine.service import EngineService
from atlas_desktop.store.db_thread import DbThread


class FakeLock:
    """A process lock whose answer the test decides; it notes the thread each call ran on."""

    def __init__(self, *, free: bool = True, holder: int | None = 4242, delay: float = 0.0) -> None:
        self.free, self.holder, self.delay = free, holder, delay
        self.held = False
        self.waits: list[float] = []
        self.threads: list[int] = []
        self.releases = 0

    def acquire(self, wait: float = 0.0) -> bool:
        self.threads.append(threading.get_ident())
        self.waits.append(wait)
        threading.Event().wait(self.delay)
        self.held = self.free
        return self.free

    def release(self) -> None:
        self.releases += 1
        self.held = False

    def holder_pid(self) -> int | None:
        return self.holder


class FakeRuns:
    def __init__(self) -> None:
        self.interrupted: list[str] = []

    async def mark_interrupted(self, connection_id: str) -> int:
        self.interrupted.append(connection_id)
        return 0


def engine_with(lock: FakeLock | None, runs: FakeRuns | None = None) -> EngineService:
    async def conflict(_id: int) -> SimpleNamespace:
        return SimpleNamespace(connection_id="c1")

    unused = None  # a refused run reaches neither mirrors, mappings nor the outbox
    ports = EnginePorts(DbThread(), unused, unused, unused, unused, unused, runs or FakeRuns(),
                        SimpleNamespace(get=conflict))  # fmt: skip

    def no_connector(*_: Any) -> Any:
        raise AssertionError("a refused run must not reach the remote systems")

    return EngineService(
        ports,
        connection_spec=no_connector,
        connection_summary=lambda cid: SimpleNamespace(name="Main NetSuite"),
        erp_factory=no_connector,
        atlas_factory=no_connector,
        run_locks=None if lock is None else (lambda cid: lock),
        run_lock_wait=0.3,
    )


@pytest.mark.parametrize(
    "operation",
    [
        lambda engine: engine.sync("c1", approve=True),
        lambda engine: engine.preview("c1"),
        lambda engine: engine.discover("c1"),
        lambda engine: engine.reconcile("c1"),
        lambda engine: engine.resolve_conflict(7, Resolution.TAKE_ERP, None),
    ],
    ids=["sync", "preview", "discover", "reconcile", "resolve"],
)
async def test_every_state_changing_operation_is_refused_while_another_process_runs(operation: Any) -> None:
    lock, runs = FakeLock(free=False), FakeRuns()
    engine = engine_with(lock, runs)
    try:
        with pytest.raises(RunInProgress) as refused:
            await operation(engine)
    finally:
        await engine.aclose()
    assert refused.value.pid == 4242 and refused.value.connection_id == "c1"
    assert refused.value.message == "a sync of Main NetSuite is already running in process 4242"
    assert lock.waits == [0.3]  # waited the engine's parameter, once
    assert lock.releases == 0 and runs.interrupted == []  # nothing was taken, nothing touched


async def test_the_lock_is_taken_off_the_loop_and_released_when_the_work_fails() -> None:
    lock, runs = FakeLock(), FakeRuns()
    engine = engine_with(lock, runs)
    try:
        with pytest.raises(ValueError):
            async with engine.exclusive("c1"):
                assert lock.held
                raise ValueError("the run broke")
    finally:
        await engine.aclose()
    assert threading.get_ident() not in lock.threads
    assert lock.releases == 1 and not lock.held
    assert runs.interrupted == ["c1"]  # with the lock, runs still "running" are a dead process's


async def test_the_loop_keeps_running_while_the_lock_is_waited_for() -> None:
    lock = FakeLock(free=False, holder=None, delay=0.3)
    engine = engine_with(lock)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        with pytest.raises(RunInProgress, match="already running in another process"):
            await engine.sync("c1")
    finally:
        ticker.cancel()
        await engine.aclose()
    assert ticks >= 10


async def test_a_cancelled_wait_gives_back_a_lock_taken_late() -> None:
    lock = FakeLock(delay=0.2)
    attempt = asyncio.ensure_future(acquire(lock, 1.0))
    await asyncio.sleep(0.05)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    await asyncio.sleep(0.3)
    assert lock.releases == 1 and not lock.held


async def test_exclusive_refuses_at_once_while_this_process_runs_the_connection() -> None:
    lock = FakeLock()
    engine = engine_with(lock)
    try:
        async with engine.exclusive("c1"):
            with pytest.raises(RunInProgress, match="Main NetSuite"):
                async with engine.exclusive("c1"):
                    pass
    finally:
        await engine.aclose()
    assert lock.releases == 1


async def test_without_locks_handed_in_runs_are_only_serialised_in_process() -> None:
    runs = FakeRuns()
    engine = engine_with(None, runs)
    try:
        async with engine.exclusive("c1"):
            pass
    finally:
        await engine.aclose()
    assert runs.interrupted == []  # no lock: a "running" row may be another process's live run
