"""The HTTP client of one upstream ejabberd's ``/api``.

One persistent connection pool (treq over Twisted's ``Agent``), at most
``max_connections`` requests in flight and ``max_queued`` waiting in order;
beyond that a call is refused at once.  Every call, its wait in the queue
included, ends within ``timeout``: a late one is cancelled (its connection
closed) and answered :class:`~gateway.engine.errors.GatewayTimeout`.  A
refused or broken connection is :class:`~gateway.engine.errors.Unavailable`;
the upstream's error answers become the engine errors they stand for
(:mod:`.failures`).

With ``api_profile: auto`` the client asks the upstream's ``status`` for its
release before the first command, and again after the upstream was
unreachable (it may come back upgraded).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import quote

import treq
from twisted.internet.defer import CancelledError, Deferred, ensureDeferred, succeed
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool, _HTTP11ClientFactory
from twisted.web.iweb import IResponse

from gateway.backends.flight import Flight
from gateway.backends.upstream.body import BodyTooLarge, read_body
from gateway.backends.upstream.failures import error_for
from gateway.backends.upstream.profile import (
    PROFILE_CHOICES,
    profile_for_release,
    release_from_status,
)
from gateway.backends.upstream.slots import QueueFull, Slots
from gateway.backends.upstream.tls import tls_policy
from gateway.config.model import UpstreamConfig
from gateway.engine.errors import CommandError, GatewayTimeout, Unavailable
from gateway.offload import Offload, run_inline

__all__ = [
    "DEFAULT_MAX_BODY",
    "IDLE_CONNECTION_TIMEOUT",
    "HttpPoster",
    "UpstreamClient",
    "UpstreamHealth",
]

log = Logger()

#: seconds an idle pooled connection is kept
IDLE_CONNECTION_TIMEOUT = 50

#: the largest answer body read from the upstream (a big roster or user list fits)
DEFAULT_MAX_BODY = 64 * 1024 * 1024


class HttpPoster(Protocol):
    """The part of ``treq.HTTPClient`` (or ``treq.testing.StubTreq``) the client uses."""

    def post(self, url: str, data: bytes, **kwargs: Any) -> Deferred[IResponse]: ...


@dataclass(frozen=True, slots=True)
class UpstreamHealth:
    """What ``status`` and ``/health`` show about the upstream."""

    url: str
    #: ``True`` once it answered, ``False`` after a failed or late request, ``None`` before any
    reachable: bool | None
    last_error: str | None
    #: the profile in use, ``None`` while ``auto`` has not found it yet
    profile: str | None
    in_flight: int
    queued: int


class UpstreamClient:
    """Posts commands to ``<url>/<name>`` and returns the decoded JSON answers.

    Args:
        config: the ``gateway.upstream`` section.
        reactor: the reactor (TCP, TLS and time); nothing else is used.
        http: stands in for treq in tests; by default treq over an ``Agent``
            with a persistent pool and the configured TLS policy.
        max_body: the largest answer read; a longer one is an error.
        offload: decodes large answers off the event loop (the service's
            :class:`~gateway.offload.ThreadOffload`); inline by default.
    """

    def __init__(
        self,
        config: UpstreamConfig,
        reactor: Any,
        *,
        http: HttpPoster | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        offload: Offload = run_inline,
    ) -> None:
        if config.api_profile not in PROFILE_CHOICES:
            raise ValueError(f"api_profile must be one of {', '.join(PROFILE_CHOICES)}")
        if not config.url.startswith(("http://", "https://")):
            raise ValueError(f"the upstream url must be http:// or https://, not {config.url!r}")
        self.url = config.url.rstrip("/")
        self.timeout = config.timeout
        self._clock: IReactorTime = reactor
        self._headers = {
            b"Content-Type": [b"application/json"],
            b"Accept": [b"application/json"],
            b"Authorization": [_authorization(config)],
        }
        self._max_body = max_body
        self._offload = offload
        self._slots = Slots(config.max_connections, config.max_queued)
        self._pool: HTTPConnectionPool | None = None
        if http is None:
            self._pool = _QuietPool(reactor, persistent=True)
            self._pool.maxPersistentPerHost = config.max_connections
            # Twisted never resends a POST on a kept-alive connection the server
            # closed meanwhile, so drop idle ones well before servers and proxies
            # do (ejabberd: 300 s, nginx: 75 s)
            self._pool.cachedConnectionTimeout = IDLE_CONNECTION_TIMEOUT
            policy = tls_policy(config.tls.ca, config.tls.verify)
            agent = Agent(reactor, contextFactory=policy, pool=self._pool)
            http = cast(HttpPoster, treq.client.HTTPClient(agent))
        self._http: HttpPoster = http
        if self.url.startswith("https://") and not config.tls.verify:
            log.warn(
                "gateway.upstream.tls.verify is false: the certificate of {url} is NOT"
                " checked, so anyone on the network path can read and change every"
                " command and password sent to it",
                url=self.url,
            )
        self._auto = config.api_profile == "auto"
        self._profile: str | None = None if self._auto else config.api_profile
        #: the upstream was unreachable since the profile was found: ask again
        self._stale = False
        #: the callers waiting for the release detection under way, if one is
        self._detection: Flight[str] | None = None
        self._reachable: bool | None = None
        self._last_error: str | None = None

    # -- calls ------------------------------------------------------------------

    def call(
        self, name: str, args: Mapping[str, Any], *, version: int | None = None
    ) -> Deferred[Any]:
        """POST ``args`` to ``<url>/<name>`` (``/vN`` appended for a version).

        Fires with the decoded JSON of a 200 answer; fails with a
        :class:`~gateway.engine.errors.CommandError`.  Cancelling the
        Deferred cancels the request.
        """
        path = f"{self.url}/{quote(name, safe='')}"
        if version is not None:
            path += f"/v{int(version)}"
        try:
            body = json.dumps(dict(args), ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as e:
            raise ValueError(f"arguments of {name} are not JSON: {e}") from None
        done = ensureDeferred(self._exchange(name, path, body))
        done.addTimeout(self.timeout, self._clock, onTimeoutCancel=self._late(name))
        return done

    def _late(self, name: str) -> Any:
        def timed_out(result: Any, timeout: float) -> Any:
            if isinstance(result, Failure) and not result.check(CancelledError):
                return result  # it ended with its own error while being cancelled
            message = (
                f"the upstream ejabberd at {self.url} did not answer {name} within {timeout:g} s"
            )
            self._failed(message)
            raise GatewayTimeout(message)

        return timed_out

    async def _exchange(self, name: str, path: str, body: bytes) -> Any:
        try:
            await self._slots.acquire()
        except QueueFull as e:
            raise Unavailable(
                f"the upstream ejabberd at {self.url} is busy ({e}); try again later"
            ) from None
        try:
            try:
                response = await self._http.post(path, data=body, headers=self._headers)
                payload = await read_body(response, self._max_body)
            except (CancelledError, CommandError):
                raise
            except BodyTooLarge:
                raise Unavailable(
                    f"the upstream ejabberd at {self.url} answered {name} with more than"
                    f" {self._max_body} bytes"
                ) from None
            except Exception as e:
                if _cancelled(e):
                    raise CancelledError() from None
                message = f"the upstream ejabberd at {self.url} is unavailable: {_describe(e)}"
                self._failed(message)
                raise Unavailable(message) from None
        finally:
            self._slots.release()
        self._answered()
        if response.code != 200:
            raise error_for(response.code, payload, command=name, url=self.url)
        try:
            return await self._offload(len(payload), _json, payload)
        except (UnicodeDecodeError, ValueError):
            raise Unavailable(
                f"the upstream ejabberd at {self.url} answered {name} with a body that is not JSON"
            ) from None

    # -- state ------------------------------------------------------------------

    def _answered(self) -> None:
        if self._reachable is False:
            log.info("the upstream ejabberd at {url} answers again", url=self.url)
        self._reachable = True
        self._last_error = None

    def _failed(self, message: str) -> None:
        if self._reachable is not False:
            log.warn("{message}", message=message)
        self._reachable = False
        self._last_error = message
        if self._auto:
            # it may come back as another release: ask again before the next command
            self._stale = True

    @property
    def profile(self) -> str | None:
        """The API profile in use (the last one found), ``None`` before it is known."""
        return self._profile

    def ensure_profile(self) -> Deferred[str]:
        """Fires with the upstream's API profile, asking its ``status`` first when needed.

        Fails like :meth:`call` when the upstream cannot be asked, or with
        :class:`~gateway.engine.errors.Unavailable` when its answer names no release.
        """
        if self._profile is not None and not self._stale:
            return succeed(self._profile)
        if self._detection is not None:
            return self._detection.join()
        flight = self._detection = Flight()
        # the waiter joins before the detection starts, which may end at once
        waiter = flight.join()
        ensureDeferred(self._detect()).addBoth(self._detected, flight)
        return waiter

    def _detected(self, outcome: str | Failure, flight: Flight[str]) -> None:
        self._detection = None
        flight.land(outcome)

    async def _detect(self) -> str:
        text = await self.call("status", {})
        release = release_from_status(text) if isinstance(text, str) else None
        if release is None:
            raise Unavailable(
                f"the upstream ejabberd at {self.url} did not name its release in"
                f" status ({text!r:.120}); set gateway.upstream.api_profile"
            )
        profile = profile_for_release(release)
        log.info(
            "the upstream ejabberd at {url} runs {major}.{minor:02d}: speaking its {profile} API",
            url=self.url,
            major=release[0],
            minor=release[1],
            profile=profile,
        )
        self._profile = profile
        self._stale = False
        return profile

    def health(self) -> UpstreamHealth:
        return UpstreamHealth(
            url=self.url,
            reachable=self._reachable,
            last_error=self._last_error,
            profile=self._profile,
            in_flight=self._slots.in_flight,
            queued=self._slots.queued,
        )

    def status_lines(self) -> list[str]:
        """Lines for the ``status`` command's text."""
        h = self.health()
        state = {True: "reachable", False: "unreachable", None: "not asked yet"}[h.reachable]
        profile = h.profile or ("auto, not known yet" if self._auto else "?")
        lines = [
            f"Upstream ejabberd {h.url}: {state}, API profile {profile},"
            f" {h.in_flight} requests in flight, {h.queued} queued"
        ]
        if h.last_error is not None:
            lines.append(f"Upstream last error: {h.last_error}")
        return lines

    def close(self) -> Deferred[None]:
        """Close the pooled connections (on service stop)."""
        if self._pool is None:
            return succeed(None)
        return self._pool.closeCachedConnections()


def _authorization(config: UpstreamConfig) -> bytes:
    if config.token is not None:
        return b"Bearer " + config.token.encode("utf-8")
    if config.user is None or config.password is None:
        raise ValueError("gateway.upstream.auth needs user and password, or token")
    if "@" not in config.user:
        raise ValueError("gateway.upstream.auth.user must be a full JID (user@host)")
    pair = f"{config.user}:{config.password}".encode()
    return b"Basic " + base64.b64encode(pair)


def _json(payload: bytes) -> Any:
    return json.loads(payload.decode("utf-8"))


def _cancelled(error: BaseException) -> bool:
    """Whether ``error`` is a cancellation that Twisted's HTTP client wrapped."""
    for reason in getattr(error, "reasons", None) or ():
        if isinstance(reason, Failure) and reason.check(CancelledError):
            return True
    return False


def _describe(error: BaseException) -> str:
    """A short reason; Twisted wraps the real one in ``reasons`` lists."""
    reasons = getattr(error, "reasons", None)
    if reasons:
        inner = reasons[0]
        value = getattr(inner, "value", inner)
        return _describe(value) if value is not error else str(error)
    text = str(error).strip() or type(error).__name__
    return text


class _QuietFactory(_HTTP11ClientFactory):
    # each new pooled connection would log "Starting factory" and "Stopping factory"
    noisy = False


class _QuietPool(HTTPConnectionPool):
    """A persistent pool whose connections do not log their start and stop."""

    _factory = _QuietFactory
