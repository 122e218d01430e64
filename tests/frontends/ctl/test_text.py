"""ejabberdctl text: results, errors and command lists."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.catalogue import Catalogue
from gateway.engine.erlprint import TermText
from gateway.engine.errors import (
    BadArgumentType,
    CommandError,
    CommandFailed,
    Forbidden,
    InternalCommand,
    InternalError,
    MissingArgument,
    NotSupported,
    TypedCommandError,
    Unauthorized,
    Unavailable,
    UnknownCommand,
)
from gateway.engine.model import CommandDefinition, ResTuple, Result
from gateway.engine.types import Param, Type, parse_param
from gateway.frontends.ctl.text import (
    erlang_string,
    format_command_list,
    format_error,
    format_help,
    format_result,
    format_tagged,
)
from tests.frontends.helpers import ROSTER_RESULT

ROSTER_2412 = parse_param(ROSTER_RESULT)
ROSTER_VALUE = [
    ("bob@localhost", "Bob", "both", "none", ["Friends", "Team"]),
    ("carol@localhost", "", "to", "none", []),
]


def result(param: Param, value: Any) -> Result:
    definition = CommandDefinition(name="cmd", version=0, args=(), result=param)
    return Result(definition, value)


def scalar(kind: str, value: Any) -> Result:
    return result(Param("res", Type(kind)), value)  # type: ignore[arg-type]


class TestFormatResult:
    def test_roster_2412(self) -> None:
        """24.12: one contact per line, fields joined by TAB, groups by commas."""
        assert format_result(result(ROSTER_2412, ROSTER_VALUE), "24.12") == (
            "bob@localhost\tBob\tboth\tnone\tFriends,Team\ncarol@localhost\t\tto\tnone\t",
            0,
        )

    def test_roster_version_0(self) -> None:
        """24.12 with --version 0 joins nested lists with semicolons."""
        text, status = format_result(result(ROSTER_2412, ROSTER_VALUE[:1]), "24.12-v0")
        assert (text, status) == ("bob@localhost\tBob\tboth\tnone\tFriends;Team", 0)

    def test_roster_2301(self) -> None:
        """23.01 prints each element of a nested list on its own line."""
        text, _ = format_result(result(ROSTER_2412, ROSTER_VALUE[:1]), "23.01")
        assert text == "bob@localhost\tBob\tboth\tnone\tFriends\nTeam"

    def test_integer_and_atom(self) -> None:
        """Integers and atoms print plainly, with exit status 0."""
        assert format_result(scalar("integer", 42), "24.12") == ("42", 0)
        assert format_result(scalar("atom", "info"), "24.12") == ("info", 0)

    def test_text_is_raw(self) -> None:
        """Strings print as they are, non-ASCII and quotes included."""
        assert format_result(scalar("string", 'é "x"'), "24.12") == ('é "x"', 0)
        assert format_result(scalar("binary", ""), "23.01") == ("", 0)

    def test_top_level_list(self) -> None:
        """A top-level list prints one element per line; an empty one prints nothing."""
        users = parse_param(["users", {"list": ["username", "string"]}])
        assert format_result(result(users, ["a", "b"]), "24.12") == ("a\nb", 0)
        assert format_result(result(users, []), "23.01") == ("", 0)

    def test_tuple(self) -> None:
        """A tuple result joins its fields with TAB; a mapping by field name works too."""
        last = parse_param(
            ["last_activity", {"tuple": [["timestamp", "string"], ["status", "string"]]}]
        )
        assert format_result(result(last, ("2024", "away")), "24.12") == ("2024\taway", 0)
        mapping = {"status": "away", "timestamp": "2024"}
        assert format_result(result(last, mapping), "24.12") == ("2024\taway", 0)

    @pytest.mark.parametrize("value", [True, "ok", "true"])
    def test_rescode_ok(self, value: Any) -> None:
        """A successful rescode prints nothing and exits 0."""
        assert format_result(scalar("rescode", value), "24.12") == ("", 0)

    def test_rescode_false(self) -> None:
        """A failed rescode prints ``Error: false`` and exits 1."""
        assert format_result(scalar("rescode", False), "24.12") == ("Error: false", 1)
        assert format_result(scalar("rescode", "error"), "23.01") == ("Error: error", 1)

    def test_restuple(self) -> None:
        """restuple prints its text; a status other than ok exits 1."""
        assert format_result(scalar("restuple", ResTuple("done")), "24.12") == ("done", 0)
        assert format_result(scalar("restuple", ResTuple("no", "error")), "24.12") == ("no", 1)

    def test_unknown_style(self) -> None:
        """An unknown style is a programming error, not silently a default."""
        with pytest.raises(ValueError):
            format_result(scalar("integer", 1), "25.01")

    @given(st.lists(st.text(st.characters(blacklist_characters="\n")), min_size=1))
    def test_list_lines_round_trip(self, items: list[str]) -> None:
        """Splitting a top-level list's output on newlines gives the elements back."""
        users = parse_param(["users", {"list": ["username", "string"]}])
        text, _ = format_result(result(users, items), "24.12")
        assert text.split("\n") == items


class TestFormatError:
    @pytest.mark.parametrize(
        ("error", "text", "status"),
        [
            (
                CommandFailed("Unknown virtual host"),
                'Error: error\nError: "Unknown virtual host"',
                1,
            ),
            (CommandFailed("not found", atom="not_found"), "Error: error\nError: not_found", 1),
            (
                TypedCommandError("conflict", 10090, "User bob@localhost already registered"),
                "Error: conflict: User bob@localhost already registered",
                1,
            ),
            (Forbidden("registered_users"), "{error,access_rules_unauthorized}", 1),
            # a thrown failure prints alone, as ejabberdctl 23.01 prints it
            (
                CommandFailed("Room doesn't exists", thrown=True),
                '{error,"Room doesn\'t exists"}',
                1,
            ),
            (
                CommandFailed("unknown_user", atom="not_found", thrown=True),
                '{not_found,"unknown_user"}',
                1,
            ),
            (
                CommandFailed("error_no_vcard_found", atom="error_no_vcard_found", thrown=True),
                "error_no_vcard_found",
                1,
            ),
            (
                UnknownCommand("no_such_cmd", "dump"),
                "Error: unknown command 'no_such_cmd'. Did you mean 'dump'?",
                1,
            ),
            (UnknownCommand("x"), "Error: unknown command 'x'.", 1),
            (
                NotSupported("get_roster", "upstream"),
                "Error: Command 'get_roster' is not supported by the upstream backend",
                1,
            ),
            (Unavailable("XMPP link is down"), "Error: XMPP link is down", 1),
            (Unauthorized(), "Error: Invalid authentication data", 1),
            (
                InternalCommand("echo"),
                "Error: frontend_cannot_call_an_internal_command",
                1,
            ),
            (InternalError(), "Error: internal error", 1),
            (MissingArgument("cmd", "host"), "Error: Missing argument: host", 1),
            (
                BadArgumentType("delete_old_users", "days", "abc", Type("integer")),
                "Error: argument 'days' expects integer, got \"abc\"",
                1,
            ),
        ],
    )
    def test_error_texts(self, error: CommandError, text: str, status: int) -> None:
        """Each error class prints ejabberdctl's text with the table's exit status."""
        assert format_error(error) == (text, status)

    def test_erlang_string_escapes(self) -> None:
        """Quotes, backslashes and control characters are escaped like Erlang's ~p."""
        assert erlang_string('a"b\\c\nd\x01') == '"a\\"b\\\\c\\nd\\001"'

    @given(st.text())
    def test_erlang_string_has_no_raw_newline(self, text: str) -> None:
        """A quoted reason always fits on one line and is wrapped in double quotes."""
        quoted = erlang_string(text)
        assert "\n" not in quoted
        assert quoted.startswith('"') and quoted.endswith('"')
        assert len(quoted) >= len(text) + 2


class TestHelpTexts:
    def test_user_policy_note(self) -> None:
        """Help for a policy-user command says that user and host come first."""
        text = format_help(Catalogue.load("24.12").lookup("get_roster"))
        assert "  Arguments: \n\n  Returns: contacts::[ contact::{ jid::string," in text
        assert "give its user and host before the arguments above" in text

    def test_note_shown(self) -> None:
        """The definition's note is printed after the description."""
        definition = Catalogue.load("24.12").lookup("abort_delete_old_mam_messages")
        assert format_help(definition).endswith("\n\n  Note: added in 22.05")

    def test_command_list(self) -> None:
        """Plain help lists every public command, sorted, with its description."""
        catalogue = Catalogue.load("24.12")
        text = format_command_list(catalogue)
        assert text.startswith("Usage: gatewayctl ")
        listed = [line.split()[0] for line in text.split("Available commands:\n")[1].split("\n")]
        assert listed == sorted(catalogue.names())
        assert "webadmin_node_db" not in listed
        status = catalogue.lookup("status").description
        assert f"  status{' ' * 10}" in text and status in text

    def test_tagged(self) -> None:
        """A tag listing names the tag and the given commands."""
        text = format_tagged(Catalogue.load("24.12"), "roster", ["get_roster", "add_rosteritem"])
        lines = text.split("\n")
        assert lines[0] == "Commands tagged roster:"
        assert [line.split()[0] for line in lines[1:]] == ["add_rosteritem", "get_roster"]


def test_term_text_prints_its_erlang_term() -> None:
    """A 23.01 srg_get_info value carrying an Erlang term prints as ejabberdctl's ``~p``.

    Captured from Debian's ejabberd 23.01 (``ejabberdctl srg_get_info`` of a group
    with an empty label and description and the displayed group ``g1``).
    """
    srg = Catalogue.load("23.01").newest("srg_get_info")
    value = [
        ("label", TermText("", "[]")),
        ("displayed_groups", TermText("g1", '["g1"]')),
        ("description", TermText("", "[]")),
    ]
    assert format_result(Result(srg, value, profile="23.01"), "23.01") == (
        'label\t[]\ndisplayed_groups\t["g1"]\ndescription\t[]',
        0,
    )
