"""The sandbox customer's own M2M key pair and self-signed certificate (what the app would generate)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

CERTIFICATE_LIFETIME = timedelta(days=730)  # NetSuite's maximum


def generate_key(kind: str = "rsa") -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    now: datetime,
    lifetime: timedelta = CERTIFICATE_LIFETIME,
) -> bytes:
    """A PEM certificate for `key`, valid from `now` for `lifetime`: what the M2M setup page takes."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Atlas Desktop NetSuite integration")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now - timedelta(minutes=5) + lifetime)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def private_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_private_key(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    """Write the PEM key readable by the owner only, as a customer would keep it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(private_pem(key))
    return path
