"""OData v2 JSON as SAP Gateway serves it: collections, __count/__next, dates, decimals, literals, filters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx

from atlas_desktop.connectors.offload import loads_json
from atlas_desktop.domain.errors import InvalidResponse
from atlas_desktop.domain.secrets import redact

SYSTEM = "SAP"
# "\/Date(ms)\/" with an optional offset in minutes ("+0060"); the ms are UTC.
_DATE_RE = re.compile(r"^/?Date\((-?\d+)(?:([+-])(\d{1,4}))?\)/?$")
_ISO_FRACTION = re.compile(r"(\.\d{6})\d+")
_TIME_RE = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


def invalid(message: str, *, status: int | None = None) -> InvalidResponse:
    return InvalidResponse(f"SAP: {message}", system=SYSTEM, status=status)


def parse_datetime(value: object) -> datetime | None:
    """Any SAP date form -> aware UTC: /Date(ms)/, /Date(ms+offset)/, ISO with or without offset.

    A missing offset means UTC (pyodata #231); SAP's empty date "0000-00-00T00:00:00" is None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)
    if not isinstance(value, str):
        raise invalid(f"a date field holds {type(value).__name__}, not text")
    return _parse_datetime_text(value)


# Full reads repeat the same dates over thousands of rows (expiry days, one import's change stamp):
# parse each distinct text once. Datetimes are immutable, so rows can share one object.
@lru_cache(maxsize=4096)
def _parse_datetime_text(value: str) -> datetime | None:
    text = value.strip().replace("\\/", "/")
    match = _DATE_RE.match(text)
    try:
        if match:
            # The ticks already are UTC; the offset only says which zone the value was entered in.
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
        if text.startswith("0000-00-00"):
            return None
        iso = _ISO_FRACTION.sub(r"\1", text.replace("Z", "+00:00").replace("z", "+00:00"))
        moment = datetime.fromisoformat(iso)
        return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: beyond the years 1..9999
        raise invalid(f"cannot read the date {text[:40]!r}") from None


def parse_date(value: object) -> date | None:
    """An Edm.DateTime with display-format Date: midnight UTC -> its calendar date."""
    if type(value) is str and value:
        return _parse_date_text(value)
    moment = parse_datetime(value)
    return None if moment is None else moment.date()


@lru_cache(maxsize=4096)
def _parse_date_text(value: str) -> date | None:
    moment = _parse_datetime_text(value)
    return None if moment is None else moment.date()


def parse_time(value: object) -> timedelta | None:
    """Edm.Time "PT12H30M05S" -> timedelta."""
    if value in (None, ""):
        return None
    match = _TIME_RE.match(str(value))
    if not match:
        raise invalid(f"cannot read the time {str(value)[:20]!r}")
    hours, minutes, seconds = match.groups()
    return timedelta(hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0))


def parse_decimal(value: object) -> Decimal | None:
    """Edm.Decimal arrives as a JSON string ("1160.000", "100"); any scale; never via float."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):  # some proxies re-encode; str() keeps the printed digits
        return Decimal(str(value))
    if isinstance(value, str):
        return _parse_decimal_text(value)
    raise invalid(f"a number field holds {type(value).__name__}")


@lru_cache(maxsize=4096)
def _parse_decimal_text(value: str) -> Decimal:
    # Stock answers repeat a small set of quantities; a Decimal is immutable, so rows can share one.
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise invalid(f"cannot read the number {value[:30]!r}") from None
    if not number.is_finite():
        raise invalid(f"cannot read the number {value[:30]!r}")
    return number


def quote_literal(value: str) -> str:
    """An Edm.String literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def datetimeoffset_literal(moment: datetime) -> str:
    """datetimeoffset'2024-01-01T00:00:00Z' (no space before the quote)."""
    utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return f"datetimeoffset'{utc.isoformat()}Z'"


def datetime_literal(day: date) -> str:
    return f"datetime'{day.isoformat()}T00:00:00'"


def iso_date_payload(day: date) -> str:
    """Request payload date form from KBA 3027233: "2024-05-01T00:00:00"."""
    return f"{day.isoformat()}T00:00:00"


def any_of(field: str, values: Iterable[str]) -> str:
    """(F eq 'a' or F eq 'b'); one value without parentheses."""
    parts = [f"{field} eq {quote_literal(v)}" for v in values]
    if not parts:
        raise ValueError("any_of needs at least one value")
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def all_of(*clauses: str | None) -> str | None:
    parts = [c for c in clauses if c]
    return " and ".join(parts) if parts else None


@dataclass(frozen=True)
class Page:
    """One collection response: its rows, the total when asked for, and the next link when paged."""

    rows: list[dict[str, Any]]
    count: int | None
    next_url: str | None


def read_json(response: httpx.Response) -> Any:
    try:
        return loads_json(response.content)  # a 5,000-row page in pieces: see connectors/offload.py
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise invalid(
            f"expected JSON from {response.request.url.path}, got {kind}", status=response.status_code
        ) from None


def read_page(response: httpx.Response) -> Page:
    """{"d": {"results": [...], "__count": "91", "__next": "..."}}; v1-style {"d": [...]} too."""
    body = read_json(response)
    data = body.get("d") if isinstance(body, Mapping) else None
    if isinstance(data, list):
        return Page(rows=[r for r in data if isinstance(r, dict)], count=None, next_url=None)
    if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
        raise invalid(f"the answer from {response.request.url.path} is not an OData collection")
    rows = data["results"]
    if not all(isinstance(row, dict) for row in rows):
        raise invalid(f"the answer from {response.request.url.path} holds a row that is not an object")
    for row in rows:
        _drop_metadata(row)
    count = data.get("__count")
    try:
        total = int(count) if count is not None else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON Infinity
        total = None
    next_url = data.get("__next")
    return Page(rows=list(rows), count=total, next_url=next_url if isinstance(next_url, str) else None)


def _drop_metadata(row: dict[str, Any]) -> None:
    """Forget each row's `__metadata` (and its expanded children's): two long URLs and a type name per
    entity, nearly half of a decoded page, which nothing reads and up to `concurrency` pages hold."""
    row.pop("__metadata", None)
    for value in row.values():
        if type(value) is dict:
            children = value.get("results")
            if type(children) is list:
                for child in children:
                    if type(child) is dict:
                        child.pop("__metadata", None)


def read_entity(response: httpx.Response) -> dict[str, Any]:
    body = read_json(response)
    data = body.get("d") if isinstance(body, Mapping) else None
    if not isinstance(data, dict):
        raise invalid(f"the answer from {response.request.url.path} is not an OData entity")
    return data


def nav_results(entity: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """An expanded to-many navigation: {"results": [...]} or a plain list; deferred -> []."""
    value = entity.get(name)
    if isinstance(value, Mapping):
        value = value.get("results")
    if not isinstance(value, list):
        return []
    if not all(isinstance(item, dict) for item in value):
        raise invalid(f"the expanded {name[:40]!r} holds an entry that is not an object")
    return list(value)


def resolve_next(current: httpx.URL, next_url: str) -> httpx.URL:
    """__next is opaque; follow it only to the same origin (pyodata 1.12 guards the same way)."""
    target = current.join(next_url)
    if (target.scheme, target.host, target.port) != (current.scheme, current.host, current.port):
        shown = redact(f"{urlsplit(str(target)).scheme}://{urlsplit(str(target)).netloc}")
        raise invalid(f"the next-page link points to another server ({shown}); it was not followed")
    return target
