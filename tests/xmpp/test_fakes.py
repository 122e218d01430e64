"""The fake XMPP server side of ``fakes.py`` reads what the link writes."""

from __future__ import annotations

from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase

from tests.xmpp.fakes import Connection


class FakeServerTests(SynchronousTestCase):
    """The fake server reads what it is given."""

    def test_reads_elements_across_writes(self) -> None:
        """Elements split over several writes are returned once complete."""
        transport = StringTransport()
        connection = Connection(object(), transport)
        transport.write(b"<stream:stream xmlns='jabber:component:accept' ")
        transport.write(b"xmlns:stream='http://etherx.jabber.org/streams'><message><bo")
        self.assertEqual(connection.read(), [])
        transport.write(b"dy>hi</body></message>")
        [message] = connection.read()
        self.assertEqual(str(message.body), "hi")
        self.assertIsNotNone(connection.header)
