"""Fakes and helpers shared by the XML-RPC tests (this module holds no tests).

A real :class:`~gateway.engine.dispatch.Engine` runs over :class:`FakeBackend`
and :class:`FakePermissions`, so argument checks, permission order and
version adapters are the engine's own.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, cast

from twisted.internet.defer import Deferred, fail, succeed
from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.backends.interfaces import TokenGrant
from gateway.engine.adapters import standard_adapters
from gateway.engine.auth import Authenticator
from gateway.engine.builtin import GatewayCommands
from gateway.engine.catalogue import Catalogue, definition_from_row
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed, TypedCommandError, Unavailable
from gateway.engine.model import Caller, CommandDefinition, ResTuple
from gateway.frontends.xmlrpc import XmlRpcResource
from gateway.logs import LogLevelControl

NOW = 1_000_000.0
NODE = "gw@test"


class FakeBackend:
    """An in-memory backend with a handful of commands and two accounts."""

    name = "fake"

    def __init__(self) -> None:
        self.hosts = ["localhost"]
        self.accounts: dict[tuple[str, str], str] = {
            ("admin", "localhost"): "secret",
            ("alice", "localhost"): "pw",
        }
        self.tokens: dict[str, TokenGrant] = {
            "good": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW + 60),
            "old": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW - 1),
        }
        self.calls: list[tuple[str, dict[str, Any], Caller]] = []
        self.pending: Deferred[Any] | None = None
        self.handlers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            "registered_users": self._registered_users,
            "register": self._register,
            "check_account": lambda a: (a["user"], a["host"]) in self.accounts,
            "delete_old_users": self._delete_old_users,
            "connected_users_number": lambda a: 0,
            "kick_session": self._kick_session,
            "get_last": lambda a: ("2024-05-01T10:00:00Z", "Away"),
            "get_user_subscriptions": lambda a: [("room@conference.localhost", "al", ["n1", "n2"])],
            "set_vcard2_multi": lambda a: True,
            "create_room_with_opts": lambda a: True,
            "srg_get_info": self._broken,
            "stats": self._unavailable,
            "get_roster": lambda a: [],
        }

    # Backend protocol ------------------------------------------------------------

    def supports(self, command: str) -> bool:
        return command in self.handlers

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        self.calls.append((command, dict(args), caller))
        if self.pending is not None:
            return self.pending
        try:
            return succeed(self.handlers[command](args))
        except Exception as e:
            return fail(e)

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        return succeed(self.accounts.get((user, host)) == password)

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        return succeed(self.tokens.get(token))

    # commands --------------------------------------------------------------------

    def _registered_users(self, args: Mapping[str, Any]) -> list[str]:
        if args["host"] not in self.hosts:
            raise CommandFailed("Unknown virtual host")
        return sorted(u for u, h in self.accounts if h == args["host"])

    def _register(self, args: Mapping[str, Any]) -> ResTuple:
        user, host = args["user"], args["host"]
        if (user, host) in self.accounts:
            raise TypedCommandError("conflict", 10090, f"User {user}@{host} already registered")
        self.accounts[(user, host)] = args["password"]
        return ResTuple(f"User {user}@{host} successfully registered")

    def _kick_session(self, args: Mapping[str, Any]) -> bool:
        raise CommandFailed("No such session")

    def _delete_old_users(self, args: Mapping[str, Any]) -> ResTuple:
        if args["days"] < 0:
            raise CommandFailed("Days must be positive")
        return ResTuple("Deleted 0 users: []")

    def _broken(self, args: Mapping[str, Any]) -> Any:
        raise RuntimeError("the fake backend broke")

    def _unavailable(self, args: Mapping[str, Any]) -> Any:
        raise Unavailable("the upstream server is not reachable")


class FakePermissions:
    """Admins may run everything; anyone may run a few harmless commands."""

    OPEN = frozenset({"status", "connected_users_number", "get_last"})

    def allows(self, caller: Caller, definition: CommandDefinition) -> bool:
        return caller.jid == "admin@localhost" or definition.name in self.OPEN


def make_engine(
    profile: str,
    backend: FakeBackend,
    catalogue: Catalogue | None = None,
    authenticator: Authenticator | None = None,
) -> Engine:
    canonical = catalogue if catalogue is not None else Catalogue.load("24.12")
    return Engine(
        catalogue if catalogue is not None else Catalogue.load(profile),
        canonical,
        backend,
        GatewayCommands(["localhost"], LogLevelControl(), node=NODE),
        FakePermissions(),
        standard_adapters(),
        authenticator=authenticator or Authenticator(backend, clock=lambda: NOW),
    )


def make_resource(
    profile: str = "24.12",
    backend: FakeBackend | None = None,
    catalogue: Catalogue | None = None,
    **options: Any,
) -> tuple[XmlRpcResource, FakeBackend]:
    backend = backend if backend is not None else FakeBackend()
    engine = make_engine(profile, backend, catalogue)
    return XmlRpcResource(engine, **options), backend


def shape_catalogue(profile: str) -> Catalogue:
    """Commands made up for argument shapes no real command covers in both releases."""
    rows = [
        {
            "name": "take_point",
            "version": 0,
            "args": [["point", {"tuple": [["x", "integer"], ["label", "binary"]]}]],
            "result": ["res", "rescode"],
        },
        {
            "name": "take_points",
            "version": 0,
            "args": [
                ["points", {"list": ["point", {"tuple": [["x", "integer"], ["label", "binary"]]}]}]
            ],
            "result": ["res", "rescode"],
        },
        {
            "name": "take_groups",
            "version": 0,
            "args": [["groups", {"list": ["group", "binary"]}], ["days", "integer"]],
            "result": ["res", "rescode"],
        },
        {
            "name": "give_nested",
            "version": 0,
            "args": [],
            "result": [
                "items",
                {
                    "list": [
                        "item",
                        {
                            "tuple": [
                                ["jid", "string"],
                                ["count", "integer"],
                                ["groups", {"list": ["group", "string"]}],
                                ["ok", "rescode"],
                            ]
                        },
                    ]
                },
            ],
        },
    ]
    defaults = {"tags": [], "policy": "restricted", "args_rename": [], "internal": False}
    return Catalogue(profile, [definition_from_row({**defaults, **row}) for row in rows])


@dataclass
class Reply:
    """What the resource answered."""

    status: int
    headers: dict[str, str]
    body: bytes
    finished: bool = field(default=True)

    def loads(self) -> Any:
        """The single response value, parsed by Python's own XML-RPC client."""
        (value,), _ = xmlrpc.client.loads(self.body.decode("utf-8"))
        return value

    def fault(self) -> xmlrpc.client.Fault:
        """The fault, parsed by Python's own XML-RPC client."""
        try:
            xmlrpc.client.loads(self.body.decode("utf-8"))
        except xmlrpc.client.Fault as f:
            return f
        raise AssertionError(f"not a fault: {self.body!r}")


def render(resource: XmlRpcResource, request: DummyRequest) -> bytes | int:
    """``resource.render`` for a :class:`DummyRequest` (which does not declare IRequest)."""
    return resource.render(cast(IRequest, request))


def post(resource: XmlRpcResource, body: bytes, *, method: bytes = b"POST") -> Reply:
    """Render one request through ``resource`` and collect the answer."""
    request = DummyRequest([b"xmlrpc"])
    request.method = method
    request.content = BytesIO(body)  # type: ignore[attr-defined]
    result = render(resource, request)
    if isinstance(result, bytes):
        request.write(result)
        request.finish()
    headers = {
        name.decode().lower(): values[-1].decode()
        for name, values in request.responseHeaders.getAllRawHeaders()
    }
    return Reply(
        request.responseCode or 200, headers, b"".join(request.written), bool(request.finished)
    )


def call(resource: XmlRpcResource, method: str, *params: Any) -> Reply:
    """POST a method call built by Python's XML-RPC client."""
    return post(resource, xmlrpc.client.dumps(tuple(params), methodname=method).encode("utf-8"))


def raw_call(resource: XmlRpcResource, method: str, *params_xml: str) -> Reply:
    """POST a method call whose ``<value>`` elements are given as XML text."""
    params = "".join(f"<param>{p}</param>" for p in params_xml)
    body = f"<methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    return post(resource, body.encode("utf-8"))


def struct_xml(*members: tuple[str, str]) -> str:
    """A ``<value><struct>`` with members given as (name, value XML)."""
    inner = "".join(f"<member><name>{n}</name>{v}</member>" for n, v in members)
    return f"<value><struct>{inner}</struct></value>"


def s(text: str) -> str:
    return f"<value><string>{text}</string></value>"


def i(number: int) -> str:
    return f"<value><int>{number}</int></value>"


ADMIN = {"user": "admin", "server": "localhost", "password": "secret"}
