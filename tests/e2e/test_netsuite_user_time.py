"""A NetSuite user in New York: ERP changes made near local midnight and across DST reach Atlas once.

SuiteQL shows and compares datetimes in the token user's time zone (reference §9). The account and its
connector run on a clock set to the night in question; each change is synced by the next run, and a run
after it finds nothing more to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.torture.world import first_sync, torture_world

pytestmark = pytest.mark.e2e


@dataclass
class NightClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def at(self, moment: datetime) -> None:
        self.now = moment


@pytest.mark.parametrize(
    ("first_sync_at", "change_at"),
    [
        # 23:00 and 23:30 in New York: already the next day in UTC
        (datetime(2026, 11, 28, 4, 0, tzinfo=UTC), datetime(2026, 11, 28, 4, 30, tzinfo=UTC)),
        # 01:50 EDT, then 01:20 EST: the clocks went back in between, local time ran backwards
        (datetime(2026, 11, 1, 5, 50, tzinfo=UTC), datetime(2026, 11, 1, 6, 20, tzinfo=UTC)),
        # 01:50 EST, then 03:05 EDT: the clocks went forward, a local hour never happened
        (datetime(2026, 3, 8, 6, 50, tzinfo=UTC), datetime(2026, 3, 8, 7, 5, tzinfo=UTC)),
    ],
    ids=["local-23:30", "dst-fall-back", "dst-spring-forward"],
)
async def test_an_erp_change_at_a_tricky_local_time_is_synced_exactly_once(
    tmp_path: Path, first_sync_at: datetime, change_at: datetime
) -> None:
    clock = NightClock(first_sync_at)
    with torture_world(tmp_path, "netsuite", size=12, erp_clock=clock) as world:
        assert str(world.erp.state.user_zone) == "America/New_York"
        await first_sync(world)
        mapping = next(m for m in world.mappings.values() if world.expected[m.id] >= 0)

        clock.at(change_at)
        world.erp_receive(mapping, Decimal(5))  # an ERP user receives stock at that local time
        world.expected[mapping.id] += 5
        clock.at(change_at + timedelta(minutes=1))
        summary = await world.engine.sync(world.connection_id)
        assert summary.status.value == "success", summary.error_message
        assert world.atlas_qty(mapping) == world.expected[mapping.id] == world.erp_qty(mapping)

        clock.at(change_at + timedelta(minutes=3))  # the next run's overlap window covers the change again
        again = await world.engine.sync(world.connection_id)
        assert again.status.value == "success", again.error_message
        assert world.mismatches(set()) == [] and world.duplicate_postings() == []
        assert world.atlas_qty(mapping) == world.expected[mapping.id]
