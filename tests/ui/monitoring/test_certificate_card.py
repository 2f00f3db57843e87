"""A NetSuite OAuth 2.0 (M2M) connection's card: the certificate's expiry warned 30 days ahead, and
"Renew certificate…" switching to a new pair only once it yields a token (syncs go on meanwhile).
Real widgets over a profile a real sync against the in-process emulators filled."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from atlas_desktop.app.certificate_renewal import CertificateRenewal
from atlas_desktop.app.engine_setup import build_engine
from atlas_desktop.app.key_files import inline_private_key
from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.app.paths import ProfilePaths
from atlas_desktop.app.services import Services, open_services
from atlas_desktop.domain.connection import parse_connection
from atlas_desktop.domain.secrets import Secret
from atlas_desktop.engine.api import RunStatus
from atlas_desktop.engine.factory import build_erp_connector
from atlas_desktop.engine.service import EngineService
from atlas_desktop.sandbox.atlas import build as build_atlas
from atlas_desktop.sandbox.catalog import Catalog
from atlas_desktop.sandbox.netsuite import build as build_netsuite
from atlas_desktop.sandbox.netsuite.m2m import DEFAULT_ROLE
from atlas_desktop.sandbox.registry import SandboxOptions
from atlas_desktop.store.keys import MemoryKeySource
from atlas_desktop.ui.monitoring.context import MonitoringContext
from atlas_desktop.ui.monitoring.credentials_dialog import CredentialsDialog
from atlas_desktop.ui.monitoring.dashboard import ConnectionCard, DashboardView

LEFT = Qt.MouseButton.LeftButton
NS_URL = "http://127.0.0.1:8125"
ATLAS_URL = "http://127.0.0.1:8126"


@dataclass
class M2MWorld:
    services: Services
    engine: EngineService
    connection_id: str
    netsuite: Any
    ctx: MonitoringContext
    dashboard: DashboardView


@pytest.fixture
def m2m(tmp_path: Path, run: Any, qtbot: Any) -> Iterator[M2MWorld]:
    options = SandboxOptions(catalog=Catalog(seed=11, size=30, today=date(2026, 11, 27)), seed=11)
    netsuite, atlas = build_netsuite(options), build_atlas(options)
    netsuite.key_dir = tmp_path / "customer-keys"
    with open_services(ProfilePaths(tmp_path / "profile"), key_source=MemoryKeySource()) as services:
        content = inline_private_key(netsuite.write_config_files(NS_URL)["netsuite-m2m.json"])
        connection_id = services.connections.add(parse_connection(content))
        services.atlas_accounts.save(
            base_url=ATLAS_URL, auth_method="api_token", secrets={"api_token": Secret(atlas.api_token)}
        )
        transport = httpx.ASGITransport(app=netsuite.app)
        engine = build_engine(
            services, transport=transport, atlas_options={"transport": httpx.ASGITransport(app=atlas.app)}
        )
        ctx = MonitoringContext.for_services(engine, services)
        assert ctx is not None
        ctx.renewal = CertificateRenewal(
            services.connections,
            CertificateFolder(services.paths.root),
            lambda spec: build_erp_connector(spec, transport=transport),
            engine.forget_connector,
        )

        async def upload(pem: str) -> str:  # the sandbox's M2M Setup page, as the demo's button posts it
            return netsuite.m2m.upload_certificate(
                netsuite.integration.client_id, "Atlas Integration User", DEFAULT_ROLE, pem.encode()
            )

        ctx.sandbox_upload = upload
        run(engine.discover(connection_id))
        assert run(engine.sync(connection_id, approve=True)).status is RunStatus.SUCCESS
        dashboard = DashboardView(ctx)
        qtbot.addWidget(dashboard)
        dashboard.show()
        yield M2MWorld(services, engine, connection_id, netsuite, ctx, dashboard)
        qtbot.waitUntil(lambda: not dashboard.tasks.busy, timeout=5000)
        for dialog in list(dashboard.renewals.values()):
            qtbot.waitUntil(lambda d=dialog: not d.tasks.busy, timeout=5000)
            dialog.close()
        run(engine.aclose())
    gc.collect()


def shoot(widget: QWidget, name: str) -> None:
    """Write a PNG only when ATLAS_SCREENSHOT_DIR names a folder (docs/screenshots to refresh them)."""
    folder = os.environ.get("ATLAS_SCREENSHOT_DIR")
    QApplication.processEvents()
    image = widget.grab()
    assert image.width() >= 400 and image.height() >= 200, (name, image.size())
    if folder:
        assert image.save(str(Path(folder) / name)), name


def card(world: M2MWorld, qtbot: Any) -> ConnectionCard:
    with qtbot.waitSignal(world.dashboard.reloaded, timeout=5000):
        world.dashboard.reload()
    return world.dashboard.cards[world.connection_id]


def expires_in(world: M2MWorld, days: int) -> None:
    not_after = datetime.now(UTC) + timedelta(days=days, hours=1)
    world.services.connections.update_settings(world.connection_id, certificate_expires=not_after.isoformat())


def test_the_card_warns_29_days_before_the_certificate_expires_and_not_at_31(
    m2m: M2MWorld, qtbot: Any
) -> None:
    expires_in(m2m, 31)
    shown = card(m2m, qtbot)
    assert not shown.renew_button.isHidden() and shown.certificate.isHidden()
    expires_in(m2m, 29)
    shown = card(m2m, qtbot)
    assert not shown.certificate.isHidden()
    assert "expires on" in shown.certificate.text() and "in 29 days" in shown.certificate.text()
    assert "Renew certificate" in shown.certificate.text()
    m2m.dashboard.resize(900, 560)
    shoot(shown, "monitoring-card-certificate-expiring.png")
    expires_in(m2m, 1)
    assert "(in 1 day)" in card(m2m, qtbot).certificate.text()  # not "in 1 days"


def test_renew_keeps_syncing_with_the_old_key_until_the_new_certificate_id_works(
    m2m: M2MWorld, qtbot: Any, run: Any
) -> None:
    connections, cid = m2m.services.connections, m2m.connection_id
    old = connections.get(cid)
    expires_in(m2m, 20)
    qtbot.mouseClick(card(m2m, qtbot).renew_button, LEFT)
    dialog = m2m.dashboard.renewals[cid]
    qtbot.waitUntil(lambda: dialog.path is not None and not dialog.tasks.busy, timeout=10_000)
    assert dialog.path.exists() and dialog.path.parent == m2m.services.paths.root / "certificates"
    assert "OAuth 2.0 Client Credentials (M2M) Setup" in dialog.steps.text()
    assert "waiting for its Certificate ID" in card(m2m, qtbot).certificate.text()
    shoot(dialog, "monitoring-renew-certificate.png")

    # Meanwhile the old key signs every sync.
    assert run(m2m.engine.sync(cid)).status is RunStatus.SUCCESS

    # A Certificate ID NetSuite does not know yields no token: nothing switches.
    dialog.certificate_id.setText("Wrong-certificate-id-0123")
    qtbot.mouseClick(dialog.switch_button, LEFT)
    qtbot.waitUntil(lambda: "✗" in dialog.status.text(), timeout=10_000)
    assert "keeps syncing" in dialog.status.text()
    assert connections.get(cid).settings["certificate_id"] == old.settings["certificate_id"]
    assert connections.get(cid).secrets["private_key"] == old.secrets["private_key"]
    assert run(m2m.engine.sync(cid)).status is RunStatus.SUCCESS

    # Uploaded (the demo's button), its ID filled in; the switch asks for a token first.
    qtbot.mouseClick(dialog.upload_button, LEFT)
    qtbot.waitUntil(lambda: dialog.certificate_id.text() in m2m.netsuite.m2m.certificates, timeout=10_000)
    with qtbot.waitSignal(dialog.switched, timeout=10_000):
        qtbot.mouseClick(dialog.switch_button, LEFT)
    new = connections.get(cid)
    assert new.settings["certificate_id"] == dialog.certificate_id.text()
    assert new.secrets["private_key"] != old.secrets["private_key"]
    assert datetime.fromisoformat(new.settings["certificate_expires"]) > datetime.now(UTC) + timedelta(
        days=700
    )
    # The old mapping revoked in NetSuite: syncs go on with the new key.
    m2m.netsuite.m2m.revoke(old.settings["certificate_id"])
    after = run(m2m.engine.sync(cid))
    assert after.status is RunStatus.SUCCESS, after.error_message
    assert card(m2m, qtbot).certificate.isHidden()


def test_edit_connection_offers_no_field_for_a_renewals_waiting_key(m2m: M2MWorld, qtbot: Any) -> None:
    """The waiting key belongs to the renewal: typed over here it would switch nothing and hide the pair."""
    m2m.ctx.renewal.start(m2m.connection_id)
    assert "pending_private_key" in m2m.services.connections.get(m2m.connection_id).secrets
    dialog = CredentialsDialog(m2m.ctx, m2m.services.connections.summary(m2m.connection_id))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "private_key" in dialog.fields, timeout=5000)
    assert set(dialog.fields) == {"client_id", "private_key"}
