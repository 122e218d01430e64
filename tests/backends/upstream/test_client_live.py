"""The upstream client over real loopback sockets: pool, refused connections, HTTPS checks."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.protocol import Factory
from twisted.internet.ssl import CertificateOptions, PrivateCertificate
from twisted.trial import unittest
from twisted.web.server import Site

from gateway.backends.upstream.client import UpstreamClient
from gateway.config.model import UpstreamConfig, UpstreamTls
from gateway.engine.errors import Unavailable
from tests.backends.upstream.helpers import CannedApi
from tests.certs import self_signed_pem


class _Counting(Site):
    """A Site that counts the connections it accepted."""

    connections = 0

    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802
        self.connections += 1
        return super().buildProtocol(addr)


class LiveTests(unittest.TestCase):
    def setUp(self) -> None:
        self.api = CannedApi({"/api/registered_users": (200, ["alice"])})
        self.site = _Counting(self.api)
        self.clients: list[UpstreamClient] = []

    def tearDown(self) -> Deferred[Any]:
        return ensureDeferred(self._close())

    async def _close(self) -> None:
        for client in self.clients:
            await client.close()

    def _client(self, url: str, **tls: Any) -> UpstreamClient:
        config = UpstreamConfig(
            url=url, user="gw@localhost", password="pw", timeout=10, tls=UpstreamTls(**tls)
        )
        client = UpstreamClient(config, reactor)
        self.clients.append(client)
        return client

    def _listen(self, context: CertificateOptions | None = None) -> int:
        if context is None:
            port = reactor.listenTCP(0, self.site, interface="127.0.0.1")
        else:
            port = reactor.listenSSL(0, self.site, context, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    async def test_persistent_connection(self) -> None:
        """Two calls in a row reuse one pooled connection."""
        port = self._listen()
        client = self._client(f"http://127.0.0.1:{port}/api")
        self.assertEqual(await client.call("registered_users", {"host": "h"}), ["alice"])
        self.assertEqual(await client.call("registered_users", {"host": "h"}), ["alice"])
        self.assertEqual(self.site.connections, 1)

    async def test_connection_refused(self) -> None:
        """Nothing listening: Unavailable naming the upstream."""
        listening = reactor.listenTCP(0, Factory(), interface="127.0.0.1")
        port = listening.getHost().port
        await listening.stopListening()
        client = self._client(f"http://127.0.0.1:{port}/api")
        with self.assertRaises(Unavailable) as raised:
            await client.call("registered_users", {"host": "h"})
        self.assertIn(f"127.0.0.1:{port}/api is unavailable", raised.exception.message)

    def _tls_server(self, name: str) -> tuple[int, str]:
        cert_pem, key_pem = self_signed_pem(name, ips=("127.0.0.1",))
        context = PrivateCertificate.loadPEM(cert_pem + key_pem).options()
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        ca = Path(directory.name) / "ca.pem"
        ca.write_bytes(cert_pem)
        return self._listen(context), str(ca)

    async def test_https_with_custom_ca(self) -> None:
        """HTTPS to a certificate from the configured CA file, naming the host, works."""
        port, ca = self._tls_server("localhost")
        client = self._client(f"https://localhost:{port}/api", ca=ca)
        self.assertEqual(await client.call("registered_users", {"host": "h"}), ["alice"])

    async def test_https_wrong_host_is_refused(self) -> None:
        """A certificate for another name is refused (hostname checked): Unavailable."""
        port, ca = self._tls_server("other.example")
        client = self._client(f"https://localhost:{port}/api", ca=ca)
        with self.assertRaises(Unavailable) as raised:
            await client.call("registered_users", {"host": "h"})
        self.assertIn("is unavailable", raised.exception.message)
        self.assertEqual(self.api.seen, [])

    async def test_https_unknown_ca_is_refused(self) -> None:
        """A certificate from an authority the client does not trust is refused."""
        port, _ = self._tls_server("localhost")
        client = self._client(f"https://localhost:{port}/api")
        with self.assertRaises(Unavailable):
            await client.call("registered_users", {"host": "h"})
        self.assertEqual(self.api.seen, [])

    async def test_https_without_verification(self) -> None:
        """verify: false accepts any certificate (and warns)."""
        port, _ = self._tls_server("other.example")
        client = self._client(f"https://localhost:{port}/api", verify=False)
        self.assertEqual(await client.call("registered_users", {"host": "h"}), ["alice"])
