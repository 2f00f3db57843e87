"""In demo mode the window's diagnostics bundle holds the log the demo actually writes to (its temporary
profile's), not the real profile's."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

from atlas_desktop.app.demo import demo_environment
from atlas_desktop.app.diagnostics import build_bundle
from atlas_desktop.app.logging_setup import configure_logging
from atlas_desktop.app.services import open_services
from atlas_desktop.store.vault import MemoryKeySource


def test_the_demo_bundle_holds_the_demo_log(tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with demo_environment(items=10) as env:
            configure_logging(env.paths.log_file, level=logging.INFO)  # what gui.py does for --demo
            logging.getLogger("atlas.demo").info("demo marker 7f3a: a line the window wrote")
            with open_services(env.paths, key_source=MemoryKeySource()) as services:
                out = tmp_path / "bundle.zip"
                build_bundle(services, out)
            with zipfile.ZipFile(out) as archive:
                logs = {
                    name: archive.read(name).decode()
                    for name in archive.namelist()
                    if name.startswith("logs/")
                }
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
    assert any("demo marker 7f3a" in text for text in logs.values()), sorted(logs)
