"""The external-authentication protocol that lets ejabberd and Prosody log in our accounts."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import TokenGrant
from gateway.engine.errors import CommandFailed, TypedCommandError
from gateway.engine.model import Caller, ResTuple
from gateway.frontends.extauth import ExtauthProtocol


class Accounts:
    """A backend holding accounts in a dict."""

    name = "fake"

    def __init__(self) -> None:
        self.passwords = {("alice", "localhost"): "pa:ss"}

    def supports(self, command: str) -> bool:
        return True

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        key = (args["user"], args["host"])
        if command == "check_account":
            return succeed(key in self.passwords)
        if command == "change_password":
            if key not in self.passwords:
                return fail(CommandFailed("User does not exist"))
            self.passwords[key] = args["newpass"]
            return succeed(True)
        if command == "register":
            if key in self.passwords:
                return fail(TypedCommandError("conflict", 10090, "already registered"))
            self.passwords[key] = args["password"]
            return succeed(ResTuple("registered"))
        if command == "unregister":
            return succeed(self.passwords.pop(key, None) is not None)
        raise AssertionError(command)

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        return succeed(self.passwords.get((user, host)) == password)

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(None)


def frame(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


class ExtauthTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.accounts = Accounts()
        self.closed: list[bool] = []
        self.protocol = ExtauthProtocol(self.accounts, lambda: self.closed.append(True))
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def answers(self, *requests: str) -> list[int]:
        self.transport.clear()
        self.protocol.dataReceived(b"".join(frame(r) for r in requests))
        out = self.transport.value()
        return [struct.unpack(">HH", out[i : i + 4])[1] for i in range(0, len(out), 4)]

    def test_auth(self) -> None:
        """auth answers 1 for the right password (even one containing ':') and 0 otherwise."""
        self.assertEqual(
            self.answers("auth:alice:localhost:pa:ss", "auth:alice:localhost:nope"), [1, 0]
        )

    def test_isuser(self) -> None:
        """isuser tells whether the account exists."""
        self.assertEqual(self.answers("isuser:alice:localhost", "isuser:bob:localhost"), [1, 0])

    def test_setpass_then_auth(self) -> None:
        """setpass changes the password that auth accepts."""
        self.assertEqual(
            self.answers(
                "setpass:alice:localhost:new",
                "auth:alice:localhost:pa:ss",
                "auth:alice:localhost:new",
            ),
            [1, 0, 1],
        )

    def test_tryregister(self) -> None:
        """tryregister creates a new account and refuses an existing one."""
        self.assertEqual(
            self.answers("tryregister:bob:localhost:pw", "tryregister:bob:localhost:pw"), [1, 0]
        )
        self.assertEqual(self.accounts.passwords[("bob", "localhost")], "pw")

    def test_removeuser(self) -> None:
        """removeuser deletes the account; removeuser3 only with the right password."""
        self.assertEqual(
            self.answers(
                "removeuser3:alice:localhost:wrong",
                "removeuser3:alice:localhost:pa:ss",
                "removeuser:alice:localhost",
            ),
            [0, 1, 0],
        )

    def test_split_frames(self) -> None:
        """A request split across reads is answered once it is complete."""
        data = frame("isuser:alice:localhost")
        self.protocol.dataReceived(data[:3])
        self.assertEqual(self.transport.value(), b"")
        self.protocol.dataReceived(data[3:])
        self.assertEqual(self.transport.value(), struct.pack(">HH", 2, 1))

    def test_unknown_or_malformed(self) -> None:
        """Unknown operations and missing fields answer 0 instead of breaking the stream."""
        self.assertEqual(
            self.answers("frobnicate:a:b", "auth:alice", "isuser:alice:localhost"), [0, 0, 1]
        )

    def test_malformed_accounts_answer_no(self) -> None:
        """Empty host labels, forbidden characters and over-long names answer 0 with one warning.

        The backend is never asked, and nothing is logged as a failure.
        """
        self.accounts.check_password = None  # type: ignore[assignment,method-assign]
        requests = [
            "auth:alice:a..b:pa:ss",
            "auth:alice:.:pa:ss",
            "isuser:al ice:localhost",
            f"auth:{'a' * 1024}:localhost:pa:ss",
            f"setpass:alice:{'b' * 1024}:x",
        ]
        with capturedLogs() as events:
            self.assertEqual(self.answers(*requests), [0] * len(requests))
        self.assertEqual(len(events), len(requests))
        self.assertTrue(all(e["log_level"] == LogLevel.warn for e in events))
        self.assertFalse(any("log_failure" in e for e in events))
        self.assertEqual(self.accounts.passwords, {("alice", "localhost"): "pa:ss"})

    def test_names_are_prepared(self) -> None:
        """User and host reach the backend stringprepped, as ejabberd would send them."""
        self.assertEqual(self.answers("auth:Alice:LocalHost:pa:ss"), [1])

    def test_oversized_request_closes(self) -> None:
        """A length beyond any sane request closes the stream."""
        self.protocol.dataReceived(struct.pack(">H", 60000))
        self.assertTrue(self.transport.disconnecting)

    def test_close_notifies(self) -> None:
        """When ejabberd closes our stdin, the program is told to exit."""
        self.protocol.connectionLost(None)
        self.assertEqual(self.closed, [True])

    def test_stdin_closed_finishes_answers(self) -> None:
        """Closing our stdin still lets pending answers out, then closes stdout."""
        self.protocol.dataReceived(frame("isuser:alice:localhost"))
        self.protocol.readConnectionLost()
        self.assertEqual(self.transport.value(), struct.pack(">HH", 2, 1))
        self.assertTrue(self.transport.disconnecting)


class RecordingAccounts(Accounts):
    """A backend that also records logins, like the embedded one."""

    def __init__(self, broken: bool = False) -> None:
        super().__init__()
        self.logins: list[tuple[str, str]] = []
        self.broken = broken

    def record_login(self, user: str, host: str) -> Deferred[bool]:
        if self.broken:
            return fail(RuntimeError("store down"))
        self.logins.append((user, host))
        return succeed(True)


class LoginRecordTests(SynchronousTestCase):
    def answers(self, accounts: Accounts, *requests: str) -> list[int]:
        transport = StringTransport()
        protocol = ExtauthProtocol(accounts)
        protocol.makeConnection(transport)
        protocol.dataReceived(b"".join(frame(r) for r in requests))
        out = transport.value()
        return [struct.unpack(">HH", out[i : i + 4])[1] for i in range(0, len(out), 4)]

    def test_successful_auth_is_recorded(self) -> None:
        """Only a successful auth is recorded as a login; other requests record nothing."""
        accounts = RecordingAccounts()
        answers = self.answers(
            accounts,
            "auth:alice:localhost:nope",
            "auth:alice:localhost:pa:ss",
            "isuser:alice:localhost",
            "auth:bob:localhost:pa:ss",
        )
        self.assertEqual(answers, [0, 1, 1, 0])
        self.assertEqual(accounts.logins, [("alice", "localhost")])

    def test_recording_failure_does_not_refuse_login(self) -> None:
        """When the login cannot be recorded, the user still logs in and the error is logged."""
        accounts = RecordingAccounts(broken=True)
        self.assertEqual(self.answers(accounts, "auth:alice:localhost:pa:ss"), [1])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
