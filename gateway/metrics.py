"""Prometheus metrics of the gateway, kept in a registry of its own.

:class:`GatewayMetrics` is wired by :mod:`gateway.service`:

- it is the engine's :class:`~gateway.engine.dispatch.CallObserver`, so every
  command call of every dialect is counted in one place, by dialect, command
  and outcome (``ok`` or the error code), and timed per dialect;
- it times the embedded store's transactions (``read`` / ``write``);
- at scrape time it reads the counters the brute-force limiter and the
  component link keep anyway (plain integers: nothing is done per request for
  them), and asks the outbound queue when its oldest stanza was queued.

Labels hold dialects, command names from the catalogue, error codes and
operation names only: never an account, an address or anything else a caller
chooses, so the series stay few and ``/metrics`` can be open to scrapers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.logger import Logger

from gateway import __version__
from gateway.engine.bruteforce import FailureLimiter
from gateway.xmpp.status import Reporting

__all__ = ["PREFIX", "GatewayMetrics", "QueueAge"]

log = Logger()

PREFIX = "xmpp_gateway"
#: the command label of a call to a name the catalogue does not know
UNKNOWN_COMMAND = "unknown"
#: seconds: a command answered from memory up to one waiting for a slow store
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: seconds: one SQLite transaction up to a congested PostgreSQL
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class QueueAge(Protocol):
    """An outbound queue that can say when its oldest stanza was queued."""

    def oldest_created(self) -> Deferred[float | None]:
        """POSIX time the oldest queued stanza was queued; ``None`` when the queue is empty."""
        ...


class GatewayMetrics:
    """The gateway's metrics and their exposition.

    Args:
        registry: where the metrics live; a fresh one by default (never
            prometheus_client's global registry, so instances stay apart).
        clock: the wall clock (POSIX seconds), for the age of queued stanzas.
        process: also export the process's CPU, memory and file descriptors
            and Python's garbage collector (prometheus_client's collectors).
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        clock: Callable[[], float] = time.time,
        process: bool = True,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        self._requests = Counter(
            f"{PREFIX}_requests",
            "Command calls that ended, by dialect, command and outcome (ok or the error code).",
            ["dialect", "command", "outcome"],
            registry=self.registry,
        )
        self._latency = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time from a decoded command call to its result or error, by dialect.",
            ["dialect"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._store = Histogram(
            f"{PREFIX}_store_duration_seconds",
            "Time of the embedded store's transactions, waiting for a connection included.",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_InfoCollector())
        if process:
            ProcessCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        # label lookups validate and lock: the children are kept once made
        self._counted: dict[tuple[str, str, str], Counter] = {}
        self._timed: dict[str, Histogram] = {}
        self._store_timed: dict[str, Histogram] = {}
        self._refreshers: list[Callable[[], Deferred[None]]] = []
        self._refreshing: Deferred[None] | None = None

    # -- what the daemon reports ----------------------------------------------------------------

    def call_finished(
        self, frontend: str, command: str | None, outcome: str, seconds: float
    ) -> None:
        """Count and time one command call (the engine's ``CallObserver``)."""
        key = (frontend, command or UNKNOWN_COMMAND, outcome)
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self._requests.labels(*key)
        counter.inc()
        histogram = self._timed.get(frontend)
        if histogram is None:
            histogram = self._timed[frontend] = self._latency.labels(frontend)
        histogram.observe(seconds)

    def store_timed(self, operation: str, seconds: float) -> None:
        """Time one store transaction (the store's ``StoreTimer``)."""
        histogram = self._store_timed.get(operation)
        if histogram is None:
            histogram = self._store_timed[operation] = self._store.labels(operation)
        histogram.observe(seconds)

    def watch_limiter(self, limiter: FailureLimiter) -> None:
        """Export the brute-force limiter's failures, bans and refusals."""
        self.registry.register(_LimiterCollector(limiter))

    def watch_link(self, link: Reporting, queue: QueueAge | None = None) -> None:
        """Export the component link's state; with ``queue``, the age of its oldest stanza."""
        collector = _LinkCollector(link, queue, self._clock)
        self.registry.register(collector)
        if queue is not None:
            self._refreshers.append(lambda: ensureDeferred(collector.refresh()))

    # -- exposition -----------------------------------------------------------------------------

    def scrape(self, accept: str | None = None) -> Deferred[tuple[bytes, str]]:
        """The metrics in the format ``accept`` asks for (Prometheus text by default).

        Fires with the body and its content type once the values that need a
        query (the oldest queued stanza) are fresh.
        """
        return ensureDeferred(self._scrape(accept))

    async def _scrape(self, accept: str | None) -> tuple[bytes, str]:
        await self._refreshed()
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type

    def _refreshed(self) -> Deferred[None]:
        """Wait for a refresh of the queried values; scrapes arriving meanwhile share one."""
        running = self._refreshing
        if running is None:
            running = self._refreshing = ensureDeferred(self._refresh())
            running.addBoth(self._refresh_over)
        waiter: Deferred[None] = Deferred()
        running.addCallback(lambda _: waiter.callback(None))
        return waiter

    async def _refresh(self) -> None:
        for refresh in self._refreshers:
            await refresh()

    def _refresh_over(self, _: object) -> None:
        self._refreshing = None


class _InfoCollector(Collector):
    """``xmpp_gateway_info{version="…"} 1``."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            f"{PREFIX}_info", "The gateway's version, as a label.", labels=["version"]
        )
        info.add_metric([__version__], 1)
        yield info


class _LimiterCollector(Collector):
    """The brute-force limiter's counters, read at scrape time."""

    def __init__(self, limiter: FailureLimiter) -> None:
        self._limiter = limiter

    def collect(self) -> Iterator[Metric]:
        limiter = self._limiter
        yield CounterMetricFamily(
            f"{PREFIX}_auth_failures",
            "Refused credentials: wrong passwords, unknown accounts, bad or expired tokens, "
            "unreadable credentials.",
            value=limiter.failures_total,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_auth_bans",
            "Addresses banned for failing to authenticate too often.",
            value=limiter.bans_total,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_auth_banned_requests",
            "Requests refused because their address was banned.",
            value=limiter.refused_total,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_auth_banned_addresses",
            "Addresses banned right now.",
            value=len(limiter.bans()),
        )


class _LinkCollector(Collector):
    """The component link's state and counters, and the age of the oldest queued stanza."""

    def __init__(self, link: Reporting, queue: QueueAge | None, clock: Callable[[], float]) -> None:
        self._link = link
        self._queue = queue
        self._clock = clock
        #: seconds, as of the latest refresh; NaN when it could not be read
        self._oldest_age = 0.0

    async def refresh(self) -> None:
        """Ask the queue for its oldest stanza (in the store's threads, off the event loop)."""
        if self._queue is None:
            return
        try:
            created = await self._queue.oldest_created()
        except Exception:
            log.failure("metrics: cannot read the outbound queue's oldest stanza")
            self._oldest_age = math.nan
            return
        self._oldest_age = 0.0 if created is None else max(0.0, self._clock() - created)

    def collect(self) -> Iterator[Metric]:
        state = self._link.state()
        component = f"{PREFIX}_component"
        yield GaugeMetricFamily(
            f"{component}_up",
            "1 while the XMPP component stream is up and authenticated, else 0.",
            value=1 if state.connected else 0,
        )
        yield CounterMetricFamily(
            f"{component}_reconnects",
            "Times the component stream came back up after the first one.",
            value=state.reconnects,
        )
        yield GaugeMetricFamily(
            f"{component}_queue_depth",
            "Stanzas waiting in the durable outbound queue.",
            value=state.queued,
        )
        if self._queue is not None:
            yield GaugeMetricFamily(
                f"{component}_queue_oldest_age_seconds",
                "Age of the oldest stanza in the outbound queue (0 when it is empty).",
                value=self._oldest_age,
            )
        yield CounterMetricFamily(
            f"{component}_stanzas_accepted",
            "Stanzas accepted into the outbound queue.",
            value=state.accepted,
        )
        yield CounterMetricFamily(
            f"{component}_stanzas_bounced",
            "Stanza errors the server returned for stanzas the gateway sent.",
            value=state.bounced,
        )
        yield CounterMetricFamily(
            f"{component}_stanzas_dead_lettered",
            "Queued stanzas dropped because the server closed the stream over them.",
            value=state.dead_lettered,
        )
