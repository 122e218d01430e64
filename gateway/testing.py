"""Test doubles of the gateway's own interfaces, for tests of code built on the gateway.

Like ``treq.testing``, these stand in for the real pieces in tests that
should not open a database or an XMPP connection, and each is checked
against the real implementation by one shared suite in the gateway's own
tests (``tests/test_testing.py``), so what a test learns from a fake holds
for the daemon:

- :class:`FakeBackend`, a :class:`~gateway.backends.interfaces.Backend`
  holding accounts and OAuth tokens in dicts.  It runs the account commands
  itself, answering as the embedded backend does, and any other command
  from canned answers a test gives it; it records every call, and can hold
  a command's answer back until the test fires it.
- :class:`FakeStanzaSink`, the component link as mod_rest sees it
  (:class:`~gateway.frontends.rest.sink.StanzaSink`): it records the
  stanzas queued, keeps each awaited IQ for the test to answer, and can be
  told to refuse (a full queue) or to be disconnected.
- :class:`MemoryQueue`, an
  :class:`~gateway.backends.interfaces.OutboundQueue` in a list, for a
  component link whose queue need not survive a restart.

Nothing in the daemon imports this module.  Every fake answers at once
(its Deferreds have fired when the call returns) unless told to wait, so
tests can use ``successResultOf`` without a reactor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IReactorTime

from gateway.backends.interfaces import QueueFull, TokenGrant
from gateway.engine.builtin import node_name, node_term
from gateway.engine.errors import (
    CommandError,
    CommandFailed,
    NotSupported,
    TypedCommandError,
    Unavailable,
)
from gateway.engine.model import Caller, ResTuple
from gateway.stanza import Stanza

__all__ = ["ACCOUNT_COMMANDS", "FakeBackend", "FakeStanzaSink", "MemoryQueue"]

#: the commands :class:`FakeBackend` runs on its own accounts (canonical names)
ACCOUNT_COMMANDS = frozenset(
    {
        "registered_users",
        "check_account",
        "check_password",
        "register",
        "change_password",
        "unregister",
    }
)

#: the embedded backend's answer for a host it does not serve
UNKNOWN_HOST = "Unknown virtual host"


class FakeBackend:
    """A :class:`~gateway.backends.interfaces.Backend` in memory.

    Args:
        accounts: ``(user, host) -> password`` of the registered accounts.
        hosts: the virtual hosts served; every other host is unknown.
        tokens: ``token -> grant`` of the OAuth tokens that check out.
        answers: canned answers for commands, by canonical name (see :meth:`answer`).

    The account commands (:data:`ACCOUNT_COMMANDS`) work on :attr:`accounts`
    and answer what the embedded backend answers, errors included.  Names
    are compared as given: the fake does no stringprep, bans nothing and
    stores no hashes.  :meth:`check_token` hands back the grant stored for a
    token, expired or not: judging expiry is the engine's authenticator's
    job, and a test of that needs a backend that hands out an expired grant.
    A command that is neither an account command nor given an answer is not
    supported, as the engine expects of a backend that cannot run it.
    """

    name = "fake"

    def __init__(
        self,
        accounts: Mapping[tuple[str, str], str] | None = None,
        *,
        hosts: Iterable[str] = ("localhost",),
        tokens: Mapping[str, TokenGrant] | None = None,
        answers: Mapping[str, Any] | None = None,
    ) -> None:
        #: ``(user, host) -> password``; commands change it, tests may read and change it
        self.accounts: dict[tuple[str, str], str] = dict(accounts or {})
        self.hosts = frozenset(hosts)
        self.tokens: dict[str, TokenGrant] = dict(tokens or {})
        #: canned answers by command name (see :meth:`answer`)
        self.answers: dict[str, Any] = dict(answers or {})
        #: ``(command, arguments, caller)`` of every call, in order
        self.calls: list[tuple[str, dict[str, Any], Caller]] = []
        #: how many times :meth:`check_password` or :meth:`verify_password` was asked
        self.password_checks = 0
        #: how many times :meth:`credential_stamp` was asked
        self.stamp_reads = 0
        #: the answers held back by :meth:`hold`, in the order they were asked for
        self.pending: list[Deferred[Any]] = []
        #: how many held answers were cancelled
        self.cancelled = 0
        self._held: set[str] = set()

    # -- configuring ---------------------------------------------------------------------------

    def answer(self, command: str, answer: Any) -> None:
        """Make ``command`` supported, answering with ``answer``.

        ``answer`` is the value the command fires with, an exception it
        fails with, or a callable taking the arguments and returning the
        value (or a Deferred) or raising.  Each call fails with a copy of the
        exception, so what the engine notes on an error it passes on (see
        :class:`~gateway.engine.errors.CommandError`) does not carry over to
        the next call.  A canned answer takes precedence over the fake's own
        account commands.
        """
        self.answers[command] = answer

    def hold(self, *commands: str) -> None:
        """Hold back the answers of ``commands``: each call waits on a Deferred in :attr:`pending`.

        The test fires it when it likes; cancelling it counts in :attr:`cancelled`.
        """
        self._held.update(commands)

    # -- Executor ------------------------------------------------------------------------------

    def supports(self, command: str) -> bool:
        return command in self.answers or command in self._held or command in ACCOUNT_COMMANDS

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.calls.append((command, dict(args), caller))
        if command in self._held:
            return self._held_answer()
        if command in self.answers:
            answer = self.answers[command]
        elif command in ACCOUNT_COMMANDS:
            answer = getattr(self, f"_{command}")
        else:
            return fail(NotSupported(command, self.name))
        try:
            if isinstance(answer, BaseException):
                raise _copy_of(answer)
            value = answer(args) if callable(answer) else answer
        except Exception as e:
            return fail(e)
        return value if isinstance(value, Deferred) else succeed(value)

    # -- Backend -------------------------------------------------------------------------------

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        self.password_checks += 1
        return succeed(self._password_matches(user, host, password))

    def verify_password(self, user: str, host: str, password: str) -> Deferred[bytes | None]:
        self.password_checks += 1
        matches = self._password_matches(user, host, password)
        return succeed(self._stamp(user, host) if matches else None)

    def credential_stamp(self, user: str, host: str) -> Deferred[bytes | None]:
        self.stamp_reads += 1
        return succeed(self._stamp(user, host))

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(self.tokens.get(token))

    # -- the account commands ------------------------------------------------------------------

    def _password_matches(self, user: str, host: str, password: str) -> bool:
        return host in self.hosts and self.accounts.get((user, host)) == password

    def _stamp(self, user: str, host: str) -> bytes | None:
        """A digest of the stored password: it changes whenever the password does."""
        password = self.accounts.get((user, host))
        if host not in self.hosts or password is None:
            return None
        text = "\x00".join((user, host, password))
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def _served(self, host: str) -> None:
        if host not in self.hosts:
            raise CommandFailed(UNKNOWN_HOST)

    def _registered_users(self, args: Mapping[str, Any]) -> list[str]:
        self._served(args["host"])
        return sorted(user for user, host in self.accounts if host == args["host"])

    def _check_account(self, args: Mapping[str, Any]) -> bool:
        return args["host"] in self.hosts and (args["user"], args["host"]) in self.accounts

    def _check_password(self, args: Mapping[str, Any]) -> bool:
        return self._password_matches(args["user"], args["host"], args["password"])

    def _register(self, args: Mapping[str, Any]) -> ResTuple:
        user, host, password = args["user"], args["host"], args["password"]
        if host not in self.hosts:
            raise TypedCommandError("cannot_register", 10001, UNKNOWN_HOST)
        if password == "":
            node = node_term(node_name())
            raise TypedCommandError(
                "cannot_register",
                10001,
                f"Can't register user {user}@{host} at node {node}:"
                " The password contains unacceptable characters",
            )
        if (user, host) in self.accounts:
            raise TypedCommandError("conflict", 10090, f"User {user}@{host} already registered")
        self.accounts[(user, host)] = password
        return ResTuple(f"User {user}@{host} successfully registered")

    def _change_password(self, args: Mapping[str, Any]) -> bool:
        user, host = args["user"], args["host"]
        if host not in self.hosts:  # no account there, as ejabberd answers
            raise CommandFailed("unknown_user", atom="not_found")
        if args["newpass"] == "":
            raise CommandFailed("Empty password")
        if (user, host) not in self.accounts:
            raise CommandFailed("unknown_user", atom="not_found")
        self.accounts[(user, host)] = args["newpass"]
        return True

    def _unregister(self, args: Mapping[str, Any]) -> ResTuple:
        user, host = args["user"], args["host"]
        self._served(host)
        if self.accounts.pop((user, host), None) is None:
            return ResTuple(f"User {user}@{host} was not registered")
        return ResTuple(f"User {user}@{host} unregistered")

    def _held_answer(self) -> Deferred[Any]:
        def cancel(_: Deferred[Any]) -> None:
            self.cancelled += 1

        pending: Deferred[Any] = Deferred(cancel)
        self.pending.append(pending)
        return pending


def _copy_of(error: BaseException) -> BaseException:
    """A new exception of ``error``'s class with its arguments and attributes."""
    copy = type(error).__new__(type(error))
    copy.args = error.args
    copy.__dict__.update(error.__dict__)
    return copy


class FakeStanzaSink:
    """The component link as mod_rest sees it (a :class:`~gateway.frontends.rest.sink.StanzaSink`).

    Args:
        refuse: when set, both calls fail with it (an
            :class:`~gateway.engine.errors.Unavailable` is what a full
            queue or a store that is down gives).
        connected: whether the link is up.  While it is down stanzas are
            still queued, as the real link queues them until it reconnects,
            but an IQ fails with ``Unavailable``.
        clock: when given, an awaited IQ fails with
            :class:`twisted.internet.defer.TimeoutError` after its timeout,
            as the real link's do; without it an IQ waits until the test
            answers or cancels it.

    The stanza element handed over is recorded as it is, not copied and
    not changed.
    """

    def __init__(
        self,
        *,
        refuse: CommandError | None = None,
        connected: bool = True,
        clock: IReactorTime | None = None,
    ) -> None:
        self.refuse = refuse
        self.connected = connected
        self.clock = clock
        #: the element of every stanza queued
        self.submitted: list[etree._Element] = []
        #: ``(element, timeout, Deferred)`` of every IQ sent to wait for its answer
        self.iqs: list[tuple[etree._Element, float, Deferred[str]]] = []
        #: the ``size`` of every call, queued or not
        self.sizes: list[int | None] = []
        #: how many awaited IQs were cancelled (by the caller or by their timeout)
        self.cancelled = 0

    def submit(self, stanza: Stanza, *, size: int | None = None) -> Deferred[None]:
        self.sizes.append(size)
        if self.refuse is not None:
            return fail(self.refuse)
        self.submitted.append(stanza.element)
        return succeed(None)

    def iq(self, stanza: Stanza, timeout: float, *, size: int | None = None) -> Deferred[str]:
        self.sizes.append(size)
        if self.refuse is not None:
            return fail(self.refuse)
        if not self.connected:
            return fail(Unavailable("the XMPP component link is not connected"))

        def cancel(_: Deferred[str]) -> None:
            self.cancelled += 1

        pending: Deferred[str] = Deferred(cancel)
        self.iqs.append((stanza.element, timeout, pending))
        if self.clock is not None:
            pending.addTimeout(timeout, self.clock)
        return pending

    def answer(self, text: str, index: int = 0) -> None:
        """Answer the ``index``-th awaited IQ with the IQ ``text`` (the server's answer).

        An IQ already answered, cancelled or failed is forgotten: the answer
        is ignored, as the link ignores an answer nobody waits for.
        """
        pending = self.iqs[index][2]
        if not pending.called:
            pending.callback(text)

    def drop(self) -> None:
        """The link goes down: awaited IQs fail with ``Unavailable``, and so do new ones.

        Stanzas are still queued.  Set :attr:`connected` again to bring it back.
        """
        self.connected = False
        for _, _, pending in self.iqs:
            if not pending.called:
                pending.errback(
                    Unavailable("the XMPP component link went down before the answer came")
                )


class MemoryQueue:
    """An :class:`~gateway.backends.interfaces.OutboundQueue` in a list; lost at a restart."""

    def __init__(self) -> None:
        self._items: list[tuple[int, str]] = []
        self._last_id = 0

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        if limit is not None and len(self._items) >= limit:
            return fail(QueueFull(limit))
        self._last_id += 1
        self._items.append((self._last_id, stanza_xml))
        return succeed(self._last_id)

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        return succeed([item for item in self._items if item[0] > after_id][:limit])

    def confirm(self, upto_id: int) -> Deferred[int]:
        kept = [item for item in self._items if item[0] > upto_id]
        removed = len(self._items) - len(kept)
        self._items = kept
        return succeed(removed)

    def discard(self, item_id: int) -> Deferred[bool]:
        kept = [item for item in self._items if item[0] != item_id]
        removed = len(kept) < len(self._items)
        self._items = kept
        return succeed(removed)

    def count(self) -> Deferred[int]:
        return succeed(len(self._items))


if TYPE_CHECKING:
    # mypy checks that each fake fits the protocol it stands in for
    from gateway.backends.interfaces import Backend, OutboundQueue
    from gateway.frontends.rest.sink import StanzaSink

    _BACKEND: Backend = FakeBackend()
    _SINK: StanzaSink = FakeStanzaSink()
    _QUEUE: OutboundQueue = MemoryQueue()
