"""The supervisor: what ``twistd xmpp-gateway`` runs when ``gateway.workers`` is more than 1.

It does no request work itself.  It

- opens every listener (a busy port stops it at once, as it stops the
  single-process daemon), stops accepting on them and hands them to the
  workers, which accept in turn;
- brings the store's schema up to date once, before any worker starts;
- owns the component link and drains the shared outbound queue: exactly one
  process writes to the XMPP server;
- runs N workers (:mod:`gateway.workers.child`) and starts again one that
  exits unexpectedly, logged, waiting longer after each quick failure so a
  crash loop does not spin;
- answers its workers over their channels (:class:`LinkOwner`): sends the IQs
  they wait for, stores the stanzas they queue, pushes the link's
  state to them and passes each shared change on to the others;
- passes SIGHUP on to every worker (and reloads its own log level); SIGUSR1
  reopens its log, which holds the workers' lines too; SIGTERM stops the
  workers (each answers what it is serving, within ``shutdown_grace``), then
  itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, fail, succeed
from twisted.internet.interfaces import IListeningPort, IProtocolFactory
from twisted.internet.protocol import Factory, ProcessProtocol, Protocol
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from gateway.backends.embedded.outbox import StoreOutbox
from gateway.backends.embedded.startup import open_embedded
from gateway.backends.embedded.store import Store, Tx
from gateway.config.errors import ConfigError
from gateway.config.model import Config
from gateway.config.permissions_parse import permissions_from_config
from gateway.engine.errors import Unavailable
from gateway.hangup import HangupReload
from gateway.logreopen import LogReopen
from gateway.logs import LogLevelControl
from gateway.metrics import GatewayMetrics
from gateway.offload import ThreadOffload
from gateway.reload import ConfigReloader
from gateway.service import (
    GatewayService,
    StoreCloser,
    component_link,
    ctl_socket_endpoint,
    prepare_socket_dir,
)
from gateway.workers.channel import (
    Apply,
    LinkEvent,
    LinkUpdate,
    OwnerEnd,
    ReopenLog,
    Scrape,
)
from gateway.workers.sockets import stop_accepting
from gateway.xmpp.link import ComponentLink

__all__ = ["LinkOwner", "SupervisorService", "WorkerPool", "build_supervisor"]

log = Logger()
T = TypeVar("T")

#: seconds between two pushes of a changed link state
STATE_PUSH_INTERVAL = 0.25
#: seconds between two looks at the shared queue that no worker asked for
QUEUE_LOOK_INTERVAL = 5.0
#: messages from the server kept for workers that start after the link came up
MAX_REPLAYED = 32
#: seconds a worker has to answer the supervisor (its metrics, a change applied)
SCRAPE_TIMEOUT = 2.0
#: a worker that ran this long before exiting was not crash-looping
STABLE_AFTER = 10.0
#: the longest wait before starting a failed worker again
MAX_RESTART_DELAY = 30.0
#: seconds beyond the grace period after which a worker that will not stop is killed
KILL_MARGIN = 5.0
#: longest line copied from a worker's output into the log
MAX_LINE = 65536


class SupervisorService(GatewayService):
    """The daemon as a supervisor: opens the listeners for its workers, then runs them.

    Listening is :class:`GatewayService`'s (same checks, same one-line error);
    each socket is then put aside for the workers instead of being served.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: endpoint string -> (fd, address family) of each listening socket
        self.sockets: dict[str, tuple[int, int]] = {}
        self._raw: Any = None
        self.pool: WorkerPool | None = None
        self.owner: LinkOwner | None = None

    def _listen(self, name: str, description: str, factory: IProtocolFactory) -> IListeningPort:
        port = super()._listen(name, description, factory)
        self.sockets[description] = stop_accepting(port)
        return port

    def _log_observer(self) -> Any:
        observer = super()._log_observer()
        if observer is not None:
            self._raw = self._log_file if self._log_file is not None else sys.stdout
        return observer

    def log_fd(self) -> int | None:
        """The descriptor of the log file (or standard output) the workers write to directly.

        ``None`` when the log goes to an observer twistd was given
        (``--logger``): then workers' lines are copied in line by line.
        """
        if self._raw is None:
            return None
        stream = self._raw._file if self._raw is self._log_file else self._raw
        return int(stream.fileno())

    def reopen_log(self) -> str | None:
        """Reopen the log file here, then hand the new file to every worker."""
        path = super().reopen_log()
        fd = self.log_fd()
        if path is not None and fd is not None and self.owner is not None:
            # logrotate's next move, and the tests, can wait for this line
            self.owner.send_log_fd(fd).addCallback(
                lambda numbers: log.info(
                    "SIGUSR1: workers {numbers} write to the new log file",
                    numbers=", ".join(map(str, numbers)) or "(none)",
                )
            )
        return path

    def write_line(self, line: str) -> None:
        """Log a line a worker wrote to its standard output (formatted, naming the worker).

        Only with twistd's ``--logger``: otherwise workers write into the log themselves.
        """
        log.info("{line}", line=line)

    def stopService(self) -> Deferred[Any]:  # noqa: N802 - Twisted's name
        """Stop the workers first (they finish their requests), then the link and the store.

        The supervisor's copies of the listening sockets close at once: once the
        workers close theirs, new connections are refused, as by one process.
        """
        for port in self._ports:
            port.stopListening()
        self._ports.clear()
        stopped: Deferred[Any] = succeed(None) if self.pool is None else self.pool.stop_all()

        def stop_the_rest(_: object) -> Deferred[Any]:
            return GatewayService.stopService(self)

        return stopped.addCallback(stop_the_rest)


class LinkOwner(Service):
    """The supervisor's side of every worker channel (see :class:`~gateway.workers.channel.Owner`).

    Args:
        link: the component link, ``None`` when no component is configured.
        clock: times the state pushes and the looks at the queue.
        levels: the supervisor's log level (workers started later get it).
        reload: reloads the supervisor's own configuration (a relayed ``reload_config``).
        metrics: the supervisor's own metrics (the link's), added to the workers' ones.
    """

    def __init__(
        self,
        link: ComponentLink | None,
        clock: Any,
        levels: LogLevelControl,
        reload: Callable[[], object],
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._link = link
        self._metrics = metrics
        self._levels = levels
        self._reload = reload
        self.ends: list[OwnerEnd] = []
        #: told the number of each worker that reports it serves
        self.on_ready: Callable[[int], None] = lambda number: None
        self._pushed: str | None = None
        self._soon: Any = None
        #: the messages since the link last came up, for workers that start later
        self._since_up: list[str] = []
        if link is not None:
            link.on_up(self._link_up)
            link.on_message(self._link_message)
        self._clock = clock
        self._push = LoopingCall(self.push_state)
        self._push.clock = clock
        self._look = LoopingCall(self.wake)
        self._look.clock = clock

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        if self._link is not None:
            self._push.start(STATE_PUSH_INTERVAL, now=False)
            self._look.start(QUEUE_LOOK_INTERVAL, now=False)

    def stopService(self) -> None:  # noqa: N802 - Twisted's name
        for call in (self._push, self._look):
            if call.running:
                call.stop()
        if self._soon is not None and self._soon.active():
            self._soon.cancel()
        self._soon = None
        super().stopService()

    # -- workers coming and going -------------------------------------------------------------

    def attach(self, end: OwnerEnd) -> None:
        """A worker's channel is up: give it the link's state (and, when the link is up, what
        a listener would have heard since it came up) and the current log level."""
        self.ends.append(end)
        payload = self._state_payload()
        if payload is not None:
            end.callRemote(LinkUpdate, state=payload)
        if self._link is not None and self._link.state().connected:
            end.callRemote(LinkEvent, kind="up", stanza="")
            for message in self._since_up:
                end.callRemote(LinkEvent, kind="message", stanza=message)
        sent = end.callRemote(Apply, action="loglevel", argument=json.dumps(self._levels.get()))
        sent.addErrback(_ignore_lost)

    def send_log_fd(self, fd: int) -> Deferred[list[int]]:
        """Give every worker the log file's new descriptor; fires with the numbers of the
        workers that took it (a worker that went away or hangs is left out)."""

        def taken(_: object, number: int) -> int:
            return number

        def missed(failure: Failure, number: int) -> None:
            log.warn(
                "worker {number} did not take the new log file: {error}",
                number=number,
                error=failure.getErrorMessage(),
            )

        sent = [
            end.callRemote(ReopenLog, fd=fd)
            .addTimeout(SCRAPE_TIMEOUT, self._clock)
            .addCallbacks(taken, missed, callbackArgs=(end.worker,), errbackArgs=(end.worker,))
            for end in self.ends
        ]
        gathered = DeferredList(sent, consumeErrors=True)
        return gathered.addCallback(
            lambda results: [n for ok, n in results if ok and n is not None]
        )

    def _link_up(self) -> None:
        self._since_up = []
        self._tell_all("up", "")

    def _link_message(self, text: str) -> None:
        # privileges (XEP-0356) are announced once per stream: a later worker needs them
        self._since_up = [*self._since_up, text][-MAX_REPLAYED:]
        self._tell_all("message", text)

    def _tell_all(self, kind: str, stanza: str) -> None:
        for end in list(self.ends):
            try:
                end.callRemote(LinkEvent, kind=kind, stanza=stanza)
            except Exception:
                log.failure("worker {number}: cannot pass a link event on", number=end.worker)

    def lost(self, end: OwnerEnd) -> None:
        if end in self.ends:
            self.ends.remove(end)

    # -- what workers ask -----------------------------------------------------------------------

    def ready(self, end: OwnerEnd) -> None:
        self.on_ready(end.worker)

    def wake(self) -> None:
        """Look at the shared queue again (a stopping worker may have appended to it)."""
        if self._link is not None:
            self._link.wake()

    def _queue_grew(self) -> None:
        # the workers' /health and status hear it now, not at the next tick
        if self._soon is None:
            self._soon = self._clock.callLater(0, self._push_soon)

    def _push_soon(self) -> None:
        self._soon = None
        self.push_state()

    def iq(self, stanza: str, timeout: float) -> Deferred[str]:
        if self._link is None:
            return fail(Unavailable("no XMPP component link is configured"))
        return self._link.iq(stanza, timeout)

    def queue(self, stanza: str) -> Deferred[None]:
        if self._link is None:
            return fail(Unavailable("no XMPP component link is configured"))
        stored = self._link.queue_prepared(stanza)
        return stored.addCallback(lambda _: self._queue_grew())

    def broadcast(self, action: str, argument: str, source: OwnerEnd) -> Deferred[None]:
        """Apply a worker's change here, then in every other worker; fires when all did."""
        self._apply_here(action, argument)
        sent = [
            end.callRemote(Apply, action=action, argument=argument)
            # a worker that hangs must not hold the others' answer
            .addTimeout(SCRAPE_TIMEOUT, self._clock)
            .addErrback(_ignore_lost)
            for end in self.ends
            if end is not source
        ]
        return DeferredList(sent, consumeErrors=True).addCallback(lambda _: None)

    def collect_metrics(self) -> Deferred[list[str]]:
        """Every worker's metrics and the supervisor's own (the link's, counted here only);
        a worker that cannot answer in time is left out."""
        asked = [
            end.callRemote(Scrape).addTimeout(SCRAPE_TIMEOUT, self._clock) for end in self.ends
        ]
        if self._metrics is not None:
            own = self._metrics.scrape().addCallback(lambda scraped: {"text": scraped[0].decode()})
            asked.append(own)

        def texts(results: list[tuple[bool, Any]]) -> list[str]:
            return [str(box["text"]) for ok, box in results if ok]

        return DeferredList(asked, consumeErrors=True).addCallback(texts)

    def _apply_here(self, action: str, argument: str) -> None:
        if action == "loglevel":
            self._levels.set(str(json.loads(argument)))
        elif action == "reload":
            try:
                self._reload()
            except ConfigError as e:
                log.error("reload_config: not reloaded in the supervisor: {error}", error=str(e))

    # -- the link's state -----------------------------------------------------------------------

    def _state_payload(self) -> str | None:
        if self._link is None:
            return None
        return json.dumps(
            {"state": self._link.state().as_dict(), "lines": self._link.status_lines()}
        )

    def push_state(self) -> None:
        """Send the link's state to every worker if it changed since the last push."""
        payload = self._state_payload()
        if payload is None or payload == self._pushed:
            return
        self._pushed = payload
        for end in list(self.ends):
            try:
                end.callRemote(LinkUpdate, state=payload)
            except Exception:
                log.debug("could not push the link state to worker {n}", n=end.worker)


def _ignore_lost(failure: Failure) -> None:
    """A worker that went away meanwhile misses the change; its successor starts afresh."""
    log.debug("worker channel: {error}", error=failure.getErrorMessage())


class _WorkerOutput(ProcessProtocol):
    """One worker process: its output into the supervisor's log, its end reported to the pool."""

    def __init__(self, pool: WorkerPool, number: int) -> None:
        self.pool = pool
        self.number = number
        self.pid: int | None = None
        self.started = 0.0
        self.end: OwnerEnd | None = None
        #: the worker serves (and handles signals)
        self.ready = False
        #: a SIGHUP came before it was ready: it gets one once it is
        self.hangup_pending = False
        self._buffers: dict[int, bytes] = {}

    def connectionMade(self) -> None:  # noqa: N802 - Twisted's name
        self.pid = self.transport.pid if self.transport is not None else None

    def childDataReceived(self, childFD: int, data: bytes) -> None:  # noqa: N802, N803
        buffered = self._buffers.get(childFD, b"") + data
        *lines, rest = buffered.split(b"\n")
        if len(rest) > MAX_LINE:
            lines.append(rest)
            rest = b""
        self._buffers[childFD] = rest
        for line in lines:
            self._line(childFD, line.decode("utf-8", "replace"))

    def _line(self, fd: int, text: str) -> None:
        if fd == 1:
            # the worker's own log line: formatted and tagged by the worker
            self.pool.write_line(text)
        elif text.strip():
            # outside its log (a traceback before logging began)
            log.warn("worker {number}: {text}", number=self.number, text=text)

    def processEnded(self, reason: Failure) -> None:  # noqa: N802 - Twisted's name
        for fd, rest in self._buffers.items():
            if rest:
                self._line(fd, rest.decode("utf-8", "replace"))
        self._buffers.clear()
        self.pool.ended(self, reason)


class WorkerPool(Service):
    """Runs ``count`` workers, starts again those that exit, stops them all on request.

    Args:
        reactor: spawns the processes and times the restarts.
        count: how many workers.
        config_path: the configuration file the workers read.
        sockets: endpoint string -> (fd, family) of the listening sockets to hand on.
        owner: answers the workers' channels.
        write_line: copies a worker's log line into the log (when ``log_fd`` gives none).
        log_fd: the log's descriptor, which workers write to directly.
        grace: the workers' ``shutdown_grace``.
    """

    def __init__(
        self,
        reactor: Any,
        count: int,
        config_path: str,
        sockets: Mapping[str, tuple[int, int]],
        owner: LinkOwner,
        write_line: Callable[[str], None],
        grace: float,
        log_fd: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._reactor = reactor
        self._count = count
        self._config_path = config_path
        self._sockets = sockets
        self._owner = owner
        self.write_line = write_line
        self._log_fd = log_fd
        self._grace = grace
        self.live: dict[int, _WorkerOutput] = {}
        #: quick failures in a row, per worker number
        self._failures: dict[int, int] = {}
        self._restarts: dict[int, Any] = {}
        self._stopping = False
        self._all_gone: list[Deferred[None]] = []
        self._kill_timer: Any = None

    def startService(self) -> None:  # noqa: N802 - Twisted's name
        super().startService()
        for number in range(1, self._count + 1):
            self.spawn(number)

    def stopService(self) -> Deferred[None]:  # noqa: N802 - Twisted's name
        super().stopService()
        return self.stop_all()

    # -- starting ---------------------------------------------------------------------------

    def spawn(self, number: int) -> None:
        """Start worker ``number`` with the listening sockets and a fresh channel."""
        self._restarts.pop(number, None)
        if self._stopping:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        log_fd = self._log_fd()
        # a worker's log lines go straight into the log file (one open file shared by
        # all, so lines never overwrite each other); its stderr is read and logged here
        child_fds: dict[int, int | str] = {
            0: "w",
            1: "r" if log_fd is None else log_fd,
            2: "r",
            theirs.fileno(): theirs.fileno(),
        }
        for fd, _ in self._sockets.values():
            child_fds[fd] = fd
        argv = [
            sys.executable,
            "-m",
            "gateway.workers.child",
            "--config",
            self._config_path,
            "--worker",
            str(number),
            "--channel",
            str(theirs.fileno()),
            "--sockets",
            json.dumps({k: list(v) for k, v in self._sockets.items()}),
        ]
        process = _WorkerOutput(self, number)
        try:
            self._reactor.spawnProcess(
                process,
                sys.executable,
                argv,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                childFDs=child_fds,
            )
        except Exception:
            log.failure("worker {number}: could not be started", number=number)
            self._failures[number] = self._failures.get(number, 0) + 1
            ours.close()
            theirs.close()
            self._schedule(number)
            return
        finally:
            theirs.close()
        process.started = self._reactor.seconds()
        end = OwnerEnd(self._owner, number)
        process.end = end
        self._reactor.adoptStreamConnection(
            ours.fileno(), socket.AF_UNIX, Factory.forProtocol(lambda: end)
        )
        ours.close()
        self._owner.attach(end)
        self.live[number] = process
        log.info("worker {number} started (pid {pid})", number=number, pid=process.pid)

    def _schedule(self, number: int) -> None:
        failures = self._failures.get(number, 0)
        delay = 0.0 if failures == 0 else min(MAX_RESTART_DELAY, 0.5 * 2 ** (failures - 1))
        self._restarts[number] = self._reactor.callLater(delay, self.spawn, number)
        if failures:
            log.warn(
                "worker {number} failed {failures} time(s) in a row; next start in {delay} s",
                number=number,
                failures=failures,
                delay=delay,
            )

    # -- ending -----------------------------------------------------------------------------

    def ended(self, process: _WorkerOutput, reason: Failure) -> None:
        """A worker process is gone: start it again unless everything is stopping."""
        if self.live.get(process.number) is process:
            del self.live[process.number]
        if process.end is not None and process.end.transport is not None:
            process.end.transport.loseConnection()
        status = reason.value
        code = getattr(status, "exitCode", None)
        sig = getattr(status, "signal", None)
        how = f"signal {sig}" if sig else f"status {code}"
        if self._stopping:
            log.info("worker {number} (pid {pid}) stopped", number=process.number, pid=process.pid)
            if not self.live:
                self._gone()
            return
        ran = self._reactor.seconds() - process.started
        self._failures[process.number] = (
            0 if ran >= STABLE_AFTER else self._failures.get(process.number, 0) + 1
        )
        log.error(
            "worker {number} (pid {pid}) exited unexpectedly ({how}); starting it again",
            number=process.number,
            pid=process.pid,
            how=how,
        )
        self._schedule(process.number)

    def ready(self, number: int) -> None:
        """Worker ``number`` serves now; a SIGHUP it could not take yet is sent."""
        process = self.live.get(number)
        if process is None:
            return
        process.ready = True
        log.info("worker {number} (pid {pid}) ready", number=number, pid=process.pid)
        if process.hangup_pending and process.transport is not None:
            process.hangup_pending = False
            process.transport.signalProcess(signal.SIGHUP)

    def signal_all(self, signum: int) -> None:
        """Send ``signum`` to every live worker.

        A worker still starting would die of SIGHUP (no handler yet): it
        gets the signal once it is ready.
        """
        for process in list(self.live.values()):
            if signum == signal.SIGHUP and not process.ready:
                process.hangup_pending = True
                continue
            if process.transport is not None:
                try:
                    process.transport.signalProcess(signum)
                except Exception:
                    log.debug("worker {number}: cannot signal it", number=process.number)

    def stop_all(self) -> Deferred[None]:
        """SIGTERM every worker; fires once all have exited (killed after the grace period)."""
        waiting: Deferred[None] = Deferred()
        if not self._stopping:
            self._stopping = True
            for call in self._restarts.values():
                if call.active():
                    call.cancel()
            self._restarts.clear()
            if self.live:
                self.signal_all(signal.SIGTERM)
                self._kill_timer = self._reactor.callLater(
                    self._grace + KILL_MARGIN, self._kill_stragglers
                )
        if not self.live:
            waiting.callback(None)
        else:
            self._all_gone.append(waiting)
        return waiting

    def _kill_stragglers(self) -> None:
        self._kill_timer = None
        if self.live:
            log.warn(
                "{count} worker(s) did not stop within the grace period: killing them",
                count=len(self.live),
            )
            self.signal_all(signal.SIGKILL)

    def _gone(self) -> None:
        if self._kill_timer is not None and self._kill_timer.active():
            self._kill_timer.cancel()
        self._kill_timer = None
        waiting, self._all_gone = self._all_gone, []
        for d in waiting:
            d.callback(None)


class OwnerOutbox(StoreOutbox):
    """The shared outbox as its one drainer reads it: in read transactions.

    With several processes writing the store, a read in a write transaction
    would wait for the workers' appends (SQLite has one writer at a time) and
    hold up sending; WAL readers wait for nobody.  Ids are committed in order
    (see the outbox), so a snapshot never misses an id below one it shows.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._reader = store

    def _look(self, query: Callable[[Tx], T]) -> Deferred[T]:
        return self._reader.read(query)


def build_supervisor(
    config: Config, reactor: Any, count: int, twistd_options: Any = None
) -> SupervisorService:
    """Wire ``config`` into a supervisor of ``count`` workers."""
    if config.source is None:
        raise SystemExit("xmpp-gateway: gateway.workers: workers need a configuration file")
    levels = LogLevelControl(config.loglevel)
    limits = config.gateway.limits
    service = SupervisorService(
        reactor,
        levels,
        twistd_options,
        shutdown_grace=limits.shutdown_grace,
        log_format=config.gateway.log_format,
    )
    offload = ThreadOffload(reactor)
    offload.setServiceParent(service)
    # the schema is brought up to date here, once, before any worker opens the store
    _, store = open_embedded(config, reactor, "xmpp-gateway")
    service.addService(StoreCloser(store))
    link = None
    # the link's metrics: its state lives here, and workers would each count it again
    metrics = None
    component = config.gateway.component
    if component is not None:
        outbox = OwnerOutbox(store)
        link = component_link(config, outbox, reactor, offload)
        service.addService(link)
        metrics = GatewayMetrics(process=False)
        metrics.watch_link(link, outbox)
    reloader = ConfigReloader(config, levels=levels, permissions=permissions_from_config(config))
    owner = LinkOwner(link, reactor, levels, reloader.reload, metrics)
    service.addService(owner)
    pool = WorkerPool(
        reactor,
        count,
        config.source,
        service.sockets,
        owner,
        service.write_line,
        limits.shutdown_grace,
        service.log_fd,
    )
    service.pool = pool
    service.owner = owner
    owner.on_ready = pool.ready

    def hangup() -> None:
        pool.signal_all(signal.SIGHUP)
        reloader.reload()

    service.addService(HangupReload(hangup, reactor))
    service.addService(LogReopen(service.reopen_log, reactor))

    for listener in config.listen:
        service.add_listener(
            f"listen[{listener.index}] {listener.describe()}",
            listener.endpoint(),
            lambda: Factory.forProtocol(Protocol),
        )
    socket_path = config.gateway.ctl_socket
    service.before_listen.append(lambda: prepare_socket_dir(socket_path))
    service.add_listener(
        "gatewayctl socket",
        ctl_socket_endpoint(socket_path),
        lambda: Factory.forProtocol(Protocol),
    )
    # last: started once the rest runs; stopped first, explicitly (see stopService)
    service.addService(pool)
    log.info("xmpp-gateway: {count} workers", count=count)
    return service
