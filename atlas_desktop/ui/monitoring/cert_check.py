"""Describe the certificate chain a host presents (subject, issuer, expiry), to diagnose a corporate proxy.

The handshake is made WITHOUT verification, only to read and describe what the host sends; nothing is
sent over the connection and it is closed at once. Python 3.11 has no public unverified-chain API, so
the chain comes from the private `_sslobj.get_unverified_chain()` when present, else just the leaf.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from atlas_desktop.domain.errors import ConfigError, NetworkError

_DER = getattr(ssl, "_ssl").ENCODING_DER  # noqa: B009 - the private module's constant, see docstring


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_after: datetime

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer


def parse_host(text: str) -> tuple[str, int]:
    """`host`, `host:port` or a URL -> (host, port); port 443 by default."""
    text = text.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    if not text:
        raise ConfigError("host", "is empty", fix="Enter a host name, e.g. my123456.s4hana.cloud.sap.")
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    try:
        return host, int(port) if port else 443
    except ValueError:
        raise ConfigError("host", f"'{port}' is not a port number", fix="Use host or host:port.") from None


def describe(der: bytes) -> CertInfo:
    cert = x509.load_der_x509_certificate(der)
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), cert.not_valid_after_utc)


def fetch_chain(host: str, port: int = 443, *, timeout: float = 8.0) -> list[CertInfo]:
    """Blocking (call it in a thread). The leaf first, then what the host sent after it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # describing only: nothing is trusted or sent
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                chain = getattr(getattr(tls, "_sslobj", None), "get_unverified_chain", None)
                ders = [c.public_bytes(_DER) for c in (chain() or [])] if chain else []
                if not ders:
                    leaf = tls.getpeercert(binary_form=True)
                    ders = [leaf] if leaf else []
    except (OSError, ssl.SSLError) as error:
        raise NetworkError(
            f"could not open a TLS connection to {host}:{port} ({error.__class__.__name__}: {error})",
            fix="Check the host name and port, and the proxy setting.",
        ) from None
    return [describe(der) for der in ders]
