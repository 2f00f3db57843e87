"""An independent M2M client for the emulator tests: JWTs made with joserfc, not with our connector."""

from __future__ import annotations

import time
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from atlas_desktop.sandbox.netsuite import NetSuiteEmulator
from atlas_desktop.sandbox.netsuite.m2m import ASSERTION_TYPE, DEFAULT_ROLE, TOKEN_PATH
from atlas_desktop.sandbox.netsuite.m2m_keys import generate_key, private_pem, self_signed

from .conftest import HOST


class Customer:
    """A customer who made a key pair and uploaded its certificate: what it signs assertions with."""

    def __init__(self, emulator: NetSuiteEmulator, kind: str = "rsa") -> None:
        self.emulator = emulator
        key = generate_key(kind)
        self.certificate_id = emulator.m2m.upload_certificate(
            emulator.integration.client_id, "Atlas Integration User", DEFAULT_ROLE,
            self_signed(key, emulator.clock()),
        )  # fmt: skip
        pem = private_pem(key)
        self.jwk = ECKey.import_key(pem) if kind == "ec" else RSAKey.import_key(pem)
        self.alg = "ES256" if kind == "ec" else "PS256"

    def assertion(self, *, header: dict[str, Any] | None = None, **claims: Any) -> str:
        now = int(self.emulator.clock().timestamp())
        head = {"typ": "JWT", "alg": self.alg, "kid": self.certificate_id, **(header or {})}
        payload = {
            "iss": self.emulator.integration.client_id,
            "scope": "rest_webservices",
            "aud": HOST + TOKEN_PATH,
            "iat": now,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(head, payload, self.jwk, algorithms=[head["alg"]])

    async def ask(self, http: httpx.AsyncClient, assertion: str) -> httpx.Response:
        return await http.post(
            TOKEN_PATH,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )


def plain_client(emulator: NetSuiteEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator.app), base_url=HOST)


def since(seconds: float) -> int:
    return int(time.time() + seconds)
