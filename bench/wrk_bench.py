"""``bench/run``: the gateway beside a real ejabberd 23.01 under ``wrk``, one table.

Starts on loopback, in a temporary directory removed at the end:

- a private ejabberd 23.01 node from Debian's package (default settings: plain password
  storage, its auth cache on), with ``/api`` (mod_http_api) and ``/xmlrpc`` (ejabberd_xmlrpc)
  on one HTTP listener, a component listener, and the gateway's ``acl``/``api_permissions``;
- the gateway daemon (``twistd -n xmpp-gateway``, conf/gateway.yml apart from ports and paths,
  embedded SQLite store) whose component link connects to that ejabberd;
- a recipient account logged in to ejabberd over c2s, which reads and counts its messages.

Both servers get the same N accounts (the gateway's are copied inside its SQLite file from one
registered through the API, so setup does not pay N password hashes; ejabberd's are
registered through its /api).  Then every row is driven with the same ``wrk -t2 -c32``
keep-alive load (a Lua script per row for the POST body), first at the gateway, then at
ejabberd, for a few rounds; the table has the medians, and the gateway's memory after each
round shows whether it grows.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from api_vs_ejabberd import (  # noqa: E402
    ADMIN,
    HOST,
    PASSWORD,
    basic,
    beam_pid,
    ctl_register,
    descendants,
    ejabberd_extra,
    interrupt,
    process_memory,
)

from tests.integration.daemon import Daemon, running_daemon  # noqa: E402
from tests.integration.servers import EjabberdServer, missing_ejabberd  # noqa: E402

RECIPIENT = ("recv", "bench-recv-secret")
COMPONENT = "rest.localhost"


# -- the rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One row's request on one server: path, headers and body (``{user}`` = a random account)."""

    path: str
    body: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    name: str
    gateway: Request
    ejabberd: Request
    stanzas: bool = False  # each request delivers one message to the recipient


def xmlrpc_check_account() -> str:
    def member(name: str, value: str) -> str:
        return f"<member><name>{name}</name><value><string>{value}</string></value></member>"

    auth = member("user", ADMIN[0]) + member("server", HOST) + member("password", ADMIN[1])
    args = member("user", "{user}") + member("host", HOST)
    return (
        '<?xml version="1.0"?><methodCall><methodName>check_account</methodName><params>'
        f"<param><value><struct>{auth}</struct></value></param>"
        f"<param><value><struct>{args}</struct></value></param></params></methodCall>"
    )


def rows() -> list[Row]:
    json_type = {"Content-Type": "application/json"}
    admin = {**json_type, "Authorization": basic(*ADMIN)}
    check = json.dumps({"user": "{user}", "host": HOST})
    xml = {"Content-Type": "text/xml"}
    recipient = f"{RECIPIENT[0]}@{HOST}"
    stanza = (
        f"<message to='{recipient}' from='{COMPONENT}' type='chat'><body>bench</body></message>"
    )
    message = json.dumps(
        {"type": "chat", "from": COMPONENT, "to": recipient, "subject": "", "body": "bench"}
    )
    api_check = Request("/api/check_account", check, admin)
    api_status = Request("/api/status", "{}", json_type)
    return [
        Row("/api check_account (Basic)", api_check, api_check),
        Row(
            "XML-RPC check_account (auth)",
            Request("/xmlrpc", xmlrpc_check_account(), xml),
            Request("/xmlrpc", xmlrpc_check_account(), xml),
        ),
        Row("/api status (anonymous)", api_status, api_status),
        # ejabberd has no mod_rest (it is in ejabberd-contrib, not in Debian's package): its
        # closest equivalent of a command line is the same command through /api.
        Row("mod_rest command line", Request("/rest", "status"), api_status),
        # ejabberd's way to have an HTTP POST send a message is /api send_message.
        Row(
            "mod_rest stanza -> online",
            Request("/rest", stanza, {"Content-Type": "text/xml"}),
            Request("/api/send_message", message, json_type),
            stanzas=True,
        ),
    ]


def lua_script(request: Request, users: int) -> str:
    """A wrk script POSTing ``request``; ``{user}`` becomes a random one of the N accounts."""

    def lua(text: str) -> str:
        return f"[==[{text}]==]"

    lines = ['wrk.method = "POST"']
    lines += [f"wrk.headers[ {lua(k)} ] = {lua(v)}" for k, v in request.headers.items()]
    if "{user}" not in request.body:
        lines.append(f"wrk.body = {lua(request.body)}")
        return "\n".join(lines) + "\n"
    head, _, tail = request.body.partition("{user}")
    lines += [
        f"local head, tail = {lua(head)}, {lua(tail)}",
        "function init(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)) end",
        "function request()",
        f'  return wrk.format(nil, nil, nil, head .. "u" .. math.random(0, {users - 1}) .. tail)',
        "end",
    ]
    return "\n".join(lines) + "\n"


# -- wrk --------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0  # non-2xx answers plus socket errors
    raw: str = ""


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(text: str) -> WrkResult:
    result = WrkResult(raw=text)

    def duration(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()  # type: ignore[union-attr]
        return float(number) * UNITS[unit]

    if m := re.search(r"^\s+50%\s+(\S+)", text, re.M):
        result.p50_ms = duration(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", text, re.M):
        result.p99_ms = duration(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+)(\w+)", text):
        result.requests = int(m.group(1))
        result.seconds = duration(m.group(2) + m.group(3)) / 1000
    if m := re.search(r"Requests/sec:\s+([\d.]+)", text):
        result.rps = float(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        result.errors += int(m.group(1))
    if m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    ):
        result.errors += sum(int(g) for g in m.groups())
    return result


def run_wrk(
    port: int, request: Request, script: Path, seconds: float, threads: int, connections: int
) -> WrkResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{request.path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def probe(port: int, request: Request) -> tuple[int, str]:
    """One request with ``{user}`` = u0: its status and the start of the answer."""
    data = request.body.replace("{user}", "u0").encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{request.path}", data, request.headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            return answer.status, answer.read(300).decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(300).decode(errors="replace")


# -- memory -----------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB; 0 once it is gone."""
    try:
        return process_memory(pid)["rss_kib"]
    except OSError:
        return 0


class RssSampler:
    """Samples the RSS of a process tree (the daemon and any workers) a few times a second."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.peak_sum = 0  # KiB, the largest sum over the tree seen at one instant
        self.peak_one = 0  # KiB, the largest single process seen
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[int, int]:
        sizes = [rss_kib(pid) for pid in descendants(self.root)]
        sizes = [s for s in sizes if s]
        self.processes = max(self.processes, len(sizes))
        total, largest = sum(sizes), max(sizes, default=0)
        self.peak_sum = max(self.peak_sum, total)
        self.peak_one = max(self.peak_one, largest)
        return total, largest

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# -- the recipient ----------------------------------------------------------------------------


class Recipient:
    """An account logged in over c2s (plain TCP, SASL PLAIN) that counts the messages it gets.

    Deliberately minimal (no XML parser, bytes are only scanned), so that the receiving end
    costs the shared CPUs as little as possible.
    """

    def __init__(self, port: int, user: str, password: str) -> None:
        self.received = 0
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self._buffer = b""
        self._log_in(user, password)
        self._sock.settimeout(0.5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise SystemExit(f"recipient: connection closed waiting for {marker!r}")
            self._buffer += chunk
            if b"<failure" in self._buffer or b"<stream:error" in self._buffer:
                raise SystemExit(f"recipient: refused: {self._buffer[-300:]!r}")
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _open_stream(self) -> None:
        self._sock.sendall(
            b"<?xml version='1.0'?><stream:stream to='" + HOST.encode() + b"' "
            b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            b"version='1.0'>"
        )
        self._until(b"</stream:features>")

    def _log_in(self, user: str, password: str) -> None:
        self._open_stream()
        token = base64.b64encode(f"\0{user}\0{password}".encode())
        self._sock.sendall(
            b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
            + token
            + b"</auth>"
        )
        self._until(b"<success")
        self._buffer = b""
        self._open_stream()
        self._sock.sendall(
            b"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            b"<resource>bench</resource></bind></iq>"
        )
        self._until(b"</iq>")
        self._sock.sendall(b"<presence/>")

    def _read(self) -> None:
        tail = b""
        while not self._stop.is_set():
            try:
                chunk = self._sock.recv(262144)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            data = tail + chunk
            self.received += data.count(b"<message")
            tail = data[-8:] if not data.endswith(b">") else b""
            # a "<message" split across chunks is seen in tail+chunk; avoid counting it twice
            self.received -= tail.count(b"<message")

    def settle(self, expected: int, timeout: float, quiet: float = 3) -> int:
        """Wait until ``expected`` messages have arrived or none for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline and self.received < expected:
            if self.received != last:
                last, quiet_since = self.received, time.monotonic()
            elif time.monotonic() - quiet_since > quiet:
                break
            time.sleep(0.1)
        return self.received

    def close(self) -> None:
        self._stop.set()
        try:
            self._sock.sendall(b"</stream:stream>")
        except OSError:
            pass
        self._thread.join(2)
        self._sock.close()


# -- the servers ------------------------------------------------------------------------------


class BenchEjabberd(EjabberdServer):
    """The harness's ejabberd with ejabberd_xmlrpc on /xmlrpc of its HTTP listener."""

    def config(self) -> dict[str, Any]:
        config = super().config()
        for entry in config["listen"]:
            if entry["module"] == "ejabberd_http":
                entry["request_handlers"] = {"/api": "mod_http_api", "/xmlrpc": "ejabberd_xmlrpc"}
        return config


def ejabberd_settings() -> dict[str, Any]:
    extra = ejabberd_extra("plain")
    # ejabberd's own defaults: plain passwords (set above), no forced SCRAM hash.
    extra.pop("auth_scram_hash", None)
    # The stanza row: the gateway's /rest takes stanzas from allowed_ips without a login; the
    # same anonymous right to send_message from loopback makes ejabberd's row comparable.
    extra["api_permissions"] = {
        **extra["api_permissions"],
        "bench stanzas": {
            "from": ["mod_http_api"],
            "who": {"ip": "127.0.0.1/8"},
            "what": ["send_message"],
        },
    }
    return extra


def post_json(port: int, path: str, body: dict[str, Any], auth: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers["Authorization"] = auth
    return probe(port, Request(path, json.dumps(body), headers))


def fill_gateway(daemon: Daemon, workdir: Path, users: int) -> float:
    """N accounts ``u0``… with PASSWORD in the gateway's store; seconds it took.

    ``u0`` is registered through the API (so its row holds real SCRAM keys for PASSWORD);
    the others are copies of that row made by SQLite, inside the running daemon's store
    (WAL mode: the daemon keeps serving meanwhile).
    """
    started = time.monotonic()
    status, text = post_json(
        daemon.http_port,
        "/api/register",
        {"user": "u0", "host": HOST, "password": PASSWORD},
        basic(*ADMIN),
    )
    if status != 200:
        raise SystemExit(f"gateway: register u0 failed: {status} {text}")
    db = sqlite3.connect(workdir / "gateway.sqlite3", timeout=30)
    try:
        columns = [row[1] for row in db.execute("PRAGMA table_info(accounts)")]
        copied = ", ".join("?" if c == "username" else c for c in columns)
        names = ", ".join(columns)
        select = f"SELECT {copied} FROM accounts WHERE host = ? AND username = 'u0'"
        with db:
            db.executemany(
                f"INSERT INTO accounts ({names}) {select}",
                ((f"u{i}", HOST) for i in range(1, users)),
            )
        [(count,)] = db.execute("SELECT count(*) FROM accounts WHERE host = ?", (HOST,))
    finally:
        db.close()
    if count < users:
        raise SystemExit(f"gateway: only {count} accounts after the copy")
    return time.monotonic() - started


def fill_ejabberd(ejabberd: EjabberdServer, users: int, threads: int, connections: int) -> float:
    """N accounts through ejabberd's /api register (plain passwords: cheap); seconds taken."""
    started = time.monotonic()

    # A few keep-alive connections, each registering every C-th account.
    headers = {"Content-Type": "application/json", "Authorization": basic(*ADMIN)}

    def register_range(start: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", ejabberd.http_port, timeout=30)
        failures = 0
        for i in range(start, users, connections):
            body = json.dumps({"user": f"u{i}", "host": HOST, "password": PASSWORD})
            for attempt in (1, 2):
                try:
                    conn.request("POST", "/api/register", body, headers)
                    answer = conn.getresponse()
                    answer.read()
                except (OSError, http.client.HTTPException):
                    # ejabberd closes a kept-alive connection now and then: reconnect once
                    conn.close()
                    if attempt == 2:
                        raise
                    continue
                # 409: already registered by the attempt whose answer was lost
                failures += answer.status not in (200, 409)
                break
        conn.close()
        return failures

    with ThreadPoolExecutor(connections) as pool:
        failures = sum(pool.map(register_range, range(connections)))
    if failures:
        raise SystemExit(f"ejabberd: {failures} registrations failed")
    return time.monotonic() - started


# -- profiling --------------------------------------------------------------------------------


@contextmanager
def profiled(pid: int | None, out: Path | None, seconds: float) -> Iterator[None]:
    """py-spy records the daemon (and its workers) while the block runs, if asked to."""
    if pid is None or out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--rate",
            "200",
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield
    finally:
        try:
            process.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    reason = missing_ejabberd()
    if reason:
        raise SystemExit(reason)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    all_rows = [r for r in rows() if not args.rows or any(s in r.name for s in args.rows)]
    results: dict[str, Any] = {"rows": {}, "rounds": [], "setup": {}}
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="bench-run-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print("starting ejabberd …", flush=True)
        ejabberd = stack.enter_context(
            BenchEjabberd(component=True, parent_dir=workdir, extra=ejabberd_settings())
        )
        assert ejabberd.component is not None and ejabberd.pid is not None
        results["ejabberd_version"] = ejabberd.ctl("status").strip().splitlines()[-1]
        component = {
            "jid": ejabberd.component.domain,
            "secret": ejabberd.component.secret,
            "host": "127.0.0.1",
            "port": ejabberd.component.port,
            "tls": False,
            "from": "rewrite",
            "max_queued": args.max_queued,
        }
        gateway_options: dict[str, Any] = {"component": component}
        if args.synchronous != "full":
            store = (workdir / "gateway" / "gateway.sqlite3").as_posix()
            gateway_options["store"] = f"sqlite:{store}?synchronous={args.synchronous}"
        if args.workers is not None:
            gateway_options["workers"] = args.workers
        print("starting the gateway …", flush=True)
        gwdir = workdir / "gateway"
        gwdir.mkdir()
        daemon = stack.enter_context(running_daemon(gwdir, **gateway_options))
        ctl_register(daemon, ejabberd)
        ejabberd.register(*RECIPIENT)
        print(f"creating {args.users} accounts on each …", flush=True)
        results["setup"]["gateway_s"] = round(fill_gateway(daemon, gwdir, args.users), 1)
        results["setup"]["ejabberd_s"] = round(
            fill_ejabberd(ejabberd, args.users, args.threads, args.connections), 1
        )
        recipient = Recipient(ejabberd.c2s_port, *RECIPIENT)
        stack.callback(recipient.close)
        ports = {"gateway": daemon.http_port, "ejabberd": ejabberd.http_port}
        pids = {"gateway": daemon.process.pid, "ejabberd": beam_pid(ejabberd.pid)}
        wait_for_link(daemon, recipient)

        scripts: dict[tuple[str, str], Path] = {}
        for i, row in enumerate(all_rows):
            for side in ("gateway", "ejabberd"):
                request: Request = getattr(row, side)
                status, text = probe(ports[side], request)
                if status != 200:
                    raise SystemExit(f"{side}: {row.name}: probe answered {status}: {text}")
                script = workdir / f"row{i}-{side}.lua"
                script.write_text(lua_script(request, args.users))
                scripts[(row.name, side)] = script
        if any(r.stanzas for r in all_rows):
            recipient.settle(2, 10)

        sampler = stack.enter_context(RssSampler(pids["gateway"]))
        for round_no in range(1, args.rounds + 1):
            both = round_no <= args.ejabberd_rounds
            sides = ("gateway", "ejabberd") if both else ("gateway",)
            for row in all_rows:
                for side in sides:
                    print(f"round {round_no}: {side}: {row.name} …", flush=True)
                    request = getattr(row, side)
                    script = scripts[(row.name, side)]
                    if args.warmup > 0:
                        run_wrk(ports[side], request, script, args.warmup, 1, args.connections)
                        if row.stanzas:  # the warm-up's messages are not the run's
                            recipient.settle(10**12, 10, quiet=0.5)
                    warm = recipient.received
                    profile = None
                    if args.profile and side == "gateway" and round_no == 1:
                        args.profile.mkdir(parents=True, exist_ok=True)
                        slug = re.sub(r"[^a-z0-9]+", "-", row.name.lower()).strip("-")
                        profile = args.profile / f"{slug}.txt"
                    with profiled(pids[side] if profile else None, profile, args.duration):
                        measured = run_wrk(
                            ports[side],
                            request,
                            script,
                            args.duration,
                            args.threads,
                            args.connections,
                        )
                    entry: dict[str, Any] = {
                        "rps": measured.rps,
                        "p50_ms": measured.p50_ms,
                        "p99_ms": measured.p99_ms,
                        "requests": measured.requests,
                        "errors": measured.errors,
                    }
                    if row.stanzas:
                        sent = measured.requests - measured.errors
                        got = recipient.settle(recipient.received + sent, args.drain) - warm
                        entry["delivered"] = got
                        entry["delivery_note"] = (
                            f"{got} of {sent} delivered within {args.drain:.0f}s of the run"
                        )
                        recipient.settle(10**12, 3)  # let any stragglers land
                    entry["round"] = round_no
                    sides_seen = results["rows"].setdefault(row.name, {})
                    sides_seen.setdefault(side, []).append(entry)
            total, largest = sampler.sample()
            results["rounds"].append(
                {
                    "round": round_no,
                    "rss_kib": total,
                    "largest_process_kib": largest,
                    "peak_sum_kib": sampler.peak_sum,
                    "peak_one_kib": sampler.peak_one,
                    "processes": sampler.processes,
                }
            )
        results["gateway_processes"] = sampler.processes
    return results


def wait_for_link(daemon: Daemon, recipient: Recipient, timeout: float = 30) -> None:
    """Until a stanza posted to the gateway reaches the recipient (the link is up)."""
    stanza = Request(
        "/rest",
        f"<message to='{RECIPIENT[0]}@{HOST}' from='{COMPONENT}'><body>hello</body></message>",
    )
    before = recipient.received
    status, text = probe(daemon.http_port, stanza)
    if status != 200:
        raise SystemExit(f"gateway: stanza POST answered {status}: {text}")
    if recipient.settle(before + 1, timeout) <= before:
        raise SystemExit("the gateway's stanza did not reach the recipient: is the link up?")


# -- the table --------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def median(entries: list[dict[str, Any]], key: str) -> float | None:
    values = sorted(e[key] for e in entries if e[key] is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """One side of one row over its rounds: medians, and errors summed."""
    return {
        "rps": median(entries, "rps") or 0.0,
        "p50_ms": median(entries, "p50_ms"),
        "p99_ms": median(entries, "p99_ms"),
        "errors": sum(e["errors"] for e in entries),
        "rounds": len(entries),
    }


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(results: dict[str, Any]) -> str:
    head = (
        f"{'row':<30}{'gw req/s':>10}{'p50':>8}{'p99':>8}"
        f"{'ejd req/s':>11}{'p50':>8}{'p99':>8}{'thr gw/ejd':>12}{'p99 gw/ejd':>12}{'err':>10}"
    )
    lines = [head, "-" * len(head)]
    for name, sides in results["rows"].items():
        gw, ej = summary(sides["gateway"]), summary(sides["ejabberd"])
        lines.append(
            f"{name:<30}{gw['rps']:>10,.0f}{ms(gw['p50_ms']):>8}{ms(gw['p99_ms']):>8}"
            f"{ej['rps']:>11,.0f}{ms(ej['p50_ms']):>8}{ms(ej['p99_ms']):>8}"
            f"{ratio(gw['rps'], ej['rps']):>12}{ratio(gw['p99_ms'], ej['p99_ms']):>12}"
            f"{str(gw['errors']) + '/' + str(ej['errors']):>10}"
        )
        for side in ("gateway", "ejabberd"):
            rounds = ", ".join(f"{e['rps']:,.0f}/s p99 {ms(e['p99_ms'])}" for e in sides[side])
            lines.append(f"{'':<4}{side} by round: {rounds}")
            notes = [e["delivery_note"] for e in sides[side] if "delivery_note" in e]
            if notes:
                lines.append(f"{'':<6}delivered: {'; '.join(notes)}")
    lines.append(
        "medians over the rounds; latencies in ms (wrk); "
        "err = gateway/ejabberd non-2xx answers + socket errors, all rounds"
    )
    rounds = results["rounds"]
    lines.append(
        f"gateway RSS ({results['gateway_processes']} process(es)): "
        + "; ".join(
            f"after round {r['round']} {r['rss_kib'] / 1024:.1f} MiB "
            f"(largest process {r['largest_process_kib'] / 1024:.1f})"
            for r in rounds
        )
    )
    if rounds:
        last = rounds[-1]
        growth = (rounds[-1]["rss_kib"] - rounds[0]["rss_kib"]) / 1024
        lines.append(
            f"gateway peak RSS: sum {last['peak_sum_kib'] / 1024:.1f} MiB, per process max "
            f"{last['peak_one_kib'] / 1024:.1f} MiB; growth round 1 -> {last['round']}: "
            f"{growth:+.1f} MiB"
        )
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10000, help="accounts on each server")
    parser.add_argument("--duration", type=float, default=6, help="seconds per row and side")
    parser.add_argument("--warmup", type=float, default=1, help="unmeasured seconds first")
    parser.add_argument("--threads", "-t", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", "-c", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over every row (the table has medians)"
    )
    parser.add_argument(
        "--ejabberd-rounds",
        type=int,
        help="rounds that also load ejabberd (default: all; the others load the gateway alone)",
    )
    parser.add_argument(
        "--workers", help="gateway.workers for the daemon (absent: the key is left out)"
    )
    parser.add_argument(
        "--synchronous",
        choices=["full", "normal"],
        default="full",
        help="the gateway's SQLite synchronous level (full: conf/gateway.yml's default)",
    )
    parser.add_argument("--max-queued", type=int, default=10000, help="component max_queued")
    parser.add_argument("--drain", type=float, default=30, help="seconds to await deliveries")
    parser.add_argument("--rows", action="append", help="only rows whose name contains this")
    parser.add_argument("--profile", type=Path, help="py-spy the gateway rows into this dir")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers != "auto":
        args.workers = int(args.workers)
    if args.users < 1 or args.rounds < 1 or args.duration < 1:
        parser.error("--users, --rounds and --duration must be at least 1")
    if args.ejabberd_rounds is None:
        args.ejabberd_rounds = args.rounds
    if not 1 <= args.ejabberd_rounds <= args.rounds:
        parser.error("--ejabberd-rounds must be between 1 and --rounds")
    return args


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(int(mem) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    try:
        results = run(args)
    except KeyboardInterrupt:
        raise SystemExit("interrupted; everything started was stopped") from None
    results["machine"] = machine()
    results["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    results["wall_s"] = round(time.monotonic() - started, 1)
    info = results["machine"]
    print()
    print(
        f"{info['cpus']} CPUs ({info['cpu']}), {info['ram_gib']} GiB; "
        f"{results['ejabberd_version']}; wrk -t{args.threads} -c{args.connections} "
        f"{args.duration:g}s per row and side; {args.users} accounts; "
        f"gateway.workers: {args.workers if args.workers is not None else 'absent'}; "
        f"SQLite synchronous={args.synchronous}; "
        f"setup {results['setup']}; whole run {results['wall_s']}s"
    )
    print(table(results))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"results written to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
