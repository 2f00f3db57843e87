"""The Atlas cloud API as a Starlette app: each route and error of the API contract, and /sandbox routes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from atlas_desktop.sandbox.atlas import batch, validate
from atlas_desktop.sandbox.atlas.auth import AuthService, OAuthError, Principal
from atlas_desktop.sandbox.atlas.state import ORDER_STATUSES, AtlasState, decode_cursor, encode_cursor
from atlas_desktop.sandbox.atlas.wire import (
    MAX_BODY_BYTES,
    ApiError,
    error_body,
    error_response,
    invalid,
    json_response,
    parse_decimal,
    parse_limit,
)

MAX_IN_FLIGHT_PER_TOKEN = 10
MAX_WAIT_S = 60
Handler = Callable[[], Response]


class LimitsMiddleware:
    """Production's limits, before any route runs: 5 MB bodies (413), 10 requests in flight per token (429).

    A long-poll is a request in flight and counts, as it holds a connection and a worker on a real server.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await _send(send, 413, error_body("payload_too_large", _too_large()), {})
            return
        token = headers.get("authorization") if scope["path"].startswith("/api/") else None
        if token is None:
            await self.app(scope, receive, send)
            return
        if self.in_flight[token] >= MAX_IN_FLIGHT_PER_TOKEN:
            body = error_body(
                "rate_limited",
                f"more than {MAX_IN_FLIGHT_PER_TOKEN} requests in flight for this token; retry after 1 s",
                {"limit": MAX_IN_FLIGHT_PER_TOKEN},
            )
            await _send(send, 429, body, {"retry-after": "1"})
            return
        self.in_flight[token] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight[token] -= 1
            if self.in_flight[token] <= 0:
                del self.in_flight[token]


async def _send(send: Any, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _too_large() -> str:
    return f"the request body exceeds {MAX_BODY_BYTES // (1024 * 1024)} MB; send fewer items per request"


async def read_body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", _too_large())
    return bytes(body)


def etag(row: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{row["version"]}"'}


def parse_if_match(header: str) -> list[str]:
    """Strong entity tags of an If-Match header ('*' allowed). Weak tags never match (RFC 9110 13.1.1)."""
    return [tag.strip() for tag in header.split(",") if tag.strip()]


class AtlasApi:
    """Routes over one AtlasState and AuthService."""

    def __init__(self, state: AtlasState, auth: AuthService) -> None:
        self.state = state
        self.auth = auth
        self.batch_operations = 0  # operations received on POST /inventory/batch: benchmarks count writes

    # ---- plumbing -----------------------------------------------------------------------------------
    def principal(self, request: Request, scope: str | None) -> Principal:
        principal = self.auth.authenticate(request.headers.get("authorization"))
        if scope is not None:
            self.auth.require_scope(principal, scope)
        return principal

    def keyed(self, request: Request, principal: Principal, body: bytes, handler: Handler) -> Response:
        """Run a mutating handler at most once per Idempotency-Key; a repeat gets the first response."""
        raw_key = request.headers.get("idempotency-key")
        if raw_key is None:
            return handler()
        key = validate.idempotency_key(raw_key)
        fingerprint = batch.fingerprint(request.method, request.url.path, body)
        account = principal.account.account_id
        with self.state.lock:  # no await inside: recall, run and remember are one step
            recalled = self.state.recall(account, key)
            if recalled is not None:
                first_fingerprint, status, headers, first_body = recalled
                if first_fingerprint != fingerprint:
                    raise invalid(
                        "this Idempotency-Key was used for a different request; use a new key per write",
                        field="Idempotency-Key",
                    )
                return Response(first_body, status, headers={**headers, "Idempotent-Replayed": "true"})
            response = handler()
            if 200 <= response.status_code < 300:
                kept = {k: v for k, v in response.headers.items() if k.lower() in ("etag", "content-type")}
                self.state.remember(
                    account, key, fingerprint, response.status_code, kept, bytes(response.body)
                )
            return response

    # ---- account ------------------------------------------------------------------------------------
    async def me(self, request: Request) -> Response:
        principal = self.principal(request, None)
        account = principal.account
        return json_response(
            {
                "account_id": account.account_id,
                "company_name": account.company_name,
                "user_email": account.user_email,
                "scopes": sorted(principal.scopes),
            }
        )

    # ---- inventory ----------------------------------------------------------------------------------
    async def list_inventory(self, request: Request) -> Response:
        self.principal(request, "inventory")
        limit = parse_limit(request.query_params.get("limit"), 500)
        cursor = request.query_params.get("cursor")
        after = decode_cursor(cursor, "list", "cursor") if cursor else None
        rows, last_id = self.state.list_rows(after, limit)
        return json_response(
            {"items": rows, "next_cursor": encode_cursor("list", last_id) if last_id else None}
        )

    async def changes(self, request: Request) -> Response:
        self.principal(request, "inventory")
        limit = parse_limit(request.query_params.get("limit"), 1000)
        since_text = request.query_params.get("since")
        since = int(decode_cursor(since_text, "feed", "since")) if since_text else 0
        wait = _parse_wait(request.query_params.get("wait"))
        rows, last, more = self.state.changes(since, limit)
        if not rows and wait > 0:
            await self.state.changed.wait(wait, lambda: self.state.head > since)
            rows, last, more = self.state.changes(since, limit)
        return json_response({"changes": rows, "cursor": encode_cursor("feed", last), "has_more": more})

    async def get_row(self, request: Request) -> Response:
        self.principal(request, "inventory")
        row = self.state.require_row(request.path_params["row_id"])
        return json_response(row, headers=etag(row))

    async def create_row(self, request: Request) -> Response:
        principal = self.principal(request, "inventory")
        body = await read_body(request)

        def handler() -> Response:
            row = self.state.insert_row(validate.new_row(validate.parse_json(body)))
            return json_response(row, 201, headers=etag(row))

        return self.keyed(request, principal, body, handler)

    async def patch_row(self, request: Request) -> Response:
        principal = self.principal(request, "inventory")
        body = await read_body(request)
        row_id = request.path_params["row_id"]

        def handler() -> Response:
            header = request.headers.get("if-match")
            if header is None:
                raise ApiError(
                    428,
                    "precondition_required",
                    'send If-Match: "<version>" with the version you read (GET the row for its ETag)',
                )
            fields = validate.patch(validate.parse_json(body))
            with self.state.lock:
                current = self.state.require_row(row_id)
                tags = parse_if_match(header)
                if "*" not in tags and f'"{current["version"]}"' not in tags:
                    raise ApiError(
                        412,
                        "version_conflict",
                        f"the row changed: it is at version {current['version']}; merge, retry with its ETag",
                        {"current": current},
                    )
                row = self.state.update_row(row_id, fields)
            return json_response(row, headers=etag(row))

        return self.keyed(request, principal, body, handler)

    async def adjust(self, request: Request) -> Response:
        principal = self.principal(request, "inventory")
        body = await read_body(request)
        row_id = request.path_params["row_id"]

        def handler() -> Response:
            self.state.require_row(row_id)
            delta, _reason = validate.adjustment(validate.parse_json(body))
            row = self.state.adjust_row(row_id, delta)
            return json_response(row, headers=etag(row))

        return self.keyed(request, principal, body, handler)

    async def inventory_batch(self, request: Request) -> Response:
        """Many writes, one result each (batch.py); per-operation keys, so no request-level replay."""
        principal = self.principal(request, "inventory")
        operations = batch.parse_operations(validate.parse_json(await read_body(request)))
        self.batch_operations += len(operations)
        results = batch.run_batch(self.state, principal.account.account_id, operations)
        return json_response({"results": results})

    # ---- orders -------------------------------------------------------------------------------------
    async def orders(self, request: Request) -> Response:
        self.principal(request, "erp")
        status = request.query_params.get("status")
        if status is not None and status not in ORDER_STATUSES:
            raise invalid(f"status must be one of {', '.join(ORDER_STATUSES)}", field="status")
        since_text = request.query_params.get("since")
        since = int(decode_cursor(since_text, "orders", "since")) if since_text else 0
        limit = parse_limit(request.query_params.get("limit"), 100)
        orders, last, more = self.state.orders(status, since, limit)
        return json_response({"orders": orders, "cursor": encode_cursor("orders", last), "has_more": more})

    async def erp_link(self, request: Request) -> Response:
        principal = self.principal(request, "erp")
        body = await read_body(request)
        order_id = request.path_params["order_id"]

        def handler() -> Response:
            self.state.require_order(order_id)
            return json_response(
                self.state.link_order(order_id, validate.erp_link(validate.parse_json(body)))
            )

        return self.keyed(request, principal, body, handler)

    # ---- ERP connection reports ---------------------------------------------------------------------
    async def put_health(self, request: Request) -> Response:
        principal = self.principal(request, "erp")
        body = await read_body(request)
        connection_id = validate.connection_id(request.path_params["connection_id"])

        def handler() -> Response:
            report = validate.health(validate.parse_json(body), self.auth.issued_tokens())
            self.state.put_health(connection_id, report)
            return Response(status_code=204)

        return self.keyed(request, principal, body, handler)

    async def post_sync_log(self, request: Request) -> Response:
        principal = self.principal(request, "erp")
        body = await read_body(request)
        connection_id = validate.connection_id(request.path_params["connection_id"])

        def handler() -> Response:
            summary = validate.sync_log(validate.parse_json(body), self.auth.issued_tokens())
            stored = self.state.add_sync_log(connection_id, summary)
            return json_response({"id": stored["id"], "received_at": stored["received_at"]}, 201)

        return self.keyed(request, principal, body, handler)

    # ---- sandbox-only helpers (a marketplace acting on the seller's listing) -------------------------
    async def sandbox_approve(self, request: Request) -> Response:
        return self._decide(validate.parse_json(await read_body(request)), approve=True)

    async def sandbox_deny(self, request: Request) -> Response:
        return self._decide(validate.parse_json(await read_body(request)), approve=False)

    def _decide(self, data: Any, *, approve: bool) -> Response:
        user_code = validate.text(validate.require_object(data), "user_code", required=True, max_len=20)
        code = self.auth.decide(user_code, approve=approve)
        return json_response({"user_code": code.user_code, "status": code.status})

    async def sandbox_sell(self, request: Request) -> Response:
        data = validate.require_object(validate.parse_json(await read_body(request)))
        sold = parse_decimal(data.get("quantity"), "quantity")
        if sold <= 0:
            raise invalid("quantity sold must be above zero", field="quantity")
        return json_response(self.state.adjust_row(request.path_params["row_id"], -sold))

    async def sandbox_edit(self, request: Request) -> Response:
        fields = validate.patch(validate.parse_json(await read_body(request)))
        return json_response(self.state.update_row(request.path_params["row_id"], fields))

    async def sandbox_delete(self, request: Request) -> Response:
        return json_response(self.state.delete_row(request.path_params["row_id"]))

    async def sandbox_add(self, request: Request) -> Response:
        row = self.state.insert_row(validate.new_row(validate.parse_json(await read_body(request))))
        return json_response(row, 201)

    async def sandbox_order(self, request: Request) -> Response:
        data = validate.require_object(validate.parse_json(await read_body(request)))
        order = validate_order(data)
        status = data.get("status", "confirmed")
        if status not in ORDER_STATUSES:
            raise invalid(f"status must be one of {', '.join(ORDER_STATUSES)}", field="status")
        return json_response(self.state.insert_order(order, status), 201)

    async def sandbox_token(self, request: Request) -> Response:
        data = validate.require_object(validate.parse_json(await read_body(request)) or {})
        scopes = data.get("scopes", ["inventory", "erp"])
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise invalid("scopes must be a list of strings", field="scopes")
        return json_response({"api_token": self.auth.issue_api_token(frozenset(scopes))}, 201)

    async def device_page(self, request: Request) -> Response:
        """The page verification_uri_complete opens: shows the code and approves it on a click."""
        if request.method == "POST":
            form = dict(_form_pairs((await read_body(request)).decode(errors="replace")))
            approve = form.get("action") != "deny"
            try:
                code = self.auth.decide(form.get("user_code", ""), approve=approve)
                message = f"Sign-in {code.status}. You can close this window and return to Atlas Desktop."
            except ApiError as exc:
                message = exc.message
            return HTMLResponse(f"<html><body><h1>Atlas sandbox</h1><p>{_escape(message)}</p></body></html>")
        user_code = _escape(request.query_params.get("user_code", ""))
        return HTMLResponse(
            "<html><body><h1>Atlas sandbox sign-in</h1>"
            "<form method='post'><p>Code shown in Atlas Desktop: "
            f"<input name='user_code' value='{user_code}'></p>"
            "<button name='action' value='approve'>Approve</button> "
            "<button name='action' value='deny'>Deny</button></form></body></html>"
        )


def validate_order(data: dict[str, Any]) -> dict[str, Any]:
    supplier = validate.require_object(data.get("supplier"))
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise invalid("lines must be a non-empty list", field="lines")
    clean_lines = []
    for line in lines:
        line = validate.require_object(line)
        clean_lines.append(
            {
                "ndc": validate.ndc(line),
                "name": validate.text(line, "name", required=True),
                "quantity": validate.quantity(line.get("quantity")),
                "unit": validate.text(line, "unit", required=True, max_len=20),
                "unit_price": validate.quantity(line.get("unit_price"), "unit_price"),
                "currency": validate.text(line, "currency", required=True, max_len=3),
            }
        )
    return {
        "supplier": {
            "name": validate.text(supplier, "name", required=True),
            "atlas_id": validate.text(supplier, "atlas_id", required=True, max_len=100),
        },
        "lines": clean_lines,
    }


def _parse_wait(raw: str | None) -> float:
    if raw is None:
        return 0.0
    try:
        wait = Decimal(raw)
    except InvalidOperation:
        wait = Decimal(-1)
    if not wait.is_finite() or not 0 <= wait <= MAX_WAIT_S:
        raise invalid(f"wait must be a number of seconds from 0 to {MAX_WAIT_S}", field="wait")
    return float(wait)


def _form_pairs(text: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(text)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")


async def _no_route(request: Request) -> Response:
    return error_response(404, "not_found", f"no route {request.method} {request.url.path}")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _oauth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OAuthError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, "not_found", f"no route {request.method} {request.url.path}")
    if exc.status_code == 405:
        return error_response(
            405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}"
        )
    return error_response(exc.status_code, "error", str(exc.detail))


def build_app(state: AtlasState, auth: AuthService, *, batch_route: bool = True) -> tuple[Any, AtlasApi]:
    """The ASGI app (limits outermost) and the route object holding state.

    `batch_route=False` is a server that predates POST /inventory/batch (404), for the clients' fallback.
    """
    api = AtlasApi(state, auth)
    routes = [
        Route("/api/v1/me", api.me, methods=["GET"]),
        Route("/api/v1/inventory", api.list_inventory, methods=["GET"]),
        Route("/api/v1/inventory", api.create_row, methods=["POST"]),
        Route("/api/v1/inventory/changes", api.changes, methods=["GET"]),
        # Without the route, a 404 as an older server gives (not the 405 of the {row_id} route's match).
        Route("/api/v1/inventory/batch", api.inventory_batch if batch_route else _no_route, methods=["POST"]),
        Route("/api/v1/inventory/{row_id}", api.get_row, methods=["GET"]),
        Route("/api/v1/inventory/{row_id}", api.patch_row, methods=["PATCH"]),
        Route("/api/v1/inventory/{row_id}/adjustments", api.adjust, methods=["POST"]),
        Route("/api/v1/orders", api.orders, methods=["GET"]),
        Route("/api/v1/orders/{order_id}/erp-link", api.erp_link, methods=["POST"]),
        Route("/api/v1/erp/connections/{connection_id}/health", api.put_health, methods=["PUT"]),
        Route("/api/v1/erp/connections/{connection_id}/sync-logs", api.post_sync_log, methods=["POST"]),
        Route("/oauth/device/code", auth.device_code_route, methods=["POST"]),
        Route("/oauth/token", auth.token_route, methods=["POST"]),
        Route("/device", api.device_page, methods=["GET", "POST"]),
        Route("/sandbox/device/approve", api.sandbox_approve, methods=["POST"]),
        Route("/sandbox/device/deny", api.sandbox_deny, methods=["POST"]),
        Route("/sandbox/inventory", api.sandbox_add, methods=["POST"]),
        Route("/sandbox/inventory/{row_id}", api.sandbox_edit, methods=["PATCH"]),
        Route("/sandbox/inventory/{row_id}", api.sandbox_delete, methods=["DELETE"]),
        Route("/sandbox/inventory/{row_id}/sell", api.sandbox_sell, methods=["POST"]),
        Route("/sandbox/orders", api.sandbox_order, methods=["POST"]),
        Route("/sandbox/tokens", api.sandbox_token, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={ApiError: _api_error, OAuthError: _oauth_error, HTTPException: _http_error},
    )
    return LimitsMiddleware(app), api


__all__ = ["build_app", "AtlasApi", "LimitsMiddleware"]
