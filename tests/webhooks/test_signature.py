"""The signature scheme's edges: window boundaries, replay memory, malformed headers."""

from __future__ import annotations

from atlas_desktop.app.api.signature import Refusal, SignatureVerifier, sign
from atlas_desktop.sandbox.webhook_sender import signature_header


def test_sender_and_verifier_agree_and_the_window_is_five_minutes() -> None:
    clock = [1_000_000.0]
    verifier = SignatureVerifier(clock=lambda: clock[0])
    body = b'{"type":"inventory.updated"}'
    assert signature_header("s3cret", body, 999_700) == sign("s3cret", body, 999_700)
    assert verifier.verify(sign("s3cret", body, 999_700), body, "s3cret") is None  # exactly 300 s old
    assert verifier.verify(sign("s3cret", body, 999_699), body, "s3cret") is Refusal.STALE
    assert verifier.verify(sign("s3cret", body, 1_000_301), body, "s3cret") is Refusal.STALE
    assert verifier.verify(sign("s3cret", body, 999_700), body, "s3cret") is Refusal.REPLAY
    clock[0] += 601  # forgotten only once it could no longer pass the window check anyway
    assert len(verifier) == 1 and verifier.verify(sign("s3cret", body, 1_000_601), body, "s3cret") is None
    assert len(verifier) == 1


def test_malformed_headers_are_refused() -> None:
    verifier = SignatureVerifier(clock=lambda: 100.0)
    good = sign("k", b"x", 100)
    for header in (
        "",
        "v1=" + "a" * 64,
        "t=100",
        "t=abc,v1=" + "a" * 64,
        "t=100,v1=xyz",
        "garbage",
        "t=1,t=2",
        "t=²,v1=" + "a" * 64,  # isdigit() is true for it; int() is not
        "t=١٠٠,v1=" + "a" * 64,
    ):
        assert verifier.verify(header, b"x", "k") in (Refusal.MISSING, Refusal.MALFORMED), header
    assert verifier.verify(good.replace("v1=", "v1=" + "0" * 64 + ",v1="), b"x", "k") is None  # rotation
