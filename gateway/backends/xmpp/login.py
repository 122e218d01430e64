"""``gateway.auth: xmpp``: a password is right when the XMPP server accepts it in a real login.

The XMPP server keeps its accounts' credentials to itself, so the one honest
check is to log in: open a client stream to its c2s port, negotiate STARTTLS
as configured, run SASL (SCRAM-SHA-1, or PLAIN only over TLS or loopback),
and close the connection as soon as the server has decided.  Binding a
resource is never done, so no session appears on the server.

The answers are deliberately three: the server accepted the password
(``True``), the server refused it (``False``: ``not-authorized``, a disabled
account or expired credentials), or no decision could be had (refused
connection, TLS trouble, a stream error, a malformed or missing SASL answer,
silence).  The last raises :class:`~gateway.engine.errors.Unavailable` (or
:class:`~gateway.engine.errors.GatewayTimeout`) and is never reported as a
wrong password, so an outage does not lock callers out through the
brute-force limits.

Logins run at most ``max_in_flight`` at once, ``max_queued`` more wait, and
the rest are refused at once; each has ``timeout`` seconds from connecting
to the verdict.  PBKDF2 (thousands of rounds) runs through an injected
``offload`` so the event loop is not held while it hashes.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import ssl
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.defer import Deferred, DeferredSemaphore, fail, succeed
from twisted.internet.endpoints import clientFromString
from twisted.internet.interfaces import (
    IDelayedCall,
    IReactorTime,
    IStreamClientEndpoint,
)
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.words.protocols.jabber import error as jabber_error
from twisted.words.protocols.jabber import xmlstream
from twisted.words.xish import domish

from gateway.backends.trust import ca_trust_root
from gateway.backends.xmpp.sasl import (
    ScramClient,
    ScramError,
    ServerFirst,
    plain_message,
    salted_password,
)
from gateway.config.backends_parse import C2S_TLS_MODES
from gateway.engine.errors import GatewayTimeout, Unavailable
from gateway.offload import Offload, run_inline
from gateway.stanza import NS_CLIENT

__all__ = ["REFUSALS", "XmppLoginVerifier", "c2s_tls_options", "pbkdf2_cost"]

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"


#: SASL failure conditions that mean "these credentials do not log in"
REFUSALS = frozenset({"not-authorized", "account-disabled", "credentials-expired"})

#: seconds a closing connection may linger after the verdict before it is cut
_CLOSE_GRACE = 5.0

_log = Logger()


def pbkdf2_cost(iterations: int) -> int:
    """The "input size" PBKDF2 is offloaded as: about the bytes it hashes (a 64-byte block
    per round), so any real round count goes to the offload's thread."""
    return iterations * 64


def c2s_tls_options(domain: str, verify: bool = True, ca: str | None = None) -> Any:
    """The TLS client options for STARTTLS to the server of ``domain``.

    With ``verify`` the certificate must be valid for ``domain`` (RFC 7590)
    and chain to ``ca`` (a PEM file, read now) or the system's roots.
    """
    if not verify:
        return ssl.CertificateOptions(verify=False)
    if ca is None:
        return ssl.optionsForClientTLS(domain)
    return ssl.optionsForClientTLS(domain, trustRoot=ca_trust_root(ca))


def _abort(transport: Any) -> None:
    # TCP and TLS transports can drop at once; others only close
    getattr(transport, "abortConnection", transport.loseConnection)()


class _NoVerdict(Exception):
    """The login ended without the server deciding; the text says why."""


class _Attempt:
    """One login: its connection, timer and the Deferred its verdict fires."""

    def __init__(
        self,
        clock: IReactorTime,
        offload: Offload,
        user: str,
        host: str,
        password: str,
        tls_mode: str,
        tls_options: Any,
        timeout: float,
    ) -> None:
        self.clock = clock
        self.offload = offload
        self.user = user
        self.host = host
        self.password = password
        self.tls_mode = tls_mode
        self.tls_options = tls_options
        self.timeout = timeout
        self.encrypted = False
        self.lost = False
        self.stream: xmlstream.XmlStream | None = None
        self.connecting: Deferred[Any] | None = None
        self.result: Deferred[bool] = Deferred(self._cancelled)
        self._timer: IDelayedCall | None = clock.callLater(timeout, self._timed_out)
        self._closer: IDelayedCall | None = None

    @property
    def decided(self) -> bool:
        return self.result.called

    # -- the outcome ---------------------------------------------------------------------

    def settle(self, verdict: bool) -> None:
        """The server decided: ``True`` accepted, ``False`` refused."""
        if not self.decided:
            self._stop_timer()
            self.result.callback(verdict)
        self.close()

    def fail(self, why: str, timeout: bool = False) -> None:
        """No verdict can be had; the caller hears :class:`Unavailable` with ``why``."""
        if not self.decided:
            self._stop_timer()
            text = f"Cannot check the password with the XMPP server: {why}"
            self.result.errback(GatewayTimeout(text) if timeout else Unavailable(text))
        self.close()

    def _timed_out(self) -> None:
        self._timer = None
        self.fail(f"no answer within {self.timeout:g} s", timeout=True)

    def _cancelled(self, _: Deferred[bool]) -> None:
        self._stop_timer()
        self.close(abort=True)

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def close(self, abort: bool = False) -> None:
        """End the connection (or the connecting): politely, and by force after a grace."""
        if self.connecting is not None and not self.connecting.called:
            self.connecting.cancel()
        stream = self.stream
        if stream is None or stream.transport is None or self.lost:
            return
        if abort:
            _abort(stream.transport)
            return
        if self._closer is None:
            try:
                stream.send("</stream:stream>")
            finally:
                stream.transport.loseConnection()
            self._closer = self.clock.callLater(_CLOSE_GRACE, self._cut)

    def _cut(self) -> None:
        self._closer = None
        stream = self.stream
        if stream is not None and stream.transport is not None and not self.lost:
            _abort(stream.transport)

    # -- stream events -------------------------------------------------------------------

    def connection_lost(self, reason: Failure) -> None:
        self.lost = True
        if self._closer is not None and self._closer.active():
            self._closer.cancel()
        self._closer = None
        self.fail(f"the connection closed before a decision ({reason.getErrorMessage()})")

    def stream_error(self, reason: Failure) -> None:
        if reason.check(jabber_error.StreamError):
            error = reason.value
            text = f": {error.text}" if getattr(error, "text", None) else ""
            self.fail(f"the server ended the stream with {error.condition}{text}")
        else:
            self.fail(f"unreadable XML from the server ({reason.getErrorMessage()})")

    def init_failed(self, reason: Failure) -> None:
        if reason.check(xmlstream.FeatureNotAdvertized):
            self.fail("the server does not offer STARTTLS, which c2s_tls: required demands")
        elif reason.check(xmlstream.TLSRequired):
            self.fail("the server requires STARTTLS, but c2s_tls is never")
        elif reason.check(xmlstream.TLSFailed):
            self.fail("the server refused STARTTLS")
        elif reason.check(_NoVerdict, ScramError):
            self.fail(reason.getErrorMessage())
        else:
            _log.failure("XMPP login check failed unexpectedly", reason)
            self.fail(f"unexpected error ({reason.getErrorMessage()})")

    def peer_is_local(self) -> bool:
        """Whether the server is on this machine (loopback or a UNIX socket)."""
        stream = self.stream
        if stream is None or stream.transport is None:
            return False
        peer = stream.transport.getPeer()
        if isinstance(peer, UNIXAddress):
            return True
        if isinstance(peer, IPv4Address | IPv6Address):
            try:
                return ipaddress.ip_address(peer.host.split("%")[0]).is_loopback
            except ValueError:
                return False
        return False


class _StartTls(xmlstream.TLSInitiatingInitializer):
    """STARTTLS as ``c2s_tls`` says, remembering that the stream is now encrypted."""

    def __init__(self, stream: xmlstream.XmlStream, attempt: _Attempt) -> None:
        required = attempt.tls_mode == "required"
        super().__init__(stream, required=required, configurationForTLS=attempt.tls_options)
        self.wanted = attempt.tls_mode != "never"
        self._attempt = attempt

    def onProceed(self, obj: domish.Element) -> None:  # noqa: N802 - Twisted's name
        self._attempt.encrypted = True
        super().onProceed(obj)


def _decode(element: domish.Element) -> bytes:
    text = str(element).strip()
    if text in ("", "="):
        return b""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _NoVerdict("the server's SASL data is not base64") from None


def _element(name: str, data: bytes | None) -> domish.Element:
    element = domish.Element((NS_SASL, name))
    if data is not None:
        element.addContent(base64.b64encode(data).decode("ascii") or "=")
    return element


class _SaslCheck:
    """The last initializer: authenticate, and report the server's decision to the attempt."""

    feature = (NS_SASL, "mechanisms")

    def __init__(self, stream: xmlstream.XmlStream, attempt: _Attempt) -> None:
        self.xmlstream = stream
        self._attempt = attempt
        self._scram: ScramClient | None = None
        self._first: ServerFirst | None = None
        self._verified = False
        self._done: Deferred[None] = Deferred()

    def initialize(self) -> Deferred[None]:
        features = self.xmlstream.features
        if self.feature not in features:
            raise _NoVerdict("the server offers no SASL authentication")
        offered = [
            str(child) for child in features[self.feature].elements() if child.name == "mechanism"
        ]
        stream = self.xmlstream
        stream.addObserver(f'/challenge[@xmlns="{NS_SASL}"]', self._guarded(self._challenge))
        stream.addObserver(f'/success[@xmlns="{NS_SASL}"]', self._guarded(self._success))
        stream.addObserver(f'/failure[@xmlns="{NS_SASL}"]', self._guarded(self._failure))
        attempt = self._attempt
        if "SCRAM-SHA-1" in offered:
            self._scram = ScramClient(attempt.user)
            auth = _element("auth", self._scram.first_message())
            auth["mechanism"] = "SCRAM-SHA-1"
        elif "PLAIN" in offered and (attempt.encrypted or attempt.peer_is_local()):
            auth = _element("auth", plain_message(attempt.user, attempt.password))
            auth["mechanism"] = "PLAIN"
        else:
            names = ", ".join(offered) or "none"
            raise _NoVerdict(
                "the server offers neither SCRAM-SHA-1 nor PLAIN over TLS or loopback "
                f"(it offers: {names})"
            )
        stream.send(auth)
        return self._done

    def _guarded(self, handler: Callable[[domish.Element], None]) -> Callable[[Any], None]:
        def observe(element: domish.Element) -> None:
            if self._attempt.decided:
                return
            try:
                handler(element)
            except (_NoVerdict, ScramError) as e:
                self._attempt.fail(str(e))

        return observe

    def _challenge(self, element: domish.Element) -> None:
        data = _decode(element)
        scram = self._scram
        if scram is None:
            raise _NoVerdict("the server sent a SASL challenge to PLAIN")
        if self._first is None:
            first = self._first = scram.read_server_first(data)
            password, hash_name = self._attempt.password, scram.hash_name
            hashing = self._attempt.offload(
                pbkdf2_cost(first.iterations),
                salted_password,
                password,
                first.salt,
                first.iterations,
                hash_name,
            )
            hashing.addCallbacks(self._respond, self._hash_failed)
        elif not self._verified:
            # some servers send the verifier as a last challenge, then an empty success
            scram.check_server_final(data)
            self._verified = True
            self.xmlstream.send(_element("response", None))
        else:
            raise _NoVerdict("the server sent an unexpected SASL challenge")

    def _respond(self, salted: bytes) -> None:
        attempt, scram, first = self._attempt, self._scram, self._first
        if attempt.decided or attempt.lost or scram is None or first is None:
            return
        self.xmlstream.send(_element("response", scram.final_message(first, salted)))

    def _hash_failed(self, reason: Failure) -> None:
        _log.failure("salting the password for a SCRAM login failed", reason)
        self._attempt.fail("the password could not be hashed")

    def _success(self, element: domish.Element) -> None:
        data = _decode(element)
        if self._scram is not None:
            if data:
                self._scram.check_server_final(data)
            elif not self._verified:
                raise _NoVerdict("the server accepted SCRAM without proving its own key")
        self._attempt.settle(True)
        self._done.callback(None)

    def _failure(self, element: domish.Element) -> None:
        condition = next((child.name for child in element.elements()), None)
        if condition in REFUSALS:
            self._attempt.settle(False)
            self._done.callback(None)
        else:
            raise _NoVerdict(f"SASL failed with {condition or 'no condition'}")


class _Authenticator(xmlstream.ConnectAuthenticator):
    """A client stream to ``host`` whose initializers are STARTTLS and the SASL check."""

    namespace = NS_CLIENT

    def __init__(self, attempt: _Attempt) -> None:
        super().__init__(attempt.host)
        self._attempt = attempt

    def associateWithStream(self, stream: xmlstream.XmlStream) -> None:  # noqa: N802
        super().associateWithStream(stream)
        attempt = self._attempt
        attempt.stream = stream
        stream.initializers = [_StartTls(stream, attempt), _SaslCheck(stream, attempt)]
        stream.addObserver(xmlstream.STREAM_ERROR_EVENT, attempt.stream_error)
        stream.addObserver(xmlstream.INIT_FAILED_EVENT, attempt.init_failed)
        stream.addObserver(xmlstream.STREAM_END_EVENT, attempt.connection_lost)


class _LoginFactory(Factory):
    def __init__(self, attempt: _Attempt) -> None:
        self._attempt = attempt

    def buildProtocol(self, addr: Any) -> xmlstream.XmlStream:  # noqa: N802
        stream = xmlstream.XmlStream(_Authenticator(self._attempt))
        stream.factory = self
        return stream


class XmppLoginVerifier:
    """Checks passwords by logging in to an XMPP server's c2s port.

    Args:
        clock: the reactor (time and, through the endpoint, connections).
        endpoint: where the server's c2s port is.
        hosts: the XMPP domains served there; other hosts have no accounts.
        tls_mode: ``if_offered``, ``required`` or ``never`` (STARTTLS).
        tls_options: TLS client options (:func:`c2s_tls_options`); ``None``
            verifies against the system's roots for each host.
        timeout: seconds from connecting to the verdict.
        max_in_flight: logins at once.
        max_queued: logins waiting for a slot; more are refused at once.
        offload: where PBKDF2 runs (the service's
            :class:`~gateway.offload.ThreadOffload`, which takes it to its thread
            given :func:`pbkdf2_cost`); inline by default.
    """

    def __init__(
        self,
        clock: IReactorTime,
        endpoint: IStreamClientEndpoint,
        hosts: Iterable[str],
        *,
        tls_mode: str = "if_offered",
        tls_options: Any = None,
        timeout: float = 15.0,
        max_in_flight: int = 8,
        max_queued: int = 64,
        offload: Offload = run_inline,
    ) -> None:
        if tls_mode not in C2S_TLS_MODES:
            raise ValueError(f"c2s_tls must be one of {', '.join(C2S_TLS_MODES)}, not {tls_mode!r}")
        self._clock = clock
        self._endpoint = endpoint
        self.hosts = frozenset(hosts)
        self._tls_mode = tls_mode
        self._tls_options = tls_options
        self._timeout = timeout
        self._slots = DeferredSemaphore(max(1, max_in_flight))
        self._max_queued = max_queued
        self._offload = offload

    @classmethod
    def from_endpoint_string(
        cls,
        reactor: Any,
        description: str,
        hosts: Iterable[str],
        *,
        tls_mode: str = "if_offered",
        verify: bool = True,
        ca: str | None = None,
        timeout: float = 15.0,
        max_in_flight: int = 8,
        max_queued: int = 64,
        offload: Offload = run_inline,
    ) -> XmppLoginVerifier:
        """A verifier for ``gateway.xmpp``'s ``c2s`` endpoint string and TLS keys.

        The certificate is checked against the first host (the served one).
        """
        hosts = list(hosts)
        if not hosts:
            raise ValueError("an XMPP login verifier needs at least one host")
        if tls_mode != "never" and not verify:
            _log.warn(
                "gateway.xmpp.c2s_verify is false: passwords are checked over TLS whose "
                "certificate is not verified, so anyone on the path to {c2s} can read them",
                c2s=description,
            )
        tls_options = c2s_tls_options(hosts[0], verify, ca) if tls_mode != "never" else None
        return cls(
            reactor,
            clientFromString(reactor, description),
            hosts,
            tls_mode=tls_mode,
            tls_options=tls_options,
            timeout=timeout,
            max_in_flight=max_in_flight,
            max_queued=max_queued,
            offload=offload,
        )

    def check(self, user: str, host: str, password: str) -> Deferred[bool]:
        """Whether the server accepts ``password`` for ``user@host`` (prepared already).

        Fails with :class:`Unavailable` (or :class:`GatewayTimeout`) when the
        server cannot be asked or does not decide, and when too many logins
        wait already.
        """
        if host not in self.hosts or not user:
            return succeed(False)
        if self._slots.tokens == 0 and len(self._slots.waiting) >= self._max_queued:
            return fail(Unavailable("Too many password checks are waiting for the XMPP server"))
        return self._slots.run(self._login, user, host, password)

    def _login(self, user: str, host: str, password: str) -> Deferred[bool]:
        attempt = _Attempt(
            self._clock,
            self._offload,
            user,
            host,
            password,
            self._tls_mode,
            self._tls_options,
            self._timeout,
        )
        connecting = self._endpoint.connect(_LoginFactory(attempt))
        attempt.connecting = connecting
        connecting.addErrback(self._connect_failed, attempt)
        return attempt.result

    @staticmethod
    def _connect_failed(reason: Failure, attempt: _Attempt) -> None:
        if not attempt.decided:
            attempt.fail(f"cannot connect ({reason.getErrorMessage()})")
