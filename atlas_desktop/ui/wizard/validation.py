"""Field-by-field checks of the credentials form, as the user types, on top of domain.connection."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atlas_desktop.domain.connection import check_url, normalise_netsuite_account
from atlas_desktop.domain.errors import ConfigError

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_SAP_CLIENT = re.compile(r"^\d{3}$")

HEX_FIELDS = ("consumer_key", "consumer_secret", "token_id", "token_secret")
FILE_FIELDS = ("client_certificate", "client_key", "ca_bundle")
URL_FIELDS = {
    "base_url": "server address",
    "token_endpoint": "token endpoint",
    "proxy": "proxy address",
    "atlas_base_url": "Atlas address",
}
_HEX_NAMES = {
    "consumer_key": "consumer key",
    "consumer_secret": "consumer secret",
    "token_id": "token ID",
    "token_secret": "token secret",
}


@dataclass(frozen=True)
class FieldCheck:
    """The verdict on one field. `value` is what the field should hold (e.g. the realm casing fixed)."""

    ok: bool
    message: str = ""
    value: str | None = None
    note: str = ""


OK = FieldCheck(ok=True)


def _from_error(error: ConfigError) -> FieldCheck:
    # ConfigError.message starts with "field: "; the form shows the message next to its field already.
    text = error.message.split(": ", 1)[-1]
    return FieldCheck(ok=False, message=f"{text[:1].upper()}{text[1:]}. {error.fix}")


def check_account_id(text: str) -> FieldCheck:
    try:
        account = normalise_netsuite_account(text)
    except ConfigError as error:
        return _from_error(error)
    if account != text.strip():
        return FieldCheck(
            ok=True,
            value=account,
            note=f"Written as {account}: NetSuite only accepts the uppercase form with an underscore.",
        )
    return OK


def check_hex64(name: str, text: str) -> FieldCheck:
    value = text.strip()
    what = _HEX_NAMES.get(name, name)
    if not value:
        return FieldCheck(False, f"Enter the {what}. NetSuite shows it only once, when it is created.")
    if any(ch.isspace() for ch in value):
        return FieldCheck(False, f"The {what} contains spaces or line breaks. Copy it again without them.")
    if not _HEX64.match(value):
        bad = sorted({ch for ch in value if ch not in "0123456789abcdefABCDEF"})
        if bad:
            shown = "".join(bad[:5])
            return FieldCheck(
                False, f"The {what} may only hold 0-9 and a-f (found '{shown}'). Copy it again from NetSuite."
            )
        return FieldCheck(
            False,
            f"The {what} has {len(value)} characters; NetSuite's have 64. Copy the whole value; "
            "if it was lost, create a new one in NetSuite.",
        )
    return FieldCheck(ok=True, value=value if value != text else None)


def check_url_field(name: str, text: str, *, required: bool) -> FieldCheck:
    if not text.strip():
        if required:
            return FieldCheck(False, f"Enter the {URL_FIELDS.get(name, 'address')}, starting with https://.")
        return OK
    try:
        url = check_url(name, text, what=URL_FIELDS.get(name, "address"))
    except ConfigError as error:
        return _from_error(error)
    return FieldCheck(ok=True, value=url if url != text else None)


def check_readable_file(name: str, text: str, *, required: bool) -> FieldCheck:
    path = text.strip()
    if not path:
        return FieldCheck(False, "Choose the file.") if required else OK
    if path.lstrip().startswith("-----BEGIN"):
        return FieldCheck(False, "This is the PEM text itself. Save it as a .pem file and choose that file.")
    expanded = os.path.expanduser(path)
    if not os.path.isfile(expanded):
        return FieldCheck(False, f"There is no file at {path}. Check the path or use Browse.")
    if not os.access(expanded, os.R_OK):
        return FieldCheck(False, f"{path} cannot be read. Check the file's permissions.")
    try:
        with open(expanded, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        return FieldCheck(False, f"{path} cannot be read ({exc.strerror}).")
    if b"-----BEGIN" not in head:
        return FieldCheck(
            False, f"{path} is not a PEM file. Export the certificate/key in PEM (Base64) form."
        )
    return OK


def check_sap_client(text: str, *, required: bool) -> FieldCheck:
    value = text.strip()
    if not value:
        if required:
            return FieldCheck(False, "Enter the 3-digit SAP client, e.g. 100 (ask your SAP Basis team).")
        return OK
    if not _SAP_CLIENT.match(value):
        return FieldCheck(False, f"'{value}' is not a 3-digit SAP client. It looks like 100.")
    return OK


def check_plain(name: str, text: str, label: str, *, required: bool) -> FieldCheck:
    value = text
    if not value.strip():
        return FieldCheck(False, f"Enter the {label}.") if required else OK
    if value != value.strip() or any(ch.isspace() for ch in value):
        return FieldCheck(False, f"The {label} contains spaces or line breaks. Copy it again without them.")
    return OK


def check_time_zone(text: str) -> FieldCheck:
    """Empty (NetSuite is asked) or a time zone name the connector can use (the IANA database's)."""
    value = text.strip()
    if not value:
        return OK
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return FieldCheck(
            False, f"{value} is not a time zone name. Enter it as Region/City, e.g. America/New_York."
        )
    return OK


def check_field(name: str, text: str, *, required: bool, label: str = "") -> FieldCheck:
    """Dispatch on the field's name; `label` words the message for plain secret fields."""
    if name == "account_id":
        return check_account_id(text)
    if name in HEX_FIELDS:
        return check_hex64(name, text)
    if name in URL_FIELDS:
        return check_url_field(name, text, required=required)
    if name in FILE_FIELDS:
        return check_readable_file(name, text, required=required)
    if name == "sap_client":
        return check_sap_client(text, required=required)
    if name == "timezone":
        return check_time_zone(text)
    if name == "scope":
        return OK  # space-separated scope names: any text the SAP system accepts
    return check_plain(name, text, label or name.replace("_", " "), required=required)
