"""The SAP Gateway ASGI app of one tenant: token endpoint, auth, sap-client, scenarios, CSRF, OData."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import Receive, Scope, Send
from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.auth import Authenticator, AuthRefused
from atlas_desktop.sandbox.sap.batch import parse_batch, run_batch, to_request
from atlas_desktop.sandbox.sap.config import AuthMode, SapConfig
from atlas_desktop.sandbox.sap.csrf import FAILED_TEXT, CsrfGuard
from atlas_desktop.sandbox.sap.errors import GatewayError, error_bytes
from atlas_desktop.sandbox.sap.odata.query import SkipTokens
from atlas_desktop.sandbox.sap.resource import Engine, ODataRequest, ODataResponse
from atlas_desktop.sandbox.sap.seed import seed
from atlas_desktop.sandbox.sap.services.base import Context, Service
from atlas_desktop.sandbox.sap.services.batch import BatchService
from atlas_desktop.sandbox.sap.services.material_document import MaterialDocumentService
from atlas_desktop.sandbox.sap.services.product import ProductService
from atlas_desktop.sandbox.sap.services.purchase_order import PurchaseOrderService
from atlas_desktop.sandbox.sap.services.stock import StockService
from atlas_desktop.sandbox.sap.state import State

ODATA_PREFIX = "/sap/opu/odata/sap/"
TOKEN_PATH = "/sap/bc/sec/oauth2/token"
CONTROL = "/_sandbox/sap/"
_MODIFYING = {"POST", "PUT", "PATCH", "MERGE", "DELETE"}


def all_services() -> list[Service]:
    return [
        ProductService(),
        StockService(),
        MaterialDocumentService(),
        BatchService(),
        PurchaseOrderService(),
    ]


class Tenant:
    """One SAP system: configuration, tables (seeded on first use), auth, CSRF and one engine per service."""

    def __init__(self, config: SapConfig, catalog: Catalog | None, secret: bytes) -> None:
        self.config = config
        self.catalog = catalog
        self.state = State()
        self.auth = Authenticator(config)
        self.csrf = CsrfGuard(config)
        tokens = SkipTokens(secret)
        self.engines = {svc.schema.name: Engine(svc, tokens) for svc in all_services()}
        self._seeded = False

    def ensure_seeded(self) -> State:
        if not self._seeded:
            seed(self.state, self.config, self.catalog)
            self._seeded = True
        return self.state

    def context(self, user: str) -> Context:
        return Context(self.ensure_seeded(), self.config, user)


class SapApp:
    """Pure ASGI. All below the auth check is synchronous: requests never interleave with one another."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        status, headers, payload = self.respond(scope, body)
        if scope["method"] == "HEAD":
            payload = b""
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    # -- routing ---------------------------------------------------------------------------------------

    def respond(self, scope: Scope, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        path: str = scope["path"]
        method: str = scope["method"]
        headers = _headers(scope)
        if path.startswith(CONTROL):
            return self._control(path[len(CONTROL) :], method, body)
        if path.rstrip("/") == TOKEN_PATH:
            return self._token(method, headers, body)
        if path.startswith(ODATA_PREFIX):
            too_long = _url_too_long(self.tenant.config, _target_length(scope))
            return too_long or self._odata(scope, headers, body)
        return _plain(404, f"Service cannot be reached: no handler for {path}")

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        if self.tenant.config.auth_mode != AuthMode.OAUTH2:
            return _plain(404, "OAuth 2.0 is not configured in this system")
        if method != "POST":
            return _plain(405, "Use POST")
        if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
            status, data = 400, {"error": "invalid_request", "error_description": "Send a form-encoded body"}
        else:
            status, data = self.tenant.auth.issue_token(headers, body)
        out = [(b"content-type", b"application/json;charset=utf-8"), (b"cache-control", b"no-store")]
        if status == 401:
            out.append((b"www-authenticate", b'Basic realm="SAP OAuth 2.0"'))
        return status, out, json.dumps(data).encode()

    def _odata(self, scope: Scope, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        tenant, config = self.tenant, self.tenant.config
        method: str = scope["method"]
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        query = [(k, v) for k, v in query]
        rest = scope["path"][len(ODATA_PREFIX) :]
        service_name, _, sub_path = rest.partition("/")
        client = _sap_client(query, headers)
        if config.require_sap_client or client is not None:
            if client is None:
                return _logon_failed("Logon failed: no client given; add the sap-client query parameter")
            if client != config.sap_client:
                return _logon_failed(f"Logon failed: client {client} is not available in this system")
        try:
            user = tenant.auth.authenticate(headers, scope)
        except AuthRefused as refused:
            status, out, payload = _logon_failed(refused.message)
            out.extend((k.encode(), v.encode()) for k, v in refused.headers.items())
            return status, out, payload
        engine = _engine(tenant, service_name)
        if engine is None:
            err = GatewayError(
                404,
                errors.NO_SERVICE,
                f"No service found for namespace '/SAP/', name '{service_name}', version '0001'",
            )
            return _gateway(err, service_name)
        schema = engine.schema
        if schema.scenario in config.missing_scenarios:
            err = GatewayError(
                403,
                errors.NOT_AUTHORISED,
                f"User {user} is not authorized for service {schema.name}: communication scenario "
                f"{schema.scenario} is not assigned to the communication arrangement",
            )
            return _gateway(err, schema.name)
        cookies = _cookies(headers)
        extra: list[tuple[bytes, bytes]] = []
        if method in ("GET", "HEAD") and headers.get("x-csrf-token", "").lower() == "fetch":
            token, set_cookies = tenant.csrf.fetch(user, cookies, secure=scope.get("scheme") == "https")
            extra.append((b"x-csrf-token", token.encode()))
            extra.extend((b"set-cookie", c.encode()) for c in set_cookies)
        elif method in _MODIFYING and not tenant.csrf.valid(user, headers.get("x-csrf-token"), cookies):
            return (
                403,
                [(b"content-type", b"text/plain; charset=utf-8"), (b"x-csrf-token", b"Required")],
                (FAILED_TEXT.encode()),
            )
        service_root = f"{_origin(scope, headers)}{ODATA_PREFIX}{service_name}"
        ctx = tenant.context(user)
        request = ODataRequest(method, sub_path, query, headers, body, service_root)
        if sub_path.strip("/") == "$batch":
            response = self._batch(engine, ctx, request, f"{ODATA_PREFIX}{service_name}/")
        else:
            response = _run(engine, ctx, request)
        out = [(k.encode(), v.encode()) for k, v in response.headers.items()] + extra
        return response.status, out, response.body

    def _batch(self, engine: Engine, ctx: Context, request: ODataRequest, service_path: str) -> ODataResponse:
        if request.method != "POST":
            return _as_response(
                GatewayError(405, errors.BATCH_ERROR, "$batch must be sent with POST"), engine
            )
        try:
            items = parse_batch(request.body, request.headers.get("content-type", ""))
        except GatewayError as err:
            return _as_response(err, engine)

        def execute(op: Any) -> ODataResponse:
            limit = ctx.config.max_url_length
            relative = not op.target.startswith(("/", "http://", "https://"))
            if limit and len(op.target) + (len(service_path) if relative else 0) > limit:
                return _as_response(GatewayError(414, errors.BAD_REQUEST, _URL_TOO_LONG), engine)
            try:
                inner = to_request(op, request.service_root, service_path)
            except GatewayError as err:
                return _as_response(err, engine)
            return _run(engine, ctx, inner)

        content_type, body = run_batch(
            items, ctx.state, execute, multi_operation_changesets=ctx.config.multi_operation_changesets
        )
        return ODataResponse(202, {"content-type": content_type, "dataserviceversion": "2.0"}, body)

    # -- sandbox control (tests and demo) --------------------------------------------------------------

    def _control(self, route: str, method: str, body: bytes) -> tuple[int, list[Any], bytes]:
        tenant = self.tenant
        if method != "POST":
            return _plain(405, "Use POST")
        if route == "expire-csrf":
            result: dict[str, Any] = {"expired": tenant.csrf.expire_all()}
        elif route == "expire-tokens":
            result = {"expired": tenant.auth.expire_tokens()}
        elif route == "scenarios":
            data = json.loads(body or b"{}")
            tenant.config.missing_scenarios = set(data.get("missing", []))
            result = {"missing": sorted(tenant.config.missing_scenarios)}
        else:
            return _plain(404, f"Unknown control route {route}")
        return 200, [(b"content-type", b"application/json")], json.dumps(result).encode()


_URL_TOO_LONG = "Request-URI Too Long"


def _target_length(scope: Scope) -> int:
    """The request target as sent: the encoded path, and its query string if any."""
    # httpx's ASGITransport puts the query into raw_path as well; uvicorn does not.
    path = (scope.get("raw_path") or scope["path"].encode()).partition(b"?")[0]
    query = scope.get("query_string", b"")
    return len(path) + (1 + len(query) if query else 0)


def _url_too_long(config: SapConfig, length: int) -> tuple[int, list[Any], bytes] | None:
    if config.max_url_length and length > config.max_url_length:
        return _plain(414, _URL_TOO_LONG)
    return None


def _engine(tenant: Tenant, service_name: str) -> Engine | None:
    # ICF paths are case-insensitive; the service names are upper case.
    return tenant.engines.get(service_name.upper())


def _run(engine: Engine, ctx: Context, request: ODataRequest) -> ODataResponse:
    try:
        return engine.handle(request, ctx)
    except GatewayError as err:
        return _as_response(err, engine)


def _as_response(err: GatewayError, engine: Engine) -> ODataResponse:
    headers = {"content-type": "application/json;charset=utf-8", "dataserviceversion": "1.0"}
    headers.update(err.headers)
    return ODataResponse(err.status, headers, error_bytes(err, engine.schema.name))


def _gateway(err: GatewayError, service: str) -> tuple[int, list[Any], bytes]:
    return err.status, [(b"content-type", b"application/json;charset=utf-8")], error_bytes(err, service)


def _plain(status: int, text: str) -> tuple[int, list[Any], bytes]:
    return status, [(b"content-type", b"text/plain; charset=utf-8")], text.encode()


def _logon_failed(message: str) -> tuple[int, list[Any], bytes]:
    page = f"<html><head><title>Logon Error Message</title></head><body><p>{message}</p></body></html>"
    return 401, [(b"content-type", b"text/html; charset=utf-8")], page.encode()


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        found[key] = f"{found[key]}; {text}" if key == "cookie" and key in found else text
    return found


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is simply "no cookies"
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _sap_client(query: list[tuple[str, str]], headers: dict[str, str]) -> str | None:
    for name, value in query:
        if name == "sap-client":
            return value
    return headers.get("sap-client")


def _origin(scope: Scope, headers: dict[str, str]) -> str:
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
