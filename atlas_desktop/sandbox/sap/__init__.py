"""SAP S/4HANA Gateway emulator: OData v2 services, OAuth 2.0 / Basic / X.509 tenants, CSRF, $batch.

Facts follow SAP's API documentation (api.sap.com), SAP Notes and KBAs, and real `$metadata` files. Marks
in comments: [V] verified there, [R] reported by third parties, [U] unverified (a guess the code must
tolerate). Choices where the sources are silent or unsure live in `config.SapConfig` (each field
commented) and in NOTES below.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_desktop.sandbox.catalog import LOCATIONS, Catalog
from atlas_desktop.sandbox.control_routes import ControlRoutes
from atlas_desktop.sandbox.faults import ErrorResponse, FaultConfig, FaultMiddleware
from atlas_desktop.sandbox.registry import SandboxOptions, ServerTls
from atlas_desktop.sandbox.sap import errors
from atlas_desktop.sandbox.sap.app import ODATA_PREFIX, TOKEN_PATH, SapApp, Tenant
from atlas_desktop.sandbox.sap.certs import CertBundle, generate
from atlas_desktop.sandbox.sap.config import SERVICE_SCENARIOS, AuthMode, SapConfig
from atlas_desktop.sandbox.sap.demo_routes import stock_routes
from atlas_desktop.sandbox.sap.errors import GatewayError, error_bytes
from atlas_desktop.sandbox.sap.seed import add_bulk_stock
from atlas_desktop.sandbox.sap.services.base import Context
from atlas_desktop.sandbox.sap.services.material_document import cancel_document, post_document
from atlas_desktop.sandbox.sap.state import Row
from atlas_desktop.sandbox.sap.tls import PeerCertH11Protocol
from atlas_desktop.sandbox.webhook_sender import NotifyOnPost, WebhookSender, cloud_event

MATDOC_CREATED = "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1"

NOTES = """
- JSON only (no Atom): OData calls without Accept: application/json or $format=json get 406.
- Paging: no $top -> 100 rows + __next; $top above 5000 -> 5000 + __next (SapConfig.default_page/page_cap).
  $skiptoken is signed and bound to the resource + $filter/$orderby/$select/$expand.
- Material documents: GoodsMovementCode must match SapConfig.movement_codes (default 501->05, 201/261/551->03,
  262->06) else M7/163; CostCenter required for 201 and 551 [U]; Batch required iff the material is batch
  managed; a receipt creating a new batch must carry ShelfLifeExpirationDate (creates the Batch master);
  issues beyond unrestricted stock -> 400 M7/021 "Deficit of SL Unrestricted-use ..." [U number].
  EntryUnit may be any unit maintained in A_ProductUnitsOfMeasure (SapConfig.alternative_units: EA base,
  PC/BT 1, CS 12), converted to the base unit. Cancel(MaterialDocumentYear, MaterialDocument,
  PostingDate?) posts a reversal document (502/202/552/261 with ReversedMaterialDocument*, GoodsMovementCode
  06).
- A material document holds at most 9,999 items (4-digit item numbers) and, valuated, fi_line_limit FI lines
  (999, two per item: 499 items) else F5/727. $batch: a change set of several operations is refused
  ("Default changeset implementation allows only one operation") unless multi_operation_changesets.
  Cancel copies the header text to the reversal unless reversal_header_text="keep" [U].
- API_PRODUCT_SRV serves A_ProductUnitsOfMeasure(EAN): several GTINs per product and unit (a case has its
  own NDC package code); the custom NDC field is YY1_NDCCode_PRD, sap:label "NDC Code" [U suffix].
- Batch changes need If-Match (428 without, 412 when stale); ETag = W/"datetimeoffset'<LastChangeDateTime>'".
- OAuth scopes accepted: <SERVICE>_0001 [U]; tokens only via HTTP Basic client authentication.
- Missing communication scenario -> 403 /IWFND/CM_CONSUMER/101 [U code] naming the scenario.
"""

_RETRY_AFTER_S = 1


def _secret(seed: int, label: str) -> str:
    return hashlib.sha256(f"atlas-sandbox:sap:{seed}:{label}".encode()).hexdigest()[:24]


def sap_rate_limited() -> ErrorResponse:
    err = GatewayError(429, errors.THROTTLED, "Too many requests: the system is busy; retry later")
    return (
        429,
        {"content-type": "application/json;charset=utf-8", "retry-after": str(_RETRY_AFTER_S)},
        error_bytes(err),
    )


def sap_server_error(status: int) -> ErrorResponse:
    if status == 503:
        err = GatewayError(503, errors.THROTTLED, "Service unavailable: the system is temporarily overloaded")
        return 503, {"content-type": "application/json;charset=utf-8", "retry-after": "1"}, error_bytes(err)
    err = GatewayError(
        status, "/IWBEP/CM_MGW_RT/000", "Runtime error in the backend (injected by the sandbox)"
    )
    return status, {"content-type": "application/json;charset=utf-8"}, error_bytes(err)


@dataclass
class SapEmulator:
    """One SAP tenant. `app` is fault-wrapped; the helper methods act like an SAP user on the same data."""

    name: str
    config: SapConfig
    tenant: Tenant
    app: Any
    faults: FaultConfig
    tls: ServerTls | None = None
    certs: CertBundle | None = None
    http_protocol: type | None = None  # uvicorn `http=` class that exposes the client certificate
    files_dir: Path | None = None
    notes: str = field(default=NOTES, repr=False)
    # Signed CloudEvents after stock-changing writes, once `webhooks.configure(url, secret)`.
    webhooks: WebhookSender = field(default_factory=WebhookSender, repr=False)

    def _document_event(self, header: Row) -> None:
        data = {k: header.get(k) for k in ("MaterialDocument", "MaterialDocumentYear")}
        self.webhooks.notify(cloud_event(MATDOC_CREATED, f"sap/S4HANAOD/{self.config.system_id}", data))

    # -- what the connection wizard imports ------------------------------------------------------------

    def connection_settings(self) -> dict[str, Any]:
        """What the wizard would have the user set for this tenant: where Atlas locations live in SAP,
        their names (SAP's APIs list none: the user names them), and the cost center that goods
        issues post to."""
        c = self.config
        plant = sorted({plant for plant, _ in c.locations.values()})[0]
        catalog_names = {location.code: location.name for location in LOCATIONS}
        return {
            "location_map": {code: f"{plant}/{sloc}" for code, (plant, sloc) in c.locations.items()},
            "location_names": {
                f"{plant}/{sloc}": catalog_names[code]
                for code, (plant, sloc) in c.locations.items()
                if code in catalog_names
            },
            "cost_center": sorted(c.cost_centers)[0] if c.cost_centers else None,
            # Purchase orders from Atlas orders: the organisational data of the sandbox company.
            "company_code": c.company_code,
            "purchasing_organization": c.company_code,
            "purchasing_group": "001",
            "po_plant": plant,
            "default_supplier": "17300001",
        }

    def credential_files(self, base_url: str) -> dict[str, dict[str, Any]]:
        files = self._credential_files(base_url)
        for content in files.values():
            content["settings"] = self.connection_settings()
        return files

    def _credential_files(self, base_url: str) -> dict[str, dict[str, Any]]:
        c = self.config
        base = base_url.rstrip("/")
        if c.auth_mode == AuthMode.OAUTH2:
            return {
                f"{self.name}.json": {
                    "erp_type": "sap",
                    "environment": "cloud",
                    "connection_name": "SAP S/4HANA Cloud (sandbox)",
                    "base_url": base,
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "token_endpoint": f"{base}{TOKEN_PATH}",
                    "scope": " ".join(f"{s}_0001" for s in SERVICE_SCENARIOS),
                }
            }
        if c.auth_mode == AuthMode.BASIC:
            return {
                f"{self.name}.json": {
                    "erp_type": "sap",
                    "environment": "on_premise",
                    "connection_name": "SAP S/4HANA on-premise (sandbox)",
                    "base_url": base,
                    "username": c.username,
                    "password": c.password,
                    "sap_client": c.sap_client,
                }
            }
        assert self.certs is not None
        return {
            f"{self.name}.json": {
                "erp_type": "sap",
                "environment": "on_premise",
                "connection_name": "SAP S/4HANA on-premise X.509 (sandbox)",
                "base_url": base,
                "client_certificate": str(self.certs.client_cert),
                "client_key": str(self.certs.client_key),
                "ca_bundle": str(self.certs.ca_cert),
                "sap_client": c.sap_client,
            }
        }

    def service_url(self, base_url: str, service: str) -> str:
        return f"{base_url.rstrip('/')}{ODATA_PREFIX}{service}"

    # -- helpers acting like SAP users (tests, demo) ---------------------------------------------------

    def _ctx(self, user: str = "SAP_WAREHOUSE") -> Context:
        return self.tenant.context(user)

    def post_goods_movement(
        self,
        material: str,
        plant: str,
        storage_location: str,
        quantity: Decimal,
        *,
        movement_type: str,
        batch: str = "",
        header_text: str = "",
        cost_center: str = "",
        expiry: datetime | None = None,
        manufactured: datetime | None = None,
        entry_unit: str = "",
    ) -> Row:
        """Post one goods movement as an SAP user would in MIGO (the API's rules). Returns the header.
        `quantity` is in `entry_unit` (a maintained alternative unit) or else the base unit."""
        code = sorted(self.config.movement_codes.get(movement_type, {"05"}))[0]
        item: Row = {
            "Material": material,
            "Plant": plant,
            "StorageLocation": storage_location,
            "Batch": batch,
            "GoodsMovementType": movement_type,
            "EntryUnit": entry_unit or self._base_unit(material),
            "QuantityInEntryUnit": Decimal(quantity),
            "CostCenter": cost_center or None,
            "ShelfLifeExpirationDate": expiry,
            "ManufactureDate": manufactured,
        }
        ctx = self._ctx()
        with ctx.state.transaction():
            header = post_document(
                ctx,
                {"MaterialDocumentHeaderText": header_text},
                [item],
                code=code,
                posting_date=ctx.state.now(),
            )
        self._document_event(header)
        return header

    def post_goods_receipt(
        self, material: str, plant: str, storage_location: str, quantity: Decimal, **kw: Any
    ) -> Row:
        return self.post_goods_movement(
            material, plant, storage_location, quantity, movement_type="501", **kw
        )

    def post_goods_issue(
        self, material: str, plant: str, storage_location: str, quantity: Decimal, **kw: Any
    ) -> Row:
        kw.setdefault("cost_center", sorted(self.config.cost_centers)[0] if self.config.cost_centers else "X")
        return self.post_goods_movement(
            material, plant, storage_location, quantity, movement_type="201", **kw
        )

    def cancel(self, year: str, document: str) -> Row:
        ctx = self._ctx()
        with ctx.state.transaction():
            header = cancel_document(ctx, year, document, None)
        self._document_event(header)
        return header

    def unrestricted_stock(
        self, material: str, plant: str, storage_location: str, batch: str = ""
    ) -> Decimal:
        key = (material, plant, storage_location, batch, "", "", "00000000", "", "000000", "", "01")
        row = self._ctx().state.table("A_MatlStkInAcctMod").get(key)
        return row["MatlWrhsStkQtyInMatlBaseUnit"] if row else Decimal(0)

    def stock_rows(self) -> list[Row]:
        return list(self._ctx().state.table("A_MatlStkInAcctMod").rows.values())

    def products(self) -> list[Row]:
        return list(self._ctx().state.table("A_Product").rows.values())

    def material_documents(self, header_text: str | None = None) -> list[Row]:
        rows = self._ctx().state.table("A_MaterialDocumentHeader").rows.values()
        return [r for r in rows if header_text is None or r["MaterialDocumentHeaderText"] == header_text]

    def count_material_documents(self, header_text: str) -> int:
        """How many documents carry this header text (an idempotency key): tests prove no double posting."""
        return len(self.material_documents(header_text))

    def material_document_items(self, item_text: str | None = None) -> list[Row]:
        """Items of every material document (with this MaterialDocumentItemText): a batched write's change
        is one item, found by the key its text carries."""
        rows = self._ctx().state.table("A_MaterialDocumentItem").rows.values()
        return [r for r in rows if item_text is None or r.get("MaterialDocumentItemText") == item_text]

    def purchase_orders(self) -> list[Row]:
        return list(self._ctx().state.table("A_PurchaseOrder").rows.values())

    def expire_csrf_tokens(self) -> int:
        return self.tenant.csrf.expire_all()

    def expire_access_tokens(self) -> int:
        return self.tenant.auth.expire_tokens()

    def add_bulk_stock(self, rows: int, *, prefix: str = "BULK") -> int:
        """Volume tests: `rows` more unrestricted stock rows (8 per material, batch managed, plant 1010)."""
        return add_bulk_stock(self.tenant.ensure_seeded(), self.config, rows, prefix=prefix)

    def set_missing_scenarios(self, *scenarios: str) -> None:
        self.config.missing_scenarios = set(scenarios)

    def _base_unit(self, material: str) -> str:
        product = self._ctx().state.table("A_Product").get((material,))
        return product["BaseUnit"] if product else "EA"


def make_emulator(
    config: SapConfig,
    catalog: Catalog | None,
    *,
    faults: FaultConfig | None = None,
    seed: int = 42,
    data_dir: Path | None = None,
) -> SapEmulator:
    """One tenant from a config (tests build focused tenants this way; `build` makes the standard three)."""
    certs = None
    tls = None
    if config.auth_mode == AuthMode.X509:
        directory = (data_dir or Path(tempfile.mkdtemp(prefix="atlas-sap-"))) / f"{config.name}-certs"
        certs = generate(directory)
        if not config.cert_users:
            config.cert_users = {certs.client_common_name: certs.client_common_name}
        tls = ServerTls(certs.server_cert, certs.server_key, certs.ca_cert, require_client_cert=True)
    tenant = Tenant(config, catalog, _secret(seed, config.name + ":skiptoken").encode())
    fault_config = faults or FaultConfig()
    faulty = FaultMiddleware(
        SapApp(tenant), fault_config, rate_limited=sap_rate_limited, server_error=sap_server_error
    )
    sender = WebhookSender()
    source = f"sap/S4HANAOD/{config.system_id}"
    app = NotifyOnPost(
        faulty, sender, "API_MATERIAL_DOCUMENT_SRV", lambda: cloud_event(MATDOC_CREATED, source, {})
    )
    emulator = SapEmulator(
        name=config.name,
        config=config,
        tenant=tenant,
        app=app,
        faults=fault_config,
        tls=tls,
        certs=certs,
        http_protocol=PeerCertH11Protocol if tls else None,
        files_dir=data_dir,
        webhooks=sender,
    )
    # The demo's ERP-user actions (receive, issue, expiry), in front of the faults (demo_routes.py).
    emulator.app = ControlRoutes(emulator.app, stock_routes(emulator))
    return emulator


def standard_configs(seed: int = 42) -> list[SapConfig]:
    base = SapConfig()
    return [
        replace(
            base,
            name="sap-cloud",
            auth_mode=AuthMode.OAUTH2,
            system_id="S4C",
            client_id="ATLAS_COMM_CLIENT",
            client_secret=_secret(seed, "oauth"),
            password=_secret(seed, "cloud-basic"),
        ),
        replace(
            base,
            name="sap-onprem",
            auth_mode=AuthMode.BASIC,
            system_id="S4H",
            require_sap_client=True,
            password=_secret(seed, "basic"),
        ),
        replace(
            base, name="sap-onprem-x509", auth_mode=AuthMode.X509, system_id="S4H", require_sap_client=True
        ),
    ]


def build(options: SandboxOptions) -> list[SapEmulator]:
    """The three standard tenants (cloud OAuth, on-premise Basic, on-premise X.509), each seeded lazily."""
    emulators = []
    for config in standard_configs(options.seed):
        faults = FaultConfig(
            latency_ms=options.latency_ms, concurrency_limit=options.concurrency_limit, seed=options.seed
        )
        emulators.append(
            make_emulator(
                config, options.catalog, faults=faults, seed=options.seed, data_dir=options.data_dir
            )
        )
    return emulators


__all__ = ["NOTES", "SapConfig", "SapEmulator", "build", "make_emulator", "standard_configs", "AuthMode"]
