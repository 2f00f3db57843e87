"""The token user's time zone, asked of the account: SuiteQL shows and compares datetimes in it.

Reference §9: dates in SuiteQL are read and compared in the user's time-zone preference, not UTC, so an
incremental read that renders its watermark in another zone skips (or repeats) hours of changes. The
account is asked, each answer optional: `SESSIONTIMEZONE` (the preference's region name, which carries
the DST rules) and `TO_CHAR(SYSDATE, '... TZH:TZM')` (the offset now, the probe the reference names); if
the offset is refused, the wall time `TO_CHAR(SYSDATE, ...)` against the answer's `Date` header (UTC) gives
it. A region name wins; an offset alone only confirms `settings.timezone` (or UTC): an offset cannot say
when daylight saving time starts, so without a name the setting must give it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atlas_desktop.connectors.netsuite.client import NetSuiteClient
from atlas_desktop.domain.errors import ConfigError, NotFound, PermissionDenied, ValidationFailed
from atlas_desktop.domain.model import utc_now

ZONE_QUERY = "SELECT SESSIONTIMEZONE AS zone FROM dual"
OFFSET_QUERY = "SELECT TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS TZH:TZM') AS now FROM dual"
WALL_QUERY = "SELECT TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS') AS now FROM dual"
SETTING = "settings.timezone"
PREFERENCE = "Home > Set Preferences > Localization > Time Zone, signed in as the integration user"
# A preference changed in NetSuite is picked up within this long by a connector that lives on.
RECHECK_AFTER = timedelta(hours=1)
_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})\s*$")


@dataclass(frozen=True)
class UserZone:
    name: str  # the IANA name watermarks are rendered in and datetimes parsed from
    source: str  # where it came from, for the connection test
    offset: timedelta | None  # what NetSuite reported now, if it did

    def describe(self) -> str:
        shown = f" (UTC{format_offset(self.offset)} now)" if self.offset is not None else ""
        return f"{self.name}{shown}, {self.source}"


def format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def parse_offset(text: str | None) -> timedelta | None:
    """'... -05:00' -> -5 h; None when the text ends in no offset."""
    match = _OFFSET.search(text or "")
    if match is None:
        return None
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))


def _region(text: str | None) -> ZoneInfo | None:
    name = (text or "").strip()
    if not name or _OFFSET.fullmatch(name) or name.startswith(("+", "-")):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


async def _ask(client: NetSuiteClient, query: str, column: str) -> str | None:
    """One probe's answer; None when the account refuses the query (a dialect or permission gap)."""
    try:
        page = await client.suiteql_page(query, limit=1)
    except (ValidationFailed, PermissionDenied, NotFound):
        return None
    if not page.items:
        return None
    value = page.items[0].get(column)
    return str(value) if value not in (None, "") else None


async def _offset_from_wall_clock(client: NetSuiteClient) -> timedelta | None:
    """The user's wall time minus the server's UTC `Date`, to the quarter hour (zones are on quarters)."""
    client.last_server_time = None
    wall = await _ask(client, WALL_QUERY, "now")
    server = client.last_server_time
    if wall is None or server is None:
        return None
    try:
        local = datetime.strptime(wall.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    quarters = round((local - server.replace(tzinfo=None)).total_seconds() / 900)
    return timedelta(minutes=15 * quarters) if abs(quarters) <= 14 * 4 else None


async def find_user_zone(client: NetSuiteClient, configured: str | None, now: datetime) -> UserZone:
    """The zone SuiteQL uses for this token's user, or ConfigError saying what to set."""
    region = _region(await _ask(client, ZONE_QUERY, "zone"))
    offset = parse_offset(await _ask(client, OFFSET_QUERY, "now"))
    if region is None and offset is None:
        offset = await _offset_from_wall_clock(client)
    if region is not None:
        return UserZone(region.key, "the NetSuite user's preference", offset)
    if configured is not None:
        expected = ZoneInfo(configured).utcoffset(now)
        if offset is None or expected == offset:
            how = "checked against NetSuite's clock" if offset is not None else "NetSuite did not confirm it"
            return UserZone(configured, f"from {SETTING} ({how})", offset)
        raise ConfigError(
            SETTING,
            f"is {configured} (UTC{format_offset(expected or timedelta(0))} now), but NetSuite shows this "
            f"user's times at UTC{format_offset(offset)}",
            fix=f"Set {SETTING} to the integration user's time zone as NetSuite shows it ({PREFERENCE}), "
            "e.g. America/New_York, or change that preference.",
        )
    if offset == timedelta(0):
        return UserZone("UTC", "NetSuite's clock (UTC+00:00, no zone name)", offset)
    if offset is not None:
        raise ConfigError(
            SETTING,
            f"NetSuite shows this user's times at UTC{format_offset(offset)} but does not name the time "
            "zone, and the connection does not set one",
            fix=f"Set {SETTING} to the integration user's time zone ({PREFERENCE}), e.g. America/New_York: "
            "the offset alone does not say when daylight saving time changes it.",
        )
    raise ConfigError(
        SETTING,
        "NetSuite did not answer the time-zone queries (SuiteQL on dual), and the connection does not "
        "set one",
        fix=f"Give the integration role SuiteAnalytics Workbook, or set {SETTING} to the integration user's "
        f"time zone ({PREFERENCE}), e.g. America/New_York.",
    )


class UserZoneLookup:
    """The zone, asked once and again after RECHECK_AFTER; shared by reads, writes and the test."""

    def __init__(
        self, client: NetSuiteClient, configured: str | None, *, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.client = client
        self.configured = configured
        self.clock = clock
        self._known: tuple[UserZone, datetime] | None = None

    async def get(self) -> UserZone:
        now = self.clock()
        if self._known is not None and now - self._known[1] < RECHECK_AFTER:
            return self._known[0]
        zone = await find_user_zone(self.client, self.configured, now)
        self._known = (zone, now)
        return zone

    @property
    def known(self) -> UserZone | None:
        return self._known[0] if self._known is not None else None


__all__ = [
    "OFFSET_QUERY",
    "WALL_QUERY",
    "ZONE_QUERY",
    "UserZone",
    "UserZoneLookup",
    "find_user_zone",
    "parse_offset",
]
