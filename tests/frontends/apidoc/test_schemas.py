"""The JSON Schemas of arguments and results: exactly what the JSON dialect takes and writes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.engine.catalogue import Catalogue
from gateway.engine.coercion import coerce_args, coerce_value
from gateway.engine.dispatch import with_policy_args
from gateway.engine.model import ResTuple, Result
from gateway.engine.ranges import INT64
from gateway.engine.types import Param, Type, parse_param
from gateway.frontends.apidoc.schemas import argument_schema, request_schema, result_schema
from gateway.frontends.jsonapi.response import encode_result
from tests.frontends.apidoc.helpers import is_valid

CATALOGUE = Catalogue.load("24.12")
PUBLIC = [d for d in CATALOGUE if not d.internal]
ARGUMENT_TYPES = sorted(
    {p.type for d in PUBLIC for p in d.args if p.type.kind != "any"}, key=lambda t: t.render()
)

# Any JSON value a body could hold.  JSON Schema's "integer" also matches 1.0, which the
# coercion refuses, so floats here are never whole numbers.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer())
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["jid", "nick", "name", "value", "x"]), children, max_size=4
        )
    ),
    max_leaves=12,
)


def _fits(type_: Type) -> st.SearchStrategy[Any]:
    """JSON values of ``type_`` as a caller would send them."""
    kind = type_.kind
    if kind == "integer":
        return st.integers(min_value=INT64.low, max_value=INT64.high)
    if kind == "list":
        return st.lists(_fits(type_.element.type), max_size=3)
    if kind == "tuple":
        return st.fixed_dictionaries({f.name: _fits(f.type) for f in type_.fields})
    return st.text(max_size=5)


def _accepted(type_: Type, value: Any) -> bool:
    try:
        coerce_value(type_, value)
    except Exception:
        return False
    return True


@settings(max_examples=400)
@given(st.sampled_from(ARGUMENT_TYPES).flatmap(lambda t: st.tuples(st.just(t), json_values)))
def test_argument_schema_matches_coercion(case: tuple[Type, Any]) -> None:
    """Any JSON value fits an argument type's schema exactly when the coercion accepts it."""
    type_, value = case
    assert is_valid(value, argument_schema(type_)) == _accepted(type_, value), type_.render()


@settings(max_examples=200)
@given(st.sampled_from(ARGUMENT_TYPES).flatmap(lambda t: st.tuples(st.just(t), _fits(t))))
def test_well_typed_arguments_fit(case: tuple[Type, Any]) -> None:
    """Values of the right type, as callers send them, fit the schema and are accepted."""
    type_, value = case
    assert is_valid(value, argument_schema(type_))
    assert _accepted(type_, value)


def test_pairs_may_be_an_object() -> None:
    """A list of pairs with a text key may be sent as one object, as the coercion allows."""
    type_ = parse_param(
        ["options", {"list": ["option", {"tuple": [["name", "binary"], ["value", "binary"]]}]}]
    ).type
    schema = argument_schema(type_)
    assert is_valid({"title": "Lobby"}, schema)
    assert is_valid([{"name": "title", "value": "Lobby"}], schema)
    assert not is_valid({"title": 1}, schema)


def test_top_level_integer_bounds() -> None:
    """A top-level integer with its own bounds (set_last's timestamp) gets them in the schema."""
    definition = CATALOGUE.lookup("set_last")
    schema = request_schema(definition, legacy=False)["properties"]["timestamp"]
    assert (schema["minimum"], schema["maximum"]) == (0, 253402300799)


def test_request_requires_arguments_except_lists() -> None:
    """Arguments are required, lists excepted (a missing list is empty); nothing else is taken."""
    schema = request_schema(CATALOGUE.lookup("send_stanza"), legacy=False)
    assert is_valid({"from": "a@localhost", "to": "b@localhost", "stanza": "<message/>"}, schema)
    assert not is_valid({"from": "a@localhost", "to": "b@localhost"}, schema)
    assert not is_valid({"from": "a", "to": "b", "stanza": "<m/>", "extra": 1}, schema)
    schema = request_schema(CATALOGUE.lookup("set_vcard2_multi"), legacy=False)
    assert schema["required"] == ["user", "host", "name", "subname"]  # not "contents"
    assert is_valid({"user": "a", "host": "b", "name": "c", "subname": "d"}, schema)


def test_renamed_arguments() -> None:
    """An argument renamed in args_rename may be given under its old name, but not under neither."""
    definition = with_policy_args(CATALOGUE.lookup("get_roster", 0))
    schema = request_schema(definition, legacy=False)
    assert is_valid({"user": "alice", "host": "localhost"}, schema)
    assert is_valid({"user": "alice", "server": "localhost"}, schema)
    assert schema["properties"]["server"]["deprecated"] is True
    assert not is_valid({"user": "alice"}, schema)
    # the engine agrees about the old name
    assert coerce_args(definition, [("user", "alice"), ("server", "localhost")]) == {
        "user": "alice",
        "host": "localhost",
    }


def test_legacy_body_need_not_be_an_object() -> None:
    """In 23.01 a body that is no object means no arguments, so a command without any takes it."""
    legacy = Catalogue.load("23.01")
    assert is_valid([], request_schema(legacy.lookup("status"), legacy=True))
    assert not is_valid([], request_schema(CATALOGUE.lookup("status"), legacy=False))
    assert not is_valid([], request_schema(legacy.lookup("register"), legacy=True))


# -- results -------------------------------------------------------------------


def _result_values(param: Param) -> st.SearchStrategy[Any]:
    """Result values in the engine's conventions for ``param``."""
    kind = param.type.kind
    if kind == "integer":
        return st.integers(min_value=-(2**63), max_value=2**63 - 1)
    if kind == "rescode":
        return st.sampled_from([True, False, "ok", "true", "error"])
    if kind == "restuple":
        return st.builds(ResTuple, st.text(max_size=5), st.just("ok"))
    if kind == "list":
        return st.lists(_result_values(param.type.element), max_size=3)
    if kind == "tuple":
        return st.tuples(*(_result_values(f) for f in param.type.fields))
    return st.text(max_size=5)


RESULTS = [
    (d, profile)
    for profile in ("24.12", "23.01")
    for d in Catalogue.load(profile)
    if not d.internal and d.result.type.kind != "any"
]


@settings(max_examples=400)
@given(
    st.sampled_from(RESULTS).flatmap(
        lambda case: st.tuples(
            st.just(case), _result_values(case[0].result), st.sampled_from([None, 0, 3])
        )
    )
)
def test_results_fit_their_schema(case: tuple[Any, Any, int | None]) -> None:
    """Whatever a command returns, the JSON written for it (status 200) fits the result schema."""
    (definition, profile), value, version = case
    legacy = profile == "23.01"
    wrap = legacy or version == 0
    status, written = encode_result(
        Result(definition, value, profile, version), legacy=legacy, wrap=wrap
    )
    if status == 200:
        assert is_valid(written, result_schema(definition.result, legacy=legacy, wrap=wrap))


def test_wrapped_scalar() -> None:
    """API version 0 wraps a scalar result in an object named after it; newer ones do not."""
    result = CATALOGUE.lookup("connected_users_number").result
    assert is_valid({"num_sessions": 3}, result_schema(result, legacy=False, wrap=True))
    assert not is_valid(3, result_schema(result, legacy=False, wrap=True))
    assert is_valid(3, result_schema(result, legacy=False, wrap=False))
