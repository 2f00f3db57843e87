"""A seeded bidirectional workload with injected faults, and the invariants checked after every round."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from tests.torture import netsuite_moves
from tests.torture.world import TortureWorld

NETWORK_FAULTS = (
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503},
    {"kind": "status", "status": 429},
    {"kind": "drop_before"},
    {"kind": "drop_after"},
    {"kind": "delay", "delay_s": 0.05},  # a slow response
)
WRITE_PATHS = {
    "netsuite": ("/record/v1/inventoryAdjustment", "/query/v1/suiteql"),
    "sap": ("A_MaterialDocumentHeader", "A_MatlStkInAcctMod", r"\$batch"),
    "atlas": ("/inventory/batch|/adjustments", "/api/v1/inventory", "/changes"),  # batched or single
}


def move_stock(world: TortureWorld, rng: random.Random, moves: int, frozen: set[int]) -> Counter[str]:
    """People at work: Atlas sales; ERP receipts and issues (in NetSuite also fulfilments, cash sales,
    invoices, transfers, assembly builds and status changes); never more than a row holds.
    Returns how many ERP moves of each kind were made."""
    candidates = [mid for mid in world.mappings if mid not in frozen]
    made: Counter[str] = Counter()
    netsuite = world.erp_name == "netsuite"
    for _ in range(moves):
        mid = rng.choice(candidates)
        mapping, qty = world.mappings[mid], Decimal(rng.randint(1, 3))
        kind = rng.choice(("sale", "receipt", "issue", "other") if netsuite else ("sale", "receipt", "issue"))
        if kind == "sale" and world.atlas_qty(mapping) >= qty:
            world.atlas.sell(mapping.atlas_inventory_id, qty)
            world.expected[mid] -= qty
        elif kind == "issue" and netsuite:
            if done := netsuite_moves.issue(world, rng, mapping, qty):
                world.expected[mid] -= qty
                made[done] += 1
        elif kind == "issue" and world.erp_qty(mapping) >= qty:
            world.erp_issue(mapping, qty)
            world.expected[mid] -= qty
        elif kind == "receipt" and netsuite:
            made[netsuite_moves.receive(world, rng, mapping, qty)] += 1
            world.expected[mid] += qty
        elif kind == "receipt":
            if rng.random() < 0.25:
                qty = Decimal(12)  # a case: SAP posts it in the alternative unit CS (sap.md §13)
            world.erp_receive(mapping, qty)
            world.expected[mid] += qty
        elif kind == "other" and (done := netsuite_moves.other(world, rng, mid, qty, candidates)):
            made[done] += 1  # the ledger was kept by the move itself
    return made


def inject_faults(world: TortureWorld, rng: random.Random) -> None:
    for side, emulator in (("erp", world.erp), ("atlas", world.atlas)):
        paths = WRITE_PATHS[world.erp_name if side == "erp" else "atlas"]
        for _ in range(rng.randint(0, 3)):
            fault = dict(rng.choice(NETWORK_FAULTS))
            emulator.faults.add(
                fault.pop("kind"), path=rng.choice(paths), times=rng.randint(1, 2),
                probability=rng.choice((0.3, 0.6, 1.0)), **fault,
            )  # fmt: skip
    if world.erp_name == "sap":
        if rng.random() < 0.3:
            world.erp.expire_csrf_tokens()
        if rng.random() < 0.3:
            world.erp.expire_access_tokens()


async def torture(world: TortureWorld, seed: int, rounds: int, moves: int) -> dict[str, int]:
    """Rounds of moves + a faulty run + recovery runs; returns counters for the caller to sanity-check."""
    rng = random.Random(seed)
    frozen: set[int] = set()  # mappings with an open conflict: both sides left alone, as designed
    seen_conflicts: set[int] = set()
    counters = {"faulty_runs_not_clean": 0, "conflicts": 0}
    for round_no in range(rounds):
        for kind, n in move_stock(world, rng, moves, frozen).items():
            counters[f"erp {kind}"] = counters.get(f"erp {kind}", 0) + n
        inject_faults(world, rng)
        faulty = await world.engine.sync(world.connection_id)
        if faulty.status.value != "success" or faulty.in_doubt:
            counters["faulty_runs_not_clean"] += 1
        world.clear_faults()
        for _ in range(3):  # recovery: the outbox and the in-doubt lookups finish the work
            summary = await world.engine.sync(world.connection_id)
            if summary.status.value == "success" and not summary.in_doubt:
                break
        assert summary.status.value == "success", (round_no, summary.error_message)
        open_now = world.open_conflict_mappings()
        assert seen_conflicts <= open_now, f"round {round_no}: a conflict vanished unresolved"
        seen_conflicts |= open_now
        frozen |= open_now
        assert world.duplicate_postings() == [], f"round {round_no}: posted twice"
        wrong = world.mismatches(frozen)
        assert wrong == [], f"round {round_no}: (mapping, expected, atlas, erp) {wrong}"
    counters["conflicts"] = len(seen_conflicts)
    return counters
