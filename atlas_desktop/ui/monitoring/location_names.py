"""ERP location names for the monitoring views: "Main warehouse" instead of location "1".

The store keeps only location ids; the ERP connector lists them with names. Asked once per connection
and kept while the window runs; when the ERP cannot be asked, the id is shown as "location 1"."""

from __future__ import annotations

import logging
import time
from typing import Any

from atlas_desktop.domain.errors import AtlasDesktopError

log = logging.getLogger(__name__)
RETRY_AFTER_S = 300.0


class LocationNames:
    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._names: dict[str, dict[str, str]] = {}
        self._failed: dict[str, float] = {}  # connection id -> when the ERP last could not be asked

    async def names(self, connection_id: str) -> dict[str, str]:
        known = self._names.get(connection_id)
        if known is not None:
            return known
        if time.monotonic() - self._failed.get(connection_id, -RETRY_AFTER_S) < RETRY_AFTER_S:
            return {}  # an offline ERP is not asked again at every click
        try:
            connector = await self._engine.erp(connection_id)
            found = {location.id: location.name for location in await connector.locations()}
        except (AtlasDesktopError, AttributeError) as error:  # offline, or a fake engine without an ERP
            log.info("location names not available for %s: %s", connection_id, error)
            self._failed[connection_id] = time.monotonic()
            return {}
        self._names[connection_id] = found
        return found

    @staticmethod
    def word(names: dict[str, str], location_id: str | None) -> str | None:
        if not location_id:
            return None
        return names.get(location_id) or f"location {location_id}"
