"""A worker process: ``python -m gateway.workers.child`` (started by the supervisor only).

It reads the same configuration file as the supervisor, builds the daemon's
service as a worker (:class:`~gateway.workers.role.WorkerRole`): listeners
on the sockets the supervisor opened, the component link through the
supervisor, shared state relayed through it.  It logs to its standard
output, which the supervisor copies into its own log; each line names the
worker.  SIGTERM stops it gracefully, like the single-process daemon; so does
losing the supervisor.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any

from twisted.application.app import startApplication
from twisted.application.service import Application, IService
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory
from twisted.logger import ILogObserver, Logger, globalLogBeginner

from gateway.config.errors import ConfigError
from gateway.config.load import load_config
from gateway.service import build_service
from gateway.workers.channel import Broadcast, Ready, WorkerEnd
from gateway.workers.role import WorkerRole

__all__ = ["main", "tagged"]

log = Logger()
#: seconds a refused login waits for the other workers to count it, at most
RELAY_WAIT = 2.0


def tagged(observer: Any, number: int) -> Any:
    """An observer that names worker ``number`` in each event's system field."""

    def observe(event: dict[str, Any]) -> None:
        namespace = event.get("log_namespace", "-")
        level = getattr(event.get("log_level"), "name", "info")
        observer({**event, "log_system": f"worker {number}: {namespace}#{level}"})

    return observe


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gateway.workers.child")
    parser.add_argument("--config", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--channel", type=int, required=True, help="fd of the supervisor channel")
    parser.add_argument("--sockets", required=True, help="JSON: endpoint -> [fd, family]")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one worker until it is told to stop."""
    args = _arguments(sys.argv[1:] if argv is None else argv)
    os.umask(0o077)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"xmpp-gateway worker {args.worker}: {e}", file=sys.stderr)
        return 1
    sockets = {str(k): (int(v[0]), int(v[1])) for k, v in json.loads(args.sockets).items()}

    from twisted.internet import reactor as global_reactor

    reactor: Any = global_reactor

    role = WorkerRole(args.worker, sockets)
    stopping: list[bool] = []

    def lost() -> None:
        if not stopping:
            log.warn("the supervisor is gone: this worker stops")
            stopping.append(True)
            reactor.stop()

    def relay(action: str, argument: Any) -> Deferred[None] | None:
        end = role.current_channel()
        if end is None:
            return None
        try:
            sent = end.callRemote(Broadcast, action=action, argument=json.dumps(argument))
        except Exception:
            # the change stands here; the command that made it must not fail for this
            log.failure("relaying {action} to the other workers failed", action=action)
            return None
        # fires once every worker applied it; a supervisor that hangs holds nobody long
        sent.addTimeout(RELAY_WAIT, reactor)
        sent.addErrback(lambda f: log.debug("relay of {action} lost: {f}", action=action, f=f))
        return sent.addCallback(lambda _: None)

    role.shared.connect(relay)

    def switch_log(fd: int) -> None:
        # the supervisor reopened its log file (SIGUSR1): our standard output follows
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)

    end = WorkerEnd(
        role.link_state,
        role.shared.apply,
        lost,
        switch_log,
        role.scrape_local,
        role.link_event,
    )
    role.channel = end

    application = Application("xmpp-gateway worker")
    service = build_service(config, reactor, {"nodaemon": True, "logfile": "-"}, worker=role)
    service.setServiceParent(application)
    observer = ILogObserver(application, None)
    if observer is not None:
        globalLogBeginner.beginLoggingTo([tagged(observer, args.worker)], redirectStandardIO=False)

    # the channel is a socket pair the supervisor made; adopting it dups the descriptor
    reactor.adoptStreamConnection(args.channel, socket.AF_UNIX, Factory.forProtocol(lambda: end))
    os.close(args.channel)

    def stop_marker() -> None:
        stopping.append(True)

    reactor.addSystemEventTrigger("before", "shutdown", stop_marker)
    IService(application).privilegedStartService()
    for fd, _ in sockets.values():
        # adopted (duplicated) by now
        os.close(fd)
    startApplication(application, False)
    end.callRemote(Ready)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
