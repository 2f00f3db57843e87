"""Starlette routes of the M2M flow: the token endpoint and the sandbox's certificate upload / revoke."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from atlas_desktop.sandbox.netsuite.m2m import TOKEN_PATH, M2MSetup, SetupError, TokenError

UPLOAD_PATH = "/_sandbox/netsuite/m2m/certificates"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


def _plain(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json", headers=headers)


def m2m_routes(setup: M2MSetup, base_url: Callable[[Request], str]) -> list[Route]:
    async def token(request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            error = TokenError(400, "invalid_request", "The request must be form-encoded.",
                               "token request body not application/x-www-form-urlencoded")  # fmt: skip
            setup.failures.append(error.reason)
            return _plain(error.body(), 400, _NO_STORE)
        # parse_qsl, not request.form(): starlette's needs python-multipart, which we do not ship
        fields = dict(parse_qsl((await request.body()).decode("latin-1"), keep_blank_values=True))
        try:
            answer = setup.grant(fields, base_url(request) + TOKEN_PATH)
        except TokenError as exc:
            return _plain(exc.body(), exc.status, _NO_STORE)
        return _plain(answer, 200, _NO_STORE)

    async def upload(request: Request) -> Response:
        """As the M2M setup page: application (client id), entity, role and the certificate file."""
        try:
            body = json.loads(await request.body())
            certificate_id = setup.upload_certificate(
                str(body["client_id"]),
                str(body.get("entity") or "Atlas Integration User"),
                str(body.get("role") or next(iter(setup.roles))),
                str(body["certificate"]).encode(),
            )
        except (ValueError, KeyError, TypeError) as exc:
            detail = str(exc) if isinstance(exc, SetupError) else "Give client_id and certificate (PEM)."
            return _plain({"error": detail}, 400)
        mapping = setup.certificates[certificate_id]
        return _plain({"certificate_id": certificate_id, "valid_until": mapping.not_after.isoformat()}, 201)

    async def revoke(request: Request) -> Response:
        certificate_id = request.path_params["certificate_id"]
        if certificate_id not in setup.certificates:
            return _plain({"error": "no such certificate"}, 404)
        setup.revoke(certificate_id)
        return Response(status_code=204)

    return [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(UPLOAD_PATH + "/{certificate_id}/revoke", revoke, methods=["POST"]),
    ]
