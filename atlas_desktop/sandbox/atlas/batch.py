"""POST /api/v1/inventory/batch (the contract's "Batch writes"): many operations, one result each.

Follows the contract: 1–500 operations applied one by one, in order, NOT all-or-nothing, each exactly as its
single-row route (`adjust` = POST …/adjustments, `update` = PATCH with If-Match, `create` = POST /inventory);
`key` is the operation's Idempotency-Key, shared with the single-row routes (a key used on either answers the
first result on both); a result is `{key, status: 200|201, row}` or `{key, status: 404|412|422, error}`.
The whole request is refused (422, nothing applied) for more than 500 operations, an unknown `op`, a missing
`key` or one key twice; 413 over 5 MB is the limits middleware's.

Where the contract is silent, the emulator decides:
* an empty list, a body that is not `{"operations": [objects…]}` and a key that is not 1–255 visible ASCII
  characters are malformed like a missing key: the whole request is refused;
* a request-level `Idempotency-Key` header is ignored (each operation carries its own);
* an `update` without an integer `if_match` is that operation's 422 (the single route's 428 is not among
  the batch's result codes); a field the op type does not take is that operation's 422;
* as on the single routes, only a 2xx result is kept for replay: a refused operation changed nothing and a
  repeat runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from atlas_desktop.sandbox.atlas import validate
from atlas_desktop.sandbox.atlas.state import AtlasState
from atlas_desktop.sandbox.atlas.wire import ApiError, dumps, invalid

MAX_OPERATIONS = 500
OPERATIONS = ("adjust", "update", "create")
_FIELDS = {
    "adjust": ("op", "key", "id", "delta", "reason", "reference"),
    "update": ("op", "key", "id", "if_match", "set"),
    "create": ("op", "key", "row"),
}
Result = dict[str, Any]


def fingerprint(method: str, path: str, body: bytes | Any) -> str:
    """What a key is bound to: the single-row request (method, path, body as JSON), so that a batch
    operation and the single-row request it stands for share their keys. Bytes that are not JSON are
    compared as they are."""
    if isinstance(body, bytes | bytearray):
        raw = body
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + bytes(raw)).hexdigest()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def parse_operations(data: Any) -> list[dict[str, Any]]:
    """The operations of a batch body, or a 422 refusing the whole request (nothing applied)."""
    data = validate.require_object(data)
    validate.reject_unknown(data, ("operations",), "a batch")
    operations = data.get("operations")
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise invalid("operations must be a list of operation objects", field="operations")
    if not 1 <= len(operations) <= MAX_OPERATIONS:
        raise invalid(
            f"a batch takes 1 to {MAX_OPERATIONS} operations, not {len(operations)}; send several batches",
            field="operations",
            limit=MAX_OPERATIONS,
        )
    seen: set[str] = set()
    for index, op in enumerate(operations):
        if op.get("op") not in OPERATIONS:
            raise invalid(
                f"operations[{index}].op must be one of {', '.join(OPERATIONS)}", field="op", index=index
            )
        key = op.get("key")
        if not isinstance(key, str):
            raise invalid(f"operations[{index}].key is required", field="key", index=index)
        try:
            validate.idempotency_key(key)
        except ApiError:
            raise invalid(
                f"operations[{index}].key must be 1-255 visible ASCII characters", field="key", index=index
            ) from None
        if key in seen:
            raise invalid(f"the key {key!r} is used twice in one batch", field="key", index=index)
        seen.add(key)
    return operations


def run_batch(state: AtlasState, account: str, operations: list[dict[str, Any]]) -> list[Result]:
    """Apply each operation in order, on its own; one result each, in the same order."""
    with state.lock:  # no await inside: every operation's recall, run and remember is one step
        return [_run_one(state, account, op) for op in operations]


def _run_one(state: AtlasState, account: str, op: dict[str, Any]) -> Result:
    key = op["key"]
    try:
        method, path, body, apply = _single_row_request(state, op)
    except ApiError as refused:
        return _error(key, refused)
    print_ = fingerprint(method, path, body)
    recalled = state.recall(account, key)
    if recalled is not None:
        first_print, status, _headers, first_body = recalled
        if first_print != print_:
            reused = invalid("this key was used for a different operation; use a new key per write")
            return _error(key, reused)
        return {"key": key, "status": status, "row": json.loads(first_body)}
    try:
        row, status = apply()
    except ApiError as refused:
        return _error(key, refused)
    # Kept as the single-row route keeps its answer, so a repeat on either route replays it.
    headers = {"etag": f'"{row["version"]}"', "content-type": "application/json"}
    state.remember(account, key, print_, status, headers, dumps(row))
    return {"key": key, "status": status, "row": row}


def _single_row_request(
    state: AtlasState, op: dict[str, Any]
) -> tuple[str, str, Any, Callable[[], tuple[dict[str, Any], int]]]:
    """(method, path, body) of the single-row request `op` stands for, and how to apply it."""
    kind = op["op"]
    validate.reject_unknown(op, _FIELDS[kind], f"a batch {kind} operation")
    if kind == "create":
        body = op.get("row")

        def create() -> tuple[dict[str, Any], int]:
            return state.insert_row(validate.new_row(body)), 201

        return "POST", "/api/v1/inventory", body, create
    row_id = op.get("id")
    if not isinstance(row_id, str) or not row_id:
        raise invalid(f"a {kind} operation needs the row's id", field="id")
    path = f"/api/v1/inventory/{row_id}"
    if kind == "adjust":
        body = {name: op[name] for name in ("delta", "reason", "reference") if name in op}

        def adjust() -> tuple[dict[str, Any], int]:
            state.require_row(row_id)  # the single route's order: a missing row is a 404 before the body
            delta, _reason = validate.adjustment(body)
            return state.adjust_row(row_id, delta), 200

        return "POST", path + "/adjustments", body, adjust
    version = op.get("if_match")
    if not isinstance(version, int) or isinstance(version, bool):
        raise invalid("an update operation needs if_match: the row version it was read at", field="if_match")
    fields = op.get("set")

    def update() -> tuple[dict[str, Any], int]:
        state.require_row(row_id)
        return state.update_row(row_id, validate.patch(fields), if_version=version), 200

    return "PATCH", path, fields, update


def _error(key: str, refused: ApiError) -> Result:
    return {
        "key": key,
        "status": refused.status,
        "error": {"code": refused.code, "message": refused.message, "details": refused.details},
    }
