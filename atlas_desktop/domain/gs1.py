"""GS1 element strings from DataMatrix/GS1-128 scans: GTIN (01), lot (10), expiry (17), serial (21).

Parsing is biip's (AI table, fixed lengths, FNC1 as ASCII 29, expiry day "00" = last day of the month,
century window); this module adds the symbology prefix and parentheses forms, GTIN check-digit
enforcement, and the NDC readings of the GTIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gs1_messages import GS1Message
from biip.symbology import SymbologyIdentifier

from atlas_desktop.domain.ndc import Ndc, candidates_from_ten_digits, ten_digits_from_gtin

GS = "\x1d"
_EXAMPLE = "(01)00312345678906(17)270131(10)LOT42(21)SN1001, or the same without parentheses"
_GTIN_LENGTHS = (8, 12, 13, 14)


class Gs1Error(ValueError):
    """The text is not a readable GS1 element string; the message says why and what one looks like."""


@dataclass(frozen=True, slots=True)
class Gs1Data:
    """What a pharma barcode says. `ndc_candidates` is empty when the GTIN embeds no NDC."""

    gtin: str | None
    lot: str | None
    expiry: date | None
    serial: str | None
    ndc_candidates: tuple[Ndc, ...]


def gtin_check_digit(digits13: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (13 for a GTIN-14; shorter GTINs work too)."""
    if not (digits13.isascii() and digits13.isdigit()) or not 1 <= len(digits13) <= 17:
        raise ValueError(f"a GS1 check digit is computed over 1-17 digits, got {digits13!r}")
    return gs1_standard_check_digit(digits13)


def is_valid_gtin(text: str) -> bool:
    """True for a GTIN-8/12/13/14 of digits whose check digit is right."""
    if not (text.isascii() and text.isdigit()) or len(text) not in _GTIN_LENGTHS:
        return False
    return gs1_standard_check_digit(text[:-1]) == int(text[-1])


def parse_gs1(text: str) -> Gs1Data:
    """Read a GS1 element string: raw with FNC1/GS separators, with a "]d2"-style prefix, or "(01)…(17)…"."""
    if not isinstance(text, str):
        raise Gs1Error(f"expected text, got {type(text).__name__}")
    # str.strip() would also eat GS (it counts as whitespace); a leading/trailing GS is harmless anyway.
    body = text.strip()
    if body.startswith("]"):
        body = _drop_symbology(body, text)
    if not body:
        raise Gs1Error(f"the barcode is empty. Expected a GS1 element string like {_EXAMPLE}")
    try:
        if body.startswith("("):
            message = GS1Message.parse_hri(body)
        else:
            message = GS1Message.parse(body.strip(GS))
    except ParseError as exc:
        raise Gs1Error(
            f"cannot read {_shorten(text)!r} as a GS1 barcode: {exc} Expected something like {_EXAMPLE}"
        ) from exc
    values: dict[str, str] = {}
    expiry: date | None = None
    for element in message.element_strings:
        values.setdefault(element.ai.ai, element.value)
        if element.ai.ai == "17" and expiry is None:
            expiry = element.date
    gtin = values.get("01")
    if gtin is not None and not is_valid_gtin(gtin):
        raise Gs1Error(
            f"the GTIN {gtin} in the barcode has a wrong check digit "
            f"(expected {gs1_standard_check_digit(gtin[:-1])}); re-scan the code"
        )
    ten = ten_digits_from_gtin(gtin) if gtin is not None else None
    return Gs1Data(
        gtin=gtin,
        lot=values.get("10"),
        expiry=expiry,
        serial=values.get("21"),
        ndc_candidates=candidates_from_ten_digits(ten) if ten is not None else (),
    )


def _drop_symbology(body: str, text: str) -> str:
    try:
        symbology = SymbologyIdentifier.extract(body)
    except ParseError as exc:
        raise Gs1Error(f"unknown barcode symbology prefix in {_shorten(text)!r}: {exc}") from exc
    if symbology.gs1_symbology is None:
        raise Gs1Error(
            f"the scanner reports {symbology.value!r}, a barcode that carries no GS1 data; "
            "scan the GS1 DataMatrix or GS1-128 code on the package"
        )
    return body[len(symbology) :]


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
