"""A forward HTTP proxy on loopback demanding Basic Proxy-Authorization: to sync through in tests."""

from __future__ import annotations

import base64
import contextlib
import socket
import socketserver
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

_HOP_BY_HOP = {b"proxy-authorization", b"proxy-connection", b"connection", b"keep-alive"}


@dataclass
class ProxyLog:
    accepted: Counter[tuple[str, str]] = field(default_factory=Counter)  # (user, target host:port)
    refused: int = 0


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        head, body = _read_head(client)
        if not head:
            return
        request_line, *header_lines = head.split(b"\r\n")
        method, target, version = request_line.split(b" ", 2)
        headers = [line.split(b":", 1) for line in header_lines if b":" in line]
        user = self._login(headers)
        if user is None or method == b"CONNECT":
            self.server.log.refused += 1
            client.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        url = urlsplit(target.decode())
        self.server.log.accepted[(user, url.netloc)] += 1
        length = next((int(v) for k, v in headers if k.strip().lower() == b"content-length"), 0)
        while len(body) < length:
            body += client.recv(65536)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        kept = [k + b":" + v for k, v in headers if k.strip().lower() not in _HOP_BY_HOP]
        upstream = socket.create_connection((url.hostname, url.port or 80), timeout=30)
        with upstream:
            upstream.sendall(
                b"\r\n".join([method + b" " + path.encode() + b" " + version, *kept, b"Connection: close"])
                + b"\r\n\r\n" + body
            )
            while chunk := upstream.recv(65536):
                client.sendall(chunk)

    def _login(self, headers: list[list[bytes]]) -> str | None:
        for name, value in headers:
            if name.strip().lower() == b"proxy-authorization":
                scheme, _, token = value.strip().partition(b" ")
                if scheme.lower() != b"basic":
                    return None
                user, _, password = base64.b64decode(token).decode().partition(":")
                return user if self.server.logins.get(user) == password else None
        return None


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, logins: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.logins = logins
        self.log = ProxyLog()


@dataclass
class AuthProxy:
    port: int
    logins: dict[str, str]
    log: ProxyLog

    def url(self, user: str, password: str) -> str:
        return f"http://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}"


@contextlib.contextmanager
def auth_proxy(logins: dict[str, str]) -> Iterator[AuthProxy]:
    """Serve the proxy in a thread; `logins` (user -> password) may be changed while it runs."""
    server = _Server(logins)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AuthProxy(server.server_address[1], logins, server.log)
    finally:
        server.shutdown()
        server.server_close()
