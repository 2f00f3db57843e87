"""A uvicorn HTTP protocol that hands the TLS client certificate to the app (uvicorn does not by itself)."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from atlas_desktop.sandbox.sap.auth import PEER_CERT_STATE_KEY


class PeerCertH11Protocol(H11Protocol):
    """Puts the peer certificate (DER) into each request's `scope["state"]` for the X.509 tenant.

    Serve with `uvicorn.Config(app, http=PeerCertH11Protocol, ssl_cert_reqs=ssl.CERT_REQUIRED, ...)`.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object: Any = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            # scope["state"] is a copy of app_state per request: give this connection its own dict.
            self.app_state = {**self.app_state, PEER_CERT_STATE_KEY: der}
