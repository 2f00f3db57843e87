"""CLI commands that drive the engine: sync, mappings, conflicts, agent. Exit codes for schedulers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from atlas_desktop.app.connection_states import connection_states
from atlas_desktop.app.engine_setup import ProfileEngine, build_engine
from atlas_desktop.app.services import Services
from atlas_desktop.app.tables import table
from atlas_desktop.domain.enums import MappingStatus, Resolution, SyncType
from atlas_desktop.domain.ndc import display_ndc
from atlas_desktop.engine.api import RunInProgress, RunStatus, RunSummary
from atlas_desktop.engine.changes import KIND_LABELS, ChangeKind
from atlas_desktop.ui.monitoring.wording import plural

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ITEM_ERRORS, EXIT_PREVIEW, EXIT_ALREADY_RUNNING = 0, 1, 2, 3, 4, 5


def _with_engine(
    services: Services,
    work: Callable[[ProfileEngine], Awaitable[int]],
    *,
    as_json: bool = False,
    wait: float | None = None,
) -> int:
    async def main() -> int:
        engine = build_engine(services) if wait is None else build_engine(services, run_lock_wait=wait)
        try:
            return await work(engine)
        except RunInProgress as busy:
            return already_running(busy, as_json=as_json)
        finally:
            await engine.aclose()

    return asyncio.run(main())


def already_running(busy: RunInProgress, *, as_json: bool) -> int:
    """Another process runs the connection: one line (or one JSON object) and its own exit code, so a
    scheduler can tell "skipped, someone else is on it" from a failure."""
    if as_json:
        print(json.dumps({"status": "already_running", "connection_id": busy.connection_id, "pid": busy.pid,
                          "error_message": busy.message, "fix": busy.fix}))  # fmt: skip
    else:
        print(f"{busy.message}. {busy.fix}", file=sys.stderr)
    return EXIT_ALREADY_RUNNING


def summary_json(summary: RunSummary) -> dict[str, Any]:
    return {
        "sync_log_id": summary.sync_log_id,
        "connection_id": summary.connection_id,
        "status": summary.status.value,
        "sync_type": summary.sync_type.value,
        "items_synced": summary.items_synced,
        "items_failed": summary.items_failed,
        "items_skipped": summary.items_skipped,
        "api_calls_made": summary.api_calls_made,
        "api_errors": summary.api_errors,
        "duration_seconds": summary.duration_seconds,
        "conflicts_opened": summary.conflicts_opened,
        "in_doubt": summary.in_doubt,
        "error_message": summary.error_message,
        "plan": summary.plan.as_json() if summary.plan else None,
    }


def exit_code(summary: RunSummary) -> int:
    return {
        RunStatus.SUCCESS: EXIT_OK,
        RunStatus.PARTIAL: EXIT_ITEM_ERRORS,
        RunStatus.PREVIEW: EXIT_PREVIEW,
    }.get(summary.status, EXIT_FAILED)


def _print_summary(summary: RunSummary) -> None:
    print(
        f"{summary.status.value}: {summary.items_synced} written, {summary.items_failed} failed, "
        f"{summary.items_skipped} skipped, {plural(summary.conflicts_opened, 'conflict')}, "
        f"{summary.in_doubt} in doubt; "
        f"{summary.api_calls_made} API calls in {summary.duration_seconds:.1f} s"
    )
    if summary.error_message:
        print(f"error: {summary.error_message}", file=sys.stderr)
    if summary.plan is not None:
        plan = summary.plan
        print(f"preview ({plan.reason}):")
        if not plan.kinds:  # a plan from before the counts per kind
            print(f"  {plural(plan.to_atlas, 'change')} to write to Atlas, {plan.to_erp} to the ERP,")
            unchanged = plural(plan.unchanged, "item")
            print(f"  {plural(plan.conflicts, 'conflict')} to resolve, {unchanged} already in step")
        for kind, count in plan.kinds.items():  # what the approved run will do, kind by kind
            if count or kind == ChangeKind.ALREADY_SAME:
                print(f"  {KIND_LABELS[ChangeKind(kind)]}: {count:,}")


def run_sync(args: argparse.Namespace, services: Services) -> int:
    async def work(engine: ProfileEngine) -> int:
        summary = await engine.sync(args.id, sync_type=SyncType.MANUAL, approve=args.yes, full=args.full)
        if summary.status is RunStatus.PREVIEW and not args.yes and not args.json and sys.stdin.isatty():
            _print_summary(summary)
            if input("Apply this plan? [y/N] ").strip().lower() in ("y", "yes"):
                summary = await engine.sync(args.id, sync_type=SyncType.MANUAL, approve=True, full=args.full)
            else:
                return EXIT_PREVIEW
        if args.json:
            # The state after the run, by the window's rule: "success" with 12 ambiguous items is not
            # "in sync".
            state = connection_states(services, [services.connections.summary(args.id)])[args.id]
            said = {"state": state.kind.value, "state_text": state.words()}
            print(json.dumps(summary_json(summary) | said))
        else:
            _print_summary(summary)
        return exit_code(summary)

    return _with_engine(services, work, as_json=args.json, wait=args.wait)


def run_mappings(args: argparse.Namespace, services: Services) -> int:
    async def work(engine: ProfileEngine) -> int:
        mappings = engine.repos.mappings
        if args.action == "discover":
            found = await engine.discover(args.id)
            print(
                f"matched {found.matched}, ambiguous {found.ambiguous}, "
                f"unmatched on Atlas {found.unmatched_atlas}, unmatched in the ERP {found.unmatched_erp}"
            )
            for line in found.mapped_elsewhere_lines():
                print(f"left out: {line}")
            if found.doubles:
                print(
                    f"{found.doubles} pairs are also mapped by another connection and are not synced: "
                    f"unmap them in one connection (`mappings list {args.id} --status conflict`)"
                )
            return EXIT_OK
        if args.action == "list":
            status = MappingStatus(args.status) if args.status else None
            rows = await engine.db(
                mappings.page, args.id, status=status, search=args.search, offset=0, limit=args.limit
            )
            if args.json:
                print(json.dumps([_mapping_json(row) for row in rows], indent=2))
            elif not rows:  # silence reads as "the command did nothing"
                print(_no_mappings(args))
            else:
                for line in table(MAPPING_HEADERS, [_mapping_cells(row) for row in rows]):
                    print(line)
            return EXIT_OK
        if args.action == "map":
            mapping_id = await engine.db(
                mappings.map_manually, args.id, args.atlas_id, args.erp_item, args.location, args.lot
            )
            print(mapping_id)
            return EXIT_OK
        if args.action == "unmap":
            await engine.db(mappings.unmap, args.id, args.mapping_id)
            print(f"unmapped {args.mapping_id}")
            return EXIT_OK
        raise AssertionError(args.action)

    return _with_engine(services, work, as_json=bool(getattr(args, "json", False)))


MAPPING_HEADERS = ("ID", "STATUS", "NDC", "ATLAS", "ERP ITEM", "LOCATION", "LOT", "NAME")


def _mapping_cells(row: Any) -> list[object]:
    name = (row.item_name or "-") + (f"  ({row.note})" if row.note else "")  # why: ambiguous, a double, ...
    ndc = display_ndc(row.ndc_key) if row.ndc_key else None
    return [row.id, row.status.value, ndc, row.atlas_inventory_id, row.erp_item_id, row.erp_location_id,
            row.lot, name]  # fmt: skip


def _no_mappings(args: argparse.Namespace) -> str:
    if args.status or args.search:
        return f"no mappings of {args.id} match: try without --status / --search"
    return f"no mappings yet: find them with `atlas-desktop mappings discover {args.id}`"


def _mapping_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status.value,
        "ndc_key": row.ndc_key,
        "atlas_inventory_id": row.atlas_inventory_id,
        "erp_item_id": row.erp_item_id,
        "erp_location_id": row.erp_location_id,
        "lot": row.lot,
        "item_name": row.item_name,
        "note": row.note,
    }


def run_conflicts(args: argparse.Namespace, services: Services) -> int:
    async def work(engine: ProfileEngine) -> int:
        if args.action == "list":
            rows = await engine.db(engine.repos.conflicts.open_conflicts, args.id)
            if args.json:
                print(json.dumps([_conflict_json(row) for row in rows], indent=2))
            elif not rows:  # silence reads as "the command did nothing"
                print(f"no conflicts: nothing in {args.id} waits for a decision")
            else:
                cells = [
                    [row.id, row.mapping_id, row.field, row.base_value, row.atlas_value, row.erp_value]
                    for row in rows
                ]
                for line in table(["ID", "MAPPING", "FIELD", "BASE", "ATLAS", "ERP"], cells):
                    print(line)
            return EXIT_OK
        resolution = {"atlas": Resolution.TAKE_ATLAS, "erp": Resolution.TAKE_ERP, "value": Resolution.VALUE}
        summary = await engine.resolve_conflict(args.conflict_id, resolution[args.take], args.value)
        _print_summary(summary)
        return exit_code(summary)

    return _with_engine(services, work, as_json=bool(getattr(args, "json", False)))


def _conflict_json(row: Any) -> dict[str, Any]:
    return {
        key: getattr(row, key)
        for key in ("id", "mapping_id", "field", "base_value", "atlas_value", "erp_value")
    }


def run_reconcile(args: argparse.Namespace, services: Services) -> int:
    async def work(engine: ProfileEngine) -> int:
        report = await engine.reconcile(args.id, fix=not args.no_fix)
        if args.json:
            print(json.dumps({
                "sync_log_id": report.sync_log_id, "keys_checked": report.keys_checked,
                "drift": report.drift, "fix": summary_json(report.fix) if report.fix else None,
            }))  # fmt: skip
        else:
            print(f"checked {report.keys_checked} mapped keys: {len(report.drift)} had drifted")
            for item in report.drift[:20]:
                print(f"  mapping {item['mapping_id']}: was {item['was']}, now {item['now']}")
            if report.fix is not None:
                _print_summary(report.fix)
        if report.fix is not None:
            return exit_code(report.fix)
        return EXIT_ITEM_ERRORS if report.drift else EXIT_OK

    return _with_engine(services, work, as_json=bool(getattr(args, "json", False)))


def run_replay(args: argparse.Namespace, services: Services) -> int:
    async def work(engine: ProfileEngine) -> int:
        summary = await engine.replay_failed(args.id)
        if args.json:
            print(json.dumps(summary_json(summary)))
        else:
            _print_summary(summary)
        return exit_code(summary)

    return _with_engine(services, work, as_json=bool(getattr(args, "json", False)))


HANDLERS: dict[str, Callable[[argparse.Namespace, Services], int]] = {
    "sync": run_sync,
    "mappings": run_mappings,
    "conflicts": run_conflicts,
    "reconcile": run_reconcile,
    "replay": run_replay,
}
