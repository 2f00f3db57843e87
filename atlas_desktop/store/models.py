"""The ORM tables of the local store (one SQLite file per profile); classes end in `Row`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from atlas_desktop.domain.enums import (
    AtlasAuthMethod,
    ConflictPolicy,
    ConflictStatus,
    ConnectionStatus,
    DecisionStatus,
    MappingStatus,
    MatchMethod,
    OutboxStatus,
    Resolution,
    SyncDirection,
    SyncLogStatus,
    SyncScope,
    SyncType,
    WatermarkStream,
    WebhookStatus,
)
from atlas_desktop.domain.model import ErpType, Side
from atlas_desktop.store.types import ExactDecimal, UtcDateTime, utcnow

ENUM_LENGTH = 32


def _enum(kind: type[StrEnum]) -> sa.Enum:
    # Stored as the value text with no CHECK constraint: a new member needs a code change, not a
    # table rebuild. validate_strings makes SQLAlchemy refuse unknown values on the way in.
    return sa.Enum(
        kind,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=ENUM_LENGTH,
        values_callable=lambda members: [m.value for m in members],
    )


def new_id() -> str:
    return str(uuid.uuid4())


def default_scopes() -> dict[str, bool]:
    # Purchase orders are opt-in: creating documents in an ERP is a bigger step than moving stock.
    return {
        SyncScope.STOCK.value: True,
        SyncScope.PRODUCT_MASTER.value: True,
        SyncScope.LOTS.value: True,
        SyncScope.TRANSACTIONS.value: False,
    }


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model here maps one Table (none a join or a select), so Core can update and delete it.
        __table__: ClassVar[sa.Table]

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def _connection_fk() -> sa.ForeignKey:
    return sa.ForeignKey("erp_connections.id", ondelete="CASCADE")


class ConnectionRow(Base):
    __tablename__ = "erp_connections"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    erp_type: Mapped[ErpType] = mapped_column(_enum(ErpType))
    connection_name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus), default=ConnectionStatus.PENDING
    )
    # Non-secret settings only (account_id, base_url, auth_mode, cert paths, proxy, ...).
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    field_mappings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # Off until the user has seen the first-run preview: a first sync has no base to merge against.
    sync_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    sync_frequency_minutes: Mapped[int] = mapped_column(sa.Integer, default=15)
    sync_direction: Mapped[SyncDirection] = mapped_column(
        _enum(SyncDirection), default=SyncDirection.BIDIRECTIONAL
    )
    conflict_policy: Mapped[ConflictPolicy] = mapped_column(
        _enum(ConflictPolicy), default=ConflictPolicy.MANUAL
    )
    sync_scopes: Mapped[dict[str, bool]] = mapped_column(sa.JSON, default=default_scopes)
    last_sync_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_sync_status: Mapped[SyncLogStatus | None] = mapped_column(_enum(SyncLogStatus))
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SecretRow(Base):
    """One encrypted credential: nonce || AES-GCM ciphertext, bound to (owner_id, field)."""

    __tablename__ = "secrets"

    owner_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    field: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class AtlasAccountRow(Base):
    """The profile's Atlas marketplace account (one row); its tokens live in `secrets`."""

    __tablename__ = "atlas_accounts"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    base_url: Mapped[str] = mapped_column(sa.String(500))
    auth_method: Mapped[AtlasAuthMethod] = mapped_column(_enum(AtlasAuthMethod))
    account_id: Mapped[str | None] = mapped_column(sa.String(100))
    company_name: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class InventoryMappingRow(Base):
    """One Atlas inventory record paired (or not yet) with one ERP item/location/lot."""

    __tablename__ = "erp_inventory_mappings"
    __table_args__ = (
        # The mapping table pages by status and sorts/searches by NDC, ERP item or Atlas id.
        sa.Index(None, "connection_id", "status", "id"),
        sa.Index(None, "connection_id", "ndc_key"),
        sa.Index(None, "connection_id", "erp_item_id", "erp_location_id", "lot"),
        sa.Index(None, "connection_id", "atlas_inventory_id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk())
    atlas_inventory_id: Mapped[str | None] = mapped_column(sa.String(100))
    erp_item_id: Mapped[str | None] = mapped_column(sa.String(100))
    erp_location_id: Mapped[str | None] = mapped_column(sa.String(100))
    lot: Mapped[str | None] = mapped_column(sa.String(100))
    ndc_key: Mapped[str | None] = mapped_column(sa.String(12))
    ndc_text_atlas: Mapped[str | None] = mapped_column(sa.String(64))
    ndc_text_erp: Mapped[str | None] = mapped_column(sa.String(64))
    item_name: Mapped[str | None] = mapped_column(sa.String(300))
    status: Mapped[MappingStatus] = mapped_column(_enum(MappingStatus))
    match_method: Mapped[MatchMethod | None] = mapped_column(_enum(MatchMethod))
    sync_direction: Mapped[SyncDirection] = mapped_column(
        _enum(SyncDirection), default=SyncDirection.BIDIRECTIONAL
    )
    # None: inherit the connection's policy.
    conflict_policy: Mapped[ConflictPolicy | None] = mapped_column(_enum(ConflictPolicy))
    last_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Why discovery left it ambiguous or unmatched, for the review table.
    note: Mapped[str | None] = mapped_column(sa.String(300))
    # The ERP item name as last seen (0008): the product master carries a name to Atlas only when the
    # ERP's has changed since, so a first sight or a shorter ERP field never rewrites an Atlas name.
    erp_name_seen: Mapped[str | None] = mapped_column(sa.String(300))
    # A pack-level pair (0010): the unit the Atlas listing counts in and the ERP base units in one of it;
    # NULL for a pair at the base unit.
    erp_unit: Mapped[str | None] = mapped_column(sa.String(32))
    unit_factor: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class SyncLogRow(Base):
    __tablename__ = "erp_sync_logs"
    __table_args__ = (sa.Index(None, "connection_id", "started_at"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk())
    sync_type: Mapped[SyncType] = mapped_column(_enum(SyncType))
    direction: Mapped[SyncDirection] = mapped_column(_enum(SyncDirection))
    status: Mapped[SyncLogStatus] = mapped_column(_enum(SyncLogStatus), default=SyncLogStatus.RUNNING)
    items_synced: Mapped[int] = mapped_column(sa.Integer, default=0)
    items_failed: Mapped[int] = mapped_column(sa.Integer, default=0)
    items_skipped: Mapped[int] = mapped_column(sa.Integer, default=0)
    api_calls_made: Mapped[int] = mapped_column(sa.Integer, default=0)
    api_errors: Mapped[int] = mapped_column(sa.Integer, default=0)
    conflicts_opened: Mapped[int] = mapped_column(sa.Integer, default=0)
    in_doubt: Mapped[int] = mapped_column(sa.Integer, default=0)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    error_details: Mapped[dict[str, Any] | list[Any] | None] = mapped_column(sa.JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_seconds: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # When the run's reads ended and its merge began: what it read before then, it merged (0014).
    reads_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookRow(Base):
    """A local webhook receiver; its signing secret is in `secrets` under webhook_owner(id)."""

    __tablename__ = "erp_webhooks"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk(), index=True)
    event_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[WebhookStatus] = mapped_column(_enum(WebhookStatus), default=WebhookStatus.ACTIVE)
    bind_host: Mapped[str] = mapped_column(sa.String(255), default="127.0.0.1")
    bind_port: Mapped[int] = mapped_column(sa.Integer)
    last_received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SyncBaseRow(Base):
    """The value both sides last agreed on for one mapped key: the base of the three-way merge."""

    __tablename__ = "sync_bases"
    # Bases moved since the last run are merged again, less those it decided: read from the index alone.
    __table_args__ = (sa.Index(None, "updated_at", "decided_in"),)

    mapping_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_inventory_mappings.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(sa.String(32))
    expiry: Mapped[date | None] = mapped_column(sa.Date)
    lot: Mapped[str | None] = mapped_column(sa.String(100))
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    atlas_version: Mapped[str | None] = mapped_column(sa.String(100))
    erp_version: Mapped[str | None] = mapped_column(sa.String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # The run whose decision set this base (None: moved otherwise): that run merged the key (0014).
    decided_in: Mapped[int | None] = mapped_column(sa.Integer)


class WatermarkRow(Base):
    """How far one stream of one side has been read (a cursor, a timestamp or a change-feed token)."""

    __tablename__ = "sync_watermarks"

    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk(), primary_key=True)
    source: Mapped[Side] = mapped_column(_enum(Side), primary_key=True)
    stream: Mapped[WatermarkStream] = mapped_column(_enum(WatermarkStream), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OutboxRow(Base):
    """A remote write decided but not yet confirmed; committed with the decision, drained with retries."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index(None, "connection_id", "status"),
        # Deleting a mapping sets outbox.mapping_id NULL: without an index every delete scans the outbox.
        sa.Index(None, "mapping_id", "status"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk())
    # SET NULL, not CASCADE: a pending write must survive its mapping being removed.
    mapping_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_inventory_mappings.id", ondelete="SET NULL")
    )
    target: Mapped[Side] = mapped_column(_enum(Side))
    operation: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    idempotency_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    remote_id: Mapped[str | None] = mapped_column(sa.String(100))
    sync_log_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_sync_logs.id", ondelete="SET NULL")
    )
    # The merge decision this write carries out; the base moves only when all of its writes are done.
    decision_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("sync_decisions.id", ondelete="SET NULL"), index=True
    )
    # The quantity change this write makes (None for non-quantity writes): if its decision is cancelled
    # after this write went through, the base moves by it so the next merge does not count it twice.
    quantity_delta: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # The batch (write_batches.key) this write was last frozen into before it left, if it went batched:
    # an in-doubt batched write is looked up by its batch's key, once for the whole batch.
    batch_key: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class WriteBatchRow(Base):
    """Many ERP writes sent as one document (a NetSuite adjustment, an SAP material document).

    `key` is the document's externalId / header-text key, derived from the keys of the writes it carries
    and recorded before it leaves; `state` is sending, posted, refused or in_doubt.
    """

    __tablename__ = "write_batches"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk(), index=True)
    target: Mapped[Side] = mapped_column(_enum(Side))
    state: Mapped[str] = mapped_column(sa.String(32))
    entries: Mapped[int] = mapped_column(sa.Integer)
    remote_id: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ConflictRow(Base):
    """Both sides changed a field differently and the policy is `manual`: the user decides."""

    __tablename__ = "conflicts"
    __table_args__ = (sa.Index(None, "connection_id", "status"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk())
    mapping_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_inventory_mappings.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(sa.String(64))
    # Values in their canonical text form (Decimal str, ISO date), written by the engine.
    base_value: Mapped[str | None] = mapped_column(sa.Text)
    atlas_value: Mapped[str | None] = mapped_column(sa.Text)
    erp_value: Mapped[str | None] = mapped_column(sa.Text)
    atlas_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    erp_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[ConflictStatus] = mapped_column(_enum(ConflictStatus), default=ConflictStatus.OPEN)
    resolution: Mapped[Resolution | None] = mapped_column(_enum(Resolution))
    resolved_value: Mapped[str | None] = mapped_column(sa.Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Why the merge could not settle it (e.g. "would go below zero"), for the user.
    note: Mapped[str | None] = mapped_column(sa.Text)


class SyncItemErrorRow(Base):
    """One item that failed in one run, with the cause and fix; replayable until `replayed_at`."""

    __tablename__ = "sync_item_errors"
    __table_args__ = (
        sa.Index(None, "connection_id", "replayed_at"),
        sa.Index(None, "mapping_id"),  # for ON DELETE SET NULL when a mapping goes
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    sync_log_id: Mapped[int] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_sync_logs.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk())
    mapping_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_inventory_mappings.id", ondelete="SET NULL")
    )
    item_ref: Mapped[str] = mapped_column(sa.String(200))
    error_kind: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    fix: Mapped[str | None] = mapped_column(sa.Text)
    remote_code: Mapped[str | None] = mapped_column(sa.String(100))
    remote_message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AtlasMirrorRow(Base):
    """One Atlas listing row as last seen, per connection: the Atlas side of the merge."""

    __tablename__ = "atlas_rows"
    # observed_at: what a sync run merges is found from the rows read since the last one (0007).
    # No index on ndc_key (0013): nothing looks Atlas rows up by it, and every write would keep it.
    __table_args__ = (sa.Index(None, "connection_id", "observed_at"),)

    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk(), primary_key=True)
    atlas_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    sku: Mapped[str | None] = mapped_column(sa.String(100))
    ndc_text: Mapped[str] = mapped_column(sa.String(64))
    # The unambiguous canonical NDC key; NULL when the text is ambiguous or invalid.
    ndc_key: Mapped[str | None] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(300))
    lot: Mapped[str | None] = mapped_column(sa.String(100))
    expiry: Mapped[date | None] = mapped_column(sa.Date)
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    unit: Mapped[str] = mapped_column(sa.String(32))
    location: Mapped[str | None] = mapped_column(sa.String(100))
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ErpProductRow(Base):
    """One ERP item's master data as last seen, per connection."""

    __tablename__ = "erp_products"
    __table_args__ = (
        sa.Index(None, "connection_id", "ndc_key"),
        sa.Index(None, "connection_id", "observed_at"),  # names compared where products were read again
    )

    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk(), primary_key=True)
    item_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(300))
    unit: Mapped[str] = mapped_column(sa.String(32))
    ndc_text: Mapped[str | None] = mapped_column(sa.String(64))
    ndc_key: Mapped[str | None] = mapped_column(sa.String(12))
    manufacturer: Mapped[str | None] = mapped_column(sa.String(300))
    lot_tracked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    inactive: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    last_modified: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attributes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ErpStockRow(Base):
    """One ERP stock position (item, location, lot) as last seen: the ERP side of the merge."""

    __tablename__ = "erp_stock"
    __table_args__ = (sa.Index(None, "connection_id", "observed_at"),)  # see atlas_rows

    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk(), primary_key=True)
    item_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    location_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    # '' means "no lot": SQLite treats NULLs in a primary key as all different.
    lot: Mapped[str] = mapped_column(sa.String(100), primary_key=True, default="")
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal)
    unit: Mapped[str] = mapped_column(sa.String(32))
    expiry: Mapped[date | None] = mapped_column(sa.Date)
    version: Mapped[str | None] = mapped_column(sa.String(100))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The id of the last full pull that saw this row; rows a full pull did not see are gone remotely.
    seen_marker: Mapped[str | None] = mapped_column(sa.String(40))
    # The ERP's own id of the lot, for writes that must name it (StockLevel.lot_ref).
    lot_ref: Mapped[str | None] = mapped_column(sa.String(40))


class SyncDecisionRow(Base):
    """One merge decision: the base to adopt once every outbox write it carries is confirmed."""

    __tablename__ = "sync_decisions"
    __table_args__ = (
        sa.Index(None, "connection_id", "status"),
        sa.Index(None, "mapping_id", "status"),
        # The loop guard reads the last hour's decisions, never the whole history.
        sa.Index(None, "connection_id", "created_at", "mapping_id"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(sa.String(36), _connection_fk())
    mapping_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_inventory_mappings.id", ondelete="SET NULL")
    )
    # {"quantity": "<Decimal str>", "expiry": "<ISO date>" | null, "unit": str}; null: base unchanged.
    new_base: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    status: Mapped[DecisionStatus] = mapped_column(_enum(DecisionStatus), default=DecisionStatus.PENDING)
    sync_log_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("erp_sync_logs.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class AuditEntryRow(Base):
    """One audit entry: who did what, when, from where; chained to the previous entry by its hash.

    Append and read through store.audit.AuditLog only. No foreign key on connection_id: removing a
    connection must not delete or change its entries (either would break the chain). Source and
    actor are validated by AuditLog, so a new value needs no table rebuild.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index(None, "at"), sa.Index(None, "action"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(sa.String(100))
    source: Mapped[str] = mapped_column(sa.String(32))
    action: Mapped[str] = mapped_column(sa.String(64))
    connection_id: Mapped[str | None] = mapped_column(sa.String(36))
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditKeyingRow(Base):
    """One row: whether the audit entries written before keying (migration 0009) are sealed with the key.

    `state` is "keyed" (every entry is an HMAC under the vault's audit key), "pending" (entries from an
    older version are plain SHA-256 and will be re-sealed at the next open) or "broken" (their chain was
    already broken, so they were left as they were: entries up to `legacy_through` stay SHA-256).
    """

    __tablename__ = "audit_keying"
    __table_args__ = (sa.CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(sa.String(16))
    legacy_through: Mapped[int | None] = mapped_column(sa.Integer)
