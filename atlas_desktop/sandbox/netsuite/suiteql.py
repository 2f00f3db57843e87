"""A strict SuiteQL subset translated to SQLite over the emulator's NetSuite-named tables.

Follows SuiteQL over REST and its Oracle syntax (comma joins and `(+)`, lowered in
suiteql_oracle.py; ROWNUM, TOP n, CASE, NVL, TO_CHAR, TO_DATE, BUILTIN.DF; at most 1,000 values per IN).
Anything outside the subset (DDL, `;`, subqueries, unknown tables or columns, RIGHT JOIN ...) is refused with
NetSuite's 400 INVALID_PARAMETER "Invalid search query" instead of being guessed at.
Datetimes are shown and read in the token user's time zone (user_time.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from atlas_desktop.sandbox.netsuite import user_time
from atlas_desktop.sandbox.netsuite.errors import NsError, invalid_search
from atlas_desktop.sandbox.netsuite.state import DISPLAY_COLUMN, ENUM_DISPLAY, REFERENCES, SCHEMA
from atlas_desktop.sandbox.netsuite.suiteql_oracle import conjuncts, plan_joins, rownum_limit

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<num>\d+(?:\.\d+)?|\.\d+)
      | (?P<ident>[A-Za-z][A-Za-z0-9_$#]*)
      | (?P<op><>|!=|<=|>=|\|\||[=<>(),.*+\-/])
      | (?P<bad>\S)
    )""",
    re.VERBOSE,
)
_FORBIDDEN = {
    "UNION",
    "INTERSECT",
    "MINUS",
    "EXCEPT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "DROP",
    "CREATE",
    "ALTER",
    "TRUNCATE",
    "GRANT",
    "WITH",
    "FETCH",
    "LIMIT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "USING",
    "EXISTS",
    "CONNECT",
    "PRAGMA",
    "ATTACH",
}
_RESERVED = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "IS",
    "NULL",
    "LIKE",
    "BETWEEN",
    "JOIN",
    "LEFT",
    "INNER",
    "OUTER",
    "ON",
    "AS",
    "ORDER",
    "BY",
    "GROUP",
    "HAVING",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "DISTINCT",
    "ESCAPE",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "ROWNUM",
} | _FORBIDDEN
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG"}
_SCALARS = {
    "NVL": "COALESCE",
    "COALESCE": "COALESCE",
    "UPPER": "UPPER",
    "LOWER": "LOWER",
    "ABS": "ABS",
    "ROUND": "ROUND",
    "LENGTH": "LENGTH",
}
MAX_IN_LIST = 1000  # Oracle's limit on one IN (...) list
_ORACLE_FORMAT = [("HH24", "%H"), ("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("MI", "%M"), ("SS", "%S")]


@dataclass
class Tok:
    kind: str
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Tok]:
    tokens: list[Tok] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            break
        kind = match.lastgroup or "bad"
        value = match.group(kind)
        if kind == "bad":
            raise invalid_search(f"Invalid or unsupported search: unexpected character {value!r}.")
        tokens.append(Tok(kind, value))
        pos = match.end()
    return tokens


# AST: plain tuples, first element names the node.
Node = tuple[Any, ...]


class Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.tokens = tokens
        self.pos = 0

    # -------------------------------------------------------- token helpers
    def peek(self, offset: int = 0) -> Tok | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *words: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in ("ident", "op") and tok.upper in words

    def take(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.take(word):
            found = self.peek()
            raise invalid_search(
                f"Invalid or unsupported search: expected {word} but found "
                f"{found.text if found else 'the end'}."
            )

    def ident(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "ident" or tok.upper in _RESERVED:
            raise invalid_search(
                f"Invalid or unsupported search: unexpected {tok.text if tok else 'end of query'}."
            )
        self.pos += 1
        return tok.text.lower()

    # -------------------------------------------------------- statement
    def statement(self) -> dict[str, Any]:
        for tok in self.tokens:
            if tok.kind == "ident" and tok.upper in _FORBIDDEN:
                raise invalid_search(f"Invalid or unsupported search: {tok.upper} is not supported.")
        self.expect("SELECT")
        query: dict[str, Any] = {"distinct": self.take("DISTINCT"), "joins": [], "top": None}
        after = self.peek(1)
        if self.at("TOP") and after is not None and after.kind == "num" and after.text.isdigit():
            query["top"] = int(after.text)  # SuiteQL's TOP n: the first n rows after sorting
            self.pos += 2
        query["select"] = self.select_list()
        self.expect("FROM")
        # Oracle's comma joins: the join conditions, (+) included, sit in WHERE
        query["from"] = [self.table_ref()]
        while self.take(","):
            query["from"].append(self.table_ref())
        while self.at("JOIN", "LEFT", "INNER"):
            kind = "LEFT" if self.take("LEFT") else "INNER"
            self.take("OUTER")
            self.take("INNER")
            self.expect("JOIN")
            table = self.table_ref()
            self.expect("ON")
            query["joins"].append((kind, table, self.expr()))
        query["where"] = self.expr() if self.take("WHERE") else None
        query["group"] = []
        if self.take("GROUP"):
            self.expect("BY")
            query["group"] = self.expr_list()
        query["having"] = self.expr() if self.take("HAVING") else None
        query["order"] = []
        if self.take("ORDER"):
            self.expect("BY")
            query["order"] = self.order_list()
        if (extra := self.peek()) is not None:
            raise invalid_search(f"Invalid or unsupported search: unexpected {extra.text!r}.")
        return query

    def select_list(self) -> list[tuple[Node, str | None, str | None]]:
        """(expression, alias, the output name as the query writes it) per item."""
        items: list[tuple[Node, str | None, str | None]] = []
        while True:
            if self.take("*"):
                items.append((("star", None), None, None))
            elif (
                (dot := self.peek(1)) is not None
                and dot.text == "."
                and (star := self.peek(2)) is not None
                and star.text == "*"
            ):
                qualifier = self.ident()
                self.pos += 2
                items.append((("star", qualifier), None, None))
            else:
                node = self.expr()
                written = self.tokens[self.pos - 1].text if node[0] == "col" else None
                alias = None
                if self.take("AS"):
                    alias = self.ident()
                    written = self.tokens[self.pos - 1].text
                elif (tok := self.peek()) is not None and tok.kind == "ident" and tok.upper not in _RESERVED:
                    alias = self.ident()
                    written = self.tokens[self.pos - 1].text
                items.append((node, alias, written))
            if not self.take(","):
                return items

    def table_ref(self) -> tuple[str, str]:
        table = self.ident()
        alias = table
        if self.take("AS"):
            alias = self.ident()
        elif (tok := self.peek()) is not None and tok.kind == "ident" and tok.upper not in _RESERVED:
            alias = self.ident()
        return table, alias

    def expr_list(self) -> list[Node]:
        items = [self.expr()]
        while self.take(","):
            items.append(self.expr())
        return items

    def order_list(self) -> list[tuple[Node, bool, str | None]]:
        items = []
        while True:
            node = self.expr()
            descending = False
            if self.take("DESC"):
                descending = True
            else:
                self.take("ASC")
            nulls = None
            if self.take("NULLS"):
                nulls = "FIRST" if self.take("FIRST") else ("LAST" if self.take("LAST") else None)
                if nulls is None:
                    raise invalid_search(
                        "Invalid or unsupported search: NULLS must be followed by FIRST or LAST."
                    )
            items.append((node, descending, nulls))
            if not self.take(","):
                return items

    # -------------------------------------------------------- expressions
    def expr(self) -> Node:
        node = self.and_expr()
        while self.take("OR"):
            node = ("bin", "OR", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.take("AND"):
            node = ("bin", "AND", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.take("NOT"):
            return ("not", self.not_expr())
        return self.predicate()

    def predicate(self) -> Node:
        left = self.additive()
        if self.at("=", "<>", "!=", "<", ">", "<=", ">="):
            op = self.tokens[self.pos].text
            self.pos += 1
            return ("cmp", "<>" if op == "!=" else op, left, self.additive())
        if self.take("IS"):
            negated = self.take("NOT")
            self.expect("NULL")
            return ("isnull", left, negated)
        negated = self.take("NOT")
        if self.take("IN"):
            self.expect("(")
            if self.at("SELECT"):
                raise invalid_search("Invalid or unsupported search: subqueries are not supported.")
            values = self.expr_list()
            self.expect(")")
            if len(values) > MAX_IN_LIST:
                raise invalid_search(f"ORA-01795: maximum number of expressions in a list is {MAX_IN_LIST}")
            return ("in", left, values, negated)
        if self.take("LIKE"):
            pattern = self.additive()
            if self.take("ESCAPE"):
                raise invalid_search("Invalid or unsupported search: LIKE ... ESCAPE is not supported.")
            return ("like", left, pattern, negated)
        if self.take("BETWEEN"):
            low = self.additive()
            self.expect("AND")
            return ("between", left, low, self.additive(), negated)
        if negated:
            raise invalid_search(
                "Invalid or unsupported search: NOT must be followed by IN, LIKE or BETWEEN here."
            )
        return left

    def additive(self) -> Node:
        node = self.term()
        while self.at("+", "-", "||"):
            op = self.tokens[self.pos].text
            self.pos += 1
            node = ("arith", op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.at("*", "/"):
            op = self.tokens[self.pos].text
            self.pos += 1
            node = ("arith", op, node, self.factor())
        return node

    def factor(self) -> Node:
        if self.take("-"):
            return ("neg", self.factor())
        tok = self.peek()
        if tok is None:
            raise invalid_search("Invalid or unsupported search: the query ends too early.")
        if tok.kind == "str":
            self.pos += 1
            return ("lit", tok.text[1:-1].replace("''", "'"))
        if tok.kind == "num":
            self.pos += 1
            return ("lit", Decimal(tok.text))
        if tok.text == "(":
            self.pos += 1
            if self.at("SELECT"):
                raise invalid_search("Invalid or unsupported search: subqueries are not supported.")
            node = self.expr()
            self.expect(")")
            return ("paren", node)
        if tok.kind == "ident" and tok.upper == "NULL":
            self.pos += 1
            return ("null",)
        if tok.kind == "ident" and tok.upper in ("SYSDATE", "CURRENT_DATE", "CURRENT_TIMESTAMP"):
            self.pos += 1
            return ("now",)
        if tok.kind == "ident" and tok.upper == "ROWNUM":
            self.pos += 1
            return ("rownum",)
        if tok.kind == "ident" and tok.upper == "CASE":
            self.pos += 1
            return self.case()
        name = self.ident()
        if self.take("."):
            second = self.ident()
            if name == "builtin":
                return self.call(f"BUILTIN.{second.upper()}")
            return self.outer_marker(("col", name, second))
        if self.outer_marked():
            return self.outer_marker(("col", None, name))
        if self.at("("):
            return self.call(name.upper())
        return ("col", None, name)

    def outer_marked(self) -> bool:
        after = [self.peek(i) for i in range(3)]
        return [t.text for t in after if t is not None] == ["(", "+", ")"]

    def outer_marker(self, column: Node) -> Node:
        """`column(+)`: Oracle's outer-join marker; the compiler decides where it may stand."""
        if not self.outer_marked():
            return column
        self.pos += 3
        return ("outer", column)

    def case(self) -> Node:
        """CASE [operand] WHEN ... THEN ... [ELSE ...] END (the CASE keyword already taken)."""
        operand = None if self.at("WHEN") else self.expr()
        branches: list[tuple[Node, Node]] = []
        while self.take("WHEN"):
            condition = self.expr()
            self.expect("THEN")
            branches.append((condition, self.expr()))
        if not branches:
            raise invalid_search("ORA-00905: missing keyword (CASE needs at least one WHEN ... THEN).")
        otherwise = self.expr() if self.take("ELSE") else None
        self.expect("END")
        return ("case", operand, branches, otherwise)

    def call(self, name: str) -> Node:
        self.expect("(")
        if name == "COUNT" and self.take("*"):
            self.expect(")")
            return ("func", "COUNT", [("star", None)], False)
        distinct = self.take("DISTINCT")
        args = [] if self.at(")") else self.expr_list()
        self.expect(")")
        return ("func", name, args, distinct)


def oracle_to_strftime(fmt: str) -> str:
    """'YYYY-MM-DD HH24:MI:SS' -> '%Y-%m-%d %H:%M:%S'; "quoted" text kept; anything unknown refused."""
    out = []
    pos = 0
    while pos < len(fmt):
        if fmt[pos] == '"':
            end = fmt.find('"', pos + 1)
            if end < 0:
                raise invalid_search("Invalid or unsupported search: unterminated quote in a date format.")
            out.append(fmt[pos + 1 : end].replace("%", "%%"))
            pos = end + 1
            continue
        for token, directive in _ORACLE_FORMAT:
            if fmt.upper().startswith(token, pos):
                out.append(directive)
                pos += len(token)
                break
        else:
            if fmt[pos] in "-/:., T":
                out.append(fmt[pos])
                pos += 1
            else:
                raise invalid_search(f"Invalid or unsupported search: date format {fmt!r} is not supported.")
    return "".join(out)


@dataclass
class Compiled:
    sql: str
    params: list[Any]
    columns: list[tuple[str, str]]  # (output key, kind) in select order
    written: list[str] = field(default_factory=list)  # each output name as the query spells it


@dataclass
class _Scope:
    tables: list[tuple[str, str]] = field(default_factory=list)  # (alias, table)

    def table_of(self, alias: str) -> str | None:
        for a, t in self.tables:
            if a == alias:
                return t
        return None


# Session functions a bare name may call (Oracle: no parentheses), when no column of that name is in scope.
_SESSION_ZONE = {"sessiontimezone", "dbtimezone"}


class Compiler:
    def __init__(
        self,
        now: Callable[[], datetime],
        parse_account_date: Callable[[str], str | None],
        zone: tzinfo = UTC,
    ) -> None:
        self.now = now
        self.parse_account_date = parse_account_date
        self.zone = zone
        # False while a literal is compiled against a date column: dates have no time zone
        self._local_literals_to_utc = True
        self.params: list[Any] = []
        self.scope = _Scope()
        self.select_aliases: dict[str, str] = {}
        self.rownum_rows = False  # columns are read from the ROWNUM subquery
        self.outer_allowed = False  # (+) may stand only in the join conditions of WHERE

    def compile(self, query: dict[str, Any]) -> Compiled:
        for table in [*query["from"], *(table for _, table, _ in query["joins"])]:
            self._add_table(*table)
        limit, parts = rownum_limit(conjuncts(query["where"]))
        plan = plan_joins(query["from"], bool(query["joins"]), parts, lambda col: self._column(*col[1:])[0])
        # ROWNUM picks rows before grouping and sorting: the filtered rows are limited in a subquery
        self.rownum_rows = limit is not None
        select_parts: list[str] = []
        columns: list[tuple[str, str]] = []
        written: list[str] = []
        unnamed = 0
        select_params: list[Any] = []
        for node, alias, as_written in query["select"]:
            if node[0] == "star":
                for table_alias, table in self.scope.tables:
                    if node[1] is not None and node[1] != table_alias:
                        continue
                    for column, kind in SCHEMA[table].items():
                        select_parts.append(f'{self._ref(table_alias, column)} AS "c{len(columns)}"')
                        columns.append((column, kind))
                        written.append(column)
                if node[1] is not None and self.scope.table_of(node[1]) is None:
                    raise invalid_search(f"Invalid or unsupported search: unknown table alias {node[1]}.")
                continue
            sql, kind = self.expr(node)
            if alias is None:
                if node[0] == "col":
                    alias = node[2]
                else:
                    unnamed += 1
                    alias = f"expr{unnamed}"
            self.select_aliases.setdefault(alias, f"c{len(columns)}")
            select_parts.append(f'{sql} AS "c{len(columns)}"')
            columns.append((alias, kind))
            written.append(as_written or alias)
        # parameters must follow the SQL text order: select list first, then FROM/JOIN, WHERE, ...
        select_params, self.params = self.params, []
        self.rownum_rows = False
        from_sql = ", ".join(self._table_sql(*table) for table in plan.inner)
        for kind, table, condition in query["joins"]:
            on_sql, _ = self.expr(condition)
            from_sql += f" {'LEFT JOIN' if kind == 'LEFT' else 'JOIN'} {self._table_sql(*table)} ON {on_sql}"
        self.outer_allowed = True
        for table, conditions in plan.outer:
            on_sql = " AND ".join(self.expr(c)[0] for c in conditions)
            from_sql += f" LEFT JOIN {self._table_sql(*table)} ON {on_sql}"
        where_sql = ""
        if plan.where:
            where_sql = " WHERE " + " AND ".join(self.expr(c)[0] for c in plan.where)
        self.outer_allowed = False
        if limit is not None:
            every = ", ".join(f'"{a}"."{c}" AS "{a}.{c}"' for a, t in self.scope.tables for c in SCHEMA[t])
            from_sql = f'(SELECT {every} FROM {from_sql}{where_sql} LIMIT {limit}) AS "_rownum"'
            where_sql = ""
            self.rownum_rows = True
        group_sql = ""
        if query["group"]:
            group_sql = " GROUP BY " + ", ".join(self.expr(n)[0] for n in query["group"])
        if query["having"] is not None:
            group_sql += " HAVING " + self.expr(query["having"])[0]
        order_sql = ""
        if query["order"]:
            order_parts: list[str] = []
            for node, descending, nulls in query["order"]:
                if node[0] == "col" and node[1] is None and node[2] in self.select_aliases:
                    sql = f'"{self.select_aliases[node[2]]}"'
                elif node[0] == "lit" and isinstance(node[1], Decimal):
                    position = int(node[1])
                    if not 1 <= position <= len(columns):
                        raise invalid_search("Invalid or unsupported search: ORDER BY position out of range.")
                    sql = f'"c{position - 1}"'
                else:
                    sql = self.expr(node)[0]
                # Oracle sorts NULLs last ascending and first descending; SQLite does the opposite
                nulls = nulls or ("FIRST" if descending else "LAST")
                order_parts.append(f"{sql} {'DESC' if descending else 'ASC'} NULLS {nulls}")
            order_sql = " ORDER BY " + ", ".join(order_parts)
        distinct = "DISTINCT " if query["distinct"] else ""
        sql = f"SELECT {distinct}{', '.join(select_parts)} FROM {from_sql}{where_sql}{group_sql}{order_sql}"
        if query["top"] is not None:  # wrapped: the route pages with its own LIMIT
            sql = f"SELECT * FROM ({sql} LIMIT {query['top']})"
        return Compiled(sql, [*select_params, *self.params], columns, written)

    def _add_table(self, table: str, alias: str) -> None:
        if table not in SCHEMA:
            raise invalid_search(f"Record '{table}' was not found.")
        if self.scope.table_of(alias) is not None:
            raise invalid_search(f"Invalid or unsupported search: table alias {alias} is used twice.")
        self.scope.tables.append((alias, table))

    @staticmethod
    def _table_sql(table: str, alias: str) -> str:
        return f'"{table}" AS "{alias}"'

    def _ref(self, alias: str, column: str) -> str:
        if self.rownum_rows:
            return f'"_rownum"."{alias}.{column}"'
        return f'"{alias}"."{column}"'

    def _column(self, qualifier: str | None, name: str) -> tuple[str, str, str]:
        """-> (alias, table, kind)."""
        if qualifier is not None:
            table = self.scope.table_of(qualifier)
            if table is None:
                raise invalid_search(f"Invalid or unsupported search: unknown table or alias {qualifier}.")
            if name not in SCHEMA[table]:
                raise invalid_search(f"Field '{name}' for record '{table}' was not found.")
            return qualifier, table, SCHEMA[table][name]
        matches = [(a, t) for a, t in self.scope.tables if name in SCHEMA[t]]
        if not matches:
            raise invalid_search(f"Field '{name}' for record '{self.scope.tables[0][1]}' was not found.")
        if len(matches) > 1:
            raise invalid_search(f"Invalid or unsupported search: column {name} is ambiguous; qualify it.")
        alias, table = matches[0]
        return alias, table, SCHEMA[table][name]

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def expr(self, node: Node) -> tuple[str, str]:
        """-> (SQL, kind)."""
        tag = node[0]
        if tag == "col":
            if node[1] is None and node[2] in _SESSION_ZONE and not self._in_scope(node[2]):
                # DBTIMEZONE: the database's (UTC); SESSIONTIMEZONE: the user's preference
                return self.param("+00:00" if node[2] == "dbtimezone" else _zone_name(self.zone)), "text"
            alias, _, kind = self._column(node[1], node[2])
            return self._ref(alias, node[2]), kind
        if tag == "outer":
            if not self.outer_allowed:
                raise invalid_search("ORA-30563: outer join operator (+) is not allowed here")
            return self.expr(node[1])
        if tag == "rownum":
            raise invalid_search(
                "Invalid or unsupported search: ROWNUM is supported in WHERE only as ROWNUM <= n, < n or = n "
                "combined with AND."
            )
        if tag == "case":
            return self._case(node[1], node[2], node[3])
        if tag == "lit":
            value = node[1]
            if isinstance(value, Decimal):
                return self.param(int(value) if value == value.to_integral_value() else float(value)), "num"
            return self.param(value), "text"
        if tag == "null":
            return "NULL", "text"
        if tag == "now":
            return self.param(self.now().strftime("%Y-%m-%d %H:%M:%S")), "datetime"
        if tag == "paren":
            sql, kind = self.expr(node[1])
            return f"({sql})", kind
        if tag == "neg":
            return f"(-{self.expr(node[1])[0]})", "num"
        if tag == "not":
            return f"(NOT {self.expr(node[1])[0]})", "bool"
        if tag == "bin":
            return f"({self.expr(node[2])[0]} {node[1]} {self.expr(node[3])[0]})", "bool"
        if tag == "cmp":
            left, right = self._comparable(node[2], node[3])
            return f"({left} {node[1]} {right})", "bool"
        if tag == "isnull":
            return f"({self.expr(node[1])[0]} IS {'NOT ' if node[2] else ''}NULL)", "bool"
        if tag == "in":
            target, kind = self.expr(node[1])
            values = [self._against(kind, v) for v in node[2]]
            return f"({target} {'NOT ' if node[3] else ''}IN ({', '.join(values)}))", "bool"
        if tag == "like":
            return (
                f"({self.expr(node[1])[0]} {'NOT ' if node[3] else ''}LIKE {self.expr(node[2])[0]})",
                "bool",
            )
        if tag == "between":
            target, kind = self.expr(node[1])
            low, high = self._against(kind, node[2]), self._against(kind, node[3])
            return f"({target} {'NOT ' if node[4] else ''}BETWEEN {low} AND {high})", "bool"
        if tag == "arith":
            left, lkind = self.expr(node[2])
            right, _ = self.expr(node[3])
            return f"({left} {node[1]} {right})", "text" if node[1] == "||" else "num"
        if tag == "func":
            return self.function(node[1], node[2], node[3])
        raise invalid_search("Invalid or unsupported search.")

    def _case(
        self, operand: Node | None, branches: list[tuple[Node, Node]], otherwise: Node | None
    ) -> tuple[str, str]:
        parts = ["CASE"]
        operand_kind = ""
        if operand is not None:
            operand_sql, operand_kind = self.expr(operand)
            parts.append(operand_sql)
        kind = ""
        for condition, result in branches:
            when = self._against(operand_kind, condition) if operand is not None else self.expr(condition)[0]
            then_sql, then_kind = self.expr(result)
            kind = kind or (then_kind if result[0] != "null" else "")
            parts += ["WHEN", when, "THEN", then_sql]
        if otherwise is not None:
            else_sql, else_kind = self.expr(otherwise)
            kind = kind or (else_kind if otherwise[0] != "null" else "")
            parts += ["ELSE", else_sql]
        parts.append("END")
        return f"({' '.join(parts)})", kind or "text"

    def _in_scope(self, name: str) -> bool:
        return any(name in SCHEMA[t] for _, t in self.scope.tables)

    def _wall_to_stored(self, wall: str) -> str:
        """A local wall time `YYYY-MM-DD HH:MM:SS` as the stored UTC text it means (dates stay as written)."""
        if not self._local_literals_to_utc:
            return wall
        return user_time.stored_from_local(wall, self.zone)  # type: ignore[arg-type]

    def _comparable(self, left: Node, right: Node) -> tuple[str, str]:
        if right[0] == "col" and left[0] == "func" and left[1] in ("TO_DATE", "TO_TIMESTAMP"):
            # TO_DATE(...) = trandate: read against the date column's kind, as the other way round
            right_sql, right_kind = self.expr(right)
            return self._against(right_kind, left), right_sql
        left_sql, left_kind = self.expr(left)
        return left_sql, self._against(left_kind, right)

    def _against(self, kind: str, node: Node) -> str:
        """A date column compared with a text literal: Oracle converts with the account date format."""
        if kind in ("date", "datetime") and node[0] == "lit" and isinstance(node[1], str):
            parsed = self.parse_account_date(node[1])
            if parsed is None:
                raise invalid_search(
                    f"Invalid or unsupported search: '{node[1]}' is not a date in the account format."
                )
            return self.param(self._wall_to_stored(parsed) if kind == "datetime" else parsed)
        if kind == "date":
            # TO_DATE(...) against a date column: the day as written, no time-zone shift
            self._local_literals_to_utc = False
            try:
                return self.expr(node)[0]
            finally:
                self._local_literals_to_utc = True
        return self.expr(node)[0]

    def function(self, name: str, args: list[Node], distinct: bool) -> tuple[str, str]:
        if distinct and name not in _AGGREGATES:
            raise invalid_search(f"Invalid or unsupported search: DISTINCT is not allowed in {name}.")
        if name in _AGGREGATES:
            if len(args) != 1:
                raise invalid_search(f"Invalid or unsupported search: {name} takes one argument.")
            if args[0][0] == "star":
                return "COUNT(*)", "int"
            sql, kind = self.expr(args[0])
            result_kind = {"COUNT": "int", "SUM": "num", "AVG": "num"}.get(name, kind)
            return f"{name}({'DISTINCT ' if distinct else ''}{sql})", result_kind
        if name in ("TO_DATE", "TO_TIMESTAMP"):
            if len(args) not in (1, 2) or any(a[0] != "lit" or not isinstance(a[1], str) for a in args):
                raise invalid_search(
                    f"Invalid or unsupported search: {name} needs a text literal and a format."
                )
            if len(args) == 1:
                parsed = self.parse_account_date(args[0][1])
                if parsed is None:
                    raise invalid_search(
                        "ORA-01858: a non-numeric character was found where a numeric was expected "
                        f"({args[0][1]!r})."
                    )
                return self.param(self._wall_to_stored(parsed)), "datetime"
            try:
                moment = datetime.strptime(args[0][1], oracle_to_strftime(args[1][1]))
            except ValueError:
                raise invalid_search(
                    f"ORA-01861: literal does not match format string ({args[0][1]!r})."
                ) from None
            return self.param(self._wall_to_stored(moment.strftime("%Y-%m-%d %H:%M:%S"))), "datetime"
        if name == "TO_CHAR":
            if not args or len(args) > 2:
                raise invalid_search("Invalid or unsupported search: TO_CHAR takes one or two arguments.")
            sql, kind = self.expr(args[0])
            if len(args) == 1:
                return f"CAST({sql} AS TEXT)", "text"
            if args[1][0] != "lit" or not isinstance(args[1][1], str):
                raise invalid_search(
                    "Invalid or unsupported search: the TO_CHAR format must be a text literal."
                )
            if kind not in ("date", "datetime"):
                raise invalid_search("Invalid or unsupported search: TO_CHAR with a format needs a date.")
            fmt = args[1][1]
            if kind == "datetime" or user_time.has_zone_tokens(fmt):
                # shown in the user's zone, with its offset or region name where asked (TZH, TZM, TZR)
                pattern = oracle_to_strftime(user_time.mark_zone_tokens(fmt))
                return f"ns_to_char({sql}, {self.param(pattern)}, {self.param(kind)})", "text"
            return f"strftime({self.param(oracle_to_strftime(fmt))}, {sql})", "text"
        if name == "BUILTIN.DF":
            if len(args) != 1 or args[0][0] != "col":
                raise invalid_search("Invalid or unsupported search: BUILTIN.DF takes one field.")
            alias, table, kind = self._column(args[0][1], args[0][2])
            column = args[0][2]
            target = REFERENCES.get((table, column))
            if target is not None:
                display = DISPLAY_COLUMN[target]
                return f'(SELECT "{display}" FROM "{target}" WHERE id = {self._ref(alias, column)})', "text"
            enum = ENUM_DISPLAY.get((table, column))
            if enum:
                cases = " ".join(f"WHEN {self.param(k)} THEN {self.param(v)}" for k, v in enum.items())
                ref = self._ref(alias, column)
                return f"(CASE {ref} {cases} ELSE {ref} END)", "text"
            return self._ref(alias, column), kind
        if name in _SCALARS:
            if not args or (name == "NVL" and len(args) != 2):
                raise invalid_search(f"ORA-00909: invalid number of arguments ({name}).")
            compiled = [self.expr(a) for a in args]
            kind = (
                compiled[0][1]
                if name in ("NVL", "COALESCE")
                else ("num" if name in ("ABS", "ROUND", "LENGTH") else "text")
            )
            return f"{_SCALARS[name]}({', '.join(sql for sql, _ in compiled)})", kind
        raise invalid_search(f"Invalid or unsupported search: function {name} is not supported.")


def translate(
    text: str,
    now: Callable[[], datetime],
    parse_account_date: Callable[[str], str | None],
    zone: tzinfo = UTC,
) -> Compiled:
    """SuiteQL text -> SQLite SQL + parameters + output columns, or NsError (400).

    `zone`: the token user's time-zone preference; literals compared with datetimes are read in it.
    """
    if not isinstance(text, str) or not text.strip():
        raise invalid_search("Invalid or unsupported search: the query is empty.")
    query = Parser(tokenize(text)).statement()
    return Compiler(now, parse_account_date, zone).compile(query)


def _zone_name(zone: tzinfo) -> str:
    return str(getattr(zone, "key", None) or "UTC")


def format_value(value: Any, kind: str, zone: tzinfo = UTC) -> str | None:
    """SQLite value -> SuiteQL's string form; dates in the account format M/D/YYYY (date part only),
    a datetime's date being its date in the user's zone."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, str) and zone is not UTC:
        local = user_time.local_moment(value, zone)
        if local is not None:
            return f"{local.month}/{local.day}/{local.year}"
    if kind in ("date", "datetime") and isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        year, month, day = value[:10].split("-")
        return f"{int(month)}/{int(day)}/{year}"
    if isinstance(value, float):
        number = Decimal(repr(value))
        return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")
    return str(value)


__all__ = ["Compiled", "NsError", "format_value", "translate"]
