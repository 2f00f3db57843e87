"""Three-way merge: examples from sync-correctness.md and properties under any interleaving."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from atlas_desktop.domain.enums import ConflictPolicy, SyncDirection
from atlas_desktop.domain.model import Side
from atlas_desktop.engine.merge import MergeInput, SideValue, merge_key

D = Decimal
EXP = date(2027, 6, 30)


def sv(quantity: int | str, expiry: date | None = EXP) -> SideValue:
    return SideValue(D(quantity), expiry)


def test_both_sides_moved_deltas_add() -> None:
    # base 100, ERP ships 10 (90), Atlas sells 5 (95): 85, not 90 or 95.
    decision = merge_key(MergeInput(base=sv(100), atlas=sv(95), erp=sv(90)))
    assert decision.new_base == sv(85)
    assert decision.atlas_delta == D(-10) and decision.erp_delta == D(-5)
    assert not decision.clashes


def test_one_sided_change_is_carried() -> None:
    decision = merge_key(MergeInput(base=sv(100), atlas=sv(100), erp=sv(130)))
    assert (decision.atlas_delta, decision.erp_delta) == (D(30), D(0))


def test_nothing_changed_writes_nothing() -> None:
    decision = merge_key(MergeInput(base=sv(7), atlas=sv(7), erp=sv(7)))
    assert not decision.writes_anything and decision.new_base == sv(7)


def test_negative_merge_is_a_conflict_and_freezes_the_key() -> None:
    decision = merge_key(MergeInput(base=sv(10), atlas=sv(2), erp=sv(1)))
    assert decision.frozen and not decision.writes_anything and decision.new_base is None
    assert decision.clashes[0].field == "quantity" and "below zero" in decision.clashes[0].reason


def test_policies_are_honoured_exactly_and_recorded() -> None:
    atlas_wins = merge_key(
        MergeInput(base=sv(100), atlas=sv(95), erp=sv(90), policy=ConflictPolicy.ATLAS_WINS)
    )
    assert atlas_wins.new_base == sv(95) and atlas_wins.erp_delta == D(5) and atlas_wins.atlas_delta == 0
    assert atlas_wins.clashes[0].resolved_by is ConflictPolicy.ATLAS_WINS
    erp_wins = merge_key(MergeInput(base=sv(100), atlas=sv(95), erp=sv(90), policy=ConflictPolicy.ERP_WINS))
    assert erp_wins.new_base == sv(90) and erp_wins.atlas_delta == D(-5) and erp_wins.erp_delta == 0


def test_expiry_from_erp_is_carried_but_atlas_expiry_edit_is_a_conflict() -> None:
    carried = merge_key(MergeInput(base=sv(5), atlas=sv(5), erp=sv(5, date(2028, 1, 31))))
    assert carried.set_atlas_expiry and carried.atlas_expiry == date(2028, 1, 31)
    edited = merge_key(MergeInput(base=sv(5), atlas=sv(5, date(2029, 1, 1)), erp=sv(5)))
    assert edited.frozen and edited.clashes[0].field == "expiry"
    reset = merge_key(
        MergeInput(base=sv(5), atlas=sv(5, date(2029, 1, 1)), erp=sv(5), policy=ConflictPolicy.ERP_WINS)
    )
    assert reset.set_atlas_expiry and reset.atlas_expiry == EXP and reset.clashes[0].resolved_by


def test_first_sync_takes_the_initial_source() -> None:
    decision = merge_key(MergeInput(base=None, atlas=sv(3), erp=sv(10)))
    assert decision.atlas_delta == D(7) and decision.erp_delta == 0 and decision.new_base == sv(10)
    from_atlas = merge_key(MergeInput(base=None, atlas=sv(3), erp=sv(10), initial_source=Side.ATLAS))
    assert from_atlas.erp_delta == D(-7)


def test_one_way_mapping_never_writes_to_its_source() -> None:
    to_atlas = merge_key(
        MergeInput(base=sv(10), atlas=sv(8), erp=sv(12), direction=SyncDirection.ERP_TO_ATLAS)
    )
    assert to_atlas.erp_delta == 0 and to_atlas.atlas_delta == D(4)
    to_erp = merge_key(MergeInput(base=sv(10), atlas=sv(8), erp=sv(12), direction=SyncDirection.ATLAS_TO_ERP))
    assert to_erp.atlas_delta == 0 and to_erp.erp_delta == D(-4)


quantities = st.integers(min_value=0, max_value=10_000).map(D)
policies = st.sampled_from(list(ConflictPolicy))
directions = st.sampled_from(list(SyncDirection))


@given(base=quantities, atlas=quantities, erp=quantities, policy=policies, direction=directions)
def test_decisions_converge_and_one_way_respects_source(base, atlas, erp, policy, direction) -> None:  # type: ignore[no-untyped-def]
    decision = merge_key(MergeInput(sv(base), sv(atlas), sv(erp), direction, policy))
    if decision.frozen:
        assert not decision.writes_anything and decision.new_base is None
        return
    assert decision.new_base is not None
    assert atlas + decision.atlas_delta == erp + decision.erp_delta == decision.new_base.quantity
    if direction is SyncDirection.ERP_TO_ATLAS:
        assert decision.erp_delta == 0
    if direction is SyncDirection.ATLAS_TO_ERP:
        assert decision.atlas_delta == 0
    if direction is SyncDirection.BIDIRECTIONAL and policy is ConflictPolicy.MANUAL:
        assert decision.new_base.quantity - base == (atlas - base) + (erp - base)  # no delta lost
    again = merge_key(MergeInput(decision.new_base, decision.new_base, decision.new_base, direction, policy))
    assert not again.writes_anything  # idempotent: no echo, no ping-pong


@settings(max_examples=300)
@given(
    start=st.integers(min_value=50, max_value=500),
    script=st.lists(
        st.tuples(st.sampled_from(["atlas", "erp", "sync"]), st.integers(min_value=-5, max_value=20)),
        max_size=40,
    ),
    late=st.lists(
        st.tuples(st.sampled_from(["atlas", "erp"]), st.integers(min_value=-3, max_value=10)), max_size=3
    ),
)
def test_no_movement_lost_or_applied_twice_under_interleaving(start, script, late) -> None:  # type: ignore[no-untyped-def]
    """Sales/receipts land on both sides at any time, including between a run's read and its writes."""
    sides = {"atlas": D(start), "erp": D(start)}
    base = sv(start, None)
    total_moves = D(0)
    for action, amount in script:
        if action == "sync":
            observed = MergeInput(base, sv(sides["atlas"], None), sv(sides["erp"], None))
            decision = merge_key(observed)
            for side, delta in late:  # movements between the read and the relative writes
                if sides[side] + delta >= 0:
                    sides[side] += delta
                    total_moves += delta
            if decision.new_base is not None:
                sides["atlas"] += decision.atlas_delta
                sides["erp"] += decision.erp_delta
                base = decision.new_base
        elif sides[action] + amount >= 0:
            sides[action] += amount
            total_moves += amount
    for _ in range(3):  # quiescent runs settle everything still pending
        decision = merge_key(MergeInput(base, sv(sides["atlas"], None), sv(sides["erp"], None)))
        if decision.new_base is None:
            return  # a genuine below-zero clash: frozen for a person, nothing written
        sides["atlas"] += decision.atlas_delta
        sides["erp"] += decision.erp_delta
        base = decision.new_base
    assert sides["atlas"] == sides["erp"] == base.quantity == D(start) + total_moves


def test_flip_count_sees_values_coming_back() -> None:
    from atlas_desktop.engine.plan import flip_count

    assert flip_count([D(1), D(2), D(1), D(2), D(1)]) == 3
    assert flip_count([D(1), D(2), D(3), D(4)]) == 0  # steady sales are not a ping-pong
    assert flip_count([D(5), D(5), D(5)]) == 0
