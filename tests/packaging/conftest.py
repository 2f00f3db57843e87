"""Loads the files of packaging/ by path: that folder is not a package (it would shadow PyPI `packaging`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def load_packaging_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_atlas_packaging_{name}", PACKAGING / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bundle_config() -> ModuleType:
    return load_packaging_module("bundle_config")


@pytest.fixture(scope="session")
def platform_icons() -> ModuleType:
    return load_packaging_module("platform_icons")
