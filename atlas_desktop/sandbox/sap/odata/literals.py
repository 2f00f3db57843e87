"""OData v2 URI literals ('text', 12, 12.5M, datetime'…', datetimeoffset'…', guid'…') and a lexer."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.sap.odata.edm import EdmValueError, parse_duration, parse_iso


class UriSyntaxError(ValueError):
    """The URI ($filter, key predicate, parameter) cannot be parsed; the message says where."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # literal | name | op | punct
    text: str
    pos: int
    value: Any = None
    literal_kind: str = ""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<typed>(?:datetimeoffset|datetime|guid|time|X|binary)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[MmLlDdFf]?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[(),=])
    """,
    re.VERBOSE,
)

KEYWORDS = {"and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise UriSyntaxError(f"Invalid token at position {pos + 1}: '{text[pos : pos + 15]}'")
        kind = m.lastgroup
        raw = m.group(0)
        if kind == "typed":
            prefix, _, rest = raw.partition("'")
            tokens.append(_typed(prefix, rest[:-1].replace("''", "'"), pos))
        elif kind == "string":
            tokens.append(Token("literal", raw, pos, raw[1:-1].replace("''", "'"), "string"))
        elif kind == "number":
            tokens.append(_number(raw, pos))
        elif kind == "name":
            if raw in ("true", "false"):
                tokens.append(Token("literal", raw, pos, raw == "true", "bool"))
            elif raw == "null":
                tokens.append(Token("literal", raw, pos, None, "null"))
            elif raw in KEYWORDS:
                tokens.append(Token("op", raw, pos))
            else:
                tokens.append(Token("name", raw, pos))
        elif kind == "punct":
            tokens.append(Token("punct", raw, pos))
        pos = m.end()
    return tokens


def _typed(prefix: str, body: str, pos: int) -> Token:
    try:
        if prefix == "datetime":
            if body[-1:] == "Z" or re.search(r"[+-]\d{2}:\d{2}$", body):
                raise UriSyntaxError(f"datetime'{body}' must not carry a time zone (use datetimeoffset'…')")
            return Token("literal", body, pos, parse_iso(body), "datetime")
        if prefix == "datetimeoffset":
            return Token("literal", body, pos, parse_iso(body, assume_utc=False), "datetimeoffset")
        if prefix == "guid":
            return Token("literal", body, pos, str(uuid.UUID(body)), "guid")
        if prefix == "time":
            return Token("literal", body, pos, parse_duration(body), "time")
    except (EdmValueError, ValueError) as exc:
        if isinstance(exc, UriSyntaxError):
            raise
        raise UriSyntaxError(f"Invalid {prefix} literal '{body}': {exc}") from None
    raise UriSyntaxError(f"Literal type {prefix}'…' is not supported")


def _number(raw: str, pos: int) -> Token:
    suffix = raw[-1] if raw[-1].isalpha() else ""
    body = raw[:-1] if suffix else raw
    if suffix in ("M", "m"):
        return Token("literal", raw, pos, Decimal(body), "decimal")
    if suffix in ("L", "l"):
        return Token("literal", raw, pos, Decimal(int(body)), "int64")
    if suffix or "." in body or "e" in body.lower():
        return Token("literal", raw, pos, Decimal(body), "double")
    return Token("literal", raw, pos, Decimal(int(body)), "int")


NUMERIC_KINDS = {"int", "int64", "decimal", "double"}
# Which literal kinds a property of each Edm type can be compared with.
COMPATIBLE: dict[str, set[str]] = {
    "Edm.String": {"string"},
    "Edm.Guid": {"guid"},
    "Edm.Boolean": {"bool"},
    "Edm.Decimal": NUMERIC_KINDS,
    "Edm.Double": NUMERIC_KINDS,
    "Edm.Int16": {"int", "int64"},
    "Edm.Int32": {"int", "int64"},
    "Edm.Int64": {"int", "int64"},
    "Edm.Byte": {"int"},
    "Edm.DateTime": {"datetime"},
    "Edm.DateTimeOffset": {"datetimeoffset"},
    "Edm.Time": {"time"},
}


def parse_key_predicate(text: str, key_names: tuple[str, ...]) -> dict[str, Any]:
    """`'X'` (single key) or `A='X',B='Y'` -> {name: literal value}. Raises UriSyntaxError."""
    tokens = tokenize(text)
    if len(tokens) == 1 and tokens[0].kind == "literal":
        if len(key_names) != 1:
            raise UriSyntaxError(
                f"Key predicate '({text})' names 1 value but the entity has {len(key_names)} key properties "
                f"({', '.join(key_names)})"
            )
        return {key_names[0]: tokens[0]}
    values: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        if (
            i + 2 >= len(tokens)
            or tokens[i].kind != "name"
            or tokens[i + 1].text != "="
            or tokens[i + 2].kind != "literal"
        ):
            raise UriSyntaxError(f"Invalid key predicate '({text})'")
        values[tokens[i].text] = tokens[i + 2]
        i += 3
        if i < len(tokens):
            if tokens[i].text != ",":
                raise UriSyntaxError(f"Invalid key predicate '({text})'")
            i += 1
    return values
