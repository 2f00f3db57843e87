""" "Paste all": recognise the credential values a user copied in one go (NetSuite's four keys, a SAP key).

Understood forms:
  * NetSuite OAuth 2.0 (M2M): "Account ID", "Client ID" (NetSuite labels it "Consumer Key / Client ID")
    and "Certificate ID" as labelled lines (label and value on one line or two), a lone 64-hex value as
    the Client ID, or our credentials JSON. A Certificate ID, or a Client ID without token values, tells
    the sign-in is OAuth 2.0; token values tell TBA.
  * NetSuite TBA: labelled lines as NetSuite shows them ("Consumer Key / Client ID: ...", "Token ID: ..."), or
    the four 64-hex values in the order NetSuite shows them (consumer key, consumer secret, token ID, token
    secret), or our credentials JSON.
  * SAP: our credentials JSON, a BTP service key (`url`, `uaa.clientid`, `uaa.clientsecret`, `uaa.url`),
    a communication-arrangement copy ("Client ID", "Token Service URL", "User Name", ...) as labelled lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atlas_desktop.domain.connection import NetSuiteAuthMode, SapAuthMode
from atlas_desktop.domain.model import ErpType
from atlas_desktop.ui.monitoring.wording import plural

_HEX64_ANY = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
NETSUITE_ORDER = ("consumer_key", "consumer_secret", "token_id", "token_secret")


def _norm(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", label.lower()).strip()


# Label (normalised) -> field. Longest labels are tried first, so "token secret" wins over "token".
_LABELS: Mapping[str, str] = {
    "account id": "account_id",
    "account": "account_id",
    "realm": "account_id",
    "consumer key client id": "consumer_key",
    "consumer key": "consumer_key",
    "consumer secret client secret": "consumer_secret",
    "consumer secret": "consumer_secret",
    "token id": "token_id",
    "token key": "token_id",
    "token secret": "token_secret",
    "certificate id": "certificate_id",
    "client id": "client_id",
    "clientid": "client_id",
    "oauth client id": "client_id",
    "client secret": "client_secret",
    "clientsecret": "client_secret",
    "token service url": "token_endpoint",
    "token endpoint": "token_endpoint",
    "token url": "token_endpoint",
    "user name": "username",
    "username": "username",
    "user": "username",
    "password": "password",
    "api url": "base_url",
    "url": "base_url",
    "host": "base_url",
    "base url": "base_url",
    "service url": "base_url",
    "sap client": "sap_client",
    "client": "sap_client",
    "mandt": "sap_client",
    "proxy": "proxy",
}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _./()-]*?)\s*[:=\t]\s*(\S.*?)\s*$")
_NETSUITE_FIELDS = frozenset(
    {"account_id", *NETSUITE_ORDER, "client_id", "certificate_id", "base_url", "proxy", "ca_bundle"}
)
_TBA_ONLY = frozenset({"consumer_secret", "token_id", "token_secret"})
_SAP_FIELDS = frozenset(
    {
        "base_url",
        "client_id",
        "client_secret",
        "token_endpoint",
        "scope",
        "username",
        "password",
        "sap_client",
        "client_certificate",
        "client_key",
        "client_key_password",
        "proxy",
        "ca_bundle",
    }
)


@dataclass
class PasteResult:
    """Field values found; `auth_mode` when the values tell the sign-in; `problems` to show the user."""

    values: dict[str, str] = field(default_factory=dict)
    auth_mode: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def found(self) -> tuple[str, ...]:
        return tuple(self.values)


def _flatten_json(data: Mapping[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    credentials = data.get("credentials")
    merged = {**data, **credentials} if isinstance(credentials, Mapping) else dict(data)
    uaa = merged.get("uaa")
    if isinstance(uaa, Mapping):  # SAP BTP service key
        if uaa.get("clientid"):
            flat["client_id"] = str(uaa["clientid"])
        if uaa.get("clientsecret"):
            flat["client_secret"] = str(uaa["clientsecret"])
        if uaa.get("url"):
            flat["token_endpoint"] = str(uaa["url"]).rstrip("/") + "/oauth/token"
    for key, value in merged.items():
        if isinstance(value, Mapping | list) or value is None:
            continue
        name = key if key in _NETSUITE_FIELDS | _SAP_FIELDS else _LABELS.get(_norm(key))
        if name and name not in flat:
            flat[name] = str(value).strip()
    return flat


def _labelled_lines(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    lines = [line for line in text.splitlines() if line.strip()]
    labels = sorted(_LABELS, key=len, reverse=True)
    pending: str | None = None
    for line in lines:
        match = _LINE.match(line)
        if match:
            name = _LABELS.get(_norm(match.group(1)))
            if name is None:
                # "Consumer Key / Client ID: ..." style labels: take the longest known label they start with.
                normal = _norm(match.group(1))
                name = next((_LABELS[label] for label in labels if normal.startswith(label)), None)
            if name and name not in found:
                found[name] = match.group(2).strip().strip("\"'")
                pending = None
                continue
        # NetSuite's pages put the label on one line and the value on the next.
        normal = _norm(line)
        if normal in _LABELS and _LABELS[normal] not in found:
            pending = _LABELS[normal]
            continue
        if pending is not None and " " not in line.strip():
            found[pending] = line.strip()
        pending = None
    return found


def _netsuite_m2m(values: dict[str, str], text: str, result: PasteResult) -> dict[str, str]:
    """OAuth 2.0 (M2M): the Client ID is the integration's consumer key; TBA's other values are not needed."""
    if not values.get("client_id") and values.get("consumer_key"):
        values["client_id"] = values["consumer_key"]
    if not values.get("client_id"):
        loose = [value for value in _HEX64_ANY.findall(text) if value not in values.values()]
        if len(loose) == 1:
            values["client_id"] = loose[0]
        elif loose:
            result.problems.append(
                f"Found {len(loose)} keys without a label; paste the Client ID with its label "
                "(Consumer Key / Client ID)."
            )
    return {k: v for k, v in values.items() if k != "consumer_key" and k not in _TBA_ONLY}


def _netsuite_mode(values: Mapping[str, str], text: str, asked: str | None) -> str:
    if values.get("certificate_id"):
        return NetSuiteAuthMode.OAUTH2_M2M
    if values.get("token_id") or values.get("token_secret") or len(_HEX64_ANY.findall(text)) >= 3:
        return NetSuiteAuthMode.TBA  # token values, or TBA's four keys pasted without labels
    return asked or NetSuiteAuthMode.OAUTH2_M2M


def recognise(text: str, erp_type: ErpType, auth_mode: str | None = None) -> PasteResult:
    """Find the credential fields for `erp_type` in pasted `text`. Never raises; problems are listed.

    `auth_mode` is the NetSuite sign-in chosen on the form, used when the pasted values do not tell it.
    """
    result = PasteResult()
    stripped = text.strip()
    if not stripped:
        return result
    values: dict[str, str] = {}
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            result.problems.append(
                f"This looks like JSON but cannot be read (line {exc.lineno}, column {exc.colno}). "
                "Copy the whole text again."
            )
            return result
        if isinstance(data, Mapping):
            values = _flatten_json(data)
    else:
        values = _labelled_lines(stripped)
    if erp_type is ErpType.NETSUITE:
        values = {k: v for k, v in values.items() if k in _NETSUITE_FIELDS}
        result.auth_mode = _netsuite_mode(values, stripped, auth_mode)
        if result.auth_mode == NetSuiteAuthMode.OAUTH2_M2M:
            values = _netsuite_m2m(values, stripped, result)
        elif values.get("client_id") and not values.get("consumer_key"):
            values["consumer_key"] = values.pop("client_id")
        missing = [name for name in NETSUITE_ORDER if name not in values]
        if missing and result.auth_mode == NetSuiteAuthMode.TBA:
            # Unlabelled: the 64-hex values in the order NetSuite shows them, skipping ones already labelled.
            labelled = set(values.values())
            loose = [value for value in _HEX64_ANY.findall(stripped) if value not in labelled]
            if len(loose) == len(missing) or (not values and len(loose) == 4):
                values.update(dict(zip(missing, loose, strict=False)))
            elif loose:
                result.problems.append(
                    f"Found {plural(len(loose), 'key')} without a label; paste all four in NetSuite's order "
                    "(consumer key, consumer secret, token ID, token secret) or with their labels."
                )
    else:
        values = {k: v for k, v in values.items() if k in _SAP_FIELDS}
        if values.get("client_id") or values.get("client_secret"):
            result.auth_mode = SapAuthMode.OAUTH2
        elif values.get("client_certificate") or values.get("client_key"):
            result.auth_mode = SapAuthMode.X509
        elif values.get("username") or values.get("password"):
            result.auth_mode = SapAuthMode.BASIC
    if not values and not result.problems:
        result.problems.append(
            "No credentials recognised. Paste the values with their labels (as the ERP shows them) "
            "or type them into the fields below."
        )
    result.values = values
    return result
