"""The closed vocabularies of a sync: connection, mapping, run, write and conflict states."""

from __future__ import annotations

from enum import StrEnum


class ConnectionStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"


class SyncDirection(StrEnum):
    BIDIRECTIONAL = "bidirectional"
    ATLAS_TO_ERP = "atlas_to_erp"
    ERP_TO_ATLAS = "erp_to_atlas"


class ConflictPolicy(StrEnum):
    ATLAS_WINS = "atlas_wins"
    ERP_WINS = "erp_wins"
    MANUAL = "manual"


class SyncScope(StrEnum):
    STOCK = "stock"
    PRODUCT_MASTER = "product_master"
    LOTS = "lots"
    TRANSACTIONS = "transactions"


class AtlasAuthMethod(StrEnum):
    API_TOKEN = "api_token"
    DEVICE = "device"


class MappingStatus(StrEnum):
    MATCHED = "matched"
    AMBIGUOUS = "ambiguous"
    UNMATCHED_ATLAS = "unmatched_atlas"
    UNMATCHED_ERP = "unmatched_erp"
    CONFLICT = "conflict"
    IGNORED = "ignored"


class MatchMethod(StrEnum):
    AUTO_NDC = "auto_ndc"
    MANUAL = "manual"


class SyncType(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"
    REAL_TIME = "real_time"
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    RECONCILE = "reconcile"


class SyncLogStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    PREVIEW = "preview"
    CANCELLED = "cancelled"  # stopped by the user: the connection's last sync and failure count stay


class WebhookStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    ERROR = "error"


class WatermarkStream(StrEnum):
    PRODUCTS = "products"
    STOCK = "stock"
    ORDERS = "orders"
    CHANGES = "changes"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    IN_DOUBT = "in_doubt"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DecisionStatus(StrEnum):
    PENDING = "pending"  # writes not all confirmed yet; the base is unchanged
    APPLIED = "applied"  # every write confirmed: the base holds the decision's new value
    CANCELLED = "cancelled"  # a write failed for good or the user withdrew it; the base is unchanged


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    TAKE_ATLAS = "take_atlas"
    TAKE_ERP = "take_erp"
    VALUE = "value"
