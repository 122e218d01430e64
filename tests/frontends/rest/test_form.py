"""Which form-labelled bodies are url-decoded, and which are taken as they are."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.frontends.rest.form import _only_encoder_output, form_payload, is_form

FORM = b"application/x-www-form-urlencoded"
STANZA = "<message to='a@localhost'><body>1+1 = 2, 100%</body></message>"


@pytest.mark.parametrize(
    "value",
    [
        FORM,
        b"Application/X-WWW-Form-Urlencoded; charset=UTF-8",
        b" application/x-www-form-urlencoded ",
    ],
)
def test_is_form(value: bytes) -> None:
    """The media type is matched case-insensitively, parameters ignored."""
    assert is_form(value)


@pytest.mark.parametrize("value", [None, b"", b"text/html; charset=utf-8", b"multipart/form-data"])
def test_not_form(value: bytes | None) -> None:
    """Other or missing content types are not forms."""
    assert not is_form(value)


@pytest.mark.parametrize(
    "body",
    [
        STANZA.encode(),
        b"registered_users localhost",
        b"--auth u h p+q registered_users localhost",
        b"connected_users_number",
        b"status",
    ],
)
def test_verbatim_bodies(body: bytes) -> None:
    """What wget, lynx and urlopen send unencoded is left exactly as it is."""
    assert form_payload(body, FORM) == body


def test_encoded_whole_body() -> None:
    """A body that is the url-encoded payload is decoded (``+`` and ``%20`` both spaces)."""
    assert form_payload(quote_plus(STANZA).encode(), FORM) == STANZA.encode()
    assert form_payload(quote(STANZA, safe="").encode(), FORM) == STANZA.encode()
    assert form_payload(b"registered_users+localhost", FORM) == b"registered_users localhost"


def test_single_field() -> None:
    """One ``name=value`` field carries its decoded value."""
    assert form_payload(urlencode({"stanza": STANZA}).encode(), FORM) == STANZA.encode()


def test_several_fields_left_alone() -> None:
    """Several fields name no single payload: the body is left as it is."""
    body = urlencode({"a": "1", "b": "2"}).encode()
    assert form_payload(body, FORM) == body


def test_not_form_not_decoded() -> None:
    """Without the form content type nothing is decoded."""
    assert (
        form_payload(b"registered_users+localhost", b"text/plain") == b"registered_users+localhost"
    )
    assert form_payload(b"%3Cx%2F%3E", None) == b"%3Cx%2F%3E"


def test_broken_escape_left_alone() -> None:
    """A ``%`` not followed by two hex digits means the body is not encoded."""
    assert form_payload(b"abc%zz+1", FORM) == b"abc%zz+1"


@given(st.binary(), st.sampled_from([FORM, None, b"text/plain"]))
def test_never_raises(body: bytes, content_type: bytes | None) -> None:
    """Any body gives bytes back, unchanged unless it is a form."""
    out = form_payload(body, content_type)
    assert isinstance(out, bytes)
    if content_type != FORM:
        assert out == body


@given(st.binary(min_size=1))
def test_encoded_round_trip(raw: bytes) -> None:
    """Whatever ``quote_plus`` encodes decodes back to the same bytes."""
    assert form_payload(quote_plus(raw).encode(), FORM) == raw


_ENCODED_REFERENCE = re.compile(rb"(?:[A-Za-z0-9\-._~*+=&]|%[0-9A-Fa-f]{2})+")


@given(st.one_of(st.binary(), st.text("%4aZ+=&~ -<", max_size=30).map(str.encode)))
def test_encoded_check_matches_the_former_expression(body: bytes) -> None:
    """What counts as encoder output is exactly what the former single expression matched."""
    expected = _ENCODED_REFERENCE.fullmatch(body) is not None
    assert _only_encoder_output(body) == expected


def test_large_encoded_body_is_decoded() -> None:
    """A 1 MiB body of escapes is still recognised and decoded."""
    body = b"stanza=" + b"%3C" * (1 << 18)
    assert form_payload(body, FORM) == b"<" * (1 << 18)
