"""A deterministic, lazily generated pharma catalog that seeds the ERP and Atlas emulators.

Same `(seed, size, today)` gives the same catalog, byte for byte. Product `i` is generated on demand from
BLAKE2b hashes of `f"{seed}:{i}..."` (one hash per product, lot or overlap plan: far cheaper than seeding a
`random.Random` per product), so 100,000 products iterate in O(1) memory in a few seconds; product `i` does
not depend on `size` either (a 200-item test catalog is a prefix of the 1,000-item demo catalog).

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

import hashlib
import random
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache

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


def _pack_sizes(form: str) -> tuple[str, ...]:
    return _PACKS["solid" if ("tablet" in form or "capsule" in form) else form]


# Every product name, built once: _NAMES[drug][strength][form][pack]. Products share these strings, which
# saves both the formatting and the memory of 100k copies.
_NAMES: tuple[tuple[tuple[tuple[str, ...], ...], ...], ...] = tuple(
    tuple(
        tuple(tuple(f"{generic} {strength} {form}, {pack}" for pack in _pack_sizes(form)) for form in forms)
        for strength in strengths
    )
    for generic, strengths, forms in _DRUGS
)


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
    return _check_digit(digits)


def _check_digit(digits: str) -> str:
    return str(-_gs1_sum(digits) % 10)


def _gs1_sum(digits: str) -> int:
    # Weights 3,1,3,1... from the rightmost digit of the body.
    return 3 * sum(map(int, digits[-1::-2])) + sum(map(int, digits[-2::-2]))


# GS1 weighted digit sums of 0..999 written as 3 digits: starting with weight 3 at the units (the rightmost
# digits of a body) and starting with weight 1 (the next 3 digits). Per product the check digit then costs
# two lookups instead of a pass over 13 characters.
_GS1_SUM_3 = tuple(_gs1_sum(f"{n:03d}") for n in range(1000))
_GS1_SUM_1 = tuple(_gs1_sum(f"{n:03d}0") for n in range(1000))


def ndc_to_gtin14(ndc10: str, indicator: int = 0) -> str:
    digits = ndc10.replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        raise ValueError("GTIN-14 is built from a 10-digit NDC")
    body = f"{indicator}03{digits}"
    return body + _check_digit(body)


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
# Draws: 32-bit words from BLAKE2b


_WORD = 1 << 32
_BLOCK_WORDS = 16  # one 64-byte BLAKE2b digest
_BLOCK = struct.Struct(f"<{_BLOCK_WORDS}I")


def _block(key: str, n: int) -> tuple[int, ...]:
    return _BLOCK.unpack(hashlib.blake2b(f"{key}/{n}".encode(), digest_size=64).digest())


def _words(key: str, count: int, first: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """At least `count` uniform 32-bit words for `key`; word k never depends on `count` (a fixed stream)."""
    words = first if first is not None else _block(key, 0)
    for n in range(1, -(-count // _BLOCK_WORDS)):
        words += _block(key, n)
    return words


def _below(word: int, n: int) -> int:
    """Uniform in [0, n) from a 32-bit word (multiply-shift; bias below n / 2**32)."""
    return (word * n) >> 32


def _cut(share: float) -> float:
    """`word < _cut(p)` holds with probability p (1.0 always, 0.0 never)."""
    return share * _WORD


_DAYS = tuple(timedelta(days=d) for d in range(1200))
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_LOT_CODES = len(_LETTERS) * 10_000 * len(_LETTERS)
# Quantities are drawn from small ranges: share the Decimal objects (immutable) instead of building them.
_WHOLE = tuple(Decimal(n) for n in range(481))
_HALVES = tuple(Decimal(n) + Decimal("0.5") for n in range(121))
_EXTRA_QUANTITIES = _WHOLE[1:201]
_Q_ZERO, _Q_HALF = _cut(0.05), _cut(0.06)
_LOTS_ONE, _LOTS_TWO = _cut(0.55), _cut(0.85)  # 1-3 lots, weights 55/30/15
_E_EXPIRED, _E_SOON, _E_YEAR, _E_MONTH_END = _cut(0.04), _cut(0.12), _cut(0.22), _cut(0.7)
_LOT_WORDS = 6  # code, expiry category, expiry days, month end, manufacture days, fallback manufacture days
_LOCATION_WORDS = 3  # stocked here?, quantity kind, quantity magnitude


def _lot_code(word: int) -> str:
    pick = (word * _LOT_CODES) >> 32
    first, rest = divmod(pick, 10_000 * len(_LETTERS))
    digits, last = divmod(rest, len(_LETTERS))
    return f"{_LETTERS[first]}{digits:04d}{_LETTERS[last]}"


def _quantity(kind: int, magnitude: int) -> Decimal:
    if kind < _Q_ZERO:
        return _WHOLE[0]
    if kind < _Q_HALF:
        return _HALVES[(magnitude * 121) >> 32]
    return _WHOLE[1 + ((magnitude * 480) >> 32)]


def _month_end(day: date) -> date:
    if day.month == 12:
        return date(day.year, 12, 31)
    return date(day.year, day.month + 1, 1) - _DAYS[1]


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
        # Per labeler, what `_make_product` needs, precomputed: (code, layout, manufacturer, multiplier,
        # offset, code space, digits after the labeler code, product segment length, the GS1 weighted sum of
        # the GTIN body's digits before the product/package digits).
        self._ndc_parts = tuple(
            (lab.code, lab.layout, lab.manufacturer, lab.multiplier, lab.offset, lab.code_space,
             10 - len(lab.code), int(lab.layout.split("-")[1]), _gs1_sum(f"003{lab.code:0<10}"))
            for lab in self._labelers
        )  # fmt: skip
        self._recent = self.today - _DAYS[7]
        self._stock_cuts = tuple((loc.code, _cut(_LOCATION_SHARE[loc.code])) for loc in self.locations)
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
        make = self._product
        for i in range(self.size):
            yield make(i)

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

    def _make_product(self, i: int) -> CatalogProduct:
        # One hash instead of a seeded Random: product fields are the hot path when listing 100k products.
        bits = int.from_bytes(hashlib.blake2b(f"{self.seed}:{i}".encode(), digest_size=16).digest(), "big")
        bits, pick = divmod(bits, len(_NAMES))
        by_strength = _NAMES[pick]
        bits, pick = divmod(bits, len(by_strength))
        by_form = by_strength[pick]
        bits, pick = divmod(bits, len(by_form))
        by_pack = by_form[pick]
        bits, pick = divmod(bits, len(by_pack))
        tracked = bits % 100
        # The NDC: a labeler and a code within its code space, from a size-independent permutation.
        slot, labelers = self._permute(i), self._ndc_parts
        code, layout, manufacturer, multiplier, offset, space, width, product_len, gs1_head = labelers[
            slot % len(labelers)
        ]
        value = ((slot // len(labelers)) * multiplier + offset) % space  # slot // 48 < 10**5 fits any space
        digits = f"{value:0{width}d}"
        check = -(gs1_head + _GS1_SUM_3[value % 1000] + _GS1_SUM_1[value // 1000]) % 10
        return CatalogProduct(
            index=i,
            sku=f"SKU-{i + 1:06d}",
            name=by_pack[pick],
            manufacturer=manufacturer,
            unit="EA",
            ndc=f"{code}-{digits[:product_len]}-{digits[product_len:]}",
            ndc_layout=layout,
            lot_tracked=tracked < 95,
            gtin14=f"003{code}{digits}{check}",
        )

    def _make_holdings(self, i: int) -> tuple[tuple[CatalogLot, ...], tuple[CatalogStock, ...]]:
        # Word layout: [lot count] [6 words per lot] [3 words per location, per lot (or once if untracked)].
        key = f"{self.seed}:{i}:lots"
        first = _block(key, 0)
        count = 0
        if self._product(i).lot_tracked:
            count = 1 if first[0] < _LOTS_ONE else 2 if first[0] < _LOTS_TWO else 3
        per_lot = _LOCATION_WORDS * len(self._stock_cuts)
        base = 1 + _LOT_WORDS * count
        words = _words(key, base + per_lot * max(count, 1), first)
        lots = self._make_lots(words, i, count)
        stock: list[CatalogStock] = []
        for k, lot in enumerate(lots or (None,)):
            code = lot.lot if lot else None
            w = base + per_lot * k
            for location, cut in self._stock_cuts:
                if words[w] < cut:  # MAIN: share 1.0, always
                    stock.append(CatalogStock(i, location, code, _quantity(words[w + 1], words[w + 2])))
                w += _LOCATION_WORDS
        return lots, tuple(stock)

    def _make_lots(self, words: tuple[int, ...], i: int, count: int) -> tuple[CatalogLot, ...]:
        today, recent = self.today, self._recent
        lots: list[CatalogLot] = []
        codes: list[str] = []
        for w in range(1, 1 + _LOT_WORDS * count, _LOT_WORDS):
            code = _lot_code(words[w])
            while code in codes:  # about 1 in 10**6 products: step the digits
                code = f"{code[0]}{(int(code[1:5]) + 1) % 10_000:04d}{code[5]}"
            codes.append(code)
            expiry = self._expiry(words[w + 1], words[w + 2], words[w + 3])
            made = expiry - _DAYS[540 + ((words[w + 4] * 556) >> 32)]
            if made > recent:
                made = today - _DAYS[7 + ((words[w + 5] * 114) >> 32)]
            lots.append(CatalogLot(i, code, expiry, made))
        return tuple(lots)

    def _expiry(self, category: int, days: int, month_end: int) -> date:
        today = self.today
        if category < _E_EXPIRED:
            return today - _DAYS[1 + ((days * 180) >> 32)]
        if category < _E_SOON:
            return today + _DAYS[(days * 90) >> 32]
        if category < _E_YEAR:
            return today + _DAYS[91 + ((days * 274) >> 32)]
        expiry = today + _DAYS[365 + ((days * 701) >> 32)]
        return _month_end(expiry) if month_end < _E_MONTH_END else expiry  # labels mostly state a month end


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
class _Cuts:
    """A profile's shares as thresholds on 32-bit words, computed once per view rather than per product."""

    erp_only: float
    erp_or_atlas_only: float
    formats: tuple[tuple[str, float], ...]  # cumulative
    lot_missing: float
    expiry_differs: float
    extra_lot: float
    quantity_differs: float

    @classmethod
    def of(cls, profile: OverlapProfile) -> _Cuts:
        formats, acc = [], 0.0
        for fmt, share in (
            ("11-bare", profile.ndc_11_bare),
            ("11-hyphenated", profile.ndc_11_hyphenated),
            ("gtin14", profile.ndc_gtin14),
            ("10-bare", profile.ndc_10_bare),
        ):
            acc += share
            formats.append((fmt, _cut(acc)))
        return cls(
            _cut(profile.erp_only), _cut(profile.erp_only + profile.atlas_only), tuple(formats),
            _cut(profile.lot_missing_on_atlas), _cut(profile.expiry_differs),
            _cut(profile.extra_lot_on_atlas), _cut(profile.quantity_differs),
        )  # fmt: skip


@dataclass(slots=True)  # not frozen: internal, one per product, and frozen __init__ is slower
class _Plan:
    in_erp: bool
    on_atlas: bool
    ndc_format: str
    missing_lots: frozenset[str]
    expiry_shift: dict[str, int]  # lot -> days the Atlas expiry is off by
    extra_lot: CatalogLot | None
    extra_quantity: Decimal
    quantity_deltas: tuple[int, ...]  # per stock row, 0 = same as the ERP


_EXPIRY_SHIFTS = (-31, -1, 1, 30, 365)
# Word layout of a product's overlap plan: [membership, NDC format, extra lot?, extra lot code, extra lot
# expiry, extra lot quantity] [3 words per ERP lot] [2 words per ERP stock row]. Every word has its fixed
# place whatever the profile, so changing one share moves only its category.
_PLAN_HEAD = 6
_NO_LOTS: frozenset[str] = frozenset()


def _overlap_key(catalog: Catalog, i: int) -> str:
    return f"{catalog.seed}:{i}:overlap"


def _membership(word: int, cuts: _Cuts) -> tuple[bool, bool]:
    """(in the ERP, on Atlas)."""
    if word < cuts.erp_only:
        return True, False
    if word < cuts.erp_or_atlas_only:
        return False, True
    return True, True


def _plan(
    catalog: Catalog, i: int, cuts: _Cuts, lots: tuple[CatalogLot, ...], stock: tuple[CatalogStock, ...]
) -> _Plan:
    words = _words(_overlap_key(catalog, i), _PLAN_HEAD + 3 * len(lots) + 2 * len(stock))
    in_erp, on_atlas = _membership(words[0], cuts)
    ndc_format = "10-hyphenated"
    for fmt, cut in cuts.formats:
        if words[1] < cut:
            ndc_format = fmt
            break
    extra_quantity = _EXTRA_QUANTITIES[_below(words[5], len(_EXTRA_QUANTITIES))]
    if not (in_erp and on_atlas):
        return _Plan(in_erp, on_atlas, ndc_format, _NO_LOTS, {}, None, extra_quantity, (0,) * len(stock))
    missing: set[str] = set()
    shifts: dict[str, int] = {}
    extra = None
    deltas: tuple[int, ...] = (0,) * len(stock)
    w = _PLAN_HEAD
    for lot in lots:
        # A product in both keeps at least one lot on Atlas, else it would count as "only in the ERP".
        if words[w] < cuts.lot_missing and len(missing) + 1 < len(lots):
            missing.add(lot.lot)
        elif words[w + 1] < cuts.expiry_differs:
            shifts[lot.lot] = _EXPIRY_SHIFTS[_below(words[w + 2], len(_EXPIRY_SHIFTS))]
        w += 3
    if lots and words[2] < cuts.extra_lot:
        code = _lot_code(words[3])
        if all(lot.lot != code for lot in lots):
            expiry = catalog.today + _DAYS[200 + _below(words[4], 701)]
            extra = CatalogLot(i, code, expiry, catalog.today - _DAYS[60])
    if cuts.quantity_differs:
        row_deltas = []
        for r in range(w, w + 2 * len(stock), 2):
            delta = 0
            if words[r] < cuts.quantity_differs:
                delta = _below(words[r + 1], 48) - 24  # -24..23 without 0: 1..24 either way
                delta += delta >= 0
            row_deltas.append(delta)
        deltas = tuple(row_deltas)
    missing_lots = frozenset(missing) if missing else _NO_LOTS
    return _Plan(in_erp, on_atlas, ndc_format, missing_lots, shifts, extra, extra_quantity, deltas)


def erp_items(
    catalog: Catalog, system: str, profile: OverlapProfile = DEFAULT_PROFILE
) -> Iterator[ErpSeedItem]:
    """The products the ERP holds (`system` is "netsuite" or "sap"; both hold the same products)."""
    if system not in ERP_SYSTEMS:
        raise ConfigError("system", f"unknown ERP {system!r}; use one of {', '.join(ERP_SYSTEMS)}")
    cuts = _Cuts.of(profile)
    for i in range(len(catalog)):
        # Membership is the plan's first word: no need for the rest of the plan here.
        if _membership(_block(_overlap_key(catalog, i), 0)[0], cuts)[0]:
            lots, stock = catalog._holdings(i)
            yield ErpSeedItem(catalog._product(i), lots, stock)


_NDC_TAGS = frozenset({"ndc_reformatted", "ambiguous_ndc"})  # a row with only these is in sync with the ERP


@cache
def _tags(base: frozenset[str], *extra: str) -> frozenset[str]:
    # A handful of distinct tag sets exist: share them rather than build one per row.
    return base.union(extra)


# Tags every row of a product carries, by (in the ERP, NDC format as typed on Atlas).
_BASE_TAGS: dict[tuple[bool, str], frozenset[str]] = {
    (in_erp, fmt): frozenset(
        (["atlas_only"] if not in_erp else [])
        + (["ambiguous_ndc"] if fmt == "10-bare" else [])
        + (["ndc_reformatted"] if fmt != "10-hyphenated" else [])
    )
    for in_erp in (True, False)
    for fmt in NDC_FORMATS
}


def _atlas_entries(
    plan: _Plan, lots: tuple[CatalogLot, ...], stock: tuple[CatalogStock, ...]
) -> Iterator[tuple[str | None, date | None, Decimal, str, frozenset[str]]]:
    """(lot, expiry, quantity, location, tags) of a product's Atlas rows: shared by rows and report."""
    base = _BASE_TAGS[plan.in_erp, plan.ndc_format]
    expiries = {lot.lot: lot.expiry for lot in lots}
    if not (plan.missing_lots or plan.expiry_shift or any(plan.quantity_deltas)):
        # Most products: every row as the ERP holds it.
        for row in stock:
            yield row.lot, expiries[row.lot] if row.lot else None, row.quantity, row.location, base
    else:
        yield from _differing_entries(plan, base, expiries, stock)
    if plan.extra_lot is not None:
        extra = plan.extra_lot
        yield extra.lot, extra.expiry, plan.extra_quantity, "MAIN", _tags(base, "extra_lot")


def _differing_entries(
    plan: _Plan, base: frozenset[str], expiries: dict[str, date], stock: tuple[CatalogStock, ...]
) -> Iterator[tuple[str | None, date | None, Decimal, str, frozenset[str]]]:
    for row, delta in zip(stock, plan.quantity_deltas, strict=True):
        lot = row.lot
        if lot in plan.missing_lots:
            continue
        expiry = expiries[lot] if lot else None
        quantity = row.quantity
        shift = plan.expiry_shift.get(lot) if lot else None
        if shift is not None and expiry is not None:
            expiry = expiry + _DAYS[shift] if shift >= 0 else expiry - _DAYS[-shift]
        if delta:
            quantity = quantity + delta if quantity + delta >= 0 else quantity - delta
        if shift is None and not delta:
            tags = base
        else:
            tags = _tags(base, *(("expiry_differs",) if shift is not None else ()),
                         *(("quantity_differs",) if delta else ()))  # fmt: skip
        yield lot, expiry, quantity, row.location, tags


def atlas_rows(catalog: Catalog, profile: OverlapProfile = DEFAULT_PROFILE) -> Iterator[AtlasSeedRow]:
    """The seller's Atlas listing: one row per lot per location, overlapping the ERP as documented above."""
    cuts = _Cuts.of(profile)
    for i in range(len(catalog)):
        lots, stock = catalog._holdings(i)
        plan = _plan(catalog, i, cuts, lots, stock)
        if not plan.on_atlas:
            continue
        product = catalog._product(i)
        ndc, fmt = ndc_as(product, plan.ndc_format), plan.ndc_format
        index, sku, name, unit = product.index, product.sku, product.name, product.unit
        for lot, expiry, quantity, location, tags in _atlas_entries(plan, lots, stock):
            yield AtlasSeedRow(index, sku, name, ndc, fmt, lot, expiry, quantity, unit, location, tags)


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
    """Count each overlap category in one walk of the catalog (O(size) time, O(1) memory).

    It goes through the same per-product plan and row logic as `atlas_rows`, without building products or
    rows, so the counts match the views exactly.
    """
    cuts = _Cuts.of(profile)
    counts: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    both = erp_only = atlas_only = erp_stock_rows = rows = quantity_differs = in_sync = 0
    for i in range(len(catalog)):
        lots, stock = catalog._holdings(i)
        plan = _plan(catalog, i, cuts, lots, stock)
        if plan.in_erp:
            erp_stock_rows += len(stock)
            if plan.on_atlas:
                both += 1
            else:
                erp_only += 1
                continue
        else:
            atlas_only += 1
        formats[plan.ndc_format] += 1
        counts["lots_missing_on_atlas"] += len(plan.missing_lots)
        counts["expiry_differs"] += len(plan.expiry_shift)
        counts["lots_extra_on_atlas"] += plan.extra_lot is not None
        for *_, tags in _atlas_entries(plan, lots, stock):
            rows += 1
            quantity_differs += "quantity_differs" in tags
            in_sync += tags <= _NDC_TAGS
    return OverlapReport(
        products=len(catalog),
        both=both,
        erp_only=erp_only,
        atlas_only=atlas_only,
        erp_stock_rows=erp_stock_rows,
        atlas_rows=rows,
        ndc_formats={fmt: formats[fmt] for fmt in NDC_FORMATS},
        ambiguous_ndc_products=formats["10-bare"],
        lots_missing_on_atlas=counts["lots_missing_on_atlas"],
        lots_extra_on_atlas=counts["lots_extra_on_atlas"],
        expiry_differs=counts["expiry_differs"],
        quantity_differs=quantity_differs,
        atlas_rows_in_sync=in_sync,
    )
