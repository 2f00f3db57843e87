"""What making commits durable before a send costs: NORMAL, FULL and NORMAL + a checkpoint per push wave.

    python tests/perf/bench_durability.py [--decisions 10000] [--writes 1000] [--repeat 3] [--dir DIR]

Modes (the database of a profile runs WAL):
  normal       synchronous=NORMAL, no checkpoint: commits reach the log, synced only at checkpoints
  full         synchronous=FULL: every commit syncs the log
  checkpoint   synchronous=NORMAL + Store.checkpoint() after each wave is marked sending (what ships)
Measured, median of --repeat:
  record       DecisionRepository.record of N decisions (one write each), 500 per transaction (the runner's)
  waves-500    the push's bookkeeping of M writes in waves of 500: mark_sending_many + mark_done_many
  waves-50     the same in waves of 50 (mappings with several writes each make smaller waves)
  push         a whole run pushing M ERP writes (Atlas sales) against the in-process NetSuite and Atlas
               emulators, no latency: the worst case for the database's share of a push (noisy on a shared
               machine: compare the store rows, and `in checkpoint`, the time the push spent checkpointing)
Each cell is "median (min)".
--dir: where the databases go (default: a temporary folder; put it on the disk a profile would use).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402

from atlas_desktop.app.engine_setup import build_engine  # noqa: E402
from atlas_desktop.app.paths import ProfilePaths  # noqa: E402
from atlas_desktop.app.services import open_services  # noqa: E402
from atlas_desktop.domain.connection import parse_connection  # noqa: E402
from atlas_desktop.domain.drafts import DecisionDraft, MappingDraft, WriteDraft  # noqa: E402
from atlas_desktop.domain.enums import MappingStatus, MatchMethod  # noqa: E402
from atlas_desktop.domain.model import ErpType, Side  # noqa: E402
from atlas_desktop.domain.secrets import Secret  # noqa: E402
from atlas_desktop.domain.snapshots import BaseValues  # noqa: E402
from atlas_desktop.sandbox.atlas import build as build_atlas  # noqa: E402
from atlas_desktop.sandbox.catalog import Catalog  # noqa: E402
from atlas_desktop.sandbox.netsuite import build as build_netsuite  # noqa: E402
from atlas_desktop.sandbox.registry import SandboxOptions  # noqa: E402
from atlas_desktop.store.db import Store  # noqa: E402
from atlas_desktop.store.decisions import DecisionRepository  # noqa: E402
from atlas_desktop.store.keys import MemoryKeySource  # noqa: E402
from atlas_desktop.store.mappings import MappingRepository  # noqa: E402
from atlas_desktop.store.models import ConnectionRow  # noqa: E402

MODES = ("normal", "full", "checkpoint")
_checkpoint = Store.checkpoint
checkpoint_seconds: list[float] = []


def _timed_checkpoint(self: Store) -> bool:
    start = time.perf_counter()
    try:
        return _checkpoint(self)
    finally:
        checkpoint_seconds.append(time.perf_counter() - start)


@contextmanager
def mode(store: Store, name: str) -> Iterator[None]:
    """Run `store` in one mode: its pooled connections are replaced so the pragma applies to all."""
    synchronous = "FULL" if name == "full" else "NORMAL"

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

    event.listen(store.engine, "connect", pragma)
    store.engine.dispose()
    chosen = _timed_checkpoint if name == "checkpoint" else (lambda self: True)
    Store.checkpoint = chosen  # type: ignore[method-assign]
    try:
        yield
    finally:
        Store.checkpoint = _checkpoint  # type: ignore[method-assign]
        event.remove(store.engine, "connect", pragma)
        store.engine.dispose()


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fresh_store(folder: Path, mappings: int) -> tuple[Store, str, list[int]]:
    store = Store.open(folder / f"bench-{time.monotonic_ns()}.db")
    with store.session() as session:
        row = ConnectionRow(erp_type=ErpType.NETSUITE, connection_name="bench")
        session.add(row)
        session.flush()
        connection_id = row.id
    matched = (MappingStatus.MATCHED, MatchMethod.AUTO_NDC)
    drafts = [
        MappingDraft(f"a{i}", f"i{i}", "WH1", None, None, None, None, None, *matched) for i in range(mappings)
    ]
    MappingRepository(store).apply_discovery(connection_id, drafts)
    with store.engine.connect() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM erp_inventory_mappings ORDER BY id")]
    return store, connection_id, ids


def drafts_for(mapping_ids: list[int], tag: str) -> list[DecisionDraft]:
    base = BaseValues(Decimal(9), None, "EA")
    payload = {"item_id": "i", "delta": "-1"}
    writes = [WriteDraft(Side.ERP, "erp_adjust", payload, f"{tag}-{n}", Decimal(-1)) for n in mapping_ids]
    return [DecisionDraft(n, base, (write,)) for n, write in zip(mapping_ids, writes, strict=True)]


def summary(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} ({min(times):.3f})"


def record_all(repo: DecisionRepository, connection_id: str, drafts: list[DecisionDraft]) -> None:
    for start in range(0, len(drafts), 500):  # the runner's RECORD_BATCH
        repo.record(connection_id, None, drafts[start : start + 500])


def push_bookkeeping(repo: DecisionRepository, outbox: list[int], wave: int) -> None:
    for start in range(0, len(outbox), wave):
        sent = repo.mark_sending_many(outbox[start : start + wave])
        repo.mark_done_many([(outbox_id, "r") for outbox_id in sent])


def bench_store(folder: Path, decisions: int, writes: int, repeat: int) -> dict[str, dict[str, str]]:
    results: dict[str, dict[str, list[float]]] = {
        name: {"record": [], "waves-500": [], "waves-50": []} for name in MODES
    }
    for round_number in range(repeat):
        for name in MODES:
            store, connection_id, ids = fresh_store(folder, max(decisions, writes))
            repo = DecisionRepository(store)
            with mode(store, name):
                drafts = drafts_for(ids[:decisions], f"r{round_number}")
                results[name]["record"].append(timed(partial(record_all, repo, connection_id, drafts)))
                for wave in (500, 50):
                    outbox = [e.id for e in repo.pending_writes(connection_id, limit=writes)]
                    bookkeeping = partial(push_bookkeeping, repo, outbox, wave)
                    results[name][f"waves-{wave}"].append(timed(bookkeeping))
                    repo.record(connection_id, None, drafts_for(ids[:writes], f"w{wave}-{round_number}"))
            store.close()
    return {name: {k: summary(v) for k, v in r.items()} for name, r in results.items()}


async def bench_push(folder: Path, writes: int, repeat: int) -> dict[str, str]:
    catalog = Catalog(seed=3, size=writes * 2 // 3 + 50, today=date(2026, 11, 27))
    options = SandboxOptions(catalog=catalog, seed=3)
    erp, atlas = build_netsuite(options), build_atlas(options)
    found: dict[str, list[float]] = {m: [] for m in (*MODES, "in checkpoint")}
    with open_services(ProfilePaths(folder / "profile"), key_source=MemoryKeySource()) as services:
        spec = parse_connection(erp.credential_files("http://127.0.0.1:8123")["netsuite.json"])
        cid = services.connections.add(spec)
        token = {"api_token": Secret(atlas.api_token)}
        services.atlas_accounts.save(base_url="http://127.0.0.1:8124", auth_method="api_token", secrets=token)
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=erp.app),
            atlas_options={"transport": httpx.ASGITransport(app=atlas.app)},
        )
        try:
            await engine.discover(cid)
            await engine.sync(cid, approve=True)
            rows = engine.repos.mappings.page(
                cid, status=MappingStatus.MATCHED, search=None, offset=0, limit=10**6
            )
            stocked = [m for m in rows if Decimal(atlas.row(m.atlas_inventory_id)["quantity"]) >= repeat * 3]
            assert len(stocked) >= writes, f"only {len(stocked)} rows with stock"
            for _ in range(repeat):
                for name in MODES:
                    for mapping in stocked[:writes]:
                        atlas.sell(mapping.atlas_inventory_id, 1)
                    with mode(services.store, name):
                        checkpoint_seconds.clear()
                        start = time.perf_counter()
                        run = await engine.sync(cid, approve=True)
                        found[name].append(time.perf_counter() - start)
                    if name == "checkpoint":
                        found["in checkpoint"].append(sum(checkpoint_seconds))
                    assert run.items_synced == writes, run
        finally:
            await engine.aclose()
    return {name: summary(times) for name, times in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        stores = bench_store(folder, args.decisions, args.writes, args.repeat)
        push = asyncio.run(bench_push(folder, args.writes, args.repeat))
    header = ("mode", f"record {args.decisions}", f"waves-500 x{args.writes}", f"waves-50 x{args.writes}",
              f"push {args.writes}")  # fmt: skip
    print("  ".join(f"{h:<16}" for h in header), "(seconds: median (min))")
    for name in MODES:
        r = stores[name]
        print("  ".join(f"{c:<16}" for c in (name, r["record"], r["waves-500"], r["waves-50"], push[name])))
    print(f"in checkpoint during the checkpoint push: {push['in checkpoint']}")


if __name__ == "__main__":
    main()
