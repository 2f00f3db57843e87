"""Edm values: the JSON forms SAP renders (/Date(ms)/, decimal strings) and the request forms it accepts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from atlas_desktop.sandbox.sap.schema import Prop

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE_FORM = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{4}))?\)/$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:\d{2})?$"
)
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")


class EdmValueError(ValueError):
    """A request value that does not fit the property's Edm type."""


def to_ms(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(ms: int, offset_minutes: int = 0) -> datetime:
    # The ticks are UTC; the offset is information only (MS-ODATA 2.2.6.3.1).
    return _EPOCH + timedelta(milliseconds=ms)


def parse_iso(text: str, *, assume_utc: bool = True) -> datetime:
    m = _ISO.match(text)
    if not m:
        raise EdmValueError(f"'{text}' is not a date/time (use yyyy-mm-ddThh:mm:ss)")
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    micro = int((frac or "0").ljust(6, "0")[:6])
    try:
        moment = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro)
    except ValueError as exc:
        raise EdmValueError(f"'{text}' is not a valid date: {exc}") from None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])) * sign
        return (moment - offset).replace(tzinfo=UTC)
    if zone is None and not assume_utc:
        raise EdmValueError(f"'{text}' has no time zone (add Z or +hh:mm)")
    return moment.replace(tzinfo=UTC)


def parse_duration(text: str) -> time:
    m = _DURATION.match(text)
    if not m:
        raise EdmValueError(f"'{text}' is not an Edm.Time (use PThhHmmMssS)")
    seconds = Decimal(m.group(3) or 0)
    try:
        return time(int(m.group(1) or 0), int(m.group(2) or 0), int(seconds))
    except ValueError as exc:
        raise EdmValueError(f"'{text}' is not a time of day: {exc}") from None


def render_time(value: time) -> str:
    return f"PT{value.hour:02d}H{value.minute:02d}M{value.second:02d}S"


def render_decimal(value: Decimal, places: int | None = None) -> str:
    if places is not None:
        return f"{value:.{places}f}"
    text = format(value, "f")
    return text


def to_json(prop: Prop, value: Any, *, decimal_places: int | None = None) -> Any:
    """A stored Python value in SAP's OData v2 JSON form."""
    if value is None:
        return None
    kind = prop.type
    if kind == "Edm.String" or kind == "Edm.Guid":
        return value
    if kind == "Edm.Decimal":
        return render_decimal(value, decimal_places)
    if kind == "Edm.DateTime":
        return f"/Date({to_ms(value)})/"
    if kind == "Edm.DateTimeOffset":
        return f"/Date({to_ms(value)}+0000)/"
    if kind == "Edm.Time":
        return render_time(value)
    if kind == "Edm.Int64":
        return str(value)
    return value  # Boolean, Int16/32, Byte, Double


def from_json(prop: Prop, value: Any, *, accept_decimal_numbers: bool = False) -> Any:
    """A request payload value for `prop`: /Date()/ and ISO forms for dates, decimal strings, etc."""
    if value is None:
        if not prop.nullable:
            raise EdmValueError(f"Property '{prop.name}' must not be null")
        return None
    kind = prop.type
    if kind in ("Edm.String", "Edm.Guid"):
        if not isinstance(value, str):
            raise EdmValueError(f"Property '{prop.name}' expects a string, got {type(value).__name__}")
        if prop.max_length is not None and len(value) > prop.max_length:
            raise EdmValueError(
                f"Property '{prop.name}' is longer than {prop.max_length} characters ({len(value)})"
            )
        return value
    if kind == "Edm.Decimal":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise EdmValueError(f"Property '{prop.name}' expects a decimal string such as \"12.5\"")
        if not isinstance(value, str) and not accept_decimal_numbers:
            raise EdmValueError(
                f"Property '{prop.name}' has invalid value {value!r}: Edm.Decimal must be a JSON string"
            )
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise EdmValueError(f"Property '{prop.name}' has invalid decimal value '{value}'") from None
        if not number.is_finite():
            raise EdmValueError(f"Property '{prop.name}' has invalid decimal value '{value}'")
        if prop.precision is not None and not number.is_zero():
            # A DEC 13,3 field holds 10 digits before the point; SAP cannot store more.
            room = prop.precision - (prop.scale or 0)
            if number.adjusted() + 1 > room:
                raise EdmValueError(
                    f"Property '{prop.name}' has invalid value '{value}': more than {room} digits before "
                    "the decimal point"
                )
        return number
    if kind in ("Edm.DateTime", "Edm.DateTimeOffset"):
        if not isinstance(value, str):
            raise EdmValueError(f"Property '{prop.name}' expects /Date(ms)/ or an ISO date/time string")
        m = _DATE_FORM.match(value.replace("\\/", "/"))
        if m:
            return from_ms(int(m.group(1)))
        return parse_iso(value)
    if kind == "Edm.Time":
        if not isinstance(value, str):
            raise EdmValueError(f"Property '{prop.name}' expects PThhHmmMssS")
        return parse_duration(value)
    if kind == "Edm.Boolean":
        if not isinstance(value, bool):
            raise EdmValueError(f"Property '{prop.name}' expects true or false")
        return value
    if kind in ("Edm.Int16", "Edm.Int32", "Edm.Byte", "Edm.Int64"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise EdmValueError(f"Property '{prop.name}' expects an integer") from None
    return value


def numc_norm(text: str | None) -> str | None:
    """'000000', '0' and '' compare equal for NUMC-like keys."""
    if text is None:
        return None
    stripped = text.lstrip("0")
    return stripped
