"""CLI handlers for `webhooks` and `api-key`: secrets go to owner-only (0600) files, never stdout."""

from __future__ import annotations

import argparse
import json
import sys

from atlas_desktop.app.api.local_files import (
    api_key_path,
    webhook_secret_path,
    webhook_url,
    write_private_file,
)
from atlas_desktop.app.services import Services
from atlas_desktop.app.tables import table
from atlas_desktop.domain.connection import is_loopback_host
from atlas_desktop.store.webhooks import DEFAULT_HOST, DEFAULT_PORT, ApiKeyRepository, WebhookRepository

EXIT_OK = 0


def run_webhooks(args: argparse.Namespace, services: Services) -> int:
    repo = WebhookRepository(services.store, services.vault)
    if args.action == "enable":
        host = args.host or DEFAULT_HOST
        view, created = repo.enable(args.id, host=host, port=args.port or DEFAULT_PORT)
        path = write_private_file(
            webhook_secret_path(services.paths, args.id), repo.secret(args.id).reveal() + "\n"
        )
        print(f"webhook {'created' if created else 'enabled'} for connection {args.id}")
        print(f"url: {webhook_url(view)}")
        print(f"secret: in {path} (readable by you only; paste it into the sender, then keep it secret)")
        print(f"events: {', '.join(view.event_types)}")
        if not is_loopback_host(host):
            print(
                "note: served over HTTPS with a self-signed certificate kept in the profile", file=sys.stderr
            )
        print("note: the app or `atlas-desktop agent` must be running to receive events", file=sys.stderr)
        return EXIT_OK
    if args.action == "disable":
        repo.disable(args.id)
        webhook_secret_path(services.paths, args.id).unlink(missing_ok=True)
        print(f"webhook disabled for connection {args.id} (a running agent stops accepting within seconds)")
        return EXIT_OK
    if args.action == "list":
        rows = repo.list()
        items = [
            {
                "id": view.id,
                "connection_id": view.connection_id,
                "status": view.status.value,
                "url": webhook_url(view),
                "event_types": list(view.event_types),
                "last_received_at": view.last_received_at.isoformat() if view.last_received_at else None,
            }
            for view in rows
        ]
        if getattr(args, "json", False):
            print(json.dumps(items, indent=2))
            return EXIT_OK
        if not items:
            print("no webhooks yet: turn one on with `atlas-desktop webhooks enable ID`")
            return EXIT_OK
        cells = [[i["connection_id"], i["status"], i["last_received_at"], i["url"]] for i in items]
        for line in table(["CONNECTION", "STATUS", "LAST EVENT", "URL"], cells):
            print(line)
        return EXIT_OK
    raise AssertionError(args.action)


def run_api_key(args: argparse.Namespace, services: Services) -> int:
    keys = ApiKeyRepository(services.store, services.vault)
    key = keys.rotate() if args.action == "rotate" else keys.ensure()
    path = write_private_file(api_key_path(services.paths), key.reveal() + "\n")
    print(f"API key {'replaced' if args.action == 'rotate' else 'written'} to {path} (readable by you only)")
    print("send it as the X-API-Key header; e.g. curl -H @<(printf 'X-API-Key: %s' \"$(cat FILE)\") ...")
    return EXIT_OK
