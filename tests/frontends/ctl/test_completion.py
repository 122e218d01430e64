"""Bash completion of gatewayctl, run by bash itself (gateway.frontends.ctl.completion)."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from gateway.engine.catalogue import Catalogue
from gateway.frontends.ctl.completion import bash_completion
from tests.paths import REPO as ROOT

SHIPPED = ROOT / "conf" / "gatewayctl.bash-completion"
SCRIPT = bash_completion(Catalogue.load("24.12"))

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def complete(*words: str, script: str = SCRIPT) -> list[str]:
    """COMPREPLY after sourcing ``script`` with the line ``words`` (the last being completed)."""
    program = f"""
source /dev/stdin <<'GATEWAYCTL_COMPLETION'
{script}
GATEWAYCTL_COMPLETION
COMP_WORDS=({" ".join(shlex.quote(w) for w in words)})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_gatewayctl
if (( ${{#COMPREPLY[@]}} )); then printf '%s\\0' "${{COMPREPLY[@]}}"; fi
"""
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        timeout=30,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    replies = done.stdout.decode().split("\0")[:-1]
    return replies


def test_the_shipped_script_is_current() -> None:
    """conf/gatewayctl.bash-completion is what ``gatewayctl completion bash`` prints today."""
    assert SHIPPED.read_text("utf-8") == SCRIPT


def test_the_script_registers_itself() -> None:
    """Sourcing the script registers ``_gatewayctl`` for ``gatewayctl`` (``complete -p``)."""
    done = subprocess.run(
        ["bash", "--norc", "-c", f"source {shlex.quote(str(SHIPPED))}; complete -p gatewayctl"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.strip() == "complete -F _gatewayctl gatewayctl"


def test_command_names() -> None:
    """A partial command name completes to the public commands starting with it."""
    registers = ["register", "registered_users", "registered_vhosts"]
    assert complete("gatewayctl", "registe") == registers
    assert complete("gatewayctl", "gen_markdown_doc_for_t") == ["gen_markdown_doc_for_tags"]
    assert complete("gatewayctl", "help") == ["help"]
    assert complete("gatewayctl", "compl") == ["completion"]
    assert complete("gatewayctl", "zzz") == []
    # internal commands are not offered
    assert "webadmin_host_srg" not in complete("gatewayctl", "webadmin")


def test_after_options() -> None:
    """The command is completed after the leading options, with their values skipped."""
    words = ["--config", "gw.yml", "--version", "2", "--auth", "a", "b", "c", "--json"]
    assert complete("gatewayctl", *words, "check_acc") == ["check_account"]
    assert complete("gatewayctl", "--j") == ["--json"]
    assert complete("gatewayctl", "--config", "pyproject.t") == ["pyproject.toml"]


def test_argument_hints() -> None:
    """After a command, the names of the arguments still to give are offered as <hints>."""
    assert complete("gatewayctl", "register", "") == ["<user>", "<host>", "<password>"]
    assert complete("gatewayctl", "register", "alice", "") == ["<host>", "<password>"]
    assert complete("gatewayctl", "--json", "check-password", "a", "b", "") == ["<password>", ""]
    # policy: user commands take user and host first
    assert complete("gatewayctl", "get_roster", "") == ["<user>", "<host>"]
    # no hint once every argument is given, nor while a value is being typed
    assert complete("gatewayctl", "register", "alice", "localhost", "secret", "") == []
    assert complete("gatewayctl", "register", "ali") == []
    assert complete("gatewayctl", "status", "") == []


def test_help_words() -> None:
    """After ``help`` come command names, tags and ``tags``; after ``completion``, ``bash``."""
    assert complete("gatewayctl", "help", "rost") == ["roster"]
    assert complete("gatewayctl", "help", "tag") == ["tags"]
    assert complete("gatewayctl", "help", "get_rost") == ["get_roster", "get_roster_count"]
    assert complete("gatewayctl", "help", "status", "") == []
    assert complete("gatewayctl", "completion", "") == ["bash"]


def test_a_single_hint_is_not_inserted() -> None:
    """With one hint left an empty entry is added, so bash lists it instead of typing it."""
    replies = complete("gatewayctl", "registered_users", "")
    assert replies == ["<host>", ""]
