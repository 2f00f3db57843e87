"""Demo mode: emulators on loopback, a throw-away profile, credentials the wizard can import in one click."""

from __future__ import annotations

from atlas_desktop.app.demo import demo_environment
from atlas_desktop.domain.model import ErpType


def test_demo_environment_serves_the_sandbox_and_is_removed_after() -> None:
    with demo_environment(items=20) as env:
        root = env.paths.root
        assert root.is_dir() and "atlas-demo-" in str(root)
        sandbox = env.sandbox
        assert sandbox.atlas_url.startswith("http://127.0.0.1:") and sandbox.atlas_token
        netsuite = sandbox.credentials_for(ErpType.NETSUITE)
        assert netsuite is not None and netsuite["base_url"] == sandbox.urls["netsuite"]
        onprem = sandbox.credentials_for(ErpType.SAP_ONPREM)
        assert onprem is not None and "username" in onprem  # the simplest sign-in, not the certificate one
        assert sandbox.credentials_for(ErpType.SAP_CLOUD) is not None
    assert not root.exists()
