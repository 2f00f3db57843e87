"""A run keeps the event loop (the desktop window's thread) free: the ERP connector is built, the merge
planned and the audit trail written on the DB thread, and the results are the same as before."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from atlas_desktop.engine import runner
from atlas_desktop.engine.api import RunStatus
from tests.engine.test_sync_e2e import World, matched, sides, world  # noqa: F401 - `world` is a fixture


class Threads:
    def __init__(self) -> None:
        self.seen: dict[str, set[int]] = {}

    def spy(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        self.seen[name] = set()

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.seen[name].add(threading.get_ident())
            return function(*args, **kwargs)

        return wrapped


async def test_a_first_sync_plans_and_audits_off_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    engine, cid = world.engine, world.connection_id
    threads = Threads()
    monkeypatch.setattr(runner, "plan", threads.spy("plan", runner.plan))
    monkeypatch.setattr(runner, "AuditEvent", threads.spy("audit", runner.AuditEvent))
    monkeypatch.setattr(engine, "_erp_factory", threads.spy("connector", engine._erp_factory))
    monkeypatch.setattr(runner, "AUDIT_CHUNK", 2)  # several audit calls: the chain must stay whole
    monkeypatch.setattr(runner, "MERGE_CHUNK", 9)  # several merge chunks: every key planned once

    await engine.discover(cid)
    first = await engine.sync(cid, approve=True)

    assert first.status is RunStatus.SUCCESS, first.error_message
    loop_thread = threading.get_ident()
    for name, seen in threads.seen.items():
        assert seen and loop_thread not in seen, f"{name} ran on the event loop's thread"
    mappings = matched(world)
    assert len(mappings) > 2 * 9
    for mapping in mappings:
        atlas_qty, erp_qty = sides(world, mapping)
        assert atlas_qty == erp_qty, mapping
    assert first.items_synced > 2  # more writes than one audit call takes

    assert engine.repos.audit.verify().ok
    out = tmp_path / "audit.json"
    engine.repos.audit.export(out, fmt="json")
    entries = json.loads(out.read_text())
    actions = [entry["action"] for entry in entries]
    assert actions.count("write") == first.items_synced
    run_entry = actions.index("sync_run")
    assert run_entry > max(i for i, action in enumerate(actions) if action == "write")  # the run last
