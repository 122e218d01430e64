"""The /health endpoint reports the gateway's dependencies as JSON with 200 or 503."""

from __future__ import annotations

import json
from typing import Any

from twisted.web.test.requesthelper import DummyRequest

from gateway.frontends.health import HealthResource


def get(resource: HealthResource) -> tuple[int, dict[str, Any]]:
    request = DummyRequest([b"health"])
    body = resource.render_GET(request)
    return request.responseCode or 200, json.loads(body)


def test_healthy() -> None:
    """All checks passing gives 200 and each check's details."""
    resource = HealthResource({"xmpp": lambda: (True, {"connected": True})})
    assert get(resource) == (200, {"status": "ok", "xmpp": {"connected": True}})


def test_unhealthy() -> None:
    """One failing check gives 503 and says which."""
    resource = HealthResource(
        {"store": lambda: (True, {}), "xmpp": lambda: (False, {"connected": False})}
    )
    status, body = get(resource)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["xmpp"] == {"connected": False}
