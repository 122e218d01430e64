"""A logged-in slixmpp client that also fetches its roster and records roster pushes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

from tests.integration.xmppclient import Receiver


class RosterReceiver(Receiver):
    """A :class:`Receiver` that asks for its roster at once (so the server sends it pushes,
    RFC 6121 2.1.6) and records each pushed item as ``(jid, name, subscription, groups)``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pushes: list[tuple[str, str, str, tuple[str, ...]]] = []
        self._pushed = threading.Condition()

    def start(self) -> Self:
        super().start()
        loop, client = self._loop, self._client
        assert loop is not None and client is not None

        async def subscribe() -> None:
            client.add_event_handler("roster_update", self._record_push)
            await client.get_roster(timeout=self.timeout)

        asyncio.run_coroutine_threadsafe(subscribe(), loop).result(self.timeout + 5)
        return self

    @property
    def bound_jid(self) -> str:
        """The full JID of the current session (with the resource the server bound)."""
        client = self._client
        assert client is not None
        return str(client.boundjid)

    def _record_push(self, iq: Any) -> None:
        if iq["type"] != "set":
            return  # the answer to our own roster get
        with self._pushed:
            for jid, item in iq["roster"]["items"].items():
                groups = tuple(sorted(item["groups"]))
                self._pushes.append((str(jid), item["name"], item["subscription"], groups))
            self._pushed.notify_all()

    def wait_for_push(self, jid: str, timeout: float = 10) -> tuple[str, str, str, tuple[str, ...]]:
        """The first push about ``jid``; TimeoutError if none comes in time."""
        with self._pushed:
            found: list[tuple[str, str, str, tuple[str, ...]]] = []

            def arrived() -> bool:
                found[:] = [push for push in self._pushes if push[0] == jid]
                return bool(found)

            if not self._pushed.wait_for(arrived, timeout):
                raise TimeoutError(f"{self.jid}: no roster push about {jid} in {timeout}s")
            return found[0]
