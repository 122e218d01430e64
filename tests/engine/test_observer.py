"""The engine tells its observer how every call ended and how long it took."""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import CancelledError
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import TokenGrant
from gateway.engine.auth import Authenticator
from gateway.engine.catalogue import Catalogue
from gateway.engine.credentials import Basic
from gateway.engine.errors import Unauthorized, UnknownCommand
from gateway.engine.model import CommandCall
from gateway.testing import FakeBackend
from tests.engine.helpers import make_engine


class Observer:
    """Keeps what it is told."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, str, float]] = []

    def call_finished(
        self, frontend: str, command: str | None, outcome: str, seconds: float
    ) -> None:
        self.seen.append((frontend, command, outcome, seconds))


class Broken:
    """An observer that fails."""

    def call_finished(self, *args: Any) -> None:
        raise RuntimeError("observer broke")


class Clock:
    """A monotonic clock that moves 0.25 s each time it is read."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


class ObserverTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.backend = FakeBackend(
            {("admin", "localhost"): "pw"},
            tokens={"tok": TokenGrant("admin", "localhost", frozenset(), 100.0)},
            answers={"registered_users": ["alice"]},
        )
        self.observer = Observer()
        self.engine = make_engine(
            self.backend,
            authenticator=Authenticator(self.backend, clock=lambda: 0.0),
            observer=self.observer,
            clock=Clock(),
        )

    def call(self, name: str, *args: tuple[str, Any], frontend: str = "mod_http_api", **kw: Any):
        return self.engine.call(CommandCall(name, args, frontend=frontend, **kw))

    def test_success_is_ok_with_its_duration(self) -> None:
        """A call that succeeds is reported as ``ok`` with its dialect, command and duration."""
        self.successResultOf(self.call("registered_users", ("host", "localhost")))
        self.assertEqual(self.observer.seen, [("mod_http_api", "registered_users", "ok", 0.25)])

    def test_error_is_its_code(self) -> None:
        """A refused call is reported with its error's stable code; the error still reaches
        the caller."""
        wrong = Basic("admin@localhost", "nope")
        self.failureResultOf(
            self.call("registered_users", ("host", "localhost"), credentials=wrong), Unauthorized
        )
        self.assertEqual(
            self.observer.seen, [("mod_http_api", "registered_users", "unauthorized", 0.25)]
        )

    def test_error_before_lookup_keeps_a_known_name(self) -> None:
        """XML-RPC authenticates before the lookup: a known command is still named."""
        wrong = Basic("admin@localhost", "nope")
        self.failureResultOf(self.call("status", frontend="ejabberd_xmlrpc", credentials=wrong))
        self.assertEqual(self.observer.seen[0][:3], ("ejabberd_xmlrpc", "status", "unauthorized"))

    def test_unknown_names_are_not_reported(self) -> None:
        """A name the catalogue does not know is reported as ``None``, never as sent, so a
        caller cannot make up names in metrics."""
        self.failureResultOf(self.call("made_up_by_a_caller"), UnknownCommand)
        self.assertEqual(self.observer.seen, [("mod_http_api", None, "unknown_command", 0.25)])

    def test_cancelled_call(self) -> None:
        """A call cancelled while it runs (the client went away) is reported as ``cancelled``."""
        self.backend.hold("registered_users")
        running = self.call("registered_users", ("host", "localhost"))
        self.assertEqual(self.observer.seen, [])
        running.cancel()
        self.failureResultOf(running, CancelledError)
        self.assertEqual(self.observer.seen[0][2], "cancelled")

    def test_a_failing_observer_does_not_fail_the_call(self) -> None:
        """An observer that raises is logged; the caller still gets its result."""
        engine = make_engine(self.backend, observer=Broken())
        result = self.successResultOf(
            engine.call(CommandCall("registered_users", [("host", "h")], frontend="mod_rest"))
        )
        self.assertEqual(result.value, ["alice"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_profiles_share_the_observer(self) -> None:
        """The engine for another API profile (a listener's ``api_profile``) reports too."""
        legacy = self.engine.for_profile(Catalogue.load("23.01"))
        self.successResultOf(
            legacy.call(CommandCall("registered_users", [("host", "h")], frontend="mod_rest"))
        )
        self.assertEqual(self.observer.seen, [("mod_rest", "registered_users", "ok", 0.25)])
