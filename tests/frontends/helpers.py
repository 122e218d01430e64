"""What the tests of every dialect share: requests as the router hands them, and accounts.

:func:`make_request` builds a ``DummyRequest`` for a handler mounted at a
path prefix, from a given client address; :func:`basic` an
``Authorization: Basic`` header.  :data:`ACCOUNTS` are the accounts the
/api and ejabberdctl tests give :class:`gateway.testing.FakeBackend`, and
:data:`ROSTER_RESULT` the result type the encoders' tests shape rosters by.
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Sequence
from io import BytesIO
from urllib.parse import unquote_to_bytes

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.web.test.requesthelper import DummyRequest

#: the Erlang node name the gateway's ``status`` reports
NODE = "xmpp-gateway@testhost"

#: ``(user, host) -> password``
ACCOUNTS = {
    ("admin", "localhost"): "secret",
    ("alice", "localhost"): "alicepw",
    ("bob", "localhost"): "bobpw",
}

#: ``get_roster``'s 24.12 result, ``[name, type]`` as the catalogue writes it
ROSTER_RESULT = [
    "contacts",
    {
        "list": [
            "contact",
            {
                "tuple": [
                    ["jid", "string"],
                    ["nick", "string"],
                    ["subscription", "string"],
                    ["pending", "string"],
                    ["groups", {"list": ["group", "string"]}],
                ]
            },
        ]
    },
]


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


def basic(jid: str, password: str) -> tuple[bytes, bytes]:
    """An ``Authorization: Basic`` header."""
    return (b"Authorization", b"Basic " + b64encode(f"{jid}:{password}".encode()))
