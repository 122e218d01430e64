"""How the upstream's HTTPS certificate is checked.

Verified by default: the certificate must chain to the system's authorities,
or to the configured ``ca`` file, and name the URL's host (pyOpenSSL with
service-identity, through Twisted's ``BrowserLikePolicyForHTTPS``).  ``verify:
false`` accepts any certificate; the client warns about it loudly.
"""

from __future__ import annotations

from OpenSSL import SSL
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.ssl import CertificateOptions
from twisted.web.client import BrowserLikePolicyForHTTPS
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from gateway.backends.trust import ca_trust_root

__all__ = ["UnverifiedPolicy", "tls_policy"]


def tls_policy(ca: str | None, verify: bool) -> IPolicyForHTTPS:
    """The policy the HTTP agent asks for each ``https`` host.

    Raises:
        ValueError: ``ca`` holds no PEM certificate.
        OSError: ``ca`` cannot be read.
    """
    if not verify:
        return UnverifiedPolicy()
    if ca is None:
        return BrowserLikePolicyForHTTPS()
    return BrowserLikePolicyForHTTPS(ca_trust_root(ca))


@implementer(IOpenSSLClientConnectionCreator)
class _Unverified:
    """TLS that names the host (SNI) but accepts whatever certificate comes back."""

    def __init__(self, hostname: bytes) -> None:
        self._hostname = hostname
        self._context = CertificateOptions().getContext()

    def clientConnectionForTLS(self, tlsProtocol: object) -> SSL.Connection:
        connection = SSL.Connection(self._context, None)
        connection.set_app_data(tlsProtocol)
        connection.set_tlsext_host_name(self._hostname)
        return connection


@implementer(IPolicyForHTTPS)
class UnverifiedPolicy:
    """``tls.verify: false``: encryption without authentication."""

    def creatorForNetloc(self, hostname: bytes, port: int) -> IOpenSSLClientConnectionCreator:
        return _Unverified(hostname)
