"""Metrics of several workers, merged for the one that is scraped."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.defer import Deferred, succeed
from twisted.trial.unittest import SynchronousTestCase

from gateway.workers.channel import CollectMetrics
from gateway.workers.metrics import ClusterMetrics, merge


def exposition(requests: int, latency: list[float], up: int) -> str:
    """One worker's metrics in the Prometheus text format."""
    registry = CollectorRegistry()
    Counter("gw_requests", "calls", ["outcome"], registry=registry).labels("ok").inc(requests)
    histogram = Histogram("gw_latency_seconds", "time", buckets=(0.1, 1.0), registry=registry)
    for value in latency:
        histogram.observe(value)
    Gauge("gw_up", "link up", registry=registry).set(up)
    return generate_latest(registry).decode()


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def render(texts: list[str]) -> str:
    registry = CollectorRegistry(auto_describe=False)

    class Fixed:
        def collect(self) -> Any:
            return iter(merge(texts))

    registry.register(Fixed())  # type: ignore[arg-type]
    return generate_latest(registry).decode()


class MergeTests(SynchronousTestCase):
    def test_counters_and_histograms_add_up_gauges_take_the_largest(self) -> None:
        """Two workers' counters and histogram buckets are summed; a gauge is the larger value."""
        merged = values(render([exposition(3, [0.05], 1), exposition(4, [0.5, 5.0], 0)]))
        self.assertEqual(merged[("gw_requests_total", (("outcome", "ok"),))], 7)
        self.assertEqual(merged[("gw_latency_seconds_bucket", (("le", "0.1"),))], 1)
        self.assertEqual(merged[("gw_latency_seconds_bucket", (("le", "1.0"),))], 2)
        self.assertEqual(merged[("gw_latency_seconds_bucket", (("le", "+Inf"),))], 3)
        self.assertEqual(merged[("gw_latency_seconds_count", ())], 3)
        self.assertEqual(merged[("gw_latency_seconds_sum", ())], 5.55)
        self.assertEqual(merged[("gw_up", ())], 1)

    def test_one_worker_is_itself(self) -> None:
        """Merging one exposition changes none of its values."""
        text = exposition(2, [0.3], 0)
        self.assertEqual(values(render([text])), values(text))


class ClusterMetricsTests(SynchronousTestCase):
    def test_asks_the_supervisor_and_merges(self) -> None:
        """A scrape asks the supervisor for every worker's text and serves their sum."""

        class Channel:
            def callRemote(self, command: Any) -> Deferred[dict[str, Any]]:  # noqa: N802
                assert command is CollectMetrics
                texts = [exposition(1, [], 0), exposition(5, [], 1)]
                return succeed({"texts": json.dumps(texts)})

        local = _Local()
        cluster = ClusterMetrics(local, lambda: Channel())  # type: ignore[arg-type, return-value]
        scraped: list[Any] = []
        cluster.scrape(None).addCallback(scraped.append)
        [(body, content_type)] = scraped
        self.assertTrue(content_type.startswith("text/plain"))
        self.assertEqual(values(body.decode())[("gw_requests_total", (("outcome", "ok"),))], 6)
        self.assertEqual(local.asked, 0)

    def test_without_a_channel_serves_its_own(self) -> None:
        """With the supervisor unreachable a worker serves its own metrics."""
        local = _Local()
        cluster = ClusterMetrics(local, lambda: None)
        scraped: list[Any] = []
        cluster.scrape("text/plain").addCallback(scraped.append)
        self.assertEqual(scraped, [(b"own", "text/plain")])
        self.assertEqual(local.asked, 1)


class _Local:
    def __init__(self) -> None:
        self.asked = 0

    def scrape(self, accept: str | None = None) -> Deferred[tuple[bytes, str]]:
        self.asked += 1
        return succeed((b"own", "text/plain"))
