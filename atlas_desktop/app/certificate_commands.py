"""`connections renew-certificate ID [--certificate-id CID]`: the dashboard's renewal, in two steps; and
`connections new-certificate`: the wizard's key pair for a connection to import.

Without `--certificate-id` it makes (or shows again) the new certificate to upload; with it, it switches
once NetSuite gives a token for the new key and ID. Syncs use the current certificate until then.
"""

from __future__ import annotations

import asyncio
import json

from atlas_desktop.app.certificate_renewal import CertificateRenewal
from atlas_desktop.app.netsuite_certificates import CertificateFolder
from atlas_desktop.app.services import Services
from atlas_desktop.app.waiting_keys import waiting_keys
from atlas_desktop.domain.errors import AtlasDesktopError
from atlas_desktop.engine.factory import build_erp_connector, with_network_defaults

M2M_SETUP = "Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup"


def renew_certificate(connection_id: str, certificate_id: str | None, services: Services) -> int:
    network = services.settings.network_overrides()
    renewal = CertificateRenewal(
        services.connections,
        CertificateFolder(services.paths.root),
        lambda spec: build_erp_connector(with_network_defaults(spec, network)),
    )
    try:
        if certificate_id is None:
            pending = renewal.start(connection_id)
            until = f"{pending.not_after:%Y-%m-%d}" if pending.not_after else "?"
            print(f"New certificate (valid until {until}): {pending.path}")
            print(f"Upload it in NetSuite: {M2M_SETUP} > Create New (same entity, role and application).")
            print(
                f"Then run: atlas-desktop connections renew-certificate {connection_id} --certificate-id ID"
            )
            print("Syncs keep using the current certificate until then.")
            return 0
        asyncio.run(renewal.finish(connection_id, certificate_id))
    except AtlasDesktopError as error:
        print(f"error: {error.message}" + (f" — {error.fix}" if error.fix else ""))
        print("Nothing was switched: syncs keep using the current certificate.")
        return 1
    print("Switched: syncs now use the new certificate.")
    print("A running agent or window signs with it from its next run on; no restart is needed.")
    return 0


def new_certificate(account_id: str, services: Services) -> int:
    """The certificate to upload is written; its key waits in the vault until an import names it."""
    made = waiting_keys(services).make(account_id)
    example = {"erp_type": "netsuite", "auth": "oauth2_m2m", "account_id": account_id or "…",
               "client_id": "…", "certificate_id": "…", "certificate": str(made.path)}  # fmt: skip
    print(f"New certificate (valid until {made.not_after:%Y-%m-%d}): {made.path}")
    print(f"Upload it in NetSuite: {M2M_SETUP} > Create New (the integration's user, role and application).")
    print("Then import a credentials file that names this certificate instead of a private key, e.g.:")
    print(json.dumps(example, ensure_ascii=False))
    print("The private key stays sealed in this profile's vault; it is never written to a file.")
    return 0
