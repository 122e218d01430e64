"""What the mod_http_api tests share: a resource on a real engine over the fake backend.

:func:`make_backend` is :class:`gateway.testing.FakeBackend` with a few
accounts and tokens, answering a handful of other commands the way an
ejabberd backend does; :func:`make_resource` builds a
:class:`JsonApiResource` on a real engine, catalogue and ``api_permissions``
(the rules of the reference 23.01 instance: anonymous loopback callers may
run ``status`` and ``connected_users_number``, the admin anything but
start/stop).  :func:`call` drives one request through a ``DummyRequest``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.backends.interfaces import TokenGrant
from gateway.config.acl_parse import parse_acls
from gateway.config.permissions_parse import parse_api_permissions
from gateway.engine.auth import Authenticator
from gateway.engine.dispatch import Engine
from gateway.engine.model import ResTuple
from gateway.engine.permissions import Permissions
from gateway.frontends.jsonapi import JsonApiResource
from gateway.testing import FakeBackend
from tests.engine import helpers as engine_helpers
from tests.frontends.helpers import ACCOUNTS, NODE, basic, make_request

NOW = 1_700_000_000.0
TOKENS = {
    "goodtoken": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW + 3600),
    "oldtoken": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW - 1),
}
ROSTER = [
    ("bob@localhost", "Bob", "both", "none", ["Friends", "Team"]),
]
#: what the backend answers besides the account commands, as ejabberd would
ANSWERS: dict[str, Any] = {
    "connected_users_number": 0,
    "get_roster": lambda _: list(ROSTER),
    "delete_old_users": lambda a: ResTuple(f"Deleted 0 users older than {a['days']} days"),
    "get_room_options": [("title", "Lobby"), ("public", "true")],
    "get_last": ("2024-01-01T00:00:00Z", "Gone fishing"),
    "srg_get_info": [("name", "Team"), ("description", "Us")],
    "kick_user": ResTuple("Kicked sessions: 1", "not_ok"),
    "rooms_empty_destroy": ResTuple("Room list unavailable", "error"),
    "get_presence": ("alice@localhost/x", "available", "caf\udce9"),
}

ACL = {"admin": {"user": "admin@localhost"}}
API_PERMISSIONS = {
    "public commands": {
        "who": {"ip": "127.0.0.1/8"},
        "what": ["status", "connected_users_number"],
    },
    "admin access": {
        "who": ["admin", {"oauth": {"scope": "ejabberd:admin", "acl": "admin"}}],
        "what": ["*", "!stop", "!start"],
    },
}


def make_backend() -> FakeBackend:
    """The shared fake backend with the accounts and tokens above and the commands these tests run.

    ``stats`` never answers by itself: its calls wait in ``backend.pending``.
    """
    backend = FakeBackend(ACCOUNTS, tokens=TOKENS, answers=ANSWERS)
    backend.hold("stats")
    return backend


def make_permissions() -> Permissions:
    """The reference instance's ``api_permissions``, through the real evaluator."""
    return Permissions(parse_api_permissions(API_PERMISSIONS), parse_acls(ACL), hosts=["localhost"])


def make_engine(
    profile: str = "24.12",
    backend: FakeBackend | None = None,
    authenticator: Authenticator | None = None,
) -> Engine:
    """A real engine for ``profile`` over ``backend``, checking credentials against it."""
    backend = backend or make_backend()
    return engine_helpers.make_engine(
        backend,
        make_permissions(),
        profile=profile,
        node=NODE,
        authenticator=authenticator or Authenticator(backend, clock=lambda: NOW),
    )


def make_resource(
    profile: str = "24.12", backend: FakeBackend | None = None, **options: Any
) -> JsonApiResource:
    """A ``JsonApiResource`` on a real engine; ``options`` go to its constructor."""
    return JsonApiResource(make_engine(profile, backend), **options)


@dataclass
class Answer:
    """What a request was answered with."""

    status: int | None
    headers: dict[str, list[str]]
    body: bytes
    finished: int

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    def json(self) -> Any:
        """The body as JSON, objects as lists of pairs so key order can be checked."""
        return json.loads(self.body, object_pairs_hook=lambda pairs: [list(p) for p in pairs])


def answer_of(request: DummyRequest) -> Answer:
    headers = {
        name.decode().lower(): [v.decode() for v in values]
        for name, values in request.responseHeaders.getAllRawHeaders()
    }
    return Answer(request.responseCode, headers, b"".join(request.written), request.finished)


def call(resource: JsonApiResource, request: DummyRequest) -> Answer:
    """Render ``request`` (the fakes answer synchronously) and return the answer."""
    resource.render(cast(IRequest, request))
    return answer_of(request)


def post(resource: JsonApiResource, path: str, body: Any = None, **kw: Any) -> Answer:
    """``POST path`` with ``body`` as JSON (or raw bytes)."""
    raw = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
    return call(resource, make_request(b"POST", path, raw, **kw))


def get(resource: JsonApiResource, path: str, **kw: Any) -> Answer:
    return call(resource, make_request(b"GET", path, **kw))


ADMIN = basic("admin@localhost", "secret")
