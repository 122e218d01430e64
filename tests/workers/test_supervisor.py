"""The supervisor's parts: LinkOwner (answering workers) and WorkerPool (running them)."""

from __future__ import annotations

import json
import signal
from typing import Any

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionDone, ProcessDone, ProcessTerminated
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.errors import Unavailable
from gateway.logs import LogLevelControl
from gateway.workers.channel import Apply, LinkEvent, LinkUpdate, ReopenLog, Scrape
from gateway.workers.supervisor import KILL_MARGIN, SCRAPE_TIMEOUT, LinkOwner, WorkerPool
from gateway.xmpp.status import LinkState


class FakeEnd:
    """Stands in for an OwnerEnd: records what the supervisor sends."""

    def __init__(self, worker: int) -> None:
        self.worker = worker
        self.sent: list[tuple[Any, dict[str, Any]]] = []
        self.transport: Any = None

    def callRemote(self, command: Any, **arguments: Any) -> Deferred[Any]:  # noqa: N802
        self.sent.append((command, arguments))
        return succeed({})


class FakeLink:
    def __init__(self) -> None:
        self.queued = 0
        self.connected = False
        self.woken = 0
        self.up_listeners: list[Any] = []
        self.message_listeners: list[Any] = []

    def on_up(self, callback: Any) -> None:
        self.up_listeners.append(callback)

    def on_message(self, callback: Any) -> None:
        self.message_listeners.append(callback)

    def state(self) -> LinkState:
        return LinkState(connected=self.connected, since=5.0, queued=self.queued, configured=True)

    def status_lines(self) -> list[str]:
        return [f"{self.queued} queued"]

    def wake(self) -> None:
        self.woken += 1

    def iq(self, stanza: str, timeout: float) -> Deferred[str]:
        return succeed(f"answer to {stanza}")

    def queue_prepared(self, text: str) -> Deferred[None]:
        self.stored = [*getattr(self, "stored", []), text]
        return succeed(None)


def owner(link: FakeLink | None = None) -> tuple[LinkOwner, LogLevelControl, list[int]]:
    levels = LogLevelControl("info")
    reloads: list[int] = []
    return (
        LinkOwner(link, Clock(), levels, lambda: reloads.append(1)),  # type: ignore[arg-type]
        levels,
        reloads,
    )


class LinkOwnerTests(SynchronousTestCase):
    def test_attach_sends_state_and_level(self) -> None:
        """A new worker gets the link's state and the current log level at once."""
        link = FakeLink()
        supervisor, levels, _ = owner(link)
        levels.set("debug")
        end = FakeEnd(1)
        supervisor.attach(end)  # type: ignore[arg-type]
        [(update, pushed), (apply, arguments)] = end.sent
        self.assertIs(update, LinkUpdate)
        self.assertEqual(json.loads(pushed["state"])["lines"], ["0 queued"])
        self.assertEqual((apply, arguments), (Apply, {"action": "loglevel", "argument": '"debug"'}))

    def test_a_workers_stanza_is_stored_by_the_link_here(self) -> None:
        """Queue from a worker stores the prepared stanza through this process's link."""
        link = FakeLink()
        supervisor, _, _ = owner(link)
        done: list[Any] = []
        supervisor.queue("<message/>").addCallback(done.append)
        self.assertEqual((link.stored, done), (["<message/>"], [None]))
        failures: list[Any] = []
        owner(None)[0].queue("<message/>").addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)

    def test_state_is_pushed_when_it_changes(self) -> None:
        """push_state sends to every worker only when the state differs from the last push."""
        link = FakeLink()
        supervisor, _, _ = owner(link)
        ends = [FakeEnd(1), FakeEnd(2)]
        for end in ends:
            supervisor.attach(end)  # type: ignore[arg-type]
            end.sent.clear()
        supervisor.push_state()
        supervisor.push_state()
        link.queued = 4
        supervisor.push_state()
        for end in ends:
            states = [json.loads(arguments["state"]) for _, arguments in end.sent]
            self.assertEqual([s["state"]["queued"] for s in states], [0, 4])

    def test_broadcast_reaches_the_others_and_applies_here(self) -> None:
        """A relayed change goes to every worker but its sender; the supervisor applies the log
        level and reloads itself."""
        supervisor, levels, reloads = owner(None)
        ends = [FakeEnd(n) for n in (1, 2, 3)]
        for end in ends:
            supervisor.attach(end)  # type: ignore[arg-type]
            end.sent.clear()
        done: list[Any] = []
        supervisor.broadcast("loglevel", '"error"', ends[0]).addCallback(done.append)  # type: ignore[arg-type]
        supervisor.broadcast("reload", "null", ends[1])  # type: ignore[arg-type]
        self.assertEqual(done, [None])
        self.assertEqual(levels.get(), "error")
        self.assertEqual(reloads, [1])
        self.assertEqual([a["action"] for _, a in ends[0].sent], ["reload"])
        self.assertEqual([a["action"] for _, a in ends[1].sent], ["loglevel"])
        self.assertEqual([a["action"] for _, a in ends[2].sent], ["loglevel", "reload"])

    def test_lost_worker_gets_nothing_more(self) -> None:
        """A worker whose channel closed is left out of later broadcasts."""
        supervisor, _, _ = owner(None)
        end = FakeEnd(1)
        supervisor.attach(end)  # type: ignore[arg-type]
        supervisor.lost(end)  # type: ignore[arg-type]
        end.sent.clear()
        supervisor.broadcast("clear_cache", "null", FakeEnd(2))  # type: ignore[arg-type]
        self.assertEqual(end.sent, [])

    def test_log_file_handover_names_who_took_it(self) -> None:
        """The new log file goes to every worker; the answer names the workers that took it,
        leaving out one whose channel failed and one that stays silent past the timeout."""
        clock = Clock()
        supervisor = LinkOwner(None, clock, LogLevelControl("info"), lambda: None)
        took, broken, silent = FakeEnd(1), FakeEnd(2), FakeEnd(3)
        broken.callRemote = lambda command, **arguments: fail(ConnectionDone())  # type: ignore[method-assign]
        silent.callRemote = lambda command, **arguments: Deferred()  # type: ignore[method-assign]
        for end in (took, broken, silent):
            supervisor.attach(end)  # type: ignore[arg-type]
        took.sent.clear()
        numbers: list[list[int]] = []
        supervisor.send_log_fd(7).addCallback(numbers.append)
        self.assertEqual((numbers, took.sent), ([], [(ReopenLog, {"fd": 7})]))
        clock.advance(SCRAPE_TIMEOUT)
        self.assertEqual(numbers, [[1]])

    def test_link_requests(self) -> None:
        """wake and iq go to the link; without one, an IQ is Unavailable."""
        link = FakeLink()
        supervisor, _, _ = owner(link)
        supervisor.wake()
        answers: list[Any] = []
        supervisor.iq("<iq/>", 1.0).addCallback(answers.append)
        self.assertEqual((link.woken, answers), (1, ["answer to <iq/>"]))
        failures: list[Any] = []
        owner(None)[0].iq("<iq/>", 1.0).addErrback(failures.append)
        self.assertIsInstance(failures[0].value, Unavailable)


class FakeTransport:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.signals: list[int] = []

    def signalProcess(self, signum: int) -> None:  # noqa: N802 - Twisted's name
        self.signals.append(signum)


class FakeReactor(Clock):
    """A clock that records spawned processes and adopted connections."""

    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[tuple[Any, list[str], dict[int, Any]]] = []
        self.adopted = 0
        self._pids = iter(range(1000, 2000))

    def spawnProcess(  # noqa: N802 - Twisted's name
        self, process: Any, executable: str, args: list[str], env: Any, childFDs: Any
    ) -> Any:
        transport = FakeTransport(next(self._pids))
        process.makeConnection(transport)
        self.spawned.append((process, args, childFDs))
        return transport

    def adoptStreamConnection(self, fd: int, family: Any, factory: Any) -> None:  # noqa: N802
        self.adopted += 1
        factory.buildProtocol(None).makeConnection(StringTransport())


class PoolTests(SynchronousTestCase):
    def setUp(self) -> None:
        self.reactor = FakeReactor()
        self.supervisor, _, _ = owner(None)
        self.lines: list[str] = []
        self.pool = WorkerPool(
            self.reactor,
            2,
            "/etc/gateway.yml",
            {"tcp:5280": (7, 2), "unix:/run/ctl.sock": (8, 1)},
            self.supervisor,
            self.lines.append,
            grace=10.0,
        )

    def crash(self, number: int, how: Failure | None = None) -> None:
        process = self.pool.live[number]
        process.processEnded(how or Failure(ProcessTerminated(signal=9)))

    def test_starts_workers_with_the_sockets(self) -> None:
        """Each worker is started with its number, the config and the listening sockets kept at
        their descriptor numbers, plus its own channel."""
        self.pool.startService()
        self.assertEqual(sorted(self.pool.live), [1, 2])
        for number, (_, args, fds) in enumerate(self.reactor.spawned, 1):
            self.assertEqual(args[1:3], ["-m", "gateway.workers.child"])
            self.assertEqual(args[args.index("--worker") + 1], str(number))
            self.assertEqual(args[args.index("--config") + 1], "/etc/gateway.yml")
            self.assertEqual(fds[7], 7)
            self.assertEqual(fds[8], 8)
            channel = int(args[args.index("--channel") + 1])
            self.assertEqual(fds[channel], channel)
            self.assertEqual(
                json.loads(args[args.index("--sockets") + 1]),
                {"tcp:5280": [7, 2], "unix:/run/ctl.sock": [8, 1]},
            )
        self.assertEqual((self.reactor.adopted, len(self.supervisor.ends)), (2, 2))

    def test_output_lines_go_to_the_log(self) -> None:
        """A worker's standard output is copied line by line, a partial line once complete."""
        self.pool.startService()
        process = self.pool.live[1]
        process.childDataReceived(1, b"first line\nsecond ")
        process.childDataReceived(1, b"half\n")
        self.assertEqual(self.lines, ["first line", "second half"])

    def test_crashed_worker_is_restarted_with_growing_delays(self) -> None:
        """A worker dying soon after its start comes back after 0.5 s, then 1 s, then 2 s; one
        that ran a while comes back at once."""
        self.pool.startService()
        delays = []
        for _ in range(3):
            self.crash(1)
            self.assertNotIn(1, self.pool.live)
            [call] = self.reactor.getDelayedCalls()
            delays.append(call.getTime() - self.reactor.seconds())
            self.reactor.advance(delays[-1])
            self.assertIn(1, self.pool.live)
        self.assertEqual(delays, [0.5, 1.0, 2.0])
        self.reactor.advance(60)
        self.crash(1, Failure(ProcessDone(0)))
        [call] = self.reactor.getDelayedCalls()
        self.assertEqual(call.getTime(), self.reactor.seconds())
        self.assertEqual(len(self.flushLoggedErrors()), 0)

    def test_stop_all_terminates_then_kills(self) -> None:
        """stop_all sends SIGTERM to every worker, restarts none, kills those still there after
        the grace period, and fires once all have ended."""
        self.pool.startService()
        transports = [self.pool.live[n].transport for n in (1, 2)]
        stopped: list[Any] = []
        self.pool.stop_all().addCallback(stopped.append)
        self.assertEqual([t.signals for t in transports], [[signal.SIGTERM]] * 2)  # type: ignore[union-attr]
        self.crash(1, Failure(ProcessDone(0)))
        self.reactor.advance(10.0 + KILL_MARGIN)
        self.assertEqual(transports[1].signals, [signal.SIGTERM, signal.SIGKILL])  # type: ignore[union-attr]
        self.assertEqual(stopped, [])
        self.crash(2)
        self.assertEqual(stopped, [None])
        self.assertEqual(len(self.reactor.spawned), 2)
        self.assertEqual(self.reactor.getDelayedCalls(), [])

    def test_hangup_waits_for_a_starting_worker(self) -> None:
        """SIGHUP reaches ready workers at once and a starting one when it reports ready."""
        self.pool.startService()
        self.pool.ready(1)
        self.pool.signal_all(signal.SIGHUP)
        first, second = (self.pool.live[n].transport for n in (1, 2))
        self.assertEqual((first.signals, second.signals), ([signal.SIGHUP], []))  # type: ignore[union-attr]
        self.pool.ready(2)
        self.assertEqual(second.signals, [signal.SIGHUP])  # type: ignore[union-attr]


class CollectTests(SynchronousTestCase):
    def test_collects_every_worker_skipping_failures(self) -> None:
        """collect_metrics asks each worker for its text; one that fails is left out."""
        from twisted.internet.defer import fail

        supervisor, _, _ = owner(None)

        class Answering(FakeEnd):
            def __init__(self, worker: int, outcome: Deferred[Any]) -> None:
                super().__init__(worker)
                self.outcome = outcome

            def callRemote(self, command: Any, **arguments: Any) -> Deferred[Any]:  # noqa: N802
                return self.outcome if command is Scrape else succeed({})

        for number, outcome in (
            (1, succeed({"text": "a 1\n"})),
            (2, fail(ConnectionError())),
            (3, succeed({"text": "b 2\n"})),
        ):
            supervisor.attach(Answering(number, outcome))  # type: ignore[arg-type]
        texts: list[Any] = []
        supervisor.collect_metrics().addCallback(texts.append)
        self.assertEqual(texts, [["a 1\n", "b 2\n"]])


class WakeTests(SynchronousTestCase):
    def test_queued_stanzas_are_pushed_at_once(self) -> None:
        """A worker's queued stanzas are stored by the link here and the new state goes out
        in the same turn of the loop, once however many arrive together."""
        link = FakeLink()
        clock = Clock()
        supervisor = LinkOwner(link, clock, LogLevelControl("info"), lambda: None)  # type: ignore[arg-type]
        end = FakeEnd(1)
        supervisor.attach(end)  # type: ignore[arg-type]
        end.sent.clear()
        for _ in range(3):
            link.queued += 1
            supervisor.queue("<message/>")
        self.assertEqual(link.stored, ["<message/>"] * 3)
        clock.advance(0)
        [(command, arguments)] = end.sent
        self.assertIs(command, LinkUpdate)
        self.assertEqual(json.loads(arguments["state"])["state"]["queued"], 3)
        supervisor.wake()  # a look at the queue, nothing new: nothing pushed
        clock.advance(0)
        self.assertEqual(len(end.sent), 1)


class LinkEventTests(SynchronousTestCase):
    def test_events_reach_workers_and_are_replayed_to_late_ones(self) -> None:
        """The link coming up and the messages it gets go to every worker; a worker attached
        later, while the link is up, hears "up" and the messages since then, in order."""
        link = FakeLink()
        supervisor, _, _ = owner(link)
        early = FakeEnd(1)
        supervisor.attach(early)  # type: ignore[arg-type]
        early.sent.clear()
        link.connected = True
        [up] = link.up_listeners
        [message] = link.message_listeners
        message("<message id='old'/>")
        up()
        message("<message id='m1'/>")
        message("<message id='m2'/>")
        events = [(a["kind"], a["stanza"]) for c, a in early.sent if c is LinkEvent]
        self.assertEqual(
            events,
            [
                ("message", "<message id='old'/>"),
                ("up", ""),
                ("message", "<message id='m1'/>"),
                ("message", "<message id='m2'/>"),
            ],
        )
        late = FakeEnd(2)
        supervisor.attach(late)  # type: ignore[arg-type]
        replayed = [(a["kind"], a["stanza"]) for c, a in late.sent if c is LinkEvent]
        self.assertEqual(
            replayed,
            [("up", ""), ("message", "<message id='m1'/>"), ("message", "<message id='m2'/>")],
        )

    def test_no_replay_while_the_link_is_down(self) -> None:
        """A worker attached while the link is down hears no "up"."""
        link = FakeLink()
        supervisor, _, _ = owner(link)
        link.message_listeners[0]("<message/>")
        end = FakeEnd(1)
        supervisor.attach(end)  # type: ignore[arg-type]
        self.assertEqual([c for c, _ in end.sent if c is LinkEvent], [])
