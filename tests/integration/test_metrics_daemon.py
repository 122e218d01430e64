"""The real daemon: ``GET /metrics`` after a few requests in every dialect, and JSON-lines logs.

The daemon runs the shipped configuration (its component link pointing at a port nobody
listens on, so the link is down) with ``gateway.log_format: json`` and a brute-force limit
of 3, so that one test sees calls, failures, a ban and the log.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.daemon import Daemon, output, post_json, running_daemon

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    workdir = tmp_path_factory.mktemp("metrics")
    with running_daemon(
        workdir,
        log_format="json",
        brute_force={"max_failures": 3, "window": 60, "ban_time": 300},
    ) as daemon:
        yield daemon


def scrape(gateway: Daemon) -> tuple[str, str]:
    """The body and content type of ``GET /metrics``."""
    url = f"http://127.0.0.1:{gateway.http_port}/metrics"
    with OPENER.open(url, timeout=10) as response:
        assert response.status == 200
        return response.read().decode(), response.headers["Content-Type"]


def samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests(samples: Samples, dialect: str, command: str, outcome: str) -> float:
    key = (("command", command), ("dialect", dialect), ("outcome", outcome))
    return samples.get(("xmpp_gateway_requests_total", key), 0)


def post_rest(gateway: Daemon, line: str) -> int:
    url = f"http://127.0.0.1:{gateway.http_port}/rest"
    try:
        with OPENER.open(url, line.encode(), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_metrics_after_requests(gateway: Daemon) -> None:
    """After calls through /api, XML-RPC, /rest and gatewayctl, /metrics counts each by
    dialect, command and outcome, times them, counts the failed logins, the ban and the
    refusals, reports the (down) link and the store's transactions, and names no account."""
    port = gateway.http_port
    before = samples(scrape(gateway)[0])  # the start-up wait has called status already
    assert post_json(port, "status")[0] == 200
    assert post_json(port, "no_such_command_at_all")[0] == 404
    assert post_json(port, "registered_users", {"host": "localhost"}, auth=("admin", "x"))[0] == 401
    server = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{gateway.xmlrpc_port}/")
    assert "is started" in str(server.status())
    assert post_rest(gateway, "status") == 200
    assert gateway.ctl("register", "alice", "localhost", "wonderland").returncode == 0

    found = samples(scrape(gateway)[0])
    assert requests(found, "mod_http_api", "status", "ok") == 1 + requests(
        before, "mod_http_api", "status", "ok"
    )
    assert requests(found, "mod_http_api", "unknown", "unknown_command") == 1
    assert requests(found, "mod_http_api", "registered_users", "unauthorized") == 1
    assert requests(found, "ejabberd_xmlrpc", "status", "ok") == 1
    assert requests(found, "mod_rest", "status", "ok") == 1
    assert requests(found, "ejabberd_ctl", "register", "ok") == 1
    histogram = "xmpp_gateway_request_duration_seconds_count"
    assert found[(histogram, (("dialect", "mod_http_api"),))] == 3 + before.get(
        (histogram, (("dialect", "mod_http_api"),)), 0
    )
    assert found[("xmpp_gateway_auth_failures_total", ())] == 1
    assert found[("xmpp_gateway_store_duration_seconds_count", (("operation", "write"),))] >= 1
    assert found[("xmpp_gateway_component_up", ())] == 0
    assert found[("xmpp_gateway_component_queue_depth", ())] == 0
    assert found[("xmpp_gateway_component_queue_oldest_age_seconds", ())] == 0

    # two more failures ban loopback; the next request is refused before anything is run
    for _ in range(2):
        post_json(port, "registered_users", {"host": "localhost"}, auth=("admin@localhost", "x"))
    assert post_json(port, "status")[0] == 429
    text, content_type = scrape(gateway)  # scrapes are never banned
    assert content_type.startswith("text/plain")
    found = samples(text)
    assert found[("xmpp_gateway_auth_failures_total", ())] == 3
    assert found[("xmpp_gateway_auth_bans_total", ())] == 1
    assert found[("xmpp_gateway_auth_banned_requests_total", ())] >= 1
    assert found[("xmpp_gateway_auth_banned_addresses", ())] == 1
    assert "admin" not in text and "alice" not in text and "127.0.0.1" not in text


def test_openmetrics_on_request(gateway: Daemon) -> None:
    """A scraper asking for OpenMetrics gets it."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.http_port}/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0"},
    )
    with OPENER.open(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert response.read().endswith(b"# EOF\n")


def test_log_is_json_lines(gateway: Daemon, tmp_path: Path) -> None:
    """With ``log_format: json`` every line the daemon writes is one JSON object with a time,
    a level and a message; start-up and the access log are among them."""
    post_json(gateway.http_port, "status")
    # the access log is written in batches, up to a second after the request
    deadline = time.monotonic() + 10
    while "POST /api/status" not in output(gateway.process) and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in output(gateway.process).splitlines() if line.strip()]
    assert lines
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    for record in records:
        assert isinstance(record, dict)
        assert {"time", "level", "namespace", "message"} <= record.keys(), record
    messages = [str(record["message"]) for record in records]
    assert any(m.startswith("listening: listen[0]") for m in messages)
    assert any('"POST /api/status HTTP/1.1"' in m for m in messages)
    assert not any("Authorization" in m for m in messages)
