"""The token user's time zone, asked of the account: SuiteQL shows and compares datetimes in it.

Dates in SuiteQL are read and compared in the user's time-zone preference, not UTC, so an
incremental read that renders its watermark in another zone skips (or repeats) hours of changes. The
account is asked, each answer optional: `SESSIONTIMEZONE` (the preference's region name, which carries
the DST rules) and `TO_CHAR(SYSDATE, '... TZH:TZM')` (the offset now, the usual probe); if
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
from atlas_desktop.connectors.netsuite.errors import SYSTEM
from atlas_desktop.domain.errors import (
    ConfigError,
    ConnectorError,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from atlas_desktop.domain.model import utc_now

ZONE_QUERY = "SELECT SESSIONTIMEZONE AS zone FROM dual"
OFFSET_QUERY = "SELECT TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS TZH:TZM') AS now FROM dual"
WALL_QUERY = "SELECT TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS') AS now FROM dual"
SETTING = "settings.timezone"
# Where a user sets it: the wizard's field and the connection file's key.
SET_IT = (
    "the connection's time zone (\"NetSuite user's time zone\" under Advanced in the setup wizard, "
    f"{SETTING} in a connection file)"
)
PREFERENCE = "Home > Set Preferences > Localization > Time Zone, signed in as the integration user"
# A preference changed in NetSuite is picked up within this long by a connector that lives on.
RECHECK_AFTER = timedelta(hours=1)
# 'YYYY-MM-DD HH24:MI:SS TZH:TZM' exactly: a damaged answer must not pass for an offset
_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} ([+-])(\d{2}):([0-5]\d)$")
_BARE_OFFSET = re.compile(r"^([+-])(\d{2}):([0-5]\d)$")


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
    """'2026-03-03 10:00:05 -05:00' (or a bare '-05:00') -> -5 h; None for anything else."""
    value = (text or "").strip()
    match = _OFFSET.fullmatch(value) or _BARE_OFFSET.fullmatch(value)
    if match is None or int(match.group(2)) > 14:
        return None
    sign = -1 if match.group(1) == "-" else 1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))


def _region(text: str | None) -> ZoneInfo | None:
    name = (text or "").strip()
    if not name or name.startswith(("+", "-")) or "/" not in name and name != "UTC":
        return None  # an offset, or an abbreviation such as EST that names no DST rules
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class _Probes:
    """Asks the account; remembers the first refusal and whether an answer came that said nothing usable."""

    def __init__(self, client: NetSuiteClient) -> None:
        self.client = client
        self.refusal: ConnectorError | None = None
        self.unusable = False

    async def ask(self, query: str, column: str) -> str | None:
        try:
            page = await self.client.suiteql_page(query, limit=1)
        except (ValidationFailed, PermissionDenied, NotFound) as exc:
            self.refusal = self.refusal or exc  # a dialect or permission gap: the next probe may do
            return None
        value = page.items[0].get(column) if page.items else None
        if not isinstance(value, str) or not value.strip():
            self.unusable = True
            return None
        return value

    async def offset_from_wall_clock(self) -> timedelta | None:
        """The user's wall time minus the answer's UTC `Date`, to the quarter hour (zones are on quarters)."""
        self.client.last_server_time = None
        wall = await self.ask(WALL_QUERY, "now")
        server = self.client.last_server_time
        if wall is None or server is None:
            return None
        try:
            local = datetime.strptime(wall.strip(), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            self.unusable = True
            return None
        quarters = round((local - server.replace(tzinfo=None)).total_seconds() / 900)
        return timedelta(minutes=15 * quarters) if abs(quarters) <= 14 * 4 else None

    def unknown(self) -> ConnectorError:
        """What the account's answers left: the zone cannot be known (a remote gap; the setting fills it)."""
        fix = (
            f"Set {SET_IT} to the integration user's time zone ({PREFERENCE}), e.g. America/New_York, or "
            "give the integration role SuiteAnalytics Workbook so SuiteQL can tell it."
        )
        message = "NetSuite did not tell the integration user's time zone (SuiteQL on dual)"
        if self.refusal is not None and not self.unusable:
            cause = self.refusal
            return type(cause)(
                f"{message}: {cause.message}", fix=fix, system=SYSTEM, status=cause.status,
                remote_code=cause.remote_code, remote_message=cause.remote_message,
            )  # fmt: skip
        return InvalidResponse(f"{message}: its answers named no zone or offset", fix=fix, system=SYSTEM)


async def find_user_zone(client: NetSuiteClient, configured: str | None, now: datetime) -> UserZone:
    """The zone SuiteQL uses for this token's user; ConfigError when the setting must say (or is wrong),
    a ConnectorError when the account's answers leave it unknown and nothing is set."""
    probes = _Probes(client)
    named = await probes.ask(ZONE_QUERY, "zone")
    region = _region(named)
    if region is not None:  # one request per read: the region's own rules give the offset
        return UserZone(region.key, "the NetSuite user's preference", region.utcoffset(now))
    offset = parse_offset(await probes.ask(OFFSET_QUERY, "now"))
    if offset is None and named is not None and _BARE_OFFSET.fullmatch(named.strip()):
        offset = parse_offset(named)  # a session zone set as an offset, e.g. -05:00
    if offset is None:
        offset = await probes.offset_from_wall_clock()
    if configured is not None:
        expected = ZoneInfo(configured).utcoffset(now)
        if offset is None or expected == offset:
            how = "checked against NetSuite's clock" if offset is not None else "NetSuite did not confirm it"
            return UserZone(configured, f"from {SETTING} ({how})", offset)
        raise ConfigError(
            SETTING,
            f"is {configured} (UTC{format_offset(expected or timedelta(0))} now), but NetSuite shows this "
            f"user's times at UTC{format_offset(offset)}",
            fix=f"Set {SET_IT} to the integration user's time zone as NetSuite shows it ({PREFERENCE}), "
            "e.g. America/New_York, or change that preference.",
        )
    if offset == timedelta(0):
        return UserZone("UTC", "NetSuite's clock (UTC+00:00, no zone name)", offset)
    if offset is not None:
        raise ConfigError(
            SETTING,
            f"NetSuite shows this user's times at UTC{format_offset(offset)} but does not name the time "
            "zone, and the connection does not set one",
            fix=f"Set {SET_IT} to the integration user's time zone ({PREFERENCE}), e.g. America/New_York: "
            "the offset alone does not say when daylight saving time changes it.",
        )
    raise probes.unknown()


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
