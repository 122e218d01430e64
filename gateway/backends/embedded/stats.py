"""``stats`` and ``stats_host``: the figures the store can honestly give.

``registeredusers`` counts the accounts of the served hosts (or of one host).
The online figures (``onlineusers``, ``onlineusersnode``) are refused with a
``not_supported`` error: sessions live in the XMPP server, which the store
never sees, and answering 0 would be a made-up number.  ``uptimeseconds``
and ``processes`` describe the running daemon, not the store; the gateway
answers them itself, before the backend is asked.

ejabberd crashes on a statistic name it does not know; here that is a
``CommandFailed`` listing the names the command accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.backends.embedded.context import Context, Handler
from gateway.engine.errors import NotSupported
from gateway.engine.server import SERVER_STATS, unknown_statistic

__all__ = ["HANDLERS", "HOST_STATS", "SessionsElsewhere"]

#: the statistic names ``stats_host`` accepts
HOST_STATS = ("registeredusers", "onlineusers")
_SESSIONS = frozenset({"onlineusers", "onlineusersnode"})


class SessionsElsewhere(NotSupported):
    """A statistic about sessions, which the embedded store does not know."""

    def __init__(self, command: str, name: str) -> None:
        super().__init__(f"{command} {name}", "embedded")
        self.message = (
            f"Statistic '{name}' is not available from the embedded backend: sessions live "
            "in the XMPP server, not in the gateway's store; ask the XMPP server for it"
        )
        self.args = (self.message,)


async def _count_accounts(ctx: Context, hosts: list[str]) -> int:
    if not hosts:
        return 0
    marks = ", ".join("?" for _ in hosts)
    count = await ctx.store.read(
        lambda tx: tx.scalar(f"SELECT COUNT(*) FROM accounts WHERE host IN ({marks})", hosts)
    )
    return int(count or 0)


async def _stats(ctx: Context, args: Mapping[str, Any]) -> int:
    name = args["name"]
    if name not in SERVER_STATS:
        raise unknown_statistic(name, SERVER_STATS)
    if name in _SESSIONS:
        raise SessionsElsewhere("stats", name)
    if name != "registeredusers":
        # uptimeseconds and processes belong to the daemon, which answers them itself
        raise NotSupported(f"stats {name}", "embedded")
    return await _count_accounts(ctx, sorted(ctx.hosts))


async def _stats_host(ctx: Context, args: Mapping[str, Any]) -> int:
    name = args["name"]
    if name not in HOST_STATS:
        raise unknown_statistic(name, HOST_STATS)
    host = ctx.host(args["host"])
    if name in _SESSIONS:
        raise SessionsElsewhere("stats_host", name)
    return await _count_accounts(ctx, [host])


HANDLERS: dict[str, Handler] = {
    "stats": _stats,
    "stats_host": _stats_host,
}
