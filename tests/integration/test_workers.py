"""``gateway.workers: 2``: a supervisor and two worker processes, checked on a live daemon.

A worker is chosen for a request by pausing the other one (SIGSTOP): a
paused worker accepts nothing, so every new connection goes to the one
running.  That makes "changed in one worker, seen in the other" exact.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import threading
import time
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest

from tests.integration.daemon import Daemon, output, post_json, running_daemon
from tests.integration.servers import ProsodyServer
from tests.integration.xmppclient import Receiver

VHOST = "localhost"
ADMIN = ("admin@localhost", "admin-secret")
#: a credential cache long enough that only an invalidation can explain a refusal
SETTINGS: dict[str, Any] = {
    "workers": 2,
    "limits": {"credential_cache_ttl": 300},
    "brute_force": {"max_failures": 1000, "window": 60, "ban_time": 300},
}


# -- processes --------------------------------------------------------------------------------


def children(parent: int) -> dict[int, int]:
    """Worker number -> pid of the worker processes whose parent is ``parent``."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid != parent or b"gateway.workers.child" not in argv:
            continue
        number = int(argv[argv.index(b"--worker") + 1])
        found[number] = int(entry.name)
    return found


def wait_for_workers(gateway: Daemon, count: int = 2, timeout: float = 30) -> dict[int, int]:
    """The workers, once ``count`` of them run and the supervisor logged each one ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = children(gateway.process.pid)
        log = output(gateway.process)
        if len(workers) == count and all(
            f"worker {n} (pid {pid}) ready" in log for n, pid in workers.items()
        ):
            return workers
        time.sleep(0.1)
    raise AssertionError(f"not {count} workers: {children(gateway.process.pid)}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@contextmanager
def served_by(workers: dict[int, int], number: int) -> Iterator[None]:
    """Only worker ``number`` accepts connections: the others are paused meanwhile."""
    paused = [pid for n, pid in workers.items() if n != number]
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Daemon]:
    with running_daemon(tmp_path, **SETTINGS) as daemon:
        wait_for_workers(daemon)
        yield daemon


# -- the dialects -----------------------------------------------------------------------------


def api(gateway: Daemon, command: str, auth: tuple[str, str] = ADMIN, **args: Any) -> int:
    status, _ = post_json(gateway.http_port, command, args, auth=auth)
    return status


def xmlrpc_call(gateway: Daemon, command: str, **args: Any) -> Any:
    proxy = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{gateway.xmlrpc_port}/")
    user, host = ADMIN[0].split("@")
    login = {"user": user, "server": host, "password": ADMIN[1]}
    return getattr(proxy, command)(login, args)


def rest(gateway: Daemon, line: str, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.http_port}/rest", data=line.encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def ctl_ok(gateway: Daemon, *argv: str) -> str:
    result = gateway.ctl(*argv)
    assert result.returncode == 0, (argv, result.stdout, result.stderr)
    return result.stdout


def accepted(gateway: Daemon, user: str, password: str) -> bool:
    """Whether /api takes ``user``'s password (403 for a valid non-admin, 401 refused)."""
    status, answer = post_json(
        gateway.http_port, "registered_users", {"host": VHOST}, auth=(f"{user}@{VHOST}", password)
    )
    assert status in (401, 403), (status, answer)
    return status == 403


def change(gateway: Daemon, dialect: str, action: str, user: str) -> None:
    """Run ``action`` (change_password, unregister, ban_account) on ``user`` through ``dialect``."""
    args = {"user": user, "host": VHOST}
    if action == "change_password":
        args["newpass"] = "new-pw"
    elif action == "ban_account":
        args["reason"] = "test"
    if dialect == "api":
        assert api(gateway, action, **args) == 200
    elif dialect == "xmlrpc":
        xmlrpc_call(gateway, action, **args)
    elif dialect == "rest":
        line = " ".join(["--auth", "admin", VHOST, ADMIN[1], action, *args.values()])
        status, text = rest(gateway, line)
        assert status == 200, text
    else:
        ctl_ok(gateway, action, *args.values())


# -- tests ------------------------------------------------------------------------------------


def test_sigterm_stops_supervisor_and_workers(tmp_path: Path) -> None:
    """Two workers run beside the supervisor; SIGTERM ends all three, leaving no process."""
    with running_daemon(tmp_path, **SETTINGS) as gateway:
        workers = wait_for_workers(gateway)
        assert sorted(workers) == [1, 2]
        gateway.process.terminate()
        # twistd ends by the signal it stopped for, after a clean shutdown
        assert gateway.process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Server Shut Down." in output(gateway.process)
        deadline = time.monotonic() + 15
        while any(alive(pid) for pid in workers.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in workers.values() if alive(pid)], output(gateway.process)


def test_killed_worker_is_replaced_and_requests_keep_succeeding(gateway: Daemon) -> None:
    """kill -9 of one worker under load: only connections it held may fail, at the transport
    level (never a wrong answer); every later request succeeds; a new worker takes its place.

    Each client thread makes one request per connection, so at most one request per thread
    can be in the killed worker's hands.
    """
    threads_count = 4
    results: list[tuple[float, str]] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                status, answer = post_json(gateway.http_port, "status", timeout=10)
                outcome = "ok" if status == 200 and "is started" in answer else f"bad {status}"
            except (OSError, HTTPException) as e:
                outcome = f"transport {type(e).__name__}"
            results.append((time.monotonic(), outcome))

    workers = wait_for_workers(gateway)
    threads = [threading.Thread(target=client) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        killed_at = time.monotonic()
        os.kill(workers[1], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = children(gateway.process.pid)
            if len(now) == 2 and now.get(1) not in (None, workers[1]):
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"worker 1 did not come back: {children(gateway.process.pid)}")
        now = wait_for_workers(gateway)
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert now[2] == workers[2]
    bad = [outcome for _, outcome in results if outcome.startswith("bad")]
    failed = [outcome for _, outcome in results if outcome != "ok"]
    assert bad == []
    assert len(failed) <= threads_count, failed
    later = [outcome for when, outcome in results if when > killed_at + 0.5]
    assert later and all(outcome == "ok" for outcome in later), later
    assert len([r for r in results if r[1] == "ok"]) > 50
    log = output(gateway.process)
    assert re.search(r"worker 1 \(pid \d+\) exited unexpectedly \(signal 9\)", log), log[-3000:]
    # the new worker serves too: with worker 2 paused, worker 1 alone answers
    with served_by(now, 1):
        assert post_json(gateway.http_port, "status", timeout=10)[0] == 200
        assert ctl_ok(gateway, "status")
    # adopting the control socket again left it owner-only
    assert stat.S_IMODE((gateway.config.parent / "gatewayctl.sock").stat().st_mode) == 0o600


def test_sighup_reload_reaches_every_worker(gateway: Daemon) -> None:
    """SIGHUP to the supervisor: each worker reloads the file (a new log level applies in both)."""
    workers = wait_for_workers(gateway)
    text = gateway.config.read_text()
    gateway.config.write_text(re.sub(r"(?m)^loglevel: .*$", "loglevel: debug", text))
    os.kill(gateway.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = output(gateway.process)
        reloaded = {n for n in workers if f"[worker {n}: gateway.reload#info] configuration" in log}
        if reloaded == set(workers):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(output(gateway.process)[-4000:])
    for number in workers:
        with served_by(workers, number):
            assert ctl_ok(gateway, "get_loglevel").strip().endswith("debug")


def test_set_loglevel_reaches_every_worker(gateway: Daemon) -> None:
    """set_loglevel run in one worker changes the level in the other too."""
    workers = wait_for_workers(gateway)
    with served_by(workers, 1):
        ctl_ok(gateway, "set_loglevel", "warning")
    with served_by(workers, 2):
        deadline = time.monotonic() + 15
        while "warning" not in ctl_ok(gateway, "get_loglevel") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ctl_ok(gateway, "get_loglevel").strip().endswith("warning")


def test_brute_force_ban_and_unban_are_shared(tmp_path: Path) -> None:
    """Failures counted in one worker ban the address in the other; unban_ip lifts it in both."""
    settings = {**SETTINGS, "brute_force": {"max_failures": 3, "window": 60, "ban_time": 300}}
    with running_daemon(tmp_path, **settings) as gateway:
        workers = wait_for_workers(gateway)
        with served_by(workers, 1):
            for _ in range(3):
                assert api(gateway, "status", auth=("nobody@localhost", "wrong")) == 401
        with served_by(workers, 2):
            deadline = time.monotonic() + 15
            while api(gateway, "status", auth=ADMIN) != 429 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert api(gateway, "status", auth=ADMIN) == 429
            ctl_ok(gateway, "unban_ip", "127.0.0.1")
        ctl_ok(gateway, "register", "admin", VHOST, ADMIN[1])
        with served_by(workers, 1):
            deadline = time.monotonic() + 15
            while api(gateway, "status", auth=ADMIN) == 429 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert api(gateway, "status", auth=ADMIN) == 200


DIALECTS = ["api", "xmlrpc", "rest", "ctl"]
ACTIONS = ["change_password", "unregister", "ban_account"]


def test_credential_cache_is_invalidated_across_workers(gateway: Daemon) -> None:
    """A password remembered by worker 2 is refused there at once after worker 1 changed it,
    unregistered or banned the account, whichever dialect worker 1 was asked through."""
    ctl_ok(gateway, "register", "admin", VHOST, ADMIN[1])
    workers = wait_for_workers(gateway)
    for number, (dialect, action) in enumerate(
        (dialect, action) for dialect in DIALECTS for action in ACTIONS
    ):
        user = f"victim{number}"
        ctl_ok(gateway, "register", user, VHOST, "old-pw")
        for serving in (2, 1):
            with served_by(workers, serving):
                assert accepted(gateway, user, "old-pw"), (dialect, action, serving)
        with served_by(workers, 1):
            change(gateway, dialect, action, user)
        with served_by(workers, 2):
            assert not accepted(gateway, user, "old-pw"), (dialect, action)
            if action == "change_password":
                assert accepted(gateway, user, "new-pw"), (dialect, action)


def component_connections(pids: list[int], port: int) -> dict[int, int]:
    """pid -> established TCP connections to ``port`` on loopback (read from /proc)."""
    inodes: dict[str, int] = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes[target[8:-1]] = pid
    counts = dict.fromkeys(pids, 0)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                counts[inodes[fields[9]]] += 1
    return counts


@pytest.fixture
def linked(prosody: ProsodyServer, tmp_path: Path) -> Iterator[Daemon]:
    """A two-worker gateway whose link to the module's Prosody is up."""
    from tests.integration.test_rest_delivery import wait_until_linked

    component = prosody.component
    assert component is not None
    link = {
        "jid": component.domain,
        "secret": component.secret,
        "host": component.host,
        "port": component.port,
    }
    with running_daemon(tmp_path, component=link, **SETTINGS) as daemon:
        wait_for_workers(daemon)
        wait_until_linked(daemon)
        yield daemon


def test_only_the_supervisor_holds_the_component_link(
    linked: Daemon, prosody: ProsodyServer
) -> None:
    """The server sees one component connection, and it is the supervisor's."""
    assert prosody.component is not None
    workers = wait_for_workers(linked)
    pids = [linked.process.pid, *workers.values()]
    counts = component_connections(pids, prosody.component.port)
    assert counts == {linked.process.pid: 1, **dict.fromkeys(workers.values(), 0)}


def test_wait_iq_goes_through_the_supervisor(linked: Daemon, prosody: ProsodyServer) -> None:
    """``?wait=iq`` from either worker gets the server's answer over the supervisor's link."""
    workers = wait_for_workers(linked)
    for number in workers:
        with served_by(workers, number):
            request = urllib.request.Request(
                f"http://127.0.0.1:{linked.http_port}/rest?wait=iq",
                data=f'<iq type="get" id="v{number}" to="{VHOST}">'
                '<ping xmlns="urn:xmpp:ping"/></iq>'.encode(),
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=20) as response:
                answer = response.read().decode()
            assert 'type="result"' in answer or "type='result'" in answer, answer
            assert f'id="v{number}"' in answer or f"id='v{number}'" in answer, answer


def test_no_stanza_lost_or_doubled_across_a_worker_crash(
    linked: Daemon, prosody: ProsodyServer, xmpp_receiver: Callable[..., Receiver]
) -> None:
    """Stanzas posted while a worker is killed: each answered ``Ok`` arrives exactly once;
    one whose connection broke arrives at most once; none arrives twice."""
    bob = xmpp_receiver(prosody, "bob")
    workers = wait_for_workers(linked)
    total, threads_count = 240, 4
    answers: dict[str, str] = {}
    lock = threading.Lock()
    counter = iter(range(total))

    def poster() -> None:
        while True:
            with lock:
                number = next(counter, None)
            if number is None:
                return
            body = f"m{number}"
            stanza = f'<message to="{prosody.jid("bob")}"><body>{body}</body></message>'
            try:
                status, text = rest(linked, stanza)
                outcome = "ok" if (status, text) == (200, "Ok") else f"bad {status} {text}"
            except (OSError, HTTPException) as e:
                outcome = f"transport {type(e).__name__}"
            with lock:
                answers[body] = outcome

    threads = [threading.Thread(target=poster) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    while len(answers) < total // 3:
        time.sleep(0.01)
    os.kill(workers[2], signal.SIGKILL)
    for thread in threads:
        thread.join(60)
    assert len(answers) == total
    assert [a for a in answers.values() if a.startswith("bad")] == []
    ok = {body for body, outcome in answers.items() if outcome == "ok"}
    assert len(ok) >= total - threads_count
    bob.wait_until(lambda ms: ok <= {m.body for m in ms}, timeout=60)
    time.sleep(2)  # anything sent twice would arrive by now
    bodies = [m.body for m in bob.messages]
    doubled = {b for b in bodies if bodies.count(b) > 1}
    assert doubled == set()
    assert ok <= set(bodies) <= set(answers)


def metric(gateway: Daemon, name: str, labels: dict[str, str] | None = None) -> float:
    """The sample ``name`` (with exactly ``labels``) of one scrape of /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{gateway.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and sample.labels == (labels or {})
    )


def status_calls(gateway: Daemon) -> float:
    """``/api`` status calls answered ok, as /metrics counts them."""
    wanted = {"dialect": "mod_http_api", "command": "status", "outcome": "ok"}
    return metric(gateway, "xmpp_gateway_requests_total", wanted)


def test_metrics_count_every_worker(gateway: Daemon) -> None:
    """/metrics adds up what every worker served, whichever worker answers the scrape."""
    workers = wait_for_workers(gateway)
    before = status_calls(gateway)
    for number, calls in ((1, 3), (2, 2)):
        with served_by(workers, number):
            for _ in range(calls):
                assert post_json(gateway.http_port, "status")[0] == 200
    # (a paused worker could not hand over its counts: both run while scraped)
    assert [status_calls(gateway) for _ in range(6)] == [before + 5] * 6


def test_link_metrics_are_counted_once(gateway: Daemon) -> None:
    """The component link lives in the supervisor: /metrics shows its counters once, not
    once per worker (3 stanzas accepted through both workers read as 3)."""
    workers = wait_for_workers(gateway)
    accepted = "xmpp_gateway_component_stanzas_accepted_total"
    before = metric(gateway, accepted)
    for number, count in ((1, 2), (2, 1)):
        with served_by(workers, number):
            for _ in range(count):
                stanza = (
                    "<message to='bob@localhost' from='rest.localhost'><body>x</body></message>"
                )
                assert rest(gateway, stanza) == (200, "Ok")
    assert [metric(gateway, accepted) for _ in range(4)] == [before + 3] * 4
    assert metric(gateway, "xmpp_gateway_component_queue_depth") >= 3


def test_sigusr1_moves_every_worker_to_the_new_log_file(tmp_path: Path) -> None:
    """After the log file is moved and SIGUSR1 sent to the supervisor, every worker's lines go
    to the new file (the workers write into the supervisor's log file themselves), and the
    supervisor says so once they all have."""
    from tests.integration import daemon

    http, xmlrpc = daemon.free_port(), daemon.free_port()
    config = daemon.write_config(tmp_path, http, xmlrpc, **SETTINGS)
    log = tmp_path / "gateway.log"
    process = daemon.start(config, tmp_path, ["--logfile", str(log)])
    try:
        daemon.wait_for_http(process, http)
        deadline = time.monotonic() + 30
        while log.read_text().count(") ready") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.rename(log, tmp_path / "gateway.log.1")
        os.kill(process.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not (log.exists() and "SIGUSR1: log file" in log.read_text()):
            assert time.monotonic() < deadline, "not reopened"
            time.sleep(0.05)
        # the workers get the new file over their channels; the supervisor says when they have
        deadline = time.monotonic() + 10
        while "SIGUSR1: workers 1, 2 write to the new log file" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGHUP)
        wanted = [f"[worker {n}: gateway.hangup#info] SIGHUP received" for n in (1, 2)]
        deadline = time.monotonic() + 10
        while not all(line in log.read_text() for line in wanted):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        assert "SIGHUP" not in (tmp_path / "gateway.log.1").read_text()
    finally:
        daemon.stop(process)
