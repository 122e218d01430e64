"""Reading OAuth request parameters and client credentials."""

from __future__ import annotations

from base64 import b64encode

import pytest

from gateway.engine.oauth import OAuthError
from gateway.frontends.oauth.params import MAX_FIELDS, ClientAuth, client_auth, is_form, read_params


def test_form_content_types() -> None:
    """Only application/x-www-form-urlencoded (any case, with parameters) is a form."""
    assert is_form(b"application/x-www-form-urlencoded")
    assert is_form(b"Application/X-WWW-Form-Urlencoded; charset=UTF-8")
    assert not is_form(b"application/json")
    assert not is_form(b"multipart/form-data; boundary=x")
    assert not is_form(None)


def test_parameters_are_decoded() -> None:
    """Percent-encoding and '+' are decoded, blank values kept, UTF-8 understood."""
    assert read_params(b"a=1+2&b=%C3%A9&c=&d") == {"a": "1 2", "b": "\u00e9", "c": "", "d": ""}


@pytest.mark.parametrize(
    "body",
    [b"a=1&a=2", b"a=%ff", b"\xff=1", b"&".join(b"p%d=1" % i for i in range(MAX_FIELDS + 1))],
)
def test_repeated_undecodable_or_too_many_parameters_are_refused(body: bytes) -> None:
    """A parameter given twice, text that is not UTF-8, or too many fields is invalid_request."""
    with pytest.raises(OAuthError) as caught:
        read_params(body)
    assert caught.value.error == "invalid_request"


def header(text: str) -> bytes:
    return b"Basic " + b64encode(text.encode())


def test_client_credentials_from_header_or_body() -> None:
    """Basic credentials (split at the first ':') or client_id/client_secret in the body."""
    assert client_auth(None, {}) is None
    assert client_auth(header("app:s:3"), {}) == ClientAuth("app", "s:3", True)
    assert client_auth(None, {"client_id": "app", "client_secret": "s3"}) == ClientAuth("app", "s3")
    assert client_auth(None, {"client_id": "app"}) == ClientAuth("app", "")


def test_unreadable_headers_are_empty_credentials() -> None:
    """Another scheme or broken Basic gives empty credentials, which fail like a wrong secret."""
    for value in [
        b"Bearer abc",
        b"Basic !!!",
        header("no-colon"),
        b"Basic " + b64encode(b"\xff:x"),
    ]:
        assert client_auth(value, {}) == ClientAuth("", "", True)


def test_credentials_in_header_and_body_are_refused() -> None:
    """RFC 6749 allows one way of authenticating a client per request."""
    with pytest.raises(OAuthError) as caught:
        client_auth(header("app:s3"), {"client_id": "app"})
    assert caught.value.error == "invalid_request"
