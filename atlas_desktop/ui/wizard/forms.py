"""Which credential fields each ERP (and SAP sign-in method) asks for, and the file they make together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atlas_desktop.domain.connection import (
    ALL_SECRET_FIELDS,
    ConnectionSpec,
    NetSuiteAuthMode,
    SapAuthMode,
    parse_connection,
)
from atlas_desktop.domain.model import ErpType

ERP_LABELS: Mapping[ErpType, str] = {
    ErpType.NETSUITE: "Oracle NetSuite",
    ErpType.SAP_CLOUD: "SAP S/4HANA Cloud",
    ErpType.SAP_ONPREM: "SAP S/4HANA on-premise",
}

SAP_AUTH_LABELS: Mapping[str, str] = {
    SapAuthMode.OAUTH2: "OAuth 2.0 (client ID and secret)",
    SapAuthMode.BASIC: "User name and password",
    SapAuthMode.X509: "Client certificate (X.509)",
}
NETSUITE_AUTH_LABELS: Mapping[str, str] = {
    NetSuiteAuthMode.OAUTH2_M2M: "OAuth 2.0 client credentials (M2M) — recommended",
    NetSuiteAuthMode.TBA: "Token-based authentication (TBA) — existing integrations",
}
AUTH_LABELS: Mapping[str, str] = {**SAP_AUTH_LABELS, **NETSUITE_AUTH_LABELS}
# Typed on the credentials form, but the connection file keeps them under "settings".
SETTINGS_FIELDS = frozenset({"timezone"})
# Made by the app, never typed: the M2M private key is generated with the certificate (CredentialsPage).
GENERATED_FIELDS = frozenset({"private_key"})


# Plain to type and to show, but vault-sealed in the wizard's draft: a proxy address can hold a password.
SEALED_FIELDS = frozenset({"proxy"})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    placeholder: str = ""
    required: bool = True
    advanced: bool = False
    kind: str = "text"  # "text", "secret", "file"
    help: str = ""

    @property
    def secret(self) -> bool:
        return self.name in ALL_SECRET_FIELDS

    @property
    def sealed(self) -> bool:
        """Kept as a Secret in the wizard state (sealed in its draft): credentials and the proxy."""
        return self.secret or self.name in SEALED_FIELDS


_NETSUITE_ACCOUNT = FieldSpec(
    "account_id",
    "Account ID",
    "1234567 or 1234567_SB1",
    help="Setup > Company > Company Information > Account ID",
)
_NETSUITE_BASE_URL = FieldSpec(
    "base_url", "Server address", "only for a custom domain or the sandbox", required=False, advanced=True
)
# Only when the connection test cannot learn it from NetSuite: SuiteQL shows times in this zone.
_NETSUITE_TIME_ZONE = FieldSpec(
    "timezone",
    "NetSuite user's time zone",
    "empty: asked of NetSuite; else e.g. America/New_York",
    required=False,
    advanced=True,
    help="Home > Set Preferences > Localization > Time Zone, signed in as the integration user",
)
_NETSUITE_M2M = (
    _NETSUITE_ACCOUNT,
    FieldSpec(
        "client_id",
        "Client ID",
        "from the integration record (shown once)",
        kind="secret",
        help="Setup > Integration > Manage Integrations: shown once, when the record is saved",
    ),
    FieldSpec(
        "certificate_id",
        "Certificate ID",
        "shown after the certificate upload",
        help="Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup",
    ),
    _NETSUITE_BASE_URL,
    _NETSUITE_TIME_ZONE,
)
_NETSUITE = (
    _NETSUITE_ACCOUNT,
    FieldSpec("consumer_key", "Consumer key", "64 characters, 0-9 and a-f", kind="secret"),
    FieldSpec("consumer_secret", "Consumer secret", "64 characters, 0-9 and a-f", kind="secret"),
    FieldSpec("token_id", "Token ID", "64 characters, 0-9 and a-f", kind="secret"),
    FieldSpec("token_secret", "Token secret", "64 characters, 0-9 and a-f", kind="secret"),
    _NETSUITE_BASE_URL,
    _NETSUITE_TIME_ZONE,
)
_SAP_COMMON = (FieldSpec("base_url", "API address", "https://my000000-api.s4hana.cloud.sap"),)
# On-premise: the company's own Gateway host and HTTPS port (often 443nn), not SAP's cloud domain.
_SAP_ONPREM_ADDRESS = FieldSpec("base_url", "API address", "https://sap.example.local:44300")
_SAP_ONPREM_CLIENT = FieldSpec("sap_client", "SAP client", "e.g. 100")
_SAP_BY_MODE: Mapping[str, tuple[FieldSpec, ...]] = {
    SapAuthMode.OAUTH2: (
        FieldSpec("client_id", "Client ID", "from the communication arrangement", kind="secret"),
        FieldSpec("client_secret", "Client secret", kind="secret"),
        FieldSpec(
            "token_endpoint",
            "Token endpoint",
            "default: <API address>/sap/bc/sec/oauth2/token",
            required=False,
            advanced=True,
        ),
    ),
    SapAuthMode.BASIC: (
        # Vaulted like every credential (see FieldSpec.secret), but a name: shown as typed, not masked.
        FieldSpec("username", "User name", "the communication or service user"),
        FieldSpec("password", "Password", kind="secret"),
    ),
    SapAuthMode.X509: (
        FieldSpec("client_certificate", "Client certificate", "certificate .pem file", kind="file"),
        FieldSpec("client_key", "Private key", "key .pem file", kind="file"),
        FieldSpec(
            "client_key_password",
            "Key password",
            "only if the key file is encrypted",
            required=False,
            kind="secret",
        ),
    ),
}
NETWORK_FIELDS = (
    FieldSpec(
        "proxy", "HTTP proxy", "http://proxy.example.com:8080 (empty: none)", required=False, advanced=True
    ),
    FieldSpec(
        "ca_bundle",
        "Corporate CA bundle",
        "PEM file, if your network inspects TLS",
        required=False,
        advanced=True,
        kind="file",
    ),
)


def auth_modes(erp_type: ErpType) -> tuple[str, ...]:
    if erp_type is ErpType.SAP_CLOUD:
        return (SapAuthMode.OAUTH2, SapAuthMode.BASIC, SapAuthMode.X509)
    if erp_type is ErpType.SAP_ONPREM:
        return (SapAuthMode.BASIC, SapAuthMode.X509)
    # OAuth 2.0 first: new NetSuite integrations cannot use TBA from 2027.1.
    return (NetSuiteAuthMode.OAUTH2_M2M, NetSuiteAuthMode.TBA)


def fields_for(erp_type: ErpType, auth_mode: str | None = None) -> tuple[FieldSpec, ...]:
    """The form's fields in tab order, network fields (under "Advanced") last."""
    if erp_type is ErpType.NETSUITE:
        if auth_mode == NetSuiteAuthMode.TBA:
            return _NETSUITE + NETWORK_FIELDS
        return _NETSUITE_M2M + NETWORK_FIELDS
    mode = auth_mode or auth_modes(erp_type)[0]
    fields: tuple[FieldSpec, ...] = _SAP_COMMON
    if erp_type is ErpType.SAP_ONPREM:
        fields = (_SAP_ONPREM_ADDRESS, _SAP_ONPREM_CLIENT)
    return fields + _SAP_BY_MODE[mode] + NETWORK_FIELDS


def connection_data(
    erp_type: ErpType, values: Mapping[str, str], auth_mode: str | None = None
) -> dict[str, Any]:
    """The JSON object `parse_connection` reads, from the form's values (only this mode's fields)."""
    data: dict[str, Any]
    if erp_type is ErpType.NETSUITE:
        data = {"erp_type": "netsuite"}
        if auth_mode != NetSuiteAuthMode.TBA:
            data["auth"] = NetSuiteAuthMode.OAUTH2_M2M
            if values.get("private_key"):
                data["private_key"] = values["private_key"]
    else:
        data = {"erp_type": "sap", "environment": "cloud" if erp_type is ErpType.SAP_CLOUD else "on_premise"}
    for spec in fields_for(erp_type, auth_mode):
        value = values.get(spec.name, "")
        if spec.secret:
            # Secrets are passed as typed: the parser refuses stray spaces instead of hiding them.
            if value:
                data[spec.name] = value
        elif value.strip() and spec.name in SETTINGS_FIELDS:
            data.setdefault("settings", {})[spec.name] = value.strip()
        elif value.strip():
            data[spec.name] = value.strip()
    return data


def form_values(fields: Mapping[str, str], secrets: Mapping[str, Any]) -> dict[str, str]:
    """The form's values from the wizard state: plain fields, and secrets revealed for parsing only."""
    values = dict(fields)
    for name, secret in secrets.items():
        if (name in ALL_SECRET_FIELDS or name in SEALED_FIELDS) and secret:
            values[name] = secret.reveal()
    return values


def spec_from_values(
    erp_type: ErpType, values: Mapping[str, str], auth_mode: str | None = None
) -> ConnectionSpec:
    """Validate the whole form with the same parser the CLI import uses (ConfigError names the field)."""
    return parse_connection(connection_data(erp_type, values, auth_mode))
