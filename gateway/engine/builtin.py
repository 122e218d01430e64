"""Commands about the gateway itself, run by the engine whatever the backend."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred, fail, succeed

from gateway import __version__
from gateway.engine.errors import CommandFailed
from gateway.engine.model import Caller, ResTuple

__all__ = ["GatewayCommands", "LevelControl", "node_name"]


class LevelControl(Protocol):
    def get(self) -> str: ...
    def set(self, level: str | int) -> str: ...


def node_name() -> str:
    """The name this gateway reports in ``status``, like an Erlang node name."""
    return f"xmpp-gateway@{socket.gethostname().split('.')[0]}"


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
        # ejabberd 24.12's wording (two spaces before the second sentence), which
        # scripts match on; our own state follows on separate lines
        first = (
            f"The node {self._node} is started. Status: started"
            f"  xmpp-api-gateway {__version__} is running in that node"
        )
        return ResTuple("\n".join([first, *self._extra_status()]))

    def _set_loglevel(self, args: Mapping[str, Any]) -> bool:
        try:
            self._levels.set(args["loglevel"])
        except ValueError as e:
            raise CommandFailed(str(e)) from None
        return True
