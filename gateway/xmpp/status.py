"""What the component link reports: its state, the ``status`` command's lines, ``/health``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

__all__ = ["NOT_CONFIGURED", "LinkState", "Reporting", "health_check", "plural", "status_lines"]


@dataclass(frozen=True, slots=True)
class LinkState:
    """What ``status`` and the health endpoint report about the link."""

    #: the stream is up and authenticated
    connected: bool
    #: POSIX time the link last went up or down (``None``: never started)
    since: float | None
    #: stanzas waiting in the durable queue
    queued: int
    #: whether a component is configured at all
    configured: bool
    #: stanza errors that came back for stanzas we sent
    bounced: int = 0
    #: queued stanzas dropped because the server closed the stream over them
    dead_lettered: int = 0
    #: times the stream came back up after the first one (since start)
    reconnects: int = 0
    #: stanzas accepted into the queue since start
    accepted: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The state as JSON-ready values."""
        return asdict(self)


#: the state to report when no component is configured
NOT_CONFIGURED = LinkState(connected=False, since=None, queued=0, configured=False)


class Reporting(Protocol):
    """Anything that reports a :class:`LinkState` (the component link)."""

    def state(self) -> LinkState: ...


def health_check(link: Reporting | None) -> Callable[[], tuple[bool, dict[str, Any]]]:
    """A ``/health`` check: healthy when the link is up or no component is configured."""

    def check() -> tuple[bool, dict[str, Any]]:
        state = link.state() if link is not None else NOT_CONFIGURED
        return state.connected or not state.configured, state.as_dict()

    return check


def status_lines(jid: str, where: str, state: LinkState) -> list[str]:
    """The ``status`` command's lines about the component ``jid`` connecting to ``where``."""
    if state.since is None:
        link = "not started"
    elif state.connected:
        link = f"connected to {where} since {_utc(state.since)}"
    else:
        link = f"not connected to {where} since {_utc(state.since)}"
    return [
        f"XMPP component {jid}: {link}",
        f"XMPP component {jid}: {plural(state.queued, 'stanza')} queued, "
        f"{plural(state.bounced, 'stanza error')} bounced, "
        f"{plural(state.dead_lettered, 'stanza')} dead-lettered",
    ]


def plural(n: int, noun: str) -> str:
    """``1 stanza``, ``2 stanzas``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _utc(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
