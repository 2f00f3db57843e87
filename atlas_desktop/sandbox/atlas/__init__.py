"""The Atlas cloud emulator: `build(options)` for the sandbox registry, `AtlasEmulator` for tests and demo.

Exact to the Atlas cloud API contract. Where the contract is silent, it decides like this:

* /oauth/* errors use the OAuth shape `400 {"error": "authorization_pending", "error_description": ...}` the
  contract gives there; everything under /api answers `{"error": {"code", "message", "details"}}`.
* Scopes: `inventory` for /api/v1/inventory*, `erp` for /api/v1/orders* and /api/v1/erp/*; lacking -> 403.
* `Idempotency-Key` on any mutating request: a 2xx response is kept 24 h per account and a repeat gets it
  byte for byte (plus `Idempotent-Replayed: true`) with no second change. A refused request changed nothing,
  so it is not kept and a repeat runs again. The same key on a different method, path or body -> 422.
* An adjustment leaving the quantity below zero -> 422 validation_failed (details: quantity, delta, current);
  a zero delta -> 422. Quantities of rows are never negative.
* erp-link: the same document again -> 200 with the first link; another document for a linked order ->
  409 `conflict` with the existing link in details.current (409 is not in the contract's code list).
* The 10-in-flight limit counts long-polls: a long-poll is a request in flight. 5 MB = 5 MiB of body.
* The change feed gives each row once, at its latest change after `since` (deleted rows as tombstones with
  deleted: true), so a reader never skips the final state of a row; cursors are opaque and checked (422).
* POST /inventory/batch: see batch.py for what it decides where the contract is silent.
* Unknown body fields -> 422; health and sync-log bodies holding a credential-looking key or an issued
  token -> 422.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from atlas_desktop.sandbox.atlas.app import AtlasApi, build_app
from atlas_desktop.sandbox.atlas.auth import KNOWN_SCOPES, AuthService
from atlas_desktop.sandbox.atlas.demo_routes import marketplace_routes
from atlas_desktop.sandbox.atlas.seed import seed
from atlas_desktop.sandbox.atlas.state import AtlasState
from atlas_desktop.sandbox.atlas.wire import error_body
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.control_routes import ControlRoutes
from atlas_desktop.sandbox.faults import ErrorResponse, FaultConfig, FaultMiddleware

NAME = "atlas"
SANDBOX_API_TOKEN = "atl_pat_sandbox_0123456789abcdef0123456789abcdef"


def _rate_limited() -> ErrorResponse:
    body = error_body("rate_limited", "too many requests; retry after 1 s", {"retry_after": 1})
    return 429, {"content-type": "application/json", "retry-after": "1"}, body


def _server_error(status: int) -> ErrorResponse:
    code = "unavailable" if status == 503 else "internal"
    body = error_body(code, f"the Atlas service is unavailable (HTTP {status}); try again shortly")
    headers = {"content-type": "application/json"}
    if status == 503:
        headers["retry-after"] = "1"
    return status, headers, body


class AtlasEmulator:
    """One Atlas account with a listing, orders and the auth server, as an ASGI app (`app`)."""

    name = NAME

    def __init__(
        self,
        *,
        catalog: Catalog | None = None,
        rows: Iterable[Mapping[str, Any]] | None = None,
        clock: Callable[[], float] = time.time,
        seed_value: int = 42,
        faults: FaultConfig | None = None,
        api_token: str = SANDBOX_API_TOKEN,
        data_path: Path | None = None,
        batch_route: bool = True,
    ) -> None:
        self.clock = clock
        self.state = AtlasState(
            clock=clock, path=str(data_path) if data_path else ":memory:", seed=seed_value
        )
        self.auth = AuthService(clock=clock, rng=random.Random(seed_value))
        self.api_token = self.auth.issue_api_token(KNOWN_SCOPES, api_token)
        seed(self.state, catalog, [dict(r) for r in rows] if rows is not None else None)
        # batch_route=False: a server from before POST /inventory/batch (404): the single-row fallback.
        inner, self.api = build_app(self.state, self.auth, batch_route=batch_route)
        self.limits = inner
        self.faults = faults if faults is not None else FaultConfig()
        self.fault_middleware = FaultMiddleware(
            inner, self.faults, rate_limited=_rate_limited, server_error=_server_error
        )
        # The demo's marketplace actions (a sale, a purchase), in front of the faults (demo_routes.py).
        self.app = ControlRoutes(self.fault_middleware, marketplace_routes(self.state))

    @property
    def routes(self) -> AtlasApi:
        return self.api

    def credential_files(self, base_url: str) -> dict[str, dict[str, Any]]:
        return {"atlas.json": {"base_url": base_url.rstrip("/"), "api_token": self.api_token}}

    # ---- marketplace actions for tests and the demo -------------------------------------------------
    def row(self, row_id: str) -> dict[str, Any] | None:
        return self.state.get_row(row_id, include_deleted=True)

    def rows(self, limit: int = 1000) -> list[dict[str, Any]]:
        return self.state.list_rows(None, limit)[0]

    def sell(self, row_id: str, quantity: Decimal | str | int) -> dict[str, Any]:
        """A buyer purchases `quantity` units: the row goes down by that much (never below zero)."""
        return self.state.adjust_row(row_id, -Decimal(str(quantity)))

    def edit_row(self, row_id: str, **fields: Any) -> dict[str, Any]:
        """The seller edits the row in the dashboard (no If-Match, as the dashboard holds the latest)."""
        if "quantity" in fields:
            fields["quantity"] = str(fields["quantity"])
        return self.state.update_row(row_id, fields)

    def delete_row(self, row_id: str) -> dict[str, Any]:
        return self.state.delete_row(row_id)

    def add_row(self, **fields: Any) -> dict[str, Any]:
        base = {"sku": None, "lot_number": None, "expiry_date": None, "location": None, "unit": "EA"}
        base.update(fields)
        base["quantity"] = str(base["quantity"])
        return self.state.insert_row(base)

    def create_order(
        self,
        lines: list[Mapping[str, Any]],
        *,
        supplier_name: str = "Sandbox Supplier",
        supplier_atlas_id: str = "acct_supplier_900",
        status: str = "confirmed",
    ) -> dict[str, Any]:
        """A confirmed purchase this account made on the marketplace (lines: ndc, name, quantity, ...)."""
        order = {
            "supplier": {"name": supplier_name, "atlas_id": supplier_atlas_id},
            "lines": [
                {
                    "ndc": line["ndc"],
                    "name": line["name"],
                    "quantity": str(line["quantity"]),
                    "unit": line.get("unit", "EA"),
                    "unit_price": str(line.get("unit_price", "1.00")),
                    "currency": line.get("currency", "USD"),
                }
                for line in lines
            ],
        }
        return self.state.insert_order(order, status)

    def set_order_status(self, order_id: str, status: str) -> None:
        self.state.set_order_status(order_id, status)

    def order_link(self, order_id: str) -> dict[str, Any] | None:
        return self.state.order_link(order_id)

    def approve_device(self, user_code: str) -> None:
        self.auth.decide(user_code, approve=True)

    def deny_device(self, user_code: str) -> None:
        self.auth.decide(user_code, approve=False)

    def issue_token(self, scopes: Iterable[str] = KNOWN_SCOPES) -> str:
        return self.auth.issue_api_token(frozenset(scopes))

    def revoke_token(self, token: str) -> None:
        self.auth.revoke(token)

    def health(self, connection_id: str) -> dict[str, Any] | None:
        return self.state.health(connection_id)

    def sync_logs(self, connection_id: str) -> list[dict[str, Any]]:
        return self.state.sync_logs(connection_id)

    @property
    def in_flight(self) -> int:
        return sum(self.limits.in_flight.values())


def build(options: Any) -> AtlasEmulator:
    """The registry's factory: `options` is a sandbox.registry.SandboxOptions."""
    data_dir = getattr(options, "data_dir", None)
    faults = FaultConfig(
        latency_ms=float(getattr(options, "latency_ms", 0.0) or 0.0),
        concurrency_limit=getattr(options, "concurrency_limit", None),
        seed=int(getattr(options, "seed", 42)),
    )
    data_path = None
    if data_dir is not None:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        data_path = Path(data_dir) / "atlas.sqlite3"
        if data_path.exists():
            data_path.unlink()  # every sandbox start is a fresh, seeded account
    return AtlasEmulator(
        catalog=getattr(options, "catalog", None),
        seed_value=int(getattr(options, "seed", 42)),
        faults=faults,
        data_path=data_path,
    )


__all__ = ["AtlasEmulator", "build", "SANDBOX_API_TOKEN", "NAME"]
