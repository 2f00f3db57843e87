"""uvicorn's HTTP/1.1 protocol with the limits a server reachable by others needs: a request must
arrive whole within a deadline, and the number of open connections is capped.

uvicorn times out idle keep-alive connections only; a client that sends its headers (or body) a byte
at a time holds a connection for ever, and a few hundred such clients (slowloris) exhausted the file
descriptors of the receiver and the management API.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_READ_S = 10.0  # headers and body of one request, from its first byte (or the connection) on
MAX_CONNECTIONS = 100  # open connections per server; more are closed at once
KEEP_ALIVE_S = 5


class LimitedH11Protocol(H11Protocol):
    _read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.abort()
            return
        self._arm_read_deadline()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.SEND_BODY and self.conn.their_state is not h11.IDLE:
            self._disarm_read_deadline()  # the whole request is in (or the connection is ending)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_read_deadline()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_deadline()
        super().connection_lost(exc)

    def _arm_read_deadline(self) -> None:
        self._disarm_read_deadline()
        self._read_deadline = self.loop.call_later(REQUEST_READ_S, self._request_too_slow)

    def _disarm_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _request_too_slow(self) -> None:
        self._read_deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.transport.close()  # the app, if it was reading a body, sees a disconnect
