"""Listening sockets opened by the supervisor and served by its workers.

The supervisor opens every listener from its endpoint string as a
single-process daemon does (so a busy port is reported the same way), stops
accepting on it, and hands the socket to each worker it spawns.  A worker
adopts it with :func:`adopt_port`: the kernel then gives each new connection
to one of the workers.
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import unix
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.protocols.tls import TLSMemoryBIOFactory

__all__ = ["adopt_port", "stop_accepting"]


def stop_accepting(port: IListeningPort) -> tuple[int, int]:
    """Stop accepting on ``port`` in this process; its file descriptor and address family."""
    listening: Any = port
    listening.stopReading()
    return int(listening.fileno()), int(listening.socket.family)


def adopt_port(
    reactor: Any, description: str, fd: int, family: int, factory: IProtocolFactory
) -> IListeningPort:
    """Serve ``factory`` on the listening socket ``fd`` that was opened for ``description``.

    A TLS listener (``ssl:``) is served with the certificate its endpoint
    string names, loaded here.
    """
    if description.startswith("ssl:"):
        endpoint: Any = serverFromString(reactor, description)
        factory = TLSMemoryBIOFactory(endpoint._sslContextFactory, False, factory)
    if family != socket.AF_UNIX:
        adopted: IListeningPort = reactor.adoptStreamPort(fd, socket.AddressFamily(family), factory)
        _one_accept_at_a_time(adopted)
        return adopted
    # what adoptStreamPort does for AF_UNIX, except that the socket file is left alone:
    # the supervisor made it owner-only (adopting would chmod it to 0666) and removes it
    # at the end (a worker stopping would unlink it under the others' feet).  A path in
    # the abstract namespace is neither chmodded nor unlinked.
    port: Any = unix.Port._fromListeningDescriptor(reactor, fd, factory)
    port._bindPath = b"\0"
    port.startListening()
    result: IListeningPort = port
    return result


def _one_accept_at_a_time(port: Any) -> None:
    """Make ``port`` take one waiting connection per wake-up instead of a burst.

    Every worker is woken when connections wait; Twisted's port would accept
    as many as it can at once, so the first worker awake takes a whole burst
    of keep-alive clients (a load generator's, a proxy's pool) and keeps
    them while the others idle.  One at a time, the workers share them.
    """
    accept_burst = port.doRead

    def do_read() -> Any:
        port.numberAccepts = 1
        return accept_burst()

    port.doRead = do_read
