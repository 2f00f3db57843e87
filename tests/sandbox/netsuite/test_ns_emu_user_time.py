"""SuiteQL in the token user's time zone (reference §9): shown, compared and discoverable; stored as UTC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.registry import SandboxOptions

from .conftest import HOST, Clock, authlib_auth, suiteql

FMT = "'YYYY-MM-DD HH24:MI:SS'"


@pytest.fixture
def new_york(clock: Clock) -> NetSuiteEmulator:
    return NetSuiteEmulator(
        seed=7,
        catalog=Catalog(seed=7, size=10, today=date(2026, 3, 1)),
        clock=clock,
        concurrency_limit=None,
        timezone="America/New_York",
    )


@pytest.fixture
async def ny_client(new_york: NetSuiteEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=new_york.app), base_url=HOST, auth=authlib_auth(new_york)
    ) as http:
        yield http


async def rows(client: httpx.AsyncClient, q: str) -> list[dict[str, Any]]:
    response = await suiteql(client, q)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def stamped(emulator: NetSuiteEmulator, utc_text: str) -> int:
    """A stock adjustment whose lastmodifieddate is `utc_text` (stored UTC, as NetSuite keeps it)."""
    item = emulator.state.item_ids(lot=False, limit=1)[0]
    txn = emulator.state.receive(item, 1, 3)
    emulator.state.update("transaction", txn, {"lastmodifieddate": utc_text})
    return txn


async def test_datetimes_are_shown_in_the_users_zone_near_midnight(
    new_york: NetSuiteEmulator, ny_client: httpx.AsyncClient
) -> None:
    txn = stamped(new_york, "2026-11-28 04:30:00")  # 23:30 the evening before in New York
    [row] = await rows(
        ny_client,
        f"SELECT TO_CHAR(lastmodifieddate, {FMT}) AS modified, lastmodifieddate FROM transaction "
        f"WHERE id = {txn}",
    )
    assert row["modified"] == "2026-11-27 23:30:00"
    assert row["lastmodifieddate"] == "11/27/2026"  # the user's date, not UTC's


async def test_to_date_literals_are_read_in_the_users_zone(
    new_york: NetSuiteEmulator, ny_client: httpx.AsyncClient
) -> None:
    txn = stamped(new_york, "2026-11-28 04:30:00")

    async def found(op: str, wall: str) -> bool:
        q = f"SELECT id FROM transaction WHERE id = {txn} AND lastmodifieddate {op} TO_DATE('{wall}', {FMT})"
        return bool(await rows(ny_client, q))

    assert await found(">=", "2026-11-27 23:30:00")
    assert not await found(">", "2026-11-27 23:30:00")
    assert not await found(">=", "2026-11-28 00:00:00")  # what a UTC reading would have matched
    # account-format text is local midnight: 05:00 UTC on the 28th, after the change
    account_format = f"SELECT id FROM transaction WHERE id = {txn} AND lastmodifieddate < '11/28/2026'"
    assert await rows(ny_client, account_format)


async def test_offsets_follow_daylight_saving_time(
    new_york: NetSuiteEmulator, ny_client: httpx.AsyncClient
) -> None:
    before = stamped(new_york, "2026-03-08 06:30:00")  # 01:30 EST, half an hour before the switch
    after = stamped(new_york, "2026-03-08 07:30:00")  # 03:30 EDT
    got = await rows(
        ny_client,
        "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS TZH:TZM') AS modified FROM transaction "
        f"WHERE id IN ({before}, {after}) ORDER BY id",
    )
    assert [r["modified"] for r in got] == ["2026-03-08 01:30:00 -05:00", "2026-03-08 03:30:00 -04:00"]
    between = await rows(
        ny_client,
        f"SELECT id FROM transaction WHERE id IN ({before}, {after}) AND lastmodifieddate > "
        f"TO_DATE('2026-03-08 03:00:00', {FMT})",
    )
    assert [r["id"] for r in between] == [str(after)]


async def test_the_client_can_ask_for_the_zone(
    new_york: NetSuiteEmulator, ny_client: httpx.AsyncClient
) -> None:
    [row] = await rows(
        ny_client,
        "SELECT SESSIONTIMEZONE AS zone, TO_CHAR(SYSDATE, 'YYYY-MM-DD HH24:MI:SS TZH:TZM TZR') AS now "
        "FROM dual",
    )
    assert row["zone"] == "America/New_York"
    offset = new_york.clock().astimezone(new_york.state.user_zone).strftime("%z")
    assert row["now"].endswith(f" {offset[:3]}:{offset[3:]} America/New_York")
    new_york.state.user_zone = ZoneInfo("UTC")  # the user changes the preference
    [row] = await rows(ny_client, "SELECT SESSIONTIMEZONE AS zone FROM dual")
    assert row["zone"] == "UTC"


async def test_dates_are_not_shifted(new_york: NetSuiteEmulator, ny_client: httpx.AsyncClient) -> None:
    txn = stamped(new_york, "2026-11-28 04:30:00")
    new_york.state.update("transaction", txn, {"trandate": "2026-11-28 00:00:00"})
    [row] = await rows(
        ny_client,
        "SELECT TO_CHAR(trandate, 'YYYY-MM-DD') AS day, trandate FROM transaction "
        f"WHERE id = {txn} AND trandate = TO_DATE('2026-11-28', 'YYYY-MM-DD')",
    )
    assert row == {"links": [], "day": "2026-11-28", "trandate": "11/28/2026"}
    flipped = (
        f"SELECT id FROM transaction WHERE id = {txn} AND TO_DATE('2026-11-28', 'YYYY-MM-DD') = trandate"
    )
    assert [r["id"] for r in await rows(ny_client, flipped)] == [str(txn)]


def test_a_new_transaction_is_dated_the_users_today(new_york: NetSuiteEmulator) -> None:
    item = new_york.state.item_ids(lot=False, limit=1)[0]
    txn = new_york.state.receive(item, 1, 1)
    today = new_york.clock().astimezone(new_york.state.user_zone).date()
    assert new_york.state.get("transaction", txn)["trandate"] == f"{today.isoformat()} 00:00:00"


def test_the_sandbox_user_is_in_new_york_unless_asked() -> None:
    from atlas_desktop.sandbox.netsuite import build

    assert str(build(SandboxOptions(Catalog(3, 2))).state.user_zone) == "America/New_York"
    assert str(build(SandboxOptions(Catalog(3, 2), netsuite_timezone="UTC")).state.user_zone) == "UTC"
    with pytest.raises(ValueError, match="Mars/Olympus"):
        NetSuiteEmulator(timezone="Mars/Olympus")


def test_the_sandbox_command_takes_the_users_zone(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from atlas_desktop.app import commands
    from atlas_desktop.cli import build_parser
    from atlas_desktop.sandbox import server

    started: dict[str, Any] = {}
    monkeypatch.setattr(server, "main_sandbox", lambda **kw: started.update(kw) or 0)
    args = build_parser().parse_args(["sandbox", "--netsuite-timezone", "UTC"])
    assert commands.run_sandbox(args) == 0 and started["netsuite_timezone"] == "UTC"
    assert build_parser().parse_args(["sandbox"]).netsuite_timezone is None  # SandboxOptions' New York
    bad = build_parser().parse_args(["sandbox", "--netsuite-timezone", "Eastern"])
    assert commands.run_sandbox(bad) == commands.EXIT_USAGE
    assert "'Eastern' is not a time zone" in capsys.readouterr().err
