"""Big containers are emptied piece by piece (domain/release.py)."""

from __future__ import annotations

import sys
from typing import Any

from atlas_desktop.domain import release


def test_a_dict_and_a_list_end_empty_with_their_entries_freed() -> None:
    marker = object()
    table = {i: [marker] for i in range(2500)}
    items: list[Any] = [[marker] for _ in range(2500)]
    before = sys.getrefcount(marker)

    release.empty_gradually(table)
    release.empty_gradually(items)

    assert table == {} and items == []
    assert sys.getrefcount(marker) == before - 5000  # every entry was released, not kept elsewhere


def test_a_list_goes_a_slice_at_a_time(monkeypatch: Any) -> None:
    sizes: list[int] = []

    class Watched(list[int]):
        def __delitem__(self, index: Any) -> None:
            sizes.append(len(self))
            super().__delitem__(index)

    monkeypatch.setattr(release, "LIST_SLICE", 1000)
    release.empty_gradually(Watched(range(2500)))
    assert sizes == [2500, 1500, 500]  # three steps, between which another thread may take the GIL
