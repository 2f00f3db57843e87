"""Governance (429 CONCURRENCY_LIMIT_EXCEEDED), build() from SandboxOptions, credential files, seeding."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date

import httpx
import pytest

from atlas_desktop.domain.connection import parse_netsuite
from atlas_desktop.sandbox.catalog import Catalog, erp_items
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator, build
from atlas_desktop.sandbox.registry import SandboxOptions

from .conftest import HOST, REST, authlib_auth


async def test_concurrency_limit_answers_429_without_retry_after(emulator: NetSuiteEmulator) -> None:
    emulator.faults.concurrency_limit = 2
    emulator.faults.latency_ms = 150
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url=HOST, auth=authlib_auth(emulator)
    ) as http:
        responses = await asyncio.gather(*(http.get(f"{REST}/record/v1/location") for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429, 429, 429]
    limited = next(r for r in responses if r.status_code == 429)
    assert "retry-after" not in limited.headers
    assert limited.json()["o:errorDetails"][0] == {
        "detail": "Concurrent request limit exceeded. Request blocked.",
        "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
    }
    assert limited.json()["status"] == 429


def test_build_uses_the_sandbox_options_and_defaults_to_five() -> None:
    options = SandboxOptions(Catalog(3, 20, date(2026, 3, 1)), seed=3)
    emulator = build(options)
    assert emulator.name == "netsuite"
    assert emulator.faults.concurrency_limit == 5
    assert emulator.items_seeded == sum(1 for _ in erp_items(options.catalog, "netsuite"))
    again = build(SandboxOptions(Catalog(3, 20, date(2026, 3, 1)), seed=3, concurrency_limit=9))
    assert again.credentials == emulator.credentials  # deterministic from the seed
    assert again.faults.concurrency_limit == 9
    assert build(SandboxOptions(Catalog(3, 5), seed=4)).credentials != emulator.credentials


def test_credential_file_is_importable() -> None:
    emulator = build(SandboxOptions(Catalog(3, 5), seed=3))
    files = emulator.credential_files("http://127.0.0.1:8765")
    content = files["netsuite.json"]
    assert content["account_id"] == "1234567_SB1" and content["base_url"] == "http://127.0.0.1:8765"
    spec = parse_netsuite(content, None)
    assert spec.settings["account_id"] == "1234567_SB1"
    assert spec.secrets["token_secret"].reveal() == emulator.credentials.token_secret


def test_file_backed_state_in_data_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    emulator = build(SandboxOptions(Catalog(3, 5), seed=3, data_dir=tmp_path))
    assert (tmp_path / "netsuite.sqlite3").exists()
    assert emulator.state.count_transactions() == 0


def test_erp_user_helpers_move_stock_and_refuse_going_negative() -> None:
    emulator = NetSuiteEmulator(catalog=Catalog(5, 10, date(2026, 3, 1)))
    item = emulator.state.item_ids(lot=True, limit=1)[0]
    emulator.state.receive(item, 2, 10, "HELP-LOT", date(2027, 5, 31))
    assert emulator.state.stock(item, 2, "HELP-LOT") == 10
    emulator.state.issue(item, 2, 4, "HELP-LOT")
    assert emulator.state.stock(item, 2, "HELP-LOT") == 6
    with pytest.raises(Exception, match="below zero"):
        emulator.state.issue(item, 2, 7, "HELP-LOT")
    assert emulator.state.stock(item, 2, "HELP-LOT") == 6
    assert emulator.state.count_transactions() == 2


@pytest.mark.slow
def test_seeding_100k_items_takes_seconds() -> None:
    # 100k items made by re-indexing 1,000 catalog items: the catalog's own generation time is not ours
    catalog = Catalog(1, 1000, date(2026, 3, 1))
    base = list(erp_items(catalog, "netsuite"))
    items = [
        replace(seed, product=replace(seed.product, index=n, sku=f"SKU-{n:06d}"))
        for n, seed in ((n, base[n % len(base)]) for n in range(100_000))
    ]
    emulator = NetSuiteEmulator()
    started = time.process_time()
    assert emulator.state.seed_items(catalog.locations, items, ["Vendor"]) == len(items)
    assert time.process_time() - started < 15


async def test_over_limit_can_answer_a_slow_invalid_login_as_real_accounts_do(
    emulator: NetSuiteEmulator,
) -> None:
    # reference §5 / §9: under load real accounts answered "Invalid login attempt" after a long wait
    emulator.faults.concurrency_limit = 1
    emulator.faults.latency_ms = 200
    emulator.faults.over_limit = "slow_refusal"
    emulator.faults.over_limit_delay_s = 0.3
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emulator.app), base_url=HOST, auth=authlib_auth(emulator)
    ) as http:
        first = asyncio.create_task(http.get(f"{REST}/record/v1/location"))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        over = await http.get(f"{REST}/record/v1/location")
        waited = time.perf_counter() - started
        assert (await first).status_code == 200
    assert over.status_code == 401 and waited >= 0.29
    body = over.json()
    assert body["title"] == "Unauthorized" and body["status"] == 401
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert body["o:errorDetails"][0]["detail"].startswith("Invalid login attempt.")
    assert emulator.auth_failures == [], "the credentials were fine: nothing in the Login Audit Trail"
