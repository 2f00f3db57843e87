"""Atlas row parsing with cached values: same rows as before, every bad field still refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.connectors.atlas.mapping import parse_row
from atlas_desktop.domain.errors import InvalidResponse

ROW: dict[str, Any] = {
    "id": "inv_1", "sku": "SKU-1", "ndc": "59385-2918-6", "name": "Lisinopril", "lot_number": "V7831H",
    "expiry_date": "2028-07-31", "quantity": "184.0", "unit": "EA", "location": "MAIN", "version": 3,
    "updated_at": "2026-11-27T23:15:11Z", "deleted": False,
}  # fmt: skip


def test_a_row_parses_field_by_field_and_repeats_identically() -> None:
    first, again = parse_row(dict(ROW)), parse_row(dict(ROW))
    assert first == again
    assert first.id == "inv_1" and first.lot == "V7831H" and first.location == "MAIN" and first.sku == "SKU-1"
    assert first.quantity == Decimal("184.0") and str(first.quantity) == "184.0"
    assert first.expiry == date(2028, 7, 31)
    assert first.updated_at == datetime(2026, 11, 27, 23, 15, 11, tzinfo=UTC)
    optional = parse_row({**ROW, "sku": None, "lot_number": None, "location": None, "expiry_date": None})
    assert (optional.sku, optional.lot, optional.location, optional.expiry) == (None, None, None, None)


@pytest.mark.parametrize(
    "field, value",
    [("id", None), ("ndc", 12), ("name", None), ("unit", ["EA"]), ("sku", 5), ("lot_number", 1.5),
     ("location", False), ("version", True), ("version", "3"), ("deleted", 0), ("quantity", 184),
     ("quantity", "lots"), ("updated_at", "2026-11-27T23:15:11"), ("expiry_date", "31/07/2028")],
)  # fmt: skip
def test_every_bad_field_is_refused_every_time(field: str, value: object) -> None:
    for _ in range(2):
        with pytest.raises(InvalidResponse):
            parse_row({**ROW, field: value})
