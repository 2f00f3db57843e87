"""The token user's time-zone preference: how SuiteQL shows and reads datetimes.

SuiteQL reads and compares dates in the user's time-zone preference, not UTC, and Oracle's REST help
says date fields are not subject to time-zone conversion. Stored
datetimes stay UTC text (`YYYY-MM-DD HH:MM:SS`, state.py); only SuiteQL's view of them moves:
- datetime columns (and SYSDATE) are shown in the user's zone: TO_CHAR, and the plain M/D/YYYY rendering;
- TO_DATE / TO_TIMESTAMP literals and account-format text compared with datetime columns are local
  wall times, turned into UTC for the comparison (DST from zoneinfo; an ambiguous fall-back wall time
  is its earlier instant, as zoneinfo's fold=0);
- date columns (trandate, expirationdate) are never converted.
How a client learns the zone (a `TO_CHAR(SYSDATE, '... TZH:TZM') FROM dual` probe or the
user's preference): TO_CHAR knows TZH, TZM and TZR (the region name), and `SESSIONTIMEZONE` answers the
preference's region name, e.g. America/New_York.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_STORED = "%Y-%m-%d %H:%M:%S"
# Time-zone format elements TO_CHAR fills per value; marked before the rest becomes a strftime pattern.
_ZONE_TOKENS = ("TZH", "TZM", "TZR")
_MARK = "\x01"


def user_zone(name: str) -> ZoneInfo:
    """The zone of an IANA name, or ValueError naming it (the CLI and the emulator refuse a typo)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a time zone (use an IANA name such as America/New_York)") from None


@lru_cache(maxsize=8192)
def local_moment(stored: str, zone: tzinfo) -> datetime | None:
    """Stored UTC text -> aware wall time in `zone`; None for text that is not a stored datetime."""
    try:
        moment = datetime.strptime(stored[:19], _STORED)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).astimezone(zone)


def stored_from_local(wall: str, zone: ZoneInfo) -> str:
    """A local wall time `YYYY-MM-DD HH:MM:SS` (a TO_DATE literal) -> stored UTC text."""
    moment = datetime.strptime(wall, _STORED).replace(tzinfo=zone)
    return moment.astimezone(UTC).strftime(_STORED)


def mark_zone_tokens(fmt: str) -> str:
    """Replace TZH/TZM/TZR outside quotes by quoted markers, so the rest converts to strftime as before."""
    out: list[str] = []
    pos = 0
    upper = fmt.upper()
    quoted = False
    while pos < len(fmt):
        if fmt[pos] == '"':
            quoted = not quoted
        elif not quoted:
            token = next((t for t in _ZONE_TOKENS if upper.startswith(t, pos)), None)
            if token is not None:
                out.append(f'"{_MARK}{token[2]}"')
                pos += len(token)
                continue
        out.append(fmt[pos])
        pos += 1
    return "".join(out)


def has_zone_tokens(fmt: str) -> bool:
    return mark_zone_tokens(fmt) != fmt


def _offset_parts(moment: datetime) -> tuple[str, str]:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}", f"{rest:02d}"


def to_char(stored: str | None, pattern: str, kind: str, zone: ZoneInfo) -> str | None:
    """TO_CHAR of a stored value with a strftime `pattern` (zone tokens marked): datetimes in `zone`."""
    if stored is None:
        return None
    if kind == "datetime":
        moment = local_moment(stored, zone)
    else:  # a date has no zone: shown as stored, its offset that of the user's zone on that day
        moment = local_moment(stored, UTC)
        moment = moment.replace(tzinfo=zone) if moment is not None else None
    if moment is None:
        return stored
    text = moment.strftime(pattern)
    if _MARK in text:
        hours, minutes = _offset_parts(moment)
        text = (
            text.replace(f"{_MARK}H", hours).replace(f"{_MARK}M", minutes).replace(f"{_MARK}R", str(zone.key))
        )
    return text


def install(db: sqlite3.Connection, zone: Callable[[], ZoneInfo]) -> None:
    """`ns_to_char(value, pattern, kind)` for the SQL the SuiteQL compiler writes; reads the zone per call."""
    db.create_function(
        "ns_to_char",
        3,
        lambda value, pattern, kind: to_char(value, pattern, kind, zone()),
        deterministic=False,
    )


__all__ = [
    "has_zone_tokens",
    "install",
    "local_moment",
    "mark_zone_tokens",
    "stored_from_local",
    "to_char",
    "user_zone",
]
