"""Files the user asks for (bundle, audit export) never replace the profile's files or a device node."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlas_desktop.app.audit_commands import run_audit
from atlas_desktop.app.diagnostics import build_bundle
from atlas_desktop.app.output_paths import checked_output
from atlas_desktop.app.paths import profile_paths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.store.vault import MemoryKeySource


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with open_services(profile_paths(tmp_path / "profile"), key_source=MemoryKeySource()) as opened:
        yield opened


def _export(out: Path) -> argparse.Namespace:
    return argparse.Namespace(action="export", format="json", out=str(out), since=None)


@pytest.mark.parametrize("name", ["atlas.db", "vault.json", "logs/atlas-desktop.log", "new.zip"])
def test_targets_inside_the_profile_are_refused_and_left_intact(services: Services, name: str) -> None:
    target = services.paths.root / name
    before = target.read_bytes() if target.exists() else None
    with pytest.raises(ConfigError) as bundle:
        build_bundle(services, target)
    assert "data folder" in bundle.value.message and bundle.value.fix
    with pytest.raises(ConfigError):
        run_audit(_export(target), services)
    assert (target.read_bytes() if target.exists() else None) == before
    assert services.store.engine.connect().exec_driver_sql("PRAGMA quick_check").scalar() == "ok"


def test_a_link_into_the_profile_is_refused(services: Services, tmp_path: Path) -> None:
    link = tmp_path / "innocent"
    link.symlink_to(services.paths.root, target_is_directory=True)
    with pytest.raises(ConfigError):
        build_bundle(services, link / "atlas.db")


def test_fifo_and_device_targets_are_refused(services: Services, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/null")):
        with pytest.raises(ConfigError) as refused:
            build_bundle(services, target)
        assert "not an ordinary file" in refused.value.message
        with pytest.raises(ConfigError):
            run_audit(_export(target), services)
    assert fifo.is_fifo()


def test_an_ordinary_file_outside_is_replaced(services: Services, tmp_path: Path) -> None:
    out = tmp_path / "old.json"
    out.write_text("old")
    assert run_audit(_export(out), services) == 0
    assert out.read_text().startswith("[")
    assert checked_output(Path("x.zip"), services.paths.root, field="out", example="x.zip").is_absolute()
