"""The gateway's JSON /api side by side with a real ejabberd 23.01, on this machine, in one run.

Starts the gateway daemon (``twistd -n xmpp-gateway``, embedded SQLite store, ``api_profile``
23.01) and a private ejabberd node from Debian's package, both on loopback ports, and gives
ejabberd the gateway's default ``acl``/``access_rules``/``api_permissions`` so that the very
same HTTP requests are allowed on both.  Then:

1. an ``admin@localhost`` account is created on each with its own control tool (gatewayctl,
   ejabberdctl), and N accounts ``u0`` … through ``/api/register`` (admin credentials);
2. the first few accounts get a couple of roster items each (``/api/add_rosteritem``);
3. ``status`` (anonymous), ``check_account``, ``registered_users`` and ``get_roster`` (admin
   Basic auth, so each request also checks a password) are sent a fixed number of times over C
   keep-alive HTTP/1.1 connections by the same asyncio client, against one server at a time;
4. the resident memory of each server (the twistd process; ejabberd's beam.smp) is read from
   ``/proc/<pid>/status`` after the run.

    .venv/bin/python bench/api_vs_ejabberd.py                    # 1000 accounts, C=8
    .venv/bin/python bench/api_vs_ejabberd.py --users 10000 --requests 5000 --out result.json

Run it from the repository root with the project's virtualenv (the daemon is started from the
same ``bin`` directory as the Python running this).  Everything started is stopped, and every
file written is removed, when the run ends or is interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.daemon import Daemon, default_config, running_daemon  # noqa: E402
from tests.integration.servers import (  # noqa: E402
    EjabberdServer,
    ServerError,
    missing_ejabberd,
)

HOST = "localhost"
ADMIN = ("admin", "bench-admin-secret")
PASSWORD = "bench-user-secret"
SIDES = ("gateway", "ejabberd")
COMMANDS = ("status", "check_account", "registered_users", "get_roster")


# -- HTTP client -----------------------------------------------------------------------------


class HttpError(Exception):
    """The server's answer could not be read as HTTP/1.1."""


@dataclass
class Connection:
    """One keep-alive HTTP/1.1 connection to a loopback port; reopened when the server closes."""

    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    opened: int = 0

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The open connection, opened again if the server has closed it."""
        if self.writer is None or self.reader is None or self.reader.at_eof():
            await self.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.opened += 1
        return self.reader, self.writer

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one complete request; its status code and body."""
        reader, writer = await self.connect()
        writer.write(raw)
        status, headers = await self._head(reader)
        body = await self._body(reader, headers)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    @staticmethod
    async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        line = await reader.readline()
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"bad status line {line!r}")
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n"):
                return int(parts[1]), headers
            if not line:
                raise HttpError("connection closed inside the headers")
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()  # no trailers are expected: the final CRLF
                    return b"".join(chunks)
                chunks.append(await reader.readexactly(size))
                await reader.readline()
        if "content-length" in headers:
            return await reader.readexactly(int(headers["content-length"]))
        return await reader.read()  # delimited by the server closing the connection

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}@{HOST}:{password}".encode()).decode()


def post(port: int, command: str, args: dict[str, Any], auth: str | None) -> bytes:
    """A complete ``POST /api/<command>`` request with ``args`` as its JSON body."""
    body = json.dumps(args).encode()
    head = [
        f"POST /api/{command} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if auth is not None:
        head.append(f"Authorization: {auth}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Load:
    """What one batch of requests against one server measured."""

    seconds: float
    latencies: list[float]  # of the successful requests, in seconds
    errors: int
    connections: int
    first_error: str | None = None
    answers: dict[int, bytes] = field(default_factory=dict)  # the first one for each status

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            if not ordered:
                return None
            rank = max(1, -(-len(ordered) * p // 100))  # nearest rank
            return round(ordered[int(rank) - 1] * 1000, 3)

        return {
            "requests": len(self.latencies) + self.errors,
            "errors": self.errors,
            "first_error": self.first_error,
            "seconds": round(self.seconds, 3),
            "requests_per_s": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0,
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "max_ms": round(ordered[-1] * 1000, 3) if ordered else None,
            "connections_opened": self.connections,
        }


async def load(port: int, requests: Sequence[bytes], concurrency: int, timeout: float) -> Load:
    """Send every request once, ``concurrency`` at a time over as many kept-alive connections."""
    latencies: list[float] = []
    answers: dict[int, bytes] = {}
    errors = 0
    first_error: str | None = None
    pending = iter(range(len(requests)))
    connections = [Connection(port) for _ in range(max(1, min(concurrency, len(requests))))]

    async def worker(connection: Connection) -> None:
        nonlocal errors, first_error
        for i in pending:  # the one shared iterator hands each index to exactly one worker
            started = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(connection.request(requests[i]), timeout)
            except (OSError, HttpError, ValueError, asyncio.IncompleteReadError, TimeoutError) as e:
                errors += 1
                first_error = first_error or f"{type(e).__name__}: {e}"
                await connection.close()
                continue
            answers.setdefault(status, body)
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
                first_error = first_error or f"HTTP {status}: {body[:200]!r}"

    try:
        # Connected before the clock starts: the figures are for requests, not TCP handshakes
        # (a listener with a short accept queue can delay a burst of connects by a second).
        await asyncio.gather(*(asyncio.wait_for(c.connect(), timeout) for c in connections))
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    seconds = time.perf_counter() - started
    opened = sum(c.opened for c in connections)
    return Load(seconds, latencies, errors, opened, first_error, answers)


# -- the two servers -------------------------------------------------------------------------


@dataclass
class Side:
    name: str
    port: int
    pid: int  # the process whose memory is reported


def ejabberd_extra(passwords: str) -> dict[str, Any]:
    """ejabberd.yml settings that make the private node answer like the gateway's defaults.

    The harness's own ``loopback api`` rule (everything, anonymously, from loopback) is
    replaced by the gateway's ``admin access`` rule, and ``public commands`` is added, so both
    servers allow exactly the same requests.

    With ``passwords`` ``"scram"`` ejabberd stores SCRAM-SHA-256 keys like the gateway's store,
    so checking a password costs one PBKDF2 (4096 rounds) on both sides; ``"plain"`` is
    ejabberd's own default (the password itself, compared as it is).
    """
    gateway = default_config()
    permissions = dict(gateway["api_permissions"])
    rules = {"loopback api": permissions.pop("admin access"), **permissions}
    rules.pop("console commands", None)  # the harness's rule already says the same
    return {
        "acl": gateway["acl"],
        "access_rules": gateway["access_rules"],
        "api_permissions": rules,
        "auth_password_format": passwords,
        "auth_scram_hash": "sha256",
        # The harness turns the cache off for tests that change passwords; a benchmark runs
        # ejabberd as shipped.
        "auth_use_cache": True,
        # add_rosteritem and get_roster live in this module.
        "modules": {"mod_admin_extra": {}},
    }


def process_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of ``pid``, in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return {"rss_kib": found.get("VmRSS", 0), "peak_rss_kib": found.get("VmHWM", 0)}


def descendants(pid: int) -> Iterator[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    todo = [pid]
    while todo:
        current = todo.pop()
        yield current
        todo.extend(children.get(current, []))


def beam_pid(erl_pid: int) -> int:
    """The Erlang VM (beam.smp) started by ``erl`` (which normally execs into it)."""
    for pid in descendants(erl_pid):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip().startswith("beam"):
                return pid
        except OSError:
            continue
    raise ServerError(f"no beam process under pid {erl_pid}")


def ctl_register(daemon: Daemon, ejabberd: EjabberdServer) -> None:
    """The admin account, created with each server's own control tool."""
    done = daemon.ctl("register", ADMIN[0], HOST, ADMIN[1])
    if done.returncode != 0:
        raise SystemExit(f"gatewayctl register failed: {done.stdout}{done.stderr}")
    ejabberd.register(*ADMIN)


async def setup_load(
    side: Side, command: str, bodies: Sequence[dict[str, Any]], args: argparse.Namespace
) -> Load:
    auth = basic(*ADMIN)
    requests = [post(side.port, command, body, auth) for body in bodies]
    result = await load(side.port, requests, args.concurrency, args.timeout)
    if result.errors:
        raise SystemExit(f"{side.name}: {command} failed: {result.first_error}")
    return result


def roster_bodies(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``contacts`` roster items (other bench accounts) for each of the first accounts."""
    owners = min(args.users, args.roster_users)
    return [
        {
            "localuser": f"u{i}",
            "localhost": HOST,
            "user": f"u{(i + j) % args.users}",
            "host": HOST,
            "nick": f"Contact {j}",
            "group": "Friends",
            "subs": "both",
        }
        for i in range(owners)
        for j in range(1, args.contacts + 1)
    ]


def workload(command: str, args: argparse.Namespace) -> tuple[list[dict[str, Any]], bool]:
    """The request bodies for ``command`` (the same on both sides) and whether they log in."""
    n = args.requests
    # Seeded by the command: both servers are asked about the same accounts in the same order.
    rng = random.Random(command)
    if command == "status":
        return [{} for _ in range(n)], False
    if command == "check_account":
        return [{"user": f"u{rng.randrange(args.users)}", "host": HOST} for _ in range(n)], True
    if command == "registered_users":
        return [{"host": HOST} for _ in range(n)], True
    owners = min(args.users, args.roster_users)
    return [{"user": f"u{rng.randrange(owners)}", "host": HOST} for _ in range(n)], True


def compare_answers(sides: Sequence[Side], args: argparse.Namespace) -> dict[str, Any]:
    """One request of each command on both servers: the answers, and whether they agree."""

    async def ask(side: Side, command: str, body: dict[str, Any], auth: str | None) -> Any:
        result = await load(side.port, [post(side.port, command, body, auth)], 1, args.timeout)
        if not result.answers:
            return ["no answer", result.first_error]
        [(status, raw)] = result.answers.items()
        try:
            return [status, json.loads(raw or b"null")]
        except ValueError:
            return [status, raw.decode(errors="replace")]

    async def probe() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for command in COMMANDS:
            bodies, logs_in = workload(command, args)
            auth = basic(*ADMIN) if logs_in else None
            answers = {side.name: await ask(side, command, bodies[0], auth) for side in sides}
            same = normalise(answers["gateway"]) == normalise(answers["ejabberd"])
            found[command] = {"same": same, **{n: shorten(a) for n, a in answers.items()}}
        return found

    return asyncio.run(probe())


def normalise(answer: list[Any]) -> list[Any]:
    """An answer with what may differ between servers (the status text, list order) evened."""
    status, value = answer
    if isinstance(value, str) and value.startswith("The node "):
        value = "The node … is started …"  # names the node and its software: never equal
    if isinstance(value, list):
        value = sorted(value, key=lambda item: json.dumps(item, sort_keys=True))
    return [status, value]


def shorten(answer: list[Any], keep: int = 3) -> list[Any]:
    """``answer`` with a long list cut to its first items, for the JSON report."""
    status, value = answer
    if isinstance(value, list) and len(value) > keep:
        value = [*value[:keep], f"… {len(value)} items in all"]
    return [status, value]


# -- the run ---------------------------------------------------------------------------------


def interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    reason = missing_ejabberd()
    if reason:
        raise SystemExit(reason)
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="gateway-vs-ejabberd-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print("starting the gateway and ejabberd …", flush=True)
        daemon = stack.enter_context(running_daemon(workdir, api_profile="23.01"))
        ejabberd = stack.enter_context(
            EjabberdServer(
                component=False, parent_dir=workdir, extra=ejabberd_extra(args.ejabberd_passwords)
            )
        )
        ejabberd_pid = ejabberd.pid
        assert ejabberd_pid is not None
        sides = [
            Side("gateway", daemon.http_port, daemon.process.pid),
            Side("ejabberd", ejabberd.http_port, beam_pid(ejabberd_pid)),
        ]
        ctl_register(daemon, ejabberd)

        results: dict[str, Any] = {"setup": {}, "commands": {}, "memory": {}}
        registrations = [
            {"user": f"u{i}", "host": HOST, "password": PASSWORD} for i in range(args.users)
        ]
        rosters = roster_bodies(args)
        for side in sides:
            print(f"{side.name}: registering {args.users} accounts …", flush=True)
            registered = asyncio.run(setup_load(side, "register", registrations, args))
            added = asyncio.run(setup_load(side, "add_rosteritem", rosters, args))
            results["setup"][side.name] = {
                "register": registered.summary(),
                "add_rosteritem": added.summary(),
            }
            results["memory"][side.name] = {"after_setup": process_memory(side.pid)}

        results["answers"] = compare_answers(sides, args)
        for command in COMMANDS:
            bodies, logs_in = workload(command, args)
            auth = basic(*ADMIN) if logs_in else None
            results["commands"][command] = {}
            for side in sides:
                requests = [post(side.port, command, body, auth) for body in bodies]
                print(f"{side.name}: {command} × {len(requests)} …", flush=True)
                asyncio.run(load(side.port, requests[: args.warmup], args.concurrency, 30))
                done = asyncio.run(load(side.port, requests, args.concurrency, args.timeout))
                results["commands"][command][side.name] = done.summary()
        for side in sides:
            results["memory"][side.name]["after_run"] = process_memory(side.pid)
            comm = Path(f"/proc/{side.pid}/comm").read_text().strip()
            results["memory"][side.name]["process"] = comm
        results["ejabberd_version"] = ejabberd.ctl("status").strip().splitlines()[-1]
        return results


def table(results: dict[str, Any]) -> str:
    """The results as a side-by-side text table."""
    cols = ("req/s", "p50", "p90", "p99", "max", "err")
    width = 9
    block = width * len(cols)
    settings = results["settings"]
    lines = [
        f"{settings['users']} accounts, {settings['requests']} requests per command over "
        f"{settings['concurrency']} connections; ejabberd passwords: "
        f"{settings['ejabberd_passwords']}; {results['machine']['cpus']} CPUs shared by both "
        "servers and the client",
        "",
        f"{'':<22}" + "".join(f"{name:-^{block}}  " for name in SIDES),
        f"{'command':<22}" + "".join("".join(f"{c:>{width}}" for c in cols) + "  " for _ in SIDES),
    ]

    def row(label: str, per_side: dict[str, Any]) -> str:
        cells = []
        for name in SIDES:
            s = per_side[name]
            values = [f"{s['requests_per_s']:,.0f}"]
            values += [
                f"{s[k]:.1f}" if s[k] is not None else "-"
                for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")
            ]
            values.append(str(s["errors"]))
            cells.append("".join(f"{v:>{width}}" for v in values) + "  ")
        return f"{label:<22}" + "".join(cells)

    for command, per_side in results["commands"].items():
        lines.append(row(command, per_side))
    for step in ("register", "add_rosteritem"):
        lines.append(row(f"{step} (setup)", {n: results["setup"][n][step] for n in SIDES}))
    lines.append("latencies in ms; err = failed requests")
    lines.append("")
    for name in SIDES:
        memory = results["memory"][name]
        lines.append(
            f"{name} ({memory['process']}) RSS MiB: after setup "
            f"{memory['after_setup']['rss_kib'] / 1024:.1f}, after run "
            f"{memory['after_run']['rss_kib'] / 1024:.1f}, peak "
            f"{memory['after_run']['peak_rss_kib'] / 1024:.1f}"
        )
    different = [c for c, a in results["answers"].items() if not a["same"]]
    if different:
        lines.append(f"answers differ between the servers for: {', '.join(different)}")
    return "\n".join(line.rstrip() for line in lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="accounts on each server")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per command")
    parser.add_argument("--concurrency", "-c", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first")
    parser.add_argument("--contacts", type=int, default=2, help="roster items per roster owner")
    parser.add_argument("--roster-users", type=int, default=100, help="accounts given a roster")
    parser.add_argument("--timeout", type=float, default=30, help="seconds allowed per request")
    parser.add_argument(
        "--ejabberd-passwords",
        choices=["scram", "plain"],
        default="scram",
        help="how ejabberd stores passwords (scram: like the gateway; plain: its default)",
    )
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    for name in ("users", "requests", "concurrency", "contacts", "roster_users"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    # The cleanup in run() happens on SIGTERM as on Ctrl-C, even when started with SIGINT
    # ignored (as a shell does for background jobs).
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        results = run(args)
    except KeyboardInterrupt:
        raise SystemExit("interrupted; both servers stopped and their files removed") from None
    results["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    print()
    print(table(results))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nresults written to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
