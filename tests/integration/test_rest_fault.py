"""Nothing posted to /rest is lost when the XMPP server and the gateway go down.

One thousand messages, with bodies ``"0"`` … ``"999"``, are posted to ``bob`` through the
gateway's ``/rest`` (over four keep-alive connections) while the private XMPP server,
ejabberd and then Prosody, is stopped in the middle of the traffic and the gateway itself is
restarted on the same store.

What the gateway promises, and what this test checks, is *acceptance by the server*: a
stanza leaves the durable queue only once the server has answered a ping the link wrote
after it on the same stream, and the server handles a component stream in order.  Delivery
to a client is the server's business, and a server that is shutting down does lose
messages it has already accepted for an online recipient (ejabberd hands a message to the
recipient's session process, answers the next ping, and then ends that process before it
has written the message to the client).  So the test does not count what a logged-in
client happens to receive across the restart.  ``bob`` stays logged out while the traffic
runs: the server stores every message it accepts for him offline (mod_offline, on both
servers) before it handles the next stanza of the stream, hence before it answers the ping
that confirms the message.  Offline storage is thus the server's own durable record of what
it accepted.  Once the gateway's queue has drained (every stanza confirmed), ``bob`` logs
in and the server hands him that record.  It must hold every message, each with one
origin-id of its own, in the order the gateway accepted them: a message answered ``200 Ok``
before another was posted comes first (messages posted at the same moment on different
connections have no order to keep).

Shortly before the server is stopped, a relay between the link and the server stops
passing what the link writes, as a server that has stopped reading would, and throws it
away when the stream goes: the link has then written stanzas that the server never saw,
and a link that forgot them would lose them; they must be sent again.  (Freezing the server
with SIGSTOP, as this test once did, does not do that reliably: once thawed, the server
often reads and handles what was written before it handles its own shutdown.)  Then, on
the restarted gateway, the relay cuts the stream twice: once after withholding the
server's answers, so that the server has taken stanzas the link holds no confirmation
for, which are sent again and taken twice, each copy with the same origin-id; and once
after holding back what the link writes, so that the link, still running, must send on
its next stream what the server never saw.  The link writes at most
``window × batch_size`` (4 × 100) stanzas ahead of the ping that confirms them, so only
stanzas in flight when a stream dropped may be taken twice, at most that many per dropped
stream.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.daemon import Daemon, free_port, running_daemon
from tests.integration.servers import XmppServer
from tests.integration.xmppclient import ReceivedMessage, Receiver

TOTAL = 1000
CONNECTIONS = 4
# the link's defaults: stanzas per confirmation ping, pings outstanding at once
BATCH_SIZE, WINDOW = 100, 4


@dataclass
class Post:
    """One POST of message ``n``: when it was sent and answered, and the answer."""

    n: int
    started: float = 0.0
    answered: float = 0.0
    status: int = 0
    text: str = ""


def health(gateway: Daemon) -> tuple[int, dict[str, Any]]:
    """``GET /health``: the status and the JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", gateway.http_port, timeout=5)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def wait_for_health(gateway: Daemon, status: int, timeout: float = 30) -> dict[str, Any]:
    """Wait until ``/health`` answers ``status``; its body then."""
    deadline = time.monotonic() + timeout
    while True:
        code, body = health(gateway)
        if code == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/health still answers {code} {body}, not {status}")
        time.sleep(0.1)


def wait_until_drained(gateway: Daemon, timeout: float = 30) -> None:
    """Wait until the link is up and its queue is empty (every stanza confirmed)."""
    deadline = time.monotonic() + timeout
    while True:
        code, body = health(gateway)
        if code == 200 and body["xmpp_component"]["queued"] == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbound queue did not drain: {code} {body}")
        time.sleep(0.1)


class Relay:
    """A TCP relay between the gateway's link and the server's component port.

    ``stall(writes=True)`` makes the connections open now stop passing what the link
    writes, as a server that has stopped reading would: the link goes on writing and the
    relay holds those bytes (``discarded``).  ``stall(answers=True)`` makes them stop
    passing what the server sends back: the server reads and handles what the link writes,
    but the link never sees the answers to its pings (``withheld``).  Later connections
    pass everything.  When a connection ends, by either side or by ``cut()``, whatever it
    held is thrown away.  While the server is down a new connection is closed at once, as
    a refused one would be.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        #: what the link wrote that the server never saw
        self.discarded = bytearray()
        #: what the server sent that the link never saw
        self.withheld = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        #: (link side, server side) of every open connection
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        #: sockets whose incoming bytes are held instead of passed on
        self._stalled: set[socket.socket] = set()
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    def stall(self, *, writes: bool = False, answers: bool = False) -> None:
        with self._lock:
            for link, server in self._pairs:
                if writes:
                    self._stalled.add(link)
                if answers:
                    self._stalled.add(server)

    def cut(self) -> None:
        """End every open connection, as a broken network would."""
        with self._lock:
            pairs = list(self._pairs)
        for link, server in pairs:
            _shut(link)
            _shut(server)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        _shut(self.listener)
        self.cut()

    def discarded_bodies(self) -> set[int]:
        """The bodies of the messages the link wrote that the server never saw."""
        text = self.discarded.decode(errors="replace")
        return {int(body) for body in re.findall(r"<body>(\d+)</body>", text)}

    def withheld_pings(self) -> set[str]:
        """The ids of the link's pings that the server answered, unseen by the link."""
        text = self.withheld.decode(errors="replace")
        return set(re.findall(r"""id=["'](gw-ping-[^"']+)["']""", text))

    def _accept(self) -> None:
        while True:
            try:
                link, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                _shut(link)
                continue
            server.settimeout(None)
            pair = (link, server)
            with self._lock:
                if self._closed:
                    _shut(link)
                    _shut(server)
                    return
                self._pairs.add(pair)
            for source, sink, held in (
                (link, server, self.discarded),
                (server, link, self.withheld),
            ):
                threading.Thread(
                    target=self._pump, args=(pair, source, sink, held), daemon=True
                ).start()

    def _pump(
        self,
        pair: tuple[socket.socket, socket.socket],
        source: socket.socket,
        sink: socket.socket,
        held: bytearray,
    ) -> None:
        try:
            while data := source.recv(65536):
                with self._lock:
                    stalled = source in self._stalled
                    if stalled:
                        held += data
                if not stalled:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            # either side ending ends the connection; what was held is never passed on
            _shut(source)
            _shut(sink)
            with self._lock:
                self._pairs.discard(pair)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def wait_for_answers(poster: Poster, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while poster.answered() < count:
        assert time.monotonic() < deadline, f"fewer than {count} POSTs answered in {timeout}s"
        time.sleep(0.005)


def stanza(to: str, n: int) -> bytes:
    return f'<message to="{to}" from="localhost/rest"><body>{n}</body></message>'.encode()


class Poster:
    """Posts messages to /rest over a few keep-alive connections, each one POST at a time.

    Workers take the numbers in increasing order from one shared iterator, so a message is
    never posted before a smaller number was taken; ``posts`` records every exchange.
    """

    def __init__(self, port: int, to: str, numbers: Iterable[int]) -> None:
        self.port = port
        self.to = to
        self.posts: list[Post] = []
        self._numbers = iter(numbers)
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._work, name=f"poster-{i}", daemon=True)
            for i in range(CONNECTIONS)
        ]

    def start(self) -> Poster:
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float = 60) -> list[Post]:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._threads), "posting did not finish in time"
        return self.posts

    def answered(self) -> int:
        with self._lock:
            return sum(1 for post in self.posts if post.status)

    def _next(self) -> Post | None:
        with self._lock:
            n = next(self._numbers, None)
            if n is None:
                return None
            post = Post(n)
            self.posts.append(post)
            return post

    def _work(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            while (post := self._next()) is not None:
                post.started = time.monotonic()
                try:
                    conn.request(
                        "POST",
                        "/rest/",
                        stanza(self.to, post.n),
                        {"Content-Type": "application/x-www-form-urlencoded"},
                    )
                    response = conn.getresponse()
                    post.text = response.read().decode(errors="replace")
                    post.status = response.status
                except (OSError, http.client.HTTPException) as e:
                    post.status, post.text = -1, repr(e)
                    conn.close()
                post.answered = time.monotonic()
        finally:
            conn.close()


def post_all(port: int, to: str, numbers: Iterable[int]) -> list[Post]:
    return Poster(port, to, numbers).start().join()


def refused(posts: list[Post]) -> list[Post]:
    return [post for post in posts if (post.status, post.text) != (200, "Ok")]


def first_positions(messages: list[ReceivedMessage]) -> dict[int, int]:
    """Where each body first arrived, by the message number it carries."""
    first: dict[int, int] = {}
    for position, message in enumerate(messages):
        first.setdefault(int(message.body), position)
    return first


def order_violations(posts: list[Post], first: dict[int, int]) -> list[tuple[int, int]]:
    """Pairs (a, b) where a was accepted before b was posted, yet b arrived first.

    The gateway owes that order to messages it answered before the next was posted; messages
    posted at the same time on different connections have no order between them.
    """
    by_answer = sorted(posts, key=lambda p: p.answered)
    violations = []
    latest: Post | None = None  # of the posts answered so far, the one that arrived last
    i = 0
    for post in sorted(posts, key=lambda p: p.started):
        while i < len(by_answer) and by_answer[i].answered < post.started:
            done = by_answer[i]
            if latest is None or first[done.n] > first[latest.n]:
                latest = done
            i += 1
        if latest is not None and first[latest.n] > first[post.n]:
            violations.append((latest.n, post.n))
    return violations


def test_order_check_sees_a_swap() -> None:
    """The order check reports a message that overtook one accepted before it was posted,
    and accepts any order between messages posted at the same time."""
    posts = [Post(0, 0.0, 1.0, 200), Post(1, 2.0, 3.0, 200), Post(2, 2.0, 3.0, 200)]
    assert order_violations(posts, {0: 0, 1: 1, 2: 2}) == []
    assert order_violations(posts, {0: 0, 2: 1, 1: 2}) == []
    assert order_violations(posts, {1: 0, 0: 1, 2: 2}) == [(0, 1)]


def wait_for_all(bob: Receiver, server: XmppServer, workdir: Path) -> list[ReceivedMessage]:
    """Wait until bob has every body and nothing more comes; on a timeout, say what is
    missing and why.  The messages then."""
    try:
        bob.wait_until(lambda ms: len({m.body for m in ms}) >= TOTAL, timeout=60)
        # a copy stored after the last new body may still be on its way: wait for quiet
        # (the copies are bounded, so this ends; the caller checks how many came)
        seen = -1
        while len(bob.messages) != seen:
            seen = len(bob.messages)
            time.sleep(1.0)
        return bob.messages
    except TimeoutError:
        got = {m.body for m in bob.messages}
        missing = [n for n in range(TOTAL) if str(n) not in got]
        gateway_log = (workdir / "daemon.out").read_text(errors="replace")
        notable = [line for line in gateway_log.splitlines() if "xmpp" in line.lower()]
        raise AssertionError(
            f"{len(missing)} message(s) not in the server's offline storage, "
            f"e.g. {missing[:10]}\n" + "\n".join(notable[-30:]) + f"\n{server.log_text()}"
        ) from None


def post_through_a_cut(
    gateway: Daemon, relay: Relay, to: str, numbers: range, **stall: bool
) -> list[Post]:
    """Post ``numbers`` once the link is up; a third of the way through, stall the relay
    (``writes=True`` or ``answers=True``); once every POST is answered, cut the stream and
    wait until the link has noticed.  The posts."""
    wait_for_health(gateway, 200)
    poster = Poster(gateway.http_port, to, numbers).start()
    wait_for_answers(poster, len(numbers) // 3)
    relay.stall(**stall)
    posts = poster.join()
    relay.cut()
    wait_for_health(gateway, 503)
    return posts


@pytest.fixture
def relay(server: XmppServer) -> Iterator[Relay]:
    """A relay to the server's component port, closed after the test."""
    assert server.component is not None
    relay = Relay(server.component.host, server.component.port)
    yield relay
    relay.close()


def test_thousand_messages_are_accepted_across_server_and_gateway_restarts(
    server: XmppServer, relay: Relay, xmpp_receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    """1 000 messages posted while the XMPP server is stopped mid-traffic and restarted, the
    gateway restarted on its store and the stream cut twice, are all accepted by the
    server: every POST is answered ``200 Ok`` (queued durably, also while the server is
    down); stanzas the link had written that never reached the server are sent again, by
    the restarted gateway and by a running one, and so are stanzas the server took but
    could not confirm, which it then holds twice with the same origin-id.  Once the queue
    has drained, the server's offline storage for bob holds every body, each with one
    origin-id of its own, first stored in the order the gateway accepted them; only
    stanzas in flight when a stream dropped are stored twice, at most the link's send
    window of them per dropped stream."""
    component = server.component
    assert component is not None
    to = server.jid("bob")
    link = {
        "jid": component.domain,
        "secret": component.secret,
        "host": "127.0.0.1",
        "port": relay.port,
    }
    http_port, xmlrpc_port = free_port(), free_port()
    began = time.monotonic()
    posts: list[Post] = []

    with running_daemon(
        tmp_path, http_port=http_port, xmlrpc_port=xmlrpc_port, component=link
    ) as first:
        wait_for_health(first, 200)
        # 0-349 while the server runs.  From the 150th answer on the relay stops passing
        # what the link writes, so that the link has written stanzas the server never
        # sees, and the server is stopped after the 250th.
        poster = Poster(first.http_port, to, range(350)).start()
        wait_for_answers(poster, 150)
        relay.stall(writes=True)
        wait_for_answers(poster, 250)
        unconfirmed = health(first)[1]["xmpp_component"]
        assert unconfirmed["connected"] is True
        assert unconfirmed["queued"] > 0
        server.stop()
        posts += poster.join()
        # 350-699 while it is down: queued, and still answered 200 Ok
        during_outage = post_all(first.http_port, to, range(350, 700))
        posts += during_outage
        outage = wait_for_health(first, 503)["xmpp_component"]
        assert outage["connected"] is False
        assert outage["queued"] >= len(during_outage)
        # the link had written these, and the server never saw them
        never_seen = relay.discarded_bodies()
        assert never_seen

    # the queue survives the gateway's restart
    server.start()
    with running_daemon(
        tmp_path, http_port=http_port, xmlrpc_port=xmlrpc_port, component=link
    ) as second:
        # 700-849: the server takes what the link writes, but its answers are withheld from
        # the link until the stream is cut: what it took unconfirmed is sent again
        posts += post_through_a_cut(second, relay, to, range(700, 850), answers=True)
        # the server answered these pings, so it had taken the stanzas before them
        unanswered = relay.withheld_pings()
        assert unanswered
        # 850-999: the server sees nothing the link writes until the stream is cut; the
        # link, still running, must send it again on its next stream
        posts += post_through_a_cut(second, relay, to, range(850, TOTAL), writes=True)
        never_seen_again = relay.discarded_bodies() - never_seen
        assert never_seen_again
        assert refused(posts) == []
        # once the queue is empty the server has accepted (stored) every stanza
        wait_until_drained(second)
        elapsed = time.monotonic() - began
        # bob's first login: the server hands over what it stored for him
        bob = xmpp_receiver(server, "bob")
        messages = wait_for_all(bob, server, tmp_path)

    bodies = [m.body for m in messages]
    assert {str(n) for n in never_seen | never_seen_again} <= set(bodies), "not sent again"
    assert set(bodies) == {str(n) for n in range(TOTAL)}
    # every message came out of the server's offline storage, none from elsewhere
    assert all(m.delayed for m in messages)
    assert {m.sender for m in messages} == {component.domain}
    origin_ids: dict[str, set[str | None]] = {}
    for message in messages:
        origin_ids.setdefault(message.body, set()).add(message.origin_id)
    assert all(len(ids) == 1 and None not in ids for ids in origin_ids.values())
    assert len({next(iter(ids)) for ids in origin_ids.values()}) == TOTAL
    assert order_violations(posts, first_positions(messages)) == []
    duplicated = sorted(int(body) for body, times in Counter(bodies).items() if times > 1)
    # what the server took without the link seeing it confirmed was sent, and stored, again
    assert duplicated
    # three streams dropped with stanzas in flight
    assert len(messages) - TOTAL <= 3 * WINDOW * BATCH_SIZE
    print(
        f"\n{type(server).__name__}: {TOTAL} messages accepted in {elapsed:.1f}s; "
        f"{outage['queued'] - len(during_outage)} posted before the outage were "
        f"unconfirmed when the server stopped, {len(never_seen)} of them written to a "
        f"stream it never read; {len(unanswered)} ping answer(s) withheld before the first "
        f"cut; {len(never_seen_again)} written before the second cut, never read; "
        f"{len(messages) - TOTAL} stored twice {duplicated[:5]}"
    )
