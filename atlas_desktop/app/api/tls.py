"""A self-signed certificate for the local API when it listens beyond loopback (kept in the profile)."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from atlas_desktop.app.api.local_files import private_dir, write_private_file

VALID_DAYS = 825  # the longest lifetime common TLS clients still accept for a leaf certificate


def _names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    hostname = socket.gethostname()
    if hostname:
        names.append(x509.DNSName(hostname))
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host and host != hostname:
            names.append(x509.DNSName(host))
    else:
        if not address.is_unspecified and not address.is_loopback:
            names.append(x509.IPAddress(address))
    return names


def _covers(cert: x509.Certificate, host: str) -> bool:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    wanted = set(map(str, _names(host)))
    return wanted <= set(map(str, sans))


def ensure_certificate(root: Path, host: str, *, now: datetime | None = None) -> tuple[Path, Path, str]:
    """(cert file, key file, SHA-256 fingerprint): reused while valid for 30 more days and covering `host`."""
    folder = private_dir(root)
    cert_path, key_path = folder / "tls-cert.pem", folder / "tls-key.pem"
    now = now or datetime.now(UTC)
    if cert_path.exists() and key_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if cert.not_valid_after_utc - now > timedelta(days=30) and _covers(cert, host):
            return cert_path, key_path, cert.fingerprint(hashes.SHA256()).hex(":")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Atlas Desktop local API")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_names(host)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private_file(key_path, key_pem.decode())
    write_private_file(cert_path, cert.public_bytes(serialization.Encoding.PEM).decode())
    return cert_path, key_path, cert.fingerprint(hashes.SHA256()).hex(":")
