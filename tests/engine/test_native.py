"""The engine's fidelity seam: executors that run a profile's own definitions unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import NativeExecutor
from gateway.engine.errors import InternalError, TypedCommandError
from gateway.engine.model import Caller, CommandCall, CommandDefinition
from gateway.testing import FakeBackend
from tests.engine.helpers import NoCommands, make_engine


class NativeFake(FakeBackend):
    """A fake backend that runs one profile natively and records what it was handed."""

    def __init__(self, profile: str | None, answer: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.profile = profile
        self.answer_value = answer
        self.native_calls: list[tuple[CommandDefinition, dict[str, Any]]] = []

    def native_profile(self, command: str) -> str | None:
        return self.profile

    def execute_definition(
        self, definition: CommandDefinition, args: Mapping[str, Any], caller: Caller
    ) -> Deferred[Any]:
        self.native_calls.append((definition, dict(args)))
        return succeed(self.answer_value)


# 23.01's get_roster: one {jid, nick, subscription, ask, group} per contact and group
ROSTER_2301 = [("bob@localhost", "Bob", "both", "none", "Friends")]
ROSTER_2412 = [("bob@localhost", "Bob", "both", "none", ["Friends"])]


def _roster_call(version: int | None = None) -> CommandCall:
    args = (("user", "alice"), ("host", "localhost"))
    return CommandCall("get_roster", args, version, frontend="mod_http_api")


class NativeSeamTests(SynchronousTestCase):
    def test_fake_is_a_native_executor(self) -> None:
        """The protocol recognises an executor with both methods, and not one without."""
        self.assertIsInstance(NativeFake("23.01", None), NativeExecutor)
        self.assertNotIsInstance(FakeBackend(), NativeExecutor)

    def test_same_profile_passes_through(self) -> None:
        """A 23.01 caller before a 23.01 executor: its definition and args go through unchanged."""
        backend = NativeFake("23.01", ROSTER_2301, answers={"get_roster": ROSTER_2412})
        engine = make_engine(backend, profile="23.01", gateway=NoCommands())
        result = self.successResultOf(engine.call(_roster_call()))
        [(definition, args)] = backend.native_calls
        self.assertEqual(definition, engine.resolve("get_roster"))
        self.assertEqual(args, {"user": "alice", "host": "localhost"})
        self.assertEqual(result.value, ROSTER_2301)
        self.assertEqual(backend.calls, [])  # the canonical path was not taken

    def test_other_profile_is_translated(self) -> None:
        """A 24.12 caller before a 23.01 executor goes the canonical way (execute)."""
        backend = NativeFake("23.01", ROSTER_2301, answers={"get_roster": ROSTER_2412})
        engine = make_engine(backend, profile="24.12", gateway=NoCommands())
        result = self.successResultOf(engine.call(_roster_call()))
        self.assertEqual(backend.native_calls, [])
        self.assertEqual([c[0] for c in backend.calls], ["get_roster"])
        self.assertEqual(result.value, ROSTER_2412)

    def test_versioned_caller_keeps_its_version(self) -> None:
        """A 24.12 caller asking version 0 of a command hands that very definition over."""
        backend = NativeFake("24.12", ["a"], answers={"get_roster": []})
        engine = make_engine(backend, profile="24.12", gateway=NoCommands())
        call = CommandCall(
            "get_roster", (("user", "alice"), ("host", "localhost")), 0, frontend="mod_http_api"
        )
        self.successResultOf(engine.call(call))
        [(definition, _)] = backend.native_calls
        self.assertEqual(definition.version, 0)

    def test_unknown_profile_takes_the_canonical_path(self) -> None:
        """An executor that does not know its profile yet is used the canonical way."""
        backend = NativeFake(None, None, answers={"get_roster": ROSTER_2412})
        engine = make_engine(backend, profile="24.12", gateway=NoCommands())
        self.successResultOf(engine.call(_roster_call()))
        self.assertEqual(backend.native_calls, [])
        self.assertEqual(len(backend.calls), 1)

    def test_native_errors_pass_through(self) -> None:
        """An unexpected exception of the native path is internal_error; a CommandError stays."""
        backend = NativeFake("24.12", None, answers={"get_roster": []})
        engine = make_engine(backend, profile="24.12", gateway=NoCommands())
        backend.execute_definition = lambda d, a, c: fail(RuntimeError("boom"))  # type: ignore[method-assign]
        self.failureResultOf(engine.call(_roster_call()), InternalError)
        self.flushLoggedErrors(RuntimeError)
        typed = TypedCommandError("conflict", 1, "x")
        backend.execute_definition = lambda d, a, c: fail(typed)  # type: ignore[method-assign]
        failure = self.failureResultOf(engine.call(_roster_call()), TypedCommandError)
        self.assertIs(failure.value, typed)
