"""Driving the ``/oauth`` resource with ``DummyRequest`` s over the grants of ``oauth_helpers``."""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Sequence
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit

from twisted.web.iweb import IRequest

from gateway.frontends.oauth import OAuthResource
from tests.engine.oauth_helpers import World
from tests.frontends.helpers import make_request
from tests.frontends.jsonapi.helpers import Answer, answer_of

FORM = (b"Content-Type", b"application/x-www-form-urlencoded")
OFFICE = "10.1.2.3"


def resource(world: World) -> OAuthResource:
    return OAuthResource(world.grants)


def post(
    oauth: OAuthResource,
    path: str,
    fields: Sequence[tuple[str, str]] | bytes,
    *,
    headers: Sequence[tuple[bytes, bytes]] = (FORM,),
    ip: str = "127.0.0.1",
) -> Answer:
    """``POST /oauth/<path>`` with form ``fields`` (or a raw body)."""
    body = fields if isinstance(fields, bytes) else urlencode(fields).encode()
    request = make_request(b"POST", f"/oauth/{path}", body, headers=headers, mount="/oauth", ip=ip)
    oauth.render(cast(IRequest, request))
    return answer_of(request)


def get(oauth: OAuthResource, path: str, ip: str = "127.0.0.1") -> Answer:
    return send(oauth, b"GET", path, ip=ip)


def send(oauth: OAuthResource, method: bytes, path: str, ip: str = "127.0.0.1") -> Answer:
    """``method /oauth/<path>`` without a body."""
    request = make_request(method, f"/oauth/{path}", mount="/oauth", ip=ip)
    oauth.render(cast(IRequest, request))
    return answer_of(request)


def basic(user: str, password: str) -> tuple[bytes, bytes]:
    return (b"Authorization", b"Basic " + b64encode(f"{user}:{password}".encode()))


def fragment(answer: Answer) -> tuple[str, dict[str, str]]:
    """Where a 302 goes (without the fragment) and the fields of its fragment."""
    location = answer.header("Location")
    assert answer.status == 302 and location is not None, answer
    parts = urlsplit(location)
    return location.partition("#")[0], dict(parse_qsl(parts.fragment))
