""" "Paste all": recognise the credential values a user copied in one go (NetSuite's four keys, a SAP key).

Understood forms:
  * NetSuite: labelled lines as NetSuite shows them ("Consumer Key / Client ID: ...", "Token ID: ..."), or
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

from atlas_desktop.domain.connection import SapAuthMode
from atlas_desktop.domain.model import ErpType

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
_NETSUITE_FIELDS = frozenset({"account_id", *NETSUITE_ORDER, "base_url", "proxy", "ca_bundle"})
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
    """Field values found; `auth_mode` for SAP when the values tell it; `problems` to show the user."""

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


def recognise(text: str, erp_type: ErpType) -> PasteResult:
    """Find the credential fields for `erp_type` in pasted `text`. Never raises; problems are listed."""
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
        missing = [name for name in NETSUITE_ORDER if name not in values]
        if missing:
            # Unlabelled: the 64-hex values in the order NetSuite shows them, skipping ones already labelled.
            labelled = set(values.values())
            loose = [value for value in _HEX64_ANY.findall(stripped) if value not in labelled]
            if len(loose) == len(missing) or (not values and len(loose) == 4):
                values.update(dict(zip(missing, loose, strict=False)))
            elif loose:
                result.problems.append(
                    f"Found {len(loose)} key(s) without a label; paste all four in NetSuite's order "
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
