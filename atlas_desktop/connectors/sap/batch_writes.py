"""Many stock changes in one material document, many documents in one $batch (reference §13).

A valuated goods movement also makes an FI document of at most 999 lines, two per item: at most 499
items per material document (setting `items_per_document`, never above). GoodsMovementCode is a header
field, so receipts (05) and issues (03) go in separate documents. Gateway's default change-set
implementation takes one operation per change set: each document is its own change set; a round's
documents share up to `max_concurrency` `$batch` requests, sent at once.

A document is found again by its header text, a hash of its batch key (frozen by the engine before it
leaves); each item's `MaterialDocumentItemText` (50 characters) holds its change's own key, so a change
is found whichever document carried it (`posted_before`). SAP's answer names no item of a refused
document: a content refusal of a document of several items comes back None for all (the engine halves
it); a server error, or a $batch whose answer is lost, leaves its documents in doubt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from atlas_desktop.connectors.sap.errors import error_from_response, raise_for_sap
from atlas_desktop.connectors.sap.mapping import SCRAP_REASONS, material_document_payload
from atlas_desktop.connectors.sap.odata import any_of, read_entity, read_page
from atlas_desktop.connectors.sap.writes import LOOKUP_CHUNK, LOOKUP_PAGE, SYSTEM, Writer, describe
from atlas_desktop.domain.connector import BatchOutcome
from atlas_desktop.domain.errors import (
    AtlasDesktopError,
    ConfigError,
    ConnectorError,
    InvalidResponse,
    NetworkError,
    ServerError,
)
from atlas_desktop.domain.model import StockChange, WriteResult

FI_ITEM_LIMIT = 499  # 999 FI lines, two per item (reference §13, F5/727)
ITEM_SET = "A_MaterialDocumentItem"
_HEADER_ITEMS = 17  # a document's own posting time, in items: a header costs about as much as that many

_ITEM_LOOKUP_FIELDS = (
    "MaterialDocumentYear,MaterialDocument,MaterialDocumentItemText,ReversedMaterialDocument"
)
Batch = tuple[Sequence[tuple[StockChange, str]], str]


def batch_group(writer: Writer, change: StockChange) -> Hashable:
    """The document's GoodsMovementCode (receipt 05, issue and scrapping 03 by default)."""
    if change.delta > 0:
        purpose = "receipt"
    else:
        purpose = "scrap" if change.reason.lower() in SCRAP_REASONS else "issue"
    config = writer.config
    try:
        return config.gm_code(config.movement_type(purpose))
    except ConfigError:
        return purpose  # refused per change when its movement is built


async def adjust_stock_batches(writer: Writer, batches: Sequence[Batch]) -> list[list[BatchOutcome]]:
    results: list[list[BatchOutcome]] = []
    payloads: list[dict[str, Any]] = []
    sent: list[int] = []
    for index, (changes, key) in enumerate(batches):
        outcomes: list[BatchOutcome] = [None] * len(changes)
        items: list[dict[str, Any]] = []
        codes: set[str] = set()
        for n, (change, change_key) in enumerate(changes):
            try:
                movement = writer.movement(change, change_key)
            except AtlasDesktopError as error:
                outcomes[n] = error
                continue
            items.append({**movement.item, "MaterialDocumentItemText": change_key})
            codes.add(movement.gm_code)
        results.append(outcomes)
        if len(items) < len(changes):
            continue  # refused before sending: the others go again without these
        if len(codes) != 1:  # the engine groups by code; never mix receipts and issues in one header
            results[index] = [ConfigError("goods_movement_codes", "mixed movement codes")] * len(changes)
            continue
        payload = material_document_payload(writer.movement(changes[0][0], key), writer.today())
        payload["to_MaterialDocumentItem"] = items  # the header (code, header text of `key`) as for one
        payloads.append(payload)
        sent.append(index)
    if not payloads:
        return results
    # Gateway posts a $batch's documents one after another: the round's documents go in up to
    # `max_concurrency` $batch requests at once, so the server's slots post them side by side.
    shares = _shares([len(p["to_MaterialDocumentItem"]) for p in payloads], writer.config.max_concurrency)
    await asyncio.gather(
        *(
            _post(writer, [payloads[n] for n in share], [sent[n] for n in share], batches, results)
            for share in shares
        )
    )
    return results


def _shares(sizes: Sequence[int], slots: int) -> list[list[int]]:
    """Indexes of documents of `sizes` items in at most `slots` groups (one $batch each), each in its
    original order. Largest first, a document joins the lightest group when that leaves it within a tenth
    of the longest (a request saved for little time: a one-item rest rides along); else it opens a group
    while one is free."""
    groups: list[list[int]] = []
    loads: list[float] = []
    for index in sorted(range(len(sizes)), key=lambda n: sizes[n], reverse=True):
        cost = sizes[index] + _HEADER_ITEMS
        lightest = loads.index(min(loads)) if loads else -1
        if groups and (len(groups) >= slots or loads[lightest] + cost <= 1.1 * max(loads)):
            groups[lightest].append(index)
            loads[lightest] += cost
        else:
            groups.append([index])
            loads.append(cost)
    return [sorted(group) for group in groups]


async def _post(
    writer: Writer,
    payloads: list[dict[str, Any]],
    sent: list[int],
    batches: Sequence[Batch],
    results: list[list[BatchOutcome]],
) -> None:
    """One $batch of these documents; each document's outcomes into `results` at its batch's index."""
    try:
        answers = await writer.send_batch(payloads)
    except ConnectorError as error:
        if isinstance(error, InvalidResponse):  # an answer we cannot read may be documents posted
            error = NetworkError(
                f"{error.message} The documents may have been posted.", in_doubt=True, system=SYSTEM
            )
        for index in sent:
            results[index] = [error] * len(batches[index][0])  # retryable: in doubt; else refused whole
        return
    for index, answer in zip(sent, answers, strict=False):
        results[index] = await _document_outcome(writer, answer, batches[index])
    for index in sent[len(answers) :]:
        not_answered = ServerError(
            "SAP did not answer for this goods movement's document in the $batch.",
            fix="Nothing to do: the next run looks the document up by its key and sends it if absent.",
            system=SYSTEM,
        )
        results[index] = [not_answered] * len(batches[index][0])


async def _document_outcome(writer: Writer, answer: list[httpx.Response], batch: Batch) -> list[BatchOutcome]:
    changes, key = batch
    context = f"posting a document of {len(changes)} goods movements ({describe(changes[0][0])}, ...)"
    failed = next((r for r in answer if r.status_code >= 400), None)
    if failed is None and answer:
        try:
            entity = read_entity(answer[0])
            number, year = (
                str(entity.get("MaterialDocument") or ""),
                str(entity.get("MaterialDocumentYear") or ""),
            )
            found = (
                WriteResult(key, f"{year}/{number}", number, datetime.now(UTC))
                if number and year
                else await writer.find_material_document(key, patient=True)
            )
        except ConnectorError as failure:
            found, why = None, failure.message
        else:
            why = "SAP confirmed the posting but did not say which document it created"
        if found is None:  # posted, but which document is unknown: never failed, looked up next run
            doubt: ConnectorError = NetworkError(f"{context}: {why}", in_doubt=True, system=SYSTEM)
            return [doubt] * len(changes)
        return [WriteResult(k, found.remote_id, found.remote_number, found.applied_at) for _c, k in changes]
    error = error_from_response(failed or answer[0], context=context) if answer else None
    if error is None or error.retryable or (failed is not None and failed.status_code >= 500):
        doubt = error or ServerError(f"{context}: an empty answer", system=SYSTEM)
        return [doubt] * len(changes)
    if len(changes) > 1:
        return [None] * len(changes)  # SAP names no item: the engine halves the document to find it
    change = changes[0][0]
    return [
        type(error)(
            f"SAP refused the {describe(change)}: {error.remote_message or error.message}",
            fix=error.fix,
            system=SYSTEM,
            status=error.status,
            remote_code=error.remote_code,
            remote_message=error.remote_message,
        )
    ]


async def posted_by_item_text(writer: Writer, keys: Sequence[str]) -> dict[str, WriteResult]:
    """Of these change keys, those an item of a material document (not a reversal) carries as its text."""
    found: dict[str, WriteResult] = {}
    wanted = set(keys)
    url = f"{writer.matdoc_root}/{ITEM_SET}"
    for start in range(0, len(keys), LOOKUP_CHUNK):
        params = {
            "$format": "json",
            "$filter": any_of("MaterialDocumentItemText", keys[start : start + LOOKUP_CHUNK]),
            "$select": _ITEM_LOOKUP_FIELDS,
            "$orderby": "MaterialDocumentYear,MaterialDocument",
            "$top": str(LOOKUP_PAGE),
        }
        skip = 0
        while True:
            params["$skip"] = str(skip)
            response = await writer.http.request("GET", url, params=params)
            await response.aread()
            if response.status_code == 404:
                break
            raise_for_sap(response, context="looking up earlier postings by their items")
            rows = read_page(response).rows
            for row in rows:
                text = str(row.get("MaterialDocumentItemText") or "")
                if row.get("ReversedMaterialDocument") or text not in wanted or text in found:
                    continue  # a reversal's item carries the text too (reference §13)
                number, year = str(row.get("MaterialDocument")), str(row.get("MaterialDocumentYear"))
                found[text] = WriteResult(text, f"{year}/{number}", number, None)
            if len(rows) < LOOKUP_PAGE:
                break
            skip += LOOKUP_PAGE
    return found
