"""Small SQL helpers the sync repositories share: batching, LIKE patterns, connection checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii
from typing import Any, cast, overload

import sqlalchemy as sa
from sqlalchemy.orm import Session

from atlas_desktop.domain.chunks import chunked as chunked  # the store's modules take it from here
from atlas_desktop.store.models import ConnectionRow
from atlas_desktop.store.repositories import ConnectionNotFound
from atlas_desktop.store.types import ExactDecimal, UtcDateTime

# SQLite's default limit on bound variables is 32766 (3.32+); ids go in chunks well under it.
IN_CHUNK = 500
LIKE_ESCAPE = "\\"


def affected_rows(result: sa.Result[*tuple[Any, ...]]) -> int:
    """How many rows an UPDATE or DELETE run through a Session changed. Session.execute types every
    result as a plain Result, though a DML statement's is a CursorResult, the one that counts them."""
    return cast(sa.CursorResult[*tuple[Any, ...]], result).rowcount


def like_pattern(text: str) -> str:
    """A LIKE pattern that matches `text` anywhere, with % and _ in it taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


def require_connection(session: Session, connection_id: str) -> None:
    """ConnectionNotFound (with a fix) instead of a bare foreign-key failure later on."""
    if session.get(ConnectionRow, connection_id) is None:
        raise ConnectionNotFound(connection_id)


def no_lot(lot: str | None) -> str:
    """The erp_stock key form of a lot: '' stands for "no lot"."""
    return lot or ""


def lot_or_none(lot: str | None) -> str | None:
    return lot or None


def same_lot(mapping_lot: Any, stock_lot: Any) -> Any:
    """A mapping's lot (NULL for no lot) against erp_stock's key form ('' for no lot): the join rule."""
    return stock_lot == sa.func.coalesce(mapping_lot, "")


def same_lot_sql(mapping: str, stock: str) -> str:
    """`same_lot` for raw SQL, between the aliases of a mapping and an erp_stock row."""
    return f"{stock}.lot = coalesce({mapping}.lot, '')"


# Bulk paths bind and read plain driver values: SQLAlchemy's per-row processing costs more than
# SQLite itself on 100k rows. These convert exactly as ExactDecimal / UtcDateTime / Date do.
_DECIMAL = ExactDecimal()
_UTC = UtcDateTime()


def decimal_text(value: Decimal | None) -> str | None:
    # The common case first: for a finite Decimal the type's checks and copy come to str(value).
    if type(value) is Decimal and value.is_finite():
        return str(value)
    return _DECIMAL.process_bind_param(value, None)


def utc_text(value: datetime | None) -> str | None:
    # The common case first: a datetime already in UTC needs no conversion, only its fixed-width text.
    if type(value) is datetime and value.tzinfo is UTC:
        return value.isoformat(timespec="microseconds")
    return _UTC.process_bind_param(value, None)


def flat_json(values: Mapping[str, str | None]) -> str:
    """json.dumps(dict(values)), the same text, for the flat dicts of texts bulk writes store (a base,
    product attributes): built from the encoder's own string escaping, without json.dumps setting up an
    encoder on every call. Anything else goes through json.dumps."""
    parts = []
    for key, value in values.items():
        if type(key) is not str or (value is not None and type(value) is not str):
            return json.dumps(dict(values))
        text = "null" if value is None else encode_basestring_ascii(value)
        parts.append(f"{encode_basestring_ascii(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


def date_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@overload
def parse_decimal(text: str) -> Decimal: ...
@overload
def parse_decimal(text: None) -> None: ...
@overload
def parse_decimal(text: str | None) -> Decimal | None: ...
def parse_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


@overload
def parse_utc(text: str) -> datetime: ...
@overload
def parse_utc(text: None) -> None: ...
@overload
def parse_utc(text: str | None) -> datetime | None: ...
def parse_utc(text: str | None) -> datetime | None:
    if text is None:
        return None
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # only SQLite's own CURRENT_TIMESTAMP writes offset-free text; it is UTC
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def parse_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def upsert_sql(
    table: sa.Table,
    keys: Sequence[str],
    *,
    order: Sequence[str],
    where: str | None = None,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """INSERT ... ON CONFLICT(keys) DO UPDATE SET every other column = excluded.

    One `?` per column, in `order` (every column of the table, each once): a bulk write binds a tuple per
    row, cheaper than a dict in Python and in SQLite.
    """
    names = [column.name for column in table.columns]
    if sorted(order) != sorted(names):
        raise ValueError(f"the order of {table.name}'s columns must name each of {names} once")
    overrides = overrides or {}
    sets = ", ".join(
        f"{name} = {overrides.get(name, f'excluded.{name}')}" for name in order if name not in keys
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(order)}) VALUES ({', '.join('?' for _ in order)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    )
    return f"{sql} WHERE {where}" if where else sql
