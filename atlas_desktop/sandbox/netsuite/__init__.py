"""NetSuite SuiteTalk REST emulator: TBA (OAuth 1.0a HMAC-SHA256), Record API v1, SuiteQL, governance.

Facts: /work/shared/reference/netsuite.md. Decisions where the reference is silent are listed in
NOTES below and in the project's netsuite wire notes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atlas_desktop.sandbox.faults import FaultConfig, FaultMiddleware
from atlas_desktop.sandbox.netsuite.app import QueryLimits, create_app
from atlas_desktop.sandbox.netsuite.errors import ERROR_CONTENT_TYPE, concurrency_body, error_bytes
from atlas_desktop.sandbox.netsuite.records import Paging, Records
from atlas_desktop.sandbox.netsuite.state import NetSuiteState
from atlas_desktop.sandbox.netsuite.tba import TbaVerifier
from atlas_desktop.sandbox.webhook_sender import WebhookSender, netsuite_event, notify_after

NOTES = """
- PATCH/POST/PUT of item quantity fields (quantityOnHand, quantityAvailable, ...) is refused with 400
  INVALID_CONTENT and o:errorPath naming the field: stock moves only by inventoryAdjustment (reference §3).
- Duplicate externalId on POST: 400 USER_ERROR, o:errorPath "externalId", detail contains "already exists".
- Negative stock: 400 USER_ERROR with o:errorPath to the line / inventory assignment; nothing is posted.
- SuiteQL: NULL columns are omitted from a row; dates/datetimes come back as M/D/YYYY (TO_CHAR for
  the time); missing `Prefer: transient` -> 400 INVALID_HEADER; offset >= 100,000 -> 400 INVALID_PARAMETER.
- Collection limit > 1000 -> 400 INVALID_PARAMETER; offset not a multiple of limit -> 400 INVALID_PARAMETER.
- `Prefer: respond-async` -> 400 INVALID_HEADER (not emulated).
- Times are UTC (the account time zone is not emulated).
"""

DEFAULT_ACCOUNT = "1234567_SB1"
DEFAULT_CONCURRENCY = 5  # Standard tier / developer accounts (reference §5)


def _secret(seed: int, label: str) -> str:
    return hashlib.sha256(f"atlas-sandbox:netsuite:{seed}:{label}".encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


class NetSuiteEmulator:
    """One NetSuite account. `app` is the fault-wrapped ASGI app; `state` offers ERP-user helpers."""

    name = "netsuite"

    def __init__(
        self,
        *,
        seed: int = 42,
        account_id: str = DEFAULT_ACCOUNT,
        catalog: Any = None,
        concurrency_limit: int | None = DEFAULT_CONCURRENCY,
        latency_ms: float = 0.0,
        clock: Callable[[], datetime] | None = None,
        db_path: str = ":memory:",
        paging: Paging | None = None,
        limits: QueryLimits | None = None,
    ) -> None:
        self.account_id = account_id
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.credentials = Credentials(*(_secret(seed, label) for label in ("ck", "cs", "tid", "ts")))
        c = self.credentials
        self.verifier = TbaVerifier(
            account_id=account_id,
            consumers={c.consumer_key: c.consumer_secret},
            tokens={c.token_id: (c.token_secret, c.consumer_key)},
            clock=lambda: self.clock(),
        )
        self.state = NetSuiteState(lambda: self.clock(), db_path)
        # Signed `inventory.updated` events after every stock move, once `webhooks.configure(url, secret)`.
        self.webhooks = WebhookSender()
        self.state.post_adjustment = notify_after(  # type: ignore[method-assign]
            self.state.post_adjustment,
            self.webhooks,
            lambda txn, args: netsuite_event(
                "inventory.updated", {"recordType": "inventoryadjustment", "id": txn,
                                      "items": sorted({line.item for line in args[1]})}
            ),
        )  # fmt: skip
        self.paging = paging or Paging()
        self.limits = limits or QueryLimits()
        self.records = Records(self.state, self.paging)
        self.items_seeded = self.state.seed_catalog(catalog) if catalog is not None else 0
        self.inner_app = create_app(self.state, self.verifier, self.records, self.limits)
        self.faults = FaultConfig(latency_ms=latency_ms, concurrency_limit=concurrency_limit, seed=seed)
        self.middleware = FaultMiddleware(
            self.inner_app, self.faults, rate_limited=self._rate_limited, server_error=self._server_error
        )
        self.app = self.middleware

    @property
    def auth_failures(self) -> list[str]:
        """Why requests were refused (oldest first); the caller only ever saw INVALID_LOGIN."""
        return self.verifier.failures

    @staticmethod
    def _rate_limited() -> tuple[int, dict[str, str], bytes]:
        import json

        # reference §5: no Retry-After header
        return 429, {"content-type": ERROR_CONTENT_TYPE}, json.dumps(concurrency_body()).encode()

    @staticmethod
    def _server_error(status: int) -> tuple[int, dict[str, str], bytes]:
        body = error_bytes(
            status, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: sandbox-injected"
        )
        return status, {"content-type": ERROR_CONTENT_TYPE}, body

    def credential_files(self, base_url: str) -> dict[str, dict[str, Any]]:
        c = self.credentials
        return {
            "netsuite.json": {
                "erp_type": "netsuite",
                "connection_name": "NetSuite sandbox",
                "account_id": self.account_id,
                "consumer_key": c.consumer_key,
                "consumer_secret": c.consumer_secret,
                "token_id": c.token_id,
                "token_secret": c.token_secret,
                "base_url": base_url,
                # What the wizard would discover and the user pick: the sandbox's adjustment account
                # ("5810 Inventory Adjustments") and its only subsidiary.
                # and the vendor purchase orders from Atlas orders go to when the supplier's name is unknown.
                "settings": {"adjustment_account_id": "58", "subsidiary_id": "1", "default_vendor_id": "1"},
            }
        }


def build(options: Any) -> NetSuiteEmulator:
    """Registry entry point: `options` is atlas_desktop.sandbox.registry.SandboxOptions."""
    limit = options.concurrency_limit if options.concurrency_limit is not None else DEFAULT_CONCURRENCY
    db_path = ":memory:"
    if options.data_dir is not None:
        options.data_dir.mkdir(parents=True, exist_ok=True)
        path = options.data_dir / "netsuite.sqlite3"
        path.unlink(missing_ok=True)  # the sandbox starts from the seeded catalog every time
        db_path = str(path)
    return NetSuiteEmulator(
        seed=options.seed,
        catalog=options.catalog,
        concurrency_limit=limit,
        latency_ms=options.latency_ms,
        db_path=db_path,
    )


__all__ = ["NOTES", "Credentials", "NetSuiteEmulator", "build"]
