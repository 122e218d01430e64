"""``gateway.workers`` decides what twistd runs: the daemon itself, or a supervisor of workers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from unittest import mock

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from gateway import tap
from gateway.config.load import load_config
from gateway.service import GatewayService
from gateway.workers.supervisor import SupervisorService, WorkerPool


class Options:
    """What makeService reads of twistd's options."""

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded


class TapTests(SynchronousTestCase):
    def config(self, workers: str) -> Any:
        directory = Path(self.mktemp())
        directory.mkdir()
        path = directory / "gateway.yml"
        path.write_text(
            "hosts: [localhost]\n"
            "gateway:\n"
            f"  workers: {workers}\n"
            f"  store: 'sqlite:{directory}/gateway.sqlite3'\n"
            f"  ctl_socket: '{directory}/ctl.sock'\n"
        )
        return load_config(str(path))

    def built(self, workers: str, cpus: int = 4) -> Any:
        reactor = MemoryReactorClock()
        with (
            mock.patch.dict(sys.modules, {"twisted.internet.reactor": reactor}),
            mock.patch("twisted.internet.reactor", reactor, create=True),
            mock.patch("os.cpu_count", return_value=cpus),
            mock.patch("os.umask"),
        ):
            service = tap.makeService(Options(self.config(workers)))  # type: ignore[arg-type]
        self.addCleanup(_close_stores, service)
        return service

    def test_one_worker_is_the_single_process_daemon(self) -> None:
        """workers: 1 builds today's daemon, not a supervisor."""
        service = self.built("1")
        self.assertIsInstance(service, GatewayService)
        self.assertNotIsInstance(service, SupervisorService)

    def test_several_workers_build_a_supervisor(self) -> None:
        """workers: 3 builds a supervisor that will run three workers from the config file."""
        service = self.built("3")
        self.assertIsInstance(service, SupervisorService)
        [pool] = [child for child in service if isinstance(child, WorkerPool)]
        self.assertEqual(pool._count, 3)

    def test_auto_follows_the_cpus(self) -> None:
        """workers: auto is one per CPU; on a single CPU that is the single-process daemon."""
        self.assertIsInstance(self.built("auto", cpus=2), SupervisorService)
        self.assertNotIsInstance(self.built("auto", cpus=1), SupervisorService)


def _close_stores(service: Any) -> None:
    for child in service:
        if type(child).__name__ == "StoreCloser":
            child._store.close()
