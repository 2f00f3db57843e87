"""Builds the sync engine for a profile: repositories, connector factories, the signed-in Atlas client."""

from __future__ import annotations

from typing import Any

from atlas_desktop.app.engine_ports import StoreRepos, engine_ports
from atlas_desktop.app.services import Services
from atlas_desktop.connectors.atlas import build_client
from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.enums import ConnectionStatus
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.engine.factory import build_erp_connector, with_network_defaults
from atlas_desktop.engine.run_lock import DEFAULT_WAIT_S
from atlas_desktop.engine.service import EngineService
from atlas_desktop.store.db_thread import DbThread


def build_repos(services: Services) -> StoreRepos:
    return StoreRepos.of(services.store, services.audit)  # one audit log per profile: its key unlocked once


class ProfileEngine(EngineService):
    """A profile's engine, carrying the profile's repositories for the window, the CLI and the API.

    The engine itself reaches them through its ports only; `db` (its DB thread) runs their calls.
    """

    def __init__(self, repos: StoreRepos, **options: Any) -> None:
        super().__init__(engine_ports(repos, DbThread()), **options)
        self.repos = repos


def atlas_client_factory(services: Services, **options: Any) -> Any:
    """The Atlas client for the profile's signed-in account (API token or device tokens)."""

    def build() -> Any:
        account = services.atlas_accounts.load()
        if account is None:
            raise ConfigError(
                "atlas_account",
                "this profile is not signed in to Atlas",
                fix="Sign in: `atlas-desktop signin --base-url URL --token-stdin` or the app's first step.",
            )
        network = services.settings.network_overrides()
        token = services.atlas_accounts.get_secret("api_token")
        return build_client(account.base_url, token=token, **network, **options)

    return build


def build_engine(
    services: Services, *, run_lock_wait: float = DEFAULT_WAIT_S, **connector_options: Any
) -> ProfileEngine:
    """`connector_options` reach every connector factory (tests pass `transport=` here); a run waits up to
    `run_lock_wait` seconds for one of the same connection in another process to end."""
    network = services.settings.network_overrides()

    def spec_for(connection_id: str) -> ConnectionSpec:
        return with_network_defaults(services.connections.get(connection_id), network)

    atlas_options = dict(connector_options.pop("atlas_options", {}))
    return ProfileEngine(
        build_repos(services),
        connection_spec=spec_for,
        connection_summary=services.connections.summary,
        activate_connection=lambda cid: services.connections.update(
            cid, sync_enabled=True, status=ConnectionStatus.ACTIVE
        ),
        erp_factory=lambda spec: build_erp_connector(spec, **connector_options),
        atlas_factory=atlas_client_factory(services, **atlas_options),
        max_change_share=float(services.settings.get("max_change_share")),
        run_locks=services.locks.run,  # one run per connection across the window, the agent and commands
        run_lock_wait=run_lock_wait,
        on_tested=services.test_reports.record,
    )
