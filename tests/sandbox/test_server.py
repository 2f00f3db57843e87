"""Serving emulators over loopback sockets, credential files, TLS, and loading emulators by name."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.sandbox import registry
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.faults import FaultConfig, FaultMiddleware
from atlas_desktop.sandbox.registry import SandboxOptions, ServerTls, load_emulators
from atlas_desktop.sandbox.server import running_sandbox, serve_sandbox

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TinyEmulator:
    name: str
    faults: FaultConfig = field(default_factory=FaultConfig)
    tls: ServerTls | None = None

    def __post_init__(self) -> None:
        async def hello(request: Request) -> JSONResponse:
            return JSONResponse({"emulator": self.name, "scheme": request.url.scheme})

        self.app = FaultMiddleware(Starlette(routes=[Route("/hello", hello)]), self.faults)

    def credential_files(self, base_url: str) -> dict[str, dict]:
        return {f"{self.name}.json": {"base_url": base_url, "token": f"{self.name}-token"}}


def options() -> SandboxOptions:
    return SandboxOptions(Catalog(1, 10, dt.date(2026, 11, 27)))


def port_is_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parts.hostname, parts.port)) == 0


def test_running_sandbox_serves_each_emulator_and_writes_private_credential_files(tmp_path: Path):
    config_dir = tmp_path / "deep" / "config"
    emulators = [TinyEmulator("alpha"), TinyEmulator("beta")]
    with running_sandbox(options(), emulators=emulators, write_config=config_dir) as urls:
        assert set(urls) == {"alpha", "beta"}
        assert all(url.startswith("http://127.0.0.1:") for url in urls.values())
        assert len({urlsplit(url).port for url in urls.values()}) == 2
        for name, url in urls.items():
            assert httpx.get(f"{url}/hello").json() == {"emulator": name, "scheme": "http"}
            written = config_dir / f"{name}.json"
            assert stat.S_IMODE(written.stat().st_mode) == 0o600
            assert httpx.Response(200, content=written.read_bytes()).json()["base_url"] == url
        assert emulators[0].app.stats.total == 1
    assert not any(port_is_open(url) for url in urls.values()), "ports are closed on exit"


async def test_serve_sandbox_calls_ready_once_and_stops_on_the_event():
    stop = asyncio.Event()
    seen: list[dict[str, str]] = []
    task = asyncio.create_task(
        serve_sandbox(options(), emulators=[TinyEmulator("solo")], ready=seen.append, stop=stop)
    )
    while not seen:
        assert not task.done(), task
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{seen[0]['solo']}/hello")).status_code == 200
    stop.set()
    assert await asyncio.wait_for(task, 10) == seen[0]
    assert len(seen) == 1 and not port_is_open(seen[0]["solo"])


def make_pki(tmp_path: Path) -> tuple[ServerTls, Path, Path]:
    now = dt.datetime.now(dt.UTC)

    def cert(subject: str, key, issuer_name, issuer_key, *, ca=False, san=None) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def write(name: str, obj) -> Path:
        path = tmp_path / name
        if isinstance(obj, x509.Certificate):
            path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
        else:
            path.write_bytes(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))  # fmt: skip
        return path

    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox test CA")])
    ca = cert("Sandbox test CA", ca_key, ca_name, ca_key, ca=True)
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = cert("127.0.0.1", server_key, ca_name, ca_key, san=loopback)
    client = cert("sandbox-client", client_key, ca_name, ca_key)
    tls = ServerTls(write("server.pem", server), write("server.key", server_key), write("ca.pem", ca), True)
    return tls, write("client.pem", client), write("client.key", client_key)


def test_tls_emulator_gets_an_https_url_and_can_require_a_client_certificate(tmp_path: Path):
    tls, client_cert, client_key = make_pki(tmp_path)
    with running_sandbox(options(), emulators=[TinyEmulator("x509", tls=tls)]) as urls:
        url = urls["x509"]
        assert url.startswith("https://127.0.0.1:")
        with_cert = ssl.create_default_context(cafile=str(tls.ca_certs))
        with_cert.load_cert_chain(client_cert, client_key)
        assert httpx.get(f"{url}/hello", verify=with_cert).json()["scheme"] == "https"
        without_cert = ssl.create_default_context(cafile=str(tls.ca_certs))
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/hello", verify=without_cert)


def write_fake_package(tmp_path: Path) -> None:
    package = tmp_path / "fake_emus"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text(textwrap.dedent('''
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route
        from atlas_desktop.sandbox.faults import FaultConfig, FaultMiddleware


        class Emu:
            def __init__(self, name, options):
                self.name, self.faults, self.tls = name, FaultConfig(latency_ms=options.latency_ms), None

                async def ping(request):
                    return PlainTextResponse(self.name)

                self.app = FaultMiddleware(Starlette(routes=[Route("/ping", ping)]), self.faults)

            def credential_files(self, base_url):
                return {self.name + ".json": {"base_url": base_url}}


        def build(options):
            return [Emu("good-one", options), Emu("good-two", options)]


        def build_single(options):
            return Emu("single", options)
    '''))
    broken = "import a_dependency_that_is_not_installed\n\n\ndef build(options): ...\n"
    (package / "broken.py").write_text(broken)


def test_load_emulators_skips_missing_modules_but_not_broken_ones(tmp_path: Path, monkeypatch):
    write_fake_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "fake_emus" / "half_written").mkdir()  # a directory without __init__.py yet
    specs = ["fake_emus.good:build", "fake_emus.not_written_yet:build", "fake_emus.half_written:build",
             "fake_emus.good:build_single"]  # fmt: skip
    built = load_emulators(options(), factories=specs)
    assert [e.name for e in built] == ["good-one", "good-two", "single"]
    assert [e.name for e in load_emulators(options(), ["good-two"], factories=specs[:1])] == ["good-two"]
    with pytest.raises(ModuleNotFoundError) as caught:
        load_emulators(options(), factories=["fake_emus.broken:build"])
    assert caught.value.name == "a_dependency_that_is_not_installed"
    with pytest.raises(ConfigError, match="two emulators"):
        load_emulators(options(), factories=["fake_emus.good:build", "fake_emus.good:build"])
    with pytest.raises(ConfigError, match="no nope"):
        load_emulators(options(), factories=["fake_emus.good:nope"])


def test_default_factories_are_the_three_emulators_and_load_lazily(tmp_path: Path, monkeypatch):
    assert registry.EMULATOR_FACTORIES == (
        "atlas_desktop.sandbox.netsuite:build",
        "atlas_desktop.sandbox.sap:build",
        "atlas_desktop.sandbox.atlas:build",
    )
    write_fake_package(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "EMULATOR_FACTORIES", ("fake_emus.good:build", "fake_emus.absent:build"))
    assert [e.name for e in load_emulators(options())] == ["good-one", "good-two"]


def test_main_sandbox_prints_urls_then_ready_and_exits_cleanly_on_sigterm(tmp_path: Path):
    write_fake_package(tmp_path)
    config_dir = tmp_path / "config"
    code = textwrap.dedent(f'''
        import sys
        from pathlib import Path
        from atlas_desktop.sandbox import registry
        registry.EMULATOR_FACTORIES = ("fake_emus.good:build",)
        from atlas_desktop.sandbox.server import main_sandbox
        sys.exit(main_sandbox(items=20, latency_ms=0, write_config=Path({str(config_dir)!r}), seed=3))
    ''')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        lines = [process.stdout.readline().strip() for _ in range(3)]
        assert lines[2] == "ready", lines
        urls = dict(line.split(": ", 1) for line in lines[:2])
        assert set(urls) == {"good-one", "good-two"}
        assert httpx.get(f"{urls['good-one']}/ping").text == "good-one"
        assert stat.S_IMODE((config_dir / "good-two.json").stat().st_mode) == 0o600
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
