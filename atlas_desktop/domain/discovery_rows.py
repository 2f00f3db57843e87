"""What discovery reads of the mirrors, a chunk at a time, and the ERP positions it leaves open.

Plain tuples where rows come by the hundred thousand (a tuple per row is the cheapest to build).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

# The states of an ERP position in a discovery (store/discovery_scratch.py): no Atlas row took it yet, an
# Atlas row took it, or an Atlas row asked for it and the ERP has no such position.
OPEN, CLAIMED, ASKED = 0, 1, 2

# (atlas id, NDC text, lot, location, name) of a live Atlas row
AtlasPick = tuple[str, str | None, str | None, str | None, str | None]
# (item id, NDC text, name, unit, attributes) of an ERP product
ProductPick = tuple[str, str | None, str | None, str, Mapping[str, str]]
# (item id, location id, normalised lot): one ERP stock position as discovery pairs it
Position = tuple[str, str, str]
# (item id, location id, normalised lot, lot as the ERP spells it, state)
PositionPick = tuple[str, str, str, str | None, int]


class ErpOpenPosition(NamedTuple):
    """An ERP position no Atlas row claimed, with its product's NDC text and name (`known`: read)."""

    item_id: str
    location_id: str
    lot: str | None
    known: bool
    ndc_text: str | None
    name: str | None
