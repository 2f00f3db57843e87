"""System query options ($select, $expand, $orderby, $top, $skip, $skiptoken, ...) and paging tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atlas_desktop.sandbox.sap.odata.literals import UriSyntaxError
from atlas_desktop.sandbox.sap.schema import EntityType

_KNOWN = {
    "$filter",
    "$select",
    "$expand",
    "$orderby",
    "$top",
    "$skip",
    "$skiptoken",
    "$inlinecount",
    "$format",
}


@dataclass(slots=True)
class Expand:
    """A tree of navigation properties to expand: {"to_Item": Expand({...})}."""

    children: dict[str, Expand] = field(default_factory=dict)


@dataclass(slots=True)
class QueryOptions:
    filter: str | None = None
    select: tuple[str, ...] = ()
    expand: Expand = field(default_factory=Expand)
    orderby: tuple[tuple[str, bool], ...] = ()  # (property, descending)
    top: int | None = None
    skip: int = 0
    skiptoken: str | None = None
    inlinecount: bool = False
    format: str | None = None


def parse_options(params: Mapping[str, str]) -> QueryOptions:
    """Raises UriSyntaxError for malformed values or unknown $-options."""
    for name in params:
        if name.startswith("$") and name not in _KNOWN:
            raise UriSyntaxError(f"System query option '{name}' is not supported")
    opts = QueryOptions()
    opts.filter = params.get("$filter") or None
    if "$select" in params:
        opts.select = tuple(p.strip() for p in params["$select"].split(",") if p.strip())
    if "$expand" in params:
        for path in params["$expand"].split(","):
            node = opts.expand
            for part in path.strip().split("/"):
                if not part:
                    raise UriSyntaxError(f"Invalid $expand '{params['$expand']}'")
                node = node.children.setdefault(part, Expand())
    if "$orderby" in params:
        items = []
        for clause in params["$orderby"].split(","):
            words = clause.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise UriSyntaxError(f"Invalid $orderby clause '{clause.strip()}'")
            items.append((words[0], len(words) == 2 and words[1] == "desc"))
        opts.orderby = tuple(items)
    opts.top = _count_option(params, "$top")
    opts.skip = _count_option(params, "$skip") or 0
    opts.skiptoken = params.get("$skiptoken") or None
    if "$inlinecount" in params:
        value = params["$inlinecount"]
        if value not in ("allpages", "none"):
            raise UriSyntaxError(f"Invalid $inlinecount '{value}' (use allpages or none)")
        opts.inlinecount = value == "allpages"
    opts.format = params.get("$format")
    return opts


def _count_option(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    text = params[name].strip()
    if not text.isdigit():
        raise UriSyntaxError(f"Invalid value '{text}' for {name}: a non-negative integer is required")
    return int(text)


def check_options(
    opts: QueryOptions, entity: EntityType, resolve: Callable[[str], EntityType | None]
) -> None:
    """Names in $select/$orderby/$expand must exist on the type (resolve gives a nav's target type)."""
    for name, _ in opts.orderby:
        prop = entity.prop(name)
        if prop is None:
            raise UriSyntaxError(f"Property '{name}' not found in type '{entity.name}' ($orderby)")
        if not prop.sortable:
            raise UriSyntaxError(f"Property '{name}' is not sortable")
    _check_expand(opts.expand, entity, resolve)
    for path in opts.select:
        if path == "*":
            continue
        current = entity
        parts = path.split("/")
        for i, part in enumerate(parts):
            if part == "*" and i == len(parts) - 1:
                break
            if current.prop(part) is not None and i == len(parts) - 1:
                break
            nav = current.nav(part)
            target = resolve(nav.target) if nav else None
            if target is None:
                raise UriSyntaxError(f"Property '{part}' not found in type '{current.name}' ($select)")
            current = target


def _check_expand(node: Expand, entity: EntityType, resolve: Callable[[str], EntityType | None]) -> None:
    for name, child in node.children.items():
        nav = entity.nav(name)
        target = resolve(nav.target) if nav else None
        if target is None:
            raise UriSyntaxError(f"Navigation property '{name}' not found in type '{entity.name}' ($expand)")
        _check_expand(child, target, resolve)


class SkipTokens:
    """Opaque $skiptoken values: position and remaining $top, signed so a client cannot forge or edit one."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, scope: str, position: int, remaining: int | None) -> str:
        body = json.dumps([position, remaining], separators=(",", ":")).encode()
        mac = hmac.new(self._secret, scope.encode() + b"|" + body, hashlib.sha256).digest()[:9]
        return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")

    def read(self, scope: str, token: str) -> tuple[int, int | None]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            body, mac = raw[:-9], raw[-9:]
            expected = hmac.new(self._secret, scope.encode() + b"|" + body, hashlib.sha256).digest()[:9]
            if not hmac.compare_digest(mac, expected):
                raise ValueError("signature")
            position, remaining = json.loads(body)
            if not isinstance(position, int) or not (remaining is None or isinstance(remaining, int)):
                raise ValueError("shape")
        except (ValueError, TypeError):
            raise UriSyntaxError(
                "Invalid $skiptoken: use the __next link of the previous page unchanged"
            ) from None
        return position, remaining


def page_scope(path: str, params: Mapping[str, Any]) -> str:
    """What a skiptoken is bound to: the resource and the options that shape the result list."""
    keep = ("$filter", "$orderby", "$select", "$expand")
    return path + "?" + "&".join(f"{k}={params[k]}" for k in keep if k in params)
