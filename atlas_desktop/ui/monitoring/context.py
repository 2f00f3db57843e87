"""What the monitoring views need: the engine facade, the connections, read-only store views, settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas_desktop.engine.health import Activity
from atlas_desktop.store.explain import ExplainRepository
from atlas_desktop.ui.monitoring.health import OtherProcessRuns
from atlas_desktop.ui.monitoring.location_names import LocationNames


@dataclass
class MonitoringContext:
    engine: Any  # app.engine_setup.ProfileEngine: sync, resolve_conflict, db (the DB thread) and repos
    connections: Any  # ConnectionRepository
    explain: ExplainRepository
    settings: Any = None  # AppSettings, for the settings dialog
    data_dir: Path | None = None
    renewal: Any = None  # app.certificate_renewal.CertificateRenewal: NetSuite M2M certificates
    open_url: Callable[[str], object] | None = None
    sandbox_upload: Callable[[str], Awaitable[str]] | None = None  # demo: the certificate to the sandbox
    # Runs other processes hold (the agent, a command): the dashboard shows them as Syncing.
    elsewhere: Callable[[str], Activity | None] | None = None
    _locations: LocationNames | None = field(default=None, repr=False)

    @classmethod
    def for_services(cls, engine: Any, services: Any) -> MonitoringContext | None:
        """From the app's Services; None when the engine is not the real one (no DB thread, no repos)."""
        if engine is None or not hasattr(engine, "repos") or not hasattr(engine, "db"):
            return None
        return cls(
            engine=engine,
            connections=services.connections,
            explain=ExplainRepository(services.store),
            settings=services.settings,
            data_dir=services.paths.root,
            elsewhere=OtherProcessRuns(services.locks.folder),
        )

    @property
    def locations(self) -> LocationNames:
        """ERP location names, asked once per connection and shared by the views."""
        if self._locations is None:
            self._locations = LocationNames(self.engine)
        return self._locations

    @property
    def repos(self) -> Any:
        return self.engine.repos

    async def db(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A store call on the engine's DB thread: the window never waits on SQLite."""
        return await self.engine.db(fn, *args, **kwargs)
