"""A canned ejabberd ``/api`` for the upstream client's tests, served through StubTreq."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from gateway.backends.upstream.client import UpstreamClient
from gateway.config.model import UpstreamConfig

URL = "http://upstream.test/api"
STATUS_2301 = (
    "The node ejabberd@localhost is started. Status: startedejabberd 23.01 is running in that node"
)
STATUS_2412 = (
    "The node ejabberd@localhost is started. Status: started  "
    "ejabberd 24.12 is running in that node"
)


@dataclass
class Seen:
    """One request the canned upstream received."""

    path: str
    body: Any
    authorization: str | None
    #: fires when the request's connection ends before it was answered
    lost: Deferred[None] = field(default_factory=Deferred)


class CannedApi(Resource):
    """Answers ``POST /api/<path>`` with the ``(status, json body)`` given for that path.

    A path mapped to ``None`` is never answered (the request hangs); a body
    given as ``bytes`` is sent as it is.
    """

    isLeaf = True

    def __init__(self, answers: dict[str, tuple[int, Any] | None]) -> None:
        super().__init__()
        self.answers = answers
        self.seen: list[Seen] = []

    def render_POST(self, request: Request) -> bytes | int:  # noqa: N802
        path = request.path.decode()
        raw = request.content.read() if request.content is not None else b""
        auth = request.getHeader("authorization")
        seen = Seen(path, json.loads(raw) if raw else None, auth)
        self.seen.append(seen)
        answer = self.answers.get(path, (404, {"status": "error", "code": 40, "message": "x"}))
        if answer is None:
            request.notifyFinish().addErrback(lambda _: seen.lost.callback(None))
            return NOT_DONE_YET
        status, body = answer
        request.setResponseCode(status)
        request.setHeader("content-type", "application/json")
        return body if isinstance(body, bytes) else json.dumps(body).encode()


def make_client(
    answers: dict[str, tuple[int, Any] | None], **options: Any
) -> tuple[UpstreamClient, CannedApi, StubTreq, Clock]:
    """A client of the canned upstream; ``options`` override the config's fields."""
    settings: dict[str, Any] = {"url": URL, "user": "gw@localhost", "password": "pw"}
    settings.update(options)
    api = CannedApi(answers)
    stub = StubTreq(api)
    clock = Clock()
    client = UpstreamClient(UpstreamConfig(**settings), clock, http=stub)
    return client, api, stub, clock
