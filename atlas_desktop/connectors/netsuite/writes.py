"""Keyed writes: stock adjustments and purchase orders, each applied at most once (externalId)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.client import NetSuiteClient
from atlas_desktop.connectors.netsuite.client import eid as eid_path
from atlas_desktop.connectors.netsuite.errors import SYSTEM, looks_duplicate, looks_not_found
from atlas_desktop.connectors.netsuite.mapping import adjustment_body, purchase_order_body
from atlas_desktop.connectors.netsuite.settings import NetSuiteSettings
from atlas_desktop.domain.errors import (
    ConfigError,
    Conflict,
    ConnectorError,
    InvalidResponse,
    NetworkError,
    ServerError,
    ValidationFailed,
)
from atlas_desktop.domain.model import PurchaseOrder, StockChange, WriteResult, utc_now
from atlas_desktop.domain.ndc import NdcError, ndc_candidates

log = logging.getLogger(__name__)

# Attempts at one write when each answer leaves its outcome unknown (then the engine's outbox retries).
WRITE_ATTEMPTS = 3
# Transaction record types an engine key may have been written as, for the eid: fallback lookup.
_KEYED_RECORDS = ("inventoryAdjustment", "purchaseOrder")


class Writer:
    def __init__(self, client: NetSuiteClient, settings: NetSuiteSettings) -> None:
        self.client = client
        self.settings = settings
        # the user's zone once a read or the test learned it (connector.py): a transaction is dated its day
        self.zone: Callable[[], str | None] = lambda: None

    def today(self) -> datetime:
        return utc_now().astimezone(ZoneInfo(self.zone() or self.settings.fields.timezone))

    # ---- lookup -------------------------------------------------------------------------------

    async def find_by_external_id(self, external_id: str, key: str | None = None) -> WriteResult | None:
        """The transaction written with this externalId, or None. SuiteQL first, then GET .../eid:."""
        result_key = key or external_id
        try:
            page = await self.client.suiteql_page(queries.write_by_external_id(external_id), limit=5)
        except ValidationFailed:
            page = None  # SuiteQL cannot see transaction.externalid here: ask the records themselves
        if page is not None:
            if not page.items:
                return None
            row = page.items[0]
            return WriteResult(result_key, _row_id(row, "an earlier write"), _text(row.get("tranid")), None)
        for record_type in _KEYED_RECORDS:
            try:
                record = await self.client.get_record(
                    record_type,
                    eid_path(external_id),
                    action="look up an earlier write",
                    params={"fields": "id,tranId"},
                )
            except ConnectorError as exc:
                if looks_not_found(exc):
                    continue
                raise
            return WriteResult(
                result_key, _row_id(record, "an earlier write"), _text(record.get("tranId")), None
            )
        return None

    async def write_once(
        self, key: str, external_id: str, send: Callable[[], Awaitable[str | None]]
    ) -> WriteResult:
        """Send a keyed write so it lands once: an unknown outcome is looked up before sending again,
        and NetSuite's refusal of a duplicate externalId means an earlier attempt already landed: that
        record is returned as this write's result, not an error.

        Never "failed" while it may have posted: once an attempt went unanswered, any later refusal
        (whatever its status or wording) is looked up by the key, and if the record is not there yet
        the write stays in doubt (a NetworkError with `in_doubt`), since the unanswered attempt may
        still be committing. A failed write's change would be carried again under a new key."""
        last_error: ConnectorError | None = None
        unanswered = False  # an earlier attempt got no answer: it may have landed, or may still land
        for _ in range(WRITE_ATTEMPTS):
            try:
                new_id = await send()
            except (NetworkError, ServerError) as exc:
                if isinstance(exc, NetworkError) and not exc.in_doubt:
                    raise  # never left this machine (and retryable: the outbox keeps it in doubt)
                unanswered = True
                last_error = exc
                found = await self._lookup_in_doubt(external_id, key, exc)
                if found is not None:
                    return found
                log.info("NetSuite write %s did not land; sending it again", key)
                continue
            except ConnectorError as exc:
                # NetSuite refuses a second record with the externalId, and real REST words it only
                # "This record already exists.": whatever the wording, a refused keyed create is looked up
                # first, and a record found is the answer (an earlier attempt, maybe by a process whose
                # record of it was lost, landed). A first send refused for access (401, 403, 404, 429)
                # posted nothing and had no earlier attempt to find.
                if not unanswered and not isinstance(exc, Conflict | ValidationFailed):
                    raise
                found = await self._lookup_in_doubt(external_id, key, exc)
                if found is not None:
                    log.info("NetSuite already holds write %s; not posted again", key)
                    return found
                if unanswered or looks_duplicate(exc):
                    raise _still_in_doubt(exc, external_id, duplicate=not unanswered) from None
                raise
            if new_id is None:
                found = await self.find_by_external_id(external_id, key)
                if found is not None:
                    return found
                raise ServerError(
                    "NetSuite accepted the write but did not say which record it created.", system=SYSTEM
                )
            return WriteResult(key, new_id, None, utc_now())
        assert last_error is not None
        raise last_error

    async def _lookup_in_doubt(self, external_id: str, key: str, cause: ConnectorError) -> WriteResult | None:
        try:
            return await self.find_by_external_id(external_id, key)
        except ConnectorError as exc:
            # It may have landed and we cannot tell: say so, so the engine looks it up before resending.
            raise NetworkError(
                f"{cause.message} Looking the write up by its key failed too: {exc.message}",
                fix=cause.fix,
                system=SYSTEM,
                status=cause.status,
                in_doubt=True,
            ) from None

    # ---- stock ---------------------------------------------------------------------------------

    def adjustment_account(self) -> str:
        account = self.settings.adjustment_account_id
        if account is None:
            raise ConfigError(
                "settings.adjustment_account_id",
                "no adjustment account is chosen for stock changes",
                fix="Choose the inventory adjustment account in the connection settings.",
            )
        return account

    async def lot_for(self, change: StockChange) -> str | None:
        """The internal id of the lot a change takes stock from (None when it takes from no lot)."""
        if change.key.lot is None or change.delta >= 0:
            return None
        # The stock read's id of the lot rides along with the change; only older writes lack it.
        return change.lot_ref or await self._lot_number_id(change.key.item_id, change.key.lot)

    async def adjust_stock(self, change: StockChange, key: str) -> WriteResult:
        account = self.adjustment_account()
        lot_id = await self.lot_for(change)
        body = adjustment_body(
            change,
            key,
            account_id=account,
            subsidiary_id=self.settings.subsidiary_id,
            tran_date=self.today().date(),
            lot_number_id=lot_id,
        )

        async def send() -> str | None:
            return await self.client.create_record(
                "inventoryAdjustment", body, action="post the stock adjustment"
            )

        return await self.write_once(key, key, send)

    async def _lot_number_id(self, item_id: str, lot: str) -> str:
        page = await self.client.suiteql_page(queries.lot_number_id(item_id, lot), limit=5)
        if not page.items:
            raise ValidationFailed(
                f"Lot {lot} of item {item_id} does not exist in NetSuite, so stock cannot be taken from it.",
                fix="Check the lot number on Atlas; receive the lot in NetSuite first if it is new.",
                system=SYSTEM,
            )
        return _row_id(page.items[0], "a lot number")

    # ---- purchase orders -----------------------------------------------------------------------

    async def create_purchase_order(self, order: PurchaseOrder, key: str) -> WriteResult:
        external_id = order.atlas_order_id
        found = await self.find_by_external_id(external_id, key)
        if found is not None:
            return found  # entered before (the PUT is an upsert, but a second one could append lines)
        vendor_id = await self._vendor_id(order)
        item_ids = [line.erp_item_id or await self._item_by_ndc(line.ndc_text) for line in order.lines]
        body = purchase_order_body(
            order,
            vendor_id=vendor_id,
            item_ids=item_ids,
            subsidiary_id=self.settings.subsidiary_id,
            location_id=self.settings.default_location_id,
            tran_date=self.today().date(),
        )

        async def send() -> str | None:
            return await self.client.upsert_record(
                "purchaseOrder", external_id, body, action="enter the purchase order"
            )

        return await self.write_once(key, external_id, send)

    async def _vendor_id(self, order: PurchaseOrder) -> str:
        page = await self.client.suiteql_page(queries.vendor_by_name(order.supplier_name), limit=5)
        ids = {_row_id(row, "a vendor") for row in page.items}
        if len(ids) == 1:
            return ids.pop()
        if self.settings.default_vendor_id:
            return self.settings.default_vendor_id
        why = "several vendors have" if ids else "no vendor has"
        raise ValidationFailed(
            f"Purchase order {order.number}: {why} the name '{order.supplier_name}' in NetSuite.",
            fix="Create (or rename) the vendor in NetSuite, or choose a default vendor in the connection "
            "settings.",
            system=SYSTEM,
        )

    async def _item_by_ndc(self, ndc_text: str) -> str:
        forms = {ndc_text.strip()}
        try:
            for ndc in ndc_candidates(ndc_text):
                forms.update(f for f in (ndc.hyphenated, ndc.digits, ndc.ten, ndc.eleven) if f)
                if ndc.eleven:
                    e = ndc.eleven
                    forms.add(f"{e[:5]}-{e[5:9]}-{e[9:]}")
                    if ndc.ten:
                        forms.add(ndc.ten.replace("-", ""))
        except NdcError:
            pass  # search by the text as written
        column = self.settings.fields.ndc_column
        page = await self.client.suiteql_page(queries.items_by_ndc(column, sorted(forms)), limit=50)
        active = [row for row in page.items if str(row.get("isinactive", "F")).upper() != "T"] or page.items
        ids = sorted({_row_id(row, "an item") for row in active})
        if len(ids) == 1:
            return ids[0]
        why = f"several items ({', '.join(ids[:5])}) carry" if ids else "no item carries"
        raise ValidationFailed(
            f"{why} NDC {ndc_text} in the field {column}.",
            fix="Map the product to one NetSuite item in Atlas Desktop, or correct the NDC in NetSuite.",
            system=SYSTEM,
        )


def _still_in_doubt(cause: ConnectorError, external_id: str, *, duplicate: bool) -> NetworkError:
    """A refusal that does not prove the write absent: kept in doubt, looked up by its key next run."""
    if duplicate:
        message = (
            f"NetSuite says this write's record already exists ({cause.remote_message or cause.message}), "
            f"but looking it up by its key (external ID {external_id}) found nothing yet. It is not posted "
            "again; the next run looks it up again."
        )
    else:
        message = (
            f"{cause.message} An earlier attempt of this write got no answer and may still land, so it is "
            f"not counted as failed: the next run looks it up by its key (external ID {external_id})."
        )
    return NetworkError(
        message,
        fix="Nothing to do unless it stays in doubt over several runs: then look in NetSuite for a "
        f"transaction with external ID {external_id}. " + (cause.fix or ""),
        system=SYSTEM,
        status=cause.status,
        remote_code=cause.remote_code,
        remote_message=cause.remote_message,
        in_doubt=True,
    )


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _row_id(row: Mapping[str, Any], what: str) -> str:
    """A row's internal id; a row without one cannot be used (and "None" must never become an id)."""
    value = row.get("id")
    if value in (None, "") or isinstance(value, bool | dict | list):
        raise InvalidResponse(f"NetSuite sent {what} without an internal id.", system=SYSTEM)
    return str(value)
