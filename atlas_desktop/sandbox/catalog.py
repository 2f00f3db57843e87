"""A deterministic, lazily generated pharma catalog that seeds the ERP and Atlas emulators.

Same `(seed, size, today)` gives the same catalog, byte for byte. Product `i` is generated on demand from
`random.Random(f"{seed}:{i}")`, so 100,000 products iterate in O(1) memory; product `i` does not depend on
`size` either (a 200-item test catalog is a prefix of the 1,000-item demo catalog).

Identifiers
    * NDC: hyphenated 10 digits. 24 manufacturers, each with two labeler codes; a manufacturer's labelers
      share one layout and the manufacturers are spread evenly over 4-4-2, 5-3-2 and 5-4-1. 4-digit labelers
      pad to a leading 0 in the 11-digit form and 5-digit labelers never start with 0, so every product's
      NDC is unique in its 10-digit and in its canonical 11-digit (5-4-2) form.
    * GTIN-14: indicator 0 + "03" + the 10 NDC digits + GS1 mod-10 check digit.
    * ~95% of products are lot tracked: 1-3 lots each. Lot expiry relative to `today`: ~4% expired, ~8% within
      90 days, ~10% in 91-364 days, the rest 1-3 years out (mostly on a month end).
    * Stock per lot and location: always at MAIN, at EAST for ~35% and WEST for ~20% of lots; quantities are
      whole numbers except ~1% half units; ~5% are zero.

How the ERP and Atlas views overlap (defaults of `OverlapProfile`, decided per product / lot / row):
    * products: 5% only in the ERP, 5% only on Atlas, 90% in both.
    * NDC as typed on Atlas (per product listed there): 72% the ERP's hyphenated 10-digit form, 10% 11-digit
      bare ("01234567890"), 10% 11-digit hyphenated 5-4-2, 5% GTIN-14, 3% bare 10-digit (ambiguous: the
      layout cannot be told without the NDC directory).
    * lots of products in both: 2% of the ERP's lots are missing on Atlas (never a product's last lot);
      2% of the ERP's lots have a different expiry on Atlas; 1% of products have an extra lot on Atlas that
      the ERP does not hold.
    * Atlas rows (one per lot per location, as the ERP holds stock): 5% of rows of products in both have a
      different quantity; the rest equal the ERP's (an in-sync listing).
`overlap_report(catalog)` counts each category for the actual catalog, so tests and the demo can state them.
"""

from __future__ import annotations

import calendar
import hashlib
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from atlas_desktop.domain.errors import ConfigError

NDC_LAYOUTS: tuple[str, ...] = ("4-4-2", "5-3-2", "5-4-1")
# Typed forms of an NDC on Atlas (`AtlasSeedRow.ndc_format`).
NDC_FORMATS: tuple[str, ...] = ("10-hyphenated", "11-bare", "11-hyphenated", "gtin14", "10-bare")

_FEISTEL_HALF_BITS = 11
# Product identities come from a permutation of [0, 2**22): the catalog cannot be larger than that.
MAX_SIZE = 1 << (2 * _FEISTEL_HALF_BITS)
_LABELERS_PER_MANUFACTURER = 2

_MANUFACTURERS: tuple[str, ...] = (
    "Northwind Pharmaceuticals", "Keystone Generics", "Bluewater Labs", "Cardinal Ridge Pharma",
    "Harbor Point Therapeutics", "Summit Valley Pharma", "Granite State Generics", "Lakeshore Biologics",
    "Redwood Pharmaceutical", "Pioneer Health Products", "Silverline Pharma", "Meridian Generics",
    "Oakridge Laboratories", "Crescent Pharma", "Evergreen Rx", "Liberty Pharmaceuticals",
    "Prairie Labs", "Atlantic Generics", "Copperfield Pharma", "Westbrook Therapeutics",
    "Sterling Rx Labs", "Horizon Generic Pharma", "Canyon Pharmaceuticals", "Riverside Medical Products",
)  # fmt: skip

_ORAL_SOLID = ("tablet", "capsule")
# (generic name, strengths, dosage forms)
_DRUGS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Atorvastatin", ("10 mg", "20 mg", "40 mg", "80 mg"), ("tablet",)),
    ("Lisinopril", ("2.5 mg", "5 mg", "10 mg", "20 mg", "40 mg"), ("tablet",)),
    ("Metformin", ("500 mg", "850 mg", "1000 mg"), ("tablet", "extended-release tablet")),
    ("Amlodipine", ("2.5 mg", "5 mg", "10 mg"), ("tablet",)),
    ("Omeprazole", ("10 mg", "20 mg", "40 mg"), ("delayed-release capsule",)),
    ("Levothyroxine", ("25 mcg", "50 mcg", "75 mcg", "100 mcg", "125 mcg"), ("tablet",)),
    ("Simvastatin", ("10 mg", "20 mg", "40 mg"), ("tablet",)),
    ("Losartan", ("25 mg", "50 mg", "100 mg"), ("tablet",)),
    ("Gabapentin", ("100 mg", "300 mg", "400 mg"), ("capsule",)),
    ("Hydrochlorothiazide", ("12.5 mg", "25 mg", "50 mg"), ("tablet", "capsule")),
    ("Sertraline", ("25 mg", "50 mg", "100 mg"), ("tablet",)),
    ("Montelukast", ("4 mg", "5 mg", "10 mg"), ("tablet", "chewable tablet")),
    ("Rosuvastatin", ("5 mg", "10 mg", "20 mg", "40 mg"), ("tablet",)),
    ("Escitalopram", ("5 mg", "10 mg", "20 mg"), ("tablet",)),
    ("Pantoprazole", ("20 mg", "40 mg"), ("delayed-release tablet",)),
    ("Metoprolol succinate", ("25 mg", "50 mg", "100 mg", "200 mg"), ("extended-release tablet",)),
    ("Amoxicillin", ("250 mg", "500 mg", "875 mg"), _ORAL_SOLID),
    ("Amoxicillin", ("250 mg/5 mL", "400 mg/5 mL"), ("powder for oral suspension",)),
    ("Azithromycin", ("250 mg", "500 mg"), ("tablet",)),
    ("Cephalexin", ("250 mg", "500 mg"), ("capsule",)),
    ("Prednisone", ("5 mg", "10 mg", "20 mg"), ("tablet",)),
    ("Furosemide", ("20 mg", "40 mg", "80 mg"), ("tablet",)),
    ("Tamsulosin", ("0.4 mg",), ("capsule",)),
    ("Clopidogrel", ("75 mg",), ("tablet",)),
    ("Trazodone", ("50 mg", "100 mg", "150 mg"), ("tablet",)),
    ("Meloxicam", ("7.5 mg", "15 mg"), ("tablet",)),
    ("Citalopram", ("10 mg", "20 mg", "40 mg"), ("tablet",)),
    ("Duloxetine", ("20 mg", "30 mg", "60 mg"), ("delayed-release capsule",)),
    ("Ondansetron", ("4 mg", "8 mg"), ("tablet", "orally disintegrating tablet")),
    ("Ondansetron", ("2 mg/mL",), ("injection",)),
    ("Warfarin", ("1 mg", "2 mg", "5 mg"), ("tablet",)),
    ("Carvedilol", ("3.125 mg", "6.25 mg", "12.5 mg", "25 mg"), ("tablet",)),
    ("Insulin glargine", ("100 units/mL",), ("injection",)),
    ("Enoxaparin", ("40 mg/0.4 mL", "80 mg/0.8 mL"), ("injection",)),
    ("Ceftriaxone", ("500 mg", "1 g", "2 g"), ("powder for injection",)),
    ("Heparin", ("5,000 units/mL",), ("injection",)),
    ("Albuterol sulfate", ("90 mcg/actuation",), ("inhalation aerosol",)),
    ("Fluticasone propionate", ("50 mcg/spray",), ("nasal spray",)),
    ("Latanoprost", ("0.005%",), ("ophthalmic solution",)),
    ("Triamcinolone acetonide", ("0.1%", "0.5%"), ("cream", "ointment")),
    ("Mupirocin", ("2%",), ("ointment",)),
    ("Cetirizine", ("5 mg/5 mL",), ("oral solution",)),
    ("Acetaminophen", ("160 mg/5 mL",), ("oral suspension",)),
)  # fmt: skip

_PACKS: dict[str, tuple[str, ...]] = {
    "solid": ("30 count", "90 count", "100 count", "500 count", "1000 count"),
    "injection": ("10 x 1 mL vials", "25 x 2 mL vials", "10 x 10 mL vials", "10 prefilled syringes"),
    "powder for injection": ("10 vials", "25 vials"),
    "powder for oral suspension": ("100 mL bottle", "150 mL bottle"),
    "oral solution": ("118 mL bottle", "473 mL bottle"),
    "oral suspension": ("118 mL bottle", "473 mL bottle"),
    "inhalation aerosol": ("1 inhaler, 200 actuations",),
    "nasal spray": ("16 g bottle, 120 sprays",),
    "ophthalmic solution": ("2.5 mL bottle", "5 mL bottle"),
    "cream": ("15 g tube", "30 g tube", "80 g tube"),
    "ointment": ("15 g tube", "22 g tube", "30 g tube"),
}


@dataclass(frozen=True, slots=True)
class CatalogLocation:
    code: str
    name: str


LOCATIONS: tuple[CatalogLocation, ...] = (
    CatalogLocation("MAIN", "Main warehouse"),
    CatalogLocation("EAST", "East distribution center"),
    CatalogLocation("WEST", "West distribution center"),
)
# Probability that a lot is stocked at each location (MAIN always).
_LOCATION_SHARE = {"MAIN": 1.0, "EAST": 0.35, "WEST": 0.20}


@dataclass(frozen=True, slots=True)
class CatalogProduct:
    index: int
    sku: str
    name: str
    manufacturer: str
    unit: str
    ndc: str
    ndc_layout: str
    lot_tracked: bool
    gtin14: str


@dataclass(frozen=True, slots=True)
class CatalogLot:
    product_index: int
    lot: str
    expiry: date
    manufacture_date: date


@dataclass(frozen=True, slots=True)
class CatalogStock:
    product_index: int
    location: str
    lot: str | None
    quantity: Decimal


# ---------------------------------------------------------------------------------------------------------
# Identifier helpers


def gs1_check_digit(digits: str) -> str:
    """GS1 mod-10 check digit for a GTIN body (all digits but the check digit)."""
    if not digits.isdigit():
        raise ValueError("GS1 check digit needs a digits-only string")
    # Weights 3,1,3,1... from the rightmost digit of the body.
    total = 3 * sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2]))
    return str((10 - total % 10) % 10)


def ndc_to_gtin14(ndc10: str, indicator: int = 0) -> str:
    digits = ndc10.replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("GTIN-14 is built from a 10-digit NDC")
    body = f"{indicator}03{digits}"
    return body + gs1_check_digit(body)


def ndc_to_11(ndc10: str) -> str:
    """Canonical 11-digit (5-4-2) form of a hyphenated 10-digit NDC, digits only."""
    labeler, product, package = ndc10.split("-")
    return f"{labeler:0>5}{product:0>4}{package:0>2}"


def ndc_as(product: CatalogProduct, fmt: str) -> str:
    """The product's NDC written in one of `NDC_FORMATS`."""
    if fmt == "10-hyphenated":
        return product.ndc
    if fmt == "10-bare":
        return product.ndc.replace("-", "")
    eleven = ndc_to_11(product.ndc)
    if fmt == "11-bare":
        return eleven
    if fmt == "11-hyphenated":
        return f"{eleven[:5]}-{eleven[5:9]}-{eleven[9:]}"
    if fmt == "gtin14":
        return product.gtin14
    raise ValueError(f"unknown NDC format {fmt!r}; use one of {', '.join(NDC_FORMATS)}")


# ---------------------------------------------------------------------------------------------------------
# The catalog


@dataclass(frozen=True, slots=True)
class _Labeler:
    code: str
    layout: str
    manufacturer: str
    multiplier: int  # scrambles product/package codes so they do not look sequential
    offset: int

    @property
    def code_space(self) -> int:
        return 10 ** (10 - len(self.code))


class Catalog:
    """`size` products, generated on demand. `today` anchors the expiry dates (default: today, UTC)."""

    def __init__(self, seed: int = 42, size: int = 1000, today: date | None = None) -> None:
        if not 0 <= size <= MAX_SIZE:
            raise ConfigError("size", f"must be between 0 and {MAX_SIZE:,} products (got {size})")
        self.seed = seed
        self.size = size
        self.today = today or datetime.now(UTC).date()
        self.locations: tuple[CatalogLocation, ...] = LOCATIONS
        rng = random.Random(f"{seed}:catalog")
        half, bits = 1 << _FEISTEL_HALF_BITS, _FEISTEL_HALF_BITS
        self._rounds = tuple(tuple(rng.getrandbits(bits) for _ in range(half)) for _ in range(4))
        self._labelers = self._make_labelers(rng)
        # Bounded: a page of the UI or a pass of the seeders hits the same products a few times in a row.
        self._product = lru_cache(maxsize=2048)(self._make_product)
        self._holdings = lru_cache(maxsize=2048)(self._make_holdings)

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"Catalog(seed={self.seed}, size={self.size}, today={self.today.isoformat()})"

    def product(self, i: int) -> CatalogProduct:
        return self._product(self._check(i))

    def lots(self, i: int) -> tuple[CatalogLot, ...]:
        return self._holdings(self._check(i))[0]

    def stock(self, i: int) -> tuple[CatalogStock, ...]:
        return self._holdings(self._check(i))[1]

    def products(self) -> Iterator[CatalogProduct]:
        for i in range(self.size):
            yield self.product(i)

    def _check(self, i: int) -> int:
        if not 0 <= i < self.size:
            raise IndexError(f"product index {i} outside the catalog (0..{self.size - 1})")
        return i

    @staticmethod
    def _make_labelers(rng: random.Random) -> tuple[_Labeler, ...]:
        names = list(_MANUFACTURERS)
        rng.shuffle(names)
        four = rng.sample(range(1, 10_000), len(names) * _LABELERS_PER_MANUFACTURER)
        five = rng.sample(range(10_000, 100_000), len(names) * _LABELERS_PER_MANUFACTURER)
        labelers = []
        for m, name in enumerate(names):
            layout = NDC_LAYOUTS[m % len(NDC_LAYOUTS)]
            for k in range(_LABELERS_PER_MANUFACTURER):
                n = m * _LABELERS_PER_MANUFACTURER + k
                code = f"{four[n]:04d}" if layout == "4-4-2" else f"{five[n]:05d}"
                # Coprime with 10 so that k -> (k * multiplier + offset) mod 10**d is a bijection.
                multiplier = rng.choice([x for x in range(1_001, 9_999) if x % 2 and x % 5])
                labelers.append(_Labeler(code, layout, name, multiplier, rng.randrange(100_000)))
        return tuple(labelers)

    def _permute(self, i: int) -> int:
        """A fixed permutation of [0, 2**22): spreads products over labelers without depending on size."""
        mask = (1 << _FEISTEL_HALF_BITS) - 1
        left, right = i >> _FEISTEL_HALF_BITS, i & mask
        for table in self._rounds:
            left, right = right, left ^ table[right]
        return (left << _FEISTEL_HALF_BITS) | right

    def _ndc(self, i: int) -> tuple[str, str, str]:
        slot = self._permute(i)
        labeler = self._labelers[slot % len(self._labelers)]
        ordinal = slot // len(self._labelers)  # < 2**22 / 48 < 10**5: fits every labeler's code space
        code = (ordinal * labeler.multiplier + labeler.offset) % labeler.code_space
        product_len = int(labeler.layout.split("-")[1])
        digits = f"{code:0{10 - len(labeler.code)}d}"
        ndc = f"{labeler.code}-{digits[:product_len]}-{digits[product_len:]}"
        return ndc, labeler.layout, labeler.manufacturer

    def _make_product(self, i: int) -> CatalogProduct:
        # One hash instead of a seeded Random: product fields are the hot path when listing 100k products.
        bits = int.from_bytes(hashlib.blake2b(f"{self.seed}:{i}".encode(), digest_size=16).digest(), "big")
        bits, pick = divmod(bits, len(_DRUGS))
        generic, strengths, forms = _DRUGS[pick]
        bits, pick = divmod(bits, len(strengths))
        strength = strengths[pick]
        bits, pick = divmod(bits, len(forms))
        form = forms[pick]
        packs = _PACKS["solid" if ("tablet" in form or "capsule" in form) else form]
        bits, pick = divmod(bits, len(packs))
        bits, tracked = divmod(bits, 100)
        ndc, layout, manufacturer = self._ndc(i)
        return CatalogProduct(
            index=i,
            sku=f"SKU-{i + 1:06d}",
            name=f"{generic} {strength} {form}, {packs[pick]}",
            manufacturer=manufacturer,
            unit="EA",
            ndc=ndc,
            ndc_layout=layout,
            lot_tracked=tracked < 95,
            gtin14=ndc_to_gtin14(ndc),
        )

    def _make_holdings(self, i: int) -> tuple[tuple[CatalogLot, ...], tuple[CatalogStock, ...]]:
        rng = random.Random(f"{self.seed}:{i}:lots")
        lots = self._make_lots(rng, i) if self.product(i).lot_tracked else ()
        stock: list[CatalogStock] = []
        for lot in lots or (None,):
            for location in self.locations:
                if location.code == "MAIN" or rng.random() < _LOCATION_SHARE[location.code]:
                    stock.append(CatalogStock(i, location.code, lot.lot if lot else None, _quantity(rng)))
        return lots, tuple(stock)

    def _make_lots(self, rng: random.Random, i: int) -> tuple[CatalogLot, ...]:
        count = rng.choices((1, 2, 3), weights=(55, 30, 15))[0]
        seen: set[str] = set()
        lots = []
        while len(lots) < count:
            code = _lot_code(rng)
            if code in seen:
                continue
            seen.add(code)
            expiry = self._expiry(rng)
            made = expiry - timedelta(days=rng.randint(540, 1095))
            if made > self.today - timedelta(days=7):
                made = self.today - timedelta(days=rng.randint(7, 120))
            lots.append(CatalogLot(i, code, expiry, made))
        return tuple(lots)

    def _expiry(self, rng: random.Random) -> date:
        u = rng.random()
        if u < 0.04:
            return self.today - timedelta(days=rng.randint(1, 180))
        if u < 0.12:
            return self.today + timedelta(days=rng.randint(0, 89))
        if u < 0.22:
            return self.today + timedelta(days=rng.randint(91, 364))
        expiry = self.today + timedelta(days=rng.randint(365, 1065))
        if rng.random() < 0.7:  # labels mostly state a month end
            expiry = expiry.replace(day=calendar.monthrange(expiry.year, expiry.month)[1])
        return expiry


def _lot_code(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return f"{rng.choice(letters)}{rng.randint(0, 9999):04d}{rng.choice(letters)}"


def _quantity(rng: random.Random) -> Decimal:
    u = rng.random()
    if u < 0.05:
        return Decimal(0)
    if u < 0.06:
        return Decimal(rng.randint(0, 120)) + Decimal("0.5")
    return Decimal(rng.randint(1, 480))


# ---------------------------------------------------------------------------------------------------------
# ERP and Atlas views


@dataclass(frozen=True, slots=True)
class OverlapProfile:
    """Proportions of the ERP/Atlas overlap; see the module docstring for their meaning."""

    erp_only: float = 0.05
    atlas_only: float = 0.05
    ndc_11_bare: float = 0.10
    ndc_11_hyphenated: float = 0.10
    ndc_gtin14: float = 0.05
    ndc_10_bare: float = 0.03
    lot_missing_on_atlas: float = 0.02
    expiry_differs: float = 0.02
    extra_lot_on_atlas: float = 0.01
    quantity_differs: float = 0.05

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"overlap.{name}", f"must be a share between 0 and 1 (got {value})")
        if self.erp_only + self.atlas_only > 1.0:
            raise ConfigError("overlap.erp_only", "erp_only + atlas_only must not exceed 1")
        if self.ndc_11_bare + self.ndc_11_hyphenated + self.ndc_gtin14 + self.ndc_10_bare > 1.0:
            raise ConfigError("overlap.ndc_11_bare", "the NDC format shares must not add up to more than 1")


DEFAULT_PROFILE = OverlapProfile()
ERP_SYSTEMS: tuple[str, ...] = ("netsuite", "sap")


@dataclass(frozen=True, slots=True)
class ErpSeedItem:
    """A product as the ERP holds it: the item, its lots and its stock per location and lot."""

    product: CatalogProduct
    lots: tuple[CatalogLot, ...]
    stock: tuple[CatalogStock, ...]


@dataclass(frozen=True, slots=True)
class AtlasSeedRow:
    """One Atlas inventory row (one lot at one location). `tags` say how it differs from the ERP."""

    product_index: int
    sku: str
    name: str
    ndc: str
    ndc_format: str
    lot_number: str | None
    expiry_date: date | None
    quantity: Decimal
    unit: str
    location: str
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Plan:
    in_erp: bool
    on_atlas: bool
    ndc_format: str
    missing_lots: frozenset[str]
    expiry_shift: dict[str, int]  # lot -> days the Atlas expiry is off by
    extra_lot: CatalogLot | None
    quantity_deltas: tuple[int, ...]  # per stock row, 0 = same as the ERP


def _plan(catalog: Catalog, i: int, profile: OverlapProfile) -> _Plan:
    # Every draw happens in a fixed order whatever the profile, so changing one share moves only its category.
    rng = random.Random(f"{catalog.seed}:{i}:overlap")
    u_member, u_format = rng.random(), rng.random()
    lots = catalog.lots(i)
    stock = catalog.stock(i)
    lot_draws = [(rng.random(), rng.random(), rng.choice((-31, -1, 1, 30, 365))) for _ in lots]
    u_extra = rng.random()
    extra_code = _lot_code(rng)
    extra_expiry = catalog.today + timedelta(days=rng.randint(200, 900))
    row_draws = [(rng.random(), rng.choice((-1, 1)) * rng.randint(1, 24)) for _ in stock]

    in_erp = on_atlas = True
    if u_member < profile.erp_only:
        on_atlas = False
    elif u_member < profile.erp_only + profile.atlas_only:
        in_erp = False

    edges = (
        ("11-bare", profile.ndc_11_bare),
        ("11-hyphenated", profile.ndc_11_hyphenated),
        ("gtin14", profile.ndc_gtin14),
        ("10-bare", profile.ndc_10_bare),
    )
    ndc_format, acc = "10-hyphenated", 0.0
    for fmt, share in edges:
        acc += share
        if u_format < acc:
            ndc_format = fmt
            break

    both = in_erp and on_atlas
    missing: set[str] = set()
    shifts: dict[str, int] = {}
    if both:
        for lot, (u_missing, u_expiry, shift) in zip(lots, lot_draws, strict=True):
            # A product in both keeps at least one lot on Atlas, else it would count as "only in the ERP".
            if u_missing < profile.lot_missing_on_atlas and len(missing) + 1 < len(lots):
                missing.add(lot.lot)
            elif u_expiry < profile.expiry_differs:
                shifts[lot.lot] = shift
    extra = None
    if both and lots and u_extra < profile.extra_lot_on_atlas and extra_code not in {lot.lot for lot in lots}:
        extra = CatalogLot(i, extra_code, extra_expiry, catalog.today - timedelta(days=60))
    deltas = tuple(
        (delta if u < profile.quantity_differs else 0) if both else 0 for u, delta in row_draws
    )
    return _Plan(in_erp, on_atlas, ndc_format, frozenset(missing), shifts, extra, deltas)


def erp_items(
    catalog: Catalog, system: str, profile: OverlapProfile = DEFAULT_PROFILE
) -> Iterator[ErpSeedItem]:
    """The products the ERP holds (`system` is "netsuite" or "sap"; both hold the same products)."""
    if system not in ERP_SYSTEMS:
        raise ConfigError("system", f"unknown ERP {system!r}; use one of {', '.join(ERP_SYSTEMS)}")
    for i in range(len(catalog)):
        if _plan(catalog, i, profile).in_erp:
            yield ErpSeedItem(catalog.product(i), catalog.lots(i), catalog.stock(i))


def atlas_rows(catalog: Catalog, profile: OverlapProfile = DEFAULT_PROFILE) -> Iterator[AtlasSeedRow]:
    """The seller's Atlas listing: one row per lot per location, overlapping the ERP as documented above."""
    for i in range(len(catalog)):
        plan = _plan(catalog, i, profile)
        if not plan.on_atlas:
            continue
        product = catalog.product(i)
        ndc = ndc_as(product, plan.ndc_format)
        base_tags = set()
        if not plan.in_erp:
            base_tags.add("atlas_only")
        if plan.ndc_format == "10-bare":
            base_tags.add("ambiguous_ndc")
        if plan.ndc_format != "10-hyphenated":
            base_tags.add("ndc_reformatted")
        expiries = {lot.lot: lot.expiry for lot in catalog.lots(i)}

        def row(lot: str | None, expiry: date | None, qty: Decimal, location: str, tags: set[str],
                product: CatalogProduct = product, ndc: str = ndc, plan: _Plan = plan,
                base: frozenset[str] = frozenset(base_tags)) -> AtlasSeedRow:  # fmt: skip
            return AtlasSeedRow(
                product.index, product.sku, product.name, ndc, plan.ndc_format, lot, expiry, qty,
                product.unit, location, base | tags,
            )  # fmt: skip

        for stock, delta in zip(catalog.stock(i), plan.quantity_deltas, strict=True):
            if stock.lot in plan.missing_lots:
                continue
            tags: set[str] = set()
            expiry = expiries.get(stock.lot) if stock.lot else None
            if stock.lot in plan.expiry_shift and expiry is not None:
                expiry = expiry + timedelta(days=plan.expiry_shift[stock.lot])
                tags.add("expiry_differs")
            quantity = stock.quantity
            if delta:
                quantity = quantity + delta if quantity + delta >= 0 else quantity - delta
                tags.add("quantity_differs")
            yield row(stock.lot, expiry, quantity, stock.location, tags)
        if plan.extra_lot is not None:
            extra = plan.extra_lot
            quantity = Decimal(random.Random(f"{catalog.seed}:{i}:extra").randint(1, 200))
            yield row(extra.lot, extra.expiry, quantity, "MAIN", {"extra_lot"})


@dataclass(frozen=True, slots=True)
class OverlapReport:
    """How many products, lots and rows fall in each overlap category of one catalog."""

    products: int
    both: int
    erp_only: int
    atlas_only: int
    erp_stock_rows: int
    atlas_rows: int
    ndc_formats: dict[str, int] = field(default_factory=dict)  # per product listed on Atlas
    ambiguous_ndc_products: int = 0
    lots_missing_on_atlas: int = 0
    lots_extra_on_atlas: int = 0
    expiry_differs: int = 0  # lots of products in both
    quantity_differs: int = 0  # Atlas rows
    atlas_rows_in_sync: int = 0  # rows of products in both, same lot, expiry and quantity as the ERP

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def overlap_report(catalog: Catalog, profile: OverlapProfile = DEFAULT_PROFILE) -> OverlapReport:
    """Count each overlap category by walking the catalog once (O(size) time, O(1) memory)."""
    counts: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    for i in range(len(catalog)):
        plan = _plan(catalog, i, profile)
        stock_rows = len(catalog.stock(i))
        if plan.in_erp:
            counts["erp_stock_rows"] += stock_rows
        if plan.in_erp and plan.on_atlas:
            counts["both"] += 1
        elif plan.in_erp:
            counts["erp_only"] += 1
        else:
            counts["atlas_only"] += 1
        if plan.on_atlas:
            formats[plan.ndc_format] += 1
            counts["lots_missing_on_atlas"] += len(plan.missing_lots)
            counts["expiry_differs"] += len(plan.expiry_shift)
            counts["lots_extra_on_atlas"] += plan.extra_lot is not None
    for r in atlas_rows(catalog, profile):
        counts["atlas_rows"] += 1
        counts["quantity_differs"] += "quantity_differs" in r.tags
        if not r.tags - {"ndc_reformatted", "ambiguous_ndc"}:
            counts["atlas_rows_in_sync"] += 1
    return OverlapReport(
        products=len(catalog),
        both=counts["both"],
        erp_only=counts["erp_only"],
        atlas_only=counts["atlas_only"],
        erp_stock_rows=counts["erp_stock_rows"],
        atlas_rows=counts["atlas_rows"],
        ndc_formats={fmt: formats[fmt] for fmt in NDC_FORMATS},
        ambiguous_ndc_products=formats["10-bare"],
        lots_missing_on_atlas=counts["lots_missing_on_atlas"],
        lots_extra_on_atlas=counts["lots_extra_on_atlas"],
        expiry_differs=counts["expiry_differs"],
        quantity_differs=counts["quantity_differs"],
        atlas_rows_in_sync=counts["atlas_rows_in_sync"],
    )
