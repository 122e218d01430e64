"""Argument coercion: neutral values matched to declared arguments and typed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import CoercionOptions, coerce_args, coerce_value
from gateway.engine.errors import (
    ArgumentOutOfRange,
    BadArgumentType,
    DuplicateArgument,
    MissingArgument,
    UnknownArguments,
)
from gateway.engine.model import CommandDefinition
from gateway.engine.types import Param, Type, parse_type

CATALOGUE = Catalogue.load("24.12")
STRICT = CoercionOptions(missing_list_is_empty=False, object_as_pairs=False)


def definition(
    *args: tuple[str, Any], renames: tuple[tuple[str, str], ...] = ()
) -> CommandDefinition:
    return CommandDefinition(
        name="cmd",
        version=0,
        args=tuple(Param(name, parse_type(t)) for name, t in args),
        result=Param("res", Type("rescode")),
        args_rename=renames,
    )


def test_typed_in_declared_order() -> None:
    """Arguments given in any order come back keyed and ordered as declared."""
    d = definition(("user", "binary"), ("days", "integer"))
    assert list(coerce_args(d, [("days", 3), ("user", "u")]).items()) == [
        ("user", "u"),
        ("days", 3),
    ]


def test_missing_names_the_argument() -> None:
    """A missing argument is reported by name, with what was left unconsumed."""
    d = definition(("user", "binary"), ("host", "binary"))
    with pytest.raises(MissingArgument) as e:
        coerce_args(d, [("user", "u")])
    assert e.value.argument == "host"
    assert e.value.remaining == ()


def test_missing_list_defaults_to_empty_unless_strict() -> None:
    """mod_http_api lets a list default to []; XML-RPC and ctl (strict) require it."""
    d = definition(("groups", {"list": ["group", "binary"]}))
    assert coerce_args(d, []) == {"groups": []}
    with pytest.raises(MissingArgument):
        coerce_args(d, [], STRICT)


def test_duplicate_names_the_argument() -> None:
    """The same argument twice is a duplicate error naming it."""
    d = definition(("host", "binary"))
    with pytest.raises(DuplicateArgument) as e:
        coerce_args(d, [("host", "a"), ("host", "b")])
    assert e.value.argument == "host"


def test_unknown_arguments_listed() -> None:
    """Leftover arguments are reported, all of them, after the declared ones are checked."""
    d = definition(("host", "binary"))
    with pytest.raises(UnknownArguments) as e:
        coerce_args(d, [("foo", 1), ("host", "h"), ("bar", 2)])
    assert e.value.names == ("foo", "bar")


def test_checks_run_in_declared_order() -> None:
    """A wrong type in the first argument is reported before a missing second one."""
    d = definition(("days", "integer"), ("host", "binary"))
    with pytest.raises(BadArgumentType) as e:
        coerce_args(d, [("days", "5")])
    assert e.value.argument == "days"


@pytest.mark.parametrize("value", ["5", 5.0, True, None, [5], {"a": 1}])
def test_integer_accepts_only_integers(value: Any) -> None:
    """An integer argument refuses strings, floats, booleans, null, lists and objects."""
    d = definition(("days", "integer"))
    with pytest.raises(BadArgumentType) as e:
        coerce_args(d, [("days", value)])
    assert (e.value.argument, e.value.value, e.value.expected) == ("days", value, Type("integer"))


@pytest.mark.parametrize("value", [5, 5.0, True, None, ["x"]])
def test_text_accepts_only_strings(value: Any) -> None:
    """A binary/string argument refuses every non-string value."""
    d = definition(("host", "binary"))
    with pytest.raises(BadArgumentType):
        coerce_args(d, [("host", value)])


def test_args_rename_accepts_old_names() -> None:
    """An old argument name listed in args_rename fills the new one (server → host)."""
    d = CATALOGUE.lookup("get_roster", 0)
    # policy user: user and host come first
    from gateway.engine.dispatch import with_policy_args

    assert coerce_args(with_policy_args(d), [("user", "u"), ("server", "h")]) == {
        "user": "u",
        "host": "h",
    }


def test_args_rename_old_and_new_name_is_duplicate() -> None:
    """Giving both the old and the new name of a renamed argument is a duplicate."""
    d = CATALOGUE.lookup("add_rosteritem", 1)
    with pytest.raises(DuplicateArgument) as e:
        coerce_args(
            d,
            [
                ("localuser", "a"),
                ("localserver", "h"),
                ("localhost", "h"),
                ("user", "b"),
                ("host", "h"),
                ("nick", "n"),
                ("groups", []),
                ("subs", "both"),
            ],
        )
    assert e.value.argument == "localhost"


def test_rename_skipped_when_old_name_is_declared() -> None:
    """muc_register_nick v3 keeps host→service but also takes a real host: no renaming then."""
    d = CATALOGUE.lookup("muc_register_nick")
    args = [("nick", "n"), ("user", "u"), ("host", "h"), ("service", "conf.h")]
    assert coerce_args(d, args) == dict(args)


def test_tuple_and_list_of_tuples() -> None:
    """Tuples are objects keyed by field; lists of them are arrays of such objects."""
    d = definition(
        ("users", {"list": ["user", {"tuple": [["jid", "binary"], ["nick", "binary"]]}]})
    )
    assert coerce_args(d, [("users", [{"nick": "N", "jid": "a@b"}])]) == {"users": [("a@b", "N")]}
    with pytest.raises(BadArgumentType):
        coerce_args(d, [("users", [{"jid": "a@b"}])])


def test_pairs_from_object() -> None:
    """A list of 2-tuples with a text first field also takes a JSON object, unless strict."""
    pair_list = {"list": ["option", {"tuple": [["name", "binary"], ["value", "binary"]]}]}
    d = definition(("options", pair_list))
    assert coerce_args(d, [("options", {"title": "T", "public": "true"})]) == {
        "options": [("title", "T"), ("public", "true")]
    }
    with pytest.raises(BadArgumentType):
        coerce_args(d, [("options", {"title": "T"})], STRICT)


neutral = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
types = st.sampled_from(
    [
        Type("integer"),
        Type("binary"),
        parse_type({"list": ["g", "binary"]}),
        parse_type({"tuple": [["a", "integer"], ["b", "string"]]}),
        parse_type({"list": ["p", {"tuple": [["k", "binary"], ["v", "integer"]]}]}),
    ]
)


@given(types, neutral)
def test_coercion_is_total(type_: Type, value: Any) -> None:
    """Any neutral value coerces or raises an argument error naming it, never anything else.

    Changed by issue 8 (item 6): an integer too wide for a 64-bit column is
    ArgumentOutOfRange (a sibling of BadArgumentType with the same code).
    """
    d = definition(("x", type_.to_json()))
    try:
        result = coerce_args(d, [("x", value)])
    except (BadArgumentType, ArgumentOutOfRange) as e:
        assert e.argument == "x"
    else:
        assert set(result) == {"x"}


@given(st.lists(st.text(), max_size=5))
def test_list_of_text_round_trips(values: list[str]) -> None:
    """A list of strings coerces to the same list."""
    assert coerce_value(parse_type({"list": ["g", "binary"]}), values) == values
