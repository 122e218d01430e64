"""The caches ``clear_cache`` can empty, registered by name when the daemon is assembled.

Whatever part of the gateway keeps a cache registers a callable that empties
it (``service.py`` does so for the parts it builds), so ``clear_cache`` clears
exactly what exists and can say what that was, instead of answering ok for
nothing.  A clear may answer with an awaitable (a write to a store shared by
other processes); :meth:`CacheRegistry.clear_all_waiting` waits for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

__all__ = ["CacheRegistry"]


class CacheRegistry:
    """Named callables, each of which empties one cache."""

    def __init__(self) -> None:
        self._clears: dict[str, Callable[[], object]] = {}
        self._shared: set[str] = set()

    def register(self, name: str, clear: Callable[[], object], *, shared: bool = False) -> None:
        """Add the cache ``name``, emptied by calling ``clear``.

        ``shared``: what ``clear`` changes is shared by every process (a write
        to their common store), so one clear is enough; processes that hear
        of a clear made elsewhere skip it.

        Raises:
            ValueError: when a cache of that name is registered already.
        """
        if name in self._clears:
            raise ValueError(f"a cache named {name!r} is registered already")
        self._clears[name] = clear
        if shared:
            self._shared.add(name)

    def names(self) -> tuple[str, ...]:
        """The registered caches, in registration order."""
        return tuple(self._clears)

    def clear_all(
        self, *, made_elsewhere: bool = False
    ) -> tuple[list[str], list[tuple[str, Exception]]]:
        """Empty every registered cache, in registration order.

        With ``made_elsewhere`` (another process ran ``clear_cache``), the
        shared caches are left alone: that process cleared them for everyone.

        Returns the names of the caches cleared, and ``(name, error)`` for
        each whose clear raised (the others are still cleared).
        """
        cleared: list[str] = []
        failed: list[tuple[str, Exception]] = []
        for name, clear in self._clears.items():
            if made_elsewhere and name in self._shared:
                continue
            try:
                clear()
            except Exception as e:
                failed.append((name, e))
            else:
                cleared.append(name)
        return cleared, failed

    async def clear_all_waiting(self) -> tuple[list[str], list[tuple[str, Exception]]]:
        """:meth:`clear_all`, also waiting for each clear that answers with an awaitable.

        A cache counts as cleared only once its awaitable has succeeded.
        """
        cleared: list[str] = []
        failed: list[tuple[str, Exception]] = []
        for name, clear in self._clears.items():
            try:
                outcome = clear()
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception as e:
                failed.append((name, e))
            else:
                cleared.append(name)
        return cleared, failed
