"""Files the local API keeps in the profile: owner-only secret files, the TLS pair, and receiver URLs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from atlas_desktop.domain.connection import is_loopback_host


def private_dir(root: Path) -> Path:
    folder = root / "api"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        folder.chmod(0o700)
    except OSError:  # pragma: no cover - filesystems without modes
        pass
    return folder


def webhook_secret_path(paths: Any, connection_id: str) -> Path:
    return private_dir(paths.root) / f"webhook-{connection_id}.secret"


def api_key_path(paths: Any) -> Path:
    return private_dir(paths.root) / "management-api.key"


def write_private_file(path: Path, text: str) -> Path:
    """Write `text` readable by the owner only (mkstemp creates 0600: never a moment world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def scheme_for(host: str) -> str:
    """Loopback is plain HTTP; any other interface is served over HTTPS only."""
    return "http" if is_loopback_host(host) else "https"


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme_for(host)}://{shown}:{port}"


def webhook_url(view: Any) -> str:
    erp = "sap" if view.erp_type.is_sap else "netsuite"
    return f"{base_url(view.bind_host, view.bind_port)}/api/erp/webhooks/{erp}/{view.connection_id}"
