"""One SAP connection's settings, read once from the ConnectionSpec and checked field by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_desktop.domain.connection import ConnectionSpec, SapAuthMode
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.model import ErpType

ODATA_ROOT = "/sap/opu/odata/sap"
PRODUCT_SRV = "API_PRODUCT_SRV"
STOCK_SRV = "API_MATERIAL_STOCK_SRV"
MATDOC_SRV = "API_MATERIAL_DOCUMENT_SRV"
BATCH_SRV = "API_BATCH_SRV"
PO_SRV = "API_PURCHASEORDER_PROCESS_SRV"

# Which communication arrangement grants which service (S/4HANA Cloud).
SCENARIOS: Mapping[str, str] = {
    PRODUCT_SRV: "SAP_COM_0009 (Product Integration)",
    STOCK_SRV: "SAP_COM_0164 (Material Stock Integration)",
    MATDOC_SRV: "SAP_COM_0108 (Material Document Integration)",
    BATCH_SRV: "SAP_COM_0337 (Batch Management OData Integration)",
    PO_SRV: "SAP_COM_0053 (Purchase Order Integration)",
}

# The standard pairings; customizing (T158B) may differ, so a connection can override them.
DEFAULT_GM_CODES: Mapping[str, str] = {"501": "05", "201": "03", "551": "03", "261": "03", "262": "06"}
DEFAULT_MOVEMENT_TYPES: Mapping[str, str] = {"receipt": "501", "issue": "201", "scrap": "551"}
SCRAP_REASONS = frozenset({"scrap", "scrapping", "expired", "damaged", "destroyed", "write_off", "recall"})
MAX_PAGE = 5000  # the server caps $top here
# Rows per page we ask for: the server's cap, since each page read holds one of the few request slots the
# gateway allows and costs its fixed time; up to `max_concurrency` decoded pages (a few MB) wait for the
# store at once.
DEFAULT_PAGE = MAX_PAGE
EAN_SOURCE = "A_ProductUnitsOfMeasureEAN"


def _strings(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Sequence):
        return tuple(str(part).strip() for part in value)
    raise ConfigError(
        name, "must be a list of codes", fix=f'Write it as ["1010", "1020"] in settings.{name}.'
    )


def _mapping(value: object, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(name, "must be an object", fix=f'Write it as {{"501": "05"}} in settings.{name}.')
    return {str(k): str(v) for k, v in value.items()}


@dataclass(frozen=True)
class SapConfig:
    """Everything the connector needs besides credentials. Defaults follow SAP's documented standard."""

    base_url: str
    erp_type: ErpType = ErpType.SAP_CLOUD
    auth_mode: str = SapAuthMode.BASIC
    sap_client: str | None = None
    token_endpoint: str | None = None
    scope: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    ca_bundle: Path | None = None
    proxy: str | None = None
    language: str = "EN"
    ndc_field: str = "ProductStandardID"
    plants: tuple[str, ...] = ()
    storage_locations: tuple[str, ...] = ()
    # Atlas location code -> "plant/storage location" (SAP's stock API carries no location names).
    location_map: dict[str, str] = field(default_factory=dict)
    # "plant/storage location" -> the name the user gave it (no SAP API lists these names).
    location_names: dict[str, str] = field(default_factory=dict)
    stock_types: tuple[str, ...] = ("01",)
    special_stock_types: tuple[str, ...] = ("",)
    page_size: int = DEFAULT_PAGE
    max_concurrency: int = 5
    product_overlap_s: float = 300.0
    stock_overlap_days: int = 1
    movement_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_MOVEMENT_TYPES))
    gm_codes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_GM_CODES))
    cost_center: str | None = None
    scrap_cost_center: str | None = None
    scrap_reason_code: str | None = None
    company_code: str | None = None
    purchasing_org: str | None = None
    purchasing_group: str | None = None
    po_plant: str | None = None
    po_storage_location: str | None = None
    po_type: str = "NB"
    # "Your Reference" (12 chars): both SAP's API and the sandbox have it; the key hash goes there.
    po_reference_field: str = "CorrespncExternalReference"
    default_supplier: str | None = None
    suppliers: Mapping[str, str] = field(default_factory=dict)
    lookup_attempts: int = 4
    lookup_delay_s: float = 1.0
    # Items per material document: a valuated movement's FI document takes 999 lines, two per item
    # (F5/727), so never above 499.
    items_per_document: int = 499

    def service_url(self, service: str) -> str:
        return f"{ODATA_ROOT}/{service}"

    def movement_type(self, purpose: str) -> str:
        return self.movement_types.get(purpose, DEFAULT_MOVEMENT_TYPES[purpose])

    def gm_code(self, movement_type: str) -> str:
        code = self.gm_codes.get(movement_type)
        if code is None:
            raise ConfigError(
                "goods_movement_codes",
                f"no goods movement code is set for movement type {movement_type}",
                fix=f'Add it to settings.goods_movement_codes, e.g. {{"{movement_type}": "05"}}.',
            )
        return code


def config_from_spec(spec: ConnectionSpec) -> SapConfig:
    """Read the connection's settings (see domain/connection.py for the file format)."""
    s = spec.settings
    mappings: Mapping[str, Any] = s.get("field_mappings") or {}
    if not isinstance(mappings, Mapping):
        raise ConfigError("field_mappings", "must be an object")

    def pick(name: str, default: Any = None) -> Any:
        # field_mappings wins (the design plan keeps the sellable-stock rules there), then settings.
        return mappings.get(name, s.get(name, default))

    page_size = int(s.get("page_size", DEFAULT_PAGE))
    if not 1 <= page_size <= MAX_PAGE:
        raise ConfigError("page_size", f"must be 1..{MAX_PAGE}", fix="SAP caps pages at 5000 rows.")
    movement_types = dict(DEFAULT_MOVEMENT_TYPES)
    movement_types.update(_mapping(s.get("movement_types"), "movement_types"))
    gm_codes = dict(DEFAULT_GM_CODES)
    gm_codes.update(_mapping(s.get("goods_movement_codes"), "goods_movement_codes"))
    special = pick("special_stock_types")
    cert = s.get("client_certificate")
    key = s.get("client_key")
    for name, value in (("client_certificate", cert), ("client_key", key)):
        if isinstance(value, str) and value.lstrip().startswith("-----BEGIN"):
            raise ConfigError(
                name,
                "holds the PEM text itself; Atlas Desktop needs the path of the file",
                fix="Save the certificate and the key as .pem files and give their paths.",
            )
    sap_client = s.get("sap_client")
    return SapConfig(
        base_url=str(s["base_url"]).rstrip("/"),
        erp_type=spec.erp_type,
        auth_mode=str(s.get("auth_mode", SapAuthMode.BASIC)),
        sap_client=str(sap_client) if sap_client else None,
        token_endpoint=s.get("token_endpoint"),
        scope=s.get("scope"),
        client_cert=Path(cert) if cert else None,
        client_key=Path(key) if key else None,
        ca_bundle=Path(s["ca_bundle"]) if s.get("ca_bundle") else None,
        proxy=s.get("proxy"),
        language=str(s.get("language", "EN")).upper(),
        ndc_field=str(pick("ndc_field", "ProductStandardID")),
        plants=_strings(pick("plants"), "plants"),
        storage_locations=_strings(pick("storage_locations"), "storage_locations"),
        location_map=_mapping(s.get("location_map"), "location_map"),
        location_names=_mapping(s.get("location_names"), "location_names"),
        stock_types=_strings(pick("stock_types"), "stock_types") or ("01",),
        special_stock_types=("",)
        if special is None
        else tuple(_strings(special, "special_stock_types")) or ("",),
        page_size=page_size,
        max_concurrency=int(s.get("max_concurrency", 5)),
        product_overlap_s=float(s.get("product_overlap_s", 300.0)),
        stock_overlap_days=int(s.get("stock_overlap_days", 1)),
        movement_types=movement_types,
        gm_codes=gm_codes,
        cost_center=s.get("cost_center"),
        scrap_cost_center=s.get("scrap_cost_center"),
        scrap_reason_code=s.get("scrap_reason_code"),
        company_code=s.get("company_code"),
        purchasing_org=s.get("purchasing_organization") or s.get("purchasing_org"),
        purchasing_group=s.get("purchasing_group"),
        po_plant=s.get("po_plant") or s.get("plant"),
        po_storage_location=s.get("po_storage_location"),
        po_type=str(s.get("purchase_order_type", "NB")),
        po_reference_field=str(s.get("po_reference_field", "CorrespncExternalReference")),
        default_supplier=s.get("default_supplier"),
        suppliers=_mapping(s.get("suppliers"), "suppliers"),
        lookup_attempts=int(s.get("lookup_attempts", 4)),
        lookup_delay_s=float(s.get("lookup_delay_s", 1.0)),
        items_per_document=_items_per_document(s.get("items_per_document")),
    )


def _items_per_document(value: Any) -> int:
    limit = 499  # 999 FI lines, two per item
    try:
        items = int(value) if value not in (None, "") else limit
    except (TypeError, ValueError):
        raise ConfigError("items_per_document", "must be a number", fix="Use e.g. 499.") from None
    if not 1 <= items <= limit:
        raise ConfigError(
            "items_per_document",
            f"must be between 1 and {limit}",
            fix=f"A valuated goods movement's FI document holds 999 lines, two per item: at most {limit}.",
        )
    return items
