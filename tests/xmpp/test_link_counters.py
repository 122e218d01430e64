"""The link's counters for metrics: reconnections and stanzas accepted into the queue."""

from __future__ import annotations

from tests.xmpp.fakes import bodies
from tests.xmpp.test_link import LinkTestCase, message


class LinkCounterTests(LinkTestCase):
    def test_reconnects_count_streams_after_the_first(self) -> None:
        """``reconnects`` stays 0 for the first stream and grows by one per stream that
        comes back up after a loss."""
        link = self.make_link()
        self.assertEqual(link.state().reconnects, 0)
        connection, _ = self.server.connect()
        self.assertEqual(link.state().reconnects, 0)
        for expected in (1, 2):
            connection.drop()
            self.reactor.advance(5)
            connection, _ = self.server.connect()
            self.assertEqual(link.state().reconnects, expected)

    def test_refused_handshakes_are_not_reconnects(self) -> None:
        """A connection refused at the handshake is no reconnection."""
        link = self.make_link(secret="wrong")
        connection = self.server.accept()
        connection.open_stream()
        connection.feed(
            "<stream:error><not-authorized "
            "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
        )
        connection.drop()
        self.reactor.advance(5)
        self.server.accept()
        self.assertEqual(link.state().reconnects, 0)

    def test_accepted_counts_stored_stanzas(self) -> None:
        """``accepted`` counts the stanzas stored in the queue, confirmed or not."""
        link = self.make_link()
        connection, _ = self.server.connect()
        self.submit(link, message("one"))
        self.submit(link, message("two"))
        self.assertEqual(bodies(connection.read()), ["one", "two"])
        self.assertEqual(link.state().accepted, 2)
