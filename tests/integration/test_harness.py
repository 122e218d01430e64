"""The integration harness itself: private ejabberd and Prosody servers and the XMPP client.

Each server kind is started once for the module; the tests that restart or stop a server
start one of their own.
"""

from __future__ import annotations

import socket
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.daemon import free_port, post_json
from tests.integration.servers import (
    EjabberdServer,
    ProsodyServer,
    ServerError,
    XmppServer,
    missing_ejabberd,
    missing_prosody,
    require,
)
from tests.integration.xmppclient import LoginRefused, Receiver, can_login, send_as_component

USERS = {"alice": "alice-secret", "bob": "bob secret with spaces"}

# An extauth program that knows one account, "carol", and notes every request it answers.
FAKE_EXTAUTH = r"""
import struct
import socket
import sys

accounts = {("carol", sys.argv[1]): sys.argv[2]}
with open(sys.argv[3], "a") as journal:
    while True:
        head = sys.stdin.buffer.read(2)
        if len(head) < 2:
            break
        fields = sys.stdin.buffer.read(struct.unpack(">H", head)[0]).decode().split(":", 3)
        journal.write(fields[0] + "\n")
        journal.flush()
        if fields[0] == "auth":
            ok = accounts.get((fields[1], fields[2])) == fields[3]
        elif fields[0] == "isuser":
            ok = (fields[1], fields[2]) in accounts
        else:
            ok = False
        sys.stdout.buffer.write(struct.pack(">HH", 2, int(ok)))
        sys.stdout.buffer.flush()
"""

Factory = Callable[..., XmppServer]


@pytest.fixture(scope="module")
def xmpp_users() -> dict[str, str]:
    """This module's servers start with alice and bob (a password with spaces)."""
    return USERS


@pytest.fixture(params=["ejabberd_server", "prosody_server"])
def factory(request: pytest.FixtureRequest) -> Factory:
    """The start function of each server kind, for tests that need a server of their own."""
    result: Factory = request.getfixturevalue(request.param)
    return result


def login(server: XmppServer, user: str, password: str) -> bool:
    return can_login(server.host, server.c2s_port, server.jid(user), password)


def epmd_running() -> bool:
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "epmd":
                return True
        except OSError:
            continue
    return False


def test_registered_user_logs_in(server: XmppServer) -> None:
    """An account registered with the server's own admin tool logs in with its password."""
    assert login(server, "alice", USERS["alice"])
    assert login(server, "bob", USERS["bob"])


def test_wrong_password_and_unknown_user_are_refused(server: XmppServer) -> None:
    """A wrong password, or a user that was never registered, makes can_login answer False."""
    assert not login(server, "alice", USERS["bob"])
    assert not login(server, "nobody", "whatever")


def test_unreachable_server_is_an_error_not_a_refusal(server: XmppServer) -> None:
    """can_login raises ConnectionError when nothing listens, rather than answering False."""
    with pytest.raises(ConnectionError):
        can_login(server.host, free_port(), server.jid("alice"), USERS["alice"], timeout=5)


def test_accounts_registered_later_log_in(server: XmppServer) -> None:
    """register() on a running server creates an account that can log in at once."""
    server.register("dave", "dave-pw")
    assert login(server, "dave", "dave-pw")


def test_ejabberdctl_talks_to_the_private_node(ejabberd: EjabberdServer) -> None:
    """ctl() reaches the test node: status names it and registered_users lists our accounts."""
    assert ejabberd.node in ejabberd.ctl("status")
    assert {"alice", "bob"} <= set(ejabberd.ctl("registered_users", ejabberd.vhost).split())
    failed = ejabberd.ctl_result("register", "alice", ejabberd.vhost, "again")
    assert failed.returncode != 0
    with pytest.raises(ServerError, match="already registered"):
        ejabberd.ctl("register", "alice", ejabberd.vhost, "again")


def test_ejabberd_http_api_answers_on_loopback(ejabberd: EjabberdServer) -> None:
    """The node's mod_http_api listener runs commands for loopback callers."""
    status, users = post_json(ejabberd.http_port, "registered_users", {"host": ejabberd.vhost})
    assert status == 200
    assert {"alice", "bob"} <= set(users)


def test_message_between_clients_is_received(
    server: XmppServer, xmpp_receiver: Callable[..., Receiver]
) -> None:
    """A chat message one client sends reaches the other, with body, sender and origin-id."""
    bob = xmpp_receiver(server, "bob")
    alice = xmpp_receiver(server, "alice")
    origin = uuid.uuid4().hex
    alice.send_message(server.jid("bob"), "hello bob", origin_id=origin)
    [message] = bob.wait_until(lambda ms: any(m.origin_id == origin for m in ms))
    assert message.body == "hello bob"
    assert message.sender.split("/")[0] == server.jid("alice")
    assert message.type == "chat"
    assert not message.delayed


def test_component_listener_delivers_to_clients(
    server: XmppServer, xmpp_receiver: Callable[..., Receiver]
) -> None:
    """A component logged in with the configured domain and secret reaches a client."""
    component = server.component
    assert component is not None
    bob = xmpp_receiver(server, "bob")
    origin = uuid.uuid4().hex
    send_as_component(
        component.host,
        component.port,
        component.domain,
        component.secret,
        server.jid("bob"),
        "from the component",
        origin_id=origin,
    )
    [message] = bob.wait_until(lambda ms: any(m.origin_id == origin for m in ms))
    assert message.body == "from the component"
    assert message.sender == component.domain


def test_component_with_wrong_secret_is_refused(server: XmppServer) -> None:
    """The component handshake fails with a wrong secret."""
    component = server.component
    assert component is not None
    with pytest.raises(ConnectionError):
        send_as_component(
            component.host, component.port, component.domain, "wrong", server.jid("bob"), "x"
        )


def test_message_to_offline_user_arrives_at_login(
    server: XmppServer, xmpp_receiver: Callable[..., Receiver]
) -> None:
    """A message sent while the recipient is offline is delivered, delayed, when it logs in."""
    alice = xmpp_receiver(server, "alice")
    server.register("erin", "erin-pw")
    origin = uuid.uuid4().hex
    alice.send_message(server.jid("erin"), "stored for later", origin_id=origin)
    alice.stop()  # logging out flushes the message before erin connects
    erin = xmpp_receiver(server, "erin")
    [message] = erin.wait_until(lambda ms: any(m.origin_id == origin for m in ms))
    assert message.body == "stored for later"
    assert message.delayed


def test_receiver_refuses_to_start_with_a_wrong_password(server: XmppServer) -> None:
    """Receiver.start raises LoginRefused instead of waiting when the password is wrong."""
    receiver = Receiver(server.host, server.c2s_port, server.jid("alice"), "not it", timeout=5)
    with pytest.raises(LoginRefused):
        receiver.start()


def test_restart_keeps_accounts_and_close_leaves_nothing(
    factory: Factory, xmpp_receiver: Callable[..., Receiver]
) -> None:
    """Across stop/start and a kill, accounts survive and a Receiver logs in again;
    close() then ends every process of the server and removes its directory."""
    epmd_before = epmd_running()
    server = factory(users={"frank": "frank-pw"})
    frank = xmpp_receiver(server, "frank")
    server.stop()
    assert not server.running
    server.start()
    frank.wait_online(sessions=2)
    server.kill()
    server.start()
    frank.wait_online(sessions=3)
    assert login(server, "frank", "frank-pw")
    frank.stop()
    assert server.pid in server.leftover_processes()
    workdir = server.workdir
    server.close()
    assert not workdir.exists()
    assert server.leftover_processes() == []
    if not epmd_before:
        assert not epmd_running()


def test_ejabberd_external_auth_runs_the_program(
    ejabberd_server: Callable[..., EjabberdServer], tmp_path: Path
) -> None:
    """With auth_method external, ejabberd asks the given program, whose answers decide
    logins; closing the server also ends the program."""
    program = tmp_path / "extauth.py"
    program.write_text(FAKE_EXTAUTH)
    journal = tmp_path / "journal"
    server = ejabberd_server(
        auth_method="external",
        extauth_program=[sys.executable, str(program), "localhost", "carol pw", str(journal)],
    )
    assert login(server, "carol", "carol pw")
    assert not login(server, "carol", "carol")
    assert "auth" in journal.read_text().split()
    assert any(
        str(program) in (Path("/proc") / str(pid) / "cmdline").read_text()
        for pid in server.leftover_processes()
    )
    server.close()
    assert server.leftover_processes() == []


@pytest.mark.parametrize("kind", [EjabberdServer, ProsodyServer])
def test_taken_port_fails_the_start_with_the_log(kind: type[XmppServer]) -> None:
    """A server that cannot bind its c2s port fails to start, says why, and leaves nothing."""
    require(missing_ejabberd() if kind is EjabberdServer else missing_prosody())
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        server = kind(c2s_port=blocker.getsockname()[1])
        try:
            with pytest.raises(ServerError, match="in use|eaddrinuse"):
                server.start()
            assert not server.running
            assert server.leftover_processes() == []
        finally:
            server.close()


def test_ejabberd_options_are_checked() -> None:
    """External auth without a program, or a program without external auth, is refused."""
    with pytest.raises(ValueError):
        EjabberdServer(auth_method="external")
    with pytest.raises(ValueError):
        EjabberdServer(extauth_program=["true"])


def test_missing_server_skips_or_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing server skips a test, except under CI where it fails with the reason."""
    require(None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        require("ejabberd is not installed")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="not installed"):
        require("ejabberd is not installed")
