"""Embedded store benchmark: commands per second as the store grows (SQLite).

For each size N, a fresh SQLite store is filled with N accounts (each with a
few roster items), then ``register``, ``check_account`` (a bare lookup),
``check_password`` and ``get_roster`` run through the embedded backend with a
fixed number of calls in flight.  Comparable rates across sizes show that
lookups stay flat as the store grows.

    python3 bench/store_bench.py                  # 10k accounts
    python3 bench/store_bench.py --users 10000 --users 1000000
    python3 bench/store_bench.py --dsn postgresql://…   # same against PostgreSQL

Filling uses one precomputed password hash for every filler account (their
lookups cost the same); the measured ``register`` calls hash for real.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from twisted.internet import task
from twisted.internet.defer import DeferredList, DeferredSemaphore, ensureDeferred

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.backends.embedded import EmbeddedBackend, Store, open_store  # noqa: E402
from gateway.backends.embedded.passwords import hash_password  # noqa: E402
from gateway.backends.embedded.store import Tx  # noqa: E402
from gateway.engine.model import Caller  # noqa: E402

HOST = "bench.example"
PASSWORD = "bench-password"
CALLER = Caller(frontend="mod_http_api")
BATCH = 20_000


def fill(store: Store, users: int, contacts: int) -> Any:
    """Insert ``users`` accounts with ``contacts`` roster items each, in batches."""
    creds = hash_password(PASSWORD)

    def batch(start: int, end: int) -> Callable[[Tx], None]:
        def run(tx: Tx) -> None:
            tx.executemany(
                "INSERT INTO accounts (host, username, scheme, salt, iterations, stored_key,"
                " server_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (HOST, f"u{i}", creds.scheme, creds.salt, creds.iterations,
                     creds.stored_key, creds.server_key, 0.0)
                    for i in range(start, end)
                ],
            )  # fmt: skip
            tx.executemany(
                "INSERT INTO roster_items (host, username, contact, nick, subscription, ask)"
                " VALUES (?, ?, ?, ?, 'both', 'none')",
                [
                    (HOST, f"u{i}", f"c{j}@elsewhere.example", f"C{j}")
                    for i in range(start, end)
                    for j in range(contacts)
                ],
            )
            tx.executemany(
                "INSERT INTO roster_groups (host, username, contact, group_name)"
                " VALUES (?, ?, ?, 'Friends')",
                [
                    (HOST, f"u{i}", f"c{j}@elsewhere.example")
                    for i in range(start, end)
                    for j in range(contacts)
                ],
            )

        return run

    async def all_batches() -> None:
        for start in range(0, users, BATCH):
            await store.write(batch(start, min(users, start + BATCH)))

    return ensureDeferred(all_batches())


async def measure(calls: int, in_flight: int, make: Callable[[int], Awaitable[Any]]) -> float:
    """Run ``make(i)`` for i < calls, ``in_flight`` at a time; calls per second."""
    gate = DeferredSemaphore(in_flight)

    async def one(i: int) -> Any:
        return await make(i)

    started = time.perf_counter()
    await DeferredList(
        [gate.run(one, i) for i in range(calls)],
        fireOnOneErrback=True,
    )
    return calls / (time.perf_counter() - started)


async def bench_size(
    reactor: Any, dsn: str, users: int, args: argparse.Namespace
) -> dict[str, float]:
    store = open_store(dsn, reactor)
    try:
        started = time.perf_counter()
        await fill(store, users, args.contacts)
        print(f"  filled {users} accounts in {time.perf_counter() - started:.1f}s", flush=True)
        backend = EmbeddedBackend(store, [HOST], reactor)
        rng = random.Random(users)
        picks = [rng.randrange(users) for _ in range(args.calls)]

        def register(i: int) -> Any:
            return backend.execute(
                "register", {"user": f"new{i}", "host": HOST, "password": PASSWORD}, CALLER
            )

        async def check(i: int) -> Any:
            ok = await backend.execute(
                "check_password",
                {"user": f"u{picks[i]}", "host": HOST, "password": PASSWORD},
                CALLER,
            )
            assert ok is True
            return ok

        async def exists(i: int) -> Any:
            found = await backend.execute(
                "check_account", {"user": f"u{picks[i]}", "host": HOST}, CALLER
            )
            assert found is True
            return found

        async def roster(i: int) -> Any:
            items = await backend.execute(
                "get_roster", {"user": f"u{picks[i]}", "host": HOST}, CALLER
            )
            assert len(items) == args.contacts
            return items

        return {
            "register": await measure(args.calls, args.in_flight, register),
            "check_account": await measure(args.calls, args.in_flight, exists),
            "check_password": await measure(args.calls, args.in_flight, check),
            "get_roster": await measure(args.calls, args.in_flight, roster),
        }
    finally:
        store.close()


async def main(reactor: Any, args: argparse.Namespace) -> None:
    results: dict[int, dict[str, float]] = {}
    for users in args.users or [10_000]:
        print(f"{users} accounts:", flush=True)
        if args.dsn:
            if len(args.users or [1]) > 1:
                raise SystemExit("--dsn takes one --users size (the database is not emptied)")
            results[users] = await bench_size(reactor, args.dsn, users, args)
            continue
        directory = tempfile.mkdtemp(prefix="gateway-bench-")
        try:
            dsn = f"sqlite:{directory}/bench.sqlite"
            if args.synchronous:
                dsn += f"?synchronous={args.synchronous}"
            results[users] = await bench_size(reactor, dsn, users, args)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    sizes = sorted(results)
    print()
    print(f"{'command/s':<16}" + "".join(f"{n:>14,}" for n in sizes))
    for command in ("register", "check_account", "check_password", "get_roster"):
        print(f"{command:<16}" + "".join(f"{results[n][command]:>14,.0f}" for n in sizes))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--users", type=int, action="append", help="store size (repeat; default 10000)"
    )
    parser.add_argument("--calls", type=int, default=2000, help="calls per command")
    parser.add_argument("--in-flight", type=int, default=16, help="calls running at once")
    parser.add_argument("--contacts", type=int, default=5, help="roster items per account")
    parser.add_argument("--synchronous", choices=["full", "normal"], help="SQLite durability")
    parser.add_argument("--dsn", help="benchmark this (empty) database instead of SQLite")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args(sys.argv[1:])
    task.react(lambda reactor: ensureDeferred(main(reactor, options)))
