"""Scheduled runs: jobs rebuilt from the connections table, nightly reconciliation, no stacking."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from atlas_desktop.engine.api import SyncType
from atlas_desktop.engine.scheduler import ScheduledConnection, SyncScheduler


async def test_jobs_follow_the_connections_table_and_run_on_the_loop() -> None:
    connections = [ScheduledConnection("a", 15), ScheduledConnection("b", 60)]
    ran: list[tuple[str, SyncType]] = []
    started = asyncio.Event()

    async def run(connection_id: str, sync_type: SyncType) -> None:
        ran.append((connection_id, sync_type))
        started.set()

    scheduler = SyncScheduler(run, lambda: list(connections))
    scheduler.start()
    try:
        assert set(scheduler.job_ids) == {"__watchdog__", "a", "b", "reconcile:a", "reconcile:b"}
        connections.pop()  # connection b removed or paused
        scheduler.reload()
        assert set(scheduler.job_ids) == {"__watchdog__", "a", "reconcile:a"}
        job = scheduler._scheduler.get_job("a")
        await job.func(*job.args)  # what APScheduler awaits on the loop when the interval comes
        nightly = scheduler._scheduler.get_job("reconcile:a")
        await nightly.func(*nightly.args)
        assert ran == [("a", SyncType.SCHEDULED), ("a", SyncType.RECONCILE)]
        assert started.is_set()
    finally:
        scheduler.shutdown()


async def test_a_reload_keeps_unchanged_jobs_and_schedules_new_ones_soon() -> None:
    connections = [ScheduledConnection("a", 15)]

    async def run(connection_id: str, sync_type: SyncType) -> None:
        return None

    scheduler = SyncScheduler(run, lambda: list(connections), first_delay=60)
    scheduler.start()
    try:
        first = scheduler.next_run("a")
        assert first is not None
        scheduler._scheduler.modify_job("a", next_run_time=first + timedelta(minutes=10))
        connections.append(ScheduledConnection("b", 5))
        scheduler.reload()  # the periodic or event-driven reload: "a" must not be pulled forward
        assert scheduler.next_run("a") == first + timedelta(minutes=10)
        assert sorted(scheduler.connection_ids) == ["a", "b"]
        assert scheduler.next_run("b") is not None
        connections[0] = ScheduledConnection("a", 1)  # frequency changed: the new interval counts from now
        scheduler.reload()
        assert scheduler._scheduler.get_job("a").trigger.interval == timedelta(minutes=1)
        assert scheduler.next_run("a") < first + timedelta(minutes=10)
    finally:
        scheduler.shutdown()
