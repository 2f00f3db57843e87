"""Tenant configuration: auth mode, paging caps, movement-type rules and every [U] choice."""

from __future__ import annotations

from dataclasses import dataclass, field

# Movement type -> GoodsMovementCode(s) the customizing (T158B) allows: 501->05 and 262->06
# [V]/common practice, 201/551->03 [U]. Reversal movement types are only produced by Cancel.
DEFAULT_MOVEMENT_CODES: dict[str, frozenset[str]] = {
    "501": frozenset({"05"}),
    "201": frozenset({"03"}),
    "261": frozenset({"03"}),
    "551": frozenset({"03"}),
    "262": frozenset({"06"}),
}
# +1 receipt into unrestricted stock, -1 issue out of it.
MOVEMENT_DIRECTION: dict[str, int] = {
    "501": 1,
    "502": -1,
    "201": -1,
    "202": 1,
    "261": -1,
    "262": 1,
    "551": -1,
    "552": 1,
}
REVERSAL_OF: dict[str, str] = {"501": "502", "201": "202", "261": "262", "262": "261", "551": "552"}
# Item fields each movement type requires [U]: cost center for consumption (201) and scrapping (551).
DEFAULT_REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {"201": ("CostCenter",), "551": ("CostCenter",)}

# Alternative units maintained for a material, by base unit: (unit, numerator, denominator), meaning
# 1 unit = numerator / denominator base units (MARM). Bottles and pieces are the each here.
DEFAULT_ALTERNATIVE_UNITS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "EA": (("PC", 1, 1), ("BT", 1, 1), ("CS", 12, 1)),
}

SERVICE_SCENARIOS: dict[str, str] = {
    "API_PRODUCT_SRV": "SAP_COM_0009",
    "API_MATERIAL_STOCK_SRV": "SAP_COM_0164",
    "API_MATERIAL_DOCUMENT_SRV": "SAP_COM_0108",
    "API_BATCH_SRV": "SAP_COM_0337",
    "API_PURCHASEORDER_PROCESS_SRV": "SAP_COM_0053",  # [U]; SAP's "Purchase Order Integration"
}

# Catalog location code -> (plant, storage location).
DEFAULT_LOCATIONS: dict[str, tuple[str, str]] = {
    "MAIN": ("1010", "0001"),
    "EAST": ("1010", "0002"),
    "WEST": ("1020", "0001"),
}


class AuthMode:
    OAUTH2 = "oauth2"
    BASIC = "basic"
    X509 = "x509"


@dataclass
class SapConfig:
    """One SAP tenant. Fields marked [U] in comments are guesses no source could confirm."""

    name: str = "sap-cloud"
    auth_mode: str = AuthMode.OAUTH2
    system_id: str = "S4H"
    sap_client: str = "100"
    require_sap_client: bool = False  # on-premise: True
    allow_basic_with_oauth: bool = True  # cloud communication users may also use Basic
    # Credentials of the communication user / OAuth client (throwaway, sandbox only).
    client_id: str = "ATLAS_COMM_CLIENT"
    client_secret: str = "sandbox-oauth-secret-7Qm2"
    username: str = "ATLAS_COMM_USER"
    password: str = "sandbox-basic-pass-4Kx9"
    cert_users: dict[str, str] = field(default_factory=dict)  # client cert subject CN -> user
    token_lifetime_s: int = 43_200  # expires_in of the OAuth token endpoint
    csrf_lifetime_s: int = 1_800  # http/security_session_timeout
    missing_scenarios: set[str] = field(default_factory=set)  # e.g. {"SAP_COM_0164"} -> 403
    # Paging: no $top -> default_page rows + __next; $top above page_cap -> capped + __next.
    default_page: int = 100
    page_cap: int = 5000
    # NW AS ABAP takes URLs of at most 4,096 characters [R: SAP forum answer]: longer ones get 414, in a
    # $batch part too (where Gateway's own limit is unknown: at least as strict). 0 turns the check off.
    max_url_length: int = 4096
    require_json: bool = True  # no Atom: requests must ask for JSON (Accept or $format=json)
    accept_decimal_numbers: bool = False  # [U] Edm.Decimal payload values must be JSON strings
    stock_quantity_places: int | None = 3  # [R] captures show "1160.000"
    movement_codes: dict[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_MOVEMENT_CODES))
    required_fields: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_REQUIRED_FIELDS))
    cost_centers: frozenset[str] = frozenset({"10101101", "10101201", "10101301"})  # empty = any accepted
    require_sled_for_new_batch: bool = True  # receipt creating a batch must carry ShelfLifeExpirationDate
    overdraw_code: str = "M7/021"  # [U] message number for "deficit of unrestricted-use stock"
    # A valuated movement's FI document holds at most 999 lines (F5/727 [V-ish]), two per item
    # unless FI summarization is configured, so about 499 items per material document.
    # $batch: Gateway's default change-set implementation allows one operation per change set [R].
    multi_operation_changesets: bool = False
    # Whether Cancel copies the header text to the reversal document is [U]: "copy" (both
    # documents carry it, so a lookup by header text finds both) or "keep" (only the original carries it).
    reversal_header_text: str = "copy"
    fi_line_limit: int = 999
    fi_lines_per_item: int = 2
    empty_items_in_create_response: bool = False  # [R] quirk: items posted but {"results": []} returned
    locations: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_LOCATIONS))
    alternative_units: dict[str, tuple[tuple[str, int, int], ...]] = field(
        default_factory=lambda: dict(DEFAULT_ALTERNATIVE_UNITS)
    )
    ndc_custom_field_every: int = 5  # every n-th product also carries YY1_NDCCode_PRD
    # A_ProductUnitsOfMeasureEAN: every product's base unit has its GTIN-14; every n-th also a
    # second, non-main GTIN (the UPC-A form); a case (CS) has its own GTIN with its own NDC package code.
    second_gtin_every: int = 3
    case_gtin_every: int = 2
    special_stock_every: int = 40  # every n-th stocked product gets extra 02/07/K rows
    first_material_document: int = 4_900_000_000
    first_purchase_order: int = 4_500_000_000
    currency: str = "USD"
    company_code: str = "1010"
