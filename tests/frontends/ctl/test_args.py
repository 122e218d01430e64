"""Reading ejabberdctl's positional arguments."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import CoercionOptions, coerce_args
from gateway.engine.errors import BadArgumentType
from gateway.engine.model import CommandDefinition
from gateway.engine.types import parse_param
from gateway.frontends.ctl.args import (
    ArgumentCountError,
    parse_ctl_args,
    read_integer,
    split_list,
)


def definition(*args: Any, name: str = "cmd") -> CommandDefinition:
    return CommandDefinition(
        name=name,
        version=0,
        args=tuple(parse_param(a) for a in args),
        result=parse_param(["res", "rescode"]),
    )


SUBSCRIBE_MANY = definition(
    ["users", {"list": ["user", {"tuple": [["jid", "binary"], ["nick", "binary"]]}]}],
    ["room", "binary"],
    ["nodes", {"list": ["node", "binary"]}],
    name="subscribe_room_many",
)


class TestIntegers:
    @pytest.mark.parametrize(
        ("text", "value"),
        [("12", 12), ("12abc", 12), ("-7", -7), ("+3", 3), (" 5", 5), ("007", 7), ("1 2", 1)],
    )
    def test_read_like_erlang_d(self, text: str, value: int) -> None:
        """Integers read like ``~d``: sign and digits, whatever follows is ignored."""
        assert read_integer(text) == value

    @pytest.mark.parametrize("text", ["", "abc", "-", "x12", "٣"])
    def test_no_digits(self, text: str) -> None:
        """Text without leading (ASCII) digits is not an integer."""
        with pytest.raises(ValueError):
            read_integer(text)

    @given(st.integers(), st.text().filter(lambda s: not s[:1].isdigit()))
    def test_suffix_ignored(self, number: int, suffix: str) -> None:
        """Any integer followed by anything that is not a digit reads back as that integer."""
        assert read_integer(f"{number}{suffix}") == number

    def test_error_names_argument(self) -> None:
        """A non-integer argument fails with an error naming the argument and its text."""
        days = definition(["days", "integer"], name="delete_old_users")
        with pytest.raises(BadArgumentType) as caught:
            parse_ctl_args(days, ["soon"], "24.12")
        assert caught.value.argument == "days"
        assert caught.value.value == "soon"
        assert caught.value.command == "delete_old_users"


class TestLists:
    @pytest.mark.parametrize(
        ("text", "items"),
        [("a,b", ["a", "b"]), (" a , b ,", ["a", "b"]), ("", []), (",,", []), ("a", ["a"])],
    )
    def test_split(self, text: str, items: list[str]) -> None:
        """Lists split on commas; items are trimmed and empty ones dropped."""
        assert split_list(text) == items

    @given(st.lists(st.text(st.characters(blacklist_characters=","), min_size=1)))
    def test_split_round_trip(self, items: list[str]) -> None:
        """Joining items with commas and splitting gives back the non-blank items, trimmed."""
        assert split_list(",".join(items)) == [i.strip() for i in items if i.strip()]

    @given(st.lists(st.integers(), max_size=8))
    def test_integer_lists(self, numbers: list[int]) -> None:
        """A list of integers reads each item as an integer."""
        numbers_def = definition(["ns", {"list": ["n", "integer"]}])
        text = " , ".join(str(n) for n in numbers)
        assert parse_ctl_args(numbers_def, [text], "24.12") == [("ns", numbers)]


class TestParse:
    def test_text_verbatim(self) -> None:
        """binary and string arguments are taken exactly as given."""
        text_def = definition(["a", "binary"], ["b", "string"])
        assert parse_ctl_args(text_def, [" x,y ", ""], "24.12") == [("a", " x,y "), ("b", "")]

    def test_list_of_tuples(self) -> None:
        """``a:b,c:d`` is a list of tuples; a tuple's last field keeps further colons."""
        pairs = parse_ctl_args(
            SUBSCRIBE_MANY, ["u1@h:One, u2@h:Two:Half", "room@conf", "a,b"], "24.12"
        )
        assert pairs == [
            ("users", [{"jid": "u1@h", "nick": "One"}, {"jid": "u2@h", "nick": "Two:Half"}]),
            ("room", "room@conf"),
            ("nodes", ["a", "b"]),
        ]
        typed = coerce_args(SUBSCRIBE_MANY, pairs, CoercionOptions(missing_list_is_empty=False))
        assert typed["users"] == [("u1@h", "One"), ("u2@h", "Two:Half")]

    def test_tuple_too_few_fields(self) -> None:
        """A tuple with fewer fields than declared is refused, naming the argument."""
        with pytest.raises(BadArgumentType) as caught:
            parse_ctl_args(SUBSCRIBE_MANY, ["justajid", "r", ""], "24.12")
        assert caught.value.argument == "users"

    def test_2301_json(self) -> None:
        """The 23.01 style reads lists and tuples as JSON (objects or positional arrays)."""
        pairs = parse_ctl_args(
            SUBSCRIBE_MANY,
            ['[{"jid": "a@h", "nick": "A"}, ["b@h", "B"]]', "r", '["n1"]'],
            "23.01",
        )
        assert pairs == [
            ("users", [{"jid": "a@h", "nick": "A"}, {"jid": "b@h", "nick": "B"}]),
            ("room", "r"),
            ("nodes", ["n1"]),
        ]

    @pytest.mark.parametrize("text", ["a,b", '"a"', "[1"])
    def test_2301_rejects_non_json(self, text: str) -> None:
        """The 23.01 style refuses list text that is not a JSON array or object."""
        nodes = definition(["nodes", {"list": ["node", "binary"]}])
        with pytest.raises(BadArgumentType):
            parse_ctl_args(nodes, [text], "23.01")

    def test_any_is_json_or_text(self) -> None:
        """``any`` arguments are JSON when they parse as JSON, else the plain text."""
        any_def = definition(["a", "any"], ["b", "any"])
        assert parse_ctl_args(any_def, ['{"k": 1}', "plain"], "24.12") == [
            ("a", {"k": 1}),
            ("b", "plain"),
        ]

    @pytest.mark.parametrize(
        ("strings", "message"),
        [
            ([], "the command 'registered_users' requires 1 more argument."),
            (["a", "b", "c"], "the command 'registered_users' requires 2 less argument."),
        ],
    )
    def test_wrong_count(self, strings: list[str], message: str) -> None:
        """A wrong argument count is reported in ejabberd's (singular) wording."""
        registered = Catalogue.load("24.12").lookup("registered_users")
        with pytest.raises(ArgumentCountError) as caught:
            parse_ctl_args(registered, strings, "24.12")
        assert caught.value.message == message
