"""Request-body checks, field by field, each refusal a 422 that names the field and says what is expected."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from atlas_desktop.domain.ndc import NdcError, ndc_candidates
from atlas_desktop.sandbox.atlas.wire import invalid, parse_date, parse_decimal, parse_time

ERP_TYPES = ("netsuite", "sap_cloud", "sap_onprem")
HEALTH_STATUSES = ("healthy", "degraded", "failing", "paused")
SYNC_LOG_STATUSES = ("running", "success", "partial", "failed", "preview")
SYNC_TYPES = ("full", "incremental", "real_time", "manual", "scheduled", "reconcile")
DIRECTIONS = ("bidirectional", "atlas_to_erp", "erp_to_atlas")
PATCHABLE = ("quantity", "lot_number", "expiry_date", "name", "unit", "location")
CREATABLE = ("sku", "ndc", "name", "lot_number", "expiry_date", "quantity", "unit", "location")
_CONNECTION_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# Key names that hold credentials in any system we meet; a health report or sync log never carries one.
_CREDENTIAL_KEY = re.compile(
    r"(?i)(secret|password|passwd|passphrase|token|api[_-]?key|authorization|credential|private[_-]?key|"
    r"consumer[_-]?key|client[_-]?id|cookie|device[_-]?code)"
)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        raise invalid("the body is not valid JSON (UTF-8)") from None


def require_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise invalid("the body must be a JSON object")
    return data


def reject_unknown(data: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise invalid(f"{what} does not take the field(s) {', '.join(unknown)}", fields=unknown)


def text(
    data: Mapping[str, Any], field: str, *, required: bool, nullable: bool = False, max_len: int = 500
) -> Any:
    if field not in data or (data[field] is None and not required):
        if required:
            raise invalid(f"{field} is required", field=field)
        return None
    value = data[field]
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise invalid(f"{field} must be non-empty text of at most {max_len} characters", field=field)
    return value


def ndc(data: Mapping[str, Any]) -> str:
    value = text(data, "ndc", required=True, max_len=64)
    try:
        if not ndc_candidates(value):
            raise NdcError("no NDC reading", value)
    except NdcError as exc:
        raise invalid(f"ndc is not a valid NDC: {exc}", field="ndc") from None
    return str(value)


def quantity(value: Any, field: str = "quantity") -> str:
    number = parse_decimal(value, field)
    if number < 0:
        raise invalid(f"{field} cannot be negative", field=field)
    return str(value)


def new_row(data: Any) -> dict[str, Any]:
    data = require_object(data)
    forbidden = sorted({"id", "version", "updated_at", "deleted"} & set(data))
    if forbidden:
        raise invalid(
            f"a new row is sent without {', '.join(forbidden)}; the server assigns them", fields=forbidden
        )
    reject_unknown(data, CREATABLE, "a new inventory row")
    return {
        "sku": text(data, "sku", required=False, nullable=True, max_len=100),
        "ndc": ndc(data),
        "name": text(data, "name", required=True),
        "lot_number": text(data, "lot_number", required=False, nullable=True, max_len=100),
        "expiry_date": parse_date(data.get("expiry_date"), "expiry_date"),
        "quantity": quantity(data.get("quantity")),
        "unit": text(data, "unit", required=True, max_len=20),
        "location": text(data, "location", required=False, nullable=True, max_len=100),
    }


def patch(data: Any) -> dict[str, Any]:
    data = require_object(data)
    reject_unknown(data, PATCHABLE, "PATCH")
    if not data:
        raise invalid(f"PATCH needs at least one of {', '.join(PATCHABLE)}")
    fields: dict[str, Any] = {}
    for field, value in data.items():
        if field == "quantity":
            fields[field] = quantity(value)
        elif field == "expiry_date":
            fields[field] = parse_date(value, field)
        elif field in ("name", "unit"):
            fields[field] = text(data, field, required=True, max_len=20 if field == "unit" else 500)
        else:
            fields[field] = text(data, field, required=False, nullable=True, max_len=100)
    return fields


def adjustment(data: Any) -> tuple[Any, str]:
    data = require_object(data)
    reject_unknown(data, ("delta", "reason", "reference"), "an adjustment")
    delta = parse_decimal(data.get("delta"), "delta")
    if delta == 0:
        raise invalid("delta must not be zero", field="delta")
    reason = text(data, "reason", required=True, max_len=100)
    text(data, "reference", required=False, nullable=True, max_len=255)
    return delta, str(reason)


def erp_link(data: Any) -> dict[str, Any]:
    data = require_object(data)
    reject_unknown(data, ("erp_type", "erp_document_id", "erp_document_number"), "an ERP link")
    if data.get("erp_type") not in ERP_TYPES:
        raise invalid(f"erp_type must be one of {', '.join(ERP_TYPES)}", field="erp_type")
    return {
        "erp_type": data["erp_type"],
        "erp_document_id": text(data, "erp_document_id", required=True, max_len=100),
        "erp_document_number": text(data, "erp_document_number", required=False, nullable=True, max_len=100),
    }


def connection_id(value: str) -> str:
    if not _CONNECTION_ID.match(value):
        raise invalid("the connection id must be 1-100 characters A-Z, a-z, 0-9, '.', '_' or '-'", field="id")
    return value


def no_credentials(data: Any, issued: Iterable[str], path: str = "") -> None:
    """Refuse any credential-looking key, and any value holding a token this server issued."""
    tokens = [t for t in issued if t]
    if isinstance(data, dict):
        for key, value in data.items():
            if _CREDENTIAL_KEY.search(str(key)):
                raise invalid(
                    f"the field {path}{key} looks like a credential; reports never carry credentials",
                    field=f"{path}{key}",
                )
            no_credentials(value, tokens, f"{path}{key}.")
    elif isinstance(data, list):
        for item in data:
            no_credentials(item, tokens, path)
    elif isinstance(data, str) and any(token in data for token in tokens):
        raise invalid(f"the field {path.rstrip('.')} holds an API token; reports never carry credentials")


def _count(data: Mapping[str, Any], field: str, *, required: bool) -> None:
    value = data.get(field)
    if value is None and not required and field not in data:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{field} must be a whole number >= 0", field=field)


def _choice(data: Mapping[str, Any], field: str, options: tuple[str, ...], *, required: bool = True) -> None:
    value = data.get(field)
    if value is None and not required:
        return
    if value not in options:
        raise invalid(f"{field} must be one of {', '.join(options)}", field=field)


HEALTH_FIELDS = (
    "erp_type",
    "status",
    "last_sync_at",
    "last_sync_status",
    "consecutive_failures",
    "items_mapped",
    "items_unmapped",
    "open_conflicts",
    "app_version",
)


def health(data: Any, issued: Iterable[str]) -> dict[str, Any]:
    data = require_object(data)
    no_credentials(data, issued)
    reject_unknown(data, HEALTH_FIELDS, "a health report")
    _choice(data, "erp_type", ERP_TYPES)
    _choice(data, "status", HEALTH_STATUSES)
    parse_time(data.get("last_sync_at"), "last_sync_at")
    _choice(data, "last_sync_status", SYNC_LOG_STATUSES, required=False)
    for field in ("consecutive_failures", "items_mapped", "items_unmapped", "open_conflicts"):
        _count(data, field, required=True)
    text(data, "app_version", required=True, max_len=50)
    return data


SYNC_LOG_FIELDS = (
    "sync_type",
    "direction",
    "status",
    "items_synced",
    "items_failed",
    "items_skipped",
    "api_calls_made",
    "api_errors",
    "conflicts_opened",
    "in_doubt",
    "error_message",
    "started_at",
    "completed_at",
    "duration_seconds",
)
PER_ITEM_FIELDS = ("error_details", "items", "changes", "rows")


def sync_log(data: Any, issued: Iterable[str]) -> dict[str, Any]:
    data = require_object(data)
    no_credentials(data, issued)
    per_item = sorted(set(PER_ITEM_FIELDS) & set(data))
    if per_item:
        raise invalid(f"a sync log is a run summary; per-item data ({', '.join(per_item)}) is not accepted")
    reject_unknown(data, SYNC_LOG_FIELDS, "a sync log")
    _choice(data, "sync_type", SYNC_TYPES)
    _choice(data, "direction", DIRECTIONS)
    _choice(data, "status", SYNC_LOG_STATUSES)
    for field in (
        "items_synced",
        "items_failed",
        "items_skipped",
        "api_calls_made",
        "api_errors",
        "conflicts_opened",
        "in_doubt",
    ):
        _count(data, field, required=False)
    text(data, "error_message", required=False, nullable=True, max_len=2000)
    parse_time(data.get("started_at"), "started_at", nullable=False)
    parse_time(data.get("completed_at"), "completed_at")
    if data.get("duration_seconds") is not None:
        quantity(data["duration_seconds"], "duration_seconds")
    return data


def idempotency_key(value: str) -> str:
    if not _IDEMPOTENCY_KEY.match(value):
        raise invalid("Idempotency-Key must be 1-255 visible ASCII characters", field="Idempotency-Key")
    return value
