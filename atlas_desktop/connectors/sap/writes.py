"""Writes: goods movements (API_MATERIAL_DOCUMENT_SRV deep insert, single or $batch) and purchase orders.

SAP has no idempotency header, so the engine's key travels in the document itself (a hash in
`MaterialDocumentHeaderText`, or a reference field on a purchase order) and a write whose
outcome is unknown is looked up by it before it is sent once more. The lookup is patient: a new document
can stay invisible for a few seconds (asynchronous update task, ref §3).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import httpx

from atlas_desktop.connectors.http import HttpClient
from atlas_desktop.connectors.sap.batch import BatchOperation, as_httpx, decode_batch, encode_batch
from atlas_desktop.connectors.sap.config import MATDOC_SRV, PO_SRV, SapConfig
from atlas_desktop.connectors.sap.csrf import CsrfGuard
from atlas_desktop.connectors.sap.errors import error_from_response, raise_for_sap
from atlas_desktop.connectors.sap.mapping import (
    Movement,
    header_text_for,
    material_document_payload,
    movement_for,
    po_reference_for,
    purchase_order_payload,
)
from atlas_desktop.connectors.sap.odata import any_of, invalid, quote_literal, read_entity, read_page
from atlas_desktop.domain.errors import (
    NetworkError,
    NotFound,
    PermissionDenied,
)
from atlas_desktop.domain.model import PurchaseOrder, StockChange, WriteResult

log = logging.getLogger(__name__)
SYSTEM = "SAP"
# Answers after which the write may or may not have been applied: treat like a lost connection.
IN_DOUBT_STATUSES = frozenset({502, 504})
MATDOC_SET = "A_MaterialDocumentHeader"
# Keys per lookup request: keeps a `(MaterialDocumentHeaderText eq '…' or …)` filter (~75 URL characters
# a key) well under the 8 KB URL limit of common proxies.
LOOKUP_CHUNK = 40
LOOKUP_PAGE = 200
# A lookup by header text may also find reversals of the document (whether Cancel copies the header text
# is unverified, ref §13) and SAP promises no order without $orderby: ask for the items' reversal
# reference and the oldest document first, then keep the originals.
_LOOKUP_SHAPE = {
    "$select": "MaterialDocumentYear,MaterialDocument,MaterialDocumentHeaderText,"
    "to_MaterialDocumentItem/ReversedMaterialDocument",
    "$expand": "to_MaterialDocumentItem",
    "$orderby": "MaterialDocumentYear,MaterialDocument",
}

Sleep = Callable[[float], Awaitable[None]]


def is_reversal(row: Mapping[str, Any]) -> bool:
    """A document whose items name a reversed document (tolerant: no items read = not a reversal)."""
    items = row.get("to_MaterialDocumentItem")
    if isinstance(items, Mapping):
        items = items.get("results")
    if not isinstance(items, list):
        return False
    return any(isinstance(i, Mapping) and i.get("ReversedMaterialDocument") for i in items)


def originals(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows that are not reversals, oldest first (year, then number) whatever order the server chose."""
    kept = [r for r in rows if not is_reversal(r)]
    return sorted(kept, key=lambda r: (str(r.get("MaterialDocumentYear")), str(r.get("MaterialDocument"))))


def describe(change: StockChange) -> str:
    verb = "receipt" if change.delta > 0 else "issue"
    lot = f", batch {change.key.lot}" if change.key.lot else ""
    return (
        f"goods {verb} of {abs(change.delta)} {change.unit} of material {change.key.item_id} "
        f"at plant/storage location {change.key.location_id}{lot}"
    )


class Writer:
    """Posts goods movements and purchase orders; finds them again by idempotency key."""

    def __init__(
        self,
        http: HttpClient,
        csrf: CsrfGuard,
        config: SapConfig,
        *,
        sleep: Sleep,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._http = http
        self._csrf = csrf
        self._config = config
        self._sleep = sleep
        self._today = today or (lambda: datetime.now().date())
        self.matdoc_root = config.service_url(MATDOC_SRV)
        self.po_root = config.service_url(PO_SRV)

    # --- goods movements -------------------------------------------------------------------------------

    @property
    def config(self) -> SapConfig:
        return self._config

    @property
    def http(self) -> HttpClient:
        return self._http

    def today(self) -> date:
        return self._today()

    def movement(self, change: StockChange, key: str) -> Movement:
        return self._movement(change, key)

    def _movement(self, change: StockChange, key: str, manufacture_date: date | None = None) -> Movement:
        return movement_for(change, key, self._config, manufacture_date=manufacture_date)

    async def _post(self, root: str, entity_set: str, payload: dict[str, Any]) -> httpx.Response:
        response = await self._csrf.send(
            "POST",
            f"{root}/{entity_set}",
            service_root=root,
            json=payload,
            headers={"Accept": "application/json"},
        )
        await response.aread()
        return response

    async def adjust_stock(
        self, change: StockChange, key: str, *, manufacture_date: date | None = None
    ) -> WriteResult:
        movement = self._movement(change, key, manufacture_date)
        payload = material_document_payload(movement, self._today())
        context = f"posting a {describe(change)}"
        for attempt in range(2):
            try:
                response = await self._post(self.matdoc_root, MATDOC_SET, payload)
            except NetworkError as exc:
                if not exc.in_doubt or attempt:
                    raise
                response = None
            if response is not None and response.status_code not in IN_DOUBT_STATUSES:
                return await self._document_result(response, key, context)
            if attempt:
                assert response is not None  # a second in-doubt NetworkError was raised above
                raise error_from_response(response, context=context)
            found = await self.find_material_document(key, patient=True)
            if found is not None:
                log.info("SAP: in-doubt posting %s had landed; not sent again", movement.header_text)
                return found
            log.info("SAP: in-doubt posting %s not found; sending it once more", movement.header_text)
        raise AssertionError("unreachable")

    async def _document_result(self, response: httpx.Response, key: str, context: str) -> WriteResult:
        raise_for_sap(response, context=context)
        entity = read_entity(response)
        number = str(entity.get("MaterialDocument") or "")
        year = str(entity.get("MaterialDocumentYear") or "")
        if number and year:
            return WriteResult(key, f"{year}/{number}", number, datetime.now(UTC))
        # Created, but the answer does not name the document (seen on live systems): find it by key.
        found = await self.find_material_document(key, patient=True)
        if found is None:
            raise invalid(f"{context}: SAP confirmed the posting but did not say which document it created")
        return found

    async def find_material_document(self, key: str, *, patient: bool = False) -> WriteResult | None:
        text = header_text_for(key)
        params = {
            "$format": "json",
            "$filter": f"MaterialDocumentHeaderText eq {quote_literal(text)}",
            **_LOOKUP_SHAPE,
            "$top": "20",
        }
        attempts = self._config.lookup_attempts if patient else 1
        for attempt in range(attempts):
            response = await self._http.request("GET", f"{self.matdoc_root}/{MATDOC_SET}", params=params)
            await response.aread()
            if response.status_code != 404:  # a brief 404 right after posting is normal (ref §3)
                raise_for_sap(response, context="looking up an earlier posting")
                rows = originals(read_page(response).rows)
                if rows:
                    row = rows[0]
                    number, year = str(row.get("MaterialDocument")), str(row.get("MaterialDocumentYear"))
                    return WriteResult(key, f"{year}/{number}", number, None)
            if attempt + 1 < attempts:
                await self._sleep(self._config.lookup_delay_s * (attempt + 1))
        return None

    async def find_material_documents(self, keys: Sequence[str]) -> dict[str, WriteResult]:
        """The material documents carrying any of `keys` in their header text, by key: one request per
        LOOKUP_CHUNK keys (1,000 postings cost 25 lookups besides their 1,000 POSTs).

        Not patient, unlike find_material_document: the engine asks it about writes that, if they were
        sent at all, were sent by a process that has died since, not seconds ago.
        """
        by_text = {header_text_for(key): key for key in keys}
        texts = list(by_text)
        found: dict[str, WriteResult] = {}
        for start in range(0, len(texts), LOOKUP_CHUNK):
            params = {
                "$format": "json",
                "$filter": any_of("MaterialDocumentHeaderText", texts[start : start + LOOKUP_CHUNK]),
                **_LOOKUP_SHAPE,
                "$top": str(LOOKUP_PAGE),
            }
            skip = 0
            while True:
                params["$skip"] = str(skip)
                response = await self._http.request("GET", f"{self.matdoc_root}/{MATDOC_SET}", params=params)
                await response.aread()
                if response.status_code == 404:  # as in find_material_document: nothing to find yet
                    break
                raise_for_sap(response, context="looking up earlier postings")
                rows = read_page(response).rows
                for row in originals(rows):
                    key = by_text.get(str(row.get("MaterialDocumentHeaderText")))
                    number, year = str(row.get("MaterialDocument")), str(row.get("MaterialDocumentYear"))
                    if key is not None and key not in found:
                        found[key] = WriteResult(key, f"{year}/{number}", number, None)
                if len(rows) < LOOKUP_PAGE:
                    break
                skip += LOOKUP_PAGE
        return found

    async def send_batch(self, payloads: list[dict[str, Any]]) -> list[list[httpx.Response]]:
        """Material documents in one $batch, one change set each; the answers per change set."""
        content_type, body = encode_batch([BatchOperation("POST", MATDOC_SET, p) for p in payloads])
        url = f"{self.matdoc_root}/$batch"
        response = await self._csrf.send(
            "POST", url, service_root=self.matdoc_root, content=body, headers={"Content-Type": content_type}
        )
        await response.aread()
        if response.status_code in IN_DOUBT_STATUSES:
            raise NetworkError(
                f"SAP answered HTTP {response.status_code} to a $batch", in_doubt=True, system=SYSTEM
            )
        if response.status_code >= 400:
            raise error_from_response(response, context="posting goods movements in a $batch")
        try:
            parts = decode_batch(response)
        except ValueError as exc:
            raise invalid(f"cannot read the $batch answer ({exc})", status=response.status_code) from None
        return [[as_httpx(p, response.request) for p in part] for part in parts]

    # --- purchase orders -------------------------------------------------------------------------------

    async def create_purchase_order(self, order: PurchaseOrder, key: str) -> WriteResult:
        payload = purchase_order_payload(order, key, self._config, order_date=self._today())
        context = f"creating purchase order {order.number}"
        # SAP creates a second purchase order for a repeated one: an order seen again (its cursor's commit
        # lost) is looked up by its key first, as NetSuite's connector does (one request per order).
        found = await self.find_purchase_order(key)
        if found is not None:
            return found
        for attempt in range(2):
            try:
                response = await self._post(self.po_root, "A_PurchaseOrder", payload)
            except NetworkError as exc:
                if not exc.in_doubt or attempt:
                    raise
                response = None
            if response is not None and response.status_code not in IN_DOUBT_STATUSES:
                raise_for_sap(response, context=context)
                entity = read_entity(response)
                number = str(entity.get("PurchaseOrder") or "")
                if number:
                    return WriteResult(key, number, number, datetime.now(UTC))
                found = await self.find_purchase_order(key, patient=True)
                if found is None:
                    raise invalid(f"{context}: SAP confirmed it but did not say the purchase order number")
                return found
            if attempt and response is not None:
                raise error_from_response(response, context=context)
            found = await self.find_purchase_order(key, patient=True)
            if found is not None:
                return found
        raise AssertionError("unreachable")

    async def find_purchase_order(self, key: str, *, patient: bool = False) -> WriteResult | None:
        params = {
            "$format": "json",
            "$filter": f"{self._config.po_reference_field} eq {quote_literal(po_reference_for(key))}",
            "$select": "PurchaseOrder",
            "$top": "5",
        }
        attempts = self._config.lookup_attempts if patient else 1
        for attempt in range(attempts):
            response = await self._http.request("GET", f"{self.po_root}/A_PurchaseOrder", params=params)
            await response.aread()
            if response.status_code != 404:
                raise_for_sap(response, context="looking up an earlier purchase order")
                rows = read_page(response).rows
                if rows:
                    number = str(rows[0].get("PurchaseOrder"))
                    return WriteResult(key, number, number, None)
            if attempt + 1 < attempts:
                await self._sleep(self._config.lookup_delay_s * (attempt + 1))
        return None

    async def find_write(self, key: str) -> WriteResult | None:
        found = await self.find_material_document(key)
        if found is not None or not self._config.company_code:
            return found
        try:
            return await self.find_purchase_order(key)
        except (NotFound, PermissionDenied):
            return None  # purchase orders not in use on this connection
