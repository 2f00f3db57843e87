"""Owner ids of the rows in the `secrets` table."""

from __future__ import annotations

# Owner id of the Atlas account's tokens in the `secrets` table (connections use their own id).
ATLAS_ACCOUNT_OWNER = "atlas-account"
# Owner id of the profile's own secrets: the audit trail's key, the app-wide proxy's password.
PROFILE_OWNER = "profile"


def webhook_owner(webhook_id: str) -> str:
    """Owner id of a webhook's signing secret in the `secrets` table."""
    return f"webhook:{webhook_id}"
