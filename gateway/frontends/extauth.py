"""ejabberd's external authentication protocol, answered from the gateway's accounts.

ejabberd (``auth_method: external``) and Prosody's external-auth module start
a program and talk to it over stdin/stdout.  Each request is a 2-byte
big-endian length followed by ``op:arg:arg…`` in UTF-8; each answer is the
length ``2`` followed by ``1`` (yes) or ``0`` (no), both as 2-byte integers.
A password may itself contain ``:``, so it is always the last field.

User and host are prepared (and length-checked) by
:mod:`gateway.engine.identifiers` before anything else; passwords are
SASLprepped by the backend, as for every other dialect, so what this
program accepts is what the API accepts.

A successful ``auth`` is recorded as the account's last activity when the
backend keeps one (:class:`LoginRecorder`), so idle-account purges see who
really logs in; a failure to record it is logged and does not refuse the login.
"""

from __future__ import annotations

import struct
import typing
from collections.abc import Awaitable, Callable

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from zope.interface import implementer

from gateway.backends.interfaces import Backend
from gateway.engine.errors import CommandError
from gateway.engine.identifiers import InvalidIdentifier, prepare_account
from gateway.engine.model import Caller, ResTuple

__all__ = ["ExtauthProtocol", "LoginRecorder", "answer"]

log = Logger()

_CALLER = Caller(frontend="extauth")
#: op -> number of fields after it; the last one may contain ':'
_FIELDS = {
    "auth": 3,
    "isuser": 2,
    "setpass": 3,
    "tryregister": 3,
    "removeuser": 2,
    "removeuser3": 3,
}
#: requests are short; anything larger is a broken or hostile peer
MAX_REQUEST = 4096


@typing.runtime_checkable
class LoginRecorder(typing.Protocol):
    """A backend that records logins as last activity (the embedded one does)."""

    def record_login(self, user: str, host: str) -> Deferred[bool]: ...


async def _authenticate(backend: Backend, user: str, host: str, password: str) -> bool:
    if not await backend.check_password(user, host, password):
        return False
    if isinstance(backend, LoginRecorder):
        try:
            await backend.record_login(user, host)
        except Exception:
            log.failure("extauth: login of {user}@{host} not recorded", user=user, host=host)
    return True


def _ok(value: object) -> bool:
    if isinstance(value, ResTuple):
        return value.ok
    return value is True


async def answer(backend: Backend, request: str) -> bool:
    """The yes/no answer to one extauth request."""
    op, _, rest = request.partition(":")
    count = _FIELDS.get(op)
    if count is None:
        log.warn("extauth: unknown operation {op!r}", op=op)
        return False
    fields = rest.split(":", count - 1)
    if len(fields) != count:
        return False
    try:
        user, host = prepare_account(fields[0], fields[1])
    except InvalidIdentifier as e:
        # the server prepares names before asking: a broken or hostile peer
        log.warn("extauth {op}: unusable account: {error}", op=op, error=e)
        return False

    def run(command: str, args: dict[str, str]) -> Awaitable[object]:
        return backend.execute(command, args, _CALLER)

    try:
        if op == "auth":
            return await _authenticate(backend, user, host, fields[2])
        if op == "isuser":
            return _ok(await run("check_account", {"user": user, "host": host}))
        if op == "setpass":
            args = {"user": user, "host": host, "newpass": fields[2]}
            return _ok(await run("change_password", args))
        if op == "tryregister":
            args = {"user": user, "host": host, "password": fields[2]}
            return _ok(await run("register", args))
        if op == "removeuser3" and not await backend.check_password(user, host, fields[2]):
            return False
        return _ok(await run("unregister", {"user": user, "host": host}))
    except CommandError as e:
        log.info("extauth {op} for {user}@{host}: {error}", op=op, user=user, host=host, error=e)
        return False


@implementer(IHalfCloseableProtocol)
class ExtauthProtocol(Protocol):
    """Reads length-prefixed requests and writes the answers, in order.

    Half-closeable: when the server closes our stdin, the answers still
    pending are written before stdout closes.
    """

    def __init__(self, backend: Backend, on_close: Callable[[], None] = lambda: None) -> None:
        self._backend = backend
        self._buffer = b""
        self._on_close = on_close
        # answers must come back in request order, so requests are chained
        self._tail: Deferred[None] = Deferred()
        self._tail.callback(None)

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= 2:
            (length,) = struct.unpack(">H", self._buffer[:2])
            if length > MAX_REQUEST:
                log.error("extauth: request of {length} bytes refused", length=length)
                self.transport.loseConnection()  # type: ignore[union-attr]
                return
            if len(self._buffer) < 2 + length:
                return
            frame, self._buffer = self._buffer[2 : 2 + length], self._buffer[2 + length :]
            request = frame.decode("utf-8", "replace")
            self._tail.addCallback(self._chain, request)

    def _chain(self, _: None, request: str) -> Deferred[None]:
        return ensureDeferred(self._reply(request))

    async def _reply(self, request: str) -> None:
        try:
            ok = await answer(self._backend, request)
        except Exception:
            log.failure("extauth request failed")
            ok = False
        if self.transport is not None:
            self.transport.write(struct.pack(">HH", 2, 1 if ok else 0))

    def readConnectionLost(self) -> None:
        # ejabberd closes stdin when it stops: finish pending answers first
        self._tail.addBoth(self._close_output)

    def _close_output(self, _: object) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def writeConnectionLost(self) -> None:
        self.transport.loseConnection()  # type: ignore[union-attr]

    def connectionLost(self, reason: object = None) -> None:
        self._tail.addBoth(lambda _: self._on_close())
