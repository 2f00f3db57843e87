"""A benchmark world: an ERP emulator and the Atlas emulator over sockets, a profile signed in to both."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# A profile the worker process can open too: passphrase key source, no OS keyring.
os.environ.setdefault("ATLAS_DESKTOP_PASSPHRASE", "bench passphrase")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")

from atlas_desktop.app.engine_setup import build_repos  # noqa: E402
from atlas_desktop.app.paths import ProfilePaths  # noqa: E402
from atlas_desktop.app.services import open_services  # noqa: E402
from atlas_desktop.domain.connection import parse_connection  # noqa: E402
from atlas_desktop.domain.enums import MappingStatus, OutboxStatus  # noqa: E402
from atlas_desktop.domain.secrets import Secret  # noqa: E402
from atlas_desktop.engine.plan import ERP_ADJUST  # noqa: E402
from atlas_desktop.sandbox.atlas import build as build_atlas  # noqa: E402
from atlas_desktop.sandbox.catalog import Catalog  # noqa: E402
from atlas_desktop.sandbox.netsuite import build as build_netsuite  # noqa: E402
from atlas_desktop.sandbox.registry import SandboxOptions  # noqa: E402
from atlas_desktop.sandbox.sap import make_emulator, standard_configs  # noqa: E402
from atlas_desktop.sandbox.server import running_sandbox  # noqa: E402
from atlas_desktop.sandbox.server_time import install_server_time  # noqa: E402
from atlas_desktop.store.models import OutboxRow  # noqa: E402

TODAY = date(2026, 11, 27)
WORKER = Path(__file__).with_name("bench_worker.py")


@dataclass
class World:
    erp_name: str  # "netsuite" | "sap"
    erp: Any
    atlas: Any
    urls: dict[str, str]
    home: Path
    connection_id: str
    writes: str = "batch"  # "single": the worker writes one change per request on both sides (--writes)
    _batch_operations_base: int = 0
    _outbox_base: int = 0

    @property
    def erp_url(self) -> str:
        return self.urls[self.erp.name]

    @property
    def atlas_url(self) -> str:
        return self.urls[self.atlas.name]

    # -- request counting (the servers' own counters, /_sandbox/stats) ---------------------------------

    def reset_stats(self) -> None:
        for url in (self.erp_url, self.atlas_url):
            httpx.delete(f"{url}/_sandbox/stats", timeout=30).raise_for_status()
        self._batch_operations_base = self.atlas.routes.batch_operations
        self._outbox_base = self._last_outbox_id()

    def atlas_batch_operations(self) -> int:
        """Writes the Atlas batch requests carried since the stats were reset (the emulator is in-process)."""
        return int(self.atlas.routes.batch_operations - self._batch_operations_base)

    def erp_changes(self) -> list[tuple[str, int]]:
        """(location, sign of the delta) of each ERP stock change the app wrote since the stats were reset:
        what the batched minimum of ERP writes is made of (a request may carry many)."""
        with open_services(ProfilePaths(self.home)) as services, services.store.session() as session:
            rows = session.execute(
                sa.select(OutboxRow.payload).where(
                    OutboxRow.id > self._outbox_base,
                    OutboxRow.operation == ERP_ADJUST,
                    OutboxRow.status == OutboxStatus.DONE,
                )
            ).scalars()
            return [(str(p["location_id"]), 1 if Decimal(p["delta"]) > 0 else -1) for p in rows]

    def _last_outbox_id(self) -> int:
        with open_services(ProfilePaths(self.home)) as services, services.store.session() as session:
            return int(session.execute(sa.select(sa.func.max(OutboxRow.id))).scalar() or 0)

    def stats(self) -> dict[str, dict[str, Any]]:
        return {
            side: httpx.get(f"{url}/_sandbox/stats", timeout=30).json()
            for side, url in (("erp", self.erp_url), ("atlas", self.atlas_url))
        }

    # -- the app, in its own process -------------------------------------------------------------------

    def run_engine(self, action: str, profile: Path | None = None) -> dict[str, Any]:
        command = [sys.executable, str(WORKER), str(self.home), self.connection_id, action]
        if profile is not None:
            command += ["--profile", str(profile)]
        command += ["--writes", self.writes]
        spy_dir = os.environ.get("BENCH_PY_SPY")
        if spy_dir:  # all threads (pyinstrument sees the loop's only), as collapsed stacks
            out = Path(spy_dir) / f"{action}-{self.erp_name}-{int(time.time())}.txt"
            spy = ["py-spy", "record", "--threads", "--nonblocking", "-r", "200", "-f", "raw", "-o", str(out)]
            command = [*spy, "--", *command]
        emulators_before = time.process_time()  # the emulators are this process's threads
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, cwd=ROOT)
        emulator_cpu = time.process_time() - emulators_before
        if done.returncode != 0:
            raise RuntimeError(f"bench worker failed:\n{done.stderr[-4000:]}")
        if os.environ.get("BENCH_TIMELINE"):  # the worker's phase table (bench_timeline.py)
            print(done.stderr, flush=True)
        # py-spy prints on stdout too: the worker's answer is its last JSON line.
        last_json = [line for line in done.stdout.splitlines() if line.startswith("{")][-1]
        result: dict[str, Any] = json.loads(last_json)
        result["emulator_cpu_s"] = round(emulator_cpu, 2)
        return result

    # -- what the runs work on -------------------------------------------------------------------------

    def matched(self) -> list[Any]:
        with open_services(ProfilePaths(self.home)) as services:
            repo = build_repos(services).mappings
            return list(
                repo.page(self.connection_id, status=MappingStatus.MATCHED, search=None, offset=0,
                          limit=10_000_000)
            )  # fmt: skip

    def source_rows(self) -> dict[str, int]:
        """Rows each API has to hand over for a full read (what the minimum request count is made of)."""
        atlas_rows = self.atlas.state.row_count()
        if self.erp_name == "netsuite":
            state = self.erp.state
            items = state.one("SELECT count(*) AS n FROM item")["n"]
            lots = state.one("SELECT count(*) AS n FROM inventorynumberlocation")["n"]
            plain = state.one(
                "SELECT count(*) AS n FROM aggregateitemlocation JOIN item ON item.id = "
                "aggregateitemlocation.item WHERE item.islotitem = 'F'"
            )["n"]
            return {
                "erp_items": items,
                "erp_lot_stock": lots,
                "erp_plain_stock": plain,
                "atlas_rows": atlas_rows,
            }
        tables = self.erp.tenant.ensure_seeded()
        batches = len(tables.table("Batch").rows)
        return {
            "erp_items": len(self.erp.products()),
            "erp_stock": len(self.erp.stock_rows()),
            "erp_batches": batches,
            "atlas_rows": atlas_rows,
        }

    # -- changes made by people between runs (in-process helpers; the servers are idle then) -----------

    def atlas_sale(self, mapping: Any, quantity: Decimal) -> None:
        self.atlas.sell(mapping.atlas_inventory_id, quantity)

    def erp_receipt(self, mapping: Any, quantity: Decimal) -> None:
        if self.erp_name == "netsuite":  # an item receipt, as a warehouse posts it (reference §9)
            self.erp.activity.item_receipt(
                int(mapping.erp_item_id), int(mapping.erp_location_id), quantity, mapping.lot
            )
        else:
            plant, _, sloc = str(mapping.erp_location_id).partition("/")
            self.erp.post_goods_receipt(mapping.erp_item_id, plant, sloc, quantity, batch=mapping.lot or "")


def emulators(
    erp_name: str,
    items: int,
    latency_ms: float,
    concurrency: int,
    data_dir: Path,
    server_time: str = "instant",
) -> tuple[Any, Any]:
    catalog = Catalog(seed=42, size=items, today=TODAY)
    options = SandboxOptions(
        catalog, latency_ms=latency_ms, concurrency_limit=concurrency, seed=42, data_dir=data_dir
    )
    atlas = build_atlas(options)
    install_server_time(atlas, "atlas", server_time)
    if erp_name == "netsuite":
        erp = build_netsuite(options)
    else:
        config = next(c for c in standard_configs(42) if c.name == "sap-onprem")
        from atlas_desktop.sandbox.faults import FaultConfig

        faults = FaultConfig(latency_ms=latency_ms, concurrency_limit=concurrency, seed=42)
        erp = make_emulator(config, catalog, faults=faults, seed=42, data_dir=data_dir)
    install_server_time(erp, erp_name, server_time)
    return erp, atlas


@contextlib.contextmanager
def world(
    erp_name: str, items: int, latency_ms: float, concurrency: int, server_time: str = "instant"
) -> Iterator[World]:
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        started = time.perf_counter()
        erp, atlas = emulators(erp_name, items, latency_ms, concurrency, Path(tmp) / "sandbox", server_time)
        if erp_name == "sap":
            erp.tenant.ensure_seeded()  # seed now, not inside the first timed request
        print(
            f"  [{erp_name} {items:,}] emulators seeded in {time.perf_counter() - started:.1f} s", flush=True
        )
        with running_sandbox(SandboxOptions(Catalog(seed=42, size=1)), emulators=[erp, atlas]) as urls:
            home = Path(tmp) / "profile"
            with open_services(ProfilePaths(home)) as services:
                files = erp.credential_files(urls[erp.name])
                spec = parse_connection(next(iter(files.values())))
                connection_id = services.connections.add(spec)
                services.atlas_accounts.save(
                    base_url=urls[atlas.name], auth_method="api_token",
                    secrets={"api_token": Secret(atlas.api_token)},
                )  # fmt: skip
            yield World(erp_name, erp, atlas, urls, home, connection_id)
