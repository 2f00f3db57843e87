"""The OpenAPI 3 document of the local API (served at /api/openapi.json, behind the API key like the rest)."""

from __future__ import annotations

from typing import Any

from atlas_desktop import __version__
from atlas_desktop.domain.enums import (
    ConflictPolicy,
    ConnectionStatus,
    MappingStatus,
    MatchMethod,
    SyncDirection,
    SyncLogStatus,
    SyncType,
    WebhookStatus,
)

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _enum(kind: Any, nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": [m.value for m in kind]}
    if nullable:
        schema["nullable"] = True
        schema["enum"] = [*schema["enum"], None]
    return schema


def _s(nullable: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": "string", **({"nullable": True} if nullable else {}), **extra}


def _i(**extra: Any) -> dict[str, Any]:
    return {"type": "integer", **extra}


def _obj(props: dict[str, Any], *, required: list[str] | None = None, extra: bool = False) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": extra,
    }


def _list_of(name: str, **more: Any) -> dict[str, Any]:
    return _obj({**more, "items": {"type": "array", "items": _ref(name)}})


_BOOL = {"type": "boolean"}
_WHEN = _s(True, format="date-time")
_DAY = _s(True, format="date")
_QTY = _s(True, description="Decimal quantity as text (never a float)")

_WEBHOOK = {
    "id": _s(),
    "connection_id": _s(),
    "erp_type": _s(),
    "status": _enum(WebhookStatus),
    "event_types": {"type": "array", "items": _s()},
    "host": _s(),
    "port": _i(),
    "url": _s(),
    "last_received_at": _WHEN,
    "created_at": _s(format="date-time"),
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _s(), "fix": _s()}),
    # A removal refused for unsettled writes names their counts; one refused for a running run does not.
    "Refusal": _obj(
        {"error": _s(), "fix": _s(), "pending": _i(), "in_doubt": _i()}, required=["error", "fix"]
    ),
    "Connection": _obj(
        {
            "id": _s(),
            "erp_type": _s(),
            "name": _s(),
            "status": _enum(ConnectionStatus),
            "settings": {
                "type": "object",
                "additionalProperties": True,
                "description": "Non-secret settings only; a proxy address shows its password as ****",
            },
            "sync_enabled": _BOOL,
            "sync_frequency_minutes": _i(),
            "sync_direction": _enum(SyncDirection),
            "conflict_policy": _enum(ConflictPolicy),
            "sync_scopes": {"type": "object", "additionalProperties": _BOOL},
            "last_sync_at": _WHEN,
            "last_sync_status": _enum(SyncLogStatus, nullable=True),
            "consecutive_failures": _i(),
            "created_at": _s(format="date-time"),
            "updated_at": _s(format="date-time"),
            "secret_fields": {
                "type": "array",
                "items": _s(),
                "description": "Names of the stored credentials; values are write-only",
            },
        }
    ),
    "ConnectionList": _list_of("Connection"),
    "ConnectionCreate": {
        "type": "object",
        "additionalProperties": True,
        "description": (
            "The credentials file as given to Atlas. NetSuite: account_id, consumer_key, consumer_secret, "
            "token_id, token_secret [, base_url, connection_name, settings]. SAP: environment, base_url and "
            "client_id + client_secret, or username + password, or client_certificate + client_key. "
            "Credentials are stored encrypted and never returned."
        ),
    },
    "ConnectionUpdate": _obj(
        {
            "name": _s(minLength=1, maxLength=200),
            "sync_enabled": _BOOL,
            "sync_frequency_minutes": _i(minimum=1, maximum=10080),
            "sync_direction": _enum(SyncDirection),
            "conflict_policy": _enum(ConflictPolicy),
            "sync_scopes": {"type": "object", "additionalProperties": _BOOL},
            "settings": {
                "type": "object",
                "additionalProperties": True,
                "description": "Non-secret settings to merge; null removes one. A proxy's password "
                "(http://user:password@host:port) is stored encrypted and shown as ****; sending the "
                "address back with **** keeps it",
            },
            "secrets": {
                "type": "object",
                "additionalProperties": _s(minLength=1),
                "writeOnly": True,
                "description": "Credential name -> new value (write-only)",
            },
        },
        required=[],
    ),
    "TestStep": _obj(
        {"name": _s(), "ok": _BOOL, "skipped": _BOOL, "detail": _s(), "cause": _s(), "fix": _s()}
    ),
    "TestReport": _obj({"ok": _BOOL, "steps": {"type": "array", "items": _ref("TestStep")}}),
    "SyncRequest": _obj({"approve": _BOOL, "full": _BOOL}, required=[]),
    "SyncPlan": {
        **_obj(
            {
                "to_atlas": _i(),
                "to_erp": _i(),
                "conflicts": _i(),
                "creates_on_atlas": _i(),
                "unchanged": _i(),
                "reason": _s(),
                # Every kind of change the approved run will carry out (engine/changes.py ChangeKind).
                "kinds": {"type": "object", "additionalProperties": _i()},
            }
        ),
        "nullable": True,
    },
    "RunSummary": _obj(
        {
            "sync_log_id": _i(),
            "connection_id": _s(),
            "sync_type": _enum(SyncType),
            "status": _s(enum=["running", "success", "partial", "failed", "preview", "cancelled"]),
            "items_synced": _i(),
            "items_failed": _i(),
            "items_skipped": _i(),
            "api_calls_made": _i(),
            "api_errors": _i(),
            "conflicts_opened": _i(),
            "in_doubt": _i(),
            "duration_seconds": {"type": "number"},
            "error_message": _s(True),
            "plan": _ref("SyncPlan"),
        }
    ),
    "SyncLog": _obj(
        {
            "id": _i(),
            "sync_type": _enum(SyncType),
            "direction": _enum(SyncDirection),
            "status": _enum(SyncLogStatus),
            "items_synced": _i(),
            "items_failed": _i(),
            "items_skipped": _i(),
            "api_calls_made": _i(),
            "api_errors": _i(),
            "conflicts_opened": _i(),
            "in_doubt": _i(),
            "error_message": _s(True),
            "started_at": _WHEN,
            "completed_at": _WHEN,
            "duration_seconds": {"type": "number", "nullable": True},
        }
    ),
    "SyncLogList": _list_of("SyncLog"),
    "Mapping": _obj(
        {
            "id": _i(),
            "status": _enum(MappingStatus),
            "match_method": _enum(MatchMethod, nullable=True),
            "ndc_key": _s(True),
            "atlas_inventory_id": _s(True),
            "erp_item_id": _s(True),
            "erp_location_id": _s(True),
            "lot": _s(True),
            "item_name": _s(True),
            "sync_direction": _enum(SyncDirection),
            "conflict_policy": _enum(ConflictPolicy, nullable=True),
            "last_synced_at": _WHEN,
            "note": _s(True),
            "base_quantity": _QTY,
            "atlas_quantity": _QTY,
            "erp_quantity": _QTY,
            "base_expiry": _DAY,
            "atlas_expiry": _DAY,
            "erp_expiry": _DAY,
        }
    ),
    "MappingList": _list_of("Mapping", total=_i()),
    "MappingCreate": _obj(
        {
            # pattern: not blank, as the route checks (an unanchored regex: one non-space somewhere).
            "atlas_inventory_id": _s(minLength=1, maxLength=100, pattern=r"\S"),
            "erp_item_id": _s(minLength=1, maxLength=100, pattern=r"\S"),
            "erp_location_id": _s(minLength=1, maxLength=100, pattern=r"\S"),
            "lot": _s(True, maxLength=100),
        },
        required=["atlas_inventory_id", "erp_item_id", "erp_location_id"],
    ),
    "Discovery": _obj(
        {
            "matched": _i(),
            "ambiguous": _i(),
            "unmatched_atlas": _i(),
            "unmatched_erp": _i(),
            # An Atlas row belongs to one connection: rows another connection maps are left out.
            "mapped_elsewhere": {
                "type": "array",
                "items": _obj({"connection_name": _s(), "rows": _i()}),
            },
            "doubles": _i(description="Pairs another connection maps too: neither syncs them until unmapped"),
        }
    ),
    "Webhook": _obj(_WEBHOOK),
    "WebhookList": _list_of("Webhook"),
    "WebhookEnable": _obj(
        {"host": _s(minLength=1, maxLength=255), "port": _i(minimum=1, maximum=65535)}, required=[]
    ),
    "WebhookEnabled": _obj(
        {**_WEBHOOK, "secret_file": _s(description="Owner-only file with the signing secret")}
    ),
    "WebhookAccepted": _obj(
        {"status": _s(enum=["accepted", "ignored"]), "event_types": {"type": "array", "items": _s()}}
    ),
    "Event": {
        "type": "object",
        "additionalProperties": True,
        "description": 'A thin event: NetSuite {"type": "inventory.updated", ...} or a CloudEvents 1.0 '
        "JSON object (SAP); an array of such objects is accepted too",
    },
}

_ERROR = {"content": {"application/json": {"schema": _ref("Error")}}}
_DESCRIPTIONS = {
    400: "Bad input (the body says which field and how to fix it)",
    401: "Missing or wrong API key / signature",
    404: "Unknown connection, mapping or webhook",
    409: "Replayed webhook signature, another process is running the connection, or the Atlas row is "
    "mapped by another connection (the body names it)",
    413: "Body over 1 MB",
    502: "The ERP or Atlas could not be reached or refused",
    503: "The profile's database is busy (another process writes to it); try again",
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": _DESCRIPTIONS[code], **_ERROR} for code in codes}


def _json(name: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _body(name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    params: list[Any] | None = None,
    errors: tuple[int, ...] = (400, 401, 404),
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": {**responses, **_errors(*errors)}}
    if body is not None:
        operation["requestBody"] = body
    if params:
        operation["parameters"] = params
    return operation


def _path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


_CID = _path_param("cid", _s(minLength=1))
_NO_CONTENT = {"204": {"description": "Done"}}


def build_openapi() -> dict[str, Any]:
    c = "/api/erp/connections"
    paths: dict[str, Any] = {
        c: {
            "get": _op(
                "List connections (credentials never included)",
                {"200": _json("ConnectionList")},
                errors=(401,),
            ),
            "post": _op(
                "Add a connection from its credentials file",
                {"201": _json("Connection", "Created")},
                body=_body("ConnectionCreate"),
                errors=(400, 401),
            ),
        },
        c + "/{cid}": {
            "parameters": [_CID],
            "get": _op("One connection", {"200": _json("Connection")}, errors=(401, 404)),
            "patch": _op(
                "Change a connection; credentials are write-only",
                {"200": _json("Connection")},
                body=_body("ConnectionUpdate"),
            ),
            "delete": _op(
                "Remove a connection, its credentials and everything synced for it; refused (409) while "
                "writes are pending or in doubt unless force=true, or while a run of it goes on",
                {
                    **_NO_CONTENT,
                    "409": {
                        "description": "Unsettled writes, or a run of it goes on",
                        "content": {"application/json": {"schema": _ref("Refusal")}},
                    },
                },
                params=[_query("force", {"type": "string", "enum": ["true", "false"]})],
                errors=(400, 401, 404, 503),
            ),
        },
        c + "/{cid}/test": {
            "parameters": [_CID],
            "post": _op("Run the connection test", {"200": _json("TestReport")}, errors=(401, 404)),
        },
        c + "/{cid}/sync": {
            "parameters": [_CID],
            "post": _op(
                "Run a sync now (joins a running one); approve=true applies a preview",
                {"200": _json("RunSummary")},
                body=_body("SyncRequest", required=False),
                errors=(400, 401, 404, 409, 502, 503),
            ),
        },
        c + "/{cid}/sync-logs": {
            "parameters": [_CID],
            "get": _op(
                "Latest sync runs, newest first",
                {"200": _json("SyncLogList")},
                params=[_query("limit", _i(minimum=1, maximum=500))],
            ),
        },
        c + "/{cid}/mappings": {
            "parameters": [_CID],
            "get": _op(
                "One page of mappings",
                {"200": _json("MappingList")},
                params=[
                    _query("status", _enum(MappingStatus)),
                    _query("search", _s(maxLength=100)),
                    _query("offset", _i(minimum=0, maximum=10_000_000)),
                    _query("limit", _i(minimum=1, maximum=1000)),
                ],
            ),
            "post": _op(
                "Map an Atlas row to an ERP stock position by hand",
                {"201": _json("Mapping", "Created")},
                body=_body("MappingCreate"),
                errors=(400, 401, 404, 409),
            ),
        },
        c + "/{cid}/mappings/discover": {
            "parameters": [_CID],
            "post": _op(
                "Auto-discover mappings by NDC, lot and location",
                {"200": _json("Discovery")},
                errors=(400, 401, 404, 409, 502, 503),
            ),
        },
        c + "/{cid}/mappings/{mapping_id}": {
            "parameters": [_CID, _path_param("mapping_id", _i(minimum=0))],
            "delete": _op("Undo a mapping (split it into two unmatched rows)", _NO_CONTENT),
        },
        c + "/{cid}/webhook": {
            "parameters": [_CID],
            "get": _op("The connection's webhook receiver", {"200": _json("Webhook")}, errors=(401, 404)),
            "put": _op(
                "Enable the receiver; the secret goes to an owner-only file, never into the response",
                {"200": _json("WebhookEnabled")},
                body=_body("WebhookEnable", required=False),
            ),
            "delete": _op("Disable the receiver", {"200": _json("Webhook")}, errors=(401, 404)),
        },
        "/api/erp/webhooks": {
            "get": _op("All webhook receivers", {"200": _json("WebhookList")}, errors=(401,)),
        },
    }
    for erp in ("netsuite", "sap"):
        paths[f"/api/erp/webhooks/{erp}/{{connection_id}}"] = {
            "post": {
                **_op(
                    f"Receive a signed {erp} event; it triggers a real-time (read) sync",
                    {"202": _json("WebhookAccepted", "Accepted (or ignored: a type this webhook skips)")},
                    body=_body("Event"),
                    params=[
                        _path_param("connection_id", _s(minLength=1)),
                        {
                            "name": "X-Atlas-Signature",
                            "in": "header",
                            "required": True,
                            "schema": _s(
                                description="t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>"
                            ),
                        },
                    ],
                    errors=(400, 401, 404, 409, 413),
                ),
                "security": [],
            }
        }
    paths["/api/openapi.json"] = {
        "get": {
            "summary": "This document (the API key is required here too)",
            "responses": {
                "200": {
                    "description": "OpenAPI 3 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors(401),
            },
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Atlas Desktop local API",
            "version": __version__,
            "description": "Manage a headless Atlas Desktop site. Every request needs the X-API-Key header "
            "(`atlas-desktop api-key show`), except the signed webhook receivers.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
        "security": [{"ApiKey": []}],
    }
