"""The local management API under /api/erp: connections, sync, mappings, sync logs, webhooks.

Secrets are write-only: accepted on create and update, never returned (responses carry only the names
of the stored credential fields). Errors answer {"error", "fix"}: 400 bad input, 404 unknown id,
409 another process is running the connection, 502 the ERP could not be reached or refused, 503 the
profile's database is busy (another process writes to it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from atlas_desktop.app.api.local_files import webhook_secret_path, webhook_url, write_private_file
from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.connection import (
    ALL_SECRET_FIELDS,
    check_connection_name,
    is_pem_private_key,
    parse_connection,
)
from atlas_desktop.domain.digits import ascii_int
from atlas_desktop.domain.enums import ConflictPolicy, MappingStatus, SyncDirection, SyncType
from atlas_desktop.domain.errors import AtlasDesktopError, ConfigError, ConnectorError
from atlas_desktop.domain.model import ConnectionReport, StepResult
from atlas_desktop.domain.proxy import masked_settings
from atlas_desktop.domain.secrets import Secret, redact
from atlas_desktop.engine.api import RunInProgress, RunSummary
from atlas_desktop.store.db_errors import StoreBusy
from atlas_desktop.store.mappings import MappingNotFound
from atlas_desktop.store.ownership import MappedElsewhere
from atlas_desktop.store.repositories import ConnectionNotFound, UnsettledWrites, check_settings
from atlas_desktop.store.runs import RunNotFound
from atlas_desktop.store.webhooks import DEFAULT_HOST, DEFAULT_PORT, WebhookNotFound, WebhookView

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
MAX_JSON_BYTES = 256 * 1024
MAX_SQL_INT = 2**63 - 1
_NOT_FOUND = (ConnectionNotFound, MappingNotFound, RunNotFound, WebhookNotFound)


def problem(status: int, message: str, fix: str = "") -> JSONResponse:
    return JSONResponse({"error": redact(message), "fix": redact(fix)}, status_code=status)


class BadRequest(Exception):
    def __init__(self, message: str, fix: str = "Correct the request and send it again.") -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def _guarded(handler: Handler) -> Handler:
    """Typed errors become 400/404/409/502/503 with the fix; anything else is a logged 500 without details."""

    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as exc:
            return problem(400, exc.message, exc.fix)
        except _NOT_FOUND as exc:
            return problem(404, exc.message, exc.fix)
        except MappedElsewhere as exc:  # the Atlas row belongs to another connection
            return problem(409, exc.message, exc.fix)
        except RunInProgress as exc:
            return problem(409, exc.message, exc.fix)
        except StoreBusy as exc:
            return problem(503, exc.message, exc.fix)
        except ConfigError as exc:
            return problem(400, exc.message, exc.fix)
        except ConnectorError as exc:
            return problem(502, exc.message, exc.fix)
        except AtlasDesktopError as exc:
            return problem(500, exc.message, exc.fix)

    return wrapper


# ---- JSON in ---------------------------------------------------------------------------------------


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    size, chunks = 0, []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise BadRequest("the request body is over 256 KB", "Send only the fields to change.")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if required:
            raise BadRequest("the request needs a JSON object body")
        return {}
    try:
        data = loads_json(raw)  # deep nesting and lone surrogates are ValueErrors there, not crashes
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON", "Send a JSON object (UTF-8).") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        allowed_text = ", ".join(sorted(allowed))
        raise BadRequest(f"unknown field(s): {', '.join(unknown)[:200]}", f"Allowed: {allowed_text}.")


def _typed(data: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool:
        raise BadRequest(f"{name} must be {what}")
    if not isinstance(value, kind):
        raise BadRequest(f"{name} must be {what}")
    return value


def _choice(value: Any, enum: Any, name: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise BadRequest(f"{name} must be one of {', '.join(m.value for m in enum)}") from None


def _bool_param(request: Request, name: str) -> bool:
    text = request.query_params.get(name)
    if text is None:
        return False
    if text not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return text == "true"


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    value = ascii_int(text, max_digits=len(str(high)))
    if value is None or not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return value


# ---- JSON out --------------------------------------------------------------------------------------


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _qty(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def connection_json(summary: Any) -> dict[str, Any]:
    return {
        "id": summary.id,
        "erp_type": summary.erp_type.value,
        "name": summary.name,
        "status": summary.status.value,
        "settings": masked_settings(summary.settings),  # a proxy password is write-only, like secrets
        "sync_enabled": summary.sync_enabled,
        "sync_frequency_minutes": summary.sync_frequency_minutes,
        "sync_direction": summary.sync_direction.value,
        "conflict_policy": summary.conflict_policy.value,
        "sync_scopes": dict(summary.sync_scopes),
        "last_sync_at": _when(summary.last_sync_at),
        "last_sync_status": summary.last_sync_status.value if summary.last_sync_status else None,
        "consecutive_failures": summary.consecutive_failures,
        "created_at": _when(summary.created_at),
        "updated_at": _when(summary.updated_at),
        "secret_fields": list(summary.secret_fields),  # names only: values are write-only
    }


def step_json(step: StepResult) -> dict[str, Any]:
    return {
        "name": step.name,
        "ok": step.ok,
        "skipped": step.skipped,
        "detail": redact(step.detail),
        "cause": redact(step.cause),
        "fix": redact(step.fix),
    }


def run_summary_json(summary: RunSummary) -> dict[str, Any]:
    plan = summary.plan
    return {
        "sync_log_id": summary.sync_log_id,
        "connection_id": summary.connection_id,
        "sync_type": summary.sync_type.value,
        "status": summary.status.value,
        "items_synced": summary.items_synced,
        "items_failed": summary.items_failed,
        "items_skipped": summary.items_skipped,
        "api_calls_made": summary.api_calls_made,
        "api_errors": summary.api_errors,
        "conflicts_opened": summary.conflicts_opened,
        "in_doubt": summary.in_doubt,
        "duration_seconds": float(summary.duration_seconds),
        "error_message": redact(summary.error_message) if summary.error_message else None,
        "plan": None if plan is None else {
            "to_atlas": plan.to_atlas, "to_erp": plan.to_erp, "conflicts": plan.conflicts,
            "creates_on_atlas": plan.creates_on_atlas, "unchanged": plan.unchanged, "reason": plan.reason,
            "kinds": {str(kind): count for kind, count in plan.kinds.items()},
        },
    }  # fmt: skip


def mapping_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status.value,
        "match_method": row.match_method.value if row.match_method else None,
        "ndc_key": row.ndc_key,
        "atlas_inventory_id": row.atlas_inventory_id,
        "erp_item_id": row.erp_item_id,
        "erp_location_id": row.erp_location_id,
        "lot": row.lot,
        "item_name": row.item_name,
        "sync_direction": row.sync_direction.value,
        "conflict_policy": row.conflict_policy.value if row.conflict_policy else None,
        "last_synced_at": _when(row.last_synced_at),
        "note": row.note,
        "base_quantity": _qty(row.base_quantity),
        "atlas_quantity": _qty(row.atlas_quantity),
        "erp_quantity": _qty(row.erp_quantity),
        "base_expiry": _when(row.base_expiry),
        "atlas_expiry": _when(row.atlas_expiry),
        "erp_expiry": _when(row.erp_expiry),
    }


def sync_log_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "sync_type": row.sync_type.value,
        "direction": row.direction.value,
        "status": row.status.value,
        "items_synced": row.items_synced,
        "items_failed": row.items_failed,
        "items_skipped": row.items_skipped,
        "api_calls_made": row.api_calls_made,
        "api_errors": row.api_errors,
        "conflicts_opened": row.conflicts_opened,
        "in_doubt": row.in_doubt,
        "error_message": redact(row.error_message) if row.error_message else None,
        "started_at": _when(row.started_at),
        "completed_at": _when(row.completed_at),
        "duration_seconds": float(row.duration_seconds) if row.duration_seconds is not None else None,
    }


def webhook_json(view: WebhookView) -> dict[str, Any]:
    return {
        "id": view.id,
        "connection_id": view.connection_id,
        "erp_type": view.erp_type.value,
        "status": view.status.value,
        "event_types": list(view.event_types),
        "host": view.bind_host,
        "port": view.bind_port,
        "url": webhook_url(view),
        "last_received_at": _when(view.last_received_at),
        "created_at": _when(view.created_at),
    }


# ---- the routes ------------------------------------------------------------------------------------

_PATCH_FIELDS = {
    "name", "sync_enabled", "sync_frequency_minutes", "sync_direction", "conflict_policy",
    "sync_scopes", "settings", "secrets",
}  # fmt: skip


class ManagementApi:
    """Route handlers over a profile's services and its engine (store calls run on the engine's DB thread)."""

    def __init__(
        self,
        services: Any,
        engine: Any,
        webhooks: Any,
        receiver: Any = None,
        *,
        actor: str = "api:local",
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self._on_change = on_change  # what is served changed: the owner of the servers follows at once
        self.engine = engine
        self.webhooks = webhooks
        self.receiver = receiver
        # Every change made through the API is audited as the API key's, not as a person's.
        self.connections = services.connections.with_source("api", actor=actor)

    def routes(self) -> list[Route]:
        c = "/api/erp/connections"
        table: list[tuple[str, Handler, list[str]]] = [
            (c, self.list_connections, ["GET"]),
            (c, self.create_connection, ["POST"]),
            (c + "/{cid}", self.get_connection, ["GET"]),
            (c + "/{cid}", self.update_connection, ["PATCH"]),
            (c + "/{cid}", self.delete_connection, ["DELETE"]),
            (c + "/{cid}/test", self.test_connection, ["POST"]),
            (c + "/{cid}/sync", self.sync, ["POST"]),
            (c + "/{cid}/sync-logs", self.sync_logs, ["GET"]),
            (c + "/{cid}/mappings", self.list_mappings, ["GET"]),
            (c + "/{cid}/mappings", self.create_mapping, ["POST"]),
            (c + "/{cid}/mappings/discover", self.discover, ["POST"]),
            (c + "/{cid}/mappings/{mapping_id}", self.delete_mapping, ["DELETE"]),
            (c + "/{cid}/webhook", self.get_webhook, ["GET"]),
            (c + "/{cid}/webhook", self.enable_webhook, ["PUT"]),
            (c + "/{cid}/webhook", self.disable_webhook, ["DELETE"]),
            ("/api/erp/webhooks", self.list_webhooks, ["GET"]),
        ]
        return [Route(path, _guarded(handler), methods=methods) for path, handler, methods in table]

    async def _db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await self.engine.db(fn, *args, **kwargs)

    async def _summary(self, cid: str) -> Any:
        return await self._db(self.services.connections.summary, cid)

    async def _forget_connector(self, cid: str) -> None:
        # The engine caches one connector per connection; new credentials or settings need a new one.
        forget = getattr(self.engine, "forget_connector", None)
        if forget is not None:
            await forget(cid)

    # -- connections --------------------------------------------------------------------------------

    async def list_connections(self, request: Request) -> Response:
        rows = await self._db(self.services.connections.list)
        return JSONResponse({"items": [connection_json(row) for row in rows]})

    async def create_connection(self, request: Request) -> Response:
        spec = parse_connection(await json_body(request))
        cid = await self._db(self.connections.add, spec)
        return JSONResponse(connection_json(await self._summary(cid)), status_code=201)

    async def get_connection(self, request: Request) -> Response:
        return JSONResponse(connection_json(await self._summary(request.path_params["cid"])))

    async def update_connection(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        data = await json_body(request)
        _only(data, _PATCH_FIELDS)
        await self._summary(cid)  # 404 before validating against a connection that is not there
        columns: dict[str, Any] = {}
        if (name := _typed(data, "name", str, "text")) is not None:
            columns["name"] = name
        if (enabled := _typed(data, "sync_enabled", bool, "true or false")) is not None:
            columns["sync_enabled"] = enabled
        if (minutes := _typed(data, "sync_frequency_minutes", int, "a whole number of minutes")) is not None:
            columns["sync_frequency_minutes"] = minutes
        if data.get("sync_direction") is not None:
            columns["sync_direction"] = _choice(data["sync_direction"], SyncDirection, "sync_direction")
        if data.get("conflict_policy") is not None:
            columns["conflict_policy"] = _choice(data["conflict_policy"], ConflictPolicy, "conflict_policy")
        if (scopes := _typed(data, "sync_scopes", dict, "an object of true/false")) is not None:
            if not all(isinstance(v, bool) for v in scopes.values()):
                raise BadRequest("sync_scopes must be an object of true/false")
            columns["sync_scopes"] = scopes
        settings = _typed(data, "settings", dict, "an object (null removes a setting)") or {}
        secrets = _typed(data, "secrets", dict, "an object of credential name to text") or {}
        for field, value in secrets.items():
            if field not in ALL_SECRET_FIELDS:
                names = ", ".join(sorted(ALL_SECRET_FIELDS))
                raise BadRequest(f"'{field[:64]}' is not a credential field", f"Use one of {names}.")
            if not isinstance(value, str) or not value.strip():
                raise BadRequest(f"secrets.{field} must be non-empty text")
            if field == "private_key" and not is_pem_private_key(value):
                # the API never reads files on this computer: the key itself, not a path
                raise BadRequest("secrets.private_key must be the PEM text of the private key")

        if "name" in columns:
            check_connection_name(columns["name"], "name")
        check_settings(settings)  # all checked before the first write: a refusal changes nothing

        def apply() -> None:
            repo = self.connections
            if columns:
                repo.update(cid, **columns)
            if settings:
                repo.update_settings(cid, **settings)
            for field, value in secrets.items():
                repo.set_secret(cid, field, Secret(value.strip()))

        await self._db(apply)
        if settings or secrets:
            await self._forget_connector(cid)
        return JSONResponse(connection_json(await self._summary(cid)))

    async def delete_connection(self, request: Request) -> Response:
        """409 with the counts while writes are pending or in doubt (a sync settles them), unless
        ?force=true; 409 too while a run of the connection goes on, in this process or another."""
        cid = request.path_params["cid"]
        force = _bool_param(request, "force")
        await self._summary(cid)  # 404 before taking the run lock of a connection that is not there
        remove = self.connections.remove
        try:
            async with self.engine.exclusive(cid):
                await self._db(remove, cid, force=force)
        except UnsettledWrites as refused:
            fix = "Sync the connection to settle them, or send DELETE with ?force=true to discard them."
            body = {"error": redact(refused.message), "fix": fix,
                    "pending": refused.writes.pending, "in_doubt": refused.writes.in_doubt}  # fmt: skip
            return JSONResponse(body, status_code=409)
        await self._forget_connector(cid)
        if self.receiver is not None:
            self.receiver.forget(cid)
        webhook_secret_path(self.services.paths, cid).unlink(missing_ok=True)
        return Response(status_code=204)

    async def test_connection(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        await self._summary(cid)
        try:
            report: ConnectionReport = await self.engine.test_connection(cid)
        except AtlasDesktopError as error:
            report = ConnectionReport(
                steps=(StepResult("Connector available", ok=False, cause=error.message, fix=error.fix),)
            )
        return JSONResponse({"ok": report.ok, "steps": [step_json(step) for step in report.steps]})

    # -- sync ---------------------------------------------------------------------------------------

    async def sync(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        data = await json_body(request, required=False)
        _only(data, {"approve", "full"})
        approve = bool(_typed(data, "approve", bool, "true or false"))
        full = bool(_typed(data, "full", bool, "true or false"))
        await self._summary(cid)
        summary = await self.engine.sync(cid, sync_type=SyncType.MANUAL, approve=approve, full=full)
        return JSONResponse(run_summary_json(summary))

    async def sync_logs(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        limit = _int_param(request, "limit", 50, 1, 500)
        await self._summary(cid)
        rows = await self._db(self.engine.repos.runs.recent, cid, limit)
        return JSONResponse({"items": [sync_log_json(row) for row in rows]})

    # -- mappings -----------------------------------------------------------------------------------

    async def list_mappings(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        status_text = request.query_params.get("status")
        status = _choice(status_text, MappingStatus, "status") if status_text else None
        search = request.query_params.get("search") or None
        if search is not None and len(search) > 100:
            raise BadRequest("search is longer than 100 characters")
        offset = _int_param(request, "offset", 0, 0, 10_000_000)
        limit = _int_param(request, "limit", 100, 1, 1000)
        await self._summary(cid)
        mappings = self.engine.repos.mappings
        rows = await self._db(mappings.page, cid, status=status, search=search, offset=offset, limit=limit)
        total = await self._db(mappings.count, cid, status=status, search=search)
        return JSONResponse({"total": total, "items": [mapping_json(row) for row in rows]})

    async def create_mapping(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        data = await json_body(request)
        _only(data, {"atlas_inventory_id", "erp_item_id", "erp_location_id", "lot"})
        values = {}
        for name in ("atlas_inventory_id", "erp_item_id", "erp_location_id"):
            value = _typed(data, name, str, "text")
            if not value or not value.strip() or len(value) > 100:
                raise BadRequest(f"{name} is required (text, up to 100 characters)")
            values[name] = value.strip()
        lot = _typed(data, "lot", str, "text")
        if lot is not None and len(lot) > 100:
            raise BadRequest("lot is longer than 100 characters")
        await self._summary(cid)
        mapping_id = await self._db(
            self.engine.repos.mappings.map_manually,
            cid, values["atlas_inventory_id"], values["erp_item_id"], values["erp_location_id"], lot,
        )  # fmt: skip
        row = await self._db(self.engine.repos.mappings.get, mapping_id)
        return JSONResponse(mapping_json(row), status_code=201)

    async def delete_mapping(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        text = request.path_params["mapping_id"]
        mapping_id = ascii_int(text, max_digits=19)
        if mapping_id is None or mapping_id > MAX_SQL_INT:
            raise MappingNotFound(0 if mapping_id is None else MAX_SQL_INT)
        await self._summary(cid)
        await self._db(self.engine.repos.mappings.unmap, cid, mapping_id)
        return Response(status_code=204)

    async def discover(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        await self._summary(cid)
        found = await self.engine.discover(cid)
        return JSONResponse(
            {
                "matched": found.matched,
                "ambiguous": found.ambiguous,
                "unmatched_atlas": found.unmatched_atlas,
                "unmatched_erp": found.unmatched_erp,
                "mapped_elsewhere": [
                    {"connection_name": name, "rows": count} for name, count in found.mapped_elsewhere
                ],
                "doubles": found.doubles,
            }
        )

    # -- webhooks -----------------------------------------------------------------------------------

    def _served_changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    async def list_webhooks(self, request: Request) -> Response:
        rows = await self._db(self.webhooks.list)
        return JSONResponse({"items": [webhook_json(row) for row in rows]})

    async def get_webhook(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        await self._summary(cid)
        view = await self._db(self.webhooks.for_connection, cid)
        if view is None:
            raise WebhookNotFound(f"connection {cid}")
        return JSONResponse(webhook_json(view))

    async def enable_webhook(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        data = await json_body(request, required=False)
        _only(data, {"host", "port"})
        host = _typed(data, "host", str, "text") or DEFAULT_HOST
        port = _typed(data, "port", int, "a port number")
        port = DEFAULT_PORT if port is None else port
        if not 1 <= port <= 65535 or len(host) > 255:
            raise BadRequest("port must be 1-65535 and host at most 255 characters")
        view, _ = await self._db(self.webhooks.enable, cid, host=host, port=port)
        secret = await self._db(self.webhooks.secret, cid)
        path = webhook_secret_path(self.services.paths, cid)
        write_private_file(path, secret.reveal() + "\n")
        if self.receiver is not None:
            self.receiver.forget(cid)
        self._served_changed()
        return JSONResponse({**webhook_json(view), "secret_file": str(path)})

    async def disable_webhook(self, request: Request) -> Response:
        cid = request.path_params["cid"]
        view = await self._db(self.webhooks.disable, cid)
        webhook_secret_path(self.services.paths, cid).unlink(missing_ok=True)
        if self.receiver is not None:
            self.receiver.forget(cid)
        self._served_changed()
        return JSONResponse(webhook_json(view))
