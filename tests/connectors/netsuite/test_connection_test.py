"""The connection test stops at the first failing step, names the cause in order, skips the rest."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx

from atlas_desktop.connectors.netsuite import build_connector
from atlas_desktop.connectors.netsuite.connection_test import PERMISSIONS, RECORD_READ, SIGNATURE, TIME_ZONE

from .helpers import answering_zone, error_response, make_spec, no_sleep, suiteql_response

INVALID_LOGIN = "Invalid login attempt. For more details, see the Login Audit Trail."


def answer_ok(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/suiteql"):
        query = json.loads(request.content)["q"]
        rows = [{"id": "7", "itemid": "SKU7", "islotitem": "T"}] if "FROM item" in query else [{"id": "1"}]
        return suiteql_response(rows, offset=0, limit=1, total=1)
    assert request.url.path.endswith("/record/v1/lotNumberedInventoryItem/7")
    return httpx.Response(200, json={"id": "7", "itemId": "SKU7"})


async def test_all_steps_pass() -> None:
    connector = build_connector(
        make_spec(), transport=httpx.MockTransport(answering_zone(answer_ok)), sleep=no_sleep
    )
    report = await connector.test_connection()
    assert report.ok, report
    assert [s.name for s in report.steps][-2] == RECORD_READ and "SKU7" in report.steps[-2].detail
    assert report.steps[-1].name == TIME_ZONE and report.steps[-1].detail.startswith("UTC")


async def test_wrong_secret_fails_signature_and_skips_the_rest() -> None:
    transport = httpx.MockTransport(lambda r: error_response(401, "INVALID_LOGIN", INVALID_LOGIN))
    connector = build_connector(make_spec(), transport=transport, sleep=no_sleep)
    report = await connector.test_connection()
    assert not report.ok
    failure = report.first_failure
    assert failure is not None and failure.name == SIGNATURE
    assert "consumer secret or token secret" in failure.cause and "(1)" in failure.cause
    assert "Token-Based Authentication" in failure.cause and "Login Audit Trail" in failure.fix
    assert [s.skipped for s in report.steps[-3:]] == [True, True, True]
    assert [s.name for s in report.steps[-3:]] == [PERMISSIONS, RECORD_READ, TIME_ZONE]


async def test_lowercase_sandbox_realm_is_named_first() -> None:
    spec = make_spec()
    spec = replace(spec, settings={**spec.settings, "account_id": "1234567_sb1"})
    transport = httpx.MockTransport(lambda r: error_response(401, "INVALID_LOGIN", INVALID_LOGIN))
    connector = build_connector(spec, transport=transport, sleep=no_sleep)
    failure = (await connector.test_connection()).first_failure
    assert failure is not None
    assert failure.cause.index("1234567_SB1") < failure.cause.index("consumer secret")
    assert "lowercase" in failure.cause


async def test_missing_permission_is_its_own_step() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        query = json.loads(request.content)["q"]
        if "FROM inventorynumber" in query:
            return error_response(403, "INSUFFICIENT_PERMISSION", "Permission Violation: Lot Numbered Items")
        return answer_ok(request)

    connector = build_connector(
        make_spec(), transport=httpx.MockTransport(answering_zone(answer)), sleep=no_sleep
    )
    report = await connector.test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == PERMISSIONS
    assert "lot numbers" in failure.cause and "role" in failure.fix
    assert report.steps[-1].skipped


async def test_unreachable_host_fails_the_first_step() -> None:
    spec = make_spec(base_url="http://127.0.0.1:1")  # nothing listens on port 1
    connector = build_connector(spec, sleep=no_sleep)
    report = await connector.test_connection()
    assert report.steps[0].name == "Server reachable" and not report.steps[0].ok
    assert all(step.skipped for step in report.steps[1:])
    await connector.aclose()
