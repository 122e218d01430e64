"""What makes a service a worker's: adopted sockets, the link through the supervisor, shared state.

:func:`gateway.service.build_service` takes a :class:`WorkerRole` when it
builds a worker (see :mod:`gateway.workers.child`); without one it builds
the single-process daemon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, succeed

from gateway.backends.interfaces import OutboundQueue
from gateway.config.model import ComponentConfig
from gateway.offload import Offload
from gateway.workers.channel import WorkerEnd
from gateway.workers.metrics import ClusterMetrics, Scraping
from gateway.workers.proxy import LinkProxy
from gateway.workers.shared import SharedState

__all__ = ["WorkerRole"]


@dataclass
class WorkerRole:
    """One worker's place among the supervisor's processes."""

    #: the worker's number (1..N), in its log lines
    number: int
    #: endpoint string -> (file descriptor, address family) of the sockets to adopt
    adopted: Mapping[str, tuple[int, int]]
    shared: SharedState = field(default_factory=SharedState)
    #: the channel to the supervisor, once up
    channel: WorkerEnd | None = None
    #: the link's stand-in, once built
    proxy: LinkProxy | None = None
    #: this worker's own metrics, once built
    local_metrics: Scraping | None = None

    def current_channel(self) -> WorkerEnd | None:
        """The channel, when it is up."""
        end = self.channel
        return end if end is not None and end.connected else None

    def link(
        self,
        config: ComponentConfig,
        queue: OutboundQueue,
        *,
        max_bytes: int,
        max_depth: int,
        offload: Offload,
    ) -> LinkProxy:
        """The component link as this worker uses it."""
        self.proxy = LinkProxy(
            config,
            queue,
            self.current_channel,
            max_bytes=max_bytes,
            max_depth=max_depth,
            offload=offload,
        )
        return self.proxy

    def metrics(self, local: Scraping) -> ClusterMetrics:
        """What this worker's /metrics serves: every worker's metrics together."""
        self.local_metrics = local
        return ClusterMetrics(local, self.current_channel)

    def scrape_local(self) -> Deferred[str]:
        """This worker's own metrics, in the Prometheus text format."""
        if self.local_metrics is None:
            return succeed("")
        return self.local_metrics.scrape().addCallback(lambda scraped: scraped[0].decode("utf-8"))

    def link_event(self, kind: str, stanza: str) -> None:
        """The supervisor's link came up or got a message."""
        if self.proxy is not None:
            self.proxy.event(kind, stanza)

    def link_state(self, pushed: dict[str, Any]) -> None:
        """The supervisor pushed the link's state."""
        if self.proxy is not None:
            self.proxy.update(pushed)
