"""``GET /health``: whether the gateway can do its job, for load balancers and probes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from twisted.web.iweb import IRequest
from twisted.web.resource import Resource

__all__ = ["HealthResource"]


class HealthResource(Resource):
    """Answers 200 when every check passes and 503 otherwise, with a JSON body.

    ``checks`` maps a name to a function returning ``(healthy, details)``;
    the XMPP component link is one (healthy when up or not configured).
    """

    isLeaf = True

    def __init__(self, checks: dict[str, Callable[[], tuple[bool, dict[str, Any]]]]) -> None:
        super().__init__()
        self._checks = checks

    def render_GET(self, request: IRequest) -> bytes:
        results = {name: check() for name, check in self._checks.items()}
        healthy = all(ok for ok, _ in results.values())
        body = {
            "status": "ok" if healthy else "unavailable",
            **{name: details for name, (_, details) in results.items()},
        }
        request.setResponseCode(200 if healthy else 503)
        request.setHeader(b"Content-Type", b"application/json")
        request.setHeader(b"Cache-Control", b"no-store")
        return json.dumps(body, separators=(",", ":")).encode()

    render_HEAD = render_GET
