"""The local HTTP API: management routes (X-API-Key) and signed ERP webhook receivers."""

from atlas_desktop.app.api.server import (
    ApiServer,
    ServerSet,
    start_api_server,
    start_configured_servers,
    start_webhook_server,
)

__all__ = ["ApiServer", "ServerSet", "start_api_server", "start_configured_servers", "start_webhook_server"]
