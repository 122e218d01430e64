"""``unban_ip``: the operator's command over the brute-force bans.

As in ejabberd's mod_fail2ban, the argument is an address, optionally with a
network mask (``127.0.0.2``, ``10.0.0.0/8``, ``::FFFF:127.0.0.1/128``), and the
answer is the number of bans lifted, or ``-1`` when the text is not an
address.  An IPv4-mapped IPv6 network means the IPv4 addresses it maps.
The current bans themselves are listed by ``status``
(:meth:`~gateway.engine.bruteforce.FailureLimiter.status_lines`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Mapping
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred, fail, succeed
from twisted.logger import Logger

from gateway.engine.bruteforce import FailureLimiter, IPNetwork
from gateway.engine.errors import NotSupported
from gateway.engine.model import Caller

__all__ = ["BanCommands", "parse_unban_address"]

log = Logger()

#: ejabberd's answer to an address it cannot read
INVALID_ADDRESS = -1

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_unban_address(text: str) -> IPNetwork | None:
    """The network ``text`` names, ``None`` when it names none.

    Host bits below the mask are ignored (``10.1.2.3/8`` is ``10.0.0.0/8``).
    """
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        first = network.network_address.ipv4_mapped
        assert first is not None  # every address of ::ffff:0:0/96 maps to IPv4
        return ipaddress.IPv4Network((first, network.prefixlen - 96))
    return network


class BanCommands:
    """Executor for ``unban_ip`` over one :class:`FailureLimiter`."""

    name = "gateway"

    def __init__(self, limiter: FailureLimiter) -> None:
        self._limiter = limiter

    def supports(self, command: str) -> bool:
        return command == "unban_ip"

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        if command != "unban_ip":
            return fail(NotSupported(command, self.name))
        network = parse_unban_address(args["address"])
        if network is None:
            log.warn("unban_ip: {address!r} is not an address or network", address=args["address"])
            return succeed(INVALID_ADDRESS)
        lifted, everywhere = self._limiter.lift(network)
        if everywhere is None:
            return succeed(lifted)
        # answered once every worker lifted it: the next request may land on any of them
        return ensureDeferred(_after(everywhere, lifted))


async def _after(pending: Awaitable[None], value: int) -> int:
    await pending
    return value
