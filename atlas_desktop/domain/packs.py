"""Pack levels of a product: the NDC a case or pack carries and how many base units it holds.

A product's pack levels travel in `Product.attributes` (kept in the product mirror as they are):
`ndc:<unit>` the NDC digits that unit's GTINs embed (comma-separated), `per:<unit>` the base units one
`<unit>` holds (a decimal). A case GTIN embeds its own NDC package code, so an
Atlas listing of cases names the case's NDC, and its quantity counts cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

NDC_PREFIX = "ndc:"
PER_PREFIX = "per:"


@dataclass(frozen=True, slots=True)
class PackLevel:
    unit: str
    ndc_texts: tuple[str, ...]
    per: Decimal  # base units in one `unit`


def per_text(numerator: Decimal, denominator: Decimal) -> str | None:
    """`per:<unit>` for "1 unit = numerator / denominator base units", or None when it is not a quantity."""
    if numerator <= 0 or denominator <= 0:
        return None
    per = numerator / denominator
    return format(per.normalize(), "f") if per == per.quantize(Decimal("0.000001")) else None


def pack_levels(attributes: Mapping[str, str], base_unit: str) -> tuple[PackLevel, ...]:
    """The pack levels other than the base unit with an NDC and a usable conversion, by unit."""
    levels = []
    for name, value in sorted(attributes.items()):
        if not name.startswith(NDC_PREFIX):
            continue
        unit = name[len(NDC_PREFIX) :]
        per_value = attributes.get(PER_PREFIX + unit)
        if unit == base_unit or not per_value:
            continue
        try:
            per = Decimal(per_value)
        except InvalidOperation:
            continue
        texts = tuple(t.strip() for t in str(value).split(",") if t.strip())
        if per.is_finite() and per > 0 and texts:
            levels.append(PackLevel(unit, texts, per))
    return tuple(levels)
