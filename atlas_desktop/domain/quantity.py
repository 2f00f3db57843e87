"""What a stock quantity can be in each system, checked where values come in and go out (pure, no I/O).

A remote value outside these bounds (non-finite, "1e400", more places or digits than the field holds) is
refused for its item alone: the reader reports a `RejectedRow` and goes on, the mirror keeps the item's
last good value, and nothing is merged or written from it. The engine checks the other way too: no write
is planned whose value the target system cannot hold.

Bounds, and where they come from:
- SAP: DEC 13,3 (QuantityInEntryUnit, QuantityInBaseUnit; stock is MARD-LABST QUAN 13,3), so at most
  10 integer digits and 3 places. The stock API's metadata says 31,14, but a
  value a goods movement cannot post is not a stock level either.
- NetSuite: quantities are floating-point numbers there, and the REST body carries them as JSON numbers,
  exact up to 15 significant digits (connectors/netsuite/mapping.json_number): 10 integer digits (SAP's
  magnitude) and 5 places, so every accepted value can be posted back exactly.
- Atlas: the contract sets no limit and the store keeps decimals as exact text
  (store/types.ExactDecimal), so the bound is ours: 12 integer digits (a trillion units) and 6 places
  (a microlitre in mL). 18 significant digits keep every merge sum exact in Decimal's 28-digit context.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from atlas_desktop.domain.errors import AtlasDesktopError, ConnectorError, ErrorKind
from atlas_desktop.domain.model import ErpType, StockKey

# Longer text is refused before Decimal() reads it: no bounded quantity needs it ("1160.00000000000000",
# SAP's widest form, has 19 characters), and a million digits would cost real time to parse.
MAX_TEXT = 40
# Item refs are at most 200 characters (sync_item_errors.item_ref): each id in one is cut to 60.
_ID_CHARS = 60
ERP_REF_PREFIX = "ERP stock "
ATLAS_REF_PREFIX = "Atlas row "


@dataclass(frozen=True, slots=True)
class QuantityBounds:
    """The quantities `system` can hold: at most `integer_digits` before the point, `places` after it."""

    system: str
    integer_digits: int
    places: int

    def describe(self) -> str:
        digits, places = self.integer_digits, self.places
        return f"{self.system} holds at most {digits} integer digits and {places} decimal places"

    def problem(self, value: Decimal) -> str | None:
        """Why `value` cannot be a quantity here, or None when it can."""
        if not value.is_finite():
            return "it is not a finite number"
        if value.is_zero():
            return None
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite
        # Trailing zeros after the point are no places ("1160.000" has none), so they are skipped.
        zeros = 0
        while zeros < len(digits) - 1 and digits[len(digits) - 1 - zeros] == 0 and exponent + zeros < 0:
            zeros += 1
        places = max(0, -(exponent + zeros))
        integer_digits = max(0, len(digits) + exponent)
        if integer_digits > self.integer_digits:
            return f"it has {integer_digits} integer digits; {self.describe()}"
        if places > self.places:
            return f"it has {places} decimal places; {self.describe()}"
        return None


SAP = QuantityBounds("SAP", 10, 3)
NETSUITE = QuantityBounds("NetSuite", 10, 5)
ATLAS = QuantityBounds("Atlas", 12, 6)


def erp_bounds(erp_type: ErpType) -> QuantityBounds:
    return SAP if ErpType(erp_type).is_sap else NETSUITE


class QuantityRefused(ConnectorError):
    """A quantity no stock level can be: refused for one item (named in the message), never for a run."""

    kind = ErrorKind.OUT_OF_BOUNDS
    default_fix = (
        "Correct the quantity of this item where it is kept. Until then the item is not synced (its last "
        "good value is kept); the first sync after the correction carries it as usual."
    )


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row a read refused, yielded in the stream in its place: the read goes on without it.

    `ref` names the item (erp_ref / atlas_ref, stable per key); `key` is the ERP stock position,
    `atlas_id` the Atlas row, whichever the row is.
    """

    ref: str
    error: AtlasDesktopError
    key: StockKey | None = None
    atlas_id: str | None = None


def _short(text: str) -> str:
    return text if len(text) <= _ID_CHARS else text[: _ID_CHARS - 1] + "…"


def erp_ref(key: StockKey) -> str:
    lot = f" lot {_short(key.lot)}" if key.lot else ""
    return f"{ERP_REF_PREFIX}{_short(key.item_id)} at {_short(key.location_id)}{lot}"


def atlas_ref(row_id: str) -> str:
    return f"{ATLAS_REF_PREFIX}{_short(row_id)}"


def is_read_ref(ref: str) -> bool:
    """Whether an item ref names a row a read refused (rather than, e.g., a write the merge refused)."""
    return ref.startswith((ERP_REF_PREFIX, ATLAS_REF_PREFIX))


def refused(bounds: QuantityBounds, shown: object, problem: str, item: str, what: str) -> QuantityRefused:
    text = str(shown)
    text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
    return QuantityRefused(
        f"{bounds.system} sent {text!r} as {what} of {item}, which is refused: {problem}.",
        system=bounds.system,
    )


WRITE_FIX = (
    "Correct the quantity on the side it came from so that the result fits; until then the item is not "
    "synced, and the first sync after the correction carries it as usual."
)


def require_writable(value: Decimal, bounds: QuantityBounds, *, item: str, what: str) -> None:
    """Refuse (QuantityRefused) to send `value` as `what` of `item` when `bounds.system` cannot hold it."""
    problem = bounds.problem(value)
    if problem is not None:
        text = str(value)
        text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
        raise QuantityRefused(
            f"{what} {text} of {item} cannot be written to {bounds.system}: {problem}.",
            system=bounds.system,
            fix=WRITE_FIX,
        )


def read_quantity(value: object, bounds: QuantityBounds, *, item: str, what: str = "the quantity") -> Decimal:
    """A quantity as a remote sent it (decimal text, int or Decimal) within `bounds`.

    Raises QuantityRefused naming `item` otherwise. Exponent forms within bounds ("1.5E+2") come back
    plain (150), so the store never keeps an exponent.
    """
    if isinstance(value, Decimal):
        outcome: Decimal | str = _checked(value, bounds)
    elif isinstance(value, int) and not isinstance(value, bool):
        outcome = _checked(Decimal(value), bounds)
    elif isinstance(value, str):
        outcome = _from_text(value, bounds)
    else:  # a float has lost digits already; anything else is no number
        outcome = f"it is a {type(value).__name__}, not a decimal"
    if isinstance(outcome, str):
        raise refused(bounds, value, outcome, item, what)
    return outcome


def quantity_within(text: str, bounds: QuantityBounds) -> Decimal | None:
    """`read_quantity` of a text without naming a row: the quantity, or None where it would be refused.
    Readers of whole catalogs look first with this and name the row (read_quantity) only for a refusal."""
    outcome = _from_text(text, bounds)
    return None if isinstance(outcome, str) else outcome


# Stock answers repeat a small set of quantities; Decimals are immutable, so one result serves them all.
@lru_cache(maxsize=4096)
def _from_text(text: str, bounds: QuantityBounds) -> Decimal | str:
    if len(text) > MAX_TEXT:
        return f"it is {len(text)} characters long"
    try:
        number = Decimal(text)
    except InvalidOperation:
        return "it is not a number"
    return _checked(number, bounds)


def _checked(number: Decimal, bounds: QuantityBounds) -> Decimal | str:
    problem = bounds.problem(number)
    if problem is not None:
        return problem
    exponent = number.as_tuple().exponent
    # Within bounds, so at most 12 digits: quantize is exact in the default 28-digit context.
    return number.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else number
