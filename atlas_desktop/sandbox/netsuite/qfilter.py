"""Record collection filtering (`?q=`): `field OPERATOR value` joined by AND/OR, translated to SQL.

Dates use the account date format (M/D/YYYY, optional `h:mm am|pm` or `HH:mm[:ss]`), as N/query does; an ISO
date is "Unparseable", exactly the trap real accounts set.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from atlas_desktop.sandbox.netsuite.errors import NsError, invalid_parameter

ACCOUNT_DATE_FORMAT = "M/D/YYYY"
_DATE = re.compile(
    r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[aApP][mM])?)?$"
)
_TOKEN = re.compile(r'\s*(?:(?P<q>"[^"]*")|(?P<p>[()\[\],])|(?P<w>[^\s()\[\],"]+))')
_DATE_OPS = {"AFTER", "BEFORE", "ON", "ON_OR_AFTER", "ON_OR_BEFORE"}
_NUM_OPS = {"EQUAL": "=", "GREATER": ">", "GREATER_OR_EQUAL": ">=", "LESS": "<", "LESS_OR_EQUAL": "<="}
_TEXT_OPS = {"IS", "START_WITH", "END_WITH", "CONTAIN"}


def parse_account_datetime(text: str) -> tuple[str, bool] | None:
    """'3/30/2026' -> ('2026-03-30 00:00:00', False); '3/30/2026 2:05 pm' -> (..14:05:00, True); else None."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        hour = int(match["h"] or 0)
        if match["ampm"]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
        moment = datetime(
            int(match["y"]),
            int(match["m"]),
            int(match["d"]),
            hour,
            int(match["mi"] or 0),
            int(match["s"] or 0),
        )
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S"), match["h"] is not None


def account_date_sql(text: str) -> str | None:
    parsed = parse_account_datetime(text)
    return parsed[0] if parsed else None


def _unparseable(value: str) -> NsError:
    return invalid_parameter(f'Invalid query parameter value. Unparseable date: "{value}"', "q")


class QFilter:
    """Parses one `q` string for a record type whose fields map to (column, kind)."""

    def __init__(self, text: str, fields: dict[str, tuple[str, str]]) -> None:
        self.fields = {name.lower(): spec for name, spec in fields.items()}
        self.tokens = [m.group(m.lastgroup or "w") for m in _TOKEN.finditer(text) if m.group(0).strip()]
        self.pos = 0
        self.params: list[Any] = []

    def sql(self) -> tuple[str, list[Any]]:
        if not self.tokens:
            raise self._bad("the filter is empty")
        result = self._or()
        if self.pos != len(self.tokens):
            raise self._bad(f"unexpected {self.tokens[self.pos]!r}")
        return result, self.params

    def _bad(self, why: str) -> NsError:
        return invalid_parameter(f"Invalid query parameter value. Invalid search query: {why}.", "q")

    def _next(self) -> str:
        if self.pos >= len(self.tokens):
            raise self._bad("the filter ends too early")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or(self) -> str:
        parts = [self._and()]
        while (self._peek() or "").upper() == "OR":
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _and(self) -> str:
        parts = [self._term()]
        while (self._peek() or "").upper() == "AND":
            self.pos += 1
            parts.append(self._term())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _term(self) -> str:
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            if self._next() != ")":
                raise self._bad("missing )")
            return f"({inner})"
        name = self._next()
        spec = self.fields.get(name.lower())
        if spec is None:
            raise self._bad(f"field {name} is not filterable on this record")
        column, kind = spec
        op = self._next().upper()
        negate = op.endswith("_NOT")
        base = op[:-4] if negate else op
        sql = self._condition(column, kind, base, name)
        return f"NOT ({sql})" if negate else sql

    def _value(self) -> str:
        token = self._next()
        return token[1:-1] if token.startswith('"') else token

    def _condition(self, column: str, kind: str, op: str, name: str) -> str:
        col = f'"{column}"'
        if op == "EMPTY":
            return f"({col} IS NULL OR {col} = '')"
        if kind in ("date", "datetime"):
            if op not in _DATE_OPS:
                raise self._bad(f"operator {op} cannot be used with the date field {name}")
            raw = self._value()
            parsed = parse_account_datetime(raw)
            if parsed is None:
                raise _unparseable(raw)
            moment, has_time = parsed
            start = datetime.strptime(moment, "%Y-%m-%d %H:%M:%S")
            # without a time the literal means the whole day; with one, that minute
            end = start + (timedelta(minutes=1) if has_time else timedelta(days=1))
            lo, hi = start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")
            sql = {
                "AFTER": f"{col} >= ?",
                "ON_OR_AFTER": f"{col} >= ?",
                "BEFORE": f"{col} < ?",
                "ON_OR_BEFORE": f"{col} < ?",
                "ON": f"({col} >= ? AND {col} < ?)",
            }[op]
            self.params.extend(
                {"AFTER": [hi], "ON_OR_AFTER": [lo], "BEFORE": [lo], "ON_OR_BEFORE": [hi], "ON": [lo, hi]}[op]
            )
            return sql
        if kind == "bool":
            if op != "IS":
                raise self._bad(f"operator {op} cannot be used with the boolean field {name}")
            value = self._value().lower()
            if value not in ("true", "false"):
                raise self._bad(f"{name} takes true or false")
            self.params.append("T" if value == "true" else "F")
            return f"{col} = ?"
        if kind in ("int", "num"):
            if op == "ANY_OF":
                values = self._list()
                self.params.extend(self._number(v, name) for v in values)
                return f"{col} IN ({', '.join('?' for _ in values)})"
            if op not in _NUM_OPS:
                raise self._bad(f"operator {op} cannot be used with the number field {name}")
            self.params.append(self._number(self._value(), name))
            return f"{col} {_NUM_OPS[op]} ?"
        if op not in _TEXT_OPS:
            raise self._bad(f"operator {op} cannot be used with the text field {name}")
        value = self._value()
        if op == "IS":
            self.params.append(value)
            return f"{col} = ?"
        pattern = {"START_WITH": "{}%", "END_WITH": "%{}", "CONTAIN": "%{}%"}[op]
        self.params.append(pattern.format(value.replace("%", "").replace("_", "")))
        return f"{col} LIKE ?"

    def _list(self) -> list[str]:
        if self._next() != "[":
            raise self._bad("ANY_OF takes a list like [1, 2]")
        values = [self._value()]
        while self._peek() == ",":
            self.pos += 1
            values.append(self._value())
        if self._next() != "]":
            raise self._bad("missing ]")
        return values

    def _number(self, value: str, name: str) -> int | float:
        try:
            number = float(value)
        except ValueError:
            raise self._bad(f"{name} takes a number, not {value!r}") from None
        return int(number) if number.is_integer() else number
