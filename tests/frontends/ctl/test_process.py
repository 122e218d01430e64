"""Whole ejabberdctl command lines through :class:`CtlProcessor`."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import cast

import pytest
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher

from gateway import __version__
from gateway.engine.names import MOD_REST
from gateway.frontends.ctl.text import output_style
from tests.frontends.ctl.helpers import FakePermissions, make, run


class TestCommands:
    @pytest.mark.parametrize("profile", ["23.01", "24.12"])
    def test_status(self, profile: str) -> None:
        """``status`` prints ejabberdctl's own two lines (the same wording in both releases,
        naming the profile's release), then the gateway's product line, and exits 0."""
        processor, _ = make(profile)
        text, status = run(processor, "status")
        assert status == 0
        assert text.split("\n")[:3] == [
            "The node gw@test is started with status: started",
            f"ejabberd {profile} is running in that node",
            f"xmpp-api-gateway {__version__}",
        ]

    def test_status_over_mod_rest_is_the_command_text(self) -> None:
        """Only ejabberdctl answers ``status`` in its own words: a mod_rest command line,
        or ``status`` with ``--auth``, prints the command's text like any other command."""
        processor, _ = make("23.01", frontend=MOD_REST)
        text, _ = run(processor, "status")
        assert text.startswith("The node gw@test is started. Status: startedejabberd 23.01 is")
        processor, _ = make("24.12")
        text, _ = run(processor, "--auth", "admin", "localhost", "secret", "status")
        assert text.startswith("The node gw@test is started. Status: started  ejabberd 24.12 is")

    def test_list_result(self) -> None:
        """A list result prints one element per line."""
        processor, backend = make()
        assert run(processor, "registered_users", "localhost") == ("admin\nalice\nbob", 0)
        assert backend.calls[0][:2] == ("registered_users", {"host": "localhost"})

    def test_dashes(self) -> None:
        """Dashes in the command name stand for underscores."""
        processor, _ = make()
        assert run(processor, "registered-users", "localhost") == ("admin\nalice\nbob", 0)

    def test_command_failed(self) -> None:
        """An ``{error, Text}`` answer prints ``Error: error`` and the quoted text, exit 1."""
        processor, _ = make()
        assert run(processor, "registered_users", "nohost") == (
            'Error: error\nError: "Unknown virtual host"',
            1,
        )

    def test_rescode(self) -> None:
        """rescode true prints nothing; false prints ``Error: false``, exit 1."""
        processor, _ = make()
        assert run(processor, "check_account", "alice", "localhost") == ("", 0)
        assert run(processor, "check_account", "nobody", "localhost") == ("Error: false", 1)

    def test_typed_error(self) -> None:
        """A typed error prints its kind and message."""
        processor, _ = make()
        assert run(processor, "register", "bob", "localhost", "pw") == (
            "Error: conflict: User bob@localhost already registered",
            1,
        )

    def test_user_policy_and_versions(self) -> None:
        """get_roster takes user and host; --version 0 joins groups with ';'."""
        processor, backend = make()
        assert run(processor, "get_roster", "alice", "localhost") == (
            "bob@localhost\tBob\tboth\tnone\tFriends,Team",
            0,
        )
        assert backend.calls[0][1] == {"user": "alice", "host": "localhost"}
        assert run(processor, "--version", "0", "get_roster", "alice", "localhost") == (
            "bob@localhost\tBob\tboth\tnone\tFriends;Team",
            0,
        )

    def test_2301_profile_nested_lines(self) -> None:
        """The 23.01 profile prints nested list elements on separate lines."""
        processor, _ = make("23.01")
        assert run(processor, "get_user_subscriptions", "al", "localhost") == (
            "room@conf\tal\tn1\nn2",
            0,
        )

    def test_integer_argument(self) -> None:
        """Integer arguments are read like ``~d``; no digits is an error naming the argument."""
        processor, backend = make()
        assert run(processor, "delete_old_users", "30days") == (
            "Removed users older than 30 days",
            0,
        )
        assert backend.calls[-1][1] == {"days": 30}
        text, status = run(processor, "delete_old_users", "soon")
        assert (text, status) == ("Error: argument 'days' expects integer, got \"soon\"", 1)

    def test_forbidden(self) -> None:
        """A denied command prints ejabberd's access-rules term, exit 1."""
        processor, backend = make(permissions=FakePermissions(denied=("registered_users",)))
        assert run(processor, "registered_users", "localhost") == (
            "{error,access_rules_unauthorized}",
            1,
        )
        assert backend.calls == []

    def test_internal_command(self) -> None:
        """An internal command cannot be run from ctl."""
        processor, _ = make()
        assert run(processor, "echo", "hi") == (
            "Error: frontend_cannot_call_an_internal_command",
            1,
        )

    def test_not_supported(self) -> None:
        """A command the backend cannot run says so, exit 1."""
        processor, _ = make()
        text, status = run(processor, "stop_kindly", "5", "bye")
        assert status == 1
        assert text == "Error: Command 'stop_kindly' is not supported by the fake backend"

    def test_backend_crash(self) -> None:
        """A crash in the backend prints a generic internal error."""
        processor, _ = make()
        assert run(processor, "kick_session", "a", "localhost", "r", "bye") == (
            "Error: internal error",
            1,
        )

    def test_unexpected_exception_logged(self) -> None:
        """An exception outside the engine's error tree is logged and answered generically."""
        events: list[LogEvent] = []
        observer = cast(ILogObserver, events.append)
        globalLogPublisher.addObserver(observer)
        try:
            processor, _ = make(permissions=FakePermissions(broken=("registered_users",)))
            assert run(processor, "registered_users", "localhost") == ("Error: internal error", 1)
        finally:
            globalLogPublisher.removeObserver(observer)
        assert any("log_failure" in e for e in events)


class TestCommandLine:
    def test_no_command(self) -> None:
        """No command prints the usage and exits 2."""
        processor, _ = make()
        for argv in ((), ("--version", "2"), ("--auth", "a", "b")):
            text, status = run(processor, *argv)
            assert status == 2
            assert text.startswith("Usage: gatewayctl ")

    @pytest.mark.parametrize("version", ["x", "1.5", "", "２"])
    def test_bad_version(self, version: str) -> None:
        """A version that is not an integer is refused like ejabberdctl does."""
        processor, _ = make()
        assert run(processor, "--version", version, "status") == (
            f'Invalid API version number: "{version}"',
            1,
        )

    def test_version_selects_definition(self) -> None:
        """``--version`` selects the newest definition at or below it."""
        processor, _ = make()
        text, status = run(processor, "--version", "2", "status_list")
        assert status == 1
        assert "users::[ userstatus::{ user::string," in text  # version 0
        text, _ = run(processor, "--version", "3", "status_list")
        assert "users::[ userstatus::{ jid::string," in text  # version 3
        assert text.endswith("Error: the command 'status_list' requires 1 more argument.")

    def test_unknown_command(self) -> None:
        """An unknown command names the closest public command."""
        processor, _ = make()
        text, status = run(processor, "registered_user", "localhost")
        assert (text, status) == (
            "Error: unknown command 'registered_user'. Did you mean 'registered_users'?",
            1,
        )

    def test_wrong_count(self) -> None:
        """A wrong argument count prints the command help and ejabberd's count error."""
        processor, _ = make()
        text, status = run(processor, "registered_users")
        assert status == 1
        assert text.startswith("  Command Name: registered_users\n")
        assert text.endswith("\n\nError: the command 'registered_users' requires 1 more argument.")
        text, _ = run(processor, "registered_users", "a", "b")
        assert text.endswith("requires 1 less argument.")

    def test_ip_is_passed(self) -> None:
        """The caller's IP and frontend name reach the backend."""
        processor, backend = make(frontend="mod_rest")
        run(processor, "registered_users", "localhost", ip=IPv4Address("127.0.0.1"))
        caller = backend.calls[0][2]
        assert (caller.frontend, caller.ip) == ("mod_rest", IPv4Address("127.0.0.1"))


class TestAuth:
    def test_good_password(self) -> None:
        """``--auth`` with the right password makes an authenticated caller."""
        processor, backend = make()
        argv = ("--auth", "Admin", "localhost", "secret", "registered_users", "localhost")
        assert run(processor, *argv) == ("admin\nalice\nbob", 0)
        caller = backend.calls[0][2]
        assert (caller.frontend, caller.jid) == ("ejabberd_ctl", "admin@localhost")

    def test_wrong_password(self) -> None:
        """``--auth`` with a wrong password is refused before anything runs."""
        processor, backend = make()
        argv = ("--auth", "admin", "localhost", "nope", "registered_users", "localhost")
        assert run(processor, *argv) == ("Error: Invalid authentication data", 1)
        assert backend.calls == []

    def test_version_and_auth_order(self) -> None:
        """``--version`` and ``--auth`` may come in either order."""
        processor, backend = make()
        argv = ("--auth", "admin", "localhost", "secret", "--version", "0", "get_roster", "a", "b")
        assert run(processor, *argv) == ("bob@localhost\tBob\tboth\tnone\tFriends;Team", 0)

    def test_empty_auth_is_anonymous(self) -> None:
        """mod_rest's ``--auth "" "" ""`` means an anonymous caller."""
        processor, backend = make()
        assert run(processor, "--auth", "", "", "", "registered_users", "localhost")[1] == 0
        assert backend.calls[0][2].jid is None


class TestHelp:
    def test_command_list(self) -> None:
        """``help`` lists the commands and exits 0."""
        processor, _ = make()
        text, status = run(processor, "help")
        assert status == 0
        assert "\n  registered_users " in text

    def test_command_help(self) -> None:
        """``help CMD`` needs no credentials and accepts dashes."""
        processor, _ = make()
        text, status = run(processor, "--auth", "x", "y", "z", "help", "registered-users")
        assert status == 0
        assert text.startswith("  Command Name: registered_users\n")

    def test_help_unknown(self) -> None:
        """``help`` of an unknown name is an unknown-command error."""
        processor, _ = make()
        text, status = run(processor, "help", "registered_user")
        assert (text, status) == (
            "Error: unknown command 'registered_user'. Did you mean 'registered_users'?",
            1,
        )

    def test_help_tag(self) -> None:
        """``help TAG`` lists the commands carrying that tag."""
        processor, _ = make()
        text, status = run(processor, "help", "roster")
        assert status == 0
        assert text.startswith("Commands tagged roster:\n")
        assert "\n  get_roster " in text

    def test_help_too_many(self) -> None:
        """``help`` takes at most one name."""
        processor, _ = make()
        assert run(processor, "help", "a", "b")[1] == 2

    def test_styles(self) -> None:
        """The output style follows the profile and ``--version 0``."""
        assert [output_style("24.12", v) for v in (None, 0, 2)] == ["24.12", "24.12-v0", "24.12"]
        assert [output_style("23.01", v) for v in (None, 0)] == ["23.01", "23.01"]
