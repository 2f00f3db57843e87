"""Operations of POST /api/v1/inventory/batch (the API contract's "Batch writes") and their results.

An operation is what one single-row write would do (`AdjustOp` = POST …/adjustments, `UpdateOp` = PATCH
with If-Match, `CreateOp` = POST /inventory), with its own idempotency key. Each gets an `OpResult`: the row
Atlas answered, or the typed error of that operation alone (the batch is not all-or-nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atlas_desktop.connectors.atlas.errors import SYSTEM, error_from
from atlas_desktop.connectors.atlas.mapping import NewInventoryRow, decimal_text, parse_row
from atlas_desktop.domain.errors import ConnectorError, InvalidResponse
from atlas_desktop.domain.model import AtlasInventoryRow
from atlas_desktop.domain.quantity import ATLAS as QUANTITY
from atlas_desktop.domain.quantity import atlas_ref, require_writable

MAX_OPERATIONS = 500  # per request, the contract's limit
UPDATABLE = frozenset({"quantity", "lot_number", "expiry_date", "name", "unit", "location"})


@dataclass(frozen=True)
class AdjustOp:
    key: str
    row_id: str
    delta: Decimal
    reason: str = "erp_sync"


@dataclass(frozen=True)
class UpdateOp:
    key: str
    row_id: str
    version: int  # If-Match: applied only if the row is still at this version, else a 412 with the row
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateOp:
    key: str
    row: NewInventoryRow


BatchOp = AdjustOp | UpdateOp | CreateOp


@dataclass(frozen=True)
class OpResult:
    """One operation's outcome: `row` when applied (or replayed), else `error` (AtlasVersionConflict on 412
    carries the current row; NetworkError when the request got no answer: in doubt, safe to send again)."""

    key: str
    row: AtlasInventoryRow | None = None
    error: ConnectorError | None = None


def doing(op: BatchOp) -> str:
    if isinstance(op, AdjustOp):
        return f"adjusting row {op.row_id}"
    if isinstance(op, UpdateOp):
        return f"updating row {op.row_id}"
    return "creating a row"


def op_json(op: BatchOp) -> dict[str, Any]:
    """The operation on the wire; refuses (ValueError, QuantityRefused) what the single route would."""
    if isinstance(op, AdjustOp):
        if not isinstance(op.delta, Decimal) or op.delta == 0:
            raise ValueError("delta must be a non-zero Decimal")
        require_writable(op.delta, QUANTITY, item=atlas_ref(op.row_id), what="The adjustment")
        return {"op": "adjust", "key": op.key, "id": op.row_id, "delta": decimal_text(op.delta),
                "reason": op.reason, "reference": op.key}  # fmt: skip
    if isinstance(op, UpdateOp):
        unknown = set(op.changes) - UPDATABLE
        if unknown or not op.changes:
            raise ValueError(f"an update takes some of {sorted(UPDATABLE)}; not {sorted(unknown)}")
        return {"op": "update", "key": op.key, "id": op.row_id, "if_match": int(op.version),
                "set": update_body(op.changes)}  # fmt: skip
    return {"op": "create", "key": op.key, "row": op.row.to_json()}


def update_body(changes: Mapping[str, Any]) -> dict[str, Any]:
    if "quantity" in changes and not isinstance(changes["quantity"], Decimal):
        raise TypeError("quantity must be a Decimal")
    return {
        name: decimal_text(value)
        if isinstance(value, Decimal)
        else value.isoformat()
        if hasattr(value, "isoformat")
        else value
        for name, value in changes.items()
    }


def read_results(data: dict[str, Any], sent: list[BatchOp]) -> list[OpResult]:
    """The results of a 200 answer, checked to be one per operation, in order, with their keys."""
    results = data.get("results")
    if (
        not isinstance(results, list)
        or len(results) != len(sent)
        or any(
            not isinstance(r, dict) or r.get("key") != op.key for r, op in zip(results, sent, strict=False)
        )
    ):
        raise InvalidResponse(
            f"{SYSTEM}: the batch answer does not hold one result per operation, in order", system=SYSTEM
        )
    return [_result(result, op) for result, op in zip(results, sent, strict=True)]


def _result(result: dict[str, Any], op: BatchOp) -> OpResult:
    status = result.get("status")
    if status in (200, 201) and isinstance(result.get("row"), dict):
        try:
            return OpResult(op.key, row=parse_row(result["row"]))
        except InvalidResponse as invalid:
            return OpResult(op.key, error=invalid)
    error = result.get("error")
    if not isinstance(status, int) or not isinstance(error, dict):
        return OpResult(
            op.key,
            error=InvalidResponse(f"{SYSTEM}: {doing(op)}: a batch result without a row or an error",
                                  system=SYSTEM),
        )  # fmt: skip
    code, message, details = error.get("code"), error.get("message"), error.get("details")
    return OpResult(
        op.key,
        error=error_from(
            status,
            code if isinstance(code, str) else None,
            message if isinstance(message, str) else None,
            details if isinstance(details, dict) else {},
            doing(op),
        ),
    )
