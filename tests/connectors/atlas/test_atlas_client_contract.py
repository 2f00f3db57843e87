"""Every route and error of atlas-cloud-api.md through the client, against the emulator in-process."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from atlas_desktop.connectors.atlas import (
    AtlasClient,
    AtlasVersionConflict,
    CursorRejected,
    HealthReport,
    NewInventoryRow,
    SyncLogSummary,
)
from atlas_desktop.domain.errors import (
    AuthFailed,
    ConfigError,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from atlas_desktop.domain.model import ErpType
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.sandbox.atlas import AtlasEmulator
from tests.connectors.atlas.atlas_helpers import BASE_URL, FakeClock, make_client


async def test_me_reports_account_and_scopes(client: AtlasClient) -> None:
    account = await client.me()
    assert account.account_id == "acct_sandbox"
    assert account.scopes == {"inventory", "erp"}


async def test_listing_streams_every_row_in_pages_with_decimals_and_aware_times(
    client: AtlasClient, emulator: AtlasEmulator
) -> None:
    rows = [row async for row in client.inventory(page_size=7)]
    assert len(rows) == 25
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert all(isinstance(r.quantity, Decimal) and r.updated_at.tzinfo is not None for r in rows)
    assert rows[0].expiry == date(2027, 6, 30)
    # 25 rows at 7 per page: 4 requests.
    assert emulator.fault_middleware.stats.count("GET", "/api/v1/inventory") == 4


async def test_listing_leaves_out_deleted_rows(client: AtlasClient, emulator: AtlasEmulator) -> None:
    first = emulator.rows()[0]["id"]
    emulator.delete_row(first)
    assert first not in {r.id async for r in client.inventory()}
    with pytest.raises(NotFound):
        await client.get_row(first)


async def test_get_row_and_unknown_row(client: AtlasClient, emulator: AtlasEmulator) -> None:
    row_id = emulator.rows()[3]["id"]
    row = await client.get_row(row_id)
    assert row.id == row_id and row.version == 1
    with pytest.raises(NotFound) as caught:
        await client.get_row("inv_missing")
    assert caught.value.remote_code == "not_found"


async def test_adjustment_with_the_same_key_twice_changes_once(
    client: AtlasClient, emulator: AtlasEmulator
) -> None:
    row_id = emulator.rows()[0]["id"]
    before = Decimal(emulator.row(row_id)["quantity"])  # type: ignore[index]
    first = await client.adjust(row_id, Decimal("-5"), key="sync-42-adj-1")
    again = await client.adjust(row_id, Decimal("-5"), key="sync-42-adj-1")
    assert first == again
    stored = emulator.row(row_id)
    assert stored is not None
    assert Decimal(stored["quantity"]) == before - 5 and stored["version"] == 2
    await client.adjust(row_id, Decimal("-5"), key="sync-42-adj-2")
    assert Decimal(emulator.row(row_id)["quantity"]) == before - 10  # type: ignore[index]


async def test_adjustment_below_zero_is_refused(client: AtlasClient, emulator: AtlasEmulator) -> None:
    row_id = emulator.rows()[0]["id"]
    with pytest.raises(ValidationFailed) as caught:
        await client.adjust(row_id, Decimal("-100000"), key="too-much")
    assert caught.value.status == 422
    assert emulator.row(row_id)["version"] == 1  # type: ignore[index]


async def test_update_with_current_version_then_conflict_carries_current_row(
    client: AtlasClient, emulator: AtlasEmulator
) -> None:
    row_id = emulator.rows()[1]["id"]
    updated = await client.update_row(
        row_id, {"quantity": Decimal("12.5"), "expiry_date": date(2028, 1, 31)}, version=1
    )
    assert (
        updated.version == 2 and updated.quantity == Decimal("12.5") and updated.expiry == date(2028, 1, 31)
    )
    emulator.sell(row_id, 2)  # a buyer moves the row to version 3 meanwhile
    with pytest.raises(AtlasVersionConflict) as caught:
        await client.update_row(row_id, {"name": "Renamed"}, version=2)
    assert isinstance(caught.value, Conflict) and caught.value.status == 412
    assert caught.value.current is not None
    assert caught.value.current.version == 3 and caught.value.current.quantity == Decimal("10.5")


async def test_patch_without_if_match_is_428(emulator: AtlasEmulator) -> None:
    # The client always sends If-Match; the raw request proves the emulator refuses one without it.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url=BASE_URL) as raw:
        row_id = emulator.rows()[0]["id"]
        response = await raw.patch(
            f"/api/v1/inventory/{row_id}", json={"name": "x"},
            headers={"Authorization": f"Bearer {emulator.api_token}"},
        )  # fmt: skip
    assert response.status_code == 428
    assert response.json()["error"]["code"] == "precondition_required"


async def test_create_row_only_when_enabled(client: AtlasClient, emulator: AtlasEmulator) -> None:
    new = NewInventoryRow(
        "00071-0155-23", "Lipitor 10 mg tablet, 90 count", Decimal("240"), "EA", lot="K1234A"
    )
    with pytest.raises(ConfigError):
        await client.create_row(new, key="create-1", allow_create=False)
    assert emulator.state.row_count() == 25
    created = await client.create_row(new, key="create-1", allow_create=True)
    replay = await client.create_row(new, key="create-1", allow_create=True)
    assert created == replay and created.version == 1 and created.lot == "K1234A"
    assert emulator.state.row_count() == 26


async def test_create_row_with_invalid_ndc_is_validation_failed(client: AtlasClient) -> None:
    bad = NewInventoryRow("not-an-ndc", "X", Decimal("1"), "EA")
    with pytest.raises(ValidationFailed, match="ndc"):
        await client.create_row(bad, key="create-bad", allow_create=True)


async def test_change_feed_drains_in_batches_and_reports_deletions(
    client: AtlasClient, emulator: AtlasEmulator
) -> None:
    batches = [b async for b in client.changes(since=None, limit=10)]
    assert [len(b.changes) for b in batches] == [10, 10, 5]
    assert [b.has_more for b in batches] == [True, True, False]
    cursor = batches[-1].cursor
    assert [b async for b in client.changes(since=cursor)] == []
    victim = emulator.rows()[4]["id"]
    emulator.delete_row(victim)
    emulator.sell(emulator.rows()[0]["id"], 1)
    later = [b async for b in client.changes(since=cursor)]
    changed = {row.id: row for batch in later for row in batch.changes}
    assert len(changed) == 2 and changed[victim].deleted


async def test_a_foreign_cursor_is_rejected_as_such(client: AtlasClient) -> None:
    with pytest.raises(CursorRejected):
        await client.changes_page(since="not-a-cursor")


async def test_orders_feed_and_erp_link(client: AtlasClient, emulator: AtlasEmulator) -> None:
    order = emulator.create_order(
        [{"ndc": "00071-0155-23", "name": "Lipitor", "quantity": "24", "unit_price": "3.10"}]
    )
    batches = [b async for b in client.orders(since=None)]
    orders = [o for b in batches for o in b.orders]
    assert [o.atlas_order_id for o in orders] == [order["id"]]
    assert orders[0].lines[0].quantity == Decimal("24") and orders[0].created_at.tzinfo is not None
    link = await client.link_order(
        order["id"], erp_type=ErpType.NETSUITE, document_id="PO-77", document_number="PO0077", key="link-1"
    )
    assert link.erp_document_id == "PO-77"
    # Same document again, even under another key: idempotent on the document id.
    await client.link_order(
        order["id"], erp_type=ErpType.NETSUITE, document_id="PO-77", document_number="PO0077", key="link-2"
    )
    with pytest.raises(Conflict) as caught:
        await client.link_order(
            order["id"], erp_type=ErpType.NETSUITE, document_id="PO-99", document_number=None, key="link-3"
        )
    assert caught.value.status == 409
    assert emulator.order_link(order["id"])["erp_document_id"] == "PO-77"  # type: ignore[index]
    assert [b async for b in client.orders(since=batches[-1].cursor)] == []


async def test_orders_feed_status_filter(client: AtlasClient, emulator: AtlasEmulator) -> None:
    line = {"ndc": "00071-0155-23", "name": "Lipitor", "quantity": "1"}
    emulator.create_order([line], status="pending")
    confirmed = emulator.create_order([line])
    ids = [o.atlas_order_id async for b in client.orders(since=None) for o in b.orders]
    assert ids == [confirmed["id"]]


async def test_link_to_unknown_order_is_not_found(client: AtlasClient) -> None:
    with pytest.raises(NotFound):
        await client.link_order("ord_nope", erp_type=ErpType.SAP_CLOUD, document_id="1", document_number=None,
                                key="link-x")  # fmt: skip


def _health() -> HealthReport:
    return HealthReport(
        erp_type=ErpType.SAP_ONPREM, status="healthy",
        last_sync_at=datetime(2026, 11, 27, 21, 4, 5, tzinfo=UTC),
        last_sync_status="success", consecutive_failures=0, items_mapped=900, items_unmapped=12,
        open_conflicts=1, app_version="0.1.0",
    )  # fmt: skip


async def test_health_report_is_stored(client: AtlasClient, emulator: AtlasEmulator) -> None:
    await client.report_health("conn-1", _health())
    stored = emulator.health("conn-1")
    assert (
        stored is not None
        and stored["last_sync_at"] == "2026-11-27T21:04:05Z"
        and stored["items_mapped"] == 900
    )


async def test_sync_log_upload_is_stored_without_credentials(
    client: AtlasClient, emulator: AtlasEmulator
) -> None:
    secret = Secret("super-secret-token-value-123")
    summary = SyncLogSummary(
        sync_type="incremental", direction="bidirectional", status="partial",
        started_at=datetime(2026, 11, 27, 21, 0, tzinfo=UTC),
        completed_at=datetime(2026, 11, 27, 21, 1, tzinfo=UTC),
        duration_seconds=Decimal("61.25"), items_synced=10, items_failed=1, api_calls_made=14,
        error_message=f"SAP said: Authorization: Bearer {secret.reveal()}",
    )  # fmt: skip
    log_id = await client.upload_sync_log("conn-1", summary, key="log-1")
    assert log_id.startswith("log_")
    [stored] = emulator.sync_logs("conn-1")
    assert stored["duration_seconds"] == "61.25"
    assert secret.reveal() not in str(stored)


async def test_emulator_refuses_reports_holding_a_credential(emulator: AtlasEmulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url=BASE_URL) as raw:
        headers = {"Authorization": f"Bearer {emulator.api_token}"}
        body = {"erp_type": "netsuite", "status": "healthy", "last_sync_at": None, "last_sync_status": None,
                "consecutive_failures": 0, "items_mapped": 0, "items_unmapped": 0, "open_conflicts": 0,
                "app_version": "1", "token_secret": "abc"}  # fmt: skip
        response = await raw.put("/api/v1/erp/connections/c1/health", json=body, headers=headers)
        assert response.status_code == 422 and "credential" in response.json()["error"]["message"]
        body.pop("token_secret")
        body["app_version"] = emulator.api_token
        response = await raw.put("/api/v1/erp/connections/c1/health", json=body, headers=headers)
        assert response.status_code == 422


async def test_bad_token_is_auth_failed(emulator: AtlasEmulator) -> None:
    async with make_client(emulator, token="atl_pat_wrong_token_value") as atlas:
        with pytest.raises(AuthFailed) as caught:
            await atlas.me()
    assert caught.value.status == 401 and "atl_pat_wrong" not in str(caught.value)


async def test_missing_scope_is_permission_denied(emulator: AtlasEmulator) -> None:
    token = emulator.issue_token(["inventory"])
    async with make_client(emulator, token=token) as atlas:
        with pytest.raises(PermissionDenied):
            await atlas.orders(since=None).__anext__()
        assert (await atlas.me()).scopes == {"inventory"}


async def test_429_is_retried_after_retry_after(emulator: AtlasEmulator) -> None:
    emulator.faults.add("status", status=429, path="/api/v1/me", times=2)
    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async with make_client(emulator, sleep=record) as atlas:
        assert (await atlas.me()).account_id == "acct_sandbox"
    assert len(sleeps) == 2 and all(s >= 1 for s in sleeps)


async def test_429_beyond_retries_is_rate_limited(emulator: AtlasEmulator) -> None:
    emulator.faults.add("status", status=429, path="/api/v1/me")
    async with make_client(emulator, max_retries=1) as atlas:
        with pytest.raises(RateLimited) as caught:
            await atlas.me()
    assert caught.value.retry_after == 1 and caught.value.remote_code == "rate_limited"


async def test_503_is_a_server_error_after_retries(emulator: AtlasEmulator) -> None:
    from atlas_desktop.domain.errors import ServerError

    emulator.faults.add("status", status=503, path="/api/v1/inventory")
    async with make_client(emulator, max_retries=1) as atlas:
        with pytest.raises(ServerError) as caught:
            await atlas.inventory().__anext__()
    assert caught.value.remote_code == "unavailable"


async def test_connection_test_passes_on_the_emulator(client: AtlasClient) -> None:
    report = await client.test_connection()
    assert report.ok, report.first_failure
    assert [s.name for s in report.steps] == [
        "Atlas server reachable", "Secure connection (TLS)", "Sign-in accepted", "Permissions (scopes)",
    ]  # fmt: skip


async def test_connection_test_names_the_bad_token(emulator: AtlasEmulator) -> None:
    async with make_client(emulator, token="atl_pat_revoked_value") as atlas:
        report = await atlas.test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == "Sign-in accepted" and "API token" in failure.fix
    assert report.steps[-1].skipped


async def test_connection_test_names_the_missing_scope(emulator: AtlasEmulator) -> None:
    async with make_client(emulator, token=emulator.issue_token(["erp"])) as atlas:
        report = await atlas.test_connection()
    failure = report.first_failure
    assert failure is not None and failure.name == "Permissions (scopes)" and "inventory" in failure.cause


async def test_unused_clock_fixture_keeps_emulator_time(clock: FakeClock, client: AtlasClient) -> None:
    row = [r async for r in client.inventory(page_size=1000)][0]
    assert row.updated_at == clock.now().replace(microsecond=0)
