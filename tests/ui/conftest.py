"""UI test fixtures: one qasync loop bound to pytest-qt's QApplication, services on a throw-away profile,
and `make_wizard` that builds the wizard and cleans it up (no task or window may outlive a test)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync

from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.store.vault import MemoryKeySource
from atlas_desktop.ui.wizard.context import WizardContext
from atlas_desktop.ui.wizard.state import WizardDraft, WizardState
from atlas_desktop.ui.wizard.wizard import SetupWizard

# The helpers module sits next to this file; a stray site-packages `tests` package shadows `tests.ui`.
sys.path.insert(0, str(Path(__file__).parent))
from ui_fakes import FakeAtlasSignIn, FakeConnectorFactory, FakeEngine, reachable  # noqa: E402


@pytest.fixture(scope="session")
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """Coroutines run while the test body spins Qt (qtbot.wait*), as they do under the app's qasync loop."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    yield loop
    # DNS lookups and to_thread work ran in qasync's default executor: join its threads before Qt exits.
    executor = getattr(loop, "_QEventLoop__default_executor", None)
    if executor is not None:
        executor.shutdown(wait=True)


@pytest.fixture(autouse=True)
def _qloop_running(qloop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """The qasync loop counts as running only during a UI test: the asyncio tests collected after the
    UI ones (pytest-asyncio) must not find a foreign loop running."""
    asyncio.set_event_loop(qloop)
    asyncio.events._set_running_loop(qloop)
    yield
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as opened:
        yield opened


@pytest.fixture
def make_context(services: Services) -> Callable[..., WizardContext]:
    def make(**overrides: Any) -> WizardContext:
        values: dict[str, Any] = {
            "connections": services.connections,
            "atlas_accounts": services.atlas_accounts,
            "atlas_signin": FakeAtlasSignIn(),
            "connector_factory": FakeConnectorFactory(),
            "engine": FakeEngine(),
            "draft": WizardDraft(services.paths.root, services.vault),
            "open_url": lambda url: None,
            "reach": reachable,
            "certificates": CertificateFolder(services.paths.root),
        }
        values.update(overrides)
        return WizardContext(**values)

    return make


@pytest.fixture
def make_wizard(
    qtbot: Any, qloop: Any, make_context: Callable[..., WizardContext]
) -> Iterator[Callable[..., SetupWizard]]:
    made: list[SetupWizard] = []

    def make(
        ctx: WizardContext | None = None, state: WizardState | None = None, **ctx_overrides: Any
    ) -> SetupWizard:
        wizard = SetupWizard(ctx or make_context(**ctx_overrides), state)
        qtbot.addWidget(wizard)
        wizard.show()
        made.append(wizard)
        return wizard

    yield make
    for wizard in made:
        busy = [page for page in wizard.pages_by_id.values() if page.busy()]
        wizard._stop_all()
        qtbot.waitUntil(lambda w=wizard: not any(p.busy() for p in w.pages_by_id.values()), timeout=2000)
        wizard._draft_timer.stop()
        assert not busy or all(not p.busy() for p in busy)
