"""What the mod_rest tests share: a resource on a real processor and engine, over the fakes.

:func:`make_resource` builds a :class:`RestResource` over a real
:class:`CtlProcessor`, engine, catalogue, authenticator and
``api_permissions`` evaluator, with :class:`gateway.testing.FakeBackend`
holding a few accounts and :class:`gateway.testing.FakeStanzaSink` in place
of the component link.  :func:`post` drives one request through a
``DummyRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from twisted.internet.task import Clock
from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.config.acl_parse import parse_access_rules, parse_acls
from gateway.config.model import AccessCommand, RestOptions
from gateway.config.permissions_parse import parse_api_permissions
from gateway.engine.auth import Authenticator
from gateway.engine.dispatch import Engine
from gateway.engine.errors import Unavailable
from gateway.engine.permissions import Permissions
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.rest import RestResource, StanzaSink
from gateway.frontends.rest.access import access_commands_checks
from gateway.testing import FakeBackend, FakeStanzaSink
from tests.engine.helpers import make_engine
from tests.frontends.helpers import NODE
from tests.frontends.helpers import make_request as http_request

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


def make_backend() -> FakeBackend:
    """The shared fake backend with the accounts above (it counts the passwords it checks)."""
    return FakeBackend(ACCOUNTS, answers={"connected_users_number": 0})


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
    sink: FakeStanzaSink | None
    clock: Clock
    engine: Engine


def make_resource(
    options: RestOptions | None = None,
    *,
    sink: FakeStanzaSink | None = None,
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
    backend = make_backend()
    permissions = make_permissions(api_permissions)
    options = options or RestOptions()
    engine = make_engine(
        backend,
        permissions,
        profile=profile,
        node=NODE,
        authenticator=authenticator or Authenticator(backend),
        checks=access_commands_checks(options, permissions.access_allows),
    )
    processor = CtlProcessor(engine, frontend="mod_rest")
    clock = Clock()
    chosen = None if no_sink else (sink or FakeStanzaSink())
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
    return http_request(method, path, body, headers=headers, mount="/rest", ip=ip)


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
