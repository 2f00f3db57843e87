"""$filter: parse the OData v2 expression grammar and compile it to a row predicate, type-checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.sap.odata.edm import numc_norm
from atlas_desktop.sandbox.sap.odata.literals import (
    COMPATIBLE,
    NUMERIC_KINDS,
    Token,
    UriSyntaxError,
    tokenize,
)
from atlas_desktop.sandbox.sap.schema import EntityType, Prop

Row = dict[str, Any]
Getter = Callable[[Row], Any]


@dataclass(frozen=True, slots=True)
class Operand:
    get: Getter
    kind: str  # an Edm type for properties/functions, a literal kind for literals, "bool" for predicates
    prop: Prop | None = None
    is_literal: bool = False
    # `prop eq literal`, or an `or` of such on one property: (property name, its getter, the values).
    one_of: tuple[str, Getter, frozenset[Any]] | None = None


_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_NUMERIC_EDM = {"Edm.Decimal", "Edm.Double", "Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte"}


def compile_filter(text: str, entity: EntityType) -> Callable[[Row], bool]:
    """Compile `text` for rows of `entity`. Raises UriSyntaxError with a message SAP-like enough to act on."""
    parser = _Parser(tokenize(text), entity, text)
    result = parser.expression()
    if parser.pos != len(parser.tokens):
        tok = parser.tokens[parser.pos]
        raise UriSyntaxError(f"Invalid filter expression: unexpected '{tok.text}' at position {tok.pos + 1}")
    if result.kind not in ("bool", "Edm.Boolean"):
        raise UriSyntaxError("Invalid filter expression: the expression is not a condition")
    get = result.get
    return lambda row: get(row) is True


class _Parser:
    def __init__(self, tokens: list[Token], entity: EntityType, text: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.entity = entity
        self.text = text

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise UriSyntaxError("Invalid filter expression: it ends too early")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        if self.peek() is None:
            raise UriSyntaxError(f"Invalid filter expression: expected '{text}' at the end")
        tok = self.take()
        if tok.text != text:
            raise UriSyntaxError(f"Invalid filter expression: expected '{text}' at position {tok.pos + 1}")

    def expression(self) -> Operand:
        left = self.and_expr()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "or":
            self.take()
            right = self.and_expr()
            left = _logical("or", left, right)
        return left

    def and_expr(self) -> Operand:
        left = self.not_expr()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "and":
            self.take()
            right = self.not_expr()
            left = _logical("and", left, right)
        return left

    def not_expr(self) -> Operand:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "not":
            self.take()
            inner = self.not_expr()
            _require_bool(inner, "not")
            get = inner.get
            return Operand(lambda row: not get(row), "bool")
        return self.comparison()

    def comparison(self) -> Operand:
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text in _COMPARE:
            self.take()
            right = self.operand()
            return _compare(tok.text, left, right)
        return left

    def operand(self) -> Operand:
        tok = self.take()
        if tok.kind == "punct" and tok.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if tok.kind == "literal":
            value = tok.value
            return Operand(lambda row: value, tok.literal_kind, is_literal=True)
        if tok.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.text == "(":
                return self.function(tok)
            prop = self.entity.prop(tok.text)
            if prop is None:
                raise UriSyntaxError(f"Property '{tok.text}' not found in type '{self.entity.name}'")
            if not prop.filterable:
                raise UriSyntaxError(f"Property '{tok.text}' is not filterable")
            name = prop.name
            if prop.numc:
                return Operand(lambda row: numc_norm(row.get(name)), prop.type, prop)
            return Operand(lambda row: row.get(name), prop.type, prop)
        raise UriSyntaxError(f"Invalid filter expression: unexpected '{tok.text}' at position {tok.pos + 1}")

    def function(self, name_tok: Token) -> Operand:
        self.expect("(")
        args: list[Operand] = []
        if (tok := self.peek()) is not None and tok.text == ")":
            self.take()
        else:
            while True:
                args.append(self.expression())
                tok = self.take()
                if tok.text == ")":
                    break
                if tok.text != ",":
                    raise UriSyntaxError(
                        f"Invalid filter expression: expected ',' or ')' at position {tok.pos + 1}"
                    )
        return _function(name_tok.text, args)


def _is_string(op: Operand) -> bool:
    return op.kind in ("Edm.String", "string")


def _require_bool(op: Operand, where: str) -> None:
    if op.kind not in ("bool", "Edm.Boolean"):
        raise UriSyntaxError(f"Invalid filter expression: '{where}' needs a condition")


def _logical(op: str, left: Operand, right: Operand) -> Operand:
    _require_bool(left, op)
    _require_bool(right, op)
    lg, rg = left.get, right.get
    if op == "and":
        return Operand(lambda row: lg(row) is True and rg(row) is True, "bool")
    if left.one_of and right.one_of and left.one_of[0] == right.one_of[0]:
        # A client's "F eq 'a' or F eq 'b' or ..." over hundreds of values: one set lookup per row, not a
        # chain of hundreds of comparisons (same outcome: == and set membership agree on these values).
        name, getter, values = left.one_of
        values = values | right.one_of[2]
        return Operand(lambda row: getter(row) in values, "bool", one_of=(name, getter, values))
    return Operand(lambda row: lg(row) is True or rg(row) is True, "bool")


def _function(name: str, args: list[Operand]) -> Operand:
    arity = {
        "substringof": 2,
        "startswith": 2,
        "endswith": 2,
        "tolower": 1,
        "toupper": 1,
        "length": 1,
        "trim": 1,
    }
    if name not in arity:
        raise UriSyntaxError(f"Function '{name}' is not supported")
    if len(args) != arity[name]:
        raise UriSyntaxError(f"Function '{name}' takes {arity[name]} argument(s), got {len(args)}")
    for arg in args:
        if not _is_string(arg):
            raise UriSyntaxError(f"Invalid parameter type used at function '{name}': expected a string")
    getters = [a.get for a in args]
    if name == "substringof":
        needle, hay = getters
        return Operand(lambda row: _both(needle(row), hay(row), lambda n, h: n in h), "bool")
    if name == "startswith":
        hay, prefix = getters
        return Operand(lambda row: _both(hay(row), prefix(row), str.startswith), "bool")
    if name == "endswith":
        hay, suffix = getters
        return Operand(lambda row: _both(hay(row), suffix(row), str.endswith), "bool")
    (g,) = getters
    if name == "tolower":
        return Operand(lambda row: None if (v := g(row)) is None else v.lower(), "Edm.String")
    if name == "toupper":
        return Operand(lambda row: None if (v := g(row)) is None else v.upper(), "Edm.String")
    if name == "trim":
        return Operand(lambda row: None if (v := g(row)) is None else v.strip(), "Edm.String")
    return Operand(lambda row: None if (v := g(row)) is None else Decimal(len(v)), "Edm.Int32")


def _both(a: Any, b: Any, fn: Callable[[Any, Any], bool]) -> bool:
    if a is None or b is None:
        return False
    return fn(a, b)


def _category(kind: str) -> str:
    if kind in _NUMERIC_EDM or kind in NUMERIC_KINDS:
        return "number"
    return {
        "string": "Edm.String",
        "bool": "Edm.Boolean",
        "guid": "Edm.Guid",
        "datetime": "Edm.DateTime",
        "datetimeoffset": "Edm.DateTimeOffset",
        "time": "Edm.Time",
    }.get(kind, kind)


def _compare(op: str, left: Operand, right: Operand) -> Operand:
    _check_types(op, left, right)
    lg, rg = _coerced(left), _coerced(right)
    if left.prop is not None and left.prop.numc and right.is_literal:
        value = numc_norm(right.get({}))
        rg = lambda row: value  # noqa: E731
    elif right.prop is not None and right.prop.numc and left.is_literal:
        value = numc_norm(left.get({}))
        lg = lambda row: value  # noqa: E731
    if op == "eq":
        one_of = None
        if left.prop is not None and right.is_literal:
            value = rg({})
            if isinstance(value, str | Decimal) or value is None:
                one_of = (left.prop.name, lg, frozenset((value,)))
        return Operand(lambda row: lg(row) == rg(row), "bool", one_of=one_of)
    if op == "ne":
        return Operand(lambda row: lg(row) != rg(row), "bool")
    cmp = {
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }[op]

    def ordered(row: Row) -> bool:
        a, b = lg(row), rg(row)
        if a is None or b is None:
            return False
        return cmp(a, b)

    return Operand(ordered, "bool")


def _coerced(op: Operand) -> Getter:
    # Numbers compare as Decimal whatever their literal suffix; datetimes are aware UTC on both sides.
    if op.kind in _NUMERIC_EDM:
        g = op.get
        return lambda row: None if (v := g(row)) is None else (v if isinstance(v, Decimal) else Decimal(v))
    return op.get


def _check_types(op: str, left: Operand, right: Operand) -> None:
    if left.kind == "null" or right.kind == "null":
        if op not in ("eq", "ne"):
            raise UriSyntaxError(f"Invalid filter expression: null cannot be used with '{op}'")
        return
    lc, rc = _category(left.kind), _category(right.kind)
    if lc == rc:
        return
    prop_side, lit_side = (left, right) if right.is_literal else (right, left)
    if prop_side.prop is not None and lit_side.is_literal:
        allowed = COMPATIBLE.get(prop_side.prop.type, set())
        if lit_side.kind not in allowed:
            raise UriSyntaxError(
                f"Invalid parametertype used at function '{op}': property '{prop_side.prop.name}' is "
                f"{prop_side.prop.type}, the literal is {lit_side.kind}" + _hint(prop_side.prop.type)
            )
        return
    raise UriSyntaxError(f"Invalid parametertype used at function '{op}' ({left.kind} vs {right.kind})")


def _hint(edm: str) -> str:
    return {
        "Edm.DateTimeOffset": " (write datetimeoffset'2024-01-01T00:00:00Z')",
        "Edm.DateTime": " (write datetime'2024-01-01T00:00:00')",
        "Edm.String": " (quote the value: 'text')",
        "Edm.Decimal": " (write a number, e.g. 12.5M)",
    }.get(edm, "")
