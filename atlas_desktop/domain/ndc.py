"""National Drug Codes: parse every form an ERP or a scanner hands us, and derive the matching key.

Facts: a 10-digit NDC is 4-4-2, 5-3-2 or 5-4-1; the 11-digit billing form is 5-4-2 with
the short segment padded by one leading zero; the GTIN of a package embeds the *10-digit* NDC after "03";
from 2033 NDCs are 12 digits 6-4-2. Two things cannot be known from the digits alone and are never guessed:

* an undashed 10-digit NDC (and so the NDC inside a GTIN) could be any of the three 10-digit layouts;
* an 11-digit NDC with more than one zero-led segment (12345-0678-09) has no single 10-digit form.

`ndc_candidates` returns every reading; `parse_ndc` returns the one reading or raises `AmbiguousNdc`
carrying them all. Discovery matches on `key` and accepts a match only when exactly one candidate's key is
found in the catalog. Compare NDCs by `key`, not by object equality: 12345-678-90 and 12345-0678-90 are the
same product in two layouts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_FORMS_HINT = (
    "An NDC looks like 1234-5678-90 (4-4-2), 12345-678-90 (5-3-2) or 12345-6789-0 (5-4-1) with hyphens, "
    "12345-6789-01 or 12345678901 (11-digit 5-4-2), 123456-7890-12 (12-digit 6-4-2), "
    "or a GTIN-14 such as 00312345678906 that embeds it."
)


class NdcError(ValueError):
    """The text is not an NDC. The message says what is wrong and what a valid NDC looks like."""

    def __init__(self, reason: str, text: str | None = None) -> None:
        self.reason = reason
        self.text = text
        shown = "" if text is None else f"{_shorten(text)!r}: "
        super().__init__(f"{shown}{reason}. {_FORMS_HINT}")


class AmbiguousNdc(NdcError):
    """The text is an NDC, but more than one layout fits it; `candidates` holds every reading."""

    def __init__(self, text: str, candidates: tuple[Ndc, ...], why: str) -> None:
        self.candidates = candidates
        readings = ", ".join(c.hyphenated for c in candidates)
        super().__init__(
            f"ambiguous NDC: {why}; it could be {readings}. "
            "Enter it with hyphens exactly as printed on the package, or choose one of these",
            text,
        )
        # The generic format hint adds nothing here: the user already has an NDC, just not a unique one.
        self.args = (f"{_shorten(text)!r}: {self.reason}.",)


class NdcLayout(StrEnum):
    """Segment lengths labeler-product-package."""

    L4_4_2 = "4-4-2"
    L5_3_2 = "5-3-2"
    L5_4_1 = "5-4-1"
    L5_4_2 = "5-4-2"
    L6_4_2 = "6-4-2"

    @property
    def lengths(self) -> tuple[int, int, int]:
        return _LAYOUT_LENGTHS[self]  # looked up, not parsed: discovery asks ~10 times per NDC


def _parse_lengths(layout: NdcLayout) -> tuple[int, int, int]:
    a, b, c = (int(part) for part in layout.value.split("-"))
    return a, b, c


_LAYOUT_LENGTHS: dict[NdcLayout, tuple[int, int, int]] = {
    layout: _parse_lengths(layout) for layout in NdcLayout
}


TEN_DIGIT_LAYOUTS: tuple[NdcLayout, ...] = (NdcLayout.L4_4_2, NdcLayout.L5_3_2, NdcLayout.L5_4_1)
_BY_LENGTHS: dict[tuple[int, int, int], NdcLayout] = {layout.lengths: layout for layout in NdcLayout}


@dataclass(frozen=True, slots=True)
class Ndc:
    """One NDC as its segments in the layout it arrived in (digit strings, leading zeros kept)."""

    labeler: str
    product: str
    package: str
    layout: NdcLayout

    def __post_init__(self) -> None:
        lengths = (len(self.labeler), len(self.product), len(self.package))
        if lengths != self.layout.lengths or not _is_digits(self.labeler + self.product + self.package):
            raise NdcError(f"segments {self.hyphenated} do not fit the {self.layout} layout")

    @property
    def digits(self) -> str:
        """The digits as they arrived, without hyphens (10, 11 or 12 of them)."""
        return self.labeler + self.product + self.package

    @property
    def hyphenated(self) -> str:
        return f"{self.labeler}-{self.product}-{self.package}"

    @property
    def eleven(self) -> str | None:
        """The 11-digit 5-4-2 billing form, digits only; None for a 12-digit 6-4-2 NDC."""
        layout = self.layout
        if layout is NdcLayout.L5_4_2:
            return self.labeler + self.product + self.package  # already 11 digits
        if layout is NdcLayout.L6_4_2:
            return None
        return self.labeler.zfill(5) + self.product.zfill(4) + self.package.zfill(2)

    @property
    def key(self) -> str:
        """The matching key: `eleven` for today's NDCs, the 12 digits for 6-4-2.

        A 12-digit key never equals an 11-digit one; how today's NDCs map onto 6-4-2 is for the FDA
        conversion (effective 2033) to fix, and belongs here once published.
        """
        return self.eleven or self.digits

    @property
    def ten_layout(self) -> NdcLayout | None:
        """The 10-digit layout, when known (None for 6-4-2 and for 11 digits that cannot be reversed)."""
        if self.layout in TEN_DIGIT_LAYOUTS:
            return self.layout
        if self.layout is NdcLayout.L5_4_2:
            fits = _zero_padded_layouts(self.labeler, self.product, self.package)
            return fits[0] if len(fits) == 1 else None
        return None

    @property
    def ten(self) -> str | None:
        """The hyphenated 10-digit form when it is known without guessing, else None."""
        if self.layout in TEN_DIGIT_LAYOUTS:
            return self.hyphenated
        layout = self.ten_layout
        if layout is None:
            return None
        return _unpad(self, layout).hyphenated

    def to_gtin14(self, indicator: int = 0) -> str:
        """The GTIN-14 [indicator]03[10-digit NDC][check]; indicator 0 = unit, 1-8 = packaging levels."""
        if not 0 <= indicator <= 8:
            raise NdcError(
                f"GTIN indicator {indicator} is not a packaging level: use 0 for the unit or 1-8 for cases"
            )
        ten = self.ten
        if ten is None:
            if self.layout is NdcLayout.L6_4_2:
                reason = "a 12-digit 6-4-2 NDC has no GTIN form defined yet"
            elif readings := ", ".join(_unpad(self, layout).hyphenated for layout in self._reversals()):
                reason = (
                    f"the GTIN is built from the 10-digit NDC, and {self.hyphenated} could be "
                    f"{readings}; give the 10-digit NDC with hyphens"
                )
            else:
                reason = (
                    f"no segment of {self.hyphenated} is zero-padded, so no 10-digit NDC (or GTIN) matches it"
                )
            raise NdcError(reason, self.hyphenated)
        body = f"{indicator}03{ten.replace('-', '')}"
        return body + str(_check_digit(body))

    def _reversals(self) -> tuple[NdcLayout, ...]:
        return _zero_padded_layouts(self.labeler, self.product, self.package)


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _zero_padded_layouts(labeler: str, product: str, package: str) -> tuple[NdcLayout, ...]:
    """The 10-digit layouts whose one-zero padding could have produced these 5-4-2 segments."""
    fits = []
    if labeler.startswith("0"):
        fits.append(NdcLayout.L4_4_2)
    if product.startswith("0"):
        fits.append(NdcLayout.L5_3_2)
    if package.startswith("0"):
        fits.append(NdcLayout.L5_4_1)
    return tuple(fits)


def _unpad(ndc: Ndc, layout: NdcLayout) -> Ndc:
    a, b, c = layout.lengths
    return Ndc(ndc.labeler[-a:], ndc.product[-b:], ndc.package[-c:], layout)


def _split(digits: str, layout: NdcLayout) -> Ndc:
    a, b, _ = layout.lengths
    return Ndc(digits[:a], digits[a : a + b], digits[a + b :], layout)


def candidates_from_ten_digits(digits: str) -> tuple[Ndc, ...]:
    """The three readings of an undashed 10-digit NDC, in the order 4-4-2, 5-3-2, 5-4-1."""
    if len(digits) != 10 or not _is_digits(digits):
        raise NdcError("a 10-digit NDC needs exactly 10 digits", digits)
    return tuple(_split(digits, layout) for layout in TEN_DIGIT_LAYOUTS)


def ten_digits_from_gtin(gtin: str) -> str | None:
    """The 10-digit NDC inside a GTIN-12/13/14 (check digit already valid), or None if it embeds none."""
    # GTIN-14 = indicator, "0" (GTIN-12 padding), "3" (UPC number system reserved for NDC), 10 digits, check.
    gtin14 = gtin.zfill(14)
    if len(gtin14) != 14 or not _is_digits(gtin14) or gtin14[1:3] != "03":
        return None
    return gtin14[3:13]


# "NDC", "NDC:", "NDC#", "ndc " in front; hyphen look-alikes that word processors put into pasted NDCs.
_PREFIX = re.compile(r"^\s*ndc\s*[:#]?\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[ \t\-\u2010\u2011\u2012\u2013]+")
_GS = "\x1d"


def ndc_candidates(text: str) -> tuple[Ndc, ...]:
    """Every NDC the text can be: one when unambiguous, several when not; NdcError when none."""
    if not isinstance(text, str):
        raise NdcError(f"expected text, got {type(text).__name__}")
    raw = text.strip(" \t\r\n")
    # The forms ERPs and listings hold (12345-678-90, 12345678901) skip the general reading below, which
    # they would pass through unchanged: no prefix, no look-alike hyphens, at most 14 characters (no GS1).
    if raw.isascii() and len(raw) < 16:
        if raw.isdigit():
            return _from_bare_digits(raw, text)
        labeler, _, rest = raw.partition("-")
        product, _, package = rest.partition("-")
        layout = _BY_LENGTHS.get((len(labeler), len(product), len(package)))
        if layout is not None and (labeler + product + package).isdigit():
            return (Ndc(labeler, product, package, layout),)
    if _looks_like_gs1(raw):
        return _from_gs1(raw, text)
    body = _PREFIX.sub("", raw).strip()
    if not body:
        raise NdcError("the NDC is empty", text)
    segments = [s for s in _SEPARATORS.split(body) if s]
    if len(segments) == 1:
        return _from_bare_digits(segments[0], text)
    if len(segments) != 3:
        raise NdcError(f"an NDC has three segments labeler-product-package, this has {len(segments)}", text)
    return (_from_segments(segments, text),)


def parse_ndc(text: str) -> Ndc:
    """The NDC the text denotes; AmbiguousNdc (with the candidates) when more than one fits."""
    found = ndc_candidates(text)
    if len(found) == 1:
        return found[0]
    lengths = {len(c.digits) for c in found}
    if lengths == {10}:
        why = "10 digits without hyphens (or inside a GTIN) do not say which segments they are"
    else:
        why = "12 digits can be a 6-4-2 NDC or a UPC barcode that embeds a 10-digit NDC"
    raise AmbiguousNdc(text, found, why)


def display_ndc(key: str) -> str:
    """A matching key as people read it: hyphenated 5-4-2 (6-4-2 for 12 digits); other text as is."""
    if len(key) == 11 and _is_digits(key):
        return f"{key[:5]}-{key[5:9]}-{key[9:]}"
    if len(key) == 12 and _is_digits(key):
        return f"{key[:6]}-{key[6:10]}-{key[10:]}"
    return key


def canonical_key(text: str) -> str:
    """The matching key of the one NDC the text denotes (raises AmbiguousNdc / NdcError)."""
    return parse_ndc(text).key


def candidate_keys(text: str) -> frozenset[str]:
    """The matching keys of every reading of the text."""
    return frozenset(c.key for c in ndc_candidates(text))


def _looks_like_gs1(raw: str) -> bool:
    if raw.startswith(("(", "]")) or _GS in raw:
        return True
    # "01" + GTIN-14 + more AIs, as a scanner without FNC1 output sends it. 14 digits or fewer are a GTIN.
    return len(raw) >= 16 and raw.startswith("01") and _is_digits(raw[:16])


def _from_gs1(raw: str, text: str) -> tuple[Ndc, ...]:
    # Imported here: gs1 builds on this module (its results carry Ndc candidates).
    from atlas_desktop.domain.gs1 import Gs1Error, parse_gs1

    try:
        data = parse_gs1(raw)
    except Gs1Error as exc:
        raise NdcError(f"not a readable GS1 barcode ({exc})", text) from exc
    if data.gtin is None:
        raise NdcError("the GS1 barcode holds no GTIN (AI 01)", text)
    if not data.ndc_candidates:
        raise NdcError(f"GTIN {data.gtin} does not embed an NDC (it needs 03 after the indicator)", text)
    return data.ndc_candidates


def _from_bare_digits(digits: str, text: str) -> tuple[Ndc, ...]:
    if not _is_digits(digits):
        bad = next((ch for ch in digits if not (ch.isascii() and ch.isdigit())), "?")
        raise NdcError(f"an NDC has only digits and hyphens, this contains {bad!r}", text)
    n = len(digits)
    if n == 10:
        return candidates_from_ten_digits(digits)
    if n == 11:
        return (_split(digits, NdcLayout.L5_4_2),)
    if n == 12:
        ndc642 = _split(digits, NdcLayout.L6_4_2)
        if digits.startswith("3") and _check_digit_ok(digits):
            return (ndc642, *_from_gtin(digits, text))
        return (ndc642,)
    if n in (13, 14):
        return _from_gtin(digits, text)
    raise NdcError(f"{n} digits is not an NDC length (10, 11 or 12 digits, or a 14-digit GTIN)", text)


def _from_gtin(digits: str, text: str) -> tuple[Ndc, ...]:
    if not _check_digit_ok(digits):
        expected = _check_digit(digits[:-1])
        raise NdcError(
            f"the GTIN check digit is wrong (last digit {digits[-1]}, expected {expected}); "
            "re-scan or re-type the code",
            text,
        )
    ten = ten_digits_from_gtin(digits)
    if ten is None:
        raise NdcError(f"GTIN {digits} does not embed an NDC (it needs 03 after the indicator)", text)
    return candidates_from_ten_digits(ten)


def _check_digit(body: str) -> int:
    # Imported on first use: biip loads its GS1 prefix table on import, which a process that never reads
    # a GTIN (the window's start, the agent's) need not pay for.
    from biip.checksums import gs1_standard_check_digit

    return gs1_standard_check_digit(body)


def _check_digit_ok(digits: str) -> bool:
    return _check_digit(digits[:-1]) == int(digits[-1])


def _from_segments(segments: list[str], text: str) -> Ndc:
    # FDA writes the padding of an 11-digit form it cannot reverse as "*": 12345-*678-09 is 12345-678-09.
    starred = [s[1:] if s.startswith("*") else s for s in segments]
    stars = [i for i, s in enumerate(segments) if s.startswith("*")]
    for segment in starred:
        if not _is_digits(segment):
            bad = next((ch for ch in segment if not (ch.isascii() and ch.isdigit())), "?")
            raise NdcError(f"an NDC has only digits and hyphens, this contains {bad!r}", text)
    lengths = (len(starred[0]), len(starred[1]), len(starred[2]))
    layout = _BY_LENGTHS.get(lengths)
    if stars and (len(stars) > 1 or lengths[stars[0]] != NdcLayout.L5_4_2.lengths[stars[0]] - 1):
        raise NdcError("'*' stands for the padding zero of the one short segment of a 5-4-2 NDC", text)
    if layout is None or (stars and layout not in TEN_DIGIT_LAYOUTS):
        raise NdcError(f"segments of {'-'.join(str(n) for n in lengths)} digits are not an NDC layout", text)
    return Ndc(starred[0], starred[1], starred[2], layout)
