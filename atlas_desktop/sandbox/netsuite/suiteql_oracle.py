"""Oracle-only SuiteQL lowered to what SQLite can run: comma joins with `(+)` outer joins, and ROWNUM.

Oracle recommends its own join syntax (comma joins, `(+)` for outer joins) over ANSI joins,
and ROWNUM is in real use. Refusals carry Oracle's ORA- code for the same mistake inside NetSuite's 400
"Invalid search query" body (Oracle's rules; the words NetSuite puts around them are not verified).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.netsuite.errors import invalid_search

Node = tuple[Any, ...]
Table = tuple[str, str]  # (table, alias)


def walk(node: Any) -> Iterator[Node]:
    """Every AST node inside `node` (itself included); nodes are tuples that start with their tag."""
    if isinstance(node, tuple) and node and isinstance(node[0], str):
        yield node
        for part in node[1:]:
            yield from walk(part)
    elif isinstance(node, list | tuple):
        for part in node:
            yield from walk(part)


def conjuncts(node: Node | None) -> list[Node]:
    """The AND-ed parts of a WHERE clause (parentheses around a part dropped)."""
    if node is None:
        return []
    if node[0] == "paren":
        inner = conjuncts(node[1])
        return inner if len(inner) > 1 else [node]
    if node[0] == "bin" and node[1] == "AND":
        return conjuncts(node[2]) + conjuncts(node[3])
    return [node]


# ---- ROWNUM -------------------------------------------------------------------------------------------
_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "<>": "<>"}


def rownum_limit(parts: list[Node]) -> tuple[int | None, list[Node]]:
    """(how many rows ROWNUM lets through, or None; the other conditions).

    Oracle numbers a row only when it passes, so `ROWNUM > 1` and `ROWNUM = 2` let nothing through.
    """
    limit: int | None = None
    rest: list[Node] = []
    for part in parts:
        if not any(n[0] == "rownum" for n in walk(part)):
            rest.append(part)
            continue
        bound = _rownum_bound(part)
        if bound is not None:
            limit = bound if limit is None else min(limit, bound)
    return limit, rest


def _rownum_bound(part: Node) -> int | None:
    refused = invalid_search(
        "Invalid or unsupported search: ROWNUM is supported in WHERE only as ROWNUM <= n, < n or = n "
        "combined with AND."
    )
    if part[0] == "paren":
        return _rownum_bound(part[1])
    if part[0] != "cmp":
        raise refused
    op, left, right = part[1], part[2], part[3]
    if right == ("rownum",):
        op, left, right = _FLIP[op], right, left
    if left != ("rownum",) or right[0] != "lit" or not isinstance(right[1], Decimal):
        raise refused
    n = right[1]
    if op == "<=":
        return max(int(n // 1), 0)
    if op == "<":
        return max(int(-(-n // 1)) - 1, 0)
    if op == "=":
        return 1 if n == 1 else 0
    if op == "<>":
        return max(int(-(-n // 1)) - 1, 0) if n >= 1 else None
    if op == ">":
        return None if n < 1 else 0
    return None if n <= 1 else 0  # >=


# ---- (+) outer joins ----------------------------------------------------------------------------------
@dataclass
class JoinPlan:
    inner: list[Table] = field(default_factory=list)  # FROM order, joined by commas
    outer: list[tuple[Table, list[Node]]] = field(default_factory=list)  # LEFT JOIN table ON conditions
    where: list[Node] = field(default_factory=list)


def plan_joins(
    tables: list[Table], ansi_joins: bool, parts: list[Node], alias_of: Callable[[Node], str]
) -> JoinPlan:
    """Move each condition that marks a table with `(+)` into that table's LEFT JOIN ... ON."""
    plan = JoinPlan()
    conditions: dict[str, list[Node]] = {}
    for part in parts:
        markers = [n for n in walk(part) if n[0] == "outer"]
        if not markers:
            plan.where.append(part)
            continue
        if ansi_joins:
            raise invalid_search("ORA-25156: old style outer join (+) cannot be used with ANSI joins")
        if any(n[0] == "in" or (n[0] == "bin" and n[1] == "OR") for n in walk(part)):
            raise invalid_search("ORA-01719: outer join operator (+) not allowed in operand of OR or IN")
        outer = {alias_of(marker[1]) for marker in markers}
        if len(outer) > 1:
            raise invalid_search("ORA-01468: a predicate may reference only one outer-joined table")
        conditions.setdefault(outer.pop(), []).append(part)
    plan.inner = [t for t in tables if t[1] not in conditions]
    waiting = [t for t in tables if t[1] in conditions]
    placed = {alias for _, alias in plan.inner}
    while waiting:
        for table in waiting:
            needs = {alias_of(n) for c in conditions[table[1]] for n in walk(c) if n[0] == "col"} - {table[1]}
            if needs <= placed and (placed or not needs):
                break
        else:
            raise invalid_search("ORA-01416: two tables cannot be outer-joined to each other")
        waiting.remove(table)
        placed.add(table[1])
        if not plan.inner:  # nothing to join to: Oracle ignores the marker
            plan.inner.append(table)
            plan.where.extend(conditions[table[1]])
        else:
            plan.outer.append((table, conditions[table[1]]))
    return plan
