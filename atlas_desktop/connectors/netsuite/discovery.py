"""What the wizard offers to choose from: locations, subsidiaries, adjustment accounts, NDC fields."""

from __future__ import annotations

from dataclasses import dataclass

from atlas_desktop.connectors.netsuite import queries
from atlas_desktop.connectors.netsuite.client import NetSuiteClient, Row
from atlas_desktop.domain.connector import NdcPlaceCandidate
from atlas_desktop.domain.errors import InvalidResponse, ValidationFailed
from atlas_desktop.domain.ndc import NdcError, ndc_candidates

SAMPLE_ROWS = 50
# Built-in fields that sometimes hold the NDC; custom fields (custitem_*) are found in the data.
_BUILT_IN_CANDIDATES = ("upccode", "itemid", "mpn", "vendorname")


@dataclass(frozen=True)
class Choice:
    id: str
    name: str
    detail: str = ""


def _active(row: Row) -> bool:
    return str(row.get("isinactive", "F")).upper() != "T"


async def _choices(client: NetSuiteClient, query: str, detail: str = "") -> list[Choice]:
    result: list[Choice] = []
    async for page in client.suiteql_one_query(query):
        for row in page.items:
            if _active(row):
                ident = row.get("id")
                if ident in (None, "") or isinstance(ident, bool | dict | list):
                    raise InvalidResponse("NetSuite sent a row without an internal id.", system="NetSuite")
                result.append(Choice(str(ident), str(row.get("name") or ident), str(row.get(detail, ""))))
    return result


async def list_locations(client: NetSuiteClient) -> list[Choice]:
    """Active locations; `detail` is the location's external id (the sandbox keeps codes like MAIN there)."""
    return await _choices(client, queries.locations(), detail="externalid")


async def list_subsidiaries(client: NetSuiteClient) -> list[Choice]:
    return await _choices(client, queries.subsidiaries())


async def list_accounts(client: NetSuiteClient) -> list[Choice]:
    """Active accounts, adjustment candidates first (expense and COGS accounts)."""
    accounts = await _choices(client, queries.accounts(), detail="accttype")
    preferred = ("COGS", "Expense", "OthExpense")
    return sorted(accounts, key=lambda c: (c.detail not in preferred, c.name))


def _is_ndc(value: str) -> bool:
    try:
        return bool(ndc_candidates(value))
    except NdcError:
        return False


async def ndc_field_candidates(client: NetSuiteClient) -> list[NdcPlaceCandidate]:
    """Fields of a sample of items whose values read as NDCs, best first (custitem_* and built-ins)."""
    try:
        page = await client.suiteql_page(queries.item_sample(), limit=SAMPLE_ROWS)
        rows = page.items
    except ValidationFailed:
        rows = []
    fields = sorted(
        {k for row in rows for k in row if k.startswith("custitem_") or k in _BUILT_IN_CANDIDATES}
    )
    if not rows:
        fields = ["custitem_ndc_code", *_BUILT_IN_CANDIDATES]
    found: list[NdcPlaceCandidate] = []
    for field in fields:
        values = [str(row[field]) for row in rows if row.get(field)]
        if not rows:
            try:
                sample = await client.suiteql_page(queries.field_sample(field), limit=SAMPLE_ROWS)
            except ValidationFailed:
                continue  # the field does not exist in this account
            values = [str(row["value"]) for row in sample.items if row.get("value")]
        ndc_like = [v for v in values if _is_ndc(v)]
        if ndc_like:
            found.append(NdcPlaceCandidate(field, len(values), len(ndc_like), ndc_like[0]))
    return sorted(found, key=lambda c: (-c.share, -c.ndc_like, c.field))
