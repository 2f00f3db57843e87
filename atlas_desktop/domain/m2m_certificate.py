"""The key pair and self-signed certificate for NetSuite OAuth 2.0 client credentials (M2M).

NetSuite takes the public certificate on its M2M Setup page and answers a Certificate ID; the private key
never leaves this computer. RSA 3072 signs PS256, the algorithm the connector uses
for RSA keys (NetSuite refuses RS256); 3072 bits is the size NIST keeps for use past 2030, and the
certificate lasts 2 years, NetSuite's maximum. Pure computation: the caller stores the key (vault) and
writes the certificate where the user can pick it for the upload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from atlas_desktop.domain.errors import ConfigError
from atlas_desktop.domain.secrets import Secret

RSA_BITS = 3072
CERTIFICATE_LIFETIME = timedelta(days=730)  # "Certificates last at most 2 years"
EXPIRY_WARNING = timedelta(days=30)  # the dashboard warns this long before notAfter
CERTIFICATE_EXPIRES = "certificate_expires"  # connection setting: notAfter, ISO 8601 UTC (not a secret)
PENDING_KEY = "pending_private_key"  # connection secret: a renewal's new key, until its ID yields a token


@dataclass(frozen=True)
class M2MCertificate:
    """A new key pair: the public certificate to upload, the private key to seal, and the validity."""

    certificate_pem: str
    not_after: datetime
    private_key: Secret = field(repr=False)


def generate_m2m_certificate(now: datetime, subject: str = "Atlas Desktop") -> M2MCertificate:
    """A fresh RSA 3072 key and a self-signed certificate valid from `now` (aware, UTC) for 2 years."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{subject} NetSuite integration"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Atlas Desktop"),
        ]
    )
    # A few minutes' slack before now: NetSuite's clock may be behind ours at the upload.
    start = now - timedelta(minutes=5)
    not_after = (now + CERTIFICATE_LIFETIME).replace(microsecond=0)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return M2MCertificate(
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        not_after=certificate.not_valid_after_utc,
        private_key=Secret(private.decode("ascii")),
    )


def uploaded_certificate_expiry(certificate_pem: str, private_key: Secret) -> datetime:
    """The notAfter of a certificate the customer uploaded themselves (an imported connection), checked to
    be the private key's pair: a wrong file would make every expiry warning about another key."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ConfigError(
            "certificate", "is not a PEM certificate",
            fix="Give the .pem or .crt file you uploaded to NetSuite (-----BEGIN CERTIFICATE-----).",
        ) from None  # fmt: skip
    key = serialization.load_pem_private_key(private_key.reveal().encode("ascii"), password=None)
    der, spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(der, spki) != key.public_key().public_bytes(der, spki):
        raise ConfigError(
            "certificate", "is not the certificate of this private key",
            fix="Give the certificate made together with the private key (the one uploaded to NetSuite).",
        )  # fmt: skip
    return certificate.not_valid_after_utc


def expires_soon(not_after: datetime | None, now: datetime) -> bool:
    """True from 30 days before the certificate's notAfter (and after it)."""
    return not_after is not None and not_after - now <= EXPIRY_WARNING


def parse_not_after(value: object) -> datetime | None:
    """The stored `certificate_expires` setting as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
