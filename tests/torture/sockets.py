"""Real processes for end-to-end tests: the sandbox command, the CLI, and both sides read over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.model import StockChange, StockKey
from atlas_desktop.engine.factory import build_erp_connector
from atlas_desktop.sandbox.registry import NETSUITE_USER_ZONE  # a user off UTC, as in production

ROOT = Path(__file__).resolve().parents[2]
NETSUITE_TRANSACTIONS = "/_sandbox/netsuite/transactions"  # sandbox/netsuite/activity.py


def cli_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "ATLAS_DESKTOP_HOME": str(home), "ATLAS_DESKTOP_PASSPHRASE": "e2e passphrase"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONPATH"] = str(ROOT)
    return env


def cli(
    home: Path, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atlas_desktop", *args], input=stdin, capture_output=True, text=True,
        env=cli_env(home), cwd=ROOT, timeout=timeout,
    )  # fmt: skip


@dataclass
class Sandbox:
    urls: dict[str, str]
    config_dir: Path
    process: subprocess.Popen[str]

    def credentials(self, name: str) -> dict[str, Any]:
        return json.loads((self.config_dir / f"{name}.json").read_text())


@contextlib.contextmanager
def sandbox_process(
    tmp: Path, *, items: int = 30, seed: int = 5, latency_ms: float = 0.0
) -> Iterator[Sandbox]:
    """`atlas-desktop sandbox --write-config DIR` as its own process: its state outlives any client.
    `latency_ms` is added to every request, as a real network would."""
    config_dir = tmp / "sandbox-config"
    process = subprocess.Popen(
        [sys.executable, "-m", "atlas_desktop", "sandbox", "--items", str(items), "--seed", str(seed),
         "--write-config", str(config_dir), "--netsuite-timezone", NETSUITE_USER_ZONE,
         "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=cli_env(tmp / "unused"),
    )  # fmt: skip
    urls: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"sandbox exited: {process.stderr.read() if process.stderr else ''}")
            if line.strip() == "ready":
                break
            name, _, url = line.strip().partition(": ")
            urls[name] = url
        else:
            raise TimeoutError("the sandbox did not print 'ready' within 60 s")
        yield Sandbox(urls, config_dir, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def setup_profile(home: Path, sandbox: Sandbox, erp: str) -> str:
    """connections import, signin, mappings discover; returns the connection id."""
    imported = cli(home, "connections", "import", str(sandbox.config_dir / f"{erp}.json"))
    assert imported.returncode == 0, imported.stderr
    connection_id = imported.stdout.strip().splitlines()[-1]
    atlas = sandbox.credentials("atlas")
    signed = cli(home, "signin", "--base-url", atlas["base_url"], "--token-stdin", stdin=atlas["api_token"])
    assert signed.returncode == 0, signed.stderr
    found = cli(home, "mappings", "discover", connection_id)
    assert found.returncode == 0, found.stderr
    return connection_id


def sync_json(home: Path, connection_id: str) -> dict[str, Any]:
    done = cli(home, "sync", connection_id, "--yes", "--json")
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def matched(home: Path, connection_id: str) -> list[dict[str, Any]]:
    listed = cli(
        home, "mappings", "list", connection_id, "--status", "matched", "--limit", "100000", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


class Sides:
    """Both systems read and moved over HTTP, as their own users would."""

    def __init__(self, sandbox: Sandbox, erp: str) -> None:
        atlas = sandbox.credentials("atlas")
        self.atlas = httpx.Client(
            base_url=atlas["base_url"], headers={"Authorization": f"Bearer {atlas['api_token']}"}, timeout=30
        )
        self.spec = parse_connection(sandbox.credentials(erp))

    def close(self) -> None:
        self.atlas.close()

    def atlas_qty(self, row_id: str) -> Decimal:
        return Decimal(self.atlas.get(f"/api/v1/inventory/{row_id}").raise_for_status().json()["quantity"])

    def atlas_sell(self, row_id: str, qty: Decimal) -> None:
        self.atlas.post(f"/sandbox/inventory/{row_id}/sell", json={"quantity": str(qty)}).raise_for_status()

    async def erp_levels(self) -> dict[StockKey, Any]:
        connector = build_erp_connector(self.spec)
        try:
            return {level.key: level async for level in connector.stock(None)}
        finally:
            await connector.aclose()

    async def erp_move(
        self, key: StockKey, delta: Decimal, unit: str, user_key: str, netsuite_type: str | None = None
    ) -> None:
        """An ERP user's own adjustment through the ERP's API (its own idempotency key), or in NetSuite
        a transaction of `netsuite_type` (ItemRcpt, ItemShip, CashSale, ...) through the sandbox's route."""
        if netsuite_type is not None:
            body = {"type": netsuite_type, "item": key.item_id, "location": key.location_id,
                    "quantity": str(abs(delta)), "lot": key.lot}  # fmt: skip
            async with httpx.AsyncClient(base_url=self.spec.settings["base_url"], timeout=30) as http:
                (await http.post(NETSUITE_TRANSACTIONS, json=body)).raise_for_status()
            return
        connector = build_erp_connector(self.spec)
        try:
            await connector.adjust_stock(StockChange(key, delta, unit, memo="warehouse count"), user_key)
        finally:
            await connector.aclose()


def key_of(mapping: dict[str, Any]) -> StockKey:
    return StockKey(mapping["erp_item_id"], mapping["erp_location_id"], mapping["lot"])
