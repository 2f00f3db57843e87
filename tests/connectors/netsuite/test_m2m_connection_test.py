"""The connection test of an OAuth 2.0 M2M connection: a token step whose failures name the cause and fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from atlas_desktop.connectors.netsuite.connection_test import TOKEN, TOKEN_ACCEPTED
from atlas_desktop.connectors.netsuite.m2m import M2MAuth
from atlas_desktop.connectors.netsuite.token_errors import token_refused
from atlas_desktop.domain.model import ConnectionReport
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator

from .emulator_support import Clock, make_emulator
from .m2m_support import connect_m2m


async def report_of(
    tmp_path: Path, change: Callable[[NetSuiteEmulator], None] = lambda e: None, **overrides: object
) -> tuple[ConnectionReport, NetSuiteEmulator]:
    clock = Clock()
    emulator = make_emulator(5, clock)
    connector = connect_m2m(emulator, clock, tmp_path, **overrides)
    change(emulator)
    report = await connector.test_connection()
    await connector.aclose()
    return report, emulator


def token_step(report: ConnectionReport):  # type: ignore[no-untyped-def]
    return next(step for step in report.steps if step.name == TOKEN)


async def test_an_m2m_connection_passes_the_test(tmp_path: Path) -> None:
    report, _ = await report_of(tmp_path)
    assert report.ok, [(s.name, s.detail, s.cause) for s in report.steps]
    names = [step.name for step in report.steps]
    assert names.index(TOKEN) + 1 == names.index(TOKEN_ACCEPTED)
    assert "PS256" in token_step(report).detail


def _revoke(emulator: NetSuiteEmulator) -> None:
    emulator.m2m.revoke(next(iter(emulator.m2m.certificates)))


def _expire(emulator: NetSuiteEmulator) -> None:
    for mapping in emulator.m2m.certificates.values():
        mapping.not_after = datetime.now(UTC) - timedelta(days=1)


def _role(emulator: NetSuiteEmulator) -> None:
    emulator.m2m.roles["Atlas Integration"] = False


def _feature(emulator: NetSuiteEmulator) -> None:
    emulator.m2m.feature_enabled = False


def _skew(emulator: NetSuiteEmulator) -> None:
    emulator.clock = lambda: datetime.now(UTC) - timedelta(minutes=10)


@pytest.mark.parametrize(
    ("change", "overrides", "cause", "fix"),
    [
        (lambda e: None, {"certificate_id": "WrongCertificate0001"}, "Certificate ID", "M2M) Setup"),
        (_revoke, {}, "revoked", "new key pair"),
        (_expire, {}, "expired", "new key pair"),
        (_role, {}, "role", "Log in using OAuth 2.0 Access Tokens"),
        (_feature, {}, "not enabled", "Enable Features"),
        (_skew, {}, "clock", "synchronise"),
        (lambda e: None, {"client_id": "0" * 64}, "Client ID", "integration record"),
    ],
    ids=["certificate-id", "revoked", "expired", "role", "feature", "clock", "client-id"],
)
async def test_token_failures_name_the_cause_and_the_fix(
    tmp_path: Path,
    change: Callable[[NetSuiteEmulator], None],
    overrides: dict[str, object],
    cause: str,
    fix: str,
) -> None:
    report, emulator = await report_of(tmp_path, change, **overrides)
    step = token_step(report)
    assert not step.ok and not report.ok
    assert cause in (step.cause or ""), step.cause
    assert fix in (step.fix or ""), step.fix
    later = report.steps[[s.name for s in report.steps].index(TOKEN) + 1 :]
    assert all(s.skipped for s in later)
    assert emulator.m2m.failures  # the audit trail holds the exact reason


async def test_a_wrong_algorithm_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = M2MAuth.__init__

    def rs256(self: M2MAuth, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.algorithm = "RS256"  # what NetSuite refuses

    monkeypatch.setattr(M2MAuth, "__init__", rs256)
    report, _ = await report_of(tmp_path)
    step = token_step(report)
    assert (
        "algorithm" in (step.cause or "")
        and "PS256" in (step.cause or "")
        and "new key pair" in (step.fix or "")
    )


def test_an_answer_without_description_still_tells_clock_skew_from_the_date_header() -> None:
    error = token_refused(400, "invalid_grant", "", timedelta(minutes=-7))
    assert "clock" in error.message and "420 s ahead" in error.message
    plain = token_refused(400, "invalid_grant", "", timedelta(seconds=2))
    assert "revoked or expired" in plain.message


def test_a_clock_refusal_without_a_date_header_is_still_named() -> None:
    # No Date header, so no measured skew: NetSuite's words alone say it is the clock.
    error = token_refused(400, "invalid_grant", "The assertion has expired.", None)
    assert "clock" in error.message and " s ahead" not in error.message and " s behind" not in error.message
