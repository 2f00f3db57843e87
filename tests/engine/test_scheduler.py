"""Scheduled runs: jobs rebuilt from the connections table, nightly reconciliation, no stacking, and
runs another process holds skipped without stopping the schedule or the change feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from atlas_desktop.domain.enums import SyncType
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.engine import scheduler as scheduler_module
from atlas_desktop.engine.api import RunInProgress
from atlas_desktop.engine.scheduler import ChangeFeedTrigger, ScheduledConnection, SyncScheduler


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


async def test_a_run_another_process_holds_is_skipped_at_info_and_the_schedule_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def busy(connection_id: str, sync_type: SyncType) -> None:
        raise RunInProgress(connection_id, "Main NetSuite", 4242)

    scheduler = SyncScheduler(busy, lambda: [ScheduledConnection("a", 15)])
    scheduler.start()
    try:
        with caplog.at_level(logging.INFO, logger="atlas_desktop.engine.scheduler"):
            for job_id in ("a", "reconcile:a"):
                job = scheduler._scheduler.get_job(job_id)
                await job.func(*job.args)  # no exception reaches APScheduler's error listener
        assert set(scheduler.job_ids) == {"__watchdog__", "a", "reconcile:a"}
    finally:
        scheduler.shutdown()
    skipped = [r for r in caplog.records if "already running in process 4242" in r.getMessage()]
    assert [r.levelno for r in skipped] == [logging.INFO, logging.INFO]


class Feed:
    """An Atlas change feed that delivers two batches of changes, then ends."""

    async def follow_changes(self, since: str | None, wait: int) -> AsyncIterator[Any]:
        for cursor in ("c1", "c2"):
            yield SimpleNamespace(cursor=cursor, changes=[{"id": cursor}])


async def test_the_change_feed_keeps_following_when_a_real_time_run_cannot_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler_module, "REAL_TIME_DEBOUNCE_S", 0)
    answers: list[Exception] = [RunInProgress("a", "Main NetSuite", 4242), ConfigError("x", "broken")]
    calls = 0

    async def on_change() -> None:
        nonlocal calls
        calls += 1
        raise answers.pop(0)

    trigger = ChangeFeedTrigger(Feed(), None, on_change)
    trigger.start()
    await asyncio.sleep(0.05)
    await trigger.stop()
    assert calls == 2  # the second batch still asked for a run
