"""Commands about the gateway itself, run by the engine whatever the backend."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail, succeed

from gateway import __version__
from gateway.engine.errors import CommandFailed
from gateway.engine.model import Caller, ResTuple
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE

__all__ = [
    "GatewayCommands",
    "LevelControl",
    "ctl_status_text",
    "node_name",
    "node_term",
    "profile_status_text",
    "status_line",
]


class LevelControl(Protocol):
    def get(self) -> str: ...
    def set(self, level: str | int) -> str: ...


def node_name() -> str:
    """The name this gateway reports in ``status``, like an Erlang node name."""
    return f"xmpp-gateway@{socket.gethostname().split('.')[0]}"


# An Erlang atom printed by ~p needs no quotes when it matches this and is no reserved word.
_BARE_ATOM = re.compile(r"[a-z][A-Za-z0-9_@]*")
_RESERVED = frozenset(
    "after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let "
    "maybe not of or orelse receive rem try when xor".split()
)


def node_term(node: str) -> str:
    """``node`` as ejabberd prints a node name with ``~p``: quoted unless a bare atom."""
    if _BARE_ATOM.fullmatch(node) and node not in _RESERVED:
        return node
    return "'" + node.replace("\\", "\\\\").replace("'", "\\'") + "'"


def status_line(node: str, release: str) -> str:
    """The first line of the ``status`` command's text, worded as ejabberd ``release`` words it.

    Client libraries take the word before ``is running in that node`` as the
    server's release, so it is the API profile's release, never our own
    version.  23.01 joins the two sentences with nothing between them; 24.12
    puts two spaces there.
    """
    return _first_line(node_term(node), release)


def _first_line(printed_node: str, release: str) -> str:
    joint = "" if release == LEGACY_PROFILE else "  "
    return (
        f"The node {printed_node} is started. Status: started{joint}"
        f"ejabberd {release} is running in that node"
    )


_STATUS_LINE = re.compile(
    r"The node (?P<node>.+) is started\. Status: started {0,2}"
    r"ejabberd (?P<release>\S+) is running in that node"
)


def _split_status(text: str) -> tuple[str, str, str] | None:
    """``(node as printed, release, the lines after the first)`` of a ``status`` text."""
    first, newline, rest = text.partition("\n")
    found = _STATUS_LINE.fullmatch(first)
    if found is None:
        return None
    return found["node"], found["release"], newline + rest


def profile_status_text(text: str, release: str) -> str:
    """A ``status`` text of this gateway with its first line worded as ``release`` words it."""
    parts = _split_status(text)
    if parts is None:
        return text
    node, _, rest = parts
    return _first_line(node, release) + rest


def ctl_status_text(text: str) -> str:
    """What ``ejabberdctl status`` prints, from the ``status`` command's text.

    ejabberdctl answers ``status`` itself, in its own two lines (the same in
    23.01 and 24.12); the gateway's own lines follow.
    """
    parts = _split_status(text)
    if parts is None:
        return text
    node, release, rest = parts
    return (
        f"The node {node} is started with status: started\n"
        f"ejabberd {release} is running in that node{rest}"
    )


class GatewayCommands:
    """Executor for ``status``, ``registered_vhosts``, ``get_loglevel`` and ``set_loglevel``.

    ``extra_status`` lets the service add lines to ``status`` (e.g. the state
    of the XMPP component link) without this module knowing about them.
    """

    name = "gateway"

    def __init__(
        self,
        hosts: Sequence[str],
        levels: LevelControl,
        node: str | None = None,
        extra_status: Callable[[], Sequence[str]] = lambda: (),
    ) -> None:
        self._hosts = list(hosts)
        self._levels = levels
        self._node = node or node_name()
        self._extra_status = extra_status
        self._handlers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
            "status": self._status,
            "registered_vhosts": lambda _: list(self._hosts),
            "get_loglevel": lambda _: self._levels.get(),
            "set_loglevel": self._set_loglevel,
        }

    def supports(self, command: str) -> bool:
        return command in self._handlers

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        try:
            return succeed(self._handlers[command](args))
        except Exception as e:
            return fail(e)

    def _status(self, _: Mapping[str, Any]) -> ResTuple:
        # the canonical (24.12) wording, which clients parse for the release; the
        # 23.01 profile's adapter rewords it.  Our own product and state follow.
        lines = [
            status_line(self._node, CURRENT_PROFILE),
            f"xmpp-api-gateway {__version__}",
            *self._extra_status(),
        ]
        return ResTuple("\n".join(lines))

    def _set_loglevel(self, args: Mapping[str, Any]) -> bool:
        try:
            self._levels.set(args["loglevel"])
        except ValueError as e:
            raise CommandFailed(str(e)) from None
        return True
