"""Lot-number internal ids learnt from stock reads, for the adjustments that take stock from a lot.

Bounded: a full read of 100k items sees ~200k lots, and holding them all cost ~40 MB for ids that
only an adjustment of that lot ever needs. A write whose lot fell out looks it up (one SuiteQL call).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

LotKey = tuple[str, str]  # (item id, lot number)


class LotIds:
    """The most recently seen `limit` lots: (item id, lot number) -> inventorynumber internal id."""

    def __init__(self, limit: int = 10_000) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._ids: OrderedDict[LotKey, str] = OrderedDict()

    def __setitem__(self, key: LotKey, lot_id: str) -> None:
        self._ids[key] = lot_id
        self._ids.move_to_end(key)
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)

    def update(self, learnt: Mapping[LotKey, str]) -> None:
        for key, lot_id in learnt.items():
            self[key] = lot_id

    def get(self, key: LotKey) -> str | None:
        return self._ids.get(key)

    def __len__(self) -> int:
        return len(self._ids)
