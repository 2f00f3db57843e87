"""Demo mode: the sandbox emulators on loopback in this process, and a throw-away profile pointed at them."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.domain.errors import NetworkError
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite.m2m_routes import UPLOAD_PATH
from atlas_desktop.sandbox.registry import SandboxOptions, load_emulators
from atlas_desktop.sandbox.server import running_sandbox
from atlas_desktop.ui.wizard.context import SandboxInfo

log = logging.getLogger(__name__)

DEMO_ITEMS = 300
DEMO_SEED = 42


@dataclass(frozen=True)
class DemoEnvironment:
    paths: ProfilePaths
    sandbox: SandboxInfo


def sandbox_info(
    urls: dict[str, str], emulators: list[Any], transport: httpx.AsyncBaseTransport | None = None
) -> SandboxInfo:
    files: dict[str, dict[str, Any]] = {}
    m2m: dict[str, str] = {}
    for emulator in emulators:
        files.update(emulator.credential_files(urls[emulator.name]))
        if hasattr(emulator, "m2m_identity"):  # NetSuite: OAuth 2.0, the demo's default sign-in
            m2m = emulator.m2m_identity(urls[emulator.name])
    atlas = files.get("atlas.json", {})
    upload = _certificate_uploader(m2m, transport) if m2m else None
    return SandboxInfo(
        urls=dict(urls),
        credential_files=files,
        atlas_token=str(atlas.get("api_token", "")),
        netsuite_m2m=m2m,
        upload_certificate=upload,
    )


def _certificate_uploader(
    m2m: dict[str, str], transport: httpx.AsyncBaseTransport | None
) -> Callable[[str], Awaitable[str]]:
    """The sandbox's M2M Setup page as one call: the certificate in, its Certificate ID out."""

    async def upload(certificate_pem: str) -> str:
        body = {"client_id": m2m["client_id"], "certificate": certificate_pem}
        try:
            async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
                response = await client.post(m2m["base_url"] + UPLOAD_PATH, json=body)
        except httpx.HTTPError as exc:
            raise NetworkError(f"the sandbox did not answer ({exc.__class__.__name__})",
                               fix="Restart the demo.") from None  # fmt: skip
        if response.status_code != 201:
            raise NetworkError(f"the sandbox refused the certificate ({response.status_code})",
                               fix="Make a new certificate and upload it again.")  # fmt: skip
        return str(response.json()["certificate_id"])

    return upload


@contextmanager
def demo_environment(*, items: int = DEMO_ITEMS, seed: int = DEMO_SEED) -> Iterator[DemoEnvironment]:
    """Start the emulators (a background thread, loopback ports) and yield a fresh profile; all is removed
    at exit. The profile is new every time, so the demo never touches the user's real one."""
    root = Path(tempfile.mkdtemp(prefix="atlas-demo-"))
    try:
        options = SandboxOptions(Catalog(seed=seed, size=items), seed=seed, data_dir=root / "sandbox")
        emulators = load_emulators(options)
        with running_sandbox(options, emulators=emulators) as urls:
            log.info("sandbox running: %s", ", ".join(f"{name} {url}" for name, url in urls.items()))
            yield DemoEnvironment(ProfilePaths(root / "profile").ensure(), sandbox_info(urls, emulators))
    finally:
        shutil.rmtree(root, ignore_errors=True)
