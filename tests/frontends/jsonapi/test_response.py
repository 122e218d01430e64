"""Encoding mod_http_api answers: results per type and profile, and error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import coerce_args
from gateway.engine.erlprint import TermText
from gateway.engine.errors import (
    ArgumentError,
    BadRequest,
    CommandError,
    CommandFailed,
    Forbidden,
    InternalCommand,
    InternalError,
    InvalidToken,
    NotSupported,
    TypedCommandError,
    Unauthorized,
    Unavailable,
    UnknownCommand,
)
from gateway.engine.model import CommandDefinition, ResTuple, Result
from gateway.engine.types import Param, parse_type
from gateway.frontends.jsonapi.response import dump_json, encode_error, encode_result
from tests.frontends.helpers import ROSTER_RESULT


def definition(result: Any, name: str = "cmd", args: Any = ()) -> CommandDefinition:
    return CommandDefinition(
        name=name,
        version=0,
        args=tuple(Param(n, parse_type(t)) for n, t in args),
        result=Param(result[0], parse_type(result[1])),
    )


def encode(result: Any, value: Any, *, legacy: bool = False, wrap: bool = False) -> Any:
    status, body = encode_result(Result(definition(result), value), legacy=legacy, wrap=wrap)
    return status, dump_json(body).decode()


# -- results ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(True, "0"), ("ok", "0"), ("true", "0"), (False, "1"), ("x", "1")]
)
def test_rescode(value: Any, expected: str) -> None:
    """A rescode is 0 for ok/true and 1 for anything else, never wrapped."""
    assert encode(("res", "rescode"), value, wrap=True) == (200, expected)


def test_restuple() -> None:
    """An ok restuple is its text; {error, Text} is 400 Text; another status is 500
    with code 0, in the profile's key order."""
    assert encode(("res", "restuple"), ResTuple("done")) == (200, '"done"')
    assert encode(("res", "restuple"), ResTuple("bad", "error")) == (400, '"bad"')
    assert encode(("res", "restuple"), ResTuple("odd", "warning")) == (
        500,
        '{"status":"error","message":"odd","code":0}',
    )
    assert encode(("res", "restuple"), ResTuple("odd", "warning"), legacy=True) == (
        500,
        '{"status":"error","code":0,"message":"odd"}',
    )


@pytest.mark.parametrize(
    ("result", "value", "bare", "wrapped"),
    [
        (("num", "integer"), 5, "5", '{"num":5}'),
        (("text", "string"), "a/é", '"a/é"', '{"text":"a/é"}'),
        (("node", "atom"), "gw@h", '"gw@h"', '{"node":"gw@h"}'),
    ],
)
def test_scalars(result: Any, value: Any, bare: str, wrapped: str) -> None:
    """Scalars are bare, or {"<result name>": value} for version 0; "/" and UTF-8 raw."""
    assert encode(result, value) == (200, bare)
    assert encode(result, value, wrap=True) == (200, wrapped)


def test_list_of_scalars() -> None:
    """A list is a JSON array, never wrapped."""
    assert encode(("users", {"list": ["username", "string"]}), ["a", "b"], wrap=True) == (
        200,
        '["a","b"]',
    )


ROSTER = ROSTER_RESULT


def test_tuple_key_order() -> None:
    """Tuples are objects: keys reverse-sorted in 24.12, in field order in 23.01."""
    item = ("bob@localhost", "Bob", "both", "none", ["Friends"])
    assert encode(ROSTER, [item]) == (
        200,
        '[{"subscription":"both","pending":"none","nick":"Bob",'
        '"jid":"bob@localhost","groups":["Friends"]}]',
    )
    assert encode(ROSTER, [item], legacy=True) == (
        200,
        '[{"jid":"bob@localhost","nick":"Bob","subscription":"both",'
        '"pending":"none","groups":["Friends"]}]',
    )


def test_pair_lists_become_one_object() -> None:
    """A list of {name, value} pairs, or of pairs whose first field is an atom, is one
    object in list order; other 2-tuples stay an array of objects."""
    options = (
        "options",
        {"list": ["option", {"tuple": [["name", "string"], ["value", "string"]]}]},
    )
    assert encode(options, [("title", "T"), ("public", "true")]) == (
        200,
        '{"title":"T","public":"true"}',
    )
    modules = (
        "modules",
        {"list": ["module", {"tuple": [["name", "atom"], ["summary", "string"]]}]},
    )
    assert encode(modules, [("mod_b", "B"), ("mod_a", "A")]) == (200, '{"mod_b":"B","mod_a":"A"}')
    info = ("info", {"list": ["i", {"tuple": [["key", "string"], ["value", "string"]]}]})
    assert encode(info, [("k", "v")]) == (200, '[{"value":"v","key":"k"}]')


def test_top_level_tuple() -> None:
    """A tuple result is an object, not wrapped even for version 0."""
    last = ("last_activity", {"tuple": [["timestamp", "string"], ["status", "string"]]})
    assert encode(last, ("2024", "away"), wrap=True) == (
        200,
        '{"timestamp":"2024","status":"away"}',
    )


def test_nested_rescode_and_restuple() -> None:
    """Inside a tuple a rescode is a boolean and a restuple is {res, text}."""
    shape = ("r", {"tuple": [["ok", "rescode"], ["detail", "restuple"]]})
    assert encode(shape, (True, ResTuple("fine")), legacy=True) == (
        200,
        '{"ok":true,"detail":{"res":true,"text":"fine"}}',
    )


def test_wrong_shapes_are_bugs() -> None:
    """A value that does not match the declared type is a TypeError (a backend bug)."""
    for result, value in (
        (("n", "integer"), "5"),
        (("n", "integer"), True),
        (("s", "string"), 5),
        (("r", "restuple"), "text"),
        (("l", {"list": ["x", "string"]}), "abc"),
        (("t", {"tuple": [["a", "string"]]}), ("a", "b")),
    ):
        with pytest.raises(TypeError):
            encode(result, value)


def test_unencodable_text() -> None:
    """Text with no UTF-8 form cannot be dumped (the resource answers 400)."""
    with pytest.raises(UnicodeEncodeError):
        dump_json("\udce9")


# -- errors ----------------------------------------------------------------------

CATALOGUE = Catalogue.load("24.12")


def error_of(name: str, given: list[tuple[str, Any]]) -> ArgumentError:
    with pytest.raises(ArgumentError) as caught:
        coerce_args(CATALOGUE.lookup(name), given)
    return caught.value


def text_of(error: CommandError, legacy: bool = False) -> Any:
    status, body = encode_error(error, legacy=legacy)
    return status, json.loads(dump_json(body))


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("registered_users", [], "Request have missing argument: host"),
        (
            "registered_users",
            [("host", "a"), ("host", "b")],
            "Request have duplicate argument: host",
        ),
        ("status", [("foo", 1), ("bar", 2)], "Request have unknown arguments: [foo,bar]"),
        ("status", [("Foo", 1)], "Request have unknown arguments: ['Foo']"),
        ("registered_users", [("host", 5)], "Arg 5 is not in format binary"),
        ("delete_old_users", [("days", "5")], "Arg <<53>> is not in format integer"),
        ("delete_old_users", [("days", 5.0)], "Arg 5.0 is not in format integer"),
        ("delete_old_users", [("days", True)], "Arg true is not in format integer"),
        (
            "srg_create",
            [("group", "g"), ("host", "h"), ("label", "l"), ("description", "d"), ("display", "x")],
            "Arg <<120>> is not in format {list,{group,binary}}",
        ),
        (
            "srg_create",
            [
                ("group", "g"),
                ("host", "h"),
                ("label", "l"),
                ("description", "d"),
                ("display", ["a", 7]),
            ],
            "Arg 7 is not in format binary",
        ),
    ],
)
def test_argument_messages(name: str, given: list[tuple[str, Any]], message: str) -> None:
    """Argument errors are 400 with a JSON string naming the argument, the value (~w)
    and the innermost type that did not fit."""
    assert text_of(error_of(name, given)) == (400, message)


def test_bad_type_object_term_per_profile() -> None:
    """An object in a type error prints as a map in 24.12 and a proplist in 23.01."""
    error = error_of("registered_users", [("host", {"b": 1, "a": 2})])
    assert text_of(error)[1] == "Arg #{<<97>>=>2,<<98>>=>1} is not in format binary"
    assert text_of(error, legacy=True)[1] == "Arg {[{<<98>>,1},{<<97>>,2}]} is not in format binary"


@pytest.mark.parametrize(
    ("error", "status", "code", "message"),
    [
        (UnknownCommand("x"), 404, 40, "Endpoint not found."),
        (Unauthorized(), 401, 10, "You are not authorized to call this command."),
        (InvalidToken(), 401, 10, "Oauth Token is invalid or expired."),
        (
            Forbidden("x"),
            403,
            32,
            "AccessRules: Account does not have the right to perform the operation.",
        ),
        (TypedCommandError("conflict", 10090, "taken"), 409, 10090, "taken"),
        (TypedCommandError("not_exists", 7, "gone"), 404, 7, "gone"),
        (TypedCommandError("whatever", 3, "odd"), 500, 3, "odd"),
        (
            NotSupported("ban_account", "embedded"),
            501,
            50,
            "Command 'ban_account' is not supported by the embedded backend",
        ),
        (Unavailable("upstream down"), 503, 51, "upstream down"),
    ],
)
def test_error_objects(error: CommandError, status: int, code: int, message: str) -> None:
    """Errors with a code get an error object; B orders status, message, code and A
    status, code, message."""
    assert encode_error(error, legacy=False) == (
        status,
        {"status": "error", "message": message, "code": code},
    )
    _, body = encode_error(error, legacy=True)
    assert list(body) == ["status", "code", "message"]


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (BadRequest("x"), 400, "400 Bad Request"),
        (InternalCommand("x"), 400, "frontend_cannot_call_an_internal_command"),
        (CommandFailed("Unknown virtual host"), 400, "Unknown virtual host"),
        (CommandFailed("not_found", atom="not_found"), 404, "not_found"),
        (CommandFailed("Room gone", atom="not_found"), 404, "Room gone"),
        (CommandFailed("not_allowed", atom="not_allowed"), 401, "not_allowed"),
        (InternalError(), 500, "internal_error"),
    ],
)
def test_error_strings(error: CommandError, status: int, message: str) -> None:
    """Errors without a code are a bare JSON string."""
    assert encode_error(error, legacy=False) == (status, message)


# what the JSON decoder can produce: finite floats, text without lone surrogates
TEXT = st.text(alphabet=st.characters(codec="utf-8"))
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@given(JSON_VALUES)
def test_any_value_gives_a_message(value: Any) -> None:
    """Whatever decoded value a list argument gets, the error (if any) renders as text."""
    name = "srg_create"
    given = [
        ("group", "g"),
        ("host", "h"),
        ("label", "l"),
        ("description", "d"),
        ("display", value),
    ]
    try:
        coerce_args(CATALOGUE.lookup(name), given)
    except ArgumentError as e:
        for legacy in (False, True):
            status, message = text_of(e, legacy)
            assert status == 400
            assert isinstance(message, str)


def test_term_text_is_its_plain_text() -> None:
    """A 23.01 srg_get_info value carrying an Erlang term shows its mod_http_api text.

    Captured from Debian's ejabberd 23.01 (/api, group with an empty label and
    one displayed group ``g1``).
    """
    srg = Catalogue.load("23.01").newest("srg_get_info")
    value = [
        ("label", TermText("", "[]")),
        ("displayed_groups", TermText("g1", '["g1"]')),
        ("description", TermText("", "[]")),
    ]
    status, body = encode_result(Result(srg, value, profile="23.01"), legacy=True, wrap=True)
    assert status == 200
    assert dump_json(body).decode() == (
        '[{"key":"label","value":""},{"key":"displayed_groups","value":"g1"},'
        '{"key":"description","value":""}]'
    )
