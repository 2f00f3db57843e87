"""Lot ids learnt from reads stay bounded: the oldest seen falls out, a lot seen again stays."""

from __future__ import annotations

import pytest

from atlas_desktop.connectors.netsuite.lot_ids import LotIds


def test_the_least_recently_seen_lot_falls_out_first() -> None:
    ids = LotIds(limit=2)
    ids[("1", "A")] = "10"
    ids[("1", "B")] = "11"
    ids[("1", "A")] = "10"  # read again: the most recent now
    ids[("2", "C")] = "12"
    assert ids.get(("1", "B")) is None  # a write for it looks the lot up instead
    assert ids.get(("1", "A")) == "10" and ids.get(("2", "C")) == "12"
    assert len(ids) == 2


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LotIds(limit=0)
