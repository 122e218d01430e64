"""A killed gateway loses no acknowledged write.

A child process registers accounts as fast as it can, printing each name once
its Deferred has fired (the transaction is committed).  The test kills it
with SIGKILL in the middle of the burst, opens the store again and expects
every acknowledged account, with its password, to be there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from twisted.internet import reactor
from twisted.internet.threads import deferToThread

from gateway.backends.embedded import EmbeddedBackend
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase
from tests.paths import REPO

#: acknowledged writes to see before pulling the plug
ACKS_BEFORE_KILL = 60

WRITER = textwrap.dedent(
    """
    import sys
    from twisted.internet import task
    from twisted.internet.defer import DeferredList, ensureDeferred
    from gateway.backends.embedded import EmbeddedBackend, open_store

    async def burst(reactor):
        store = open_store(sys.argv[1], reactor)
        backend = EmbeddedBackend(store, ["localhost"], reactor)
        n = 0
        while True:
            # several writes in flight at once, each reported when it commits
            names = [f"user{n + i}" for i in range(8)]
            n += 8

            def ack(_, name):
                sys.stdout.write(name + "\\n")
                sys.stdout.flush()

            await DeferredList([
                backend.try_register(name, "localhost", "pw-" + name).addCallback(ack, name)
                for name in names
            ], fireOnOneErrback=True)

    task.react(lambda reactor: ensureDeferred(burst(reactor)))
    """
)


def _run_and_kill(dsn: str) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, dsn],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    acked: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acked.append(line.strip())
            if len(acked) >= ACKS_BEFORE_KILL:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        _, errors = child.communicate(timeout=30)
    assert len(acked) >= ACKS_BEFORE_KILL, f"writer stopped early: {errors}"
    return acked


class DurabilityTests(Mixin):
    async def test_kill_9_loses_no_acknowledged_write(self) -> None:
        """Every registration acknowledged before SIGKILL is in the reopened store."""
        dsn = self.dsn()
        self.store.close()  # the child is the only writer
        acked = await deferToThread(_run_and_kill, dsn)
        store = await self.open_store()
        backend = EmbeddedBackend(store, [HOST], reactor)
        names = {r[0] for r in await store.read(lambda tx: tx.all("SELECT username FROM accounts"))}
        missing = [name for name in acked if name not in names]
        assert not missing, f"acknowledged but lost: {missing}"
        assert await backend.check_password(acked[-1], HOST, "pw-" + acked[-1])


class TestDurabilitySQLite(DurabilityTests, SQLiteCase):
    pass


class TestDurabilityPostgres(DurabilityTests, PostgresCase):
    pass
