"""Listening sockets of our servers (sandbox emulators, management API) must get Nagle turned off.

asyncio sets TCP_NODELAY only on sockets whose protocol says TCP; a listener made with protocol 0 hands
that 0 to every accepted connection, and each small response then waits for the peer's delayed ACK
(~40 ms on Linux): the emulators answered 20x slower than any real API, which skewed every benchmark.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from atlas_desktop.app.api.server import _bind as bind_api
from atlas_desktop.sandbox.server import _bind as bind_sandbox


def _nodelay_of_accepted(listener: socket.socket) -> int:
    async def scenario() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        host, port = listener.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    return asyncio.run(scenario())


@pytest.mark.parametrize(
    "bind", [lambda: bind_sandbox("127.0.0.1"), lambda: bind_api("127.0.0.1", 0)], ids=["sandbox", "api"]
)
def test_accepted_connections_have_nagle_off(bind: Callable[[], socket.socket]) -> None:
    assert _nodelay_of_accepted(bind()) != 0
