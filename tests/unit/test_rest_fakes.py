"""Fakes shared by the mod_rest tests, and the tests that keep them honest.

:func:`make_resource` builds a :class:`RestResource` over a real
:class:`CtlProcessor`, engine, catalogue, authenticator and
``api_permissions`` evaluator, with a :class:`FakeBackend` holding a few
accounts and a :class:`FakeSink` in place of the component link.
:func:`post` drives one request through a ``DummyRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from lxml import etree
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.backends.interfaces import Backend, TokenGrant
from gateway.config.acl_parse import parse_access_rules, parse_acls
from gateway.config.model import AccessCommand, RestOptions
from gateway.config.permissions_parse import parse_api_permissions
from gateway.engine.adapters import standard_adapters
from gateway.engine.auth import Authenticator
from gateway.engine.builtin import GatewayCommands
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, CommandFailed, Unavailable
from gateway.engine.model import Caller
from gateway.engine.permissions import Permissions
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.rest import RestResource, StanzaSink
from gateway.frontends.rest.access import access_commands_checks
from gateway.logs import LogLevelControl
from gateway.stanza import Stanza, read_stanza
from tests.unit import test_jsonapi_fakes as jsonapi_fakes

NODE = "xmpp-gateway@testhost"
ACCOUNTS = {
    ("admin", "localhost"): "secret",
    ("robot", "localhost"): "robotpw",
    ("alice", "localhost"): "alicepw",
}
ACL = {"admin": {"user": "admin@localhost"}, "robots": {"user": "robot@localhost"}}
ACCESS_RULES = {
    "rest_admin": [{"allow": "admin"}],
    "rest_robots": [{"allow": "robots"}],
}
#: loopback callers of mod_rest may run anything but start/stop; nobody else anything
API_PERMISSIONS = {
    "rest callers": {
        "from": "mod_rest",
        "who": {"ip": "127.0.0.0/8"},
        "what": ["*", "!stop", "!start"],
    },
}
QUEUE_FULL = "the stanza queue is full (3 stanzas waiting)"


class FakeBackend:
    """An in-memory backend with the accounts above and a few commands."""

    name = "fake"

    def __init__(self) -> None:
        self.accounts = dict(ACCOUNTS)
        self.calls: list[tuple[str, dict[str, Any], Caller]] = []
        self.password_checks = 0

    def supports(self, command: str) -> bool:
        return command in (
            "connected_users_number",
            "registered_users",
            "check_account",
            "change_password",
        )

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.calls.append((command, dict(args), caller))
        if command == "connected_users_number":
            return succeed(0)
        if command == "registered_users":
            if args["host"] != "localhost":
                return fail(CommandFailed("Unknown virtual host"))
            return succeed(sorted(u for u, h in self.accounts if h == args["host"]))
        if command == "check_account":
            return succeed((args["user"], args["host"]) in self.accounts)
        self.accounts[(args["user"], args["host"])] = args["newpass"]
        return succeed(True)

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        self.password_checks += 1
        return succeed(self.accounts.get((user, host)) == password)

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(None)


@dataclass
class FakeSink:
    """Records what the resource queues; ``refuse`` makes every call fail with it."""

    refuse: CommandError | None = None
    #: the element of every stanza queued
    submitted: list[etree._Element] = field(default_factory=list)
    #: (element, timeout, Deferred) for every IQ sent with wait=iq
    iqs: list[tuple[etree._Element, float, Deferred[str]]] = field(default_factory=list)
    cancelled: int = 0

    def submit(self, stanza: Stanza, *, size: int | None = None) -> Deferred[None]:
        if self.refuse is not None:
            return fail(self.refuse)
        self.submitted.append(stanza.element)
        return succeed(None)

    def iq(self, stanza: Stanza, timeout: float, *, size: int | None = None) -> Deferred[str]:
        if self.refuse is not None:
            return fail(self.refuse)

        def cancel(_: Deferred[str]) -> None:
            self.cancelled += 1

        pending: Deferred[str] = Deferred(cancel)
        self.iqs.append((stanza.element, timeout, pending))
        return pending


def queue_full() -> Unavailable:
    return Unavailable(QUEUE_FULL)


def make_permissions(api_permissions: Mapping[str, Any] = API_PERMISSIONS) -> Permissions:
    return Permissions(
        parse_api_permissions(api_permissions),
        parse_acls(ACL),
        parse_access_rules(ACCESS_RULES),
        hosts=["localhost"],
    )


@dataclass
class Rig:
    """A resource with its fakes."""

    resource: RestResource
    backend: FakeBackend
    sink: FakeSink | None
    clock: Clock
    engine: Engine


def make_resource(
    options: RestOptions | None = None,
    *,
    sink: FakeSink | None = None,
    no_sink: bool = False,
    profile: str = "24.12",
    api_permissions: Mapping[str, Any] = API_PERMISSIONS,
    authenticator: Authenticator | None = None,
    **overrides: Any,
) -> Rig:
    """A ``RestResource`` on a real processor and engine; ``overrides`` go to its constructor.

    The engine checks credentials with ``authenticator`` (by default one
    over the fake backend) and holds the options' ``access_commands``, as
    the service wires it.
    """
    backend = FakeBackend()
    permissions = make_permissions(api_permissions)
    options = options or RestOptions()
    engine = Engine(
        Catalogue.load(profile),
        Catalogue.load("24.12"),
        backend,
        GatewayCommands(["localhost"], LogLevelControl(), node=NODE),
        permissions,
        standard_adapters(),
        authenticator=authenticator or Authenticator(backend),
        checks=access_commands_checks(options, permissions.access_allows),
    )
    processor = CtlProcessor(engine, frontend="mod_rest")
    clock = Clock()
    chosen = None if no_sink else (sink or FakeSink())
    kwargs: dict[str, Any] = {
        "hosts": ["localhost"],
        "max_body_bytes": 4096,
        "max_depth": 8,
        "iq_timeout": 10.0,
        "clock": clock,
    }
    kwargs.update(overrides)
    resource = RestResource(processor, cast(StanzaSink | None, chosen), options, **kwargs)
    return Rig(resource, backend, chosen, clock, engine)


def make_request(
    body: bytes | None,
    *,
    method: bytes = b"POST",
    path: str = "/rest",
    ip: str = "127.0.0.1",
    headers: Sequence[tuple[bytes, bytes]] = ((b"Host", b"localhost"),),
) -> DummyRequest:
    """A ``DummyRequest`` as the router hands it to mod_rest mounted at ``/rest``."""
    return jsonapi_fakes.make_request(method, path, body, headers=headers, mount="/rest", ip=ip)


@dataclass
class Answer:
    """What a request was answered with (``status`` is ``None`` while unanswered)."""

    status: int | None
    content_type: str | None
    body: bytes
    finished: int

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def answer_of(request: DummyRequest) -> Answer:
    types = request.responseHeaders.getRawHeaders(b"content-type")
    content_type = types[-1].decode() if types else None
    return Answer(request.responseCode, content_type, b"".join(request.written), request.finished)


def render(resource: RestResource, request: DummyRequest) -> Answer:
    resource.render(cast(IRequest, request))
    return answer_of(request)


def post(rig: Rig, body: bytes | str, **kw: Any) -> Answer:
    """POST ``body`` (text is sent as UTF-8) and return the answer."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return render(rig.resource, make_request(raw, **kw))


def rest_options(**fields: Any) -> RestOptions:
    """``RestOptions`` with ``access_commands`` given as (access, commands, restrictions)."""
    entries = fields.pop("access_commands", ())
    return RestOptions(
        access_commands=tuple(
            AccessCommand(access, None if names is None else frozenset(names), restrictions)
            for access, names, restrictions in entries
        ),
        **fields,
    )


class FakeTests(SynchronousTestCase):
    """The fakes must fit the interfaces they stand in for."""

    def test_backend_fits(self) -> None:
        """``FakeBackend`` provides the ``Backend`` protocol's methods."""
        backend: Backend = FakeBackend()
        self.assertEqual(backend.name, "fake")
        good = backend.check_password("admin", "localhost", "secret")
        self.assertTrue(self.successResultOf(good))
        self.assertFalse(self.successResultOf(backend.check_password("admin", "localhost", "x")))

    def test_sink_fits(self) -> None:
        """``FakeSink`` provides ``StanzaSink``; a refusing sink fails both calls."""
        sink: StanzaSink = FakeSink(refuse=queue_full())
        stanza = read_stanza(b"<iq type='get' id='1'/>")
        self.failureResultOf(sink.submit(stanza), Unavailable)
        self.failureResultOf(sink.iq(stanza, 1.0), Unavailable)

    def test_request_helper(self) -> None:
        """``make_request`` places the path below the mount point and sets the peer."""
        request = make_request(b"x", path="/rest/sub", ip="::1")
        self.assertEqual(request.postpath, [b"sub"])
        self.assertEqual(request.getClientAddress().host, "::1")
        self.assertEqual(request.getHeader(b"content-length"), b"1")
