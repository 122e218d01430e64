"""Each dialect's request path is decode → one ``Engine.call`` → encode.

A spy wraps a real engine's ``call``: every frontend must hand a request to
it exactly once, decoded into a ``CommandCall``, and answer with the encoding
of the result it got back (never re-running a step of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.credentials import NO_CREDENTIALS, Basic, Password
from gateway.engine.dispatch import Engine
from gateway.engine.model import CommandCall, LateArguments, Result
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.jsonapi import JsonApiResource
from tests.frontends.ctl import helpers as ctl_helpers
from tests.frontends.jsonapi import helpers as jsonapi_helpers
from tests.frontends.rest import helpers as rest_helpers
from tests.frontends.xmlrpc import helpers as xmlrpc_helpers


@dataclass
class Spy:
    """The calls an engine was handed, and the results it answered them with."""

    calls: list[CommandCall] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    @property
    def only(self) -> tuple[CommandCall, Result]:
        assert len(self.calls) == 1, self.calls
        assert len(self.results) == 1, self.results
        return self.calls[0], self.results[0]


@contextmanager
def spying(engine: Engine) -> Iterator[Spy]:
    """Record ``engine.call`` while the block runs, the engine still doing the work."""
    spy = Spy()
    real = engine.call

    def call(command: CommandCall) -> Deferred[Result]:
        spy.calls.append(command)

        def keep(result: Result) -> Result:
            spy.results.append(result)
            return result

        return real(command).addCallback(keep)

    engine.call = call  # type: ignore[method-assign, assignment]
    try:
        yield spy
    finally:
        del engine.call


class OneCallTests(SynchronousTestCase):
    """One request, one engine call, its result encoded."""

    def test_json_api(self) -> None:
        """/api: one call with the path's command, the Basic credentials and a late body."""
        engine = jsonapi_helpers.make_engine()
        resource = JsonApiResource(engine)
        with spying(engine) as spy:
            answer = jsonapi_helpers.post(
                resource,
                "/api/registered_users",
                {"host": "localhost"},
                headers=[jsonapi_helpers.ADMIN],
            )
        call, result = spy.only
        self.assertEqual(
            (call.name, call.frontend, call.credentials),
            ("registered_users", "mod_http_api", Basic("admin@localhost", "secret")),
        )
        self.assertIsInstance(call.args, LateArguments)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.json(), result.value)
        self.assertEqual(answer.header("X-Api-Version"), str(result.definition.version))

    def test_xmlrpc(self) -> None:
        """XML-RPC: one call from the auth struct and the argument struct, newest version."""
        resource, _ = xmlrpc_helpers.make_resource()
        with spying(resource.handler.engine) as spy:
            reply = xmlrpc_helpers.call(
                resource, "registered_users", xmlrpc_helpers.ADMIN, {"host": "localhost"}
            )
        call, result = spy.only
        self.assertEqual(
            (call.name, call.version, call.frontend, call.credentials),
            ("registered_users", None, "ejabberd_xmlrpc", Password("admin", "localhost", "secret")),
        )
        self.assertEqual(reply.loads(), {result.definition.result.name: result.value})

    def test_xmlrpc_debug_method_runs_no_command(self) -> None:
        """XML-RPC's debug methods are answered without any command call."""
        resource, _ = xmlrpc_helpers.make_resource()
        with spying(resource.handler.engine) as spy:
            reply = xmlrpc_helpers.call(resource, "echothis", "hi")
        self.assertEqual((reply.loads(), spy.calls), ("hi", []))

    def test_ctl(self) -> None:
        """ejabberdctl: one call whose words are read late, lists required."""
        processor, _ = ctl_helpers.make()
        with spying(processor.engine) as spy:
            answer = self.successResultOf(processor.process(["registered_users", "localhost"]))
        call, result = spy.only
        self.assertEqual(
            (call.name, call.frontend, call.credentials),
            ("registered_users", "ejabberd_ctl", NO_CREDENTIALS),
        )
        assert isinstance(call.args, LateArguments)
        self.assertEqual(call.args.raw, ("localhost",))
        self.assertFalse(call.options.missing_list_is_empty)
        self.assertEqual(answer, ("\n".join(result.value), 0))

    def test_ctl_help_runs_no_command(self) -> None:
        """``help`` is answered from the catalogue, without any command call."""
        processor: CtlProcessor = ctl_helpers.make()[0]
        with spying(processor.engine) as spy:
            _, status = self.successResultOf(processor.process(["help", "status"]))
        self.assertEqual((status, spy.calls), (0, []))

    def test_mod_rest(self) -> None:
        """mod_rest: one call with the ``--auth`` credentials and the command line's words."""
        rig = rest_helpers.make_resource()
        with spying(rig.engine) as spy:
            answer = rest_helpers.post(
                rig, "--auth admin localhost secret registered_users localhost"
            )
        call, result = spy.only
        self.assertEqual(
            (call.name, call.frontend, call.credentials, call.raw_args),
            (
                "registered_users",
                "mod_rest",
                Password("admin", "localhost", "secret"),
                ("localhost",),
            ),
        )
        self.assertEqual((answer.status, answer.text), (200, "\n".join(result.value)))
