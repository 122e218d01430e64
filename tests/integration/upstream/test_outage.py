"""An upstream that is down or silent gives clear errors in every dialect, never a hang.

One gateway stands in front of an ejabberd that the test stops and starts again: while it is
down every dialect answers at once with the unavailable (or gateway-timeout) error of that
dialect, a caller's login is never reported as a wrong password, and once ejabberd is back
the same gateway, not restarted, answers normally.  Another gateway's upstream accepts
connections and never answers: calls end with the gateway-timeout error within the configured
timeout.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.engine.errors import ERROR_TABLE
from tests.compat.harness import ApiClient, XmlRpcClient
from tests.integration import daemon
from tests.integration.servers import LOOPBACK, missing_ejabberd, require
from tests.integration.upstream.harness import (
    ADMIN_AUTH,
    GATEWAY_PASSWORD,
    GATEWAY_USER,
    VHOST,
    RestClient,
    UpstreamEjabberd,
    ejabberd_upstream,
    running_gateway,
)

#: seconds a forwarded request may take in these tests
TIMEOUT = 2.0
#: the silent upstream's timeout: each call there waits that long
SILENT_TIMEOUT = 1.0
#: what a call may take beyond its timeout before it counts as hanging
SLACK = 3.0
#: the errors a call may get while ejabberd is down: refused at once, or late
OUTAGE_CODES = ("unavailable", "gateway_timeout")


@dataclass(frozen=True)
class Clients:
    api: ApiClient
    xmlrpc: XmlRpcClient
    rest: RestClient
    gateway: daemon.Daemon


def _clients(gateway: daemon.Daemon) -> Clients:
    return Clients(
        ApiClient(gateway.http_port),
        XmlRpcClient(gateway.xmlrpc_port, path="/"),
        RestClient(gateway.http_port),
        gateway,
    )


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _assert_outage_in_every_dialect(
    clients: Clients,
    auth: tuple[str, str],
    limit: float,
    codes: tuple[str, ...] = OUTAGE_CODES,
) -> dict[str, float]:
    """registered_users as ``auth`` in each dialect answers one of the errors ``codes``
    in that dialect's form within ``limit`` seconds; how long each took."""
    statuses = {ERROR_TABLE[code].http_status for code in codes}
    json_codes = {ERROR_TABLE[code].json_code for code in codes}
    faults = {ERROR_TABLE[code].xmlrpc_fault for code in codes}
    exits = {ERROR_TABLE[code].ctl_exit for code in codes}
    took = {}
    answer, took["api"] = _timed(
        lambda: clients.api.call("registered_users", {"host": VHOST}, auth)
    )
    assert answer.kind == "http" and answer.status in statuses, answer.show()
    assert isinstance(answer.body, dict), answer.show()
    assert answer.body.get("status") == "error" and answer.body.get("code") in json_codes
    assert answer.body.get("message"), answer.show()

    answer, took["xmlrpc"] = _timed(
        lambda: clients.xmlrpc.call("registered_users", ({"host": VHOST},), auth)
    )
    assert answer.kind == "fault" and answer.status in faults, answer.show()
    assert "upstream" in answer.body.lower() or "ejabberd" in answer.body.lower(), answer.show()

    answer, took["rest"] = _timed(lambda: clients.rest.call(f"registered_users {VHOST}", auth))
    assert answer.kind == "http" and answer.status in statuses, answer.show()
    assert isinstance(answer.body, str) and answer.body.strip(), answer.show()

    done, took["ctl"] = _timed(lambda: clients.gateway.ctl("registered_users", VHOST))
    assert done.returncode in exits, done
    assert (done.stdout + done.stderr).strip(), done

    slow = {dialect: seconds for dialect, seconds in took.items() if seconds > limit}
    assert not slow, f"answered after more than {limit}s: {slow}"
    return took


def _assert_served(clients: Clients, auth: tuple[str, str]) -> None:
    """registered_users succeeds in every dialect."""
    answer = clients.api.call("registered_users", {"host": VHOST}, auth)
    assert answer.status == 200 and GATEWAY_USER in answer.body, answer.show()
    answer = clients.xmlrpc.call("registered_users", ({"host": VHOST},), auth)
    assert answer.kind == "value", answer.show()
    answer = clients.rest.call(f"registered_users {VHOST}", auth)
    assert answer.status == 200 and GATEWAY_USER in answer.body.split("\n"), answer.show()
    done = clients.gateway.ctl("registered_users", VHOST)
    assert done.returncode == 0 and GATEWAY_USER in done.stdout.split("\n"), done


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UpstreamEjabberd, Clients]]:
    """An ejabberd the tests may stop, and a gateway in front of it (upstream timeout 2 s)."""
    require(missing_ejabberd())
    workdir = tmp_path_factory.mktemp("upstream-outage")
    with UpstreamEjabberd(users={"bob": "bob-secret"}) as ejabberd:
        upstream = ejabberd_upstream(ejabberd, api_profile="auto", timeout=TIMEOUT)
        # one worker: /health then tells what that worker saw of the upstream
        with running_gateway(workdir, upstream=upstream, stanzas="upstream", workers=1) as gateway:
            yield ejabberd, _clients(gateway)


def test_ejabberd_down_then_back(outage: tuple[UpstreamEjabberd, Clients]) -> None:
    """While ejabberd is stopped every dialect answers the unavailable/gateway-timeout error
    at once (a login the gateway has seen and one it has not: never "wrong password"); once
    ejabberd runs again, the same gateway serves every dialect."""
    ejabberd, clients = outage
    _assert_served(clients, ADMIN_AUTH)
    assert _get(clients.gateway.http_port, "/health")[0] == 200
    ejabberd.stop()
    try:
        _assert_outage_in_every_dialect(clients, ADMIN_AUTH, TIMEOUT + SLACK)
        _assert_outage_in_every_dialect(clients, (f"bob@{VHOST}", "bob-secret"), TIMEOUT + SLACK)
        health = _get(clients.gateway.http_port, "/health")
        assert health[0] == 503, health
    finally:
        ejabberd.start()
    deadline = time.monotonic() + 30
    while True:
        answer = clients.api.call("registered_users", {"host": VHOST}, ADMIN_AUTH)
        if answer.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    _assert_served(clients, ADMIN_AUTH)
    assert _get(clients.gateway.http_port, "/health")[0] == 200
    answer = clients.api.call("registered_users", {"host": VHOST}, (f"bob@{VHOST}", "bob-secret"))
    assert answer.status == 403, answer.show()  # bob logs in, but may not run it


def _get(port: int, path: str) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body.decode(errors="replace")
    finally:
        connection.close()


class SilentServer:
    """A TCP server on loopback that accepts connections, reads them and never answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed.set()
        self._listener.close()
        for connection in list(self._connections):
            connection.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)
            threading.Thread(target=self._drain, args=(connection,), daemon=True).start()

    @staticmethod
    def _drain(connection: socket.socket) -> None:
        try:
            while connection.recv(65536):
                pass
        except OSError:
            pass


def test_silent_upstream_times_out(tmp_path: Path) -> None:
    """An upstream that accepts and never answers: every dialect gets the gateway-timeout
    error (504 on /api and /rest, a fault on XML-RPC, exit 1 on gatewayctl) after about the
    configured timeout, not before it and not much later; also when no login is checked."""
    with SilentServer() as silent:
        upstream = {
            "url": f"http://{LOOPBACK}:{silent.port}/api",
            "auth": {"user": f"{GATEWAY_USER}@{VHOST}", "password": GATEWAY_PASSWORD},
            # a fixed profile: "auto" would ask the silent server first
            "api_profile": "23.01",
            "timeout": SILENT_TIMEOUT,
        }
        with running_gateway(tmp_path, upstream=upstream, stanzas="upstream") as gateway:
            clients = _clients(gateway)
            took = _assert_outage_in_every_dialect(
                clients, ADMIN_AUTH, SILENT_TIMEOUT + SLACK, ("gateway_timeout",)
            )
            assert min(took.values()) >= SILENT_TIMEOUT * 0.9, took
            # anonymous: no login to check, the forwarded command itself times out
            answer, seconds = _timed(lambda: clients.api.call("connected_users_number", {}, None))
            assert answer.status == ERROR_TABLE["gateway_timeout"].http_status, answer.show()
            assert SILENT_TIMEOUT * 0.9 <= seconds <= SILENT_TIMEOUT + SLACK, seconds
