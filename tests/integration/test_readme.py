"""The README's examples work as written, against a daemon on the default ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration import daemon

README = daemon.ROOT / "README.md"


def blocks(language: str) -> list[str]:
    text = README.read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def commands() -> list[str]:
    """Every curl/wget command line in the README's shell blocks, continuations joined."""
    found = []
    for block in blocks("sh"):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #")[0].strip()
            if command.startswith(("curl ", "wget ")):
                found.append(command)
    return found


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # like the daemon's own listener, ignore connections lingering in TIME_WAIT
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def default_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[daemon.Daemon]:
    """The daemon with conf/gateway.yml's ports (5280, 4560) and an admin account."""
    if not (port_free(5280) and port_free(4560)):
        if os.environ.get("CI"):
            pytest.fail("ports 5280/4560 are taken: the README examples need them")
        pytest.skip("ports 5280/4560 are taken")
    workdir = tmp_path_factory.mktemp("readme")
    with daemon.running_daemon(workdir, http_port=5280, xmlrpc_port=4560) as d:
        result = d.ctl("register", "admin", "localhost", "secret")
        assert result.returncode == 0, result.stdout
        yield d


def test_readme_has_examples() -> None:
    """The README shows curl, wget and xmlrpc.client examples."""
    assert any(c.startswith("curl") and "/api/" in c for c in commands())
    assert any("/xmlrpc" in c for c in commands())
    assert any(c.startswith("wget") for c in commands())
    assert any("xmlrpc.client" in b for b in blocks("python"))


@pytest.mark.parametrize("command", commands())
def test_shell_example(default_daemon: daemon.Daemon, command: str, tmp_path: Path) -> None:
    """Each curl/wget example succeeds and gets no error answer."""
    if command.startswith("wget") and not daemon.shutil_which("wget"):
        pytest.skip("wget is not installed")
    result = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert '"status":"error"' not in result.stdout
    assert "<fault>" not in result.stdout
    assert not result.stdout.startswith("Error")


def test_python_example(default_daemon: daemon.Daemon, tmp_path: Path) -> None:
    """The xmlrpc.client example runs and prints the user list and the status."""
    [code] = [b for b in blocks("python") if "xmlrpc.client" in b]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "'users': [" in result.stdout
    assert "is started. Status: started" in result.stdout
