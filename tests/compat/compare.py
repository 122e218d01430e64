"""Running the call sequence against both servers, normalising and comparing their answers.

Normalising removes only what legitimately differs from run to run or from machine to machine:

- times close to now (registration times, "now" timestamps) keep their format but lose their
  digits (``<now #-#-#T#:#:#Z>``, ``<now #-#-#T#:#:#.#Z>`` with a fraction);
- the server's node name, wherever an answer quotes it;
- in ``status``: the Debian package revision of ejabberd's release
  (``23.01-1`` is ``23.01``) and everything after ``is running in that node``, where the
  gateway adds its own product and link state;
- whatever a step's own ``masks`` name (issued tokens, seconds left, uptimes).

Differences are reported with the call, ejabberd's answer and ours; long answers as a diff.
"""

from __future__ import annotations

import calendar
import difflib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.compat.calls import Ref, Step
from tests.compat.harness import ADMIN, ADMIN_PASSWORD, VHOST, Answer, ApiClient, XmlRpcClient

__all__ = [
    "Difference",
    "Side",
    "documented",
    "normalise",
    "report",
    "run_sequence",
]

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
_RELEASE = re.compile(r"(ejabberd 23\.01)-\d+( is running in that node)")
_RUNNING = "is running in that node"
#: how far from now a time may be and still count as "now" (registrations during the run)
_NOW_WINDOW = 86400

AUTHS: dict[str, tuple[str, str] | None] = {
    "admin": (f"{ADMIN}@{VHOST}", ADMIN_PASSWORD),
    "none": None,
    "badpass": (f"{ADMIN}@{VHOST}", "not-the-password"),
    "nobody": (f"nobody@{VHOST}", "whatever"),
}


@dataclass(frozen=True)
class Side:
    """One server as the sequence sees it: its name and its clients."""

    name: str
    api: ApiClient
    xmlrpc: XmlRpcClient
    #: the server's node name, which its answers may quote
    node: str


@dataclass(frozen=True)
class Difference:
    """A call whose normalised answers differ."""

    id: str
    call: str
    ejabberd: Answer
    gateway: Answer


def _mask_time(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        stamp = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return text
    if abs(stamp - time.time()) > _NOW_WINDOW:
        return text
    # the format stays (a fraction or not, the zone), not the digits nor the fraction's length
    return "<now " + re.sub(r"\d+", "#", text) + ">"


def _status_text(text: str) -> str:
    text = _RELEASE.sub(r"\1\2", text)
    at = text.find(_RUNNING)
    return text if at < 0 else text[: at + len(_RUNNING)]


def _map_strings(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_map_strings(item, fn) for item in value]
    if isinstance(value, dict):
        return {key: _map_strings(item, fn) for key, item in value.items()}
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        masked = fn(str(value))
        return value if masked == str(value) else masked
    return value


def _sorted(value: Any) -> Any:
    """A list answer in a fixed order (also inside an XML-RPC result struct)."""
    if isinstance(value, list):
        return sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, dict) and len(value) == 1:
        ((key, item),) = value.items()
        return {key: _sorted(item)}
    return value


def normalise(answer: Answer, step: Step, node: str) -> Answer:
    """``answer`` of the server running as ``node`` without what legitimately varies between
    runs (see the module docstring)."""

    def strings(text: str) -> str:
        # ~p quotes a node name that is not a bare atom (the gateway's has a "-")
        text = text.replace(f"'{node}'", "<node>").replace(node, "<node>")
        text = _TIME.sub(_mask_time, text)
        if step.command == "status":
            text = _status_text(text)
        for pattern, replacement in step.masks:
            text = re.sub(pattern, replacement, text)
        return text

    body = _map_strings(answer.body, strings)
    if step.sort:
        body = _sorted(body)
    return Answer(answer.kind, answer.status, body)


def _resolve(value: Any, captured: Mapping[str, Any]) -> Any:
    if isinstance(value, Ref):
        return captured.get(value.name, f"<nothing captured as {value.name}>")
    if isinstance(value, list):
        return [_resolve(item, captured) for item in value]
    if isinstance(value, tuple):
        return tuple(_resolve(item, captured) for item in value)
    if isinstance(value, dict):
        return {key: _resolve(item, captured) for key, item in value.items()}
    return value


def _find_token(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "token" and isinstance(item, str):
                return item
            found = _find_token(item)
            if found is not None:
                return found
    if isinstance(value, list):
        for item in value:
            found = _find_token(item)
            if found is not None:
                return found
    return None


def describe(step: Step, dialect: str) -> str:
    """The call as a reader would write it (credentials by role, not by value)."""
    who = "" if step.auth == "admin" else f" [auth: {step.auth}]"
    if dialect == "api":
        body = step.raw_api.decode() if step.raw_api is not None else _show_args(step.args)
        return f"POST /api/{step.command} {body}{who}"
    params = step.xmlrpc if step.xmlrpc is not None else (step.args,)
    return f"{step.command}({', '.join(_show_args(p) for p in params)}){who}"


def _show_args(value: Any) -> str:
    return json.dumps(value, default=lambda v: f"<{v.name}>" if isinstance(v, Ref) else str(v))


def _send(side: Side, step: Step, dialect: str, captured: Mapping[str, Any]) -> Answer:
    auth = AUTHS[step.auth]
    if dialect == "api":
        return side.api.call(step.command, _resolve(step.args, captured), auth, raw=step.raw_api)
    params = step.xmlrpc if step.xmlrpc is not None else (step.args,)
    return side.xmlrpc.call(step.command, _resolve(params, captured), auth)


def run_sequence(
    steps: Iterable[Step], dialect: str, ejabberd: Side, gateway: Side
) -> tuple[list[Difference], int]:
    """Send each step of ``dialect`` to both sides; the differences and the number of calls."""
    captured: dict[str, dict[str, Any]] = {ejabberd.name: {}, gateway.name: {}}
    differences = []
    calls = 0
    for step in steps:
        if step.only not in (None, dialect):
            continue
        calls += 1
        answers = []
        for side in (ejabberd, gateway):
            answer = _send(side, step, dialect, captured[side.name])
            if step.capture is not None:
                token = _find_token(answer.body)
                if token is not None:
                    captured[side.name][step.capture] = token
            answers.append(normalise(answer, step, side.node))
        if answers[0] != answers[1]:
            differences.append(
                Difference(step.id(dialect), describe(step, dialect), answers[0], answers[1])
            )
    return differences, calls


def _pretty(answer: Answer) -> list[str]:
    head = {"http": f"HTTP {answer.status}", "fault": f"fault {answer.status}"}.get(
        answer.kind, answer.kind
    )
    body = json.dumps(answer.body, indent=1, sort_keys=True, ensure_ascii=False)
    return [head, *body.splitlines()]


def show(difference: Difference) -> str:
    """A difference for a reader: the call, ejabberd's answer and ours (or a diff of them)."""
    ours, theirs = difference.gateway.show(), difference.ejabberd.show()
    lines = [f"{difference.id}", f"    call:     {difference.call}"]
    if len(ours) + len(theirs) <= 400:
        lines += [f"    ejabberd: {theirs}", f"    gateway:  {ours}"]
    else:
        lines.append("    answers (- ejabberd, + gateway):")
        diff = difflib.unified_diff(
            _pretty(difference.ejabberd), _pretty(difference.gateway), lineterm="", n=1
        )
        lines += [f"      {line}" for line in list(diff)[2:]]
    return "\n".join(lines)


def report(differences: Iterable[Difference]) -> str:
    """Every difference, one block each."""
    return "\n\n".join(show(difference) for difference in differences)


_ID_LINE = re.compile(r"^- id: `([^`]+)`")


def documented(path: Path) -> dict[str, int]:
    """The call ids listed in docs/compatibility.md, mapped to their line numbers.

    An entry is a line ``- id: `<dialect> <command> <case>``` (a note may follow); an id
    listed twice raises ValueError.
    """
    found: dict[str, int] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = _ID_LINE.match(line)
        if match is None:
            continue
        ident = " ".join(match.group(1).split())
        if ident in found:
            raise ValueError(f"{path}:{number}: {ident!r} is listed twice")
        found[ident] = number
    return found
