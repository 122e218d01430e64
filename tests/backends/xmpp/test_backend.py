"""The xmpp backend against in-process fakes of ejabberd 23.01, Prosody 0.12 and mod_adhoc_api."""

from __future__ import annotations

from typing import Any

from lxml import etree
from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import SynchronousTestCase

from gateway.backends.interfaces import IqChannel
from gateway.backends.remote_accounts import InvalidatingExecutor
from gateway.backends.xmpp import XmppBackend
from gateway.engine.errors import (
    CommandFailed,
    GatewayTimeout,
    NotSupported,
    TypedCommandError,
    Unavailable,
)
from gateway.engine.model import Caller, ResTuple
from tests.backends.xmpp.fake_server import (
    COMPONENT,
    HOST,
    NS_ADMIN,
    ApiError,
    ApiServer,
    Ejabberd2301,
    FakeChannel,
    FakeServer,
    Prosody012,
    admin,
)

CALLER = Caller(frontend="mod_http_api")

ALL_MAPPED = (
    "register",
    "unregister",
    "change_password",
    "kick_session",
    "connected_users",
    "connected_users_number",
    "registered_users",
    "stats",
    "stats_host",
    "ban_account",
    "get_roster",
    "add_rosteritem",
    "delete_rosteritem",
)


class BackendCase(SynchronousTestCase):
    """A backend on a fake channel, with the server of each test."""

    def start(
        self, server: FakeServer, *, up: bool = True, timeout: float = 15.0, max_in_flight: int = 32
    ) -> tuple[XmppBackend, FakeChannel]:
        self.clock = MemoryReactorClock()
        channel = FakeChannel(server, self.clock)
        backend = XmppBackend(
            channel, HOST, COMPONENT, self.clock, timeout=timeout, max_in_flight=max_in_flight
        )
        if up:
            channel.come_up()
        return backend, channel

    def run_ok(self, backend: XmppBackend, command: str, **args: Any) -> Any:
        return self.successResultOf(backend.execute(command, args, CALLER))

    def run_fails(self, backend: XmppBackend, command: str, error: type, **args: Any) -> Any:
        return self.failureResultOf(backend.execute(command, args, CALLER), error).value


class FakeTests(SynchronousTestCase):
    """The fake channel is a real IqChannel."""

    def test_channel_protocol(self) -> None:
        """FakeChannel has every method of the IqChannel protocol the backend uses."""
        channel: IqChannel = FakeChannel(Ejabberd2301(), MemoryReactorClock())
        for name in ("iq", "submit", "on_up", "on_message"):
            self.assertTrue(callable(getattr(channel, name)))


class DiscoveryTests(BackendCase):
    """Discovery decides what is claimed, and reruns after each reconnect."""

    def test_ejabberd_claims(self) -> None:
        """ejabberd 23.01's nodes and privileges: everything mapped except disable-user."""
        backend, _ = self.start(Ejabberd2301())
        claimed = {c for c in ALL_MAPPED if backend.supports(c)}
        self.assertEqual(claimed, set(ALL_MAPPED) - {"ban_account"})
        self.assertFalse(backend.supports("get_last"))
        self.assertEqual(backend.privileges.namespace, "urn:xmpp:privilege:1")

    def test_prosody_claims(self) -> None:
        """Prosody 0.12 offers no user counts nor the registered-users list."""
        backend, _ = self.start(Prosody012())
        claimed = {c for c in ALL_MAPPED if backend.supports(c)}
        self.assertEqual(
            claimed,
            {
                "register",
                "unregister",
                "change_password",
                "kick_session",
                "connected_users",
                "get_roster",
                "add_rosteritem",
                "delete_rosteritem",
            },
        )
        self.assertEqual(backend.privileges.namespace, "urn:xmpp:privilege:2")

    def test_not_supported_text(self) -> None:
        """An unclaimed command names the host and the node the server does not offer."""
        backend, _ = self.start(Prosody012())
        error = backend.not_supported("registered_users")
        self.assertIsInstance(error, NotSupported)
        self.assertEqual(
            error.message,
            "Command 'registered_users' is not supported by the xmpp backend on localhost:"
            f" the server offers no {NS_ADMIN}#get-registered-users-list",
        )
        failed = self.run_fails(backend, "registered_users", NotSupported, host=HOST)
        self.assertIn("offers no", failed.message)
        self.assertIn(
            "the server offers no api-commands/get_last", backend.not_supported("get_last").message
        )

    def test_roster_needs_the_privilege(self) -> None:
        """Without a roster privilege the roster commands are not claimed, and say why."""
        server = Ejabberd2301()
        server.roster_perm = "none"
        backend, _ = self.start(server)
        self.assertFalse(backend.supports("get_roster"))
        self.assertIn("roster privilege", backend.not_supported("get_roster").message)
        server.roster_perm = "get"
        backend, _ = self.start(server)
        self.assertTrue(backend.supports("get_roster"))
        self.assertFalse(backend.supports("add_rosteritem"))

    def test_before_discovery(self) -> None:
        """Before the link is up, mapped commands answer Unavailable; others are not supported."""
        backend, channel = self.start(Ejabberd2301(), up=False)
        self.assertTrue(backend.supports("register"))
        self.assertFalse(backend.supports("get_last"))
        error = self.run_fails(backend, "register", Unavailable, user="a", host=HOST, password="p")
        self.assertIn("not connected", error.message)
        self.assertEqual(channel.sent, [])
        self.assertIn("not known yet", backend.status_lines()[0])

    def test_discovery_retried_by_a_command(self) -> None:
        """A command arriving after a failed discovery asks again, and runs once it is known."""
        backend, channel = self.start(Ejabberd2301(), up=False)
        channel.connected = True  # up, but the link-up discovery never happened
        self.assertEqual(self.run_ok(backend, "connected_users_number"), 0)

    def test_rediscovery_after_reconnect(self) -> None:
        """After a reconnect the backend asks again, and claims what the server offers now."""
        server = Ejabberd2301()
        backend, channel = self.start(server)
        self.assertTrue(backend.supports("registered_users"))
        del server.nodes[admin("get-registered-users-list")]
        server.nodes[admin("disable-user")] = server._delete_user
        channel.go_down()
        self.assertTrue(backend.supports("registered_users"))  # the last known stays claimed
        channel.come_up()
        self.assertFalse(backend.supports("registered_users"))
        self.assertTrue(backend.supports("ban_account"))

    def test_privileges_reset_on_reconnect(self) -> None:
        """Privileges belong to a stream: a new stream without an announcement grants none."""
        backend, channel = self.start(Ejabberd2301())
        self.assertTrue(backend.supports("get_roster"))
        channel.go_down()
        channel.come_up(privileges=False)
        self.assertFalse(backend.supports("get_roster"))

    def test_privileges_only_from_the_host(self) -> None:
        """A privilege announcement from anyone but the served host is ignored."""
        server = Ejabberd2301()
        backend, channel = self.start(server, up=False)
        channel.connected = True
        channel.come_up(privileges=False)
        channel.deliver(server.privileges_message().replace(f"from='{HOST}'", "from='evil.host'"))
        self.assertFalse(backend.supports("get_roster"))

    def test_disco_refused(self) -> None:
        """A server refusing disco#items offers nothing: nothing is claimed, status says why."""
        server = Ejabberd2301()
        server.disco_refused = True
        backend, _ = self.start(server)
        self.assertFalse(backend.supports("register"))
        self.assertIn("disco#items refused: forbidden", "\n".join(backend.status_lines()))

    def test_status_lines(self) -> None:
        """status lists the node count, the privileges and the commands run."""
        backend, _ = self.start(Prosody012())
        lines = backend.status_lines()
        self.assertIn("10 command nodes offered", lines[0])
        self.assertIn("roster both, message outgoing", lines[0])
        self.assertIn("urn:xmpp:privilege:2", lines[0])
        self.assertIn("change_password, connected_users, delete_rosteritem", lines[1])


class AccountTests(BackendCase):
    """Account commands answer the embedded store's texts on both servers."""

    servers = (Ejabberd2301, Prosody012)

    def test_register(self) -> None:
        """register creates the account; a second time is the store's conflict."""
        for make in self.servers:
            server = make()
            backend, _ = self.start(server)
            result = self.run_ok(backend, "register", user="alice", host=HOST, password="pw")
            self.assertEqual(result, ResTuple("User alice@localhost successfully registered"))
            self.assertEqual(server.accounts, {"alice@localhost": "pw"})
            error = self.run_fails(
                backend, "register", TypedCommandError, user="alice", host=HOST, password="x"
            )
            self.assertEqual((error.kind, error.status), ("conflict", 10090))
            self.assertEqual(error.message, "User alice@localhost already registered")

    def test_register_other_host(self) -> None:
        """register on a host the backend does not serve is ejabberd's Unknown virtual host."""
        backend, channel = self.start(Ejabberd2301())
        error = self.run_fails(
            backend, "register", TypedCommandError, user="a", host="elsewhere", password="p"
        )
        self.assertEqual(error.message, "Unknown virtual host")

    def test_change_password(self) -> None:
        """change_password sets the password; for a missing account it is unknown_user."""
        for make in self.servers:
            server = make()
            server.accounts["bob@localhost"] = "old"
            backend, _ = self.start(server)
            self.assertIs(
                self.run_ok(backend, "change_password", user="bob", host=HOST, newpass="new"), True
            )
            self.assertEqual(server.accounts["bob@localhost"], "new")
            error = self.run_fails(
                backend, "change_password", CommandFailed, user="nobody", host=HOST, newpass="x"
            )
            self.assertEqual((error.message, error.atom), ("unknown_user", "not_found"))

    def test_unregister(self) -> None:
        """unregister removes the account; a missing one "was not registered", as in the store."""
        for make in self.servers:
            server = make()
            server.accounts["bob@localhost"] = "pw"
            backend, _ = self.start(server)
            self.assertEqual(
                self.run_ok(backend, "unregister", user="bob", host=HOST),
                ResTuple("User bob@localhost unregistered"),
            )
            self.assertEqual(server.accounts, {})
            self.assertEqual(
                self.run_ok(backend, "unregister", user="bob", host=HOST),
                ResTuple("User bob@localhost was not registered"),
            )

    def test_kick_session(self) -> None:
        """kick_session ends that one session, through accountjid or accountjids."""
        for make in self.servers:
            server = make()
            server.accounts["bob@localhost"] = "pw"
            server.online["bob@localhost"] = ["phone", "laptop"]
            backend, _ = self.start(server)
            args = {"user": "bob", "host": HOST, "resource": "phone", "reason": "bye"}
            self.assertIs(self.run_ok(backend, "kick_session", **args), True)
            self.assertEqual(server.online["bob@localhost"], ["laptop"])

    def test_kick_session_unknown_account_on_prosody(self) -> None:
        """Prosody cannot disconnect an account it does not have: unknown_user."""
        backend, _ = self.start(Prosody012())
        args = {"user": "ghost", "host": HOST, "resource": "r", "reason": ""}
        error = self.run_fails(backend, "kick_session", CommandFailed, **args)
        self.assertEqual(error.message, "unknown_user")

    def test_connected_users(self) -> None:
        """connected_users lists the online accounts, sorted; Prosody is asked for all of them."""
        for make in self.servers:
            server = make()
            server.online = {"zed@localhost": ["a"], "amy@localhost": ["b", "c"]}
            backend, _ = self.start(server)
            self.assertEqual(
                self.run_ok(backend, "connected_users"), ["amy@localhost", "zed@localhost"]
            )
        self.assertEqual(server.sessions, {})  # the two-stage session is finished

    def test_counts_and_lists(self) -> None:
        """ejabberd's counts and registered-users list give the store's shapes."""
        server = Ejabberd2301()
        server.accounts = {"bob@localhost": "x", "amy@localhost": "y"}
        server.online = {"amy@localhost": ["a", "b"]}
        backend, _ = self.start(server)
        self.assertEqual(self.run_ok(backend, "connected_users_number"), 2)
        self.assertEqual(self.run_ok(backend, "registered_users", host=HOST), ["amy", "bob"])
        self.assertEqual(self.run_ok(backend, "stats", name="registeredusers"), 2)
        self.assertEqual(self.run_ok(backend, "stats", name="onlineusers"), 2)
        self.assertEqual(self.run_ok(backend, "stats_host", name="registeredusers", host=HOST), 2)
        error = self.run_fails(backend, "stats", CommandFailed, name="bogus")
        self.assertIn("Unknown statistic 'bogus'", error.message)
        self.run_fails(backend, "stats", NotSupported, name="onlineusersnode")
        error = self.run_fails(backend, "registered_users", CommandFailed, host="other")
        self.assertEqual(error.message, "Unknown virtual host")

    def test_ban_account_through_disable_user(self) -> None:
        """ban_account runs disable-user where the server offers it."""
        server = Ejabberd2301()
        server.accounts["bob@localhost"] = "pw"
        server.nodes[admin("disable-user")] = server._delete_user
        backend, channel = self.start(server)
        self.assertIs(self.run_ok(backend, "ban_account", user="bob", host=HOST, reason="r"), True)
        self.assertIn(f"{NS_ADMIN}#disable-user", channel.sent[-1])

    def test_refused_by_the_server(self) -> None:
        """A forbidden answer says the server does not let the gateway run the node."""
        server = Ejabberd2301()

        def refuse(values: Any, state: Any) -> Any:
            from tests.backends.xmpp.fake_server import Refuse

            raise Refuse("forbidden", "auth", "Access denied by service policy")

        server.nodes[admin("get-online-users-num")] = refuse
        backend, _ = self.start(server)
        error = self.run_fails(backend, "connected_users_number", CommandFailed)
        self.assertEqual(
            error.message,
            "The XMPP server localhost does not let the gateway run"
            f" {NS_ADMIN}#get-online-users-num: forbidden (Access denied by service policy)",
        )


class RosterTests(BackendCase):
    """XEP-0356 roster IQs, in both privilege namespaces."""

    def test_roster_round_trip(self) -> None:
        """add_rosteritem, get_roster and delete_rosteritem on the user's roster."""
        for namespace in ("urn:xmpp:privilege:1", "urn:xmpp:privilege:2"):
            server = Prosody012()
            server.privilege_ns = namespace
            server.accounts["alice@localhost"] = "pw"
            backend, channel = self.start(server)
            args = {
                "localuser": "alice",
                "localhost": HOST,
                "user": "bob",
                "host": "example.org",
                "nick": "Bob",
                "groups": ["friends", "", "work"],
                "subs": "both",
            }
            self.assertIs(self.run_ok(backend, "add_rosteritem", **args), True)
            sent = etree.fromstring(channel.sent[-1])
            self.assertEqual(sent.get("to"), "alice@localhost")
            self.assertEqual(
                self.run_ok(backend, "get_roster", user="alice", host=HOST),
                [("bob@example.org", "Bob", "both", "undefined", ["friends", "work"])],
            )
            delete = {k: args[k] for k in ("localuser", "localhost", "user", "host")}
            self.assertIs(self.run_ok(backend, "delete_rosteritem", **delete), True)
            self.assertEqual(self.run_ok(backend, "get_roster", user="alice", host=HOST), [])

    def test_ejabberd_2301_roster_sets_fail(self) -> None:
        """ejabberd 23.01 fails roster sets from a component: said so, then no longer claimed."""
        server = Ejabberd2301()
        server.accounts["alice@localhost"] = "pw"
        server.rosters["alice@localhost"] = {
            "bob@example.org": {"name": "", "subscription": "to", "ask": "subscribe", "groups": []}
        }
        backend, channel = self.start(server)
        self.assertTrue(backend.supports("add_rosteritem"))
        args = {"localuser": "alice", "localhost": HOST, "user": "carol", "host": HOST}
        error = self.run_fails(backend, "delete_rosteritem", NotSupported, **args)
        self.assertEqual(
            error.message,
            "Command 'delete_rosteritem' is not supported by the xmpp backend on localhost:"
            " the server fails XEP-0356 roster changes (internal-server-error (Module failed"
            " to handle the query); ejabberd 23.01 does so for every component)",
        )
        self.assertFalse(backend.supports("add_rosteritem"))
        self.assertIn(
            "fails XEP-0356 roster changes", backend.not_supported("add_rosteritem").message
        )
        # reading still works, and the next stream tries again
        self.assertEqual(
            self.run_ok(backend, "get_roster", user="alice", host=HOST),
            [("bob@example.org", "", "to", "subscribe", [])],
        )
        channel.go_down()
        channel.come_up()
        self.assertTrue(backend.supports("add_rosteritem"))

    def test_roster_errors(self) -> None:
        """Bad subscriptions and contacts get the store's texts; a missing owner unknown_user."""
        server = Prosody012()
        backend, _ = self.start(server)
        args = {
            "localuser": "alice",
            "localhost": HOST,
            "user": "bob",
            "host": "example.org",
            "nick": "",
            "groups": [],
            "subs": "maybe",
        }
        error = self.run_fails(backend, "add_rosteritem", CommandFailed, **args)
        self.assertEqual(error.message, "Invalid subscription 'maybe': use none, from, to or both")
        args["subs"] = "to"
        error = self.run_fails(backend, "add_rosteritem", CommandFailed, **args)
        self.assertEqual(error.message, "unknown_user")  # alice has no account
        args["host"] = "bad host"
        error = self.run_fails(backend, "add_rosteritem", CommandFailed, **args)
        self.assertEqual(error.message, "Invalid 'user'/'server'")

    def test_roster_forbidden(self) -> None:
        """A server that refuses the roster IQ is named, with its condition."""
        server = Ejabberd2301()
        backend, _ = self.start(server)
        server.roster_perm = "none"  # granted at connection, refused now
        error = self.run_fails(backend, "get_roster", CommandFailed, user="alice", host=HOST)
        self.assertIn(
            "does not let the gateway read alice@localhost's roster: forbidden", error.message
        )


class LimitsTests(BackendCase):
    """Timeouts, the in-flight bound and a link that is down."""

    def test_timeout(self) -> None:
        """No answer within the timeout is GatewayTimeout naming the host and the wait."""
        backend, channel = self.start(Ejabberd2301(), timeout=5)
        channel.hold = True
        pending = backend.execute("connected_users_number", {}, CALLER)
        self.assertNoResult(pending)
        self.clock.advance(5)
        error = self.failureResultOf(pending, GatewayTimeout).value
        self.assertEqual(error.message, "the XMPP server localhost did not answer within 5 s")

    def test_timeout_mid_session_cancels(self) -> None:
        """A session whose form submission times out is cancelled on the server."""
        server = Ejabberd2301()
        backend, channel = self.start(server, timeout=5)
        channel.hold = True
        pending = backend.execute("register", {"user": "a", "host": HOST, "password": "p"}, CALLER)
        channel.release()  # the form comes back; the submission is held
        self.assertNoResult(pending)
        self.clock.advance(5)
        self.failureResultOf(pending, GatewayTimeout)
        channel.release()  # the cancel IQ
        self.assertEqual(len(server.cancelled), 1)
        self.assertEqual(server.sessions, {})
        self.assertIn('action="cancel"', channel.sent[-1])

    def test_in_flight_bound(self) -> None:
        """No more than max_in_flight IQs await answers; the next waits for a free slot."""
        backend, channel = self.start(Ejabberd2301(), max_in_flight=2)
        channel.hold = True
        calls = [backend.execute("connected_users_number", {}, CALLER) for _ in range(3)]
        self.assertEqual(len(channel.held), 2)
        channel.hold = False
        channel.release()
        self.assertEqual([self.successResultOf(c) for c in calls], [0, 0, 0])

    def test_no_slot_in_time(self) -> None:
        """A request that finds no free slot within the timeout is GatewayTimeout too."""
        backend, channel = self.start(Ejabberd2301(), timeout=5, max_in_flight=1)
        channel.hold = True
        first, second, third = (
            backend.execute("connected_users_number", {}, CALLER) for _ in range(3)
        )
        self.clock.advance(5)
        # the first times out and frees its slot for the second; the third waited too long
        self.failureResultOf(first, GatewayTimeout)
        self.assertNoResult(second)
        error = self.failureResultOf(third, GatewayTimeout).value
        self.assertIn("no free request slot", error.message)
        self.assertEqual(len(channel.sent), 3)  # the discovery, the first and the second

    def test_link_down(self) -> None:
        """A link that is down answers Unavailable, never a queued success."""
        backend, channel = self.start(Ejabberd2301())
        channel.go_down()
        error = self.run_fails(backend, "connected_users", Unavailable)
        self.assertIn("not connected", error.message)

    def test_link_lost_while_waiting(self) -> None:
        """A link lost before the answer is Unavailable."""
        backend, channel = self.start(Ejabberd2301())
        channel.hold = True
        pending = backend.execute("connected_users", {}, CALLER)
        channel.go_down()
        self.failureResultOf(pending, Unavailable)


def _users(values: dict[str, list[str]]) -> list[str]:
    return ["amy", "bob"]


def _last(values: dict[str, list[str]]) -> list[str]:
    if values["user"] == ["ghost"]:
        raise ApiError(404, "User does not exist")
    return ["2026-11-30T10:00:00Z : Disconnected"]


def _roster(values: dict[str, list[str]]) -> list[str]:
    return ["bob@example.org : Bob : both : none : friends"]


def _rescode(values: dict[str, list[str]]) -> list[str]:
    return ["0"]


API_COMMANDS = {
    "registered_users": (["host"], _users, "users"),
    "get_last": (["user", "host"], _last, "last_activity"),
    "get_roster": (["user", "host"], _roster, "contacts"),
    "add_rosteritem": (
        ["localuser", "localhost", "user", "host", "nick", "groups", "subs"],
        _rescode,
        "res",
    ),
    "connected_users_number": ([], lambda values: ["7"], "num_sessions"),
}


class ApiCommandTests(BackendCase):
    """ejabberd's api-commands/ nodes run catalogue commands with their exact results."""

    def test_claims_api_commands(self) -> None:
        """Every listed api-commands/ node is claimed; others are not."""
        backend, _ = self.start(ApiServer(API_COMMANDS))
        for command in API_COMMANDS:
            self.assertTrue(backend.supports(command), command)
        self.assertFalse(backend.supports("register"))
        self.assertIn("through api-commands/: 5 commands", "\n".join(backend.status_lines()))

    def test_results_typed(self) -> None:
        """Lists, tuples, integers and rescodes come back as the store's Python values."""
        server = ApiServer(API_COMMANDS)
        backend, _ = self.start(server)
        self.assertEqual(self.run_ok(backend, "registered_users", host=HOST), ["amy", "bob"])
        self.assertEqual(
            self.run_ok(backend, "get_last", user="amy", host=HOST),
            ("2026-11-30T10:00:00Z", "Disconnected"),
        )
        self.assertEqual(
            self.run_ok(backend, "get_roster", user="amy", host=HOST),
            [("bob@example.org", "Bob", "both", "none", ["friends"])],
        )
        self.assertEqual(self.run_ok(backend, "connected_users_number"), 7)

    def test_arguments_sent(self) -> None:
        """Arguments fill the fields named after them: lists as one value per element."""
        server = ApiServer(API_COMMANDS)
        backend, _ = self.start(server)
        args = {
            "localuser": "amy",
            "localhost": HOST,
            "user": "bob",
            "host": "example.org",
            "nick": "Bob",
            "groups": ["a", "b"],
            "subs": "both",
        }
        self.assertIs(self.run_ok(backend, "add_rosteritem", **args), True)
        name, values = server.calls[-1]
        self.assertEqual(name, "add_rosteritem")
        self.assertEqual(values["groups"], ["a", "b"])
        self.assertEqual(values["localuser"], ["amy"])

    def test_error_field(self) -> None:
        """An error field is the command's failure, with ejabberd's message."""
        backend, _ = self.start(ApiServer(API_COMMANDS))
        error = self.run_fails(backend, "get_last", CommandFailed, user="ghost", host=HOST)
        self.assertEqual(error.message, "User does not exist")

    def test_argument_mismatch(self) -> None:
        """A form lacking a field for an argument is refused before anything is submitted."""
        server = ApiServer({"get_last": (["user"], _last, "last_activity")})
        backend, _ = self.start(server)
        error = self.run_fails(backend, "get_last", CommandFailed, user="amy", host=HOST)
        self.assertIn("no field host", error.message)
        self.assertEqual(server.calls, [])
        self.assertEqual(len(server.cancelled), 1)


class Generations:
    """Records the accounts whose cached logins were invalidated."""

    def __init__(self) -> None:
        self.bumped: list[tuple[str, str]] = []

    def generation(self, user: str, host: str) -> Deferred[int]:
        return succeed(len(self.bumped))

    def bump(self, user: str, host: str) -> Deferred[None]:
        self.bumped.append((user, host))
        return succeed(None)

    def bump_all(self) -> Deferred[None]:
        return succeed(None)


class CredentialTests(SynchronousTestCase):
    """Password changes and removals through the server drop cached logins."""

    def test_bumped(self) -> None:
        """As assembled (inside InvalidatingExecutor), register, change_password and unregister
        through the server each bump the account's generation: a change ends cached logins,
        a registration ends a refusal remembered while the account did not exist."""
        clock = MemoryReactorClock()
        server = Ejabberd2301()
        channel = FakeChannel(server, clock)
        generations = Generations()
        backend = InvalidatingExecutor(XmppBackend(channel, HOST, COMPONENT, clock), generations)
        channel.come_up()
        for command, args in [
            ("register", {"user": "bob", "host": HOST, "password": "a"}),
            ("change_password", {"user": "bob", "host": HOST, "newpass": "b"}),
            ("unregister", {"user": "bob", "host": HOST}),
        ]:
            self.successResultOf(backend.execute(command, args, CALLER))
        self.assertEqual(generations.bumped, [("bob", HOST)] * 3)


class ConfigurationTests(SynchronousTestCase):
    """Construction refuses an impossible bound."""

    def test_max_in_flight_positive(self) -> None:
        """max_in_flight below 1 is a ValueError."""
        clock = MemoryReactorClock()
        with self.assertRaises(ValueError):
            XmppBackend(FakeChannel(Ejabberd2301(), clock), HOST, COMPONENT, clock, max_in_flight=0)
