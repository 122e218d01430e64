"""Fakes shared by the mod_http_api tests, and the tests that keep them honest.

A :class:`FakeBackend` holds a few accounts and tokens and runs a handful of
commands the way an ejabberd backend answers them; :func:`make_resource`
builds a :class:`JsonApiResource` on a real engine, catalogue and
``api_permissions`` (the rules of the reference 23.01 instance: anonymous
loopback callers may run ``status`` and ``connected_users_number``, the admin
anything but start/stop).  :func:`call` drives one request through a
``DummyRequest``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, cast
from urllib.parse import unquote_to_bytes

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.trial.unittest import SynchronousTestCase
from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.backends.interfaces import Backend, TokenGrant
from gateway.config.acl_parse import parse_acls
from gateway.config.permissions_parse import parse_api_permissions
from gateway.engine.adapters import standard_adapters
from gateway.engine.auth import Authenticator
from gateway.engine.builtin import GatewayCommands
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed, TypedCommandError
from gateway.engine.model import Caller, ResTuple
from gateway.engine.permissions import Permissions
from gateway.frontends.jsonapi import JsonApiResource
from gateway.logs import LogLevelControl

NOW = 1_700_000_000.0
NODE = "xmpp-gateway@testhost"

ACCOUNTS = {
    ("admin", "localhost"): "secret",
    ("alice", "localhost"): "alicepw",
    ("bob", "localhost"): "bobpw",
}
TOKENS = {
    "goodtoken": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW + 3600),
    "oldtoken": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW - 1),
}
ROSTER = [
    ("bob@localhost", "Bob", "both", "none", ["Friends", "Team"]),
]

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


class FakeBackend:
    """An in-memory backend with the accounts above and a few commands."""

    name = "fake"

    def __init__(self) -> None:
        self.accounts = dict(ACCOUNTS)
        self.calls: list[tuple[str, dict[str, Any], Caller]] = []
        #: Deferreds handed out by ``stats``, which never answers by itself
        self.pending: list[Deferred[Any]] = []
        self.cancelled = 0
        self._commands: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            "connected_users_number": lambda _: 0,
            "registered_users": self._registered_users,
            "check_account": lambda a: (a["user"], a["host"]) in self.accounts,
            "register": self._register,
            "change_password": self._change_password,
            "get_roster": lambda _: [tuple(item) for item in ROSTER],
            "delete_old_users": lambda a: ResTuple(f"Deleted 0 users older than {a['days']} days"),
            "get_room_options": lambda _: [("title", "Lobby"), ("public", "true")],
            "get_last": lambda _: ("2024-01-01T00:00:00Z", "Gone fishing"),
            "srg_get_info": lambda _: [("name", "Team"), ("description", "Us")],
            "kick_user": lambda _: ResTuple("Kicked sessions: 1", "not_ok"),
            "rooms_empty_destroy": lambda _: ResTuple("Room list unavailable", "error"),
            "get_presence": lambda _: ("alice@localhost/x", "available", "caf\udce9"),
            "stats": self._never,
        }

    # Executor -----------------------------------------------------------------

    def supports(self, command: str) -> bool:
        return command in self._commands

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.calls.append((command, dict(args), caller))
        try:
            value = self._commands[command](args)
        except Exception as e:
            return fail(e)
        if isinstance(value, Deferred):
            return value
        return succeed(value)

    # Backend ------------------------------------------------------------------

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        return succeed(self.accounts.get((user, host)) == password)

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(TOKENS.get(token))

    # commands -----------------------------------------------------------------

    def _registered_users(self, args: Mapping[str, Any]) -> list[str]:
        if args["host"] != "localhost":
            raise CommandFailed("Unknown virtual host")
        return sorted(user for user, host in self.accounts if host == args["host"])

    def _register(self, args: Mapping[str, Any]) -> ResTuple:
        jid = f"{args['user']}@{args['host']}"
        if (args["user"], args["host"]) in self.accounts:
            raise TypedCommandError("conflict", 10090, f"User {jid} already registered")
        self.accounts[(args["user"], args["host"])] = args["password"]
        return ResTuple(f"User {jid} successfully registered")

    def _change_password(self, args: Mapping[str, Any]) -> bool:
        if (args["user"], args["host"]) not in self.accounts:
            raise TypedCommandError("not_exists", 10001, "No such user")
        self.accounts[(args["user"], args["host"])] = args["newpass"]
        return True

    def _never(self, _: Mapping[str, Any]) -> Deferred[Any]:
        def cancel(d: Deferred[Any]) -> None:
            self.cancelled += 1

        pending: Deferred[Any] = Deferred(cancel)
        self.pending.append(pending)
        return pending


def make_permissions() -> Permissions:
    """The reference instance's ``api_permissions``, through the real evaluator."""
    return Permissions(parse_api_permissions(API_PERMISSIONS), parse_acls(ACL), hosts=["localhost"])


def make_engine(
    profile: str = "24.12",
    backend: FakeBackend | None = None,
    authenticator: Authenticator | None = None,
) -> Engine:
    """A real engine for ``profile`` over ``backend``, checking credentials against it."""
    backend = backend or FakeBackend()
    gateway = GatewayCommands(["localhost"], LogLevelControl(), node=NODE)
    return Engine(
        Catalogue.load(profile),
        Catalogue.load("24.12"),
        backend,
        gateway,
        make_permissions(),
        standard_adapters(),
        authenticator=authenticator or Authenticator(backend, clock=lambda: NOW),
    )


def make_resource(
    profile: str = "24.12", backend: FakeBackend | None = None, **options: Any
) -> JsonApiResource:
    """A ``JsonApiResource`` on a real engine; ``options`` go to its constructor."""
    return JsonApiResource(make_engine(profile, backend), **options)


def make_request(
    method: bytes,
    path: str,
    body: bytes | None = None,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (),
    mount: str = "/api",
    ip: str = "127.0.0.1",
) -> DummyRequest:
    """A ``DummyRequest`` as the prefix router hands it to a handler mounted at ``mount``.

    ``path`` is the full request target, query included.  A body is sent
    with its ``Content-Length``, as HTTP clients do.
    """
    target, _, _ = path.partition("?")
    segments = [unquote_to_bytes(s) for s in target.split("/") if s]
    prefix = [s.encode() for s in mount.split("/") if s]
    assert segments[: len(prefix)] == prefix, "path outside the mount point"
    request = DummyRequest(segments[len(prefix) :])
    request.prepath = prefix
    request.method = method
    request.uri = path.encode("utf-8")
    address = IPv6Address if ":" in ip else IPv4Address
    request.client = address("TCP", ip, 50000)
    request.content = BytesIO(body or b"")  # type: ignore[attr-defined]
    if body is not None:
        request.requestHeaders.setRawHeaders(b"content-length", [str(len(body)).encode()])
    for name, value in headers:
        request.requestHeaders.addRawHeader(name, value)
    return request


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


def basic(jid: str, password: str) -> tuple[bytes, bytes]:
    """An ``Authorization: Basic`` header."""
    from base64 import b64encode

    return (b"Authorization", b"Basic " + b64encode(f"{jid}:{password}".encode()))


ADMIN = basic("admin@localhost", "secret")


class FakeBackendTests(SynchronousTestCase):
    """The fake stands in for a real backend, so it must fit the same interface."""

    def test_is_a_backend(self) -> None:
        """FakeBackend satisfies the Backend protocol the engine relies on."""
        self.assertIsInstance(FakeBackend(), Backend)

    def test_passwords(self) -> None:
        """Only the stored password of an existing account checks out."""
        backend = FakeBackend()
        good = backend.check_password("admin", "localhost", "secret")
        self.assertTrue(self.successResultOf(good))
        self.assertFalse(self.successResultOf(backend.check_password("admin", "localhost", "x")))
        self.assertFalse(self.successResultOf(backend.check_password("nobody", "localhost", "")))

    def test_request_helper_splits_mount(self) -> None:
        """make_request puts the mount point in prepath and the rest, %-decoded, in postpath."""
        request = make_request(b"GET", "/v1/api/st%61tus/v2?x=1", mount="/v1/api")
        self.assertEqual(request.prepath, [b"v1", b"api"])
        self.assertEqual(request.postpath, [b"status", b"v2"])
        self.assertEqual(request.uri, b"/v1/api/st%61tus/v2?x=1")
