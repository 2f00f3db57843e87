"""Demo mode: the sandbox emulators on loopback in this process, and a throw-away profile pointed at them."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.sandbox.catalog import Catalog
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


def sandbox_info(urls: dict[str, str], emulators: list[Any]) -> SandboxInfo:
    files: dict[str, dict[str, Any]] = {}
    for emulator in emulators:
        files.update(emulator.credential_files(urls[emulator.name]))
    atlas = files.get("atlas.json", {})
    return SandboxInfo(urls=dict(urls), credential_files=files, atlas_token=str(atlas.get("api_token", "")))


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
