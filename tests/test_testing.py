"""The test doubles of :mod:`gateway.testing`, each checked against the real thing.

Every contract is written once, as a mixin of tests, and run on the fake and
on the real implementation, as treq and txacme check theirs:

- :class:`BackendContract`: :class:`~gateway.testing.FakeBackend` and the
  embedded backend on an in-memory SQLite store answer the account commands,
  passwords and tokens alike;
- :class:`SinkContract`: :class:`~gateway.testing.FakeStanzaSink` and the
  component link (:class:`~gateway.xmpp.link.ComponentLink` on a memory
  reactor, with a fake XMPP server) queue, refuse, answer and time out alike;
- :class:`QueueBehaviour`: every
  :class:`~gateway.backends.interfaces.OutboundQueue`; run here on
  :class:`~gateway.testing.MemoryQueue`, and on the store's queue on every
  engine in ``tests/backends/embedded/test_outbox.py``.

What only the fakes do (canned answers, held answers, records of calls) is
checked after the contracts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree
from twisted.internet import defer
from twisted.internet.defer import CancelledError
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase, TestCase

from gateway.backends.interfaces import Backend, OutboundQueue, QueueFull, TokenGrant
from gateway.engine.builtin import node_name, node_term
from gateway.engine.errors import (
    CommandError,
    CommandFailed,
    NotSupported,
    Unavailable,
)
from gateway.engine.model import Caller, ResTuple
from gateway.frontends.rest.sink import StanzaSink
from gateway.stanza import read_stanza
from gateway.testing import ACCOUNT_COMMANDS, FakeBackend, FakeStanzaSink, MemoryQueue
from gateway.xmpp.link import ComponentLink
from tests.backends.embedded.cases import NOW, MemoryCase
from tests.xmpp.fakes import Connection, FakeServer, component_config, stanzas

if TYPE_CHECKING:
    _Base = TestCase
    _SyncBase = SynchronousTestCase
else:
    _Base = _SyncBase = object

CALLER = Caller(frontend="mod_http_api")
HOST = "localhost"
#: a host neither backend serves
ELSEWHERE = "nowhere.test"
ACCOUNTS = {("alice", HOST): "alicepw", ("bob", HOST): "bobpw"}


# -- the backend -------------------------------------------------------------------------------


def error_of(error: CommandError) -> tuple[Any, ...]:
    """What a command error says, in every field a dialect answers with."""
    return (
        type(error).__name__,
        error.message,
        getattr(error, "atom", None),
        getattr(error, "kind", None),
        getattr(error, "status", None),
    )


class BackendContract(_Base):
    """What :class:`FakeBackend` claims, checked on it and on the embedded backend."""

    async def backend_with(self, accounts: Mapping[tuple[str, str], str]) -> Backend:
        """A backend serving ``localhost`` with ``accounts`` registered."""
        raise NotImplementedError

    async def live_token(self, backend: Backend, user: str, host: str, scopes: list[str]) -> str:
        """A token for ``user@host`` with ``scopes`` that has not expired."""
        raise NotImplementedError

    async def run_command(self, backend: Backend, command: str, **args: Any) -> Any:
        """``command``'s result value, run directly on ``backend`` with canonical arguments."""
        return await backend.execute(command, args, CALLER)

    async def failure_of(self, backend: Backend, command: str, **args: Any) -> tuple[Any, ...]:
        """How ``command``, which must fail with a command error, fails (see :func:`error_of`)."""
        try:
            value = await self.run_command(backend, command, **args)
        except CommandError as e:
            return error_of(e)
        raise AssertionError(f"{command} succeeded with {value!r}")

    async def test_is_a_backend(self) -> None:
        """It provides the Backend protocol the engine and its authenticator use."""
        self.assertIsInstance(await self.backend_with({}), Backend)

    async def test_passwords(self) -> None:
        """Only an account's own password checks out; an unknown account or host never does."""
        backend = await self.backend_with(ACCOUNTS)
        self.assertIs(await backend.check_password("alice", HOST, "alicepw"), True)
        self.assertIs(await backend.check_password("alice", HOST, "bobpw"), False)
        self.assertIs(await backend.check_password("alice", HOST, ""), False)
        self.assertIs(await backend.check_password("nobody", HOST, "alicepw"), False)
        self.assertIs(await backend.check_password("alice", ELSEWHERE, "alicepw"), False)

    async def test_credential_stamps(self) -> None:
        """verify_password gives the stamp credential_stamp reads; it changes with the password.

        A wrong password, an unknown account or host has no stamp; a password
        change gives a new one; an unregistered account has none.
        """
        backend = await self.backend_with(ACCOUNTS)
        stamp = await backend.verify_password("bob", HOST, "bobpw")
        self.assertIsInstance(stamp, bytes)
        self.assertEqual(await backend.credential_stamp("bob", HOST), stamp)
        self.assertIsNone(await backend.verify_password("bob", HOST, "alicepw"))
        self.assertIsNone(await backend.verify_password("nobody", HOST, "bobpw"))
        self.assertIsNone(await backend.credential_stamp("nobody", HOST))
        self.assertIsNone(await backend.credential_stamp("bob", ELSEWHERE))
        self.assertNotEqual(await backend.credential_stamp("alice", HOST), stamp)
        await self.run_command(backend, "change_password", user="bob", host=HOST, newpass="new")
        changed = await backend.credential_stamp("bob", HOST)
        self.assertNotIn(changed, (None, stamp))
        self.assertEqual(await backend.verify_password("bob", HOST, "new"), changed)
        await self.run_command(backend, "unregister", user="bob", host=HOST)
        self.assertIsNone(await backend.credential_stamp("bob", HOST))

    async def test_tokens(self) -> None:
        """A live token gives its account and scopes; an unknown token gives ``None``."""
        backend = await self.backend_with(ACCOUNTS)
        token = await self.live_token(backend, "alice", HOST, ["ejabberd:admin"])
        grant = await backend.check_token(token)
        assert isinstance(grant, TokenGrant)
        self.assertEqual(
            (grant.user, grant.host, grant.scopes), ("alice", HOST, frozenset({"ejabberd:admin"}))
        )
        self.assertIsNone(await backend.check_token("not-a-token"))

    async def test_claims_the_account_commands(self) -> None:
        """Every account command is supported; a made-up command is not, and fails if run."""
        backend = await self.backend_with({})
        self.assertEqual({c for c in ACCOUNT_COMMANDS if backend.supports(c)}, ACCOUNT_COMMANDS)
        self.assertFalse(backend.supports("no_such_command"))
        with self.assertRaises(NotSupported):
            await self.run_command(backend, "no_such_command")

    async def test_registered_users(self) -> None:
        """The users of a host, sorted; an unknown host fails ``Unknown virtual host``."""
        backend = await self.backend_with({**ACCOUNTS, ("carol", HOST): "c"})
        self.assertEqual(
            await self.run_command(backend, "registered_users", host=HOST),
            ["alice", "bob", "carol"],
        )
        self.assertEqual(
            await self.failure_of(backend, "registered_users", host=ELSEWHERE),
            ("CommandFailed", "Unknown virtual host", None, None, None),
        )

    async def test_check_account_and_password(self) -> None:
        """check_account and check_password answer like the credential check."""
        backend = await self.backend_with(ACCOUNTS)
        self.assertIs(await self.run_command(backend, "check_account", user="bob", host=HOST), True)
        self.assertIs(
            await self.run_command(backend, "check_account", user="carol", host=HOST), False
        )
        self.assertIs(
            await self.run_command(backend, "check_account", user="bob", host=ELSEWHERE), False
        )
        good = {"user": "bob", "host": HOST, "password": "bobpw"}
        self.assertIs(await self.run_command(backend, "check_password", **good), True)
        self.assertIs(
            await self.run_command(backend, "check_password", **{**good, "password": "x"}), False
        )

    async def test_register(self) -> None:
        """A new account can log in; a taken name, an unknown host, no password: typed errors."""
        backend = await self.backend_with(ACCOUNTS)
        result = await self.run_command(
            backend, "register", user="carol", host=HOST, password="cpw"
        )
        self.assertEqual(result, ResTuple("User carol@localhost successfully registered"))
        self.assertIs(await backend.check_password("carol", HOST, "cpw"), True)
        self.assertEqual(
            await self.failure_of(backend, "register", user="alice", host=HOST, password="x"),
            (
                "TypedCommandError",
                "User alice@localhost already registered",
                None,
                "conflict",
                10090,
            ),
        )
        self.assertIs(await backend.check_password("alice", HOST, "alicepw"), True)
        self.assertEqual(
            await self.failure_of(backend, "register", user="dave", host=ELSEWHERE, password="x"),
            ("TypedCommandError", "Unknown virtual host", None, "cannot_register", 10001),
        )
        self.assertEqual(
            await self.failure_of(backend, "register", user="dave", host=HOST, password=""),
            (
                "TypedCommandError",
                # ejabberd's text (23.01 and 24.12), naming the node as status does
                f"Can't register user dave@localhost at node {node_term(node_name())}:"
                " The password contains unacceptable characters",
                None,
                "cannot_register",
                10001,
            ),
        )

    async def test_change_password(self) -> None:
        """The new password replaces the old; an unknown account, host or an empty one fails.

        On a host not served there is no such account: ``unknown_user``, as
        ejabberd 23.01 and 24.12 answer (captured from Debian's ejabberd 23.01).
        """
        backend = await self.backend_with(ACCOUNTS)
        result = await self.run_command(
            backend, "change_password", user="bob", host=HOST, newpass="new"
        )
        self.assertIs(result, True)
        self.assertIs(await backend.check_password("bob", HOST, "new"), True)
        self.assertIs(await backend.check_password("bob", HOST, "bobpw"), False)
        self.assertEqual(
            await self.failure_of(backend, "change_password", user="carol", host=HOST, newpass="x"),
            ("CommandFailed", "unknown_user", "not_found", None, None),
        )
        self.assertEqual(
            await self.failure_of(
                backend, "change_password", user="bob", host=ELSEWHERE, newpass="x"
            ),
            ("CommandFailed", "unknown_user", "not_found", None, None),
        )
        self.assertEqual(
            await self.failure_of(backend, "change_password", user="bob", host=HOST, newpass=""),
            ("CommandFailed", "Empty password", None, None, None),
        )

    async def test_unregister(self) -> None:
        """An account goes and says so; a second time says it was not registered."""
        backend = await self.backend_with(ACCOUNTS)
        gone = await self.run_command(backend, "unregister", user="bob", host=HOST)
        self.assertEqual(gone, ResTuple("User bob@localhost unregistered"))
        self.assertIs(await backend.check_password("bob", HOST, "bobpw"), False)
        again = await self.run_command(backend, "unregister", user="bob", host=HOST)
        self.assertEqual(again, ResTuple("User bob@localhost was not registered"))
        self.assertEqual(
            await self.failure_of(backend, "unregister", user="bob", host=ELSEWHERE),
            ("CommandFailed", "Unknown virtual host", None, None, None),
        )


class FakeBackendContractTests(BackendContract, TestCase):
    """FakeBackend keeps the backend contract."""

    async def backend_with(self, accounts: Mapping[tuple[str, str], str]) -> Backend:
        return FakeBackend(accounts)

    async def live_token(self, backend: Backend, user: str, host: str, scopes: list[str]) -> str:
        assert isinstance(backend, FakeBackend)
        backend.tokens["t0k3n"] = TokenGrant(user, host, frozenset(scopes), NOW + 3600)
        return "t0k3n"


class EmbeddedBackendContractTests(BackendContract, MemoryCase):
    """The embedded backend, on an in-memory SQLite store, keeps the same contract."""

    async def backend_with(self, accounts: Mapping[tuple[str, str], str]) -> Backend:
        for (user, host), password in accounts.items():
            await self.backend.try_register(user, host, password)
        return self.backend

    async def live_token(self, backend: Backend, user: str, host: str, scopes: list[str]) -> str:
        token, _, _ = await self.backend.issue_token(user, host, scopes, 3600)
        return token


class FakeBackendTests(SynchronousTestCase):
    """What only the fake does: canned and held answers, and its records."""

    def test_canned_answers(self) -> None:
        """A canned value, a callable of the arguments, or an exception (copied each call)."""
        error = CommandFailed("No such session")
        backend = FakeBackend(
            answers={"connected_users_number": 3, "get_last": lambda a: (a["user"], "Away")}
        )
        backend.answer("kick_session", error)
        self.assertTrue(backend.supports("kick_session"))
        self.assertEqual(
            self.successResultOf(backend.execute("connected_users_number", {}, CALLER)), 3
        )
        last = backend.execute("get_last", {"user": "alice", "host": HOST}, CALLER)
        self.assertEqual(self.successResultOf(last), ("alice", "Away"))
        first = self.failureResultOf(backend.execute("kick_session", {}, CALLER), CommandFailed)
        second = self.failureResultOf(backend.execute("kick_session", {}, CALLER), CommandFailed)
        self.assertIsNot(first.value, second.value)
        self.assertIsNot(first.value, error)
        self.assertEqual(error_of(first.value), error_of(error))

    def test_canned_answer_replaces_an_account_command(self) -> None:
        """A canned answer takes precedence over the fake's own account command."""
        backend = FakeBackend(ACCOUNTS, answers={"registered_users": ["x"]})
        result = backend.execute("registered_users", {"host": ELSEWHERE}, CALLER)
        self.assertEqual(self.successResultOf(result), ["x"])

    def test_held_answers(self) -> None:
        """A held command waits for the test; cancelling it is counted."""
        backend = FakeBackend()
        backend.hold("stats")
        self.assertTrue(backend.supports("stats"))
        first = backend.execute("stats", {"name": "onlineusers"}, CALLER)
        second = backend.execute("stats", {"name": "onlineusers"}, CALLER)
        self.assertNoResult(first)
        backend.pending[0].callback(7)
        self.assertEqual(self.successResultOf(first), 7)
        second.cancel()
        self.failureResultOf(second, CancelledError)
        self.assertEqual((len(backend.pending), backend.cancelled), (2, 1))

    def test_records(self) -> None:
        """Every call is recorded with its caller, and every password check counted."""
        backend = FakeBackend(ACCOUNTS)
        backend.execute("check_account", {"user": "bob", "host": HOST}, CALLER)
        backend.check_password("bob", HOST, "x")
        self.assertEqual(backend.calls, [("check_account", {"user": "bob", "host": HOST}, CALLER)])
        self.assertEqual(backend.password_checks, 1)

    def test_expired_tokens_are_handed_out(self) -> None:
        """The fake does not judge expiry: the grant comes back as stored, for the engine."""
        old = TokenGrant("alice", HOST, frozenset({"ejabberd:admin"}), NOW - 1)
        backend = FakeBackend(ACCOUNTS, tokens={"old": old})
        self.assertEqual(self.successResultOf(backend.check_token("old")), old)


# -- the stanza sink ---------------------------------------------------------------------------

MESSAGE = "<message to='alice@localhost' from='bot@rest.localhost'><body>hi</body></message>"
IQ = "<iq type='get' id='caller-1' to='localhost'><query xmlns='jabber:iq:version'/></iq>"
IQ_TIMEOUT = 10.0


def body_of(text: str) -> str | None:
    """The text of the ``<body/>`` of the stanza ``text``, whatever its namespace."""
    bodies = etree.fromstring(text).xpath("string(*[local-name()='body'])")
    return str(bodies) if bodies else None


class SinkContract(_SyncBase):
    """What :class:`FakeStanzaSink` claims, checked on it and on the component link."""

    def make_sink(self, *, connected: bool) -> StanzaSink:
        """A sink whose link is up (``connected``) or has never come up."""
        raise NotImplementedError

    def queued(self) -> list[str]:
        """The stanzas the sink holds queued, as text."""
        raise NotImplementedError

    def fill(self, sink: StanzaSink) -> None:
        """Bring ``sink`` to refusing stanzas because its queue is full."""
        raise NotImplementedError

    def answer_iq(self, sink: StanzaSink) -> None:
        """Have the XMPP server answer the IQ ``sink`` sent with a result."""
        raise NotImplementedError

    def drop(self, sink: StanzaSink) -> None:
        """Have the link go down."""
        raise NotImplementedError

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass on the sink's clock."""
        raise NotImplementedError

    def test_submit_queues_the_stanza(self) -> None:
        """A checked stanza is queued once accepted, its element left as it was."""
        sink = self.make_sink(connected=True)
        stanza = read_stanza(MESSAGE)
        before = etree.tostring(stanza.element)
        self.assertIsNone(self.successResultOf(sink.submit(stanza, size=len(MESSAGE))))
        self.assertEqual([body_of(text) for text in self.queued()], ["hi"])
        self.assertEqual(etree.tostring(stanza.element), before)

    def test_link_down_queues_stanzas_but_fails_iqs(self) -> None:
        """While the link is down stanzas are still queued, but an IQ fails with Unavailable."""
        sink = self.make_sink(connected=False)
        self.successResultOf(sink.submit(read_stanza(MESSAGE)))
        self.assertEqual(len(self.queued()), 1)
        failure = self.failureResultOf(sink.iq(read_stanza(IQ), IQ_TIMEOUT), Unavailable)
        self.assertIn("not connected", failure.value.message)

    def test_full_queue_refuses(self) -> None:
        """A full queue refuses a stanza with Unavailable and keeps what it holds."""
        sink = self.make_sink(connected=True)
        self.fill(sink)
        held = len(self.queued())
        self.failureResultOf(sink.submit(read_stanza(MESSAGE)), Unavailable)
        self.assertEqual(len(self.queued()), held)

    def test_iq_answered(self) -> None:
        """An IQ waits for the server's answer, which carries the caller's id; it is not queued."""
        sink = self.make_sink(connected=True)
        answer = sink.iq(read_stanza(IQ), IQ_TIMEOUT)
        self.assertNoResult(answer)
        self.assertEqual(self.queued(), [])
        self.answer_iq(sink)
        root = etree.fromstring(self.successResultOf(answer))
        self.assertEqual((root.get("type"), root.get("id")), ("result", "caller-1"))

    def test_iq_times_out(self) -> None:
        """No answer within the timeout fails the IQ with TimeoutError."""
        sink = self.make_sink(connected=True)
        answer = sink.iq(read_stanza(IQ), IQ_TIMEOUT)
        self.advance(IQ_TIMEOUT - 1)
        self.assertNoResult(answer)
        self.advance(1)
        self.failureResultOf(answer, defer.TimeoutError)

    def test_cancelled_iq_is_forgotten(self) -> None:
        """Cancelling an IQ fails it with CancelledError; its answer, when it comes, is ignored."""
        sink = self.make_sink(connected=True)
        answer = sink.iq(read_stanza(IQ), IQ_TIMEOUT)
        answer.cancel()
        self.failureResultOf(answer, CancelledError)
        self.answer_iq(sink)

    def test_link_lost_while_waiting(self) -> None:
        """A link that goes down before the answer fails the IQ with Unavailable."""
        sink = self.make_sink(connected=True)
        answer = sink.iq(read_stanza(IQ), IQ_TIMEOUT)
        self.drop(sink)
        self.failureResultOf(answer, Unavailable)


class FakeSinkContractTests(SinkContract, SynchronousTestCase):
    """FakeStanzaSink keeps the sink contract."""

    def make_sink(self, *, connected: bool) -> StanzaSink:
        self.clock = Clock()
        self.sink = FakeStanzaSink(connected=connected, clock=self.clock)
        return self.sink

    def queued(self) -> list[str]:
        return [etree.tostring(element, encoding="unicode") for element in self.sink.submitted]

    def fill(self, sink: StanzaSink) -> None:
        self.sink.refuse = Unavailable("the XMPP outbound queue is full")

    def answer_iq(self, sink: StanzaSink) -> None:
        self.sink.answer("<iq xmlns='jabber:client' type='result' id='caller-1' from='localhost'/>")

    def drop(self, sink: StanzaSink) -> None:
        self.sink.drop()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)


class LinkSinkContractTests(SinkContract, SynchronousTestCase):
    """The component link keeps the same contract."""

    MAX_QUEUED = 2

    def make_sink(self, *, connected: bool) -> StanzaSink:
        self.reactor = MemoryReactorClock()
        self.queue = MemoryQueue()
        server = FakeServer(self.reactor)
        config = component_config(max_queued=self.MAX_QUEUED)
        link = ComponentLink(config, self.queue, self.reactor, jitter=lambda: 0.0)
        link.startService()
        self.addCleanup(lambda: link.stopService() if link.running else None)
        self.connection: Connection | None = server.connect()[0] if connected else None
        return link

    def queued(self) -> list[str]:
        return [text for _, text in self.successResultOf(self.queue.peek(0, 100))]

    def fill(self, sink: StanzaSink) -> None:
        for _ in range(self.MAX_QUEUED):
            self.successResultOf(sink.submit(read_stanza(MESSAGE)))

    def answer_iq(self, sink: StanzaSink) -> None:
        assert self.connection is not None
        for sent in stanzas(self.connection.read()):  # not the link's own pings
            if sent.name == "iq":
                self.connection.answer(sent)

    def drop(self, sink: StanzaSink) -> None:
        assert self.connection is not None
        self.connection.drop()

    def advance(self, seconds: float) -> None:
        self.reactor.advance(seconds)


class FakeStanzaSinkTests(SynchronousTestCase):
    """What only the fake sink does: refuse everything, and keep records."""

    def test_refusing_sink_fails_both_calls(self) -> None:
        """A sink told to refuse fails submit and iq alike, with the error it was given."""
        sink = FakeStanzaSink(refuse=Unavailable("the stanza queue is full"))
        stanza = read_stanza(IQ)
        self.failureResultOf(sink.submit(stanza), Unavailable)
        self.failureResultOf(sink.iq(stanza, 1.0), Unavailable)
        self.assertEqual((sink.submitted, sink.iqs), ([], []))

    def test_records(self) -> None:
        """It keeps each queued element as given, each awaited IQ, and the size of every call."""
        sink = FakeStanzaSink()
        message, iq = read_stanza(MESSAGE), read_stanza(IQ)
        sink.submit(message, size=len(MESSAGE))
        pending = sink.iq(iq, IQ_TIMEOUT)
        self.assertIs(sink.submitted[0], message.element)
        self.assertEqual(sink.iqs, [(iq.element, IQ_TIMEOUT, pending)])
        self.assertEqual(sink.sizes, [len(MESSAGE), None])
        pending.cancel()
        self.failureResultOf(pending, CancelledError)
        self.assertEqual(sink.cancelled, 1)


# -- the outbound queue ------------------------------------------------------------------------


class QueueBehaviour(_Base):
    """Tests every OutboundQueue must pass; subclasses provide ``make_queue``."""

    def make_queue(self) -> OutboundQueue:
        raise NotImplementedError

    async def test_append_and_peek_in_order(self) -> None:
        """Appended stanzas come back in order, with increasing ids."""
        queue = self.make_queue()
        ids = [await queue.append(f"<message id='{n}'/>") for n in range(3)]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), 3)
        peeked = await queue.peek(0, 10)
        self.assertEqual([text for _, text in peeked], [f"<message id='{n}'/>" for n in range(3)])
        self.assertEqual([i for i, _ in peeked], ids)

    async def test_peek_after_and_limit(self) -> None:
        """peek returns only ids above after_id, at most limit of them."""
        queue = self.make_queue()
        ids = [await queue.append(f"<m{n}/>") for n in range(5)]
        self.assertEqual([i for i, _ in await queue.peek(ids[1], 2)], ids[2:4])
        self.assertEqual(await queue.peek(ids[-1], 10), [])

    async def test_confirm_removes_up_to(self) -> None:
        """confirm drops the ids up to and including upto_id and says how many."""
        queue = self.make_queue()
        ids = [await queue.append(f"<m{n}/>") for n in range(4)]
        self.assertEqual(await queue.confirm(ids[1]), 2)
        self.assertEqual(await queue.count(), 2)
        self.assertEqual([i for i, _ in await queue.peek(0, 10)], ids[2:])
        self.assertEqual(await queue.confirm(ids[1]), 0)

    async def test_discard_removes_only_that_id(self) -> None:
        """discard drops one stanza, leaves its neighbours queued, and says whether it was there."""
        queue = self.make_queue()
        ids = [await queue.append(f"<m{n}/>") for n in range(3)]
        self.assertIs(await queue.discard(ids[1]), True)
        self.assertEqual(await queue.count(), 2)
        self.assertEqual(await queue.peek(0, 10), [(ids[0], "<m0/>"), (ids[2], "<m2/>")])
        self.assertIs(await queue.discard(ids[1]), False)
        self.assertIs(await queue.discard(ids[2] + 100), False)
        self.assertEqual(await queue.count(), 2)

    async def test_ids_not_reused_after_discard(self) -> None:
        """Discarding the newest stanza does not let its id be handed out again."""
        queue = self.make_queue()
        first = await queue.append("<a/>")
        await queue.discard(first)
        self.assertEqual(await queue.count(), 0)
        self.assertGreater(await queue.append("<b/>"), first)

    async def test_ids_not_reused_after_draining(self) -> None:
        """An empty queue still hands out ids above every earlier one."""
        queue = self.make_queue()
        first = await queue.append("<a/>")
        await queue.confirm(first)
        self.assertEqual(await queue.count(), 0)
        second = await queue.append("<b/>")
        self.assertGreater(second, first)

    async def test_limit_refuses(self) -> None:
        """append fails with QueueFull at the limit and stores nothing."""
        queue = self.make_queue()
        await queue.append("<a/>", 2)
        await queue.append("<b/>", 2)
        try:
            await queue.append("<c/>", 2)
        except QueueFull as e:
            self.assertEqual(e.limit, 2)
        else:
            raise AssertionError("the third append was accepted")
        self.assertEqual(await queue.count(), 2)
        last = await queue.append("<d/>")  # no limit given: accepted
        self.assertEqual([t for i, t in await queue.peek(0, 10) if i == last], ["<d/>"])

    async def test_unicode_round_trip(self) -> None:
        """Stanza text comes back unchanged, whatever its characters."""
        queue = self.make_queue()
        text = "<message><body>héllo ✓ 'quoted' \"too\" %s ?</body></message>"
        await queue.append(text)
        self.assertEqual((await queue.peek(0, 1))[0][1], text)


class MemoryQueueTests(QueueBehaviour, TestCase):
    """MemoryQueue passes the queue suite (the store's queue runs it in test_outbox.py)."""

    def make_queue(self) -> OutboundQueue:
        return MemoryQueue()
