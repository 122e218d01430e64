"""The ``gatewayctl`` client's ``--json`` option and ``completion`` command."""

from __future__ import annotations

from pathlib import Path

from gateway.engine.catalogue import Catalogue
from gateway.frontends.ctl.completion import bash_completion
from tests.scripts.test_ctl import OneShotServer, call


def test_json_is_asked_of_the_daemon(workdir: Path) -> None:
    """``--json`` anywhere among the leading options becomes ``"json": true`` in the request."""
    server = OneShotServer(workdir / "var" / "gatewayctl.sock", b'{"output": "[]", "exit": 0}\n')
    status, out, _ = call(["--version", "2", "--json", "registered_users", "h"], workdir)
    assert server.close() == {"argv": ["--version", "2", "registered_users", "h"], "json": True}
    assert (status, out) == (0, "[]\n")


def test_without_json_the_request_is_unchanged(workdir: Path) -> None:
    """Without ``--json`` the request carries only argv, as older daemons expect."""
    server = OneShotServer(workdir / "var" / "gatewayctl.sock", b'{"output": "", "exit": 0}\n')
    call(["status"], workdir)
    assert server.close() == {"argv": ["status"]}


def test_completion_bash_needs_no_daemon(workdir: Path) -> None:
    """``completion bash`` prints the script from the packaged catalogue, with no socket around."""
    status, out, err = call(["completion", "bash"], workdir)
    assert (status, err) == (0, "")
    assert out == bash_completion(Catalogue.load("24.12"))


def test_completion_of_another_shell(workdir: Path) -> None:
    """Another shell, or none, is a usage error (exit 2) naming the shells known."""
    for argv in (["completion"], ["completion", "zsh"], ["completion", "bash", "x"]):
        status, out, err = call(argv, workdir)
        assert (status, out) == (2, "")
        assert err == "Usage: gatewayctl completion bash\n"
