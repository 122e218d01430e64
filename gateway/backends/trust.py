"""A custom certificate authority file, as the trust root of a TLS client connection."""

from __future__ import annotations

import re
from pathlib import Path

# the interface is only defined there; twisted.internet.ssl does not export it
from twisted.internet._sslverify import IOpenSSLTrustRoot
from twisted.internet.ssl import Certificate, trustRootFromCertificates

__all__ = ["ca_trust_root"]

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def ca_trust_root(ca: str) -> IOpenSSLTrustRoot:
    """Trust exactly the certificates in the PEM file ``ca`` (read now).

    Raises:
        ValueError: ``ca`` holds no PEM certificate.
        OSError: ``ca`` cannot be read.
    """
    pems = _PEM.findall(Path(ca).read_bytes())
    if not pems:
        raise ValueError(f"{ca} holds no PEM certificate")
    return trustRootFromCertificates([Certificate.loadPEM(pem) for pem in pems])
