"""Connection definitions: the credential file formats we read, validated field by field.

A file is the JSON the customer gives Atlas ("What Customer Provides to Atlas"), flat or with the
credentials under a "credentials" object:

    NetSuite:  account_id and one of: consumer_key, consumer_secret, token_id, token_secret  -> TBA
                           auth "oauth2_m2m", client_id, certificate_id, private_key  -> OAuth 2.0 M2M
               [, base_url, connection_name, settings]
               (private_key is the PEM text here: the app reads a PEM path before parsing, app/key_files.py)
    SAP:       environment ("cloud" | "on_premise"), base_url
               and one of: client_id + client_secret (+ token_endpoint, scope)   -> OAuth 2.0
                           username + password (+ sap_client)                     -> Basic
                           client_certificate + client_key (+ sap_client)         -> X.509
               [, ca_bundle, proxy, connection_name, settings]

Secret fields become `Secret` values at once, so nothing downstream can print them. A proxy's password
(`proxy: "http://user:password@host:port"`, top level or in `settings`) becomes the secret
`proxy_password`; the settings keep `http://user:****@host:port` (domain/proxy.py).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.proxy import PROXY, PROXY_PASSWORD, ProxySetting, split_proxy
from atlas_desktop.domain.secrets import Secret

NETSUITE_SECRET_FIELDS = ("consumer_key", "consumer_secret", "token_id", "token_secret")
SAP_OAUTH_SECRET_FIELDS = ("client_id", "client_secret")
SAP_BASIC_SECRET_FIELDS = ("username", "password")
SAP_CERT_SECRET_FIELDS = ("client_key_password",)
NETSUITE_M2M_SECRET_FIELDS = ("client_id", "private_key")
ALL_SECRET_FIELDS = frozenset(
    NETSUITE_SECRET_FIELDS
    + SAP_OAUTH_SECRET_FIELDS
    + SAP_BASIC_SECRET_FIELDS
    + SAP_CERT_SECRET_FIELDS
    + NETSUITE_M2M_SECRET_FIELDS
    + (PROXY_PASSWORD,)
)

_NETSUITE_ACCOUNT = re.compile(r"^[A-Za-z0-9]+(?:[_-](?:SB|RP)\d*)?$", re.IGNORECASE)
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_SAP_CLIENT = re.compile(r"^\d{3}$")
_CLOUD = {"cloud", "s4hana_cloud", "s4_cloud", "public_cloud"}
_ONPREM = {"on_premise", "on-premise", "onpremise", "onprem", "on_prem", "private_cloud"}


class NetSuiteAuthMode:
    TBA = "tba"
    OAUTH2_M2M = "oauth2_m2m"


_PEM_KEY = re.compile(
    r"^-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----\r?\n[A-Za-z0-9+/=\r\n]+-----END \1-----\s*$"
)
_CERTIFICATE_ID = re.compile(r"^[A-Za-z0-9_\-]{8,200}$")


def is_pem_private_key(value: str) -> bool:
    return bool(_PEM_KEY.match(value.strip()))


class SapAuthMode:
    OAUTH2 = "oauth2"
    BASIC = "basic"
    X509 = "x509"


@dataclass(frozen=True)
class ConnectionSpec:
    """A validated connection: non-secret settings in `settings`, credentials in `secrets`."""

    erp_type: ErpType
    name: str
    settings: Mapping[str, Any]
    secrets: Mapping[str, Secret] = field(repr=False)
    notes: tuple[str, ...] = ()


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(field_name: str, value: object, *, what: str = "address") -> str:
    """An https URL, or http only to this machine (the sandbox). Returns it without a trailing slash."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            field_name, f"the {what} is missing", fix=f"Enter the {what}, starting with https://."
        )
    url = value.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "https://[host" (an unclosed IPv6 bracket)
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            field_name,
            f"'{url}' is not a web address",
            fix=f"Enter the full {what}, for example https://my-host.example.com.",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            field_name,
            "plain http:// is only allowed for this computer (the sandbox)",
            fix="Use the https:// address of the server.",
        )
    return url.rstrip("/")


def normalise_netsuite_account(value: object) -> str:
    """NetSuite's account id form: digits (or letters) then `_SB1`/`_RP`, uppercase, underscore."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            "account_id",
            "the account ID is missing",
            fix="Copy it from NetSuite: Setup > Company > Company Information > Account ID.",
        )
    account = value.strip()
    if not _NETSUITE_ACCOUNT.match(account):
        raise ConfigError(
            "account_id",
            f"'{account}' is not a NetSuite account ID",
            fix="It looks like 1234567 or 1234567_SB1 (Setup > Company > Company Information).",
        )
    return account.upper().replace("-", "_")


def _text(data: Mapping[str, Any], name: str, *, required: bool, fix: str = "") -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ConfigError(name, "is missing", fix=fix or f"Add the field '{name}'.")
        return None
    if not isinstance(value, str):
        raise ConfigError(name, f"must be text, not {type(value).__name__}")
    return value.strip()


def _secret(data: Mapping[str, Any], name: str, *, required: bool, fix: str = "") -> Secret | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise ConfigError(name, "is missing", fix=fix or f"Add the field '{name}'.")
        return None
    if not isinstance(value, str):
        raise ConfigError(name, f"must be text, not {type(value).__name__}")
    if value != value.strip() or any(ch.isspace() for ch in value):
        raise ConfigError(name, "contains spaces or line breaks", fix="Copy the value again without spaces.")
    return Secret(value)


def _merged(data: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(data)
    credentials = data.get("credentials")
    if credentials is not None:
        if not isinstance(credentials, Mapping):
            raise ConfigError("credentials", "must be an object")
        merged.update(credentials)
    return merged


def detect_erp_type(data: Mapping[str, Any]) -> ErpType:
    declared = data.get("erp_type") or data.get("type")
    environment = str(data.get("environment", "")).strip().lower()
    if isinstance(declared, str) and declared.strip():
        kind = declared.strip().lower()
        if kind == "netsuite":
            return ErpType.NETSUITE
        if kind in ("sap", "sap_s4hana", "s4hana"):
            return ErpType.SAP_ONPREM if environment in _ONPREM else ErpType.SAP_CLOUD
        try:
            return ErpType(kind)
        except ValueError:
            raise ConfigError(
                "erp_type", f"'{declared}' is not a supported ERP", fix="Use 'netsuite' or 'sap'."
            ) from None
    if "account_id" in data:
        return ErpType.NETSUITE
    if environment in _ONPREM:
        return ErpType.SAP_ONPREM
    if environment in _CLOUD:
        return ErpType.SAP_CLOUD
    raise ConfigError(
        "erp_type",
        "cannot tell which ERP this file is for",
        fix='Add "erp_type": "netsuite" or "sap" (with "environment": "cloud" or "on_premise").',
    )


# Fields the file gives at its top level, where they are checked; in "settings" they would bypass that
# (e.g. an http:// base_url that sends the credentials in clear). A proxy there is checked like one at
# the top level (_common_settings).
_TOP_LEVEL_FIELDS = frozenset({
    "erp_type", "type", "environment", "connection_name", "account_id", "base_url", "token_endpoint",
    "scope", "sap_client", "client_certificate", "client_key", "ca_bundle", "credentials",
})  # fmt: skip
_SETTING_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SETTINGS_DEPTH = 4
MAX_SETTINGS_CHARS = 64 * 1024
MAX_NAME_CHARS = 100


def check_connection_name(value: object, field: str = "connection_name") -> str:
    """A connection name people read in lists and logs: trimmed, 1-100 visible characters.

    Control and format characters are refused: NUL ends strings in C code and logs, and the
    right-to-left override (U+202E) makes a name display as something else.
    """
    if not isinstance(value, str):
        raise ConfigError(field, f"must be text, not {type(value).__name__}")
    name = value.strip()
    if not name:
        raise ConfigError(field, "is empty", fix="Give the connection a name, e.g. 'Main NetSuite'.")
    if len(name) > MAX_NAME_CHARS:
        raise ConfigError(field, f"is longer than {MAX_NAME_CHARS} characters", fix="Shorten it.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in name):
        raise ConfigError(
            field,
            "contains control or invisible formatting characters",
            fix="Type the name again with letters, digits, spaces and punctuation only.",
        )
    return name


def _check_setting_value(value: object, path: str, depth: int = 0) -> None:
    if depth > MAX_SETTINGS_DEPTH:
        raise ConfigError(path, f"is nested more than {MAX_SETTINGS_DEPTH} levels deep")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(path, "has a key that is not text")
            _check_setting_value(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_setting_value(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(path, "is not a finite number")
    elif isinstance(value, str) and any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ConfigError(path, "contains control characters", fix="Copy the value again.")
    elif value is not None and not isinstance(value, str | int | float | bool):
        raise ConfigError(path, f"cannot be a {type(value).__name__}")


def checked_settings_object(extra: object) -> dict[str, Any]:
    """The file's "settings" object: known-shaped names, JSON values of bounded size and depth, and none
    of the fields that belong at the top level (checked there)."""
    if not isinstance(extra, Mapping):
        raise ConfigError("settings", "must be an object")
    for name, value in extra.items():
        if not isinstance(name, str) or not _SETTING_NAME.match(name):
            raise ConfigError("settings", f"{str(name)[:40]!r} is not a setting name", fix="Check the file.")
        if name in _TOP_LEVEL_FIELDS or name in ALL_SECRET_FIELDS:
            raise ConfigError(
                f"settings.{name}",
                'belongs at the top level of the file, not under "settings"',
                fix=f'Move "{name}" out of "settings".',
            )
        _check_setting_value(value, f"settings.{name}")
    if len(json.dumps(extra, default=str)) > MAX_SETTINGS_CHARS:
        raise ConfigError("settings", "is larger than 64 kB", fix="Keep only the settings you need.")
    return dict(extra)


def check_proxy(field_name: str, value: object) -> ProxySetting:
    """A proxy address checked like any URL, its password split off for the vault."""
    return split_proxy(check_url(field_name, value, what="proxy address"))


def _common_settings(data: Mapping[str, Any], secrets: dict[str, Secret]) -> dict[str, Any]:
    settings: dict[str, Any] = checked_settings_object(data.get("settings", {}))
    ca_bundle = _text(data, "ca_bundle", required=False)
    if ca_bundle:
        settings["ca_bundle"] = ca_bundle
    # The top-level field wins; one inside "settings" is checked (and its password vaulted) the same way.
    inner = settings.pop(PROXY, None)
    top = _text(data, PROXY, required=False)
    field_name, value = (PROXY, top) if top else (f"settings.{PROXY}", inner)
    if value is not None and value != "":
        proxy = check_proxy(field_name, value)
        if proxy.keep_stored:
            raise ConfigError(
                field_name, "holds **** instead of the proxy password",
                fix="Write the proxy password itself, or leave it out if the proxy needs none.",
            )  # fmt: skip
        settings[PROXY] = proxy.url
        if proxy.password is not None:
            secrets[PROXY_PASSWORD] = proxy.password
    return settings


def netsuite_auth_mode(data: Mapping[str, Any]) -> str:
    declared = str(data.get("auth") or "").strip().lower()
    if declared in ("oauth2_m2m", "oauth2", "m2m") or (not declared and data.get("certificate_id")):
        return NetSuiteAuthMode.OAUTH2_M2M
    if declared in ("", "tba", "token"):
        return NetSuiteAuthMode.TBA
    raise ConfigError("auth", f"'{declared}' is not a NetSuite sign-in", fix='Use "oauth2_m2m" or "tba".')


_CERTIFICATE_ID_FIX = (
    "Copy it from Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup."
)


def check_certificate_id(value: str) -> str:
    """The Certificate ID NetSuite's M2M Setup page shows (not secret: it is every JWT's `kid`)."""
    certificate_id = value.strip()
    if not certificate_id:
        raise ConfigError("certificate_id", "is missing", fix=_CERTIFICATE_ID_FIX)
    if not _CERTIFICATE_ID.match(certificate_id):
        raise ConfigError("certificate_id", "is not a NetSuite Certificate ID",
                          fix="Copy the whole Certificate ID from the M2M Setup page.")  # fmt: skip
    return certificate_id


def _m2m_secrets(data: Mapping[str, Any], settings_out: dict[str, Any]) -> dict[str, Secret]:
    """OAuth 2.0 client credentials: Client ID and the PEM private key are secrets; the Certificate ID is not
    (it travels in every JWT header in the clear)."""
    client_id = _secret(
        data, "client_id", required=True, fix="Copy it from the integration record (shown once, when saved)."
    )
    certificate_id = _text(data, "certificate_id", required=True, fix=_CERTIFICATE_ID_FIX)
    assert client_id is not None and certificate_id is not None
    certificate_id = check_certificate_id(certificate_id)
    key = data.get("private_key")
    if not isinstance(key, str) or not key.strip():
        raise ConfigError(
            "private_key", "is missing",
            fix="Give the PEM file of the key whose certificate you uploaded, or, for a certificate made by "
            "`atlas-desktop connections new-certificate`, that certificate's path as `certificate`.",
        )  # fmt: skip
    if not is_pem_private_key(key):
        # never echo the value: it may be a key pasted wrongly
        raise ConfigError("private_key", "is not a PEM private key",
                          fix="Give the path of the .pem file (-----BEGIN PRIVATE KEY-----) made with the "
                          "certificate.")  # fmt: skip
    settings_out["certificate_id"] = certificate_id
    private_key = Secret(key.strip() + "\n")
    certificate = data.get("certificate")  # optional: the uploaded certificate, for the expiry warning
    if isinstance(certificate, str) and certificate.strip():
        # imported here: cryptography's x509 is needed by M2M imports only, not at every start
        from atlas_desktop.domain.m2m_certificate import CERTIFICATE_EXPIRES, uploaded_certificate_expiry

        not_after = uploaded_certificate_expiry(certificate.strip(), private_key)
        settings_out[CERTIFICATE_EXPIRES] = not_after.isoformat()
    return {"client_id": client_id, "private_key": private_key}


def parse_netsuite(data: Mapping[str, Any], name: str | None) -> ConnectionSpec:
    notes: list[str] = []
    raw_account = data.get("account_id")
    account = normalise_netsuite_account(raw_account)
    if isinstance(raw_account, str) and raw_account.strip() != account:
        notes.append(f"account_id written as {account} (NetSuite's form: uppercase, underscore)")
    mode = netsuite_auth_mode(data)
    auth_settings: dict[str, Any] = {}
    secrets: dict[str, Secret] = (
        _m2m_secrets(data, auth_settings) if mode == NetSuiteAuthMode.OAUTH2_M2M else {}
    )
    for field_name in NETSUITE_SECRET_FIELDS if mode == NetSuiteAuthMode.TBA else ():
        secret = _secret(
            data,
            field_name,
            required=True,
            fix="Copy it from NetSuite; it is shown only once when the integration or token is created.",
        )
        assert secret is not None
        if not _HEX64.match(secret.reveal()):
            raise ConfigError(
                field_name,
                f"must be 64 characters 0-9 and a-f (got {len(secret)} characters)",
                fix="Copy the whole value from NetSuite; if it was lost, create a new one there.",
            )
        secrets[field_name] = secret
    settings = _common_settings(data, secrets)
    settings["account_id"] = account
    settings.update(auth_settings)
    if mode != NetSuiteAuthMode.TBA:
        settings["auth_mode"] = mode  # absent = TBA, as every connection made before OAuth 2.0
    base_url = data.get("base_url")
    if base_url:
        settings["base_url"] = check_url("base_url", base_url)
    return ConnectionSpec(
        erp_type=ErpType.NETSUITE,
        name=name or f"NetSuite {account}",
        settings=settings,
        secrets=secrets,
        notes=tuple(notes),
    )


def parse_sap(data: Mapping[str, Any], erp_type: ErpType, name: str | None) -> ConnectionSpec:
    secrets: dict[str, Secret] = {}
    settings = _common_settings(data, secrets)
    settings["base_url"] = check_url("base_url", data.get("base_url"), what="SAP API address")
    if data.get("client_id") or data.get("client_secret"):
        mode = SapAuthMode.OAUTH2
        for field_name in SAP_OAUTH_SECRET_FIELDS:
            secret = _secret(data, field_name, required=True)
            assert secret is not None
            secrets[field_name] = secret
        endpoint = data.get("token_endpoint") or f"{settings['base_url']}/sap/bc/sec/oauth2/token"
        settings["token_endpoint"] = check_url("token_endpoint", endpoint, what="token endpoint")
        scope = _text(data, "scope", required=False)
        if scope:
            settings["scope"] = scope
    elif data.get("client_certificate") or data.get("client_key"):
        mode = SapAuthMode.X509
        settings["client_certificate"] = _text(data, "client_certificate", required=True)
        settings["client_key"] = _text(data, "client_key", required=True)
        password = _secret(data, "client_key_password", required=False)
        if password:
            secrets["client_key_password"] = password
    elif data.get("username") or data.get("password"):
        mode = SapAuthMode.BASIC
        for field_name in SAP_BASIC_SECRET_FIELDS:
            secret = _secret(data, field_name, required=True)
            assert secret is not None
            secrets[field_name] = secret
    else:
        raise ConfigError(
            "credentials",
            "no SAP credentials found",
            fix="Give client_id and client_secret (OAuth 2.0), username and password (Basic), "
            "or client_certificate and client_key (X.509).",
        )
    settings["auth_mode"] = mode
    sap_client = data.get("sap_client")
    if sap_client is not None and sap_client != "":
        client_text = str(sap_client).strip()
        if not _SAP_CLIENT.match(client_text):
            raise ConfigError("sap_client", f"'{client_text}' is not a 3-digit SAP client", fix="E.g. 100.")
        settings["sap_client"] = client_text
    elif erp_type is ErpType.SAP_ONPREM:
        raise ConfigError(
            "sap_client",
            "is missing (an on-premise system needs the client number)",
            fix="Ask your SAP Basis team for the client, e.g. 100 (shown at the SAP logon screen).",
        )
    return ConnectionSpec(
        erp_type=erp_type,
        name=name or f"SAP {urlsplit(settings['base_url']).hostname}",
        settings=settings,
        secrets=secrets,
    )


def parse_connection(data: object) -> ConnectionSpec:
    """Validate one connection file's JSON. Raises ConfigError naming the first wrong field."""
    if not isinstance(data, Mapping):
        raise ConfigError(
            "file", "must hold one JSON object", fix="Check the file is the one Atlas gave you."
        )
    merged = _merged(data)
    erp_type = detect_erp_type(merged)
    name = _text(merged, "connection_name", required=False)
    if name is not None:
        name = check_connection_name(name)
    if erp_type is ErpType.NETSUITE:
        return parse_netsuite(merged, name)
    return parse_sap(merged, erp_type, name)
