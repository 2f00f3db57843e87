"""The PyInstaller inputs: the spec parses, and the bundle lists keep up with the code they describe."""

from __future__ import annotations

import ast
import plistlib
import re
import tomllib
from pathlib import Path

from atlas_desktop import __version__
from atlas_desktop.engine import factory
from atlas_desktop.sandbox import registry

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_the_spec_is_valid_python_and_uses_the_bundle_config() -> None:
    source = (PACKAGING / "atlas-desktop.spec").read_text(encoding="utf-8")
    tree = ast.parse(source, filename="atlas-desktop.spec")
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and
              isinstance(node.func, ast.Name)}  # fmt: skip
    assert {"Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"} <= called
    for name in ("hidden_imports", "migration_datas", "resource_datas", "EXCLUDES", "info_plist"):
        assert f"cfg.{name}" in source


def test_version_comes_from_the_package(bundle_config) -> None:
    assert bundle_config.read_version() == __version__
    assert bundle_config.numeric_version("1.2.3rc1") == (1, 2, 3, 0)
    assert bundle_config.numeric_version("2.0") == (2, 0, 0, 0)


def test_every_module_loaded_by_name_is_a_hidden_import(bundle_config) -> None:
    wanted = set(bundle_config.hidden_imports([]))
    emulators = {spec.partition(":")[0] for spec in registry.EMULATOR_FACTORIES}
    connectors = set(factory._CONNECTOR_MODULES.values())
    assert emulators and connectors
    assert emulators | connectors <= wanted
    assert {"alembic.op", "apscheduler.triggers.interval", "anyio._backends._asyncio"} <= wanted


def test_hidden_imports_drop_submodules_needing_what_we_do_not_ship(bundle_config) -> None:
    wanted = bundle_config.hidden_imports(["uvicorn.workers", "uvicorn.loops.auto", "atlas_desktop.cli"])
    assert "uvicorn.workers" not in wanted
    assert {"uvicorn.loops.auto", "atlas_desktop.cli"} <= set(wanted)


def test_test_only_packages_are_excluded_and_runtime_ones_are_not(bundle_config) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {re.split(r"[<>=!\[ ]", dep)[0].lower() for dep in pyproject["project"]["dependencies"]}
    # Every runtime dependency is known by its import name, and none of them is excluded.
    import_names = {"pyside6-essentials": "PySide6", "pyjwt": "jwt"}
    imports = {import_names.get(name, name) for name in runtime}
    assert imports == set(bundle_config.RUNTIME_IMPORTS)
    assert not imports & set(bundle_config.EXCLUDES)
    for test_only in ("pytest", "hypothesis", "respx", "authlib", "joserfc", "pyodata", "requests"):
        assert test_only in bundle_config.EXCLUDES


def test_migrations_are_bundled_as_files_with_the_mako_template(bundle_config) -> None:
    pairs = bundle_config.migration_datas()
    names = {src.rsplit("/", 1)[-1] for src, _ in pairs}
    versions = {p.name for p in (ROOT / "atlas_desktop/store/migrations/versions").glob("*.py")}
    assert {"env.py", "script.py.mako"} <= names
    assert versions and versions <= names
    assert all(dest.startswith("atlas_desktop/store/migrations") for _, dest in pairs)
    assert not any("__pycache__" in src for src, _ in pairs)


def test_resources_land_where_the_theme_looks_for_them(bundle_config) -> None:
    pairs = bundle_config.resource_datas()
    dests = {(src.rsplit("/", 1)[-1], dest) for src, dest in pairs}
    for size in bundle_config.ICON_SIZES:
        assert (f"atlas-desktop-{size}.png", "resources/icons") in dests
    # ui/theme.py: ICON_DIR = <package parent>/resources/icons, i.e. the bundle's top folder.
    theme = (ROOT / "atlas_desktop/ui/theme.py").read_text(encoding="utf-8")
    assert 'parents[2] / "resources" / "icons"' in theme


def test_info_plist_has_the_bundle_identifier_and_version(bundle_config) -> None:
    keys = bundle_config.info_plist("1.4.0")
    assert keys["CFBundleIdentifier"] == "pharma.atlas.desktop"
    assert keys["CFBundleShortVersionString"] == "1.4.0"
    assert keys["CFBundleVersion"] == "1.4.0"
    assert keys["NSHighResolutionCapable"] is True
    plistlib.dumps(keys)  # every value is plist-serialisable


def test_windows_version_info_is_the_structure_pyinstaller_evaluates(bundle_config) -> None:
    text = bundle_config.windows_version_info("1.2.3")
    tree = ast.parse(text, mode="eval")
    assert isinstance(tree.body, ast.Call) and tree.body.func.id == "VSVersionInfo"
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('ProductVersion', '1.2.3')" in text


def test_the_autostart_label_matches_the_bundle_identifier(bundle_config) -> None:
    from atlas_desktop.app import autostart

    assert autostart.LAUNCH_AGENT_LABEL == bundle_config.BUNDLE_ID
