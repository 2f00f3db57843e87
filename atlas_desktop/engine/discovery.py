"""Auto-discovery of mappings by NDC: pairs Atlas rows with ERP stock keys, and never guesses.

Two NDC texts denote the same product for sure when
- both give one unambiguous canonical key and the keys are equal, or
- both carry the same ten digits (10-digit forms and GTINs): the same digits are the same GTIN.
When the only link is a candidate reading of an ambiguous text (a bare 10-digit NDC against an
11-digit key, say), the pair is proposed as `ambiguous` with the suggestion, for a person to accept.
Several products on one side with the same NDC are `ambiguous` too (duplicates), never picked.
A product's pack levels (domain/packs.py: a case's GTIN embeds its own NDC package code) are read the
same way: an Atlas listing that names a case's NDC pairs with the product at that unit, ranked as any
NDC (strong or a suggestion, and a duplicate when another product claims the same NDC), and the draft
carries the unit and how many base units one of it holds, so quantities are converted.

Within a product pair, rows pair by location (Atlas location code -> ERP location) and lot
(case-insensitive, trimmed). What is left is `unmatched_atlas` / `unmatched_erp`.

The rules run over an `ErpSide` a chunk of Atlas rows at a time: held in memory here (`ErpInMemory`), or
read from scratch tables per chunk (engine/discovery_source.py), so memory stays flat at any catalog size.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from sys import intern
from typing import Literal, Protocol

from atlas_desktop.domain.chunks import chunked
from atlas_desktop.domain.drafts import MappingDraft
from atlas_desktop.domain.enums import MappingStatus, MatchMethod
from atlas_desktop.domain.model import Location
from atlas_desktop.domain.ndc import TEN_DIGIT_LAYOUTS, Ndc, NdcError, ndc_candidates
from atlas_desktop.domain.packs import PackLevel
from atlas_desktop.domain.release import empty_gradually


@dataclass(frozen=True, slots=True)
class NdcIdentity:
    key: str | None  # the canonical key when the text is unambiguous
    ten: str | None  # the ten digits when the text carries them exactly (10-digit forms, GTIN)
    candidates: frozenset[str]  # every canonical key the text could mean
    error: str | None = None


@lru_cache(maxsize=4096)  # texts repeat locally (a product and its rows), not across a catalog
def identify_ndc(text: str | None) -> NdcIdentity:
    if not text or not text.strip():
        return NdcIdentity(None, None, frozenset(), "no NDC")
    try:
        readings = ndc_candidates(text)
    except NdcError as exc:
        return NdcIdentity(None, None, frozenset(), str(exc))
    if len(readings) == 1:  # the usual case, without the sets below
        key, ten = readings[0].key, _ten_digits(readings[0])
        return NdcIdentity(key, ten, frozenset((key,)))
    keys = frozenset(reading.key for reading in readings)
    tens = {_ten_digits(reading) for reading in readings}
    ten = next(iter(tens)) if len(tens) == 1 else None
    if len(readings) > 1 and any(len(reading.digits) != 10 for reading in readings):
        ten = None  # e.g. 12 digits read both as a UPC and as a 6-4-2 NDC: no single ten-digit string
    return NdcIdentity(next(iter(keys)) if len(keys) == 1 else None, ten, keys)


def _ten_digits(reading: Ndc) -> str | None:
    if reading.layout in TEN_DIGIT_LAYOUTS:
        return reading.digits
    ten = reading.ten
    return ten.replace("-", "") if ten else None


def unambiguous_key(text: str | None) -> str | None:
    return identify_ndc(text).key


@dataclass(frozen=True, slots=True)
class AtlasRef:
    id: str
    ndc_text: str | None
    lot: str | None
    location: str | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class ErpProductRef:
    item_id: str
    ndc_text: str | None
    name: str = ""
    packs: tuple[PackLevel, ...] = ()  # pack levels with their own NDC (cases), beside the base unit


@dataclass(frozen=True, slots=True)
class Match:
    """What an Atlas NDC found: ERP items, each at its base unit (None) or a pack level."""

    items: dict[str, PackLevel | None]
    strong: bool


@dataclass(frozen=True, slots=True)
class ErpStockRef:
    item_id: str
    location_id: str
    lot: str | None


def normalise_lot(lot: str | None) -> str:
    return (lot or "").strip().upper()


class LocationResolver:
    """Atlas location codes to ERP location ids: the user's map, then code/name/id, then the only one."""

    def __init__(self, locations: Iterable[Location], explicit: Mapping[str, str] | None = None) -> None:
        self.locations = list(locations)
        self.explicit = {code.strip().upper(): erp_id for code, erp_id in (explicit or {}).items()}
        self._by_label: dict[str, str] = {}
        for location in self.locations:
            for label in (location.id, location.code, location.name):
                if label:
                    self._by_label.setdefault(label.strip().upper(), location.id)

    def resolve(self, atlas_location: str | None, erp_candidates: Iterable[str] = ()) -> str | None:
        if atlas_location and atlas_location.strip():
            code = atlas_location.strip().upper()
            return self.explicit.get(code) or self._by_label.get(code)
        candidates = set(erp_candidates)
        if len(candidates) == 1:
            return candidates.pop()
        return self.locations[0].id if len(self.locations) == 1 else None


class _Links:
    """key -> ERP item ids, stored as a bare id for the usual one-item key (a set per key costs far more)."""

    def __init__(self) -> None:
        self._one: dict[str, str] = {}
        self._more: dict[str, set[str]] = {}

    def add(self, key: str, item_id: str) -> None:
        first = self._one.setdefault(key, item_id)
        if first != item_id:
            self._more.setdefault(key, {first}).add(item_id)

    def release(self) -> None:
        empty_gradually(self._one)
        empty_gradually(self._more)

    def get(self, key: str) -> set[str]:
        more = self._more.get(key)
        if more is not None:
            return set(more)
        one = self._one.get(key)
        return {one} if one is not None else set()


class ProductIndex:
    """ERP products indexed by every way their NDC text can be read."""

    def __init__(self, products: Iterable[ErpProductRef]) -> None:
        self.by_key = _Links()
        self.by_ten = _Links()
        self.by_candidate = _Links()
        self.products: dict[str, ErpProductRef] = {}
        # Pack-level NDCs are few (the products with case GTINs): plain sets of (item id, unit).
        self.packs_by_key: dict[str, set[tuple[str, str]]] = {}
        self.packs_by_ten: dict[str, set[tuple[str, str]]] = {}
        self.packs_by_candidate: dict[str, set[tuple[str, str]]] = {}
        for product in products:
            self.products[product.item_id] = product
            identity = identify_ndc(product.ndc_text)
            if identity.key:
                self.by_key.add(identity.key, product.item_id)
            if identity.ten:
                self.by_ten.add(identity.ten, product.item_id)
            if identity.key is None:  # an unambiguous text is in by_key already
                for key in identity.candidates:
                    self.by_candidate.add(key, product.item_id)
            for pack in product.packs:
                self._add_pack(product.item_id, pack)

    def _add_pack(self, item_id: str, pack: PackLevel) -> None:
        link = (item_id, pack.unit)
        for text in pack.ndc_texts:
            identity = identify_ndc(text)
            if identity.key:
                self.packs_by_key.setdefault(identity.key, set()).add(link)
            if identity.ten:
                self.packs_by_ten.setdefault(identity.ten, set()).add(link)
            if identity.key is None:
                for key in identity.candidates:
                    self.packs_by_candidate.setdefault(key, set()).add(link)

    def release(self) -> None:
        """Free the index a slice at a time (see domain/release.py)."""
        for links in (self.by_key, self.by_ten, self.by_candidate):
            links.release()
        for packs in (self.packs_by_key, self.packs_by_ten, self.packs_by_candidate):
            packs.clear()  # few entries
        empty_gradually(self.products)

    def match(self, identity: NdcIdentity) -> tuple[set[str], bool]:
        """(ERP item ids, strong) by base-unit NDC. Strong matches win; weak ones are only suggestions."""
        strong: set[str] = set()
        if identity.key:
            strong |= self.by_key.get(identity.key)
        if identity.ten:
            strong |= self.by_ten.get(identity.ten)
        if strong:
            return strong, True
        weak: set[str] = set()
        for key in identity.candidates:
            weak |= self.by_candidate.get(key) | self.by_key.get(key)
        return weak, False

    def match_units(self, identity: NdcIdentity) -> Match:
        """Base-unit and pack-level NDCs together, ranked alike: strong links of either kind win."""
        base, base_strong = self.match(identity)
        if not (self.packs_by_key or self.packs_by_ten or self.packs_by_candidate):
            return Match(dict.fromkeys(base), base_strong)  # no pack-level NDCs: what _units would give
        strong_packs: set[tuple[str, str]] = set()
        if identity.key:
            strong_packs |= self.packs_by_key.get(identity.key, set())
        if identity.ten:
            strong_packs |= self.packs_by_ten.get(identity.ten, set())
        if base_strong or strong_packs:
            return Match(self._units(base if base_strong else set(), strong_packs), True)
        weak_packs: set[tuple[str, str]] = set()
        for key in identity.candidates:
            weak_packs |= self.packs_by_candidate.get(key, set()) | self.packs_by_key.get(key, set())
        return Match(self._units(base, weak_packs), False)

    def _units(self, base: set[str], packs: set[tuple[str, str]]) -> dict[str, PackLevel | None]:
        found: dict[str, PackLevel | None] = dict.fromkeys(base)
        for item_id, unit in packs:
            if item_id not in found:  # one product's base NDC and its case's cannot both be this one
                found[item_id] = next(p for p in self.products[item_id].packs if p.unit == unit)
        return found


class Mark(Enum):
    MISSING = "missing"  # no such ERP position
    CLAIMED = "claimed"  # an Atlas row took the position
    AS_KEYED = "as keyed"  # the ERP spells the lot as the key has it (no second copy kept)


class _ErpStock:
    """ERP stock positions, flat: (item, location, normalised lot) -> the lot as the ERP spells it, or a
    mark. What is unclaimed at the end is ERP-only stock. At 100k items this is the largest structure
    discovery holds, hence the marks instead of per-position objects.
    """

    def __init__(self, stock: Iterable[ErpStockRef]) -> None:
        self.positions: dict[tuple[str, str, str], str | None | Mark] = {}
        self._locations: dict[str, str | tuple[str, ...]] = {}
        for ref in stock:
            # Interned: 100k items' ids repeat in every position and in the product index.
            item_id, location_id = intern(ref.item_id), intern(ref.location_id)
            lot = normalise_lot(ref.lot)
            spelled = ref.lot if ref.lot is None or ref.lot != lot else Mark.AS_KEYED
            self.positions[(item_id, location_id, lot)] = spelled
            known = self._locations.get(item_id)
            if known is None:
                self._locations[item_id] = location_id
            elif isinstance(known, str):
                if known != location_id:
                    self._locations[item_id] = (known, location_id)
            elif location_id not in known:
                self._locations[item_id] = (*known, location_id)

    def locations_of(self, item_id: str) -> tuple[str, ...]:
        known = self._locations.get(item_id, ())
        return (known,) if isinstance(known, str) else known

    def claim(self, position: tuple[str, str, str]) -> str | None | Literal[Mark.MISSING, Mark.CLAIMED]:
        """The ERP's lot for an open position (taken out of the open ones), or MISSING / CLAIMED.
        A missing position is marked claimed too: a second Atlas row asking for it is a duplicate."""
        held = self.positions.get(position, Mark.MISSING)
        if held is Mark.CLAIMED:
            return held
        self.positions[position] = Mark.CLAIMED
        return position[2] if held is Mark.AS_KEYED else held

    def done(self) -> None:
        """Nothing to write back: the claims are in `positions` already."""

    def release(self) -> None:
        """Free the positions a slice at a time (see domain/release.py)."""
        empty_gradually(self.positions)
        empty_gradually(self._locations)

    def unclaimed(self) -> Iterator[tuple[tuple[str, str, str], str | None]]:
        for position, held in self.positions.items():
            if held is Mark.AS_KEYED:
                yield position, position[2]
            elif not isinstance(held, Mark):
                yield position, held


def _unit_of(pack: PackLevel | None) -> tuple[str | None, Decimal | None]:
    return (pack.unit, pack.per) if pack is not None else (None, None)


def _pack_note(pack: PackLevel | None) -> str | None:
    if pack is None:
        return None
    return f"listed by {pack.unit} (the NDC of that pack level): 1 {pack.unit} = {pack.per} base units"


class StockView(Protocol):
    """The ERP stock positions of some items: where each item is, and claims on its positions."""

    def locations_of(self, item_id: str) -> tuple[str, ...]: ...
    def claim(self, position: tuple[str, str, str]) -> str | None | Literal[Mark.MISSING, Mark.CLAIMED]: ...
    def done(self) -> None:
        """Keep this view's claims for the views handed out later."""


class ErpSide(Protocol):
    """The ERP side discovery pairs Atlas rows with, asked for a chunk of Atlas rows at a time."""

    def index_for(self, identities: Collection[NdcIdentity]) -> ProductIndex:
        """An index that matches these identities as an index of every ERP product would."""

    def stock_for(self, item_ids: Collection[str]) -> StockView:
        """The positions of these items, with the claims of earlier chunks."""

    def unclaimed(self) -> Iterator[tuple[str, str, str | None, ErpProductRef | None]]:
        """(item, location, lot as the ERP spells it, the item's product if read) of every open position."""

    def release(self) -> None: ...


class ErpInMemory:
    """The whole ERP side held in memory (about 1 KB an item): for small catalogs and as the reference."""

    def __init__(self, products: Iterable[ErpProductRef], stock: Iterable[ErpStockRef]) -> None:
        self.index = ProductIndex(products)
        self.stock = _ErpStock(stock)

    def index_for(self, identities: Collection[NdcIdentity]) -> ProductIndex:
        return self.index

    def stock_for(self, item_ids: Collection[str]) -> StockView:
        return self.stock

    def unclaimed(self) -> Iterator[tuple[str, str, str | None, ErpProductRef | None]]:
        for (item_id, location_id, _lot), erp_lot in self.stock.unclaimed():
            yield item_id, location_id, erp_lot, self.index.products.get(item_id)

    def release(self) -> None:
        self.stock.release()
        self.index.release()


def link_values(identity: NdcIdentity) -> set[str]:
    """Every value ProductIndex files a text of this identity under, or looks it up by."""
    values = set(identity.candidates)
    if identity.key:
        values.add(identity.key)
    if identity.ten:
        values.add(identity.ten)
    return values


def discover(
    atlas_rows: Iterable[AtlasRef],
    erp_products: Iterable[ErpProductRef],
    erp_stock: Iterable[ErpStockRef],
    locations: LocationResolver,
) -> Iterator[MappingDraft]:
    """Drafts one by one, as the Atlas rows stream past, with the ERP side held in memory."""
    yield from discover_on(atlas_rows, ErpInMemory(erp_products, erp_stock), locations)


def discover_on(
    atlas_rows: Iterable[AtlasRef], erp: ErpSide, locations: LocationResolver, chunk: int = 2000
) -> Iterator[MappingDraft]:
    """Drafts one by one: the Atlas rows a chunk at a time, each against what `erp` has for it."""
    for rows in chunked(atlas_rows, chunk):
        identities = [identify_ndc(row.ndc_text) for row in rows]
        index = erp.index_for([identity for identity in identities if not identity.error])
        found = [None if identity.error else index.match_units(identity) for identity in identities]
        wanted = {
            next(iter(match.items))
            for match in found
            if match is not None and match.strong and len(match.items) == 1
        }
        stock = erp.stock_for(wanted)
        for row, identity, match in zip(rows, identities, found, strict=True):
            yield _draft(row, identity, match, index, stock, locations)
        stock.done()
    for item_id, location_id, erp_lot, erp_product in erp.unclaimed():
        ndc_text = erp_product.ndc_text if erp_product else None
        yield MappingDraft(
            None,
            item_id,
            location_id,
            erp_lot,
            identify_ndc(ndc_text).key,
            None,
            ndc_text,
            erp_product.name if erp_product else None,
            MappingStatus.UNMATCHED_ERP,
            None,
            None if erp_product else "stock for an item whose master data was not read",
        )
    erp.release()


def _unmatched_atlas(
    row: AtlasRef,
    identity: NdcIdentity,
    note: str,
    index: ProductIndex,
    erp_item: str | None = None,
    pack: PackLevel | None = None,
) -> MappingDraft:
    status = MappingStatus.AMBIGUOUS if erp_item else MappingStatus.UNMATCHED_ATLAS
    product = index.products.get(erp_item) if erp_item else None
    return MappingDraft(
        row.id,
        erp_item,
        None,
        row.lot,
        identity.key,
        row.ndc_text,
        product.ndc_text if product else None,
        row.name,
        status,
        None,
        note,
        *_unit_of(pack),
    )


def _draft(
    row: AtlasRef,
    identity: NdcIdentity,
    found: Match | None,
    index: ProductIndex,
    stock: StockView,
    locations: LocationResolver,
) -> MappingDraft:
    """One Atlas row's draft: `found` is what its NDC matched (None when the NDC is not usable)."""
    if found is None:
        return _unmatched_atlas(row, identity, f"NDC not usable: {identity.error}", index)
    items, strong = found.items, found.strong
    if not items:
        return _unmatched_atlas(row, identity, "no ERP item with this NDC", index)
    if len(items) > 1:
        return _unmatched_atlas(
            row, identity, f"{len(items)} ERP items share this NDC: {', '.join(sorted(items)[:5])}", index
        )
    item_id, pack = next(iter(items.items()))
    if not strong:
        return _unmatched_atlas(
            row,
            identity,
            f"NDC '{row.ndc_text}' can be read several ways; check the suggestion",
            index,
            erp_item=item_id,
            pack=pack,
        )
    location_id = locations.resolve(row.location, stock.locations_of(item_id))
    lot = normalise_lot(row.lot)
    product = index.products[item_id]
    key = identity.key or identify_ndc(product.ndc_text).key
    if location_id is None:
        return _unmatched_atlas(
            row, identity, f"location '{row.location or ''}' has no ERP location; map it in settings", index
        )
    position = (item_id, location_id, lot)
    erp_lot = stock.claim(position)
    if erp_lot is Mark.CLAIMED:
        return _unmatched_atlas(
            row,
            identity,
            "duplicate: another Atlas row has the same product, lot and location "
            f"(ERP item {item_id}, location {location_id}, lot '{row.lot or '-'}')",
            index,
            erp_item=item_id,
        )
    if erp_lot is Mark.MISSING:
        return MappingDraft(
            row.id,
            None,
            None,
            row.lot,
            key,
            row.ndc_text,
            product.ndc_text,
            row.name,
            MappingStatus.UNMATCHED_ATLAS,
            None,
            f"lot '{row.lot or '-'}' not in the ERP at location {location_id}",
        )
    return MappingDraft(
        row.id,
        item_id,
        location_id,
        erp_lot,
        key,
        row.ndc_text,
        product.ndc_text,
        row.name or product.name,
        MappingStatus.MATCHED,
        MatchMethod.AUTO_NDC,
        _pack_note(pack),
        *_unit_of(pack),
    )
