"""Helpers shared by the XML-RPC tests (this module holds no tests).

A real :class:`~gateway.engine.dispatch.Engine` runs over
:class:`gateway.testing.FakeBackend` and :class:`FakePermissions`, so
argument checks, permission order and version adapters are the engine's own.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, cast

from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest

from gateway.backends.interfaces import TokenGrant
from gateway.engine.auth import Authenticator
from gateway.engine.catalogue import Catalogue, definition_from_row
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandFailed, Unavailable
from gateway.engine.model import Caller, CommandDefinition, ResTuple
from gateway.frontends.xmlrpc import XmlRpcResource
from gateway.testing import FakeBackend
from tests.engine import helpers as engine_helpers

NOW = 1_000_000.0
NODE = "gw@test"


ACCOUNTS = {("admin", "localhost"): "secret", ("alice", "localhost"): "pw"}
TOKENS = {
    "good": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW + 60),
    "old": TokenGrant("admin", "localhost", frozenset({"ejabberd:admin"}), NOW - 1),
}


def _delete_old_users(args: Mapping[str, Any]) -> ResTuple:
    if args["days"] < 0:
        raise CommandFailed("Days must be positive")
    return ResTuple("Deleted 0 users: []")


#: what the backend answers besides the account commands
ANSWERS: dict[str, Any] = {
    "delete_old_users": _delete_old_users,
    "connected_users_number": 0,
    "kick_session": CommandFailed("No such session"),
    "get_last": ("2024-05-01T10:00:00Z", "Away"),
    "get_user_subscriptions": [("room@conference.localhost", "al", ["n1", "n2"])],
    "set_vcard2_multi": True,
    "create_room_with_opts": True,
    "srg_get_info": RuntimeError("the fake backend broke"),
    "stats": Unavailable("the upstream server is not reachable"),
    "get_roster": [],
}


def make_backend() -> FakeBackend:
    """The shared fake backend with two accounts, two tokens and the answers above."""
    return FakeBackend(ACCOUNTS, tokens=TOKENS, answers=ANSWERS)


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
    return engine_helpers.make_engine(
        backend,
        FakePermissions(),
        profile=profile,
        catalogue=catalogue,
        node=NODE,
        authenticator=authenticator or Authenticator(backend, clock=lambda: NOW),
    )


def make_resource(
    profile: str = "24.12",
    backend: FakeBackend | None = None,
    catalogue: Catalogue | None = None,
    **options: Any,
) -> tuple[XmlRpcResource, FakeBackend]:
    backend = backend if backend is not None else make_backend()
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
