"""GatewayMetrics: what is counted and timed, what a scrape shows, each in its own registry."""

from __future__ import annotations

import math
from ipaddress import ip_address

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.defer import Deferred, fail
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.bruteforce import FailureLimiter
from gateway.engine.errors import TooManyFailures
from gateway.metrics import GatewayMetrics
from gateway.xmpp.status import LinkState

NOW = 1_000_000.0


class Link:
    """Reports a state the test sets."""

    def __init__(self, state: LinkState) -> None:
        self.current = state

    def state(self) -> LinkState:
        return self.current


class Queue:
    """Answers ``oldest_created`` with what the test gives, counting the questions."""

    def __init__(self) -> None:
        self.asked = 0
        self.answers: list[Deferred[float | None]] = []

    def oldest_created(self) -> Deferred[float | None]:
        self.asked += 1
        answer: Deferred[float | None] = Deferred()
        self.answers.append(answer)
        return answer


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The samples of a text exposition, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


class MetricsTestCase(SynchronousTestCase):
    def setUp(self) -> None:
        self.metrics = GatewayMetrics(CollectorRegistry(), clock=lambda: NOW, process=False)

    def value(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)

    def scrape(self, accept: str | None = None) -> tuple[bytes, str]:
        return self.successResultOf(self.metrics.scrape(accept))


class CallTests(MetricsTestCase):
    """Command calls, counted by dialect, command and outcome and timed by dialect."""

    def test_calls_counted_by_dialect_command_and_outcome(self) -> None:
        """Each call adds one to its (dialect, command, outcome) series."""
        self.metrics.call_finished("mod_http_api", "status", "ok", 0.002)
        self.metrics.call_finished("mod_http_api", "status", "ok", 0.003)
        self.metrics.call_finished("mod_rest", "register", "forbidden", 0.001)
        total = "xmpp_gateway_requests_total"
        self.assertEqual(
            self.value(total, dialect="mod_http_api", command="status", outcome="ok"), 2
        )
        self.assertEqual(
            self.value(total, dialect="mod_rest", command="register", outcome="forbidden"), 1
        )
        self.assertIsNone(self.value(total, dialect="mod_rest", command="status", outcome="ok"))

    def test_unknown_commands_share_one_label(self) -> None:
        """Calls to names the catalogue does not know are all counted as ``unknown``."""
        self.metrics.call_finished("ejabberd_xmlrpc", None, "unknown_command", 0.001)
        self.metrics.call_finished("ejabberd_xmlrpc", None, "unknown_command", 0.001)
        self.assertEqual(
            self.value(
                "xmpp_gateway_requests_total",
                dialect="ejabberd_xmlrpc",
                command="unknown",
                outcome="unknown_command",
            ),
            2,
        )

    def test_latency_histogram_per_dialect(self) -> None:
        """Durations go to the dialect's histogram, in the right buckets."""
        self.metrics.call_finished("mod_http_api", "status", "ok", 0.004)
        self.metrics.call_finished("mod_http_api", "stats", "ok", 0.3)
        self.metrics.call_finished("ejabberd_ctl", "status", "ok", 2.0)
        name = "xmpp_gateway_request_duration_seconds"
        self.assertEqual(self.value(f"{name}_count", dialect="mod_http_api"), 2)
        self.assertAlmostEqual(self.value(f"{name}_sum", dialect="mod_http_api") or 0, 0.304)
        self.assertEqual(self.value(f"{name}_bucket", dialect="mod_http_api", le="0.005"), 1)
        self.assertEqual(self.value(f"{name}_bucket", dialect="mod_http_api", le="0.5"), 2)
        self.assertEqual(self.value(f"{name}_count", dialect="ejabberd_ctl"), 1)

    def test_registries_are_separate(self) -> None:
        """Two instances never share series: each has its own registry, not the global one."""
        other = GatewayMetrics(CollectorRegistry(), process=False)
        self.metrics.call_finished("mod_rest", "status", "ok", 0.001)
        labels = {"dialect": "mod_rest", "command": "status", "outcome": "ok"}
        self.assertIsNone(other.registry.get_sample_value("xmpp_gateway_requests_total", labels))
        self.assertEqual(self.value("xmpp_gateway_requests_total", **labels), 1)

    def test_store_latency(self) -> None:
        """Store transactions are timed per operation."""
        self.metrics.store_timed("read", 0.002)
        self.metrics.store_timed("write", 0.02)
        self.metrics.store_timed("write", 0.04)
        name = "xmpp_gateway_store_duration_seconds"
        self.assertEqual(self.value(f"{name}_count", operation="read"), 1)
        self.assertEqual(self.value(f"{name}_count", operation="write"), 2)
        self.assertEqual(self.value(f"{name}_bucket", operation="write", le="0.025"), 1)


class LimiterTests(MetricsTestCase):
    """Authentication failures, bans and refusals, read from the limiter at scrape time."""

    def test_failures_bans_and_refusals(self) -> None:
        """Failures count, the failure that bans counts a ban, a banned request counts a
        refusal, and the gauge shows the addresses banned now."""
        now = [0.0]
        limiter = FailureLimiter(lambda: now[0], max_failures=3, window=60, ban_time=30)
        self.metrics.watch_limiter(limiter)
        attacker = ip_address("192.0.2.7")
        limiter.failure(attacker, "admin@localhost")
        limiter.failure(attacker, "admin@localhost")
        self.assertEqual(self.value("xmpp_gateway_auth_failures_total"), 2)
        self.assertEqual(self.value("xmpp_gateway_auth_bans_total"), 0)
        limiter.failure(attacker, "admin@localhost")
        self.assertRaises(TooManyFailures, limiter.check, attacker)
        self.assertEqual(self.value("xmpp_gateway_auth_failures_total"), 3)
        self.assertEqual(self.value("xmpp_gateway_auth_bans_total"), 1)
        self.assertEqual(self.value("xmpp_gateway_auth_banned_requests_total"), 1)
        self.assertEqual(self.value("xmpp_gateway_auth_banned_addresses"), 1)
        now[0] = 31.0
        self.assertEqual(self.value("xmpp_gateway_auth_banned_addresses"), 0)
        self.assertEqual(self.value("xmpp_gateway_auth_bans_total"), 1)

    def test_no_account_names_in_the_metrics(self) -> None:
        """The account names guessed at never appear in a scrape."""
        limiter = FailureLimiter(lambda: 0.0, max_failures=2)
        self.metrics.watch_limiter(limiter)
        limiter.failure(ip_address("192.0.2.7"), "secret-admin@localhost")
        body, _ = self.scrape()
        self.assertNotIn(b"secret-admin", body)
        self.assertNotIn(b"192.0.2.7", body)


class LinkTests(MetricsTestCase):
    """The component link's state, and the queue's oldest stanza asked at scrape time."""

    def setUp(self) -> None:
        super().setUp()
        self.link = Link(
            LinkState(True, NOW, queued=3, configured=True, bounced=1, reconnects=2, accepted=9)
        )
        self.queue = Queue()
        self.metrics.watch_link(self.link, self.queue)

    def test_state_and_counters(self) -> None:
        """Up/down, reconnects, queue depth and stanza counters come from the link's state."""
        scraping = self.metrics.scrape()
        self.queue.answers[0].callback(NOW - 42.5)
        body, _ = self.successResultOf(scraping)
        found = samples(body)
        self.assertEqual(found[("xmpp_gateway_component_up", ())], 1)
        self.assertEqual(found[("xmpp_gateway_component_reconnects_total", ())], 2)
        self.assertEqual(found[("xmpp_gateway_component_queue_depth", ())], 3)
        self.assertEqual(found[("xmpp_gateway_component_queue_oldest_age_seconds", ())], 42.5)
        self.assertEqual(found[("xmpp_gateway_component_stanzas_accepted_total", ())], 9)
        self.assertEqual(found[("xmpp_gateway_component_stanzas_bounced_total", ())], 1)
        self.link.current = LinkState(False, NOW, queued=0, configured=True)
        scraping = self.metrics.scrape()
        self.queue.answers[1].callback(None)
        found = samples(self.successResultOf(scraping)[0])
        self.assertEqual(found[("xmpp_gateway_component_up", ())], 0)
        self.assertEqual(found[("xmpp_gateway_component_queue_oldest_age_seconds", ())], 0)

    def test_scrape_waits_for_the_queue(self) -> None:
        """A scrape is answered only once the queue has said how old its oldest stanza is."""
        scraping = self.metrics.scrape()
        self.assertNoResult(scraping)
        self.queue.answers[0].callback(NOW - 1)
        self.successResultOf(scraping)

    def test_concurrent_scrapes_share_one_query(self) -> None:
        """Scrapes arriving while the queue is being asked wait for the same answer."""
        first, second = self.metrics.scrape(), self.metrics.scrape()
        self.assertEqual(self.queue.asked, 1)
        self.queue.answers[0].callback(NOW - 5)
        for scraping in (first, second):
            found = samples(self.successResultOf(scraping)[0])
            self.assertEqual(found[("xmpp_gateway_component_queue_oldest_age_seconds", ())], 5)
        self.metrics.scrape()
        self.assertEqual(self.queue.asked, 2)  # the next scrape asks again

    def test_unreadable_queue_is_nan(self) -> None:
        """When the queue cannot be read, the age is NaN (logged) and the scrape still answers."""

        class Broken:
            def oldest_created(self) -> Deferred[float | None]:
                return fail(OSError("disk gone"))

        metrics = GatewayMetrics(CollectorRegistry(), clock=lambda: NOW, process=False)
        metrics.watch_link(self.link, Broken())
        body, _ = self.successResultOf(metrics.scrape())
        age = samples(body)[("xmpp_gateway_component_queue_oldest_age_seconds", ())]
        self.assertTrue(math.isnan(age))
        self.assertEqual(len(self.flushLoggedErrors(OSError)), 1)

    def test_cancelled_scrape_leaves_the_query_to_others(self) -> None:
        """A scraper that goes away does not cancel the query another scrape waits for."""
        gone, waiting = self.metrics.scrape(), self.metrics.scrape()
        gone.cancel()
        self.failureResultOf(gone)
        self.queue.answers[0].callback(NOW - 2)
        self.successResultOf(waiting)


class ExpositionTests(MetricsTestCase):
    """The formats a scrape is rendered in."""

    def test_prometheus_text_by_default(self) -> None:
        """Without an Accept header the body is Prometheus text, with the version info."""
        self.metrics.call_finished("mod_http_api", "status", "ok", 0.001)
        body, content_type = self.scrape()
        self.assertTrue(content_type.startswith("text/plain"), content_type)
        found = samples(body)
        self.assertEqual(
            found[
                (
                    "xmpp_gateway_requests_total",
                    (("command", "status"), ("dialect", "mod_http_api"), ("outcome", "ok")),
                )
            ],
            1,
        )
        [info] = [key for key in found if key[0] == "xmpp_gateway_info"]
        self.assertEqual(info[1][0][0], "version")

    def test_openmetrics_when_asked(self) -> None:
        """A scraper asking for OpenMetrics gets it (ending in ``# EOF``)."""
        body, content_type = self.scrape("application/openmetrics-text; version=1.0.0")
        self.assertTrue(content_type.startswith("application/openmetrics-text"), content_type)
        self.assertTrue(body.endswith(b"# EOF\n"))

    def test_process_metrics(self) -> None:
        """By default the process's own metrics are there too."""
        metrics = GatewayMetrics(CollectorRegistry())
        body, _ = self.successResultOf(metrics.scrape())
        self.assertIn(b"process_cpu_seconds_total", body)
        self.assertIn(b"python_gc_collections_total", body)

    def test_without_link_no_component_metrics(self) -> None:
        """Without a component link nothing about a link is exported, and nothing is queried."""
        body, _ = self.successResultOf(self.metrics.scrape())
        self.assertNotIn(b"xmpp_gateway_component", body)
