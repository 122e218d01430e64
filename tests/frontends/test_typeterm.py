"""``~w`` text of types and JSON values in mod_http_api's "Arg X is not in format T"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.types import parse_type
from gateway.frontends.typeterm import erlang_float, json_term, type_term


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("binary", "binary"),
        ("integer", "integer"),
        ({"list": ["group", "binary"]}, "{list,{group,binary}}"),
        ({"tuple": [["a", "binary"], ["b", "integer"]]}, "{tuple,[{a,binary},{b,integer}]}"),
        (
            {"list": ["user", {"tuple": [["jid", "binary"], ["nick", "string"]]}]},
            "{list,{user,{tuple,[{jid,binary},{nick,string}]}}}",
        ),
    ],
)
def test_type_term(raw: object, text: str) -> None:
    """Types print as ejabberd's command-table terms."""
    assert type_term(parse_type(raw)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5, "5"),
        ("5", "<<53>>"),
        ("", "<<>>"),
        ("é", "<<195,169>>"),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (5.0, "5.0"),
        ([1, "a"], "[1,<<97>>]"),
        ([], "[]"),
    ],
)
def test_json_term_scalars_and_lists(value: object, text: str) -> None:
    """Strings are binaries written as byte lists; null/true/false are atoms."""
    assert json_term(value) == text
    assert json_term(value, maps=False) == text


def test_json_term_objects() -> None:
    """Objects are maps with sorted keys (24.12) or {[…]} proplists in order (23.01)."""
    value = {"b": 1, "a": {"c": None}}
    assert json_term(value) == "#{<<97>>=>#{<<99>>=>null},<<98>>=>1}"
    assert json_term(value, maps=False) == "{[{<<98>>,1},{<<97>>,{[{<<99>>,null}]}}]}"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5.0, "5.0"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.5, "1.5"),
        (-2.25, "-2.25"),
        (0.1, "0.1"),
        (100.0, "100.0"),
        (1000.0, "1.0e3"),
        (1e20, "1.0e20"),
        (1e-7, "1.0e-7"),
        (123.456, "123.456"),
        (1.2345e-10, "1.2345e-10"),
    ],
)
def test_erlang_float(value: float, text: str) -> None:
    """Floats print with the shortest digits and Erlang's plain-or-exponent choice."""
    assert erlang_float(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_erlang_float_round_trips(value: float) -> None:
    """The printed float reads back as the same number."""
    assert float(erlang_float(value)) == value


def test_erlang_float_refuses_nan() -> None:
    """Erlang has no NaN."""
    with pytest.raises(ValueError):
        erlang_float(float("nan"))
