"""Compact JWS verification for the emulator's token endpoint, on `cryptography` alone.

Deliberately not the connector's JOSE library: a bug in how the JWT is made must not hide on both sides
of the wire. Only what NetSuite accepts is implemented (RSA-PSS and ECDSA).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ALGORITHMS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")  # RS256 is not accepted
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}
_EC_SIZE = {"ES256": 32, "ES384": 48, "ES512": 66}


class Malformed(ValueError):
    """The assertion is not a compact JWS with JSON header and payload."""


@dataclass(frozen=True)
class Jws:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _b64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise Malformed("not base64url") from None


def _object(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64(part))
    except (ValueError, UnicodeDecodeError):
        raise Malformed("not JSON") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


def parse(token: str) -> Jws:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise Malformed("not three dot-separated parts")
    return Jws(_object(parts[0]), _object(parts[1]), f"{parts[0]}.{parts[1]}".encode(), _b64(parts[2]))


def verify(jws: Jws, public_key: Any) -> bool:
    """True if the signature matches `public_key` under the header's algorithm (one of ALGORITHMS)."""
    alg = str(jws.header.get("alg"))
    if alg not in ALGORITHMS:
        return False
    digest = _HASHES[alg[2:]]()
    try:
        if alg.startswith("PS") and isinstance(public_key, rsa.RSAPublicKey):
            # RFC 7518 §3.5: MGF1 with the same hash, salt length = hash length
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            public_key.verify(jws.signature, jws.signing_input, pss, digest)
            return True
        if alg.startswith("ES") and isinstance(public_key, ec.EllipticCurvePublicKey):
            size = _EC_SIZE[alg]
            if len(jws.signature) != 2 * size:  # RFC 7518 §3.4: raw R || S, not DER
                return False
            r = int.from_bytes(jws.signature[:size], "big")
            s = int.from_bytes(jws.signature[size:], "big")
            public_key.verify(encode_dss_signature(r, s), jws.signing_input, ec.ECDSA(digest))
            return True
    except InvalidSignature:
        return False
    return False
