"""A NetSuite connection's settings, read once from the ConnectionSpec and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atlas_desktop.connectors.http import HttpSettings
from atlas_desktop.connectors.netsuite.mapping import DEFAULT_NDC_FIELD, DEFAULT_UNIT, FieldMap
from atlas_desktop.connectors.netsuite.queries import column
from atlas_desktop.connectors.netsuite.tba import netsuite_host
from atlas_desktop.domain.connection import ConnectionSpec, NetSuiteAuthMode, check_url
from atlas_desktop.domain.digits import is_ascii_digits
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.proxy import PROXY_PASSWORD
from atlas_desktop.domain.secrets import Secret

DEFAULT_OVERLAP = timedelta(minutes=10)
# Lines in one inventoryAdjustment: NetSuite's limit is 1,000 per transaction; 500 is the
# prudent default (the UI's own limit, and well clear of the 15-minute request timeout).
ACCOUNT_LINE_LIMIT = 1000
DEFAULT_LINES_PER_RECORD = 500


@dataclass(frozen=True)
class NetSuiteSettings:
    account_id: str
    base_url: str
    fields: FieldMap
    adjustment_account_id: str | None
    subsidiary_id: str | None
    default_location_id: str | None
    default_vendor_id: str | None
    concurrency: int
    overlap: timedelta
    proxy: str | None
    ca_bundle: str | None
    proxy_password: Secret | None = field(default=None, repr=False)
    auth_mode: str = NetSuiteAuthMode.TBA
    certificate_id: str | None = None
    # settings.timezone as the connection file gives it (None: the account's answer decides)
    configured_timezone: str | None = None
    lines_per_record: int = DEFAULT_LINES_PER_RECORD

    @property
    def uses_m2m(self) -> bool:
        return self.auth_mode == NetSuiteAuthMode.OAUTH2_M2M

    @property
    def uses_production_host(self) -> bool:
        return self.base_url == f"https://{netsuite_host(self.account_id)}"

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            base_url=self.base_url,
            proxy=self.proxy,
            proxy_password=self.proxy_password,
            ca_bundle=Path(self.ca_bundle) if self.ca_bundle else None,
            max_concurrency=self.concurrency,
            system="NetSuite",
        )


def _optional_id(settings: Mapping[str, Any], name: str) -> str | None:
    value = settings.get(name)
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not is_ascii_digits(text):
        raise ConfigError(
            f"settings.{name}",
            f"'{text}' is not a NetSuite internal id",
            fix="Choose it again in the connection wizard (it is a number such as 2615).",
        )
    return text


def settings_from_spec(spec: ConnectionSpec) -> NetSuiteSettings:
    settings = spec.settings
    account = str(settings.get("account_id") or "").strip()
    if not account:
        raise ConfigError("account_id", "the account ID is missing", fix="Import the connection file again.")
    base_url = settings.get("base_url")
    # base_url replaces scheme, host and port only; the production paths are appended as they are.
    base = check_url("base_url", base_url) if base_url else f"https://{netsuite_host(account)}"
    mappings = settings.get("field_mappings") or {}
    if not isinstance(mappings, Mapping):
        raise ConfigError("settings.field_mappings", "must be an object")
    ndc_field = column(str(mappings.get("ndc_field") or DEFAULT_NDC_FIELD))
    configured_timezone = str(settings["timezone"]) if settings.get("timezone") else None
    timezone = configured_timezone or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "settings.timezone",
            f"'{timezone}' is not a time zone",
            fix="Use the NetSuite user's time zone as an IANA name, e.g. America/New_York.",
        ) from None
    try:
        concurrency = int(settings.get("concurrency") or 5)
        overlap_minutes = float(settings.get("overlap_minutes") or DEFAULT_OVERLAP.total_seconds() / 60)
    except (TypeError, ValueError):
        raise ConfigError("settings.concurrency", "must be a number", fix="Use e.g. 5.") from None
    try:
        lines = int(settings.get("lines_per_record") or DEFAULT_LINES_PER_RECORD)
    except (TypeError, ValueError):
        raise ConfigError("settings.lines_per_record", "must be a number", fix="Use e.g. 500.") from None
    if not 1 <= lines <= ACCOUNT_LINE_LIMIT:
        raise ConfigError(
            "settings.lines_per_record",
            f"must be between 1 and {ACCOUNT_LINE_LIMIT}",
            fix=f"NetSuite takes at most {ACCOUNT_LINE_LIMIT:,} lines in one transaction; use e.g. 500.",
        )
    if not 1 <= concurrency <= 100:
        raise ConfigError(
            "settings.concurrency",
            "must be between 1 and 100",
            fix="Use the account's concurrency limit, 5 unless you bought SuiteCloud Plus.",
        )
    return NetSuiteSettings(
        account_id=account,
        base_url=base,
        fields=FieldMap(
            ndc_column=ndc_field, unit=str(settings.get("unit") or DEFAULT_UNIT), timezone=timezone
        ),
        adjustment_account_id=_optional_id(settings, "adjustment_account_id"),
        subsidiary_id=_optional_id(settings, "subsidiary_id"),
        default_location_id=_optional_id(settings, "default_location_id"),
        default_vendor_id=_optional_id(settings, "default_vendor_id"),
        concurrency=concurrency,
        overlap=timedelta(minutes=max(0.0, overlap_minutes)),
        proxy=str(settings["proxy"]) if settings.get("proxy") else None,
        ca_bundle=str(settings["ca_bundle"]) if settings.get("ca_bundle") else None,
        proxy_password=spec.secrets.get(PROXY_PASSWORD),
        auth_mode=str(settings.get("auth_mode") or NetSuiteAuthMode.TBA),
        certificate_id=str(settings["certificate_id"]) if settings.get("certificate_id") else None,
        configured_timezone=configured_timezone,
        lines_per_record=lines,
    )
