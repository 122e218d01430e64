"""A real XMPP client (slixmpp) made easy to drive from synchronous pytest tests.

Every network conversation runs on its own asyncio loop in a background thread, so the calling
test (plain pytest, or a Twisted test with its own reactor) never shares a loop with slixmpp.

- ``can_login`` answers whether a JID/password pair is accepted over c2s;
- ``Receiver`` stays logged in (logging in again whenever the server drops it), sends initial
  presence so that offline messages are delivered, and records every incoming message;
- ``send_as_component`` connects as an XEP-0114 component and sends one message.

Connections use plain TCP to loopback: STARTTLS and direct TLS are off, and SASL PLAIN and
SCRAM are allowed without TLS, which the test servers permit on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import slixmpp
from slixmpp.xmlstream import ET

__all__ = [
    "LoginRefused",
    "ReceivedMessage",
    "Receiver",
    "can_login",
    "send_as_component",
]

ORIGIN_ID = "{urn:xmpp:sid:0}origin-id"
DELAY = "{urn:xmpp:delay}delay"

_T = TypeVar("_T")

# slixmpp's plugin options that let SASL run over an unencrypted loopback stream.
_SASL_WITHOUT_TLS = {"feature_mechanisms": {"unencrypted_plain": True, "unencrypted_scram": True}}


class LoginRefused(Exception):
    """The server refused the credentials (as opposed to not answering at all)."""


@dataclass(frozen=True)
class ReceivedMessage:
    """One message stanza as the client received it."""

    sender: str
    """The full ``from`` address."""
    to: str
    body: str
    type: str
    id: str | None
    """The stanza's ``id`` attribute."""
    origin_id: str | None
    """The ``id`` of an XEP-0359 ``<origin-id/>`` child, when present."""
    delayed: bool
    """Whether it carries an XEP-0203 delay, as offline messages do."""
    xml: str


def _run(factory: Callable[[], Coroutine[Any, Any, _T]], timeout: float) -> _T:
    """Run a coroutine on a fresh loop in a fresh thread and return its result."""
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            outcome.append(asyncio.run(asyncio.wait_for(factory(), timeout)))
        except BaseException as e:  # handed to the caller's thread below
            failure.append(e)

    thread = threading.Thread(target=main, name="xmpp-client", daemon=True)
    thread.start()
    thread.join(timeout + 10)
    if failure:
        raise failure[0]
    if not outcome:
        raise TimeoutError("the XMPP client thread did not finish")
    return outcome[0]


def _client(jid: str, password: str) -> slixmpp.ClientXMPP:
    client = slixmpp.ClientXMPP(jid, password, plugin_config=_SASL_WITHOUT_TLS)
    client.enable_starttls = False
    client.enable_direct_tls = False
    client.enable_plaintext = True
    client.register_plugin("xep_0199")
    return client


async def _log_in(client: slixmpp.BaseXMPP, host: str, port: int, timeout: float) -> None:
    """Connect ``client`` and wait until its session starts.

    Raises LoginRefused when the server rejects the credentials, ConnectionError when it
    cannot be reached or closes the stream first, TimeoutError when nothing is decided in time.
    Each call makes one attempt: slixmpp's own retry loop, with its growing back-off, is cut.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[BaseException | None] = loop.create_future()

    def settle(result: BaseException | None) -> None:
        if not outcome.done():
            outcome.set_result(result)

    def started(_: Any) -> None:
        settle(None)

    def refused(_: Any) -> None:
        settle(LoginRefused(str(client.boundjid)))

    def unreachable(reason: Any) -> None:
        client.cancel_connection_attempt()
        settle(ConnectionError(f"cannot reach {host}:{port}: {reason}"))

    def closed(reason: Any) -> None:
        settle(ConnectionError(f"stream closed before login: {reason}"))

    handlers: list[tuple[str, Callable[[Any], None]]] = [
        ("session_start", started),
        ("failed_all_auth", refused),
        ("connection_failed", unreachable),
        ("disconnected", closed),
    ]
    for name, handler in handlers:
        client.add_event_handler(name, handler)
    try:
        client.connect(host, port)
        try:
            error = await asyncio.wait_for(outcome, timeout)
        except TimeoutError:
            error = TimeoutError(f"no login decision from {host}:{port} in {timeout}s")
    finally:
        for name, handler in handlers:
            client.del_event_handler(name, handler)
    if error is not None:
        await _close(client)
        raise error


async def _close(client: slixmpp.BaseXMPP, wait: float = 2.0) -> None:
    client.cancel_connection_attempt()
    if client.transport is None:
        return
    try:
        await asyncio.wait_for(client.disconnect(wait=wait), wait + 1)
    except (TimeoutError, asyncio.CancelledError):
        client.abort()


def can_login(host: str, port: int, jid: str, password: str, timeout: float = 10.0) -> bool:
    """Whether ``jid`` can log in with ``password`` over c2s at ``host:port``.

    False only when the server refuses the credentials; an unreachable server or a stream
    closed before authentication raises ConnectionError, and silence raises TimeoutError, so
    a refused login is never confused with a broken setup.
    """

    async def attempt() -> bool:
        client = _client(jid, password)
        try:
            await _log_in(client, host, port, timeout)
        except LoginRefused:
            return False
        await _close(client)
        return True

    return _run(attempt, timeout + 5)


def send_as_component(
    host: str,
    port: int,
    domain: str,
    secret: str,
    to: str,
    body: str,
    *,
    sender: str | None = None,
    origin_id: str | None = None,
    timeout: float = 10.0,
) -> None:
    """Connect as the XEP-0114 component ``domain`` and send one chat message to ``to``.

    ``sender`` defaults to the component's domain.  Raises ConnectionError when the handshake
    is refused or the server cannot be reached.
    """

    async def attempt() -> None:
        component = slixmpp.ComponentXMPP(domain, secret, host, port)
        await _log_in(component, host, port, timeout)
        message = component.make_message(mto=to, mbody=body, mtype="chat", mfrom=sender or domain)
        if origin_id is not None:
            ET.SubElement(message.xml, ORIGIN_ID, {"id": origin_id})
        message.send()
        # Closing the stream flushes what was queued; the server handles it in order.
        await _close(component, wait=timeout)

    _run(attempt, timeout * 2 + 5)


def _received(stanza: Any) -> ReceivedMessage:
    xml = stanza.xml
    origin = xml.find(ORIGIN_ID)
    return ReceivedMessage(
        sender=str(stanza["from"]),
        to=str(stanza["to"]),
        body=str(stanza["body"]),
        type=str(stanza["type"]),
        id=xml.get("id"),
        origin_id=None if origin is None else origin.get("id"),
        delayed=xml.find(DELAY) is not None,
        xml=str(stanza),
    )


class Receiver:
    """A logged-in client that records incoming messages, for use from synchronous tests.

    ``start()`` returns once the first session is up (initial presence sent) and raises if the
    login fails.  When the server goes away the Receiver logs in again every ``retry_delay``
    seconds (with ``reconnect=True``), so messages delivered after a server restart, including
    offline ones, are still collected.  ``stop()`` logs out.  Use it as a context manager.
    """

    def __init__(
        self,
        host: str,
        port: int,
        jid: str,
        password: str,
        *,
        reconnect: bool = True,
        retry_delay: float = 0.25,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.jid = jid
        self.password = password
        self.reconnect = reconnect
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._changed = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._sessions = 0
        self._online = False
        self._failure: BaseException | None = None
        self._finished = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._client: slixmpp.ClientXMPP | None = None

    # -- the synchronous side ------------------------------------------------------------

    def start(self) -> Self:
        """Log in and send initial presence; raises LoginRefused/ConnectionError/TimeoutError."""
        if self._thread is not None:
            raise RuntimeError("this Receiver was already started")
        self._thread = threading.Thread(target=self._thread_main, name="xmpp-receiver", daemon=True)
        self._thread.start()
        with self._changed:
            self._changed.wait_for(
                lambda: self._sessions > 0 or self._failure is not None or self._finished,
                self.timeout + 5,
            )
            failure, sessions = self._failure, self._sessions
        if sessions == 0:
            self.stop()
            raise failure or TimeoutError(f"{self.jid} did not log in within {self.timeout}s")
        return self

    def stop(self) -> None:
        """Log out and end the client thread (idempotent)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed in between
                pass
        if self._thread is not None:
            self._thread.join(self.timeout + 5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        """A snapshot of the messages received so far, in arrival order."""
        with self._changed:
            return list(self._messages)

    @property
    def online(self) -> bool:
        with self._changed:
            return self._online

    @property
    def sessions(self) -> int:
        """How many sessions were started so far (1 + the number of re-logins)."""
        with self._changed:
            return self._sessions

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._changed:
            self._messages.clear()

    def wait_until(
        self, predicate: Callable[[list[ReceivedMessage]], bool], timeout: float = 10.0
    ) -> list[ReceivedMessage]:
        """Wait until ``predicate(messages)`` holds; the messages then, or TimeoutError."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._messages), timeout):
                raise TimeoutError(
                    f"{self.jid}: condition not met in {timeout}s; "
                    f"{len(self._messages)} message(s) received"
                )
            return list(self._messages)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Wait until at least ``count`` messages have arrived; all messages so far."""
        return self.wait_until(lambda messages: len(messages) >= count, timeout)

    def wait_online(self, sessions: int = 1, timeout: float = 30.0) -> None:
        """Wait until at least ``sessions`` sessions were started and one is up now."""
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._online and self._sessions >= sessions, timeout
            ):
                raise TimeoutError(f"{self.jid} not back online within {timeout}s")

    def send_message(self, to: str, body: str, origin_id: str | None = None) -> None:
        """Send a chat message from this client (on its current session)."""

        async def send() -> None:
            client = self._client
            if client is None or not self._online:
                raise ConnectionError(f"{self.jid} is not online")
            message = client.make_message(mto=to, mbody=body, mtype="chat")
            message["id"] = uuid.uuid4().hex
            if origin_id is not None:
                ET.SubElement(message.xml, ORIGIN_ID, {"id": origin_id})
            message.send()

        if self._loop is None:
            raise RuntimeError("the Receiver is not started")
        asyncio.run_coroutine_threadsafe(send(), self._loop).result(self.timeout)

    def join_room(self, room: str, nick: str) -> None:
        """Send the XEP-0045 join presence for ``room`` (a bare room JID) as ``nick``.

        The server's answer is not awaited: poll the room (e.g. its occupants) instead.
        """

        async def send() -> None:
            client = self._client
            if client is None or not self._online:
                raise ConnectionError(f"{self.jid} is not online")
            presence = client.make_presence(pto=f"{room}/{nick}")
            ET.SubElement(presence.xml, "{http://jabber.org/protocol/muc}x")
            presence.send()

        if self._loop is None:
            raise RuntimeError("the Receiver is not started")
        asyncio.run_coroutine_threadsafe(send(), self._loop).result(self.timeout)

    # -- the client thread ---------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as e:
            with self._changed:
                self._failure = self._failure or e
        finally:
            with self._changed:
                self._finished = True
                self._online = False
                self._changed.notify_all()

    def _record(self, stanza: Any) -> None:
        message = _received(stanza)
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()

    def _set_online(self, online: bool) -> None:
        with self._changed:
            self._online = online
            if online:
                self._sessions += 1
            self._changed.notify_all()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        stopping = asyncio.ensure_future(self._stop.wait())
        # One client for the whole life: slixmpp reconnects an existing client cleanly.
        client = self._client = _client(self.jid, self.password)
        client.add_event_handler("message", self._record)
        client.add_event_handler("session_start", lambda _: client.send_presence())
        first = True
        try:
            while not self._stop.is_set():
                try:
                    await _log_in(client, self.host, self.port, self.timeout)
                except (ConnectionError, TimeoutError, LoginRefused) as e:
                    if first or isinstance(e, LoginRefused) or not self.reconnect:
                        with self._changed:
                            self._failure = e
                        raise
                    await asyncio.wait([stopping], timeout=self.retry_delay)
                    continue
                first = False
                self._set_online(True)
                await asyncio.wait(
                    [stopping, asyncio.ensure_future(client.disconnected)],
                    return_when=asyncio.FIRST_COMPLETED,
                )
                self._set_online(False)
                if self._stop.is_set() or not self.reconnect:
                    break
                await asyncio.wait([stopping], timeout=self.retry_delay)
        finally:
            await _close(client)
            stopping.cancel()
