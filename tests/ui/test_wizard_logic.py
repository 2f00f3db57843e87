"""Qt-free parts of the wizard: field checks, "paste all" recognition and the draft file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas_desktop.domain.connection import NetSuiteAuthMode, SapAuthMode
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.store.vault import MemoryKeySource, Vault
from atlas_desktop.ui.wizard.forms import spec_from_values
from atlas_desktop.ui.wizard.paste import recognise
from atlas_desktop.ui.wizard.state import WizardDraft, WizardState
from atlas_desktop.ui.wizard.validation import check_field

HEX = ["a" * 64, "b" * 64, "c" * 64, "d" * 64]


@pytest.mark.parametrize(
    ("name", "text", "ok", "words"),
    [
        ("account_id", "1234567", True, ""),
        ("account_id", "12 34", False, "not a NetSuite account ID"),
        ("consumer_key", "a" * 63, False, "63 characters"),
        ("consumer_key", "g" * 64, False, "0-9 and a-f"),
        ("token_secret", "ab cd", False, "spaces"),
        ("token_secret", "", False, "shows it only once"),
        ("base_url", "http://sap.example.com", False, "only allowed for this computer"),
        ("base_url", "sap.example.com", False, "not a web address"),
        ("base_url", "http://127.0.0.1:8080/", True, ""),
        ("sap_client", "10", False, "3-digit"),
        ("client_certificate", "/nonexistent/cert.pem", False, "no file"),
        ("client_certificate", "-----BEGIN CERTIFICATE-----", False, "PEM text itself"),
        ("password", "pass word", False, "spaces"),
        ("timezone", "Mars/Olympus", False, "not a time zone name"),
        ("timezone", "America/New_York", True, ""),
        ("timezone", "", True, ""),  # NetSuite is asked
    ],
)
def test_field_checks_say_what_to_do(name: str, text: str, ok: bool, words: str) -> None:
    result = check_field(name, text, required=True)
    assert result.ok is ok
    assert words in result.message


def test_sandbox_realm_casing_is_fixed_with_a_note() -> None:
    result = check_field("account_id", "1234567_sb1", required=True)
    assert result.ok and result.value == "1234567_SB1"
    assert "uppercase" in result.note


def test_certificate_file_must_be_readable_pem(tmp_path: Path) -> None:
    pem, other = tmp_path / "c.pem", tmp_path / "c.der"
    pem.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    other.write_bytes(b"\x30\x82\x01\x00")
    assert check_field("client_certificate", str(pem), required=True).ok
    assert "not a PEM file" in check_field("client_certificate", str(other), required=True).message


def test_netsuite_paste_in_order_without_labels() -> None:
    result = recognise(" ".join(HEX), ErpType.NETSUITE)
    names = ("consumer_key", "consumer_secret", "token_id", "token_secret")
    assert result.values == dict(zip(names, HEX, strict=True))


def test_netsuite_paste_as_netsuite_shows_it() -> None:
    text = (
        "Consumer Key / Client ID\n" + HEX[0] + "\nConsumer Secret / Client Secret\n" + HEX[1] + "\n"
        "TOKEN ID: " + HEX[2] + "\nToken Secret: " + HEX[3] + "\nAccount ID: 1234567_SB1\n"
    )
    result = recognise(text, ErpType.NETSUITE)
    assert result.values["consumer_secret"] == HEX[1]
    assert result.values["token_id"] == HEX[2]
    assert result.values["account_id"] == "1234567_SB1"
    assert result.problems == []


def test_netsuite_paste_of_too_few_keys_says_so() -> None:
    result = recognise(f"{HEX[0]}\n{HEX[1]}", ErpType.NETSUITE, NetSuiteAuthMode.TBA)
    assert result.values == {}
    assert "all four" in result.problems[0] and result.problems[0].startswith("Found 2 keys without")
    one = recognise(f"Account ID: 1234567\n{HEX[0]}", ErpType.NETSUITE, NetSuiteAuthMode.TBA)
    assert one.problems[0].startswith("Found 1 key without a label")


def test_sap_service_key_json() -> None:
    key = {
        "url": "https://my1-api.s4hana.cloud.sap",
        "uaa": {"clientid": "sb-1", "clientsecret": "s3cr3t!", "url": "https://x.authentication.sap"},
    }
    result = recognise(json.dumps(key), ErpType.SAP_CLOUD)
    assert result.auth_mode == SapAuthMode.OAUTH2
    assert result.values == {
        "client_id": "sb-1",
        "client_secret": "s3cr3t!",
        "token_endpoint": "https://x.authentication.sap/oauth/token",
        "base_url": "https://my1-api.s4hana.cloud.sap",
    }


def test_sap_labelled_basic_credentials() -> None:
    text = "API URL: https://sap.example.com:44300\nUser Name: ATLAS_DESKTOP\n"
    text += "Password: Pa55w0rd\nsap-client: 100\n"
    result = recognise(text, ErpType.SAP_ONPREM)
    assert result.auth_mode == SapAuthMode.BASIC
    assert result.values["sap_client"] == "100" and result.values["username"] == "ATLAS_DESKTOP"


def test_broken_json_is_reported_without_its_text() -> None:
    result = recognise('{"client_secret": "topsecret-value"', ErpType.SAP_CLOUD)
    assert result.values == {}
    assert "topsecret" not in result.problems[0] and "line 1" in result.problems[0]


def test_draft_round_trip_keeps_secrets_sealed(tmp_path: Path) -> None:
    vault = Vault(MemoryKeySource())
    draft = WizardDraft(tmp_path, vault)
    state = WizardState(erp_type=ErpType.NETSUITE, page=3, fields={"account_id": "1234567_SB1"})
    state.secrets = {"token_secret": Secret(HEX[3]), "atlas.api_token": Secret("atl_pat_abcdefgh")}
    draft.save(state)
    text = draft.path.read_text()
    assert HEX[3] not in text and "atl_pat_abcdefgh" not in text
    loaded = draft.load()
    assert loaded is not None and loaded.page == 3 and loaded.fields == state.fields
    assert loaded.secrets["token_secret"].reveal() == HEX[3]
    # Another key (the keyring entry was lost): plain fields resume, secrets must be typed again.
    assert WizardDraft(tmp_path, Vault(MemoryKeySource())).load().secrets == {}
    draft.clear()
    assert draft.load() is None


def test_ndc_place_choices_show_sap_labels_and_shares() -> None:
    from atlas_desktop.domain.connector import NdcPlaceCandidate
    from atlas_desktop.ui.wizard.preferences_page import _choice

    sap = NdcPlaceCandidate("YY1_NDCCode_PRD", 10, 9, "12345-678-90", label="NDC Code")
    assert _choice(sap) == (
        "YY1_NDCCode_PRD",
        "NDC Code – YY1_NDCCode_PRD (90% of sampled items hold an NDC)",
    )
    netsuite = NdcPlaceCandidate("custitem_ndc", 4, 4, "12345-678-90")
    assert _choice(netsuite) == ("custitem_ndc", "custitem_ndc (100% of sampled items hold an NDC)")


def test_netsuite_m2m_paste_as_netsuite_shows_it() -> None:
    # The integration record's "Consumer Key / Client ID" (and its secret, not needed for M2M), the
    # M2M Setup list's Certificate ID and the account, as copied from NetSuite's pages.
    text = (
        "Account ID: 1234567_SB1\nCONSUMER KEY / CLIENT ID\n" + HEX[0] + "\n"
        "CONSUMER SECRET / CLIENT SECRET\n" + HEX[1] + "\nCERTIFICATE ID\nAbC-123_xyzDEF456ghi\n"
    )
    result = recognise(text, ErpType.NETSUITE)
    assert result.auth_mode == NetSuiteAuthMode.OAUTH2_M2M
    assert result.values == {
        "account_id": "1234567_SB1", "client_id": HEX[0], "certificate_id": "AbC-123_xyzDEF456ghi"
    }  # fmt: skip
    assert result.problems == []


def test_netsuite_m2m_paste_of_a_lone_client_id_and_the_credentials_json() -> None:
    lone = recognise(f"Account ID: 7654321\n{HEX[2]}\n", ErpType.NETSUITE, NetSuiteAuthMode.OAUTH2_M2M)
    assert lone.values == {"account_id": "7654321", "client_id": HEX[2]}
    data = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": "7654321", "client_id": HEX[3],
            "certificate_id": "cert-id-0123456789", "private_key": "/tmp/key.pem"}  # fmt: skip
    result = recognise(json.dumps(data), ErpType.NETSUITE)
    assert result.values == {
        "account_id": "7654321", "client_id": HEX[3], "certificate_id": "cert-id-0123456789"
    }  # fmt: skip


def test_netsuite_token_values_tell_tba_even_on_the_m2m_form() -> None:
    result = recognise(" ".join(HEX), ErpType.NETSUITE, NetSuiteAuthMode.OAUTH2_M2M)
    assert result.auth_mode == NetSuiteAuthMode.TBA
    assert result.values["token_secret"] == HEX[3]


@pytest.mark.parametrize("mode", [NetSuiteAuthMode.TBA, NetSuiteAuthMode.OAUTH2_M2M])
def test_a_netsuite_time_zone_typed_on_the_form_is_the_connections_setting(mode: str) -> None:
    values = {"account_id": "1234567", "timezone": " Europe/Berlin "}
    if mode == NetSuiteAuthMode.TBA:
        values |= dict(zip(("consumer_key", "consumer_secret", "token_id", "token_secret"), HEX, strict=True))
    else:
        key = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
        values |= {"client_id": "c" * 64, "certificate_id": "Kz9x-certificate-1", "private_key": key}
    spec = spec_from_values(ErpType.NETSUITE, values, mode)
    assert spec.settings["timezone"] == "Europe/Berlin"
    assert "timezone" not in spec_from_values(ErpType.NETSUITE, {**values, "timezone": ""}, mode).settings
