"""The generic OData v2 engine of one service: resource paths, reads with query options, writes, functions."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any
from urllib.parse import quote, urlencode

from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.errors import GatewayError
from atlas_desktop.sandbox.sap.metadata import edmx, service_document_json, service_document_xml
from atlas_desktop.sandbox.sap.odata import edm
from atlas_desktop.sandbox.sap.odata.edm import EdmValueError
from atlas_desktop.sandbox.sap.odata.filter import compile_filter
from atlas_desktop.sandbox.sap.odata.literals import COMPATIBLE, UriSyntaxError, parse_key_predicate, tokenize
from atlas_desktop.sandbox.sap.odata.query import (
    Expand,
    QueryOptions,
    SkipTokens,
    check_options,
    page_scope,
    parse_options,
)
from atlas_desktop.sandbox.sap.schema import EntitySet, EntityType, FunctionImport, Nav, Prop
from atlas_desktop.sandbox.sap.services.base import Context, Service
from atlas_desktop.sandbox.sap.state import Row

JSON = "application/json; charset=utf-8"
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$")
_MODIFYING = {"POST", "PUT", "PATCH", "MERGE", "DELETE"}
_PASS_PARAMS = {"sap-client", "sap-language", "search", "sap-ds-debug"}


@dataclass
class ODataRequest:
    method: str
    path: str  # below the service root, decoded, without leading "/"
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    service_root: str  # absolute, without trailing "/"

    @property
    def params(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, value in self.query:
            found.setdefault(name, value)
        return found


@dataclass
class ODataResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, data: object, headers: dict[str, str] | None = None) -> ODataResponse:
        all_headers = {"content-type": JSON, "dataserviceversion": "2.0"}
        all_headers.update(headers or {})
        return cls(status, all_headers, json.dumps(data, separators=(",", ":")).encode())


@dataclass
class _Target:
    eset: EntitySet
    key: dict[str, Any] | None = None  # None: the collection
    nav_from: tuple[EntitySet, Row, Nav] | None = None
    count: bool = False
    function: FunctionImport | None = None


def etag_of(et: EntityType, row: Row) -> str | None:
    prop = et.etag_prop
    if prop is None or row.get(prop.name) is None:
        return None
    moment: datetime = row[prop.name].astimezone(UTC)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}0Z".replace(":", "%3A")
    return f"W/\"datetimeoffset'{text}'\""


_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.~-]*$")


@lru_cache(maxsize=131_072)
def _string_literal(value: str) -> str:
    if _SAFE_KEY.match(value):
        return f"'{value}'"
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


_KEY_PROPS: dict[int, tuple[Prop, ...]] = {}


def _key_props(et: EntityType) -> tuple[Prop, ...]:
    # Keyed by identity: hashing the frozen type (all its properties) on every row would dominate.
    found = _KEY_PROPS.get(id(et))
    if found is None:
        found = _KEY_PROPS[id(et)] = tuple(p for p in (et.prop(k) for k in et.key) if p is not None)
    return found


def key_text(et: EntityType, row: Row) -> str:
    def lit(prop: Prop, value: Any) -> str:
        return _string_literal(str(value)) if prop.type == "Edm.String" else str(value)

    props = _key_props(et)
    if len(props) == 1:
        return f"({lit(props[0], row[props[0].name])})"
    return "(" + ",".join(f"{p.name}={lit(p, row[p.name])}" for p in props) + ")"


class Engine:
    """Serves one service of one tenant. Writes go through the service's rules inside a transaction."""

    def __init__(self, service: Service, tokens: SkipTokens) -> None:
        self.service = service
        self.schema = service.schema
        self.tokens = tokens
        self._results: OrderedDict[tuple[Any, ...], list[Row]] = OrderedDict()
        # (table, join fields) -> (the table's version it was built at, join values -> rows)
        self._indexes: dict[tuple[Any, ...], tuple[int, dict[tuple[Any, ...], list[Row]]]] = {}
        self._render_plans: dict[str, list[tuple[str, bool, Prop, int | None]]] = {}

    # -- entry -----------------------------------------------------------------------------------------

    def handle(self, req: ODataRequest, ctx: Context) -> ODataResponse:
        path = req.path.strip("/")
        if path == "":
            return self._service_document(req)
        if path == "$metadata":
            if req.method not in ("GET", "HEAD"):
                raise GatewayError(405, errors.NOT_ALLOWED, "$metadata can only be read")
            return ODataResponse(
                200, {"content-type": "application/xml"}, edmx(self.schema, req.service_root)
            )
        target = self._resolve(path, ctx)
        method = req.method
        if method == "POST" and req.headers.get("x-http-method"):
            method = req.headers["x-http-method"].upper()
        if target.function is not None:
            return self._call(req, ctx, target.function)
        if method in ("GET", "HEAD"):
            return self._read(req, ctx, target)
        if method == "POST":
            return self._create(req, ctx, target)
        if method in ("PUT", "PATCH", "MERGE"):
            return self._update(req, ctx, target, method)
        if method == "DELETE":
            return self._delete(req, ctx, target)
        raise GatewayError(405, errors.NOT_ALLOWED, f"Method {method} is not supported")

    def _service_document(self, req: ODataRequest) -> ODataResponse:
        if wants_json(req):
            return ODataResponse.json(200, service_document_json(self.schema))
        body = service_document_xml(self.schema, req.service_root)
        return ODataResponse(
            200, {"content-type": "application/atomsvc+xml;type=service; charset=utf-8"}, body
        )

    # -- resource paths --------------------------------------------------------------------------------

    def _resolve(self, path: str, ctx: Context) -> _Target:
        segments = path.split("/")
        count = False
        if segments[-1] == "$count":
            count = True
            segments = segments[:-1]
        if not segments or len(segments) > 2:
            raise GatewayError(404, errors.NOT_FOUND, f"Resource not found for segment '{path}'")
        m = _SEGMENT.match(segments[0])
        if not m:
            raise GatewayError(404, errors.NOT_FOUND, f"Resource not found for segment '{segments[0]}'")
        name, predicate = m.group(1), m.group(2)
        fn = self.schema.function(name)
        if fn is not None and predicate is None and len(segments) == 1 and not count:
            return _Target(self.schema.entity_set(fn.entity_set), function=fn)  # type: ignore[arg-type]
        eset = self.schema.entity_set(name)
        if eset is None:
            raise GatewayError(404, errors.NOT_FOUND, f"Resource not found for segment '{name}'")
        key = self._key(eset.type, predicate) if predicate is not None else None
        if len(segments) == 1:
            if count and key is not None:
                raise GatewayError(400, errors.BAD_REQUEST, "$count is only allowed on collections")
            return _Target(eset, key=key, count=count)
        if key is None:
            raise GatewayError(400, errors.BAD_REQUEST, f"Navigation from '{name}' needs a key predicate")
        nav = eset.type.nav(segments[1])
        if nav is None:
            raise GatewayError(404, errors.NOT_FOUND, f"Resource not found for segment '{segments[1]}'")
        source = self._get_row(ctx, eset, key)
        target_set = self.schema.entity_set(nav.target)
        assert target_set is not None
        if count and not nav.many:
            raise GatewayError(400, errors.BAD_REQUEST, "$count is only allowed on collections")
        return _Target(target_set, nav_from=(eset, source, nav), count=count)

    def _key(self, et: EntityType, predicate: str) -> dict[str, Any]:
        try:
            tokens = parse_key_predicate(predicate, et.key)
        except UriSyntaxError as exc:
            raise GatewayError(400, errors.BAD_REQUEST, str(exc)) from None
        if set(tokens) != set(et.key):
            missing = [k for k in et.key if k not in tokens]
            extra = [k for k in tokens if k not in et.key]
            what = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(extra)}"
            raise GatewayError(
                400,
                errors.BAD_REQUEST,
                f"Invalid key predicate for {et.name}: all {len(et.key)} key properties are required "
                f"({what})",
            )
        values: dict[str, Any] = {}
        for name, tok in tokens.items():
            prop = et.prop(name)
            assert prop is not None
            if tok.literal_kind not in COMPATIBLE.get(prop.type, set()):
                raise GatewayError(400, errors.BAD_REQUEST, f"Invalid literal for key property {name}")
            values[name] = tok.value
        return values

    def _table_rows(self, ctx: Context, eset: EntitySet) -> dict[tuple[Any, ...], Row]:
        return ctx.state.table(self.service.table_name(eset)).rows

    def _get_row(self, ctx: Context, eset: EntitySet, key: dict[str, Any]) -> Row:
        table = ctx.state.table(self.service.table_name(eset))
        wanted = tuple(key[k] for k in eset.type.key)
        row = table.get(wanted)
        if row is None and any(p.numc for p in eset.type.props if p.name in key):
            # '0' / '' / '000000' name the same NUMC key [U].
            norm = tuple(
                edm.numc_norm(key[k]) if (p := eset.type.prop(k)) is not None and p.numc else key[k]
                for k in eset.type.key
            )
            for candidate in table.rows.values():
                if self._numc_key(eset.type, candidate) == norm:
                    row = candidate
                    break
        if row is None:
            raise GatewayError(404, errors.NOT_FOUND, f"Resource not found for segment '{eset.type.name}'")
        return row

    @staticmethod
    def _numc_key(et: EntityType, row: Row) -> tuple[Any, ...]:
        return tuple(
            edm.numc_norm(row[k]) if (p := et.prop(k)) is not None and p.numc else row[k] for k in et.key
        )

    # -- reads -----------------------------------------------------------------------------------------

    def _read(self, req: ODataRequest, ctx: Context, target: _Target) -> ODataResponse:
        try:
            opts = parse_options(req.params)
            check_options(opts, target.eset.type, self._type_of)
        except UriSyntaxError as exc:
            raise GatewayError(400, errors.BAD_REQUEST, str(exc)) from None
        if not target.count:
            require_json(req, ctx)
        if target.key is not None:
            row = self._get_row(ctx, target.eset, target.key)
            return self._single(req, ctx, target.eset, row, opts)
        if target.nav_from is not None and not target.nav_from[2].many:
            source_set, source, nav = target.nav_from
            rows = self._navigate(ctx, source_set, source, nav)
            if not rows:
                return ODataResponse.json(200, {"d": None})
            return self._single(req, ctx, target.eset, rows[0], opts)
        rows = self._collection(ctx, target, opts)
        if target.count:
            return ODataResponse(200, {"content-type": "text/plain; charset=utf-8"}, str(len(rows)).encode())
        return self._page(req, ctx, target, rows, opts)

    def _single(
        self, req: ODataRequest, ctx: Context, eset: EntitySet, row: Row, opts: QueryOptions
    ) -> ODataResponse:
        body = {"d": self.render(req, ctx, eset, row, opts.expand, list(opts.select))}
        headers = {}
        etag = etag_of(eset.type, row)
        if etag:
            headers["etag"] = etag
        return ODataResponse.json(200, body, headers)

    def _collection(self, ctx: Context, target: _Target, opts: QueryOptions) -> list[Row]:
        eset = target.eset
        if target.nav_from is not None:
            source_set, source, nav = target.nav_from
            rows = self._navigate(ctx, source_set, source, nav)
            return self._filter_sort(rows, eset.type, opts)
        table = ctx.state.table(self.service.table_name(eset))
        cache_key = (eset.name, opts.filter, opts.orderby, table.version)
        cached = self._results.get(cache_key)
        if cached is None:
            cached = self._filter_sort(list(table.rows.values()), eset.type, opts, presorted=False)
            self._results[cache_key] = cached
            while len(self._results) > 24:
                self._results.popitem(last=False)
        else:
            self._results.move_to_end(cache_key)
        return cached

    def _filter_sort(
        self, rows: list[Row], et: EntityType, opts: QueryOptions, *, presorted: bool = False
    ) -> list[Row]:
        if opts.filter:
            try:
                predicate = compile_filter(opts.filter, et)
            except UriSyntaxError as exc:
                raise GatewayError(400, errors.BAD_REQUEST, str(exc)) from None
            rows = [r for r in rows if predicate(r)]
        if not presorted:
            rows.sort(key=itemgetter(*et.key) if len(et.key) > 1 else _by_field(et.key[0]))
        for name, descending in reversed(opts.orderby):
            rows.sort(key=_nulls_first(name), reverse=descending)
        return rows

    def _page(
        self, req: ODataRequest, ctx: Context, target: _Target, rows: list[Row], opts: QueryOptions
    ) -> ODataResponse:
        config = ctx.config
        scope = page_scope(req.path, req.params)
        if opts.skiptoken:
            try:
                position, remaining = self.tokens.read(scope, opts.skiptoken)
            except UriSyntaxError as exc:
                raise GatewayError(400, errors.BAD_REQUEST, str(exc)) from None
        else:
            position, remaining = opts.skip, opts.top
        paged = target.nav_from is None
        if remaining is None:
            size = config.default_page if paged and config.default_page else len(rows)
        else:
            size = min(remaining, config.page_cap) if paged else remaining
        page = rows[position : position + size]
        body: dict[str, Any] = {}
        if opts.inlinecount:
            body["__count"] = str(len(rows))
        body["results"] = [
            self.render(req, ctx, target.eset, r, opts.expand, list(opts.select)) for r in page
        ]
        end = position + len(page)
        if paged and end < len(rows) and (remaining is None or remaining > size):
            token = self.tokens.issue(scope, end, None if remaining is None else remaining - size)
            body["__next"] = self._next_url(req, token)
        return ODataResponse.json(200, {"d": body})

    @staticmethod
    def _next_url(req: ODataRequest, token: str) -> str:
        kept = [(k, v) for k, v in req.query if k not in ("$skip", "$top", "$skiptoken")]
        kept.append(("$skiptoken", token))
        query = urlencode(kept, quote_via=quote, safe="$,'()")
        return f"{req.service_root}/{req.path.strip('/')}?{query}"

    def _type_of(self, set_name: str) -> EntityType | None:
        eset = self.schema.entity_set(set_name)
        return eset.type if eset else None

    def _navigate(self, ctx: Context, source_set: EntitySet, row: Row, nav: Nav) -> list[Row]:
        target = self.schema.entity_set(nav.target)
        assert target is not None
        table = ctx.state.table(self.service.table_name(target))
        fields = tuple(t for _, t in nav.join)
        index_key = (table.name, fields)
        built = self._indexes.get(index_key)
        if built is None or built[0] != table.version:
            index: dict[tuple[Any, ...], list[Row]] = {}
            for r in sorted(table.rows.values(), key=lambda r: tuple(r[k] for k in target.type.key)):
                index.setdefault(tuple(r[f] for f in fields), []).append(r)
            built = self._indexes[index_key] = (table.version, index)
        return list(built[1].get(tuple(row[s] for s, _ in nav.join), []))

    # -- rendering -------------------------------------------------------------------------------------

    def render(
        self, req: ODataRequest, ctx: Context, eset: EntitySet, row: Row, expand: Expand, select: list[str]
    ) -> dict[str, Any]:
        et = eset.type
        uri = f"{req.service_root}/{eset.name}{key_text(et, row)}"
        meta: dict[str, Any] = {"id": uri, "uri": uri, "type": f"{self.schema.namespace}.{et.name}"}
        etag = etag_of(et, row)
        if etag:
            meta["etag"] = etag
        out: dict[str, Any] = {"__metadata": meta}
        own, children = _split_select(select)
        for name, plain, prop, places in self._plan(ctx, et):
            if own is None or name in own:
                value = row.get(name)
                out[name] = (
                    value if plain or value is None else edm.to_json(prop, value, decimal_places=places)
                )
        for nav in et.navs:
            if nav.name in expand.children:
                target = self.schema.entity_set(nav.target)
                assert target is not None
                related = self._navigate(ctx, eset, row, nav)
                sub = expand.children[nav.name]
                sub_select = children.get(nav.name, [])
                rendered = [self.render(req, ctx, target, r, sub, sub_select) for r in related]
                if nav.many:
                    out[nav.name] = {"results": rendered}
                else:
                    out[nav.name] = rendered[0] if rendered else None
            elif own is None or nav.name in own:
                out[nav.name] = {"__deferred": {"uri": f"{uri}/{nav.name}"}}
        return out

    def _plan(self, ctx: Context, et: EntityType) -> list[tuple[str, bool, Prop, int | None]]:
        """Per type: (name, renders as is, prop, decimal places), computed once per engine."""
        plan = self._render_plans.get(et.name)
        if plan is None:
            plain_types = ("Edm.String", "Edm.Boolean", "Edm.Guid", "Edm.Int16", "Edm.Int32", "Edm.Byte")
            plan = [(p.name, p.type in plain_types, p, self._places(ctx, p)) for p in et.props]
            self._render_plans[et.name] = plan
        return plan

    @staticmethod
    def _places(ctx: Context, prop: Prop) -> int | None:
        if prop.type != "Edm.Decimal":
            return None
        if prop.name == "MatlWrhsStkQtyInMatlBaseUnit":
            return ctx.config.stock_quantity_places
        return prop.scale if prop.scale is not None and prop.scale <= 6 else None

    # -- writes ----------------------------------------------------------------------------------------

    def _payload(self, req: ODataRequest) -> dict[str, Any]:
        ctype = req.headers.get("content-type", "")
        if "json" not in ctype:
            raise GatewayError(
                415, errors.INVALID_PAYLOAD, "Send the request body as JSON (Content-Type: application/json)"
            )
        try:
            data = json.loads(req.body or b"null")
        except ValueError:
            raise GatewayError(400, errors.INVALID_PAYLOAD, "The request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise GatewayError(400, errors.INVALID_PAYLOAD, "The request body must be a JSON object")
        return data

    def _convert(
        self, ctx: Context, et: EntityType, data: dict[str, Any], *, for_create: bool, allow_navs: bool
    ) -> tuple[dict[str, Any], dict[str, list[Row]]]:
        values: dict[str, Any] = {}
        navs: dict[str, list[Row]] = {}
        for name, raw in data.items():
            if name == "__metadata":
                continue
            nav = et.nav(name)
            if nav is not None:
                if not allow_navs:
                    raise GatewayError(
                        400, errors.INVALID_PAYLOAD, f"Deep insert of '{name}' is not supported here"
                    )
                items = raw.get("results") if isinstance(raw, dict) and "results" in raw else raw
                if isinstance(items, dict) and not nav.many:
                    items = [items]
                if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                    raise GatewayError(
                        400,
                        errors.INVALID_PAYLOAD,
                        f"'{name}' must be an array of objects or {{\"results\": [...]}}",
                    )
                target = self._type_of(nav.target)
                assert target is not None
                navs[name] = [
                    self._convert(ctx, target, i, for_create=True, allow_navs=False)[0] for i in items
                ]
                continue
            prop = et.prop(name)
            if prop is None:
                raise GatewayError(
                    400,
                    errors.INVALID_PAYLOAD,
                    f"Property '{name}' is invalid: it does not exist in {et.name}",
                )
            try:
                value = edm.from_json(prop, raw, accept_decimal_numbers=ctx.config.accept_decimal_numbers)
            except EdmValueError as exc:
                raise GatewayError(400, errors.INVALID_PAYLOAD, str(exc), target=name) from None
            if (for_create and prop.creatable) or (not for_create and prop.updatable):
                values[name] = value
            elif not for_create and name in et.key:
                continue
            # Read-only properties in a payload are ignored, as Gateway does for computed fields.
        return values, navs

    def _create(self, req: ODataRequest, ctx: Context, target: _Target) -> ODataResponse:
        require_json(req, ctx)
        if target.key is not None or target.nav_from is not None or target.count:
            raise GatewayError(405, errors.NOT_ALLOWED, "POST creates entities on an entity set URL only")
        eset = target.eset
        if not eset.creatable:
            raise GatewayError(
                405, errors.NOT_ALLOWED, f'Entity set {eset.name} is not creatable (sap:creatable="false")'
            )
        values, navs = self._convert(ctx, eset.type, self._payload(req), for_create=True, allow_navs=True)
        with ctx.state.transaction():
            row = self.service.create(ctx, eset, values, navs)
        expand = Expand({name: Expand() for name in navs})
        body = self.render(req, ctx, eset, row, expand, [])
        if ctx.config.empty_items_in_create_response:
            for name in navs:
                body[name] = {"results": []}
        uri = body["__metadata"]["uri"]
        headers = {"location": uri}
        etag = etag_of(eset.type, row)
        if etag:
            headers["etag"] = etag
        return ODataResponse.json(201, {"d": body}, headers)

    def _check_etag(self, req: ODataRequest, eset: EntitySet, row: Row) -> None:
        current = etag_of(eset.type, row)
        if eset.type.etag_prop is None:
            return
        sent = req.headers.get("if-match")
        if not sent:
            raise GatewayError(
                428,
                errors.PRECONDITION_REQUIRED,
                f"Precondition required: send If-Match with the ETag of {eset.name} (read it first)",
            )
        if sent != current and f"W/{sent}" != current:
            raise GatewayError(
                412,
                errors.PRECONDITION_FAILED,
                f"Precondition failed: {eset.name} was changed by someone else; read it again and retry",
            )

    def _update(self, req: ODataRequest, ctx: Context, target: _Target, method: str) -> ODataResponse:
        if target.key is None:
            raise GatewayError(405, errors.NOT_ALLOWED, f"{method} needs an entity URL with a key predicate")
        eset = target.eset
        if not eset.updatable:
            raise GatewayError(
                405, errors.NOT_ALLOWED, f'Entity set {eset.name} is not updatable (sap:updatable="false")'
            )
        row = self._get_row(ctx, eset, target.key)
        self._check_etag(req, eset, row)
        values, _ = self._convert(ctx, eset.type, self._payload(req), for_create=False, allow_navs=False)
        if method == "PUT":
            defaults = self.service.defaults(ctx, eset)
            values = {
                p.name: values.get(p.name, defaults[p.name])
                for p in eset.type.props
                if p.updatable and p.name not in eset.type.key
            }
        with ctx.state.transaction():
            updated = self.service.update(ctx, eset, row, values)
        headers = {"dataserviceversion": "1.0"}
        etag = etag_of(eset.type, updated)
        if etag:
            headers["etag"] = etag
        return ODataResponse(204, headers)

    def _delete(self, req: ODataRequest, ctx: Context, target: _Target) -> ODataResponse:
        if target.key is None:
            raise GatewayError(405, errors.NOT_ALLOWED, "DELETE needs an entity URL with a key predicate")
        eset = target.eset
        if not eset.deletable:
            raise GatewayError(
                405, errors.NOT_ALLOWED, f'Entity set {eset.name} is not deletable (sap:deletable="false")'
            )
        row = self._get_row(ctx, eset, target.key)
        self._check_etag(req, eset, row)
        with ctx.state.transaction():
            self.service.delete(ctx, eset, row)
        return ODataResponse(204, {"dataserviceversion": "1.0"})

    # -- function imports ------------------------------------------------------------------------------

    def _call(self, req: ODataRequest, ctx: Context, fn: FunctionImport) -> ODataResponse:
        require_json(req, ctx)
        if req.method != fn.http_method:
            raise GatewayError(
                405, errors.NOT_ALLOWED, f"Function import {fn.name} must be called with {fn.http_method}"
            )
        if req.body.strip():
            raise GatewayError(
                400,
                errors.BAD_REQUEST,
                f"Function import {fn.name} takes its parameters in the URL, not in the request body",
            )
        params = req.params
        declared = {p.name for p in fn.params}
        for name in params:
            if not name.startswith("$") and name not in declared and name not in _PASS_PARAMS:
                raise GatewayError(
                    400, errors.BAD_REQUEST, f"Parameter '{name}' is not defined for {fn.name}"
                )
        values: dict[str, Any] = {}
        for prop in fn.params:
            text = params.get(prop.name)
            if text is None:
                if not prop.nullable:
                    raise GatewayError(
                        400, errors.BAD_REQUEST, f"Mandatory parameter '{prop.name}' is missing"
                    )
                continue
            try:
                tokens = tokenize(text)
            except UriSyntaxError as exc:
                raise GatewayError(400, errors.BAD_REQUEST, f"Parameter {prop.name}: {exc}") from None
            if len(tokens) != 1 or tokens[0].literal_kind not in COMPATIBLE.get(prop.type, set()):
                raise GatewayError(
                    400,
                    errors.BAD_REQUEST,
                    f"Parameter {prop.name} must be a {prop.type} literal, "
                    "e.g. '4900000001' or datetime'2024-05-01T00:00:00'",
                )
            values[prop.name] = tokens[0].value
        with ctx.state.transaction():
            row = self.service.call(ctx, fn, values)
        eset = self.schema.entity_set(fn.entity_set)
        assert eset is not None
        return ODataResponse.json(200, {"d": self.render(req, ctx, eset, row, Expand(), [])})


def _split_select(select: list[str]) -> tuple[set[str] | None, dict[str, list[str]]]:
    if not select:
        return None, {}
    own: set[str] = set()
    children: dict[str, list[str]] = {}
    for path in select:
        head, _, rest = path.partition("/")
        own.add(head)
        if rest:
            children.setdefault(head, []).append(rest)
    if "*" in own:
        return None, children
    return own, children


def wants_json(req: ODataRequest) -> bool:
    fmt = req.params.get("$format")
    if fmt is not None:
        return fmt == "json"
    return "json" in req.headers.get("accept", "")


def require_json(req: ODataRequest, ctx: Context) -> None:
    if ctx.config.require_json and not wants_json(req):
        raise GatewayError(
            406,
            errors.NOT_ACCEPTABLE,
            "This sandbox serves JSON only: send Accept: application/json or $format=json "
            "(SAP would answer Atom XML here)",
        )


def _by_field(name: str) -> Callable[[Row], tuple[Any]]:
    return lambda r: (r[name],)


def _nulls_first(name: str) -> Callable[[Row], tuple[bool, Any]]:
    """NULLs before values when ascending (None does not compare with values)."""
    return lambda r: (r[name] is not None, r[name])
