"""The JSON codec's reused encoder and decoder answer exactly what fresh ones would."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.frontends.jsonapi.request import (
    _decode_text,
    _finite_float,
    _pairs,
    _reject_constant,
)
from gateway.frontends.jsonapi.response import dump_json

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(values)
def test_dump_json_is_json_dumps(value: Any) -> None:
    """dump_json gives the bytes json.dumps gives with the same options, for any value."""
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert dump_json(value) == expected.encode("utf-8")


def outcome(decode: Any, text: str) -> tuple[str, str]:
    """The decoded value's repr, or the error's type and text."""
    try:
        return ("ok", repr(decode(text)))
    except (ValueError, RecursionError) as e:
        return (type(e).__name__, str(e))


def fresh(text: str) -> Any:
    return json.loads(
        text, object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_float=_finite_float
    )


@given(
    st.one_of(
        values.map(json.dumps),
        st.text(),
        values.map(lambda v: "\ufeff" + json.dumps(v)),
        st.sampled_from(["NaN", "1e999", "[Infinity]", '{"a": 1, "a": 2}', " \n{}"]),
    )
)
def test_decoding_matches_json_loads(text: str) -> None:
    """For valid JSON, garbage, a leading BOM and refused constants alike, the one decoder
    gives the same value, or the same error, as a fresh json.loads with the same options."""
    assert outcome(_decode_text, text) == outcome(fresh, text)
