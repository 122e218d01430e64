"""Fixtures: each admin-enabled server once for the package, and a gateway in front of it."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, post_json, running_daemon
from tests.integration.servers import XmppServer, missing_ejabberd, missing_prosody, require
from tests.integration.xmpp_backend import admin_servers

ADMIN_PASSWORD = "admin-secret"
KINDS = ("prosody", "ejabberd")


@pytest.fixture(scope="package", params=KINDS)
def xmpp_server(request: pytest.FixtureRequest) -> Iterator[XmppServer]:
    """Prosody 0.12 or ejabberd 23.01 letting ``api.localhost`` administer ``localhost``."""
    kind: str = request.param
    require(missing_prosody() if kind == "prosody" else missing_ejabberd())
    with admin_servers.make(kind, users={"admin": ADMIN_PASSWORD}) as server:
        yield server


@dataclass
class Setup:
    """A server and the gateway whose ``xmpp`` backend administers it."""

    server: XmppServer
    gateway: Daemon

    @property
    def kind(self) -> str:
        return self.server.kind

    def api(
        self, command: str, body: object = None, password: str = ADMIN_PASSWORD
    ) -> tuple[int, object]:
        """POST /api/<command> as admin@localhost (checked by a SASL login to the server)."""
        auth = ("admin@localhost", password)
        return post_json(self.gateway.http_port, command, body, timeout=30, auth=auth)


def _health_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(setup: Setup, timeout: float = 40) -> None:
    """Wait until the link is up and the backend runs a discovered command (connected_users)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if _health_up(setup.gateway.http_port):
            status, last = setup.api("connected_users")
            if status == 200:
                return
        time.sleep(0.2)
    raise AssertionError(
        f"the xmpp backend did not become ready in {timeout}s (last answer {last!r})\n"
        f"{setup.server.log_text()[-3000:]}"
    )


def gateway_config(server: XmppServer, **xmpp: object) -> dict[str, object]:
    """``gateway.*`` keys for the ``xmpp`` backend and ``xmpp`` logins in front of ``server``."""
    component = server.component
    assert component is not None
    return {
        "backend": "xmpp",
        "auth": "xmpp",
        # the xmpp backend needs the component link in the serving process
        "workers": 1,
        "component": {
            "jid": component.domain,
            "secret": component.secret,
            "host": component.host,
            "port": component.port,
        },
        "xmpp": {
            "host": server.vhost,
            "timeout": 10,
            "c2s": f"tcp:host={server.host}:port={server.c2s_port}",
            "c2s_tls": "if_offered",
            **xmpp,
        },
    }


@pytest.fixture(scope="module")
def setup(xmpp_server: XmppServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A gateway with ``gateway.backend: xmpp`` and ``gateway.auth: xmpp`` linked to the server.

    Module-scoped: it holds the server's one component connection, which the raw component of
    test_server_setup.py needs for itself.
    """
    workdir: Path = tmp_path_factory.mktemp(f"xmpp-backend-{xmpp_server.kind}")
    with running_daemon(workdir, **gateway_config(xmpp_server)) as gateway:
        ready = Setup(xmpp_server, gateway)
        wait_until_ready(ready)
        yield ready
