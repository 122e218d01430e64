"""The outbound queue in memory, for tests and for links nothing needs to survive.

The link depends only on the :class:`~gateway.backends.interfaces.OutboundQueue`
contract; the durable queue the daemon uses is the embedded store's
(:class:`~gateway.backends.embedded.outbox.StoreOutbox`), wired in by
:mod:`gateway.service`.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, fail, succeed

from gateway.backends.interfaces import QueueFull

__all__ = ["MemoryQueue"]


class MemoryQueue:
    """An :class:`~gateway.backends.interfaces.OutboundQueue` in a list; lost at a restart."""

    def __init__(self) -> None:
        self._items: list[tuple[int, str]] = []
        self._last_id = 0

    def append(self, stanza_xml: str, limit: int | None = None) -> Deferred[int]:
        if limit is not None and len(self._items) >= limit:
            return fail(QueueFull(limit))
        self._last_id += 1
        self._items.append((self._last_id, stanza_xml))
        return succeed(self._last_id)

    def peek(self, after_id: int, limit: int) -> Deferred[list[tuple[int, str]]]:
        return succeed([item for item in self._items if item[0] > after_id][:limit])

    def confirm(self, upto_id: int) -> Deferred[int]:
        kept = [item for item in self._items if item[0] > upto_id]
        removed = len(self._items) - len(kept)
        self._items = kept
        return succeed(removed)

    def discard(self, item_id: int) -> Deferred[bool]:
        kept = [item for item in self._items if item[0] != item_id]
        removed = len(kept) < len(self._items)
        self._items = kept
        return succeed(removed)

    def count(self) -> Deferred[int]:
        return succeed(len(self._items))
