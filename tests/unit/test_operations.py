"""Typed write operations read and write the outbox's stored form exactly: rows written before the types
existed decode, and what plan makes today is stored byte for byte as before (names, keys, values)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from atlas_desktop.domain.drafts import WriteDraft
from atlas_desktop.domain.enums import OutboxStatus
from atlas_desktop.domain.model import Side, StockChange, StockKey
from atlas_desktop.domain.operations import (
    AtlasAdjust,
    AtlasSetExpiry,
    AtlasSetFields,
    ErpAdjust,
    UnknownOperation,
    WriteOp,
    decode,
    encode,
)
from atlas_desktop.domain.outbox import OutboxEntry

ENTRY_FIELDS = (
    "id",
    "mapping_id",
    "decision_id",
    "target",
    "operation",
    "payload",
    "idempotency_key",
    "status",
    "attempts",
    "remote_id",
)

# Payloads as the outbox stores them (store/decisions.py: json.dumps(sort_keys=True)), as plan.py wrote
# them before operations were typed.
STORED: list[tuple[str, str, WriteOp]] = [
    (
        "atlas_adjust",
        '{"delta": "1.500", "row_id": "inv_7", "was": "10.5"}',
        AtlasAdjust("inv_7", Decimal("1.500"), Decimal("10.5")),
    ),
    (
        "atlas_set_expiry",
        '{"expiry": "2027-02-28", "previous_expiry": "2027-01-31", "row_id": "inv_7", "version": 4}',
        AtlasSetExpiry("inv_7", date(2027, 2, 28), date(2027, 1, 31), 4),
    ),
    (
        "atlas_set_expiry",
        '{"expiry": null, "previous_expiry": "2027-01-31", "row_id": "inv_7", "version": 4}',
        AtlasSetExpiry("inv_7", None, date(2027, 1, 31), 4),
    ),
    (
        "erp_adjust",
        '{"delta": "-3", "expiry": "2027-02-28", "item_id": "991", "location_id": "30", "lot": "LOT-A", '
        '"unit": "EA", "was": "12.000"}',
        ErpAdjust(StockKey("991", "30", "LOT-A"), Decimal(-3), "EA", Decimal("12.000"), date(2027, 2, 28)),
    ),
    (
        "erp_adjust",
        '{"delta": "2.25", "expiry": "2027-02-28", "item_id": "991", "location_id": "30", "lot": null, '
        '"lot_ref": "lot-77", "unit": "EA", "was": "12.000"}',
        ErpAdjust(
            StockKey("991", "30"),
            Decimal("2.25"),
            "EA",
            Decimal("12.000"),
            date(2027, 2, 28),
            lot_ref="lot-77",
        ),
    ),
    (
        "atlas_set_fields",
        '{"fields": {"name": "Amoxicillin 500 mg"}, "previous": {"name": "Amoxicilin"}, "row_id": "inv_8", '
        '"version": 3}',
        AtlasSetFields("inv_8", {"name": "Amoxicillin 500 mg"}, 3, {"name": "Amoxicilin"}),
    ),
]


@pytest.mark.parametrize(("operation", "stored", "op"), STORED)
def test_a_stored_payload_decodes_and_encodes_back_to_the_same_text(
    operation: str, stored: str, op: WriteOp
) -> None:
    decoded = decode(operation, json.loads(stored))
    assert decoded == op
    name, payload = encode(decoded)
    assert name == operation
    assert json.dumps(payload, sort_keys=True) == stored


def test_decimals_keep_their_spelling_through_the_codec() -> None:
    # "1.500" and "1.5" are one quantity but two stored texts; a round trip must not respell either.
    for text in ("1.500", "1.5", "-0", "1E+2", "0.0001"):
        name, payload = encode(AtlasAdjust("r", Decimal(text)))
        assert payload["delta"] == text
        assert str(decode(name, payload).delta) == text  # type: ignore[union-attr]


def test_rows_written_before_later_keys_existed_still_decode() -> None:
    assert decode("atlas_adjust", {"row_id": "r1", "delta": "2"}) == AtlasAdjust("r1", Decimal(2))
    assert decode("erp_adjust", {"item_id": "i", "location_id": "l", "delta": "1"}) == ErpAdjust(
        StockKey("i", "l", None), Decimal(1), "EA"
    )
    assert decode("atlas_set_expiry", {"row_id": "r1", "expiry": "2030-01-01"}) == AtlasSetExpiry(
        "r1", date(2030, 1, 1)
    )


def test_an_unknown_operation_says_which_ones_are_known_and_what_to_do() -> None:
    with pytest.raises(UnknownOperation) as raised:
        decode("atlas_list_item", {"row_id": "r1"})
    message = str(raised.value)
    assert "'atlas_list_item'" in message
    assert "erp_adjust" in message and "atlas_adjust" in message
    assert "pending writes are sent" in message


def test_an_erp_adjustment_is_the_stock_change_the_connector_posts() -> None:
    op = ErpAdjust(StockKey("991", "30", "L1"), Decimal("-2.5"), "BX", None, date(2028, 5, 1), "lot-9")
    assert op.stock_change() == StockChange(
        StockKey("991", "30", "L1"), Decimal("-2.5"), "BX", date(2028, 5, 1), lot_ref="lot-9"
    )


def test_drafts_and_outbox_entries_carry_the_typed_operation() -> None:
    op = ErpAdjust(StockKey("991", "30"), Decimal(4), "EA", Decimal(1))
    draft = WriteDraft.of(op, "atl-1", Decimal(4))
    assert (draft.target, draft.operation, draft.op) == (Side.ERP, "erp_adjust", op)
    assert draft.op is op  # plan's operation itself, not a parse of its stored form
    assert draft == WriteDraft(Side.ERP, "erp_adjust", draft.payload, "atl-1", Decimal(4))
    payload: dict[str, Any] = json.loads(json.dumps(dict(draft.payload)))  # as the store reads it back
    entry = OutboxEntry(
        1,
        1,
        1,
        draft.target,
        draft.operation,
        payload,
        "atl-1",
        OutboxStatus.PENDING,
        attempts=0,
        remote_id=None,
    )
    assert entry.op == op
    assert entry.op is entry.op  # decoded once, however often the pusher asks
    assert entry == OutboxEntry(*[getattr(entry, name) for name in ENTRY_FIELDS])  # the cache is not compared
    assert WriteDraft.of(AtlasAdjust("r", Decimal(1)), "k").target is Side.ATLAS
