"""The SCRAM-SHA-1 and PLAIN client messages a login check sends, and its checks of the server."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.backends.xmpp.sasl import (
    MAX_ITERATIONS,
    ScramClient,
    ScramError,
    plain_message,
    salted_password,
)

# RFC 5802, section 5: user "user", password "pencil"
CLIENT_NONCE = "fyko+d2lbbFgONRv9qkxdawL"
SERVER_FIRST = b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
CLIENT_FINAL = b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
SERVER_FINAL = b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="


def rfc_exchange() -> tuple[ScramClient, bytes]:
    client = ScramClient("user", nonce=CLIENT_NONCE)
    first = client.read_server_first(SERVER_FIRST)
    final = client.final_message(first, salted_password("pencil", first.salt, first.iterations))
    return client, final


def test_rfc_5802_example() -> None:
    """The client's messages match RFC 5802's example byte for byte; its verifier checks."""
    client = ScramClient("user", nonce=CLIENT_NONCE)
    assert client.first_message() == b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    client, final = rfc_exchange()
    assert final == CLIENT_FINAL
    client.check_server_final(SERVER_FINAL)  # does not raise


def test_a_wrong_server_signature_is_refused() -> None:
    """A server that cannot prove it knows the credentials is caught (no false "accepted")."""
    client, _ = rfc_exchange()
    forged = b"v=" + base64.b64encode(b"\0" * 20)
    with pytest.raises(ScramError, match="signature is wrong"):
        client.check_server_final(forged)


def test_a_server_error_in_the_final_message_is_reported() -> None:
    """``e=`` in the server's final message is an error, with its text."""
    client, _ = rfc_exchange()
    with pytest.raises(ScramError, match="invalid-proof"):
        client.check_server_final(b"e=invalid-proof")


def test_the_final_message_cannot_come_first() -> None:
    """A verifier before the client's proof is a protocol error."""
    with pytest.raises(ScramError):
        ScramClient("user").check_server_final(SERVER_FINAL)


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (b"r=someoneelse123,s=QSXCR+Q6sek8bf92,i=4096", "nonce"),
        (b"r=fyko+d2lbbFgONRv9qkxdawL,s=QSXCR+Q6sek8bf92,i=4096", "nonce"),
        (b"r=fyko+d2lbbFgONRv9qkxdawLX,s=***,i=4096", "salt"),
        (b"r=fyko+d2lbbFgONRv9qkxdawLX,s=QSXCR+Q6sek8bf92,i=0", "round count"),
        (b"r=fyko+d2lbbFgONRv9qkxdawLX,s=QSXCR+Q6sek8bf92,i=-1", "round count"),
        (
            b"r=fyko+d2lbbFgONRv9qkxdawLX,s=QSXCR+Q6sek8bf92,i=" + str(MAX_ITERATIONS + 1).encode(),
            "round count",
        ),
        (b"m=ext,r=fyko+d2lbbFgONRv9qkxdawLX,s=QSXCR+Q6sek8bf92,i=1", "extension"),
        (b"s=QSXCR+Q6sek8bf92,i=4096", "lacks"),
        (b"garbage", "malformed"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_bad_server_first_messages(message: bytes, why: str) -> None:
    """A server-first message with a foreign nonce, bad salt or round count is refused."""
    with pytest.raises(ScramError, match=why):
        ScramClient("user", nonce=CLIENT_NONCE).read_server_first(message)


@given(st.binary(max_size=200))
def test_any_server_first_is_either_read_or_refused_cleanly(message: bytes) -> None:
    """No byte string makes the parser fail other than with ScramError."""
    try:
        first = ScramClient("user", nonce="abc").read_server_first(message)
    except ScramError:
        return
    assert first.nonce.startswith("abc") and 1 <= first.iterations <= MAX_ITERATIONS


@given(st.binary(max_size=200))
def test_any_server_final_is_checked_cleanly(message: bytes) -> None:
    """No byte string passes as the verifier unless it is the right one, and none crashes."""
    client, _ = rfc_exchange()
    try:
        client.check_server_final(message)
    except ScramError:
        return
    assert message.startswith(SERVER_FINAL)


def test_user_names_are_escaped() -> None:
    """``,`` and ``=`` in a user name are escaped as RFC 5802 requires."""
    assert ScramClient("a,b=c", nonce="n").first_message() == b"n,,n=a=2Cb=3Dc,r=n"


def test_plain_message() -> None:
    """PLAIN carries an empty authorisation identity, the user and the password, in UTF-8."""
    assert plain_message("alice", "wönderland") == b"\0alice\0w\xc3\xb6nderland"
