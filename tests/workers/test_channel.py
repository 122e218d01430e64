"""The AMP channel between the supervisor and a worker, over an in-memory connection."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.internet.defer import Deferred, fail, succeed
from twisted.test import iosim
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.errors import BadRequest, InternalError, Unavailable
from gateway.stanza import InvalidStanza
from gateway.workers.channel import (
    CHUNK,
    Apply,
    Broadcast,
    LinkUpdate,
    LongText,
    OwnerEnd,
    Queue,
    Ready,
    SendIq,
    WorkerEnd,
)


class FakeOwner:
    """Records what the workers asked of the supervisor."""

    def __init__(self) -> None:
        self.ready_workers: list[int] = []
        self.iqs: list[tuple[str, float]] = []
        self.iq_outcome: Deferred[str] = succeed("<iq type='result'/>")
        self.queued: list[str] = []
        self.queue_outcome: Deferred[None] = succeed(None)
        self.broadcasts: list[tuple[str, str, int]] = []
        self.lost_ends: list[OwnerEnd] = []

    def ready(self, end: OwnerEnd) -> None:
        self.ready_workers.append(end.worker)

    def iq(self, stanza: str, timeout: float) -> Deferred[str]:
        self.iqs.append((stanza, timeout))
        return self.iq_outcome

    def queue(self, stanza: str) -> Deferred[None]:
        self.queued.append(stanza)
        return self.queue_outcome

    def broadcast(self, action: str, argument: str, source: OwnerEnd) -> Deferred[None]:
        self.broadcasts.append((action, argument, source.worker))
        return succeed(None)

    def lost(self, end: OwnerEnd) -> None:
        self.lost_ends.append(end)


def connected() -> tuple[FakeOwner, OwnerEnd, WorkerEnd, list[Any], list[Any], list[bool], Any]:
    owner = FakeOwner()
    states: list[Any] = []
    applied: list[Any] = []
    lost: list[bool] = []
    supervisor_end = OwnerEnd(owner, 3)
    worker_end = WorkerEnd(
        states.append, lambda a, b: applied.append((a, b)), lambda: lost.append(True)
    )
    _, _, pump = iosim.connectedServerAndClient(lambda: supervisor_end, lambda: worker_end)
    return owner, supervisor_end, worker_end, states, applied, lost, pump


class ChannelTests(SynchronousTestCase):
    def test_worker_messages_reach_the_owner(self) -> None:
        """Ready from a worker reaches the owner, naming the worker's number."""
        owner, _, worker, _, _, _, pump = connected()
        worker.callRemote(Ready)
        pump.flush()
        self.assertEqual(owner.ready_workers, [3])

    def test_iq_answer_comes_back(self) -> None:
        """SendIq carries the stanza and timeout to the owner and its answer back."""
        owner, _, worker, _, _, _, pump = connected()
        answers: list[Any] = []
        worker.callRemote(SendIq, stanza="<iq type='get'/>", timeout=7.5).addCallback(
            answers.append
        )
        pump.flush()
        self.assertEqual(owner.iqs, [("<iq type='get'/>", 7.5)])
        self.assertEqual(answers, [{"answer": "<iq type='result'/>"}])

    def test_iq_failures_cross_as_their_kind(self) -> None:
        """Unavailable, a bad stanza and a timeout reach the worker as the same kinds of error,
        with their messages; anything else is an internal error."""
        cases: list[tuple[Exception, type[Exception], str | None]] = [
            (Unavailable("link down"), Unavailable, "link down"),
            (InvalidStanza("not a stanza"), BadRequest, "not a stanza"),
            (TimeoutError(), defer.TimeoutError, None),
            (defer.TimeoutError(), defer.TimeoutError, None),
            (ZeroDivisionError(), InternalError, None),
        ]
        for error, expected, message in cases:
            owner, _, worker, _, _, _, pump = connected()
            owner.iq_outcome = fail(error)
            failures: list[Any] = []
            worker.callRemote(SendIq, stanza="<iq/>", timeout=1.0).addErrback(failures.append)
            pump.flush()
            [failure] = failures
            self.assertIsInstance(failure.value, expected)
            if message is not None:
                self.assertEqual(failure.value.message, message)
        self.flushLoggedErrors(ZeroDivisionError)

    def test_queue_is_answered_once_the_owner_stored(self) -> None:
        """Queue carries the stanza to the owner; its refusal comes back as Unavailable with
        the owner's text, anything else as an internal error."""
        owner, _, worker, _, _, _, pump = connected()
        answers: list[Any] = []
        worker.callRemote(Queue, stanza="<message/>").addCallback(answers.append)
        pump.flush()
        self.assertEqual((owner.queued, answers), (["<message/>"], [{}]))
        for error, expected in (
            (Unavailable("queue full"), Unavailable),
            (OSError(), InternalError),
        ):
            owner, _, worker, _, _, _, pump = connected()
            owner.queue_outcome = fail(error)
            failures: list[Any] = []
            worker.callRemote(Queue, stanza="<message/>").addErrback(failures.append)
            pump.flush()
            self.assertIsInstance(failures[0].value, expected)
        self.assertEqual(failures[0].value.message, "internal_error")
        self.flushLoggedErrors(OSError)

    def test_broadcast_and_apply(self) -> None:
        """A worker's Broadcast reaches the owner; the supervisor's Apply and LinkUpdate reach
        the worker decoded from JSON."""
        owner, supervisor, worker, states, applied, _, pump = connected()
        worker.callRemote(Broadcast, action="loglevel", argument='"debug"')
        supervisor.callRemote(Apply, action="unban", argument='"10.0.0.0/8"')
        supervisor.callRemote(LinkUpdate, state=json.dumps({"state": {}, "lines": ["x"]}))
        pump.flush()
        self.assertEqual(owner.broadcasts, [("loglevel", '"debug"', 3)])
        self.assertEqual(applied, [("unban", "10.0.0.0/8")])
        self.assertEqual(states, [{"state": {}, "lines": ["x"]}])

    def test_a_failing_apply_is_logged_not_fatal(self) -> None:
        """An Apply the worker cannot carry out is logged; the channel keeps working."""
        owner = FakeOwner()
        states: list[Any] = []

        def broken(action: str, argument: Any) -> None:
            raise ValueError(action)

        supervisor = OwnerEnd(owner, 1)
        worker = WorkerEnd(states.append, broken, lambda: None)
        _, _, pump = iosim.connectedServerAndClient(lambda: supervisor, lambda: worker)
        done: list[Any] = []
        supervisor.callRemote(Apply, action="x", argument="null").addCallback(done.append)
        pump.flush()
        self.assertEqual(done, [{}])
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_losing_the_channel_is_reported_on_both_ends(self) -> None:
        """When the connection closes the owner forgets the end and the worker is told."""
        owner, supervisor, worker, _, _, lost, pump = connected()
        self.assertTrue(worker.connected)
        supervisor.transport.loseConnection()
        pump.flush()
        self.assertEqual(owner.lost_ends, [supervisor])
        self.assertEqual(lost, [True])
        self.assertFalse(worker.connected)


class LongTextTests(SynchronousTestCase):
    @given(st.text(max_size=3 * CHUNK // 4))
    def test_round_trip(self, text: str) -> None:
        """Any text survives the trip through an AMP box, in chunks within AMP's value limit."""
        strings: dict[bytes, bytes] = {}
        LongText().toBox(b"stanza", strings, {"stanza": text}, None)
        self.assertTrue(all(len(value) <= 65535 for value in strings.values()))
        objects: dict[str, Any] = {}
        LongText().fromBox(b"stanza", strings, objects, None)
        self.assertEqual(objects, {"stanza": text})

    def test_long_text_is_split(self) -> None:
        """A text longer than one AMP value is split into several chunks and joined again."""
        text = "é" * (CHUNK + 10)  # two bytes each
        strings: dict[bytes, bytes] = {}
        LongText().toBox(b"s", strings, {"s": text}, None)
        self.assertEqual(strings[b"s"], b"3")
        objects: dict[str, Any] = {}
        LongText().fromBox(b"s", strings, objects, None)
        self.assertEqual(objects["s"], text)

    def test_bad_chunk_count_is_refused(self) -> None:
        """A box claiming no chunks or absurdly many is refused."""
        for count in (b"0", b"100000"):
            with self.assertRaises(ValueError):
                LongText().fromBox(b"s", {b"s": count}, {}, None)
