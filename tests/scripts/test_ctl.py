"""The ``gatewayctl`` client: finding the socket, sending argv, printing the answer."""

from __future__ import annotations

import io
import json
import socket
import threading
from pathlib import Path

import pytest

from gateway.scripts.ctl import ConfigProblem, find_socket, run
from tests.paths import SHIPPED_CONFIG


class OneShotServer:
    """A tiny UNIX socket server answering one connection with a fixed reply."""

    def __init__(self, path: Path, reply: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.reply = reply
        self.request = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            while not self.request.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                self.request += chunk
            conn.sendall(self.reply)

    def close(self) -> dict[str, list[str]]:
        self.thread.join(10)
        self.sock.close()
        result: dict[str, list[str]] = json.loads(self.request)
        return result


def call(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(argv, out, err, cwd=cwd)
    return status, out.getvalue(), err.getvalue()


class TestFindSocket:
    def test_default(self, workdir: Path) -> None:
        """Without any config file the socket is var/gatewayctl.sock under the cwd."""
        assert find_socket(None, workdir) == workdir / "var" / "gatewayctl.sock"

    def test_conf_in_cwd(self, workdir: Path) -> None:
        """conf/gateway.yml in the cwd is read for gateway.ctl_socket."""
        (workdir / "conf").mkdir()
        (workdir / "conf" / "gateway.yml").write_text("gateway:\n  ctl_socket: run/ctl.sock\n")
        assert find_socket(None, workdir) == workdir / "run" / "ctl.sock"

    def test_explicit_config(self, workdir: Path) -> None:
        """--config names the file; a config without the key keeps the default socket."""
        (workdir / "other.yml").write_text("xmpp:\n  domain: example.org\n")
        assert find_socket("other.yml", workdir) == workdir / "var" / "gatewayctl.sock"
        (workdir / "abs.yml").write_text("gateway:\n  ctl_socket: /run/gw.sock\n")
        assert find_socket(str(workdir / "abs.yml"), workdir) == Path("/run/gw.sock")

    @pytest.mark.parametrize(
        "text",
        ["gateway: [unclosed", "gateway:\n  ctl_socket: 5\n", "gateway:\n  ctl_socket: ''\n"],
    )
    def test_bad_config(self, workdir: Path, text: str) -> None:
        """Unreadable YAML or a socket value that is not a path is reported."""
        (workdir / "bad.yml").write_text(text)
        with pytest.raises(ConfigProblem):
            find_socket("bad.yml", workdir)

    def test_shipped_config(self, workdir: Path) -> None:
        """The example configuration shipped in conf/ names the socket where the client looks."""
        shipped = SHIPPED_CONFIG
        if not shipped.is_file():
            pytest.skip("no conf/gateway.yml in this tree")
        assert find_socket(str(shipped), workdir) == workdir / "var" / "gatewayctl.sock"

    def test_missing_config(self, workdir: Path) -> None:
        """A --config file that does not exist is an error, not a silent default."""
        with pytest.raises(ConfigProblem):
            find_socket("nope.yml", workdir)


class TestRun:
    def test_round_trip(self, workdir: Path) -> None:
        """argv minus --config goes to the daemon; its output and exit status come back."""
        (workdir / "gw.yml").write_text("gateway:\n  ctl_socket: s.sock\n")
        server = OneShotServer(
            workdir / "s.sock", json.dumps({"output": "alice\nbob", "exit": 0}).encode() + b"\n"
        )
        status, out, err = call(
            ["--config", "gw.yml", "--no-timeout", "--version", "2", "registered_users", "h"],
            workdir,
        )
        assert server.close() == {"argv": ["--version", "2", "registered_users", "h"]}
        assert (status, out, err) == (0, "alice\nbob\n", "")

    def test_empty_output_and_error_status(self, workdir: Path) -> None:
        """Empty output prints nothing; the daemon's exit status is the client's."""
        server = OneShotServer(workdir / "var" / "gatewayctl.sock", b'{"output": "", "exit": 1}\n')
        status, out, _ = call(["check_account", "nobody", "localhost"], workdir)
        assert server.close() == {"argv": ["check_account", "nobody", "localhost"]}
        assert (status, out) == (1, "")

    def test_unreachable(self, workdir: Path) -> None:
        """No daemon listening: an RPC failure message on stderr and exit 3."""
        status, out, err = call(["status"], workdir)
        path = workdir / "var" / "gatewayctl.sock"
        assert status == 3
        assert out == ""
        assert err.startswith(f"Failed RPC connection to the gateway at {path}: ")

    def test_no_answer(self, workdir: Path) -> None:
        """A daemon that hangs up without answering is an RPC failure too."""
        server = OneShotServer(workdir / "var" / "gatewayctl.sock", b"")
        status, _, err = call(["status"], workdir)
        server.close()
        assert status == 3
        assert "closed the connection without answering" in err

    @pytest.mark.parametrize(
        "argv", [[], ["--version", "2"], ["--config", "x.yml"], ["--auth", "a", "b", "c"]]
    )
    def test_no_command(self, workdir: Path, argv: list[str]) -> None:
        """Without a command the usage goes to stderr and the exit status is 2."""
        status, out, err = call(argv, workdir)
        assert (status, out) == (2, "")
        assert "Usage: gatewayctl" in err

    def test_help_option(self, workdir: Path) -> None:
        """--help prints the usage on stdout and exits 0 without contacting the daemon."""
        status, out, _ = call(["--help"], workdir)
        assert status == 0
        assert out.startswith("Usage: gatewayctl")

    def test_bad_config_status(self, workdir: Path) -> None:
        """A --config file that cannot be used stops the client with status 2."""
        status, _, err = call(["--config", "missing.yml", "status"], workdir)
        assert status == 2
        assert "missing.yml" in err
