"""The CLI against the sandbox process over real sockets: import, sign in, discover, sync, move, converge."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.torture.sockets import Sides, key_of, matched, sandbox_process, setup_profile, sync_json

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # ~90 s: real processes


@pytest.mark.parametrize("erp", ["netsuite", "sap-onprem"])
async def test_cli_sync_over_sockets_converges_after_moves_on_both_sides(tmp_path: Path, erp: str) -> None:
    with sandbox_process(tmp_path) as sandbox:
        home = tmp_path / "home"
        connection_id = setup_profile(home, sandbox, erp)
        first = sync_json(home, connection_id)
        assert first["status"] == "success", first

        sides = Sides(sandbox, erp)
        try:
            levels = await sides.erp_levels()
            rows = [m for m in matched(home, connection_id) if levels[key_of(m)].quantity >= 3]
            both, atlas_only, erp_only = rows[0], rows[1], rows[2]
            for mapping in (both, atlas_only, erp_only):  # the first sync agreed on every row
                assert sides.atlas_qty(mapping["atlas_inventory_id"]) == levels[key_of(mapping)].quantity
            before = {m["id"]: levels[key_of(m)].quantity for m in (both, atlas_only, erp_only)}

            sides.atlas_sell(both["atlas_inventory_id"], Decimal(2))
            sides.atlas_sell(atlas_only["atlas_inventory_id"], Decimal(1))
            # in NetSuite an item receipt and a cash sale (stock moves through many types, reference §9)
            moves = ((both, Decimal(5), "ItemRcpt"), (erp_only, Decimal(-2), "CashSale"))
            for n, (mapping, delta, kind) in enumerate(moves):
                unit = levels[key_of(mapping)].unit
                netsuite_type = kind if erp == "netsuite" else None
                await sides.erp_move(key_of(mapping), delta, unit, f"e2e-user-{erp}-{n}", netsuite_type)

            second = sync_json(home, connection_id)
            assert second["status"] == "success", second
            assert second["items_synced"] >= 3
            expected = {both["id"]: before[both["id"]] + 3, atlas_only["id"]: before[atlas_only["id"]] - 1,
                        erp_only["id"]: before[erp_only["id"]] - 2}  # fmt: skip
            after = await sides.erp_levels()
            for mapping in (both, atlas_only, erp_only):
                assert sides.atlas_qty(mapping["atlas_inventory_id"]) == expected[mapping["id"]]
                assert after[key_of(mapping)].quantity == expected[mapping["id"]]

            idle = sync_json(home, connection_id)
            assert idle["status"] == "success" and idle["items_synced"] == 0, idle
        finally:
            sides.close()
