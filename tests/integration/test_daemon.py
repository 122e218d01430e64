"""The daemon as an operator runs it: twistd plugin, listeners, /api and gatewayctl."""

from __future__ import annotations

import socket
import stat
import subprocess
from pathlib import Path

from tests.integration import daemon


def test_status_over_api_and_ctl(tmp_path: Path) -> None:
    """A started daemon answers ``status`` over POST /api with the command's text and over
    ``gatewayctl status`` with ejabberdctl's own wording, both naming the profile's release."""
    with daemon.running_daemon(tmp_path) as d:
        status, body = daemon.post_json(d.http_port, "status", {})
        assert status == 200
        assert "is started. Status: started  ejabberd 24.12 is running in that node\n" in body
        result = d.ctl("status")
        assert result.returncode == 0, result.stderr + result.stdout
        lines = result.stdout.split("\n")
        assert lines[0].endswith(" is started with status: started")
        assert lines[1] == "ejabberd 24.12 is running in that node"


def test_ctl_socket_is_private(tmp_path: Path) -> None:
    """The control socket is created with mode 0600: only the daemon's user can drive it."""
    with daemon.running_daemon(tmp_path):
        mode = (tmp_path / "gatewayctl.sock").stat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600


def test_ctl_reports_unreachable_daemon(tmp_path: Path) -> None:
    """gatewayctl exits 3 with a clear message when no daemon listens on the socket."""
    config = daemon.write_config(tmp_path, daemon.free_port(), daemon.free_port())
    result = subprocess.run(
        [str(daemon.BIN / "gatewayctl"), "--config", str(config), "status"],
        capture_output=True,
        text=True,
        env=daemon.env(),
        timeout=30,
    )
    assert result.returncode == 3
    assert "Failed RPC connection" in result.stderr


def test_port_in_use_exits_with_clear_message(tmp_path: Path) -> None:
    """A taken listener port stops the daemon non-zero, naming the listener, without a traceback."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        config = daemon.write_config(tmp_path, port, daemon.free_port())
        process = daemon.start(config, tmp_path)
        try:
            process.wait(timeout=30)
        finally:
            output = daemon.stop(process)
    assert process.returncode != 0
    assert "cannot open listen[0]" in output
    assert "Traceback" not in output


def test_restart_keeps_accounts(tmp_path: Path) -> None:
    """Accounts registered through gatewayctl survive a restart and log in over /api."""
    with daemon.running_daemon(tmp_path) as d:
        result = d.ctl("register", "admin", "localhost", "s3cret")
        assert result.returncode == 0, result.stdout
        assert "successfully registered" in result.stdout
    with daemon.running_daemon(tmp_path) as d:
        listed = d.ctl("registered_users", "localhost")
        assert (listed.returncode, listed.stdout) == (0, "admin\n")
        status, body = daemon.post_json(
            d.http_port,
            "registered_users",
            {"host": "localhost"},
            auth=("admin@localhost", "s3cret"),
        )
        assert (status, body) == (200, ["admin"])
