"""``gatewayctl``: run an ejabberdctl-style command in the running gateway.

    gatewayctl [--config FILE] [--version N] [--auth USER HOST PASS] [--json] COMMAND [ARGS...]
    gatewayctl completion bash

The command line is sent, as is, over the daemon's local control socket; the
daemon prints nothing itself, so output and exit status come back from it.
``--json`` asks it for the result as ``/api``'s JSON.  ``completion bash``
prints a bash completion script and needs no daemon.
The configuration file is read only to find that socket
(``gateway.ctl_socket``).  Exit statuses follow ejabberdctl: 0 success,
1 error, 2 usage, 3 the daemon could not be reached.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import yaml

__all__ = ["DEFAULT_CONFIGS", "DEFAULT_SOCKET", "find_socket", "main", "run"]

#: where the configuration is looked for when ``--config`` is not given
DEFAULT_CONFIGS: tuple[str, ...] = ("conf/gateway.yml", "/etc/xmpp-gateway/gateway.yml")
#: the socket path when the configuration does not name one
DEFAULT_SOCKET = "var/gatewayctl.sock"

EXIT_USAGE = 2
EXIT_RPC = 3

_USAGE = """\
Usage: gatewayctl [--config FILE] [--version API_VERSION] [--auth USER HOST PASSWORD]
                  [--json] COMMAND [ARGUMENT ...]

Runs one command in the running gateway through its control socket.
  gatewayctl help              list the available commands
  gatewayctl help COMMAND      arguments and result of one command
  gatewayctl help TAG          the commands carrying that tag
  gatewayctl help tags         every tag with its commands
  gatewayctl --json COMMAND …  print the result as the JSON /api answers
  gatewayctl completion bash   print a bash completion script
"""

#: the shells ``completion`` writes a script for
COMPLETION_SHELLS = ("bash",)


class ConfigProblem(Exception):
    """The configuration file cannot be used to find the socket."""


def find_socket(config: str | None, cwd: Path) -> Path:
    """The control socket's path, from ``config`` or the default config files."""
    path: Path | None
    if config is not None:
        path = cwd / config
        if not path.is_file():
            raise ConfigProblem(f"configuration file {config} not found")
    else:
        path = next((cwd / p for p in DEFAULT_CONFIGS if (cwd / p).is_file()), None)
    socket_path = DEFAULT_SOCKET
    if path is not None:
        try:
            data: Any = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            raise ConfigProblem(f"cannot read {path}: {e}") from None
        section = data.get("gateway") if isinstance(data, dict) else None
        value = section.get("ctl_socket") if isinstance(section, dict) else None
        if value is not None:
            if not isinstance(value, str) or not value:
                raise ConfigProblem(f"{path}: gateway.ctl_socket: expected a path")
            socket_path = value
    return cwd / socket_path


def _split_config(argv: list[str]) -> tuple[str | None, bool, list[str]]:
    """Take ``--config FILE`` and ``--json`` out of the leading options; the rest goes on."""
    config: str | None = None
    as_json = False
    forwarded: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--config":
            if i + 1 >= len(argv):
                raise ValueError("--config needs a file name")
            config = argv[i + 1]
            i += 2
        elif word.startswith("--config="):
            config = word.partition("=")[2]
            i += 1
        elif word == "--no-timeout":
            i += 1  # ejabberdctl's option; the gateway has no call timeout to lift
        elif word == "--json":
            as_json = True
            i += 1
        elif word == "--version":
            forwarded += argv[i : i + 2]
            i += 2
        elif word == "--auth":
            forwarded += argv[i : i + 4]
            i += 4
        else:
            break
    return config, as_json, forwarded + argv[i:]


def _has_command(argv: list[str]) -> bool:
    i = 0
    while i < len(argv) and argv[i] in ("--version", "--auth"):
        i += 2 if argv[i] == "--version" else 4
    return i < len(argv)


def _call(path: Path, argv: list[str], as_json: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"argv": argv}
    if as_json:
        fields["json"] = True
    request = json.dumps(fields).encode("utf-8") + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(path))
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        raise ConnectionError("the gateway closed the connection without answering")
    try:
        answer = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise ConnectionError("the gateway sent an unreadable answer") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("exit"), int):
        raise ConnectionError("the gateway sent an unreadable answer")
    return answer


def run(
    argv: Sequence[str],
    stdout: TextIO,
    stderr: TextIO,
    cwd: Path | None = None,
) -> int:
    """Run ``gatewayctl`` with ``argv`` (without the program name); return the exit status."""
    cwd = Path.cwd() if cwd is None else cwd
    args = list(argv)
    if args[:1] in (["-h"], ["--help"]):
        stdout.write(_USAGE)
        return 0
    try:
        config, as_json, forwarded = _split_config(args)
    except ValueError as e:
        stderr.write(f"gatewayctl: {e}\n{_USAGE}")
        return EXIT_USAGE
    if not _has_command(forwarded):
        stderr.write(_USAGE)
        return EXIT_USAGE
    if forwarded[0] == "completion":
        return _completion(forwarded[1:], stdout, stderr)
    try:
        path = find_socket(config, cwd)
    except ConfigProblem as e:
        stderr.write(f"gatewayctl: {e}\n")
        return EXIT_USAGE
    try:
        answer = _call(path, forwarded, as_json)
    except OSError as e:
        reason = e.strerror or str(e)
        stderr.write(f"Failed RPC connection to the gateway at {path}: {reason}\n")
        return EXIT_RPC
    output = str(answer.get("output") or "")
    if output:
        stdout.write(output + "\n")
    status: int = answer["exit"]
    return status


def _completion(words: list[str], stdout: TextIO, stderr: TextIO) -> int:
    """``completion SHELL``: the completion script, from the packaged 24.12 catalogue."""
    if len(words) != 1 or words[0] not in COMPLETION_SHELLS:
        stderr.write(f"Usage: gatewayctl completion {'|'.join(COMPLETION_SHELLS)}\n")
        return EXIT_USAGE
    # imported here: every other use of gatewayctl starts without the catalogue
    from gateway.engine.catalogue import Catalogue
    from gateway.frontends.ctl.completion import bash_completion

    stdout.write(bash_completion(Catalogue.load()))
    return 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console entry point ``gatewayctl``."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    status = run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
    sys.stdout.flush()
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
