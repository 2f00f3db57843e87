"""Where discovery's ERP side comes from: scratch tables a chunk at a time, or the mirrors held in memory.

The scratch tables (store/discovery_scratch.py) keep a discovery's memory flat however large the catalog:
for each chunk of Atlas rows the products their NDCs can reach and the positions of the items they match
are read, and the claims written back. Both sources run the same rules (engine/discovery.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Literal

from atlas_desktop.domain.discovery_rows import (
    ASKED,
    OPEN,
    ErpOpenPosition,
    Position,
    PositionPick,
    ProductPick,
)
from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.packs import pack_levels
from atlas_desktop.engine.discovery import (
    AtlasRef,
    ErpProductRef,
    ErpStockRef,
    LocationResolver,
    Mark,
    NdcIdentity,
    ProductIndex,
    discover,
    discover_on,
    identify_ndc,
    link_values,
    normalise_lot,
)
from atlas_desktop.engine.ports import DiscoveryReads, DiscoveryScratchReads, MirrorReads

ATLAS_CHUNK = 2000  # Atlas rows matched together: one read of their products and one of their stock


def product_link_values(ndc_text: str | None, unit: str, attributes: Mapping[str, str]) -> set[str]:
    """The values a product is filed under: those of its own NDC text and of its pack levels'."""
    values = link_values(identify_ndc(ndc_text))
    for pack in pack_levels(attributes, unit):
        for text in pack.ndc_texts:
            values |= link_values(identify_ndc(text))
    return values


def _product(pick: ProductPick) -> ErpProductRef:
    item_id, ndc_text, name, unit, attributes = pick
    return ErpProductRef(item_id, ndc_text, name or "", pack_levels(attributes, unit))


class _ScratchStock:
    """A chunk's items' positions; its claims go back to the scratch tables when the chunk is done."""

    def __init__(self, scratch: DiscoveryScratchReads, picks: list[PositionPick]) -> None:
        self._scratch = scratch
        self._held: dict[Position, str | None | Mark] = {}
        self._locations: dict[str, set[str]] = {}
        self._claimed: list[Position] = []
        self._asked: list[Position] = []
        for item_id, location_id, lot_key, lot, state in picks:
            self._held[(item_id, location_id, lot_key)] = lot if state == OPEN else Mark.CLAIMED
            if state != ASKED:
                self._locations.setdefault(item_id, set()).add(location_id)

    def locations_of(self, item_id: str) -> tuple[str, ...]:
        return tuple(self._locations.get(item_id, ()))

    def claim(self, position: Position) -> str | None | Literal[Mark.MISSING, Mark.CLAIMED]:
        held = self._held.get(position, Mark.MISSING)
        if held is Mark.CLAIMED:
            return held
        self._held[position] = Mark.CLAIMED
        (self._asked if held is Mark.MISSING else self._claimed).append(position)
        return held  # type: ignore[return-value]

    def done(self) -> None:
        self._scratch.mark(self._claimed, self._asked)


class ErpInScratch:
    """The ERP side read from one discovery's scratch tables, a chunk of Atlas rows at a time."""

    def __init__(self, scratch: DiscoveryScratchReads) -> None:
        self._scratch = scratch

    def index_for(self, identities: Collection[NdcIdentity]) -> ProductIndex:
        # ProductIndex.match looks an identity up only by its key, ten digits and candidates: an index of
        # the products filed under those values answers for it as the index of every product would.
        values: set[str] = set()
        for identity in identities:
            values |= link_values(identity)
        return ProductIndex(_product(pick) for pick in self._scratch.products_linked(values))

    def stock_for(self, item_ids: Collection[str]) -> _ScratchStock:
        return _ScratchStock(self._scratch, self._scratch.positions_of(item_ids))

    def unclaimed(self) -> Iterator[tuple[str, str, str | None, ErpProductRef | None]]:
        for position in self._scratch.unclaimed():
            yield position.item_id, position.location_id, position.lot, _known(position)

    def release(self) -> None:
        """Nothing held between chunks."""


def _known(position: ErpOpenPosition) -> ErpProductRef | None:
    return ErpProductRef(position.item_id, position.ndc_text, position.name or "") if position.known else None


@contextmanager
def discover_in_scratch(
    reads: DiscoveryReads, connection_id: str, locations: LocationResolver, chunk: int = ATLAS_CHUNK
) -> Iterator[Iterator[MappingDraft]]:
    """The drafts of a discovery over the scratch tables, to be consumed while the block is open."""
    with reads.open(connection_id, product_link_values, normalise_lot) as scratch:
        atlas = (
            AtlasRef(atlas_id, ndc_text, lot, location, name or "")
            for page in scratch.atlas_pages(chunk)
            for atlas_id, ndc_text, lot, location, name in page
        )
        yield discover_on(atlas, ErpInScratch(scratch), locations, chunk)


def discover_in_memory(
    mirrors: MirrorReads, connection_id: str, locations: LocationResolver
) -> Iterator[MappingDraft]:
    """The drafts of a discovery with the whole ERP side read into memory from the mirrors."""
    atlas_refs = (
        AtlasRef(row.atlas_id, row.ndc_text, row.lot, row.location, row.name or "")
        for row in mirrors.iter_atlas_rows(connection_id)
    )
    products = (
        ErpProductRef(
            product.item_id,
            product.ndc_text,
            product.name or "",
            pack_levels(product.attributes, product.unit),
        )
        for product in mirrors.iter_erp_products(connection_id)
    )
    stock = (ErpStockRef(s.item_id, s.location_id, s.lot) for s in mirrors.iter_erp_stock(connection_id))
    return discover(atlas_refs, products, stock, locations)
