"""Sync benchmarks against the emulators over real sockets, compared with the physical limit of the APIs.

    python tests/perf/bench.py [--items 10000 50000 ...] [--erp netsuite|sap|both] [--latency-ms 20]
        [--concurrency 5] [--server-time instant|realistic] [--changes 0 10 1000]
        [--scenarios first incremental naive ui] [--writes batch single] [--single-sample N] [--json FILE]
        [--profile DIR] [--explain]

Per ERP and catalog size: one world (ERP emulator + Atlas emulator on loopback ports, `latency_ms` added per
request, `concurrency` requests in flight per server). Scenarios, in this order:
  first        discovery + the approved first sync of the whole catalog
  incremental  after 0, 10, 1,000 changes (half Atlas sales, half ERP receipts) on the synced catalog
  naive        the design plan's way: one ERP read + one Atlas PATCH per mapped row (bench_naive.py)
  ui           not by default (a second world and first sync): ui-sync, event-loop stalls in the desktop
               app during discovery + the first sync, and ui-start, exec to the main window's first paint on
               the synced profile (bench_ui.py); rows add max_loop_stall_ms and the worst stalls' stacks
`--writes single` runs the scenarios again in a fresh world with the one-change-per-request writer on both
sides (Atlas: the client's single-row routes; the ERP: one adjustment / material document per change), the
baseline for batched writes; the table after the rows compares the two. `--single-sample N` times the single
writer's pushes of more than N changes on N of them and adds a row scaled to all (marked `single~`, never a
measurement): with --server-time realistic a 10,000-change one-per-change push holds NetSuite for ~30 min.
The app runs in its own process (bench_worker.py): wall_s and peak_rss_mb are the app's alone. API calls are
what the servers counted (/_sandbox/stats), 429s included. How min_api_calls and lower_bound_s are made:
see bench_bounds.py (printed with --explain).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])]

import bench_bounds  # noqa: E402
import bench_naive  # noqa: E402
import bench_ui  # noqa: E402
from bench_world import World, world  # noqa: E402  (first: puts the project on sys.path)

SCENARIOS = ("first", "incremental", "naive", "ui")
DEFAULT_SCENARIOS = ("first", "incremental", "naive")


def parse_items(text: str) -> int:
    text = text.lower().replace("_", "").replace(",", "")
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def record(
    scenario: str, w: World, items: int, changes: int, args: argparse.Namespace, wall: float,
    bound: bench_bounds.Bound, rss: float | None, extra: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    stats = w.stats()
    calls = stats["erp"]["total"] + stats["atlas"]["total"]
    return {
        "scenario": scenario,
        "erp": w.erp_name,
        "writes": w.writes,
        "items": items,
        "changes": changes,
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "wall_s": round(wall, 3),
        "api_calls": calls,
        "min_api_calls": bound.requests,
        "server_time": args.server_time,
        "lower_bound_s": round(
            bound.seconds(args.concurrency, args.latency_ms, w.erp_name, args.server_time), 3
        ),
        "peak_rss_mb": round(rss, 1) if rss is not None else None,
        "bound_terms": bound.explain(),
        "erp_calls": stats["erp"]["total"],
        "atlas_calls": stats["atlas"]["total"],
        "rejected_429": stats["erp"]["rejected_concurrency"] + stats["atlas"]["rejected_concurrency"],
        "routes": {side: stats[side]["by_route"] for side in ("erp", "atlas")},  # --json: where calls went
        **extra,
    }


def cpu_figures(result: dict[str, Any]) -> dict[str, Any]:
    """CPU seconds of the app and of the emulators during a run, and the floor they set on this machine.

    The lower bound counts round trips only; on a machine with few cores the CPU both sides burn is the
    other physical limit: a run cannot be shorter than either side's CPU time, nor than their sum spread
    over every core.
    """
    app, emulators = result.get("app_cpu_s"), result.get("emulator_cpu_s")
    if app is None or emulators is None:
        return {}
    cores = os.cpu_count() or 1
    floor = max(app, emulators, (app + emulators) / cores)
    return {"app_cpu_s": app, "emulator_cpu_s": emulators, "cores": cores, "cpu_floor_s": round(floor, 2)}


def first_sync(w: World, items: int, args: argparse.Namespace) -> dict[str, Any]:
    w.reset_stats()
    profile = args.profile / f"first-{w.erp_name}-{items}.txt" if args.profile else None
    result = w.run_engine("first", profile)
    extra = {"status": result["status"], "mapped": result["matched"], "rows": w.source_rows()}
    extra |= cpu_figures(result)
    if result.get("rss_by_phase_mb"):
        extra["rss_by_phase_mb"] = result["rss_by_phase_mb"]
        print(f"  [{w.erp_name} {items:,}] peak RSS by phase (MB): {result['rss_by_phase_mb']}", flush=True)
    return record(
        "first", w, items, 0, args, result["wall_s"], full_sync_bound(w), result["peak_rss_mb"], extra
    )


def full_sync_bound(w: World) -> bench_bounds.Bound:
    """The minimum for the first sync just run: every row read once, each write the servers counted
    (an Atlas batch request counts the writes it carried)."""
    stats = w.stats()
    routes = stats["atlas"]["by_route"]
    atlas_writes = (
        sum(n for route, n in routes.items() if not route.startswith("GET") and not route.endswith("/batch"))
        - _bookkeeping(routes)
        + w.atlas_batch_operations()
    )
    return bench_bounds.full_sync(w.erp_name, w.source_rows(), w.erp_changes(), atlas_writes)


def ui_sync(w: World, items: int, args: argparse.Namespace) -> dict[str, Any]:
    w.reset_stats()
    result = bench_ui.ui_sync(w)
    bound = full_sync_bound(w)
    wall, rss = result.pop("wall_s"), result.pop("peak_rss_mb")
    return record("ui-sync", w, items, 0, args, wall, bound, rss, result)


def ui_start(w: World, items: int, args: argparse.Namespace) -> dict[str, Any]:
    w.reset_stats()
    result = bench_ui.ui_start(w)
    bound = bench_bounds.Bound(())  # starting makes no request it could not do without
    wall, rss = result.pop("wall_s"), result.pop("peak_rss_mb")
    return record("ui-start", w, items, 0, args, wall, bound, rss, result)


def _bookkeeping(routes: dict[str, int]) -> int:
    """Health and sync-log posts: the app reports to support, not sync work; not counted as writes."""
    return sum(n for route, n in routes.items() if "/api/v1/erp/" in route)


def incremental(w: World, items: int, changes: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The run after `changes` changes; the one-per-change writer on a sample of `--single-sample` changes
    when there are more (plus a row extrapolated from it, marked as such)."""
    sample = args.single_sample
    if w.writes != "single" or not sample or changes <= sample:
        return [push(w, items, changes, args)]
    measured = push(w, items, sample, args)
    scale = changes / sample
    estimate = dict(measured, changes=changes, extrapolated_from=sample)
    estimate["wall_s"] = round(measured["wall_s"] * scale, 3)
    estimate["api_calls"] = round(measured["api_calls"] * scale)
    for key in ("erp_calls", "atlas_calls"):
        estimate[key] = round(measured[key] * scale)
    for key in ("peak_rss_mb", "app_cpu_s", "emulator_cpu_s", "cpu_floor_s"):
        estimate.pop(key, None)
    estimate["peak_rss_mb"] = None
    batched_bound = _incremental_bound(w, changes)
    estimate["min_api_calls"] = batched_bound.requests
    estimate["lower_bound_s"] = round(
        batched_bound.seconds(args.concurrency, args.latency_ms, w.erp_name, args.server_time), 3
    )
    estimate["bound_terms"] = batched_bound.explain()
    return [measured, estimate]


def _incremental_bound(w: World, changes: int) -> bench_bounds.Bound:
    """The batched minimum of a push of `changes` on `w`, the changes chosen as `push` chooses them."""
    chosen, atlas_changes = _choose(w, changes)
    return _bound(w, chosen, changes, atlas_changes)


def _choose(w: World, changes: int) -> tuple[list[Any], int]:
    """The mappings to change (the first half get an Atlas sale, the rest an ERP receipt)."""
    candidates = [m for m in w.matched() if m.atlas_quantity is not None and m.atlas_quantity >= 2]
    if len(candidates) < changes:
        raise SystemExit(f"only {len(candidates)} mapped rows with stock; cannot make {changes} changes")
    step = max(1, len(candidates) // max(changes, 1))
    return candidates[::step][:changes], changes // 2


def _bound(w: World, chosen: list[Any], changes: int, atlas_changes: int) -> bench_bounds.Bound:
    # An Atlas sale is written to the ERP as an issue at the mapping's location.
    across = [(str(m.erp_location_id), -1) for m in chosen[:atlas_changes]]
    return bench_bounds.incremental(w.erp_name, changes - atlas_changes, across)


def push(w: World, items: int, changes: int, args: argparse.Namespace) -> dict[str, Any]:
    chosen, atlas_changes = _choose(w, changes)
    for index, mapping in enumerate(chosen):
        if index < atlas_changes:
            w.atlas_sale(mapping, Decimal(1))
        else:
            w.erp_receipt(mapping, Decimal(2))
    w.reset_stats()
    result = w.run_engine("sync")
    bound = _bound(w, chosen, changes, atlas_changes)
    extra = {"status": result["status"], "items_synced": result["items_synced"], **cpu_figures(result)}
    return record(
        "incremental", w, items, changes, args, result["wall_s"], bound, result["peak_rss_mb"], extra
    )


def naive(w: World, items: int, args: argparse.Namespace) -> dict[str, Any]:
    """Timed on `--naive-sample` rows and scaled linearly to all mapped rows (it is linear by design)."""
    mappings = w.matched()
    sample = mappings[: args.naive_sample] if args.naive_sample else mappings
    w.reset_stats()
    wall = asyncio.run(bench_naive.run(w, sample, args.concurrency))
    stats = w.stats()
    per_row = (stats["erp"]["total"] + stats["atlas"]["total"]) / len(sample)
    scale = len(mappings) / len(sample)
    bound = bench_bounds.naive(w.erp_name, len(mappings), w.source_rows()["atlas_rows"])
    row = record("naive", w, items, 0, args, wall * scale, bound, None, {"mapped": len(mappings)})
    row["api_calls"] = round(per_row * len(mappings))
    row["measured_rows"] = len(sample)
    return row


COLUMNS = (
    ("scenario", "{:<11}"), ("erp", "{:<8}"), ("writes", "{:<7}"), ("items", "{:>7,}"), ("changes", "{:>7,}"),
    ("wall_s", "{:>8.2f}"), ("lower_bound_s", "{:>8.2f}"), ("x_bound", "{:>7}"), ("api_calls", "{:>9,}"),
    ("min_api_calls", "{:>9,}"), ("x_min", "{:>6}"), ("peak_rss_mb", "{:>8}"), ("cpu", "{:>13}"),
)  # fmt: skip
HEADERS = ("scenario", "erp", "writes", "items", "changes", "wall s", "bound s", "x bound", "API calls",
           "min calls", "x min", "RSS MB", "CPU s app/emu")  # fmt: skip


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def _label(row: dict[str, Any]) -> str:
    writes = row["writes"] + ("~" if row.get("extrapolated_from") else "")
    return f"{row['scenario']} {row['erp']} {writes} {row['items']:,} items {row['changes']:,} changes"


def compare(rows: list[dict[str, Any]]) -> str:
    """single / batch for each scenario run by both writers: API calls and wall time."""

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (row["scenario"], row["erp"], row["items"], row["changes"])

    batched = {key(r): r for r in rows if r["writes"] == "batch"}
    lines = []
    for row in rows:
        base = batched.get(key(row))
        if row["writes"] != "single" or base is None or row["scenario"] == "naive":
            continue
        what = (
            "extrapolated from " + f"{row['extrapolated_from']:,} changes"
            if row.get("extrapolated_from")
            else "measured"
        )
        lines.append(
            f"  {row['scenario']} {row['erp']} {row['items']:,} items {row['changes']:,} changes: "
            f"API calls {row['api_calls']:,} / {base['api_calls']:,}"
            f" = {_ratio(row['api_calls'], base['api_calls'])}x, wall {row['wall_s']:.1f} s"
            f" / {base['wall_s']:.1f} s = {_ratio(row['wall_s'], base['wall_s'])}x "
            f"(single {what})"
        )
    return "\n".join(lines)


def table(rows: list[dict[str, Any]]) -> str:
    widths = [len(fmt.format(0 if "," in fmt or "f" in fmt else "")) for _, fmt in COLUMNS]
    lines = ["| " + " | ".join(h.rjust(max(w, len(h))) for h, w in zip(HEADERS, widths, strict=True)) + " |"]
    lines.append(
        "|" + "|".join("-" * (max(w, len(h)) + 2) for h, w in zip(HEADERS, widths, strict=True)) + "|"
    )
    for row in rows:
        view = dict(row)
        if row.get("extrapolated_from"):
            view["writes"] = "single~"
        view["x_bound"] = _ratio(row["wall_s"], row["lower_bound_s"])
        view["x_min"] = _ratio(row["api_calls"], row["min_api_calls"])
        view["peak_rss_mb"] = "-" if row["peak_rss_mb"] is None else f"{row['peak_rss_mb']:.0f}"
        has_cpu = row.get("app_cpu_s") is not None
        view["cpu"] = f"{row['app_cpu_s']:.1f}/{row['emulator_cpu_s']:.1f}" if has_cpu else "-"
        cells = []
        for (key, fmt), header, width in zip(COLUMNS, HEADERS, widths, strict=True):
            cells.append(fmt.format(view[key]).rjust(max(width, len(header))))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--items", nargs="+", type=parse_items, default=[10_000], help="catalog sizes (10k ok)"
    )
    parser.add_argument("--erp", choices=["netsuite", "sap", "both"], default="netsuite")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument(
        "--server-time", choices=["instant", "realistic"], default="instant",
        help="realistic: each API's production-like time per request, line and row (sandbox/server_time.py)",
    )  # fmt: skip
    parser.add_argument("--changes", nargs="+", type=int, default=[0, 10, 1000])
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(DEFAULT_SCENARIOS))
    parser.add_argument(
        "--naive-sample", type=int, default=2000, help="rows the baseline is timed on (0: all)"
    )
    parser.add_argument(
        "--writes", nargs="+", choices=["batch", "single"], default=["batch"],
        help="writer(s), each in its own world: batch (many changes a request, at each API's limit) and/or"
        " single (one change a request, both sides: the baseline)",
    )  # fmt: skip
    parser.add_argument(
        "--single-sample", type=int, default=0,
        help="time the single writer's pushes of more changes than this on this many, and extrapolate",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the rows as a JSON array here")
    parser.add_argument("--profile", type=Path, help="directory: profile the first sync into it")
    parser.add_argument("--explain", action="store_true", help="print how the lower bound is computed")
    args = parser.parse_args(argv)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    erps = ["netsuite", "sap"] if args.erp == "both" else [args.erp]
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for erp in erps:
        for items in args.items:
            if "ui" in args.scenarios:  # its own world: the first sync must find the catalog untouched
                with world(erp, items, args.latency_ms, args.concurrency, args.server_time) as w:
                    for scenario in (ui_sync, ui_start):
                        rows.append(scenario(w, items, args))
                        print(table(rows[-1:]).splitlines()[-1], flush=True)
            if set(args.scenarios) == {"ui"}:
                continue
            for writes in args.writes:
                with world(erp, items, args.latency_ms, args.concurrency, args.server_time) as w:
                    w.writes = writes
                    rows.append(first_sync(w, items, args))
                    print(table(rows[-1:]).splitlines()[-1], flush=True)
                    if "incremental" in args.scenarios:
                        for changes in args.changes:
                            made = incremental(w, items, changes, args)
                            rows += made
                            print("\n".join(table(made).splitlines()[2:]), flush=True)
                    if "naive" in args.scenarios and writes == args.writes[0]:  # the writer plays no part
                        rows.append(naive(w, items, args))
                        print(table(rows[-1:]).splitlines()[-1], flush=True)
    rows = [r for r in rows if r["scenario"].split("-")[0] in args.scenarios]
    print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {time.perf_counter() - started:.0f} s in all")
    print(table(rows))
    print("x bound = wall / lower bound; x min = API calls / minimum. Lower bound: --explain.")
    print("CPU s app/emu: CPU seconds of the app's process / of the emulators (the bench process).")
    print("API calls are exact counts (the servers' own); wall times are noisy on a shared machine.")
    if any(r.get("extrapolated_from") for r in rows):
        print(
            "writes 'single~': NOT measured: the one-per-change writer timed on the sample in the row above"
            " it and scaled linearly to all changes (wall s and API calls x changes / sample)."
        )
    comparison = compare(rows)
    if comparison:
        print("\nOne-per-change writer (single) against the batched one (batch), same run:")
        print(comparison)
    if any(r["scenario"].startswith("ui-") for r in rows):
        print(bench_ui.report([r for r in rows if r["scenario"].startswith("ui-")]))
    if args.explain:
        print(bench_bounds.EXPLANATION)
        print("The minimum of each row, term by term:")
        for row in rows:
            if row.get("bound_terms"):
                print(f"  {_label(row)}: minimum {row['min_api_calls']:,}\n{row['bound_terms']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
