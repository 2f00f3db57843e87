"""NetSuite's OAuth 2.0 token refusals, told as a cause and a fix the user can act on.

NetSuite's token endpoint answers RFC 6749 codes (`error`, sometimes `error_description`); its Login
Audit Trail holds the exact reason. The code narrows the cause, the description (when present) names
it, and the answer's `Date` tells clock skew from a revoked or expired certificate.
"""

from __future__ import annotations

from datetime import timedelta

from atlas_desktop.domain.errors import AuthFailed, ConnectorError, InvalidResponse, NotFound
from atlas_desktop.domain.secrets import redact

SYSTEM = "NetSuite"
SETUP_PAGE = "Setup > Integration > Manage Authentication > OAuth 2.0 Client Credentials (M2M) Setup"
MAX_SKEW = timedelta(seconds=60)
AUDIT = (
    " NetSuite's Login Audit Trail (Setup > Users/Roles > User Management > View Login Audit Trail) shows "
    "the exact reason."
)
NEW_CERTIFICATE = (
    f"Make a new key pair and certificate, upload it at {SETUP_PAGE} (Create New: the same entity, role "
    "and application) and enter the new Certificate ID in the connection."
)

# (error code, words of the description) -> (cause, fix); the first match wins
_CAUSES: tuple[tuple[str, str, str, str], ...] = (
    ("invalid_request", "algorithm",
     "NetSuite does not accept the JWT's signing algorithm (it takes PS256/384/512 and ES256/384/512, "
     "never RS256).",
     "Use an RSA key of 2048 bits or more (signed PS256) or an EC P-256 key (ES256): make a new key pair "
     "and upload its certificate."),
    ("invalid_client", "kid",
     "NetSuite does not know the Certificate ID (the JWT's kid): it is mistyped, or belongs to another "
     "account or to the production account of a refreshed sandbox (M2M mappings are not copied).",
     f"Copy the Certificate ID from {SETUP_PAGE} into the connection."),
    ("invalid_client", "signature",
     "The certificate uploaded under this Certificate ID does not belong to this private key.",
     "Upload the certificate made with this key, or give the key that belongs to the uploaded certificate."),
    ("invalid_client", "iss",
     "The Client ID is not the one of the application the certificate is mapped to.",
     "Copy the Client ID of the integration record (shown once when it is created; reset it there if lost) "
     f"and check the application chosen at {SETUP_PAGE}."),
    ("invalid_grant", "revoked",
     "The certificate was revoked in NetSuite.", NEW_CERTIFICATE),
    ("invalid_grant", "certificate has expired",
     "The certificate has expired (NetSuite certificates last at most 2 years).", NEW_CERTIFICATE),
    ("invalid_grant", "audience",
     "NetSuite refused the token endpoint address the JWT was made for (aud).",
     "Check the account ID and base_url of the connection: the token endpoint is built from them."),
    ("unauthorized_client", "not enabled",
     "The OAuth 2.0 feature is not enabled in this NetSuite account.",
     "Setup > Company > Enable Features > SuiteCloud: check OAuth 2.0 and REST Web Services."),
    ("unauthorized_client", "role",
     "The role mapped to the certificate lacks the permission to log in with OAuth 2.0.",
     "Give the role 'Log in using OAuth 2.0 Access Tokens' and 'REST Web Services' (Full), or map the "
     f"certificate to a role that has them at {SETUP_PAGE}."),
    ("unauthorized_client", "",
     "The integration record does not allow the client credentials grant.",
     "Edit the integration record (Setup > Integration > Manage Integrations): check 'Client Credentials "
     "(Machine to Machine) Grant' and make sure it is enabled."),
    ("invalid_scope", "",
     "NetSuite refused the scope rest_webservices.",
     "Edit the integration record: under OAuth 2.0 check the scope 'REST Web Services'."),
    ("invalid_client", "",
     "NetSuite refused the Client ID or Certificate ID, or the certificate does not match the private key.",
     f"Check the Client ID (integration record) and the Certificate ID ({SETUP_PAGE}); upload the "
     "certificate made with this key."),
    ("invalid_grant", "",
     "NetSuite refused the client assertion: the certificate is revoked or expired, or the JWT's times "
     "are off.", NEW_CERTIFICATE),
)  # fmt: skip


def _skewed(code: str, description: str, skew: timedelta | None) -> bool:
    if code != "invalid_grant":
        return False
    if skew is not None and abs(skew) > MAX_SKEW:
        return True
    lowered = description.lower()
    return "not yet valid" in lowered or "assertion has expired" in lowered


def token_refused(status: int, code: str, description: str, skew: timedelta | None) -> ConnectorError:
    """The AuthFailed (or NotFound / ConnectorError) for a refused token request."""
    remote = redact(f"{code}: {description}" if description else code)[:200] or None
    if status == 404:
        return NotFound(
            "NetSuite's OAuth 2.0 token endpoint was not found (HTTP 404): OAuth 2.0 is probably not "
            "enabled.",
            fix="Setup > Company > Enable Features > SuiteCloud: check OAuth 2.0; check the account ID.",
            system=SYSTEM, status=status,
        )  # fmt: skip
    if status >= 500 or status == 429:
        return ConnectorError(
            f"NetSuite's token endpoint answered HTTP {status}.",
            fix="Try again in a few minutes.", system=SYSTEM, status=status, remote_code=code or None,
        )  # fmt: skip
    if _skewed(code, description, skew):
        offset = ""
        if skew is not None and abs(skew) > MAX_SKEW:  # measured: from the answer's Date header
            side = "behind" if skew > timedelta(0) else "ahead"
            offset = f" (this computer is {abs(skew.total_seconds()):.0f} s {side})"
        return AuthFailed(
            "NetSuite refused the token request because of the clock: this computer's time differs from "
            "NetSuite's" + offset + ".",
            fix="Set this computer's clock to synchronise automatically (Windows: Settings > Time > Sync "
            "now; Linux: timedatectl set-ntp true), then test again.",
            system=SYSTEM, status=status, remote_code=code or None, remote_message=remote,
        )  # fmt: skip
    lowered = description.lower()
    for known, words, cause, fix in _CAUSES:
        if code == known and words in lowered:
            return AuthFailed(cause, fix=fix + AUDIT, system=SYSTEM, status=status,
                              remote_code=code, remote_message=remote)  # fmt: skip
    return AuthFailed(
        f"NetSuite refused the OAuth 2.0 token request (HTTP {status}" + (f", {code}" if code else "") + ").",
        fix="Check the Client ID, the Certificate ID and the private key of the connection." + AUDIT,
        system=SYSTEM, status=status, remote_code=code or None, remote_message=remote,
    )  # fmt: skip


def token_unusable(status: int) -> InvalidResponse:
    return InvalidResponse(
        "NetSuite's token endpoint did not answer with an OAuth 2.0 token.",
        fix="Check the account ID and base_url of the connection.",
        system=SYSTEM,
        status=status,
    )
