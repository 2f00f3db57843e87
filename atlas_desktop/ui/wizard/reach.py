"""Before signing in: can this computer open a connection to the ERP's server at all?"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from atlas_desktop.domain.connection import ConnectionSpec
from atlas_desktop.domain.model import ErpType, StepResult

REACH_STEP = "Reach the server"
CONNECT_TIMEOUT_S = 8.0


def server_address(spec: ConnectionSpec) -> tuple[str, int] | None:
    """Host and port the connector will talk to (NetSuite's default host is derived from the account)."""
    base = spec.settings.get("base_url")
    if not base and spec.erp_type is ErpType.NETSUITE:
        account = str(spec.settings.get("account_id", ""))
        base = f"https://{account.lower().replace('_', '-')}.suitetalk.api.netsuite.com"
    if not base:
        return None
    parts = urlsplit(str(base))
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


async def reach(host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> StepResult:
    """Open (and close) a TCP connection, so "wrong address" and "blocked network" show before sign-in."""
    where = f"{host}:{port}"
    fix = (
        "Check the server address. If your network needs a proxy, enter it under Advanced on the "
        "previous page."
    )
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except socket.gaierror:
        return StepResult(
            REACH_STEP, ok=False, cause=f"The name {host} is not known to the network (DNS).", fix=fix
        )
    except TimeoutError:
        return StepResult(
            REACH_STEP,
            ok=False,
            cause=f"{where} did not answer within {timeout:g} s.",
            fix=fix + " A firewall may block the connection.",
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return StepResult(REACH_STEP, ok=False, cause=f"{where} could not be reached ({reason}).", fix=fix)
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return StepResult(REACH_STEP, ok=True, detail=where)
