"""A live daemon with the shipped configuration, and the clients that attack it.

``ShippedDaemon`` runs ``twistd -n xmpp-gateway`` on ``conf/gateway.yml`` as
shipped, with only its ports changed, in a private working directory (so its
relative ``var/`` paths land there).  ``NormalClient`` keeps asking for
``status`` from another thread while an attack runs, so a test can assert that
ordinary callers are still served promptly.
"""

from __future__ import annotations

import base64
import http.client
import socket
import subprocess
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.integration import daemon as _daemon

#: the administrator of the shipped configuration, and an ordinary account
ADMIN = ("admin", "localhost", "adminpass")
ALICE = ("alice", "localhost", "alicepass")

#: a loopback address other than 127.0.0.1, for attackers that must not share
#: a brute-force ban with the normal client
ATTACKER_IP = "127.0.0.2"


def shipped_config(http_port: int, xmlrpc_port: int, component_port: int) -> dict[str, Any]:
    """conf/gateway.yml as shipped, with only its ports changed."""
    config = _daemon.default_config()
    config["listen"][0]["port"] = http_port
    config["listen"][1]["port"] = xmlrpc_port
    config["gateway"]["component"]["port"] = component_port
    return config


@dataclass
class ShippedDaemon:
    """A running daemon on the shipped configuration; see the module docstring."""

    workdir: Path
    http_port: int
    xmlrpc_port: int
    process: subprocess.Popen[str]
    config_path: Path

    def ctl(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """``gatewayctl --config <this daemon's config> argv…``, run in its working directory."""
        return subprocess.run(
            [str(_daemon.BIN / "gatewayctl"), "--config", str(self.config_path), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_daemon.env(),
            cwd=self.workdir,
        )

    def output(self) -> str:
        """What the daemon logged so far."""
        return _daemon.output(self.process)

    def http(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        source: str | None = None,
        port: int | None = None,
        timeout: float = 10,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request; ``source`` binds the client socket to that local address."""
        return http_request(
            port or self.http_port, method, path, body, headers, source=source, timeout=timeout
        )

    def api(
        self,
        command: str,
        body: Any = None,
        auth: tuple[str, str] | None = None,
        source: str | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """POST /api/<command> with a JSON body, optionally with Basic credentials."""
        import json

        headers = {"Content-Type": "application/json"}
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        data = json.dumps({} if body is None else body).encode()
        return self.http("POST", f"/api/{command}", data, headers, source=source)

    def rest(self, line: str | bytes, source: str | None = None) -> tuple[int, bytes]:
        """POST one mod_rest body; the status and the body of the answer."""
        data = line.encode() if isinstance(line, str) else line
        status, _, body = self.http("POST", "/rest", data, source=source)
        return status, body

    def xmlrpc(self, method: str, *params: Any, source: str | None = None) -> Any:
        """One XML-RPC call to the standalone listener; a Fault is returned, not raised."""
        data = xmlrpc.client.dumps(params, method).encode()
        status, _, body = self.http(
            "POST", "/", data, {"Content-Type": "text/xml"}, source=source, port=self.xmlrpc_port
        )
        assert status == 200, (status, body)
        try:
            return xmlrpc.client.loads(body.decode())[0][0]
        except xmlrpc.client.Fault as fault:
            return fault


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    source: str | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, str], bytes]:
    """One request to 127.0.0.1:``port`` on a fresh connection."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def with_limits(**values: Any) -> Callable[[dict[str, Any]], None]:
    """An ``adjust`` for :func:`shipped_daemon` setting ``gateway.limits`` keys (short timeouts)."""

    def adjust(config: dict[str, Any]) -> None:
        config["gateway"].setdefault("limits", {}).update(values)

    return adjust


@contextmanager
def shipped_daemon(
    workdir: Path,
    register: bool = True,
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[ShippedDaemon]:
    """Start a daemon on the shipped configuration; stop it afterwards.

    With ``register``, the shipped admin and an ordinary user ``alice`` are
    registered through gatewayctl first.  ``adjust`` may change the
    configuration (a dict, as loaded from conf/gateway.yml) before it is
    written, e.g. :func:`with_limits` for shorter timeouts or smaller caps.
    """
    http_port, xmlrpc_port = _daemon.free_port(), _daemon.free_port()
    config = shipped_config(http_port, xmlrpc_port, _daemon.free_port())
    if adjust is not None:
        adjust(config)
    config_path = workdir / "gateway.yml"
    config_path.write_text(yaml.safe_dump(config))
    process = _daemon.start(config_path, workdir)
    try:
        _daemon.wait_for_http(process, http_port)
        running = ShippedDaemon(workdir, http_port, xmlrpc_port, process, config_path)
        if register:
            for user, host, password in (ADMIN, ALICE):
                done = running.ctl("register", user, host, password)
                assert done.returncode == 0, done.stdout + done.stderr
        yield running
    finally:
        _daemon.stop(process)


@dataclass
class NormalClient:
    """Asks for ``status`` over /api in a loop; records how long each answer took."""

    port: int
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, _, _ = http_request(self.port, "POST", "/api/status", b"{}", timeout=10)
                if status != 200:
                    self.failures.append(f"status {status}")
            except OSError as e:
                self.failures.append(repr(e))
            self.latencies.append(time.monotonic() - started)
            time.sleep(0.02)

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=0.0)


@contextmanager
def normal_client(running: ShippedDaemon, bound: float = 1.0) -> Iterator[NormalClient]:
    """Run a :class:`NormalClient` during the ``with`` block, then assert it was served.

    Every one of its requests must have succeeded, and none may have taken
    longer than ``bound`` seconds (loose enough for a busy CI machine; an
    event loop held by an attack shows up as several seconds).
    """
    client = NormalClient(running.http_port)
    thread = threading.Thread(target=client.run, daemon=True)
    thread.start()
    try:
        yield client
    finally:
        client._stop.set()
        thread.join(timeout=30)
    assert client.latencies, "the normal client made no request"
    assert not client.failures, client.failures
    assert client.slowest < bound, f"a normal request took {client.slowest:.2f} s"


def can_bind(address: str) -> bool:
    """True when this machine lets a socket bind to ``address`` (e.g. 127.0.0.2)."""
    with socket.socket() as s:
        try:
            s.bind((address, 0))
        except OSError:
            return False
    return True
