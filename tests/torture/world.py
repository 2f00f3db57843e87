"""In-process torture worlds: an ERP emulator (NetSuite or SAP) and Atlas, an engine, and an exact ledger.

The ledger holds what each mapped row must be: the agreed value after the first sync plus every delta
made on either side since. Engine retries sleep for no time, so faults cost no wall time.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.enums import MappingStatus
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.registry import NETSUITE_USER_ZONE, SandboxOptions
from atlas_desktop.sandbox.sap import make_emulator, standard_configs
from atlas_desktop.store.keys import MemoryKeySource

ERP_URL = "http://127.0.0.1:8131"
ATLAS_URL = "http://127.0.0.1:8132"


async def no_sleep(_seconds: float) -> None:
    """Backoff without waiting: the emulators answer at once, only the retry logic is exercised."""


@dataclass
class TortureWorld:
    erp_name: str
    services: Services
    engine: EngineService
    connection_id: str
    erp: Any
    atlas: Any
    expected: dict[int, Decimal] = field(default_factory=dict)
    mappings: dict[int, Any] = field(default_factory=dict)

    # -- the two sides, as their own users see them ---------------------------------------------------

    def atlas_qty(self, mapping: Any) -> Decimal:
        return Decimal(self.atlas.row(mapping.atlas_inventory_id)["quantity"])

    def erp_qty(self, mapping: Any) -> Decimal:
        if self.erp_name == "netsuite":
            return self.erp.state.stock(int(mapping.erp_item_id), int(mapping.erp_location_id), mapping.lot)
        plant, _, sloc = mapping.erp_location_id.partition("/")
        return self.erp.unrestricted_stock(mapping.erp_item_id, plant, sloc, mapping.lot or "")

    def erp_receive(self, mapping: Any, qty: Decimal) -> None:
        if self.erp_name == "netsuite":
            self.erp.state.receive(int(mapping.erp_item_id), int(mapping.erp_location_id), qty, mapping.lot)
        else:
            plant, _, sloc = mapping.erp_location_id.partition("/")
            if qty % 12 == 0:  # a whole number of cases: posted in the alternative unit CS (12 EA)
                self.erp.post_goods_receipt(
                    mapping.erp_item_id, plant, sloc, qty / 12, batch=mapping.lot or "", entry_unit="CS"
                )
                return
            self.erp.post_goods_receipt(mapping.erp_item_id, plant, sloc, qty, batch=mapping.lot or "")

    def erp_issue(self, mapping: Any, qty: Decimal) -> None:
        if self.erp_name == "netsuite":
            self.erp.state.issue(int(mapping.erp_item_id), int(mapping.erp_location_id), qty, mapping.lot)
        else:
            plant, _, sloc = mapping.erp_location_id.partition("/")
            self.erp.post_goods_issue(mapping.erp_item_id, plant, sloc, qty, batch=mapping.lot or "")

    # -- invariants -----------------------------------------------------------------------------------

    def duplicate_postings(self) -> list[tuple[str, int]]:
        """Idempotency keys the ERP holds more than one document for (must be none)."""
        if self.erp_name == "netsuite":
            rows = self.erp.state.query(
                'SELECT externalid, COUNT(*) AS n FROM "transaction" WHERE externalid IS NOT NULL '
                "AND externalid != '' GROUP BY recordtype, externalid HAVING COUNT(*) > 1"
            )
            lines = self.erp.state.query(
                "SELECT memo, COUNT(*) AS n FROM transactionline WHERE memo LIKE 'atl-%' "
                "AND mainline = 'F' GROUP BY memo HAVING COUNT(*) > 1"
            )
            return [(row["externalid"], row["n"]) for row in rows] + [(r["memo"], r["n"]) for r in lines]
        texts = [d["MaterialDocumentHeaderText"] for d in self.erp.material_documents()]
        keyed = {t for t in texts if t}
        twice = [(t, n) for t in keyed if (n := self.erp.count_material_documents(t)) > 1]
        items = Counter(
            i["MaterialDocumentItemText"]
            for i in self.erp.material_document_items()
            if str(i.get("MaterialDocumentItemText") or "").startswith("atl-")
            and not i.get("ReversedMaterialDocument")
        )
        return twice + [(text, n) for text, n in items.items() if n > 1]

    def open_conflict_mappings(self) -> set[int]:
        return {c.mapping_id for c in self.engine.repos.conflicts.open_conflicts(self.connection_id)}

    def mismatches(self, skip: set[int]) -> list[tuple[int, Decimal, Decimal, Decimal]]:
        wrong = []
        for mid, mapping in self.mappings.items():
            if mid in skip:
                continue
            atlas, erp = self.atlas_qty(mapping), self.erp_qty(mapping)
            if not atlas == erp == self.expected[mid]:
                wrong.append((mid, self.expected[mid], atlas, erp))
        return wrong

    def clear_faults(self) -> None:
        self.erp.faults.rules.clear()
        self.atlas.faults.rules.clear()


def _emulators(erp_name: str, size: int, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    options = SandboxOptions(
        catalog=Catalog(seed=seed, size=size, today=date(2026, 11, 27)),
        seed=seed,
        netsuite_timezone=NETSUITE_USER_ZONE,  # SuiteQL in New York time, as production accounts are
    )
    atlas = build_atlas(options)
    if erp_name == "netsuite":
        erp = build_netsuite(options)
        return erp, atlas, erp.credential_files(ERP_URL)["netsuite.json"]
    config = next(c for c in standard_configs(seed) if c.name == "sap-onprem")
    erp = make_emulator(config, options.catalog, seed=seed)
    return erp, atlas, erp.credential_files(ERP_URL)["sap-onprem.json"]


def _set_netsuite_clock(erp: Any, clock: Callable[[], datetime]) -> None:
    """Run the NetSuite account (its records, SuiteQL, `Date`) on `clock`; TBA timestamps stay real time,
    as the connector signs with the real clock. Seeded records are restamped a day before `clock()`."""
    erp.verifier.clock = lambda: datetime.now(UTC)
    erp.clock = clock
    seeded = (clock() - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    for table in ("item", "location", "vendor", "inventorynumber"):
        erp.state.db.execute(f"UPDATE {table} SET lastmodifieddate = ?", (seeded,))


@contextlib.contextmanager
def torture_world(
    tmp_path: Path,
    erp_name: str,
    *,
    size: int = 24,
    seed: int = 7,
    erp_clock: Callable[[], datetime] | None = None,
) -> Iterator[TortureWorld]:
    """`erp_clock` (NetSuite only): the ERP's and its connector's time, e.g. a night the clocks change."""
    erp, atlas, credentials = _emulators(erp_name, size, seed)
    connector_options: dict[str, Any] = {}
    if erp_clock is not None:
        _set_netsuite_clock(erp, erp_clock)
        connector_options["clock"] = erp_clock
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        connection_id = services.connections.add(parse_connection(credentials))
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        engine = build_engine(
            services,
            transport=httpx.ASGITransport(app=erp.app),
            sleep=no_sleep,
            atlas_options={"transport": httpx.ASGITransport(app=atlas.app), "sleep": no_sleep},
            **connector_options,
        )
        yield TortureWorld(erp_name, services, engine, connection_id, erp, atlas)


async def first_sync(world: TortureWorld) -> None:
    """Discovery and the approved first sync, faults off: the ledger starts from the agreed values."""
    await world.engine.discover(world.connection_id)
    summary = await world.engine.sync(world.connection_id, approve=True)
    assert summary.status.value == "success", summary.error_message
    rows = world.engine.repos.mappings.page(
        world.connection_id, status=MappingStatus.MATCHED, search=None, offset=0, limit=100_000
    )
    for mapping in rows:
        world.mappings[mapping.id] = mapping
        atlas, erp = world.atlas_qty(mapping), world.erp_qty(mapping)
        assert atlas == erp, mapping
        world.expected[mapping.id] = atlas
