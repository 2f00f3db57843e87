"""A push wave: `parallel` writes in flight at most (and that many used), outcomes in the wave's order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.errors import ValidationFailed
from atlas_desktop.domain.model import Side
from atlas_desktop.domain.operations import ATLAS_ADJUST
from atlas_desktop.domain.outbox import OutboxEntry
from atlas_desktop.engine.push import Pusher
from tests.engine.fake_ports import AsyncPort


def entry(n: int) -> OutboxEntry:
    return OutboxEntry(
        n, n, n, Side.ATLAS, ATLAS_ADJUST, {"row_id": f"row-{n}", "delta": "1"}, f"key-{n}",
        OutboxStatus.PENDING, 0, None,
    )  # fmt: skip


class Decisions:
    def __init__(self, entries: list[OutboxEntry]) -> None:
        self.entries = entries
        self.done: list[tuple[int, str | None]] = []
        self.failed: list[int] = []

    def pending_writes(self, _cid: str, *, limit: int, after_id: int) -> list[OutboxEntry]:
        return [e for e in self.entries if e.id > after_id and e.id not in self.closed][:limit]

    @property
    def closed(self) -> set[int]:
        return {i for i, _ in self.done} | set(self.failed)

    def mark_sending_many(self, ids: list[int]) -> list[int]:
        return list(ids)

    def mark_done_many(self, confirmed: list[tuple[int, str | None]]) -> int:
        self.done += confirmed
        return len(confirmed)

    def mark_failed(self, outbox_id: int, _error: str) -> None:
        self.failed.append(outbox_id)


class Atlas:
    """Answers after a random delay, so writes finish out of order; refuses row 7."""

    def __init__(self) -> None:
        self.in_flight = self.most = self.most_tasks = 0

    async def adjust(self, row_id: str, delta: Decimal, *, key: str) -> Any:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.most_tasks = max(self.most_tasks, len(asyncio.all_tasks()))
        try:
            await asyncio.sleep(random.random() / 1000)
            if row_id == "row-7":
                raise ValidationFailed("Atlas refused the change")
            return type("Row", (), {"id": row_id, "version": 2, "quantity": Decimal(1)})()
        finally:
            self.in_flight -= 1


class Mirrors:
    def upsert_atlas_rows(self, _cid: str, rows: list[Any], _key: Callable[..., Any]) -> None:
        pass


async def test_a_wave_keeps_to_the_limit_and_to_its_order() -> None:
    random.seed(7)
    entries = [entry(n) for n in range(1, 301)]
    decisions, atlas = Decisions(entries), Atlas()
    audited: list[list[int]] = []

    async def audit(written: list[tuple[OutboxEntry, str | None]]) -> None:
        audited.append([e.id for e, _ in written])

    # One request per write (batch_atlas=False): this is the test of those senders.
    pusher = Pusher(AsyncPort(decisions), AsyncPort(Mirrors()), "c1", erp=None, atlas=atlas,  # type: ignore[arg-type]
                    parallel=16, on_written=audit, batch_atlas=False)  # fmt: skip

    stats = await pusher.drain()

    assert atlas.most == 16  # the limit is used, and never passed
    # One task per sender, not per write (300 tasks at once held the window's thread): + the test's own.
    assert atlas.most_tasks <= 16 + 1
    assert stats.done == 299 and stats.failed == 1
    assert audited == [[n for n in range(1, 301) if n != 7]]  # told once per wave, in the wave's order
    assert [i for i, _ in decisions.done] == [n for n in range(1, 301) if n != 7]
    assert decisions.failed == [7] and [e.id for e, _ in stats.errors] == [7]
