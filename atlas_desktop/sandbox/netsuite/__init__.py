"""NetSuite SuiteTalk REST emulator: TBA, OAuth 2.0 M2M, Record API v1, SuiteQL, governance.

Facts follow Oracle's NetSuite Help Center (SuiteTalk REST Web Services, SuiteQL, OAuth 2.0) and the
REST API Browser; what Oracle does not document is marked unverified. Decisions where the sources are
silent are listed in NOTES below.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from atlas_desktop.sandbox.control_routes import ControlRoutes
from atlas_desktop.sandbox.faults import FaultConfig, FaultMiddleware
from atlas_desktop.sandbox.netsuite.activity import StockActivity, activity_routes
from atlas_desktop.sandbox.netsuite.app import QueryLimits, create_app
from atlas_desktop.sandbox.netsuite.demo_routes import stock_routes
from atlas_desktop.sandbox.netsuite.errors import (
    ERROR_CONTENT_TYPE,
    INVALID_LOGIN_DETAIL,
    concurrency_body,
    error_bytes,
)
from atlas_desktop.sandbox.netsuite.m2m import DEFAULT_ROLE, DEFAULT_TOKEN_LIFETIME, M2MSetup
from atlas_desktop.sandbox.netsuite.m2m_keys import generate_key, self_signed, write_private_key
from atlas_desktop.sandbox.netsuite.records import Paging, Records, WriteLimits
from atlas_desktop.sandbox.netsuite.state import STOCK_TRANSACTION_TYPES, NetSuiteState
from atlas_desktop.sandbox.netsuite.tba import TbaVerifier
from atlas_desktop.sandbox.webhook_sender import WebhookSender, netsuite_event, notify_after

NOTES = """
- PATCH/POST/PUT of item quantity fields (quantityOnHand, quantityAvailable, ...) is refused with 400
  INVALID_CONTENT and o:errorPath naming the field: stock moves only by inventoryAdjustment.
- Duplicate externalId (POST, PATCH): 400 USER_ERROR "Error while accessing a resource. This record already
  exists.", no o:errorPath, the key not named.
- Negative stock: 400 USER_ERROR with o:errorPath to the line / inventory assignment; nothing is posted.
  Every line-level refusal names its line (`inventory.items[n]...`, `item.items[n]...`; n is the line's
  place in the request body, or in the stored record for lines the request did not carry).
- Lines per transaction: more than `write_limits.max_lines` (default 1,000, as Oracle advises) lines in one
  transaction (a PATCH's appended lines count with those already there) -> 400 USER_ERROR naming the limit,
  o:errorPath at the first line beyond it. Oracle documents the limit, not the error text: ours.
- SuiteQL: NULL columns are omitted from a row; dates/datetimes come back as M/D/YYYY (TO_CHAR for
  the time); missing `Prefer: transient` -> 400 INVALID_HEADER; offset >= 100,000 -> 400 INVALID_PARAMETER.
- SuiteQL's Oracle dialect: comma joins with `(+)` outer joins, `ROWNUM` limits in WHERE, CASE,
  NVL; more than 1,000 values in one IN list -> 400 INVALID_PARAMETER "Invalid search query ... ORA-01795"
  (Oracle's message; NetSuite's wording around it unverified). Row keys are lower case; `QueryLimits.
  column_case` answers UPPER, as written, or mixed instead (Oracle: the casing may change).
- Collection limit > 1000 -> 400 INVALID_PARAMETER; offset not a multiple of limit -> 400 INVALID_PARAMETER.
- `Prefer: respond-async` -> 400 INVALID_HEADER (not emulated).
- Over the concurrency limit: 429 CONCURRENCY_LIMIT_EXCEEDED at once (reported, unverified), or with
  `faults.over_limit = "slow_refusal"` a 401 INVALID_LOGIN after `faults.over_limit_delay_s` (default 60 s),
  the same body as a bad login, as real accounts have answered under load.
- Stored times are UTC; SuiteQL shows and reads datetimes in the token user's time-zone preference
  (`timezone`, default UTC here, America/New_York through SandboxOptions; user_time.py).
  `SELECT SESSIONTIMEZONE FROM dual` answers its region name; TO_CHAR knows TZH, TZM and TZR. The record
  API keeps ISO 8601 UTC.
- OAuth 2.0 token endpoint (ref §10 is silent on its errors): RFC 6749 §5.2 bodies `{"error",
  "error_description"}`, no-store. 400 unsupported_grant_type (grant_type), invalid_request (assertion type,
  malformed JWT, algorithm outside PS256/384/512 and ES256/384/512, missing iat/exp), unauthorized_client
  (OAuth 2.0 feature off, integration without the M2M grant, role without the permission), invalid_grant
  (certificate revoked or expired, aud, exp > iat + 3600, iat/exp outside a 60 s skew), invalid_scope
  (no rest_webservices); 401 invalid_client (unknown kid, bad signature, iss not the certificate's
  application). The exact reason is kept in `m2m.failures` (the Login Audit Trail).
- Bearer tokens: opaque, `expires_in` "3600" (a setting); a refused one gets 401 INVALID_LOGIN with
  `WWW-Authenticate: Bearer ... error="invalid_token"`. Revoking a certificate ends its tokens.
- ERP users' stock transactions (receipts, fulfilments, transfers, cash sales / invoices, builds, status
  changes): `emulator.activity` or `POST /_sandbox/netsuite/transactions` (activity.py).
- Certificate upload (`POST /_sandbox/netsuite/m2m/certificates`, JSON client_id, entity, role,
  certificate PEM): RSA >= 2048 bits or EC; valid at most 2 years; answers the Certificate ID.
"""

DEFAULT_ACCOUNT = "1234567_SB1"
DEFAULT_CONCURRENCY = 5  # Standard tier / developer accounts


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
        write_limits: WriteLimits | None = None,
        token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME,
        key_dir: Path | None = None,
        timezone: str = "UTC",
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
        self.state = NetSuiteState(lambda: self.clock(), db_path, timezone=timezone)
        # OAuth 2.0 M2M: one integration record with the client credentials grant, no certificate yet
        # (the customer uploads one; `sandbox_m2m()` does it for --write-config).
        self.m2m = M2MSetup(clock=lambda: self.clock(), token_lifetime=token_lifetime)
        self.integration = self.m2m.add_integration("Atlas Desktop", seed=str(seed))
        self.key_dir = key_dir
        self._sandbox_m2m: dict[str, str] | None = None
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
        self.state.post_stock = notify_after(  # type: ignore[method-assign]
            self.state.post_stock,
            self.webhooks,
            lambda txn, args: netsuite_event(
                "inventory.updated", {"recordType": STOCK_TRANSACTION_TYPES[args[0]][0], "id": txn,
                                      "items": sorted({line.item for line in args[2]})}
            ),
        )  # fmt: skip
        # ERP users posting receipts, fulfilments, transfers, sales, builds, status changes (activity.py)
        self.activity = StockActivity(self.state)
        self.paging = paging or Paging()
        self.limits = limits or QueryLimits()
        self.write_limits = write_limits or WriteLimits()
        self.records = Records(self.state, self.paging, self.write_limits)
        self.items_seeded = self.state.seed_catalog(catalog) if catalog is not None else 0
        self.inner_app = create_app(
            self.state, self.verifier, self.records, self.limits, self.m2m, activity_routes(self.activity)
        )
        self.faults = FaultConfig(latency_ms=latency_ms, concurrency_limit=concurrency_limit, seed=seed)
        self.middleware = FaultMiddleware(
            self.inner_app,
            self.faults,
            rate_limited=self._rate_limited,
            server_error=self._server_error,
            refused_slowly=self._refused_login,
        )
        # The demo's ERP-user actions (receive, issue, expiry), in front of the faults (demo_routes.py).
        self.app = ControlRoutes(self.middleware, stock_routes(self.state))

    @property
    def auth_failures(self) -> list[str]:
        """Why requests were refused (oldest first); the caller only ever saw INVALID_LOGIN."""
        return self.verifier.failures

    @staticmethod
    def _rate_limited() -> tuple[int, dict[str, str], bytes]:
        import json

        # NetSuite sends no Retry-After header
        return 429, {"content-type": ERROR_CONTENT_TYPE}, json.dumps(concurrency_body()).encode()

    @staticmethod
    def _refused_login() -> tuple[int, dict[str, str], bytes]:
        # Over the limit, real accounts have answered a slow 401 INVALID_LOGIN, the very
        # body of a bad login (faults.over_limit = "slow_refusal"); the Login Audit Trail stays empty
        return (
            401,
            {"content-type": ERROR_CONTENT_TYPE},
            error_bytes(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL),
        )

    @staticmethod
    def _server_error(status: int) -> tuple[int, dict[str, str], bytes]:
        body = error_bytes(
            status, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: sandbox-injected"
        )
        return status, {"content-type": ERROR_CONTENT_TYPE}, body

    def sandbox_m2m(self) -> dict[str, str]:
        """Do the customer's M2M setup once: a key pair, its certificate uploaded, the PEM key on disk.

        The app's own key is not available here, so the sandbox plays a customer who made one.
        """
        if self._sandbox_m2m is None:
            key = generate_key("rsa")
            certificate = self_signed(key, self.clock())
            certificate_id = self.m2m.upload_certificate(
                self.integration.client_id, "Atlas Integration User", DEFAULT_ROLE, certificate
            )
            directory = self.key_dir or Path(tempfile.mkdtemp(prefix="atlas-netsuite-"))
            path = write_private_key(directory / "netsuite-m2m-key.pem", key)
            certificate_path = directory / "netsuite-m2m-certificate.pem"
            certificate_path.write_bytes(certificate)  # public: what was uploaded, for the expiry warning
            self._sandbox_m2m = {
                "certificate_id": certificate_id,
                "private_key": str(path),
                "certificate": str(certificate_path),
            }
        return dict(self._sandbox_m2m)

    def m2m_identity(self, base_url: str) -> dict[str, str]:
        """What the integration record shows for OAuth 2.0, for the demo wizard (no certificate yet)."""
        return {"account_id": self.account_id, "client_id": self.integration.client_id, "base_url": base_url}

    def write_config_files(self, base_url: str) -> dict[str, dict[str, Any]]:
        """What `sandbox --write-config` writes besides `credential_files`: the OAuth 2.0 M2M connection.

        Not in `credential_files` (what the demo wizard pastes for TBA): for OAuth 2.0 the demo wizard
        makes its own key pair, reads `m2m_identity` and uploads its certificate to the upload route.
        """
        m2m = self.sandbox_m2m()
        return {
            # OAuth 2.0 client credentials, what new customers use from 2027.1
            "netsuite-m2m.json": {
                "erp_type": "netsuite",
                "auth": "oauth2_m2m",
                "connection_name": "NetSuite sandbox (OAuth 2.0)",
                "account_id": self.account_id,
                "client_id": self.integration.client_id,
                "certificate_id": m2m["certificate_id"],
                "private_key": m2m["private_key"],
                "certificate": m2m["certificate"],
                "base_url": base_url,
                "settings": {"adjustment_account_id": "58", "subsidiary_id": "1", "default_vendor_id": "1"},
            }
        }

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
        key_dir=options.data_dir / "netsuite-m2m" if options.data_dir is not None else None,
        seed=options.seed,
        catalog=options.catalog,
        concurrency_limit=limit,
        latency_ms=options.latency_ms,
        db_path=db_path,
        timezone=options.netsuite_timezone,
    )


__all__ = ["NOTES", "Credentials", "NetSuiteEmulator", "build"]
