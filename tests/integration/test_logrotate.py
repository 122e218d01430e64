"""logrotate with the shipped snippet against the real daemon: the log moves, the daemon reopens."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration import daemon
from tests.test_operator_kit import logrotate_config


def _wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate is missing")
def test_logrotate_and_sigusr1(tmp_path: Path) -> None:
    """After logrotate moves the log and signals the daemon, it runs on and writes a new file.

    The old lines stay in the moved file (``gateway.log.1``, compressed one
    rotation later); SIGUSR1 would end a daemon that did not handle it.
    """
    http, xmlrpc = daemon.free_port(), daemon.free_port()
    config = daemon.write_config(tmp_path, http, xmlrpc)
    log, pidfile = tmp_path / "gateway.log", tmp_path / "twistd.pid"
    process = daemon.start(config, tmp_path, ["--logfile", str(log)])
    try:
        daemon.wait_for_http(process, http)
        daemon.post_json(http, "status")
        # access lines are written in batches, within about a second
        assert _wait_for(lambda: "POST /api/status" in log.read_text())
        rotated = subprocess.run(
            [
                "logrotate",
                "--force",
                "--state",
                str(tmp_path / "logrotate.state"),
                str(logrotate_config(tmp_path, log, pidfile)),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rotated.returncode == 0, rotated.stderr
        old = tmp_path / "gateway.log.1"
        assert "POST /api/status" in old.read_text()
        assert _wait_for(lambda: "SIGUSR1: log file" in log.read_text())
        assert process.poll() is None, daemon.output(process)
        status, _ = daemon.post_json(http, "status")
        assert status == 200
        assert _wait_for(lambda: "POST /api/status" in log.read_text())
        assert "SIGUSR1" not in old.read_text()
    finally:
        daemon.stop(process)
