"""``/metrics`` with several workers: the sum of every worker's metrics, whichever one is asked.

Each worker counts what it serves.  The worker a scraper reaches asks the
supervisor for every worker's exposition (Prometheus text) and merges them:
counters, histograms and summaries are added up; a gauge shows the largest
value any worker reports (the link's state and the active bans are the same
in all of them; for process gauges such as memory it is the biggest worker).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector, CollectorRegistry
from twisted.internet.defer import Deferred

from gateway.workers.channel import CollectMetrics, WorkerEnd

__all__ = ["ClusterMetrics", "merge"]

#: sample kinds added up across workers (a gauge takes the largest value)
_SUMMED = frozenset({"counter", "histogram", "summary", "gaugehistogram"})


class Scraping(Protocol):
    def scrape(self, accept: str | None = None) -> Deferred[tuple[bytes, str]]: ...


def merge(texts: Sequence[str]) -> list[Metric]:
    """One set of metric families from several expositions in the Prometheus text format."""
    families: dict[str, Metric] = {}
    values: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            known = families.setdefault(
                family.name, Metric(family.name, family.documentation, family.type)
            )
            merged = values.setdefault(known.name, {})
            summed = known.type in _SUMMED
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key not in merged:
                    merged[key] = sample.value
                elif summed and not sample.name.endswith("_created"):
                    merged[key] += sample.value
                else:
                    merged[key] = max(merged[key], sample.value)
    for name, family in families.items():
        for (sample_name, labels), value in values[name].items():
            family.add_sample(sample_name, dict(labels), value)
    return list(families.values())


class _Fixed(Collector):
    """Serves metric families computed beforehand."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


class ClusterMetrics:
    """A worker's ``/metrics`` source: every worker's metrics merged (see the module).

    Args:
        local: this worker's own metrics (served alone while the supervisor is unreachable).
        channel: the channel to the supervisor, ``None`` while it is down.
    """

    def __init__(self, local: Scraping, channel: Callable[[], WorkerEnd | None]) -> None:
        self._local = local
        self._channel = channel

    def scrape(self, accept: str | None = None) -> Deferred[tuple[bytes, str]]:
        end = self._channel()
        if end is None:
            return self._local.scrape(accept)
        collected: Deferred[dict[str, Any]] = end.callRemote(CollectMetrics)
        return collected.addCallback(lambda box: _encode(json.loads(box["texts"]), accept))


def _encode(texts: list[str], accept: str | None) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(merge(texts)))
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
