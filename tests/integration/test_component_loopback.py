"""The component link over a real TCP socket, against Twisted's in-process component router.

Twisted's ``XMPPComponentServerFactory(Router(), secret)`` plays the XMPP
server's component port on 127.0.0.1; a routed "localhost" domain records
what reaches it and answers pings, as a server would.  This proves the
handshake, delivery in order, confirmation by ping and a reconnect through
the real endpoint and ClientService code.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet import reactor as global_reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from twisted.words.protocols.jabber import component, xmlstream
from twisted.words.xish import domish, utility

from gateway.backends.embedded import StoreOutbox, open_store
from gateway.config.model import ComponentConfig
from gateway.xmpp.link import ComponentLink

SECRET = "loopback-secret"
COMPONENT = "rest.localhost"


class LocalDomain(utility.EventDispatcher):
    """The router's route for ``localhost``: keeps stanzas, answers pings."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[domish.Element] = []
        self.pings = 0

    def send(self, stanza: domish.Element) -> None:
        if stanza.name == "iq" and any(c.name == "ping" for c in stanza.elements()):
            self.pings += 1
            self.dispatch(xmlstream.toResponse(stanza, "result"))
            return
        self.received.append(stanza)


async def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait on the real reactor until ``condition()`` holds."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError("condition not met in time")
        await deferLater(global_reactor, 0.02, lambda: None)
        waited += 0.02


class LoopbackTests(TestCase):
    """Handshake and delivery over 127.0.0.1 with the real reactor."""

    timeout = 30

    async def setUp(self) -> None:  # type: ignore[override]
        self.router = component.Router()
        self.domain = LocalDomain()
        self.router.addRoute("localhost", self.domain)
        self.factory = component.XMPPComponentServerFactory(self.router, SECRET)
        self.port = await serverFromString(global_reactor, "tcp:0:interface=127.0.0.1").listen(
            self.factory
        )
        self.addCleanup(self.port.stopListening)
        directory = Path(tempfile.mkdtemp(prefix="xmpp-loopback-"))
        self.addCleanup(shutil.rmtree, directory, True)
        store = open_store(f"sqlite:{directory}/queue.sqlite3", global_reactor)
        self.addCleanup(store.close)
        self.queue = StoreOutbox(store)

    def make_link(self, secret: str = SECRET) -> ComponentLink:
        config = ComponentConfig(
            jid=COMPONENT, secret=secret, host="127.0.0.1", port=self.port.getHost().port
        )
        link = ComponentLink(config, self.queue, global_reactor, initial_delay=0.1)
        link.startService()
        self.addCleanup(link.stopService)
        return link

    def bodies(self) -> list[str]:
        return [str(s.body) for s in self.domain.received if s.body is not None]

    async def test_handshake_and_delivery(self) -> None:
        """Queued messages reach the routed domain in order and leave the queue once pinged."""
        link = self.make_link()
        for n in range(20):
            await link.submit(f"<message to='user@localhost'><body>m{n}</body></message>")
        await eventually(lambda: len(self.domain.received) == 20)
        self.assertEqual(self.bodies(), [f"m{n}" for n in range(20)])
        self.assertTrue(all(s["from"] == COMPONENT for s in self.domain.received))
        await eventually(lambda: link.state().queued == 0)
        self.assertGreaterEqual(self.domain.pings, 1)
        self.assertEqual(await self.queue.count(), 0)
        self.assertTrue(link.state().connected)

    async def test_reconnect_after_server_drops(self) -> None:
        """When the server drops the stream, the link reconnects and keeps delivering."""
        link = self.make_link()
        await eventually(lambda: link.state().connected)
        server_side: Any = self.router.routes[COMPONENT]
        server_side.transport.loseConnection()
        await eventually(lambda: not link.state().connected)
        await link.submit("<message to='user@localhost'><body>after</body></message>")
        await eventually(lambda: "after" in self.bodies())
        self.assertTrue(link.state().connected)

    async def test_wrong_secret_never_authenticates(self) -> None:
        """A wrong secret is refused by the server and nothing is delivered."""
        link = self.make_link(secret="wrong")
        await link.submit("<message to='user@localhost'><body>x</body></message>")
        waited: Deferred[None] = deferLater(global_reactor, 0.5, lambda: None)
        await waited
        self.assertFalse(link.state().connected)
        self.assertEqual(self.domain.received, [])
        self.assertEqual(await self.queue.count(), 1)
