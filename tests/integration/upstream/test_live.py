"""Commands that need a live XMPP server, which the embedded backend refuses, run in ejabberd.

Real XMPP clients (slixmpp) log in to ejabberd 23.01; the gateway in front of it must see their
sessions, kick them, deliver messages to them and list them in a room, answering each call as
ejabberd's own interface of the same dialect does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.compat.harness import ApiClient
from tests.integration.upstream.compare import DIALECTS, Call, compare, differences, report
from tests.integration.upstream.harness import (
    ADMIN,
    ADMIN_AUTH,
    MUC_SERVICE,
    VHOST,
    Front,
    component_of,
    ejabberd_upstream,
    running_gateway,
)
from tests.integration.xmppclient import Receiver

H = VHOST
#: 23.01's user_sessions_info text: connection, ip, port, priority, node, then the uptime
UPTIME_TEXT = (r"^(c2s\t[^\t]*\t\d+\t-?\d+\t[^\t]*\t)\d+", r"\1<uptime>")
ROOM = "lounge"


def _poll(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def _online(front: Front) -> list[str]:
    answer = front.ejabberd_api.call("connected_users", {}, ADMIN_AUTH)
    assert answer.status == 200, answer.show()
    assert isinstance(answer.body, list)
    return answer.body


@pytest.fixture(scope="module")
def clients(front: Front) -> Iterator[Callable[[str, str], Receiver]]:
    """``clients(user, resource)`` logs ``user@localhost/resource`` in (registering the
    account on first use); everyone is logged out when the module ends."""
    with ExitStack() as stack:

        def start(user: str, resource: str, reconnect: bool = True) -> Receiver:
            if user not in front.ejabberd.users:
                front.ejabberd.register(user, f"{user}-secret")
            receiver = Receiver(
                front.ejabberd.host,
                front.ejabberd.c2s_port,
                f"{user}@{H}/{resource}",
                front.ejabberd.password(user),
                reconnect=reconnect,
            )
            stack.callback(receiver.stop)
            return receiver.start()

        yield start


@pytest.fixture(scope="module")
def dave(front: Front, clients: Callable[..., Receiver]) -> Receiver:
    """dave@localhost/desk, online for the module."""
    receiver = clients("dave", "desk")
    _poll(lambda: f"dave@{H}/desk" in _online(front), "dave's session listed")
    return receiver


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sessions_are_ejabberds(front: Front, dave: Receiver, dialect: str) -> None:
    """connected_users and user_sessions_info list the real client's session as ejabberd's own
    interface does (only the session's uptime may differ between the two calls)."""
    calls = (
        Call("connected_users", "one client", {}, ()),
        Call(
            "user_sessions_info",
            "one session",
            {"user": "dave", "host": H},
            ("dave", H),
            masks=(UPTIME_TEXT,),
            varying=("uptime",),
        ),
    )
    found = differences(front, calls, dialect)
    assert not found, report(found)
    answer = front.gateway_api.call("connected_users", {}, ADMIN_AUTH)
    assert answer.status == 200 and f"dave@{H}/desk" in answer.body


@pytest.mark.parametrize("dialect", DIALECTS)
def test_kick_session_ends_the_session(
    front: Front, clients: Callable[..., Receiver], dialect: str
) -> None:
    """kick_session through the gateway answers as ejabberd's own and the session ends.

    ejabberd kicks dave/ej_<dialect> and the gateway dave/gw_<dialect>: two live sessions."""
    for side in ("ej", "gw"):
        clients("dave", f"{side}_{dialect}", reconnect=False)
    _poll(
        lambda: {f"dave@{H}/ej_{dialect}", f"dave@{H}/gw_{dialect}"} <= set(_online(front)),
        "both sessions listed",
    )
    call = Call(
        "kick_session",
        "live session",
        {"user": "dave", "host": H, "resource": "{t}", "reason": "Bye"},
        ("dave", H, "{t}", "Bye"),
    )
    difference = compare(front, call, dialect)
    assert difference is None, difference.show()
    _poll(
        lambda: not {f"dave@{H}/ej_{dialect}", f"dave@{H}/gw_{dialect}"} & set(_online(front)),
        "both kicked sessions ended",
    )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_send_message_reaches_the_client(
    front: Front, clients: Callable[..., Receiver], dialect: str
) -> None:
    """send_message through the gateway answers as ejabberd's own and the logged-in client
    receives the message, from the given sender."""
    erin = clients("erin", f"phone_{dialect}")
    call = Call(
        "send_message",
        "to a client",
        {
            "type": "chat",
            "from": f"{ADMIN}@{H}",
            "to": f"erin@{H}",
            "subject": "Hi",
            "body": "hello_{t}",
        },
        ("chat", f"{ADMIN}@{H}", f"erin@{H}", "Hi", "hello_{t}"),
    )
    difference = compare(front, call, dialect)
    assert difference is None, difference.show()
    bodies = {f"hello_ej_{dialect}", f"hello_gw_{dialect}"}
    messages = erin.wait_until(lambda got: bodies <= {m.body for m in got})
    [ours] = [m for m in messages if m.body == f"hello_gw_{dialect}"]
    assert ours.sender.split("/")[0] == f"{ADMIN}@{H}"
    assert ours.type == "chat"


@pytest.fixture(scope="module")
def occupant(front: Front, clients: Callable[..., Receiver]) -> Receiver:
    """frank, in the room lounge@conference.localhost as ``frank``."""
    front.ejabberd.ctl("create_room", ROOM, MUC_SERVICE, H)
    frank = clients("frank", "laptop")
    frank.join_room(f"{ROOM}@{MUC_SERVICE}", "frank")

    def inside() -> bool:
        answer = front.ejabberd_api.call(
            "get_room_occupants", {"name": ROOM, "service": MUC_SERVICE}, ADMIN_AUTH
        )
        return answer.status == 200 and bool(answer.body)

    _poll(inside, "frank in the room")
    return frank


@pytest.mark.parametrize("dialect", DIALECTS)
def test_room_occupants_are_ejabberds(front: Front, occupant: Receiver, dialect: str) -> None:
    """get_room_occupants lists the client that joined the room, as ejabberd's own does."""
    call = Call(
        "get_room_occupants",
        "one occupant",
        {"name": ROOM, "service": MUC_SERVICE},
        (ROOM, MUC_SERVICE),
    )
    difference = compare(front, call, dialect)
    assert difference is None, difference.show()
    answer = front.gateway_api.call(
        "get_room_occupants", {"name": ROOM, "service": MUC_SERVICE}, ADMIN_AUTH
    )
    assert answer.status == 200 and f"frank@{H}/laptop" in str(answer.body)


def test_rest_stanza_reaches_the_client(front: Front, clients: Callable[..., Receiver]) -> None:
    """A message stanza POSTed to the gateway's /rest (``stanzas: upstream``) is answered
    ``Ok`` and delivered by ejabberd to the logged-in client, from the stanza's sender."""
    erin = clients("erin", "tablet")
    stanza = (
        f'<message to="erin@{H}/tablet" from="{ADMIN}@{H}" type="chat">'
        "<body>posted to rest</body></message>"
    )
    answer = front.gateway_rest.call(stanza, auth=None)
    assert answer.status == 200 and answer.body == "Ok", answer.show()
    [message] = erin.wait_until(lambda got: any(m.body == "posted to rest" for m in got))
    assert message.sender.split("/")[0] == f"{ADMIN}@{H}"


@pytest.fixture(scope="module")
def linked(front: Front, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    """A second gateway in front of the same ejabberd with ``stanzas: component``: its
    stanzas go over an XEP-0114 link to ejabberd's component listener."""
    workdir = tmp_path_factory.mktemp("upstream-component")
    upstream = ejabberd_upstream(front.ejabberd, timeout=10)
    component = component_of(front.ejabberd)
    with running_gateway(workdir, upstream=upstream, component=component) as gateway:
        yield ApiClient(gateway.http_port)


def test_send_message_over_the_component_link(
    front: Front, linked: ApiClient, clients: Callable[..., Receiver]
) -> None:
    """With ``stanzas: component`` send_message is answered as ejabberd answers it and the
    message reaches the logged-in client over the component link (queued while the link
    comes up)."""
    erin = clients("erin", "watch")
    args = {
        "type": "chat",
        "from": f"{ADMIN}@{H}",
        "to": f"erin@{H}/watch",
        "subject": "Hi",
        "body": "over the link",
    }
    answer = linked.call("send_message", args, ADMIN_AUTH)
    assert answer.status == 200 and answer.body == 0, answer.show()
    erin.wait_until(lambda got: any(m.body == "over the link" for m in got), timeout=30)
