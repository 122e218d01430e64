"""Decoding /api answers into the engine's values, and encoding arguments for /api."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.backends.upstream.decode import (
    ShapeError,
    decode_result,
    encode_args,
)
from gateway.engine.catalogue import Catalogue
from gateway.engine.model import CommandDefinition, ResTuple, Result
from gateway.engine.types import Param, Type, is_pair_object, parse_param
from gateway.frontends.jsonapi.response import dump_json, encode_result

CATALOGUE = Catalogue.load("24.12")
LEGACY = Catalogue.load("23.01")


def values_of(type_: Type) -> st.SearchStrategy[Any]:
    """Typed values of ``type_``, as a backend returns them."""
    kind = type_.kind
    if kind == "integer":
        return st.integers(-(2**63), 2**63 - 1)
    if kind in ("string", "binary", "atom"):
        return st.text(max_size=8)
    if kind == "rescode":
        return st.booleans()
    if kind == "restuple":
        return st.builds(ResTuple, st.text(max_size=8))
    if kind == "list":
        element = type_.element.type
        if is_pair_object(element):
            key, value = element.fields
            return st.lists(
                st.tuples(values_of(key.type), values_of(value.type)),
                max_size=3,
                unique_by=lambda pair: pair[0],
            )
        return st.lists(values_of(element), max_size=3)
    if kind == "tuple":
        return st.tuples(*(values_of(f.type) for f in type_.fields))
    raise AssertionError(kind)


def _public(catalogue: Catalogue) -> list[CommandDefinition]:
    return [d for d in catalogue if d.result.type.kind != "any"]


@st.composite
def results(draw: st.DrawFn, catalogue: Catalogue) -> tuple[CommandDefinition, Any]:
    definition = draw(st.sampled_from(_public(catalogue)))
    return definition, draw(values_of(definition.result.type))


def _normal(value: Any) -> Any:
    """Lists and tuples compared alike (JSON keeps no difference inside)."""
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


@settings(max_examples=300)
@given(results(CATALOGUE), st.booleans())
def test_decodes_what_mod_http_api_writes_2412(
    case: tuple[CommandDefinition, Any], wrap: bool
) -> None:
    """Every 24.12 result, as our mod_http_api encoder writes it (wrapped or bare), decodes back."""
    definition, value = case
    status, body = encode_result(Result(definition, value), legacy=False, wrap=wrap)
    assert status == 200
    decoded = decode_result(definition.result, json.loads(dump_json(body)))
    assert _normal(decoded) == _normal(value)


@settings(max_examples=300)
@given(results(LEGACY))
def test_decodes_what_mod_http_api_writes_2301(case: tuple[CommandDefinition, Any]) -> None:
    """Every 23.01 result, as 23.01's /api writes it (scalars always wrapped), decodes back."""
    definition, value = case
    _, body = encode_result(Result(definition, value, "23.01"), legacy=True, wrap=True)
    decoded = decode_result(definition.result, json.loads(dump_json(body)))
    assert _normal(decoded) == _normal(value)


def test_shapes_of_each_family() -> None:
    """The values per result family: ints, text, bools, ResTuple, lists, tuples, pair objects."""
    roster = CATALOGUE.newest("get_roster").result
    answer = [
        {"subscription": "both", "pending": "none", "nick": "B", "jid": "b@h", "groups": ["F"]}
    ]
    assert decode_result(roster, answer) == [("b@h", "B", "both", "none", ["F"])]
    assert decode_result(parse_param(["num_sessions", "integer"]), {"num_sessions": 3}) == 3
    assert decode_result(parse_param(["num_sessions", "integer"]), 3) == 3
    assert decode_result(parse_param(["res", "rescode"]), 0) is True
    assert decode_result(parse_param(["res", "rescode"]), 1) is False
    assert decode_result(parse_param(["res", "restuple"]), "done") == ResTuple("done")
    options = CATALOGUE.newest("get_room_options").result
    assert decode_result(options, {"title": "T", "public": "true"}) == [
        ("title", "T"),
        ("public", "true"),
    ]
    nested = parse_param(["r", {"tuple": [["ok", "rescode"], ["t", "restuple"]]}])
    assert decode_result(nested, {"ok": False, "t": {"res": True, "text": "x"}}) == (
        False,
        ResTuple("x"),
    )


@pytest.mark.parametrize(
    ("result", "answer"),
    [
        (["num", "integer"], "5"),
        (["num", "integer"], True),
        (["text", "string"], 5),
        (["res", "rescode"], "ok"),
        (["l", {"list": ["x", "string"]}], "a"),
        (["t", {"tuple": [["a", "string"], ["b", "integer"]]}], {"a": "x"}),
        (["l", {"list": ["x", "integer"]}], [1, "2"]),
    ],
)
def test_wrong_shapes_are_refused(result: Any, answer: Any) -> None:
    """An answer that does not fit the declared result raises ShapeError, naming where."""
    with pytest.raises(ShapeError):
        decode_result(parse_param(result), answer)


def test_encode_args() -> None:
    """Tuples go out as objects keyed by field, lists as arrays, scalars unchanged."""
    params = (
        Param("host", Type("binary")),
        parse_param(
            ["contacts", {"list": ["c", {"tuple": [["jid", "string"], ["n", "integer"]]}]}]
        ),
        parse_param(["pair", {"tuple": [["k", "string"], ["v", "string"]]}]),
    )
    typed = {"host": "h", "contacts": [("a@h", 1)], "pair": ("x", "y")}
    assert encode_args(params, typed) == {
        "host": "h",
        "contacts": [{"jid": "a@h", "n": 1}],
        "pair": {"k": "x", "v": "y"},
    }
