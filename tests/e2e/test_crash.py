"""A real `atlas-desktop sync` process killed with SIGKILL at random points, restarted each time.

The sandbox runs as its own process, so the emulators' state survives every kill. At the end both sides
must hold base + every delta made on either side (a delta posted twice, or lost, breaks that equality).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.torture.sockets import (
    ROOT,
    Sides,
    cli_env,
    key_of,
    matched,
    sandbox_process,
    setup_profile,
    sync_json,
)  # fmt: skip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("erp", ["netsuite", "sap-onprem"])
async def test_sigkilled_syncs_lose_nothing_and_post_nothing_twice(tmp_path: Path, erp: str) -> None:
    rng = random.Random(99)
    # With batched writes a sync of a few changes takes a handful of requests: on a loopback network it
    # ends before most kill points, so the sandbox answers with a real network's latency.
    with sandbox_process(tmp_path, items=60, latency_ms=150) as sandbox:
        home = tmp_path / "home"
        connection_id = setup_profile(home, sandbox, erp)
        assert sync_json(home, connection_id)["status"] == "success"
        sides = Sides(sandbox, erp)
        try:
            levels = await sides.erp_levels()
            mappings = [m for m in matched(home, connection_id) if levels[key_of(m)].quantity >= 10]
            expected = {m["id"]: levels[key_of(m)].quantity for m in mappings}
            kills = 0
            for iteration in range(6):
                for n, mapping in enumerate(rng.sample(mappings, 6)):
                    if n % 2:
                        sides.atlas_sell(mapping["atlas_inventory_id"], Decimal(1))
                        expected[mapping["id"]] -= 1
                    else:
                        unit = levels[key_of(mapping)].unit
                        await sides.erp_move(key_of(mapping), Decimal(2), unit, f"user-{iteration}-{n}")
                        expected[mapping["id"]] += 2
                process = subprocess.Popen(
                    [sys.executable, "-m", "atlas_desktop", "sync", connection_id, "--yes"],
                    env=cli_env(home), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(rng.uniform(0.5, 4.0))  # imports, pull, merge or push: wherever it is
                if process.poll() is None:
                    process.kill()  # SIGKILL: no cleanup, no flush
                    kills += 1
                process.wait(10)
            assert kills >= 2, "the sync always finished before the kill: nothing was tested"
            for _ in range(3):
                final = sync_json(home, connection_id)
                if final["status"] == "success" and not final["in_doubt"]:
                    break
            assert final["status"] == "success", final
            after = await sides.erp_levels()
            for mapping in mappings:
                want = expected[mapping["id"]]
                assert sides.atlas_qty(mapping["atlas_inventory_id"]) == want, mapping
                assert after[key_of(mapping)].quantity == want, mapping
        finally:
            sides.close()
