"""Start the real daemon (``twistd -n xmpp-gateway``) in a subprocess for integration tests."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def shutil_which(name: str) -> str | None:
    """Where program ``name`` is on the PATH, if anywhere."""
    return shutil.which(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env() -> dict[str, str]:
    """The environment for child processes: this checkout first on the path."""
    result = dict(os.environ)
    result["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), result.get("PYTHONPATH")]))
    return result


def default_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "conf" / "gateway.yml").read_text())
    return config


def write_config(
    workdir: Path,
    http_port: int,
    xmlrpc_port: int,
    xmlrpc_profile: str | None = None,
    **gateway: Any,
) -> Path:
    """conf/gateway.yml with private ports and paths under ``workdir``."""
    config = default_config()
    config["listen"][0]["port"] = http_port
    config["listen"][1]["port"] = xmlrpc_port
    if xmlrpc_profile:
        config["listen"][1]["api_profile"] = xmlrpc_profile
    config["gateway"]["store"] = f"sqlite:{workdir / 'gateway.sqlite3'}"
    config["gateway"]["ctl_socket"] = str(workdir / "gatewayctl.sock")
    config["gateway"]["component"]["port"] = free_port()
    config["gateway"].update(gateway)
    path = workdir / "gateway.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def post_json(
    port: int,
    command: str,
    body: Any = None,
    timeout: float = 5,
    auth: tuple[str, str] | None = None,
) -> tuple[int, Any]:
    """POST ``body`` as JSON to ``/api/<command>``; the status and decoded answer."""
    data = json.dumps({} if body is None else body).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/{command}", data=data, method="POST"
    )
    if auth is not None:
        token = base64.b64encode(":".join(auth).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


class Daemon:
    def __init__(
        self, process: subprocess.Popen[str], config: Path, http_port: int, xmlrpc_port: int
    ) -> None:
        self.process = process
        self.config = config
        self.http_port = http_port
        self.xmlrpc_port = xmlrpc_port

    def ctl(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``gatewayctl --config <this daemon's config> argv…``."""
        return subprocess.run(
            [str(BIN / "gatewayctl"), "--config", str(self.config), *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env(),
        )


# pid -> (file holding the daemon's output, where this run's output starts in it)
_outputs: dict[int, tuple[Path, int]] = {}


def start(config: Path, workdir: Path, twistd_options: Sequence[str] = ()) -> subprocess.Popen[str]:
    """``twistd -n`` (with ``twistd_options``, e.g. ``--logfile``) running the daemon."""
    # The daemon logs every request: a pipe that nobody reads until the end would fill
    # up (64 KiB) and block it, so the output goes to a file in ``workdir`` instead.
    path = workdir / "daemon.out"
    with open(path, "ab") as out:
        process = subprocess.Popen(
            [
                str(BIN / "twistd"),
                "-n",
                "--pidfile",
                str(workdir / "twistd.pid"),
                *twistd_options,
                "xmpp-gateway",
                "--config",
                str(config),
            ],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env(),
        )
        _outputs[process.pid] = (path, out.tell())
    return process


def output(process: subprocess.Popen[str]) -> str:
    """What the daemon started as ``process`` has written to stdout and stderr so far."""
    path, offset = _outputs[process.pid]
    with open(path, "rb") as out:
        out.seek(offset)
        return out.read().decode(errors="replace")


def wait_for_http(process: subprocess.Popen[str], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daemon exited with {process.returncode}:\n{output(process)}")
        try:
            post_json(port, "status", timeout=1)
            return
        except (OSError, ValueError):
            time.sleep(0.1)
    raise AssertionError("daemon did not answer in time")


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return output(process)


@contextmanager
def running_daemon(
    workdir: Path,
    xmlrpc_profile: str | None = None,
    http_port: int | None = None,
    xmlrpc_port: int | None = None,
    **gateway: Any,
) -> Iterator[Daemon]:
    """A daemon on private (or given) ports with its state in ``workdir``; stopped afterwards."""
    http_port, xmlrpc_port = http_port or free_port(), xmlrpc_port or free_port()
    config = write_config(workdir, http_port, xmlrpc_port, xmlrpc_profile, **gateway)
    with serving(config, workdir, http_port, xmlrpc_port) as daemon:
        yield daemon


@contextmanager
def serving(config: Path, workdir: Path, http_port: int, xmlrpc_port: int) -> Iterator[Daemon]:
    """The daemon of ``config`` once its HTTP listener answers; stopped when the block ends."""
    process = start(config, workdir)
    try:
        wait_for_http(process, http_port)
        yield Daemon(process, config, http_port, xmlrpc_port)
    finally:
        stop(process)
