"""Randomised bidirectional workload with network faults, token and CSRF expiry, against both ERPs.

After every round (moves on both sides, one run with faults, recovery runs without): every mapped row
without an open conflict holds base + every delta on both sides, no idempotency key was posted twice,
and no conflict disappeared without being resolved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.torture.netsuite_moves import ALL_KINDS
from tests.torture.workload import torture
from tests.torture.world import first_sync, torture_world


@pytest.mark.parametrize("erp", ["netsuite", "sap"])
async def test_faulty_rounds_keep_every_delta_and_post_once(tmp_path: Path, erp: str) -> None:
    with torture_world(tmp_path, erp) as world:
        await first_sync(world)
        # NetSuite draws from nine kinds of ERP move: enough rounds that each comes up (more moves per
        # round would change over half the rows, which the engine holds back for approval)
        counters = await torture(world, seed=1234, rounds=7 if erp == "netsuite" else 4, moves=8)
        # The faults really hit the runs (else this test proves nothing).
        fired = sum(world.erp.app.stats.faults_fired.values())
        fired += sum(world.atlas.app.stats.faults_fired.values())
        assert fired >= 4
        assert counters["faulty_runs_not_clean"] >= 1
        if erp == "netsuite":  # the ERP side used every kind of stock-moving transaction
            assert {k for k in counters if k.startswith("erp ")} == {f"erp {k}" for k in ALL_KINDS}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("erp", ["netsuite", "sap"])
async def test_long_torture(tmp_path: Path, erp: str, seed: int) -> None:
    with torture_world(tmp_path, erp, size=60, seed=seed + 3) as world:
        await first_sync(world)
        await torture(world, seed=seed, rounds=15, moves=25)
