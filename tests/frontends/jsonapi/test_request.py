"""Reading mod_http_api requests: path segments, API versions, JSON bodies and queries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.errors import BadRequest
from gateway.frontends.jsonapi.request import (
    command_segments,
    decode_json_body,
    decode_query,
    path_version,
)


def test_segments_drop_empty() -> None:
    """Empty path segments (doubled or trailing slashes) are dropped."""
    assert command_segments([b"", b"status", b"", b"v2", b""]) == [b"status", b"v2"]


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ([b"api", b"cmd"], None),
        ([b"api", b"cmd", b"v2"], 2),
        ([b"v1", b"api", b"cmd"], 1),
        ([b"v1", b"api", b"cmd", b"v0"], 0),
        ([b"api", b"v0", b"cmd", b"v1"], 1),
        ([b"api", b"v0", b"cmd"], 0),
        ([b"api", b"cmd", b"v2x"], None),
        ([b"api", b"cmd", b"V2"], None),
        ([b"api", b"cmd", b"v"], None),
        ([b"api", b"cmd", b"v+3"], 3),
        ([b"api", b"cmd", b"v-1"], -1),
    ],
)
def test_path_version(path: list[bytes], version: int | None) -> None:
    """The last segment of the form v<integer> names the version (api-versioning.txt)."""
    assert path_version(path) == version


def test_body_newline_alone() -> None:
    """A body of a single newline carries no arguments in either profile."""
    assert decode_json_body(b"\n", "24.12") == []
    assert decode_json_body(b"\n", "23.01") == []


def test_body_object_2412_last_key_wins_sorted() -> None:
    """24.12: a repeated key keeps its last value and the pairs come out sorted by key."""
    assert decode_json_body(b'{"b":1,"a":2,"b":3}', "24.12") == [("a", 2), ("b", 3)]


def test_body_object_2301_keeps_order_and_repeats() -> None:
    """23.01: keys stay in body order, repeats included."""
    assert decode_json_body(b'{"b":1,"a":2,"b":3}', "23.01") == [("b", 1), ("a", 2), ("b", 3)]


@pytest.mark.parametrize("body", [b"[]", b"[1,2]", b"5", b'"x"', b"null", b"true"])
def test_non_object_bodies(body: bytes) -> None:
    """A top-level array or scalar is no arguments in 23.01 and a bad request in 24.12."""
    assert decode_json_body(body, "23.01") == []
    with pytest.raises(BadRequest):
        decode_json_body(body, "24.12")


def test_nested_objects_become_dicts() -> None:
    """Nested objects are dicts: last key wins in 24.12, first in 23.01."""
    body = b'{"t":{"a":1,"a":2},"l":[{"x":null}]}'
    assert dict(decode_json_body(body, "24.12")) == {"t": {"a": 2}, "l": [{"x": None}]}
    assert dict(decode_json_body(body, "23.01")) == {"t": {"a": 1}, "l": [{"x": None}]}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{",
        b'{"a":1',
        b" ",
        b"\n\n",
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":1e400}',
        b'{"a":"\\ud800"}',
        b'{"\\udfff":1}',
        b'{"a":"\xff"}',
        b"\xef\xbb\xbf{}",
        b"[" * 100_000,
        b'{"a":' + b"9" * 5000 + b"}",
    ],
)
def test_bad_bodies(body: bytes) -> None:
    """Malformed JSON, non-finite numbers, lone surrogates, bad UTF-8, a byte-order mark,
    absurd nesting and over-long integers are all one error: BadRequest."""
    for profile in ("24.12", "23.01"):
        with pytest.raises(BadRequest):
            decode_json_body(body, profile)


def test_unicode_body() -> None:
    """UTF-8 text and escapes decode to the same strings."""
    assert decode_json_body('{"n":"é\\u00e9"}'.encode(), "24.12") == [("n", "éé")]


def test_query_pairs() -> None:
    """Query pairs keep their order and repeats; values are always text."""
    assert decode_query(b"/api/x?days=5&a=1&a=2") == [("days", "5"), ("a", "1"), ("a", "2")]


def test_query_decoding() -> None:
    """+ is a space, %XX escapes are UTF-8, a key without = has an empty value."""
    assert decode_query(b"/api/x?n=a+b%20c&j=%C3%A9&flag") == [
        ("n", "a b c"),
        ("j", "é"),
        ("flag", ""),
    ]


def test_query_trailing_question_mark() -> None:
    """A trailing ? (or none at all) means no arguments."""
    assert decode_query(b"/api/status?") == []
    assert decode_query(b"/api/status") == []


def test_query_bad_utf8() -> None:
    """A query escape that is not UTF-8 is a bad request."""
    with pytest.raises(BadRequest):
        decode_query(b"/api/x?a=%ff")


@given(st.binary(max_size=200), st.sampled_from(["24.12", "23.01"]))
def test_any_body_decodes_or_is_bad_request(body: bytes, profile: str) -> None:
    """Whatever the bytes, decoding gives (name, value) pairs or raises BadRequest."""
    try:
        pairs = decode_json_body(body, profile)
    except BadRequest:
        return
    assert all(isinstance(name, str) for name, _ in pairs)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    st.sampled_from(["24.12", "23.01"]),
)
def test_any_json_decodes_or_is_bad_request(value: object, profile: str) -> None:
    """Any JSON document (surrogates and infinities included) decodes or is BadRequest."""
    import json

    try:
        body = json.dumps({"arg": value}).encode()
    except ValueError:
        return
    try:
        decode_json_body(body, profile)
    except BadRequest:
        pass


@given(st.binary(max_size=100))
def test_any_query_decodes_or_is_bad_request(query: bytes) -> None:
    """Whatever the query bytes, decoding gives text pairs or raises BadRequest."""
    try:
        pairs = decode_query(b"/api/x?" + query)
    except BadRequest:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)
