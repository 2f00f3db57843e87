"""Starlette routes of the NetSuite emulator: TBA or OAuth 2.0 Bearer per request, Record API, SuiteQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from atlas_desktop.sandbox.netsuite.columns import ColumnCase, column_key
from atlas_desktop.sandbox.netsuite.errors import (
    ERROR_CONTENT_TYPE,
    NsError,
    error_body,
    invalid_content,
    invalid_login_body,
    invalid_parameter,
    invalid_search,
)
from atlas_desktop.sandbox.netsuite.m2m import M2MSetup
from atlas_desktop.sandbox.netsuite.m2m_routes import m2m_routes
from atlas_desktop.sandbox.netsuite.qfilter import account_date_sql
from atlas_desktop.sandbox.netsuite.query_results import QueryResults
from atlas_desktop.sandbox.netsuite.records import Records, record_type
from atlas_desktop.sandbox.netsuite.state import NetSuiteState
from atlas_desktop.sandbox.netsuite.suiteql import format_value, translate
from atlas_desktop.sandbox.netsuite.tba import AuthFailure, TbaVerifier

SINGULAR = "application/vnd.oracle.resource+json; type=singular"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"


@dataclass
class QueryLimits:
    """Limits and answer shape of SuiteQL."""

    max_page: int = 1000
    max_rows: int = 100_000  # per query without SuiteAnalytics Connect
    offset_multiple_of_limit: bool = True
    column_case: ColumnCase = ColumnCase.LOWER  # casing of row keys (it may change)


def _json(payload: Any, status: int = 200, media_type: str = SINGULAR) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type=media_type)


def _error(exc: NsError) -> Response:
    return Response(json.dumps(exc.body()), status_code=exc.status, media_type=ERROR_CONTENT_TYPE)


def _written(location: str) -> Response:
    return Response(status_code=204, headers={"Location": location})


def base_url(request: Request) -> str:
    """scheme://host[:port] exactly as the client addressed us (links and Location use it)."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid_content("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid_content("The request body must be a JSON object.")
    return data


def _refused_login(account_id: str, bearer: bool) -> Response:
    # OAuth 2.0 bearer 401s also carry WWW-Authenticate with error="invalid_token"
    headers = (
        {"WWW-Authenticate": f'Bearer realm="{account_id}", error="invalid_token", '
                             'error_description="Invalid login attempt."'}
        if bearer else None
    )  # fmt: skip
    return Response(
        json.dumps(invalid_login_body()), status_code=401, media_type=ERROR_CONTENT_TYPE, headers=headers
    )


def create_app(
    state: NetSuiteState,
    verifier: TbaVerifier,
    records: Records,
    limits: QueryLimits,
    m2m: M2MSetup,
    control_routes: list[Route] | None = None,
) -> Any:
    Handler = Callable[[Request], Awaitable[Response]]
    results = QueryResults(state.db)

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            raw_path = request.scope.get("raw_path")
            path = raw_path.decode("latin-1") if raw_path else request.url.path
            header = request.headers.get("authorization") or ""
            scheme, _, credential = header.partition(" ")
            if scheme.lower() == "bearer":
                # OAuth 2.0: a token from the M2M grant instead of a TBA signature
                reason = m2m.check_bearer(credential.strip())
                if reason is not None:
                    verifier.failures.append(reason)
                    return _refused_login(verifier.account_id, bearer=True)
            else:
                try:
                    verifier.verify(
                        request.method,
                        request.url.scheme,
                        request.headers.get("host", ""),
                        path,
                        request.scope.get("query_string", b""),
                        header or None,
                    )
                except AuthFailure:
                    return _refused_login(verifier.account_id, bearer=False)
            try:
                if "respond-async" in request.headers.get("prefer", "").lower():
                    raise NsError(
                        400,
                        "INVALID_HEADER",
                        "Invalid Prefer header value: asynchronous requests are not supported by this "
                        "sandbox.",
                        errorHeader="Prefer",
                    )
                return await handler(request)
            except NsError as exc:
                return _error(exc)

        return endpoint

    def strict_names(request: Request) -> bool:
        return request.headers.get("x-netsuite-propertynamevalidation", "warning").lower() == "error"

    async def collection(request: Request) -> Response:
        rt = record_type(request.path_params["rtype"])
        base = base_url(request)
        if request.method == "GET":
            return _json(records.collection(rt, base, request.query_params), media_type=COLLECTION)
        new_id = records.create(rt, await _body(request), strict_names(request))
        return _written(records.url(base, rt.name, new_id))

    async def single(request: Request) -> Response:
        rt = record_type(request.path_params["rtype"])
        raw_id = request.path_params["rid"]
        base = base_url(request)
        if request.method == "GET":
            return _json(records.read(rt, raw_id, base, request.query_params))
        if request.method == "PUT":
            record_id = records.upsert(rt, raw_id, await _body(request), strict_names(request))
            return _written(records.url(base, rt.name, record_id))
        row = records.find(rt, raw_id)
        if request.method == "DELETE":
            records.delete(rt, row)
            return Response(status_code=204)
        replace = {
            part.strip() for part in request.query_params.get("replace", "").split(",") if part.strip()
        }
        record_id = records.update(rt, row, await _body(request), strict_names(request), replace)
        return _written(records.url(base, rt.name, record_id))

    async def subresource(request: Request) -> Response:
        rt = record_type(request.path_params["rtype"])
        body = records.read(rt, request.path_params["rid"], base_url(request), {"expandSubResources": "true"})
        sub = body.get(request.path_params["sub"])
        if not isinstance(sub, dict) or "items" not in sub:
            raise NsError(404, "NONEXISTENT_ID", f"The sublist {request.path_params['sub']} does not exist.")
        return _json(sub, media_type=COLLECTION)

    async def suiteql(request: Request) -> Response:
        prefer = {p.strip().lower() for p in request.headers.get("prefer", "").split(",")}
        if "transient" not in prefer:
            raise NsError(
                400,
                "INVALID_HEADER",
                "Invalid Prefer header. SuiteQL requests must be sent with the header 'Prefer: transient'.",
                errorHeader="Prefer",
            )
        limit = _int(request, "limit", limits.max_page)
        offset = _int(request, "offset", 0)
        if not 1 <= limit <= limits.max_page:
            raise invalid_parameter(
                f"Invalid query parameter value. The limit must be between 1 and {limits.max_page}.", "limit"
            )
        if offset < 0 or (limits.offset_multiple_of_limit and offset % limit):
            raise invalid_parameter(
                "Invalid query parameter value. The offset must be a non-negative multiple of the limit.",
                "offset",
            )
        if offset >= limits.max_rows:
            raise invalid_parameter(
                f"Invalid query parameter value. A query can return at most {limits.max_rows} results; "
                "narrow the query (for example by lastmodifieddate) instead of paging further.",
                "offset",
            )
        body = await _body(request)
        text = body.get("q")
        if not isinstance(text, str):
            raise invalid_content('The request body must be an object with the query text in "q".')
        compiled = translate(text, state.clock, account_date_sql, state.user_zone)
        page = min(limit, limits.max_rows - offset)
        try:
            with state.lock:
                # a paged read asks the same query per page: counted and run once until the data changes
                zone = str(state.user_zone.key)
                total = results.total(compiled.sql, compiled.params, zone)
                rows = results.page(
                    compiled.sql, compiled.params, zone, offset=offset, size=page,
                    reachable=min(total, limits.max_rows),
                )  # fmt: skip
        except sqlite3.Error as exc:
            raise invalid_search(f"Invalid or unsupported search ({exc}).") from None
        items = []
        keys = [
            column_key(limits.column_case, key, written)
            for (key, _), written in zip(compiled.columns, compiled.written, strict=True)
        ]
        for row in rows:
            item: dict[str, Any] = {"links": []}
            for index, (_, kind) in enumerate(compiled.columns):
                value = format_value(row[index], kind, state.user_zone)
                if value is not None:  # SuiteQL leaves NULL columns out of the row
                    item[keys[index]] = value
            items.append(item)
        reachable = min(total, limits.max_rows)
        has_more = offset + len(items) < reachable
        url = f"{base_url(request)}/services/rest/query/v1/suiteql"

        def href(at: int) -> str:
            return f"{url}?{urlencode({'limit': limit, 'offset': at})}"

        links = []
        if offset > 0:
            links += [
                {"rel": "first", "href": href(0)},
                {"rel": "prev", "href": href(max(offset - limit, 0))},
            ]
        if has_more:
            links.append({"rel": "next", "href": href(offset + limit)})
        links += [
            {"rel": "last", "href": href(max((reachable - 1) // limit * limit, 0))},
            {"rel": "self", "href": href(offset)},
        ]
        return _json(
            {
                "links": links,
                "count": len(items),
                "hasMore": has_more,
                "items": items,
                "offset": offset,
                "totalResults": total,
            },
            media_type=COLLECTION,
        )

    async def not_found(request: Request) -> Response:
        raise NsError(404, "INVALID_PARAMETER", f"The resource {request.url.path} does not exist.")

    routes = [
        *m2m_routes(m2m, base_url),
        *(control_routes or []),
        Route("/services/rest/record/v1/{rtype}", guarded(collection), methods=["GET", "POST"]),
        Route(
            "/services/rest/record/v1/{rtype}/{rid}",
            guarded(single),
            methods=["GET", "PATCH", "PUT", "DELETE"],
        ),
        Route("/services/rest/record/v1/{rtype}/{rid}/{sub}", guarded(subresource), methods=["GET"]),
        Route("/services/rest/query/v1/suiteql", guarded(suiteql), methods=["POST"]),
        Route("/services/{rest:path}", guarded(not_found), methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
    ]

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        return Response(
            json.dumps(
                error_body(405, "INVALID_PARAMETER", f"The method {request.method} is not allowed here.")
            ),
            status_code=405,
            media_type=ERROR_CONTENT_TYPE,
        )

    return DateHeader(Starlette(routes=routes, exception_handlers={405: method_not_allowed}), state.clock)


class DateHeader:
    """Adds the HTTP `Date` (emulator clock) in-process; uvicorn adds its own over sockets, so not there."""

    def __init__(self, app: Any, clock: Callable[[], Any]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # uvicorn announces an ASGI spec_version and sends Date itself; httpx.ASGITransport does neither
        if scope["type"] != "http" or "spec_version" in scope.get("asgi", {}):
            await self.app(scope, receive, send)
            return

        async def with_date(message: Any) -> None:
            if message["type"] == "http.response.start":
                stamp = formatdate(self.clock().timestamp(), usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", stamp)]}
            await send(message)

        await self.app(scope, receive, with_date)


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_parameter(
            f"Invalid query parameter value. The value of {name} must be an integer.", name
        ) from None
