"""Many stock changes in one inventoryAdjustment: one request for up to `lines_per_record` changes.

Reference §9: a transaction may carry up to 1,000 lines; one invalid line refuses the whole record and
`o:errorPath` (`inventory.items[n]...`) names it; externalId takes letters, digits, "_" and "-". So a
record is written under its batch's key (derived from the keys of the changes it carries, frozen by the
engine before it leaves) and each line's `memo` holds its change's own key, so a change is found again
whichever record carried it (`posted_before`).

A refusal that names a line fails that change alone; the others come back None (not posted: the engine
sends them again as a new batch). A content refusal naming no line comes back None for all (the engine
halves the batch). Whether the record may have posted is decided as for a single write (Writer.write_once):
a change is never failed while its record may have landed.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.errors import SYSTEM
from atlas_desktop.connectors.netsuite.mapping import adjustment_line, adjustment_record
from atlas_desktop.connectors.netsuite.writes import Writer
from atlas_desktop.domain.connector import BatchOutcome
from atlas_desktop.domain.errors import (
    AtlasDesktopError,
    ConnectorError,
    InvalidResponse,
    NetworkError,
    ValidationFailed,
)
from atlas_desktop.domain.model import StockChange, WriteResult
from atlas_desktop.domain.quantity import erp_ref

_LINE = re.compile(r"^inventory\.items\[(\d+)\]")
MEMO_LOOKUP_CHUNK = 500  # keys per SuiteQL lookup: at most one line per key, so one page of 1,000 answers


def batch_group(change: StockChange) -> Hashable:
    # The record's adjLocation is the location of its lines (as the one-line record sets it); account
    # and subsidiary come from the connection, the same for every change.
    return change.key.location_id


async def adjust_stock_batch(
    writer: Writer, changes: Sequence[tuple[StockChange, str]], batch_key: str
) -> list[BatchOutcome]:
    outcomes: list[BatchOutcome] = [None] * len(changes)
    lines = []
    for index, (change, key) in enumerate(changes):
        try:
            line = adjustment_line(change, lot_number_id=await writer.lot_for(change))
        except AtlasDesktopError as error:
            outcomes[index] = error
            continue
        line["memo"] = key
        lines.append(line)
    if len(lines) < len(changes):
        return outcomes  # refused before sending: nothing left; the others go again without these
    first = changes[0][0]
    body = adjustment_record(
        lines,
        batch_key,
        account_id=writer.adjustment_account(),
        subsidiary_id=writer.settings.subsidiary_id,
        location_id=first.key.location_id,
        tran_date=writer.today().date(),
        memo=f"Atlas Desktop: {len(lines)} stock change{'s' if len(lines) != 1 else ''}",
    )

    async def send() -> str | None:
        return await writer.client.create_record(
            "inventoryAdjustment", body, action="post the stock adjustment"
        )

    try:
        result = await writer.write_once(batch_key, batch_key, send)
    except ConnectorError as error:
        if error.retryable:
            return [error] * len(changes)  # may have landed: every change stays in doubt with the batch
        if isinstance(error, InvalidResponse):  # an answer we cannot read may be a record created
            return [_in_doubt(error, batch_key)] * len(changes)
        line_no = _refused_line(error)
        if line_no is not None and line_no < len(changes):
            change, _key = changes[line_no]
            outcomes[line_no] = _line_error(error, change)
            return outcomes
        if len(changes) > 1 and isinstance(error, ValidationFailed):
            return outcomes  # no line named: the engine halves the batch to find it
        return [error] * len(changes)
    return [
        WriteResult(key, result.remote_id, result.remote_number, result.applied_at) for _c, key in changes
    ]


async def posted_before(writer: Writer, keys: Sequence[str]) -> dict[str, WriteResult]:
    """Of these change keys, those an adjustment holds (as a line's memo or a record's externalId): one
    query per 500 keys."""
    wanted = set(keys)
    found: dict[str, WriteResult] = {}
    for start in range(0, len(keys), MEMO_LOOKUP_CHUNK):
        chunk = keys[start : start + MEMO_LOOKUP_CHUNK]
        page = await writer.client.suiteql_page(queries.adjustments_by_key(chunk), limit=1000)
        for row in page.items:
            record, tranid = row.get("id"), row.get("tranid")
            if record in (None, ""):
                continue
            for key in (row.get("memo"), row.get("externalid")):
                if isinstance(key, str) and key in wanted and key not in found:
                    found[key] = WriteResult(key, str(record), str(tranid) if tranid else None, None)
    return found


def _in_doubt(error: ConnectorError, batch_key: str) -> NetworkError:
    return NetworkError(
        f"{error.message} The record may have been created, so its changes are not counted as failed: "
        f"the next run looks it up by its key (external ID {batch_key}).",
        fix=error.fix,
        system=SYSTEM,
        status=error.status,
        in_doubt=True,
    )


def _refused_line(error: ConnectorError) -> int | None:
    match = _LINE.match(error.remote_path or "")
    return int(match.group(1)) if match else None


def _line_error(error: ConnectorError, change: StockChange) -> ValidationFailed:
    """The refusal as this change's own error: the batch's line number means nothing to the user."""
    detail = error.remote_message or error.message
    return ValidationFailed(
        f"NetSuite refused the stock change of {erp_ref(change.key)}: {detail}",
        fix=error.fix,
        system=SYSTEM,
        status=error.status,
        remote_code=error.remote_code,
        remote_message=error.remote_message,
    )
