"""``gateway.auth: xmpp``: the SASL login check, against a scripted in-memory server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.xmpp.login import XmppLoginVerifier, c2s_tls_options
from gateway.engine.errors import GatewayTimeout, Unavailable
from gateway.offload import DEFAULT_THRESHOLD

HEADER = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>"
)
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"


def features(*mechanisms: str, starttls: str | None = None) -> str:
    """<stream:features/> with ``mechanisms`` and STARTTLS (``""`` or ``"required"``) if given."""
    parts = []
    if starttls is not None:
        inner = "<required/>" if starttls == "required" else ""
        parts.append(f"<starttls xmlns='{NS_TLS}'>{inner}</starttls>")
    if mechanisms:
        listed = "".join(f"<mechanism>{m}</mechanism>" for m in mechanisms)
        parts.append(f"<mechanisms xmlns='{NS_SASL}'>{listed}</mechanisms>")
    return "<stream:features>" + "".join(parts) + "</stream:features>"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class ScramServer:
    """The server side of SCRAM-SHA-1, written from RFC 5802 independently of the client."""

    def __init__(
        self, password: str, salt: bytes = b"0123456789ab", iterations: int = 4096
    ) -> None:
        self.salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt, iterations)
        self.salt, self.iterations = salt, iterations
        self.client_bare = b""
        self.server_first = b""

    def first(self, client_first: bytes) -> bytes:
        assert client_first.startswith(b"n,,")
        self.client_bare = client_first[3:]
        nonce = dict(p.split(b"=", 1) for p in self.client_bare.split(b","))[b"r"]
        self.server_first = b"r=" + nonce + b"SERVER,s=" + base64.b64encode(self.salt)
        self.server_first += b",i=" + str(self.iterations).encode()
        return self.server_first

    def final(self, client_final: bytes) -> bytes | None:
        """The verifier when the proof is right, None when it is not."""
        without_proof, _, proof = client_final.rpartition(b",p=")
        auth = self.client_bare + b"," + self.server_first + b"," + without_proof

        def mac(key: bytes, data: bytes) -> bytes:
            return hmac.new(key, data, "sha1").digest()

        stored = hashlib.sha1(mac(self.salted, b"Client Key")).digest()
        signature = mac(stored, auth)
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=True))
        if hashlib.sha1(client_key).digest() != stored:
            return None
        return b"v=" + base64.b64encode(mac(mac(self.salted, b"Server Key"), auth))


class TlsTransport(StringTransport):
    """A transport that records STARTTLS instead of doing it."""

    tls: Any = None

    def startTLS(self, options: Any) -> None:  # noqa: N802 - Twisted's name
        self.tls = options


class Connection:
    """One client connection to the scripted server."""

    def __init__(self, protocol: Protocol, transport: TlsTransport) -> None:
        self.protocol = protocol
        self.transport = transport

    def sent(self) -> str:
        """What the client wrote since the last call."""
        data = self.transport.value().decode()
        self.transport.clear()
        return data

    def feed(self, text: str) -> None:
        self.protocol.dataReceived(text.encode())

    def element(self, name: str) -> tuple[dict[str, str], bytes]:
        """The attributes and decoded base64 content of the one <name/> the client sent."""
        data = self.sent()
        found = re.search(rf"<{name}([^>]*?)(?:/>|>([^<]*)</{name}>)", data)
        assert found, f"no <{name}> in {data!r}"
        attrs = dict(re.findall(r"(\w+)=['\"]([^'\"]*)['\"]", found.group(1)))
        text = found.group(2) or ""
        return attrs, b"" if text in ("", "=") else base64.b64decode(text)

    def lose(self) -> None:
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        self.protocol.connectionLost(Failure(ConnectionDone()))


class FakeEndpoint:
    """Connects each factory to an in-memory transport, or refuses, or never answers."""

    def __init__(self, peer: str = "127.0.0.1") -> None:
        self.peer = peer
        self.connections: list[Connection] = []
        self.refuse = False
        self.hang = False
        self.pending: list[Deferred[Any]] = []

    def connect(self, factory: Factory) -> Deferred[Any]:
        if self.refuse:
            return fail(ConnectionRefusedError())
        if self.hang:
            d: Deferred[Any] = Deferred()
            self.pending.append(d)
            return d
        address = IPv4Address("TCP", self.peer, 5222)
        protocol = factory.buildProtocol(address)
        assert protocol is not None
        transport = TlsTransport(peerAddress=address)
        protocol.makeConnection(transport)
        self.connections.append(Connection(protocol, transport))
        d = Deferred()
        d.callback(protocol)
        return d


class Case(SynchronousTestCase):
    def setUp(self) -> None:
        self.clock = MemoryReactorClock()
        self.endpoint = FakeEndpoint()

    def verifier(self, **options: Any) -> XmppLoginVerifier:
        options.setdefault("timeout", 10.0)
        return XmppLoginVerifier(self.clock, self.endpoint, ["localhost"], **options)

    def open(self, offer: str, index: int = -1) -> Connection:
        """The client's connection, after it sent its header and got ``offer`` back."""
        conn = self.endpoint.connections[index]
        header = conn.sent()
        assert "<stream:stream" in header and "to='localhost'" in header
        assert "jabber:client" in header
        conn.feed(HEADER + offer)
        return conn

    def scram(self, conn: Connection, server_password: str) -> bytes | None:
        """Run SCRAM as a server knowing ``server_password``; the verifier if the proof held."""
        server = ScramServer(server_password)
        attrs, first = conn.element("auth")
        assert attrs["mechanism"] == "SCRAM-SHA-1"
        conn.feed(f"<challenge xmlns='{NS_SASL}'>{b64(server.first(first))}</challenge>")
        _, final = conn.element("response")
        return server.final(final)


class LoginTests(Case):
    def test_right_password(self) -> None:
        """The server accepts the SCRAM proof and proves its key: True, and the stream closes."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("PLAIN", "SCRAM-SHA-1"))
        verifier = self.scram(conn, "secret")
        assert verifier is not None
        self.assertNoResult(d)
        conn.feed(f"<success xmlns='{NS_SASL}'>{b64(verifier)}</success>")
        self.assertIs(self.successResultOf(d), True)
        self.assertIn("</stream:stream>", conn.sent())
        self.assertTrue(conn.transport.disconnecting)

    def test_wrong_password(self) -> None:
        """``not-authorized`` is a refused password: False, never an error."""
        d = self.verifier().check("alice", "localhost", "wrong")
        conn = self.open(features("SCRAM-SHA-1"))
        self.assertIsNone(self.scram(conn, "secret"))
        conn.feed(f"<failure xmlns='{NS_SASL}'><not-authorized/></failure>")
        self.assertIs(self.successResultOf(d), False)
        self.assertTrue(conn.transport.disconnecting)

    def test_disabled_account(self) -> None:
        """``account-disabled`` (a banned account) also answers False."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        self.scram(conn, "secret")
        conn.feed(f"<failure xmlns='{NS_SASL}'><account-disabled/></failure>")
        self.assertIs(self.successResultOf(d), False)

    def test_other_sasl_failure_is_no_verdict(self) -> None:
        """``temporary-auth-failure`` is the server's trouble: Unavailable naming it, not False."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        conn.sent()
        conn.feed(f"<failure xmlns='{NS_SASL}'><temporary-auth-failure/></failure>")
        error = self.failureResultOf(d, Unavailable).value
        self.assertIn("temporary-auth-failure", str(error))

    def test_forged_success(self) -> None:
        """A success whose server signature is wrong is never taken as an accepted password."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        self.scram(conn, "secret")
        conn.feed(
            f"<success xmlns='{NS_SASL}'>{b64(b'v=' + base64.b64encode(bytes(20)))}</success>"
        )
        error = self.failureResultOf(d, Unavailable).value
        self.assertIn("signature", str(error))

    def test_verifier_as_last_challenge(self) -> None:
        """A server sending its verifier as a challenge, then an empty success, is accepted."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        verifier = self.scram(conn, "secret")
        assert verifier is not None
        conn.feed(f"<challenge xmlns='{NS_SASL}'>{b64(verifier)}</challenge>")
        conn.element("response")
        conn.feed(f"<success xmlns='{NS_SASL}'/>")
        self.assertIs(self.successResultOf(d), True)

    def test_success_without_proof(self) -> None:
        """An empty success before the server proved its key is no verdict."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        self.scram(conn, "secret")
        conn.feed(f"<success xmlns='{NS_SASL}'/>")
        self.failureResultOf(d, Unavailable)

    def test_plain_on_loopback(self) -> None:
        """Only PLAIN offered, server on loopback: PLAIN carries the user and password."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("PLAIN"))
        attrs, payload = conn.element("auth")
        self.assertEqual((attrs["mechanism"], payload), ("PLAIN", b"\0alice\0secret"))
        conn.feed(f"<success xmlns='{NS_SASL}'/>")
        self.assertIs(self.successResultOf(d), True)

    def test_no_plain_in_clear_to_a_remote_server(self) -> None:
        """PLAIN over an unencrypted stream to another machine is refused: no password is sent."""
        self.endpoint.peer = "192.0.2.7"
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("PLAIN", "DIGEST-MD5"))
        self.assertNotIn("secret", conn.sent())
        self.assertNotIn(b64(b"\0alice\0secret"), conn.transport.value().decode())
        error = self.failureResultOf(d, Unavailable).value
        self.assertIn("PLAIN, DIGEST-MD5", str(error))

    def test_starttls_when_offered(self) -> None:
        """STARTTLS offered: the client negotiates it, restarts the stream, then may use PLAIN."""
        self.endpoint.peer = "192.0.2.7"
        options = object()
        d = self.verifier(tls_options=options).check("alice", "localhost", "secret")
        conn = self.open(features("PLAIN", starttls=""))
        self.assertIn("<starttls", conn.sent())
        conn.feed(f"<proceed xmlns='{NS_TLS}'/>")
        self.assertIs(conn.transport.tls, options)
        self.assertIn("<stream:stream", conn.sent())
        conn.feed(HEADER + features("PLAIN"))
        attrs, payload = conn.element("auth")
        self.assertEqual((attrs["mechanism"], payload), ("PLAIN", b"\0alice\0secret"))
        conn.feed(f"<success xmlns='{NS_SASL}'/>")
        self.assertIs(self.successResultOf(d), True)

    def test_starttls_refused_by_server(self) -> None:
        """The server answering STARTTLS with <failure/> is no verdict."""
        d = self.verifier(tls_options=object()).check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1", starttls=""))
        conn.sent()
        conn.feed(f"<failure xmlns='{NS_TLS}'/>")
        self.assertIn("STARTTLS", str(self.failureResultOf(d, Unavailable).value))

    def test_tls_required_by_us_but_not_offered(self) -> None:
        """``c2s_tls: required`` and no STARTTLS on offer: Unavailable, no password sent."""
        d = self.verifier(tls_mode="required").check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1", "PLAIN"))
        self.assertNotIn("<auth", conn.sent())
        self.assertIn("required", str(self.failureResultOf(d, Unavailable).value))

    def test_tls_required_by_server_but_never(self) -> None:
        """The server requires STARTTLS and ``c2s_tls: never``: Unavailable saying so."""
        d = self.verifier(tls_mode="never").check("alice", "localhost", "secret")
        self.open(features("SCRAM-SHA-1", starttls="required"))
        self.assertIn("requires STARTTLS", str(self.failureResultOf(d, Unavailable).value))

    def test_no_sasl_offered(self) -> None:
        """A server offering no SASL at all is no verdict."""
        d = self.verifier().check("alice", "localhost", "secret")
        self.open(features())
        self.assertIn("no SASL", str(self.failureResultOf(d, Unavailable).value))

    def test_stream_error(self) -> None:
        """A stream error (e.g. host-unknown) is Unavailable naming the condition, not a refusal."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.endpoint.connections[0]
        conn.feed(
            HEADER + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
            "</stream:error>"
        )
        self.assertIn("host-unknown", str(self.failureResultOf(d, Unavailable).value))

    def test_unreadable_xml(self) -> None:
        """Garbage instead of XML is no verdict."""
        d = self.verifier().check("alice", "localhost", "secret")
        self.endpoint.connections[0].feed("<<<>>> not xml")
        self.failureResultOf(d, Unavailable)

    def test_connection_closed_midway(self) -> None:
        """The server hanging up during SASL is no verdict."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        conn.lose()
        self.assertIn("closed", str(self.failureResultOf(d, Unavailable).value))

    def test_connection_refused(self) -> None:
        """Nothing listening: Unavailable saying it cannot connect."""
        self.endpoint.refuse = True
        d = self.verifier().check("alice", "localhost", "secret")
        self.assertIn("cannot connect", str(self.failureResultOf(d, Unavailable).value))

    def test_silence_times_out(self) -> None:
        """A server that never answers: GatewayTimeout after ``timeout`` seconds, connection cut."""
        d = self.verifier(timeout=7).check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        self.clock.advance(6.9)
        self.assertNoResult(d)
        self.clock.advance(0.2)
        self.assertIn("7 s", str(self.failureResultOf(d, GatewayTimeout).value))
        self.assertTrue(conn.transport.disconnecting)

    def test_connecting_times_out(self) -> None:
        """A connection that never completes is cancelled at the timeout."""
        self.endpoint.hang = True
        d = self.verifier(timeout=3).check("alice", "localhost", "secret")
        self.clock.advance(3)
        self.failureResultOf(d, GatewayTimeout)
        self.assertTrue(self.endpoint.pending[0].called)  # cancelled

    def test_no_lingering_connection(self) -> None:
        """A server that does not close after the verdict is cut off after a grace period."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("PLAIN"))
        conn.feed(f"<success xmlns='{NS_SASL}'/>")
        self.successResultOf(d)
        self.clock.advance(10)
        self.assertTrue(conn.transport.disconnected)

    def test_unserved_host(self) -> None:
        """An account on a host the server does not serve is refused without a connection."""
        d = self.verifier().check("alice", "elsewhere.example", "secret")
        self.assertIs(self.successResultOf(d), False)
        self.assertEqual(self.endpoint.connections, [])

    def test_hashing_is_offloaded(self) -> None:
        """PBKDF2 goes through the offload; the proof is sent only once it is done."""
        jobs: list[tuple[int, Any, Deferred[bytes]]] = []

        def offload(size: int, fn: Any, *args: Any) -> Deferred[bytes]:
            d: Deferred[bytes] = Deferred()
            jobs.append((size, lambda: fn(*args), d))
            return d

        d = self.verifier(offload=offload).check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        server = ScramServer("secret")
        _, first = conn.element("auth")
        conn.feed(f"<challenge xmlns='{NS_SASL}'>{b64(server.first(first))}</challenge>")
        self.assertEqual(conn.sent(), "")
        size, fn, job = jobs[0]
        self.assertGreaterEqual(size, DEFAULT_THRESHOLD)  # a real ThreadOffload uses its thread
        job.callback(fn())
        _, final = conn.element("response")
        verifier = server.final(final)
        assert verifier is not None
        conn.feed(f"<success xmlns='{NS_SASL}'>{b64(verifier)}</success>")
        self.assertIs(self.successResultOf(d), True)

    def test_concurrency_is_bounded(self) -> None:
        """``max_in_flight`` logins run at once, ``max_queued`` wait, the next one is refused."""
        verifier = self.verifier(max_in_flight=1, max_queued=1)
        first = verifier.check("alice", "localhost", "secret")
        second = verifier.check("bob", "localhost", "secret")
        third = verifier.check("carol", "localhost", "secret")
        self.assertIn("Too many", str(self.failureResultOf(third, Unavailable).value))
        self.assertEqual(len(self.endpoint.connections), 1)
        conn = self.open(features("PLAIN"))
        conn.feed(f"<success xmlns='{NS_SASL}'/>")
        self.successResultOf(first)
        self.assertEqual(len(self.endpoint.connections), 2)
        self.assertNoResult(second)

    def test_cancelling_aborts(self) -> None:
        """A caller that gives up (client went away) cuts the connection."""
        d = self.verifier().check("alice", "localhost", "secret")
        conn = self.open(features("SCRAM-SHA-1"))
        d.cancel()
        self.failureResultOf(d)
        self.assertTrue(conn.transport.disconnected)
        self.clock.advance(100)  # no timer left to fire into a finished attempt


class TlsOptionsTests(SynchronousTestCase):
    def test_ca_file_without_certificates(self) -> None:
        """A c2s_ca file that holds no PEM certificate is refused at start-up, by name."""
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("not a certificate\n")
        with self.assertRaisesRegex(ValueError, "no PEM certificate"):
            c2s_tls_options("localhost", True, path)

    def test_unverified_tls_is_warned_about(self) -> None:
        """c2s_verify: false logs a warning naming the endpoint when the verifier is built."""
        from twisted.logger import LogLevel, capturedLogs

        with capturedLogs() as events:
            XmppLoginVerifier.from_endpoint_string(
                MemoryReactorClock(), "tcp:host=127.0.0.1:port=5222", ["localhost"], verify=False
            )
        warnings = [e for e in events if e["log_level"] == LogLevel.warn]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["c2s"], "tcp:host=127.0.0.1:port=5222")

    def test_unknown_tls_mode(self) -> None:
        """A c2s_tls value other than the three is refused."""
        with self.assertRaises(ValueError):
            XmppLoginVerifier(MemoryReactorClock(), FakeEndpoint(), ["localhost"], tls_mode="maybe")
