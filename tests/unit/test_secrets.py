"""Secret values never show themselves; redact masks registered values and credential-looking text."""

from __future__ import annotations

import base64
import pickle
from urllib.parse import quote

import pytest

from atlas_desktop.domain.secrets import MASK, Secret, redact


def test_secret_masks_str_repr_and_format() -> None:
    secret = Secret("s3cr3t-value-123")
    assert "s3cr3t" not in str(secret)
    assert "s3cr3t" not in repr(secret)
    assert "s3cr3t" not in f"{secret}"
    assert "s3cr3t" not in f"{secret!r}"
    assert "s3cr3t" not in str({"k": secret})
    assert secret.reveal() == "s3cr3t-value-123"


def test_secret_refuses_pickle() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret("pickled-value-1"))


def test_secret_equality() -> None:
    assert Secret("same-value-1") == Secret("same-value-1")
    assert Secret("same-value-1") != Secret("other-value-2")


def test_redact_masks_registered_values_and_encoded_forms() -> None:
    value = "tok/en+with=chars&more"
    Secret(value)
    encoded = [value, quote(value, safe=""), base64.b64encode(value.encode()).decode().rstrip("=")]
    for form in encoded:
        text = f"prefix {form} suffix"
        assert form not in redact(text)
        assert MASK in redact(text)


@pytest.mark.parametrize(
    "text, leaked",
    [
        ('Authorization: OAuth realm="1", oauth_signature="abc%3D"', "oauth_signature"),
        ("{'Authorization': 'Bearer eyJhbGciOi.xyz'}", "eyJhbGciOi"),
        ("Cookie: SAP_SESSIONID_ABC_100=zzzyyyxxx", "zzzyyyxxx"),
        ("x-csrf-token: fetchedtoken123", "fetchedtoken123"),
        ("client_secret=hunter2hunter2&grant_type=client_credentials", "hunter2hunter2"),
        ('{"token_secret": "c29a677df7"}', "c29a677df7"),
        ("password: 'pa55word!'", "pa55word!"),
        ("sent Bearer abc.def.ghi to host", "abc.def.ghi"),
        ("Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
    ],
)
def test_redact_patterns(text: str, leaked: str) -> None:
    assert leaked not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    text = "synced 120 items for NDC 00071-0155-23 in 3.2 s"
    assert redact(text) == text


def test_redacting_while_the_pattern_is_being_built_on_this_thread_does_not_deadlock() -> None:
    import threading

    from atlas_desktop.domain import secrets as module
    from atlas_desktop.domain.secrets import redact, register_secret

    register_secret("finaliser-logged-secret-4711")
    module._known_pattern = None
    finished = threading.Event()

    def a_finaliser_logging_during_the_compile() -> None:
        with module._known_lock:  # held by the compile the finaliser interrupted
            assert "4711" not in redact("value finaliser-logged-secret-4711")
        finished.set()

    worker = threading.Thread(target=a_finaliser_logging_during_the_compile, daemon=True)
    worker.start()
    worker.join(5)
    assert finished.is_set(), "redact() waited for a lock its own thread holds"
