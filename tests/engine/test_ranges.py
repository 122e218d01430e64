"""Range checks of integer arguments (gateway.engine.ranges, applied by the coercion)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import coerce_args
from gateway.engine.errors import ERROR_TABLE, ArgumentOutOfRange
from gateway.engine.model import CommandDefinition
from gateway.engine.ranges import INT64, POSIX_DATE, bounds_for
from gateway.engine.types import Param, parse_type

SET_LAST = Catalogue.load("24.12").lookup("set_last")


def definition(*args: tuple[str, Any], name: str = "cmd") -> CommandDefinition:
    return CommandDefinition(
        name=name,
        version=0,
        args=tuple(Param(n, parse_type(t)) for n, t in args),
        result=Param("res", parse_type("rescode")),
    )


def set_last(timestamp: Any) -> dict[str, Any]:
    return coerce_args(
        SET_LAST,
        [("user", "u"), ("host", "h"), ("timestamp", timestamp), ("status", "")],
    )


@given(st.integers(min_value=INT64.low, max_value=INT64.high))
def test_64_bit_integers_pass(value: int) -> None:
    """Every integer a signed 64-bit column holds is accepted unchanged."""
    assert coerce_args(definition(("n", "integer")), [("n", value)]) == {"n": value}


@given(st.integers(min_value=INT64.high + 1) | st.integers(max_value=INT64.low - 1))
def test_wider_integers_are_refused(value: int) -> None:
    """An integer no 64-bit column holds is ArgumentOutOfRange naming the argument and bounds."""
    with pytest.raises(ArgumentOutOfRange) as e:
        coerce_args(definition(("n", "integer")), [("n", value)])
    assert (e.value.argument, e.value.low, e.value.high) == ("n", INT64.low, INT64.high)
    assert e.value.message == (
        f"Argument 'n' must be an integer from {INT64.low} to {INT64.high} "
        "(a signed 64-bit integer)"
    )


def test_nested_integers_are_checked() -> None:
    """An integer inside a list of tuples is range-checked too, reported on the outer argument."""
    d = definition(("items", {"list": ["i", {"tuple": [["k", "binary"], ["v", "integer"]]}]}))
    with pytest.raises(ArgumentOutOfRange) as e:
        coerce_args(d, [("items", [{"k": "a", "v": 1}, {"k": "b", "v": 2**64}])])
    assert e.value.argument == "items"


@given(st.integers(min_value=POSIX_DATE.low, max_value=POSIX_DATE.high))
def test_set_last_takes_every_date(timestamp: int) -> None:
    """set_last's timestamp accepts every POSIX time from 1970 to the end of year 9999."""
    assert set_last(timestamp)["timestamp"] == timestamp


@given(
    st.integers(min_value=POSIX_DATE.high + 1)
    | st.integers(max_value=POSIX_DATE.low - 1)
    | st.sampled_from([10**17, 10**30, 2**63, -(2**70)])
)
def test_set_last_refuses_times_no_date_shows(timestamp: int) -> None:
    """set_last refuses times get_last could not show, with the date bounds even for huge ones."""
    with pytest.raises(ArgumentOutOfRange) as e:
        set_last(timestamp)
    assert (e.value.argument, e.value.low, e.value.high) == ("timestamp", 0, 253402300799)
    assert "9999-12-31T23:59:59Z" in e.value.message
    assert e.value.remaining == (("status", ""),)


def test_bounds_table() -> None:
    """Only the listed arguments are tighter than 64 bits; the error maps like a type error."""
    assert bounds_for("set_last", "timestamp") is POSIX_DATE
    assert bounds_for("set_last", "status") is INT64
    assert bounds_for("oauth_issue_token", "ttl") is INT64
    assert ERROR_TABLE[ArgumentOutOfRange.code] == ERROR_TABLE["bad_argument_type"]
