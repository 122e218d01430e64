"""Parsing and checking posted stanzas."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.frontends.rest.stanza import (
    NotAStanza,
    Refused,
    Rejected,
    check_policy,
    parse_stanza,
)
from gateway.stanza import Stanza


def parse(body: str, max_depth: int = 16) -> Stanza:
    return parse_stanza(body.encode(), max_depth=max_depth)


def test_message() -> None:
    """A message parses with its kind, type and normalised addresses."""
    stanza = parse_stanza(
        b"<message type='chat' to='Nolan@LocalHost/Phone' from='localhost/rest'>"
        b"<body>hi</body></message>",
        max_depth=4,
    )
    assert (stanza.kind, stanza.type) == ("message", "chat")
    assert (stanza.to, stanza.sender) == ("nolan@localhost/Phone", "localhost/rest")
    assert stanza.element.findtext("body") == "hi"


def test_namespaces() -> None:
    """No namespace and the three stanza namespaces are accepted; others are codec errors."""
    for ns in ("jabber:client", "jabber:server", "jabber:component:accept"):
        assert parse_stanza(f"<presence xmlns='{ns}'/>".encode(), max_depth=2).kind == "presence"
    with pytest.raises(NotAStanza):
        parse_stanza(b"<presence xmlns='urn:x'/>", max_depth=2)


def test_comments_and_pis_dropped() -> None:
    """Comments and processing instructions, which streams may not carry, are removed."""
    stanza = parse_stanza(
        b"<?xml version='1.0'?><message><!-- note --><?pi x?><body>a</body></message>",
        max_depth=4,
    )
    assert etree.tostring(stanza.element) == b"<message><body>a</body></message>"


@pytest.mark.parametrize(
    "body",
    [
        "<message",
        "<message></iq>",
        "<message/><message/>",
        "<message>&undefined;</message>",
        "<",
    ],
)
def test_malformed(body: str) -> None:
    """Anything not well-formed is rejected (406) with the parser's reason."""
    with pytest.raises(Rejected, match="not well-formed XML"):
        parse(body)


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE message [<!ENTITY x "y">]><message>&x;</message>',
        '<!DOCTYPE message SYSTEM "http://example.com/x.dtd"><message/>',
        "<!DOCTYPE message><message/>",
    ],
)
def test_doctype(body: str) -> None:
    """Any DOCTYPE is rejected, and nothing it declares is expanded or fetched."""
    with pytest.raises(Rejected, match="DOCTYPE"):
        parse(body)


def test_depth() -> None:
    """The root counts as depth 1; deeper than the limit is rejected."""
    assert parse("<message><a/></message>", max_depth=2).kind == "message"
    with pytest.raises(Rejected, match="deeper than 2"):
        parse("<message><a><b/></a></message>", max_depth=2)


@pytest.mark.parametrize(
    "body",
    [
        "<foo/>",
        "<iq id='1'/>",
        "<iq type='get'/>",
        "<iq type='poke' id='1'/>",
        "<presence type='online'/>",
        "<message to=''/>",
        "<message to='@localhost'/>",
        "<message from='a@'/>",
        f"<message to='{'x' * 1024}@localhost'/>",
    ],
)
def test_codec_errors(body: str) -> None:
    """What ejabberd's codec would not decode is a 500 ``xmpp_codec`` refusal."""
    with pytest.raises(NotAStanza) as caught:
        parse(body)
    assert (caught.value.status, caught.value.first_line) == (500, "Error: xmpp_codec")


def test_policy() -> None:
    """Types and destinations are checked only when configured."""
    stanza = parse_stanza(b"<message to='a@localhost/r'/>", max_depth=2)
    check_policy(stanza, None, None)
    check_policy(stanza, ["a@localhost/r"], ["message"])
    with pytest.raises(Rejected, match="allowed_destinations"):
        check_policy(stanza, ["a@localhost"], None)
    with pytest.raises(Rejected, match="allowed_stanza_types"):
        check_policy(stanza, None, ["iq", "presence"])


@given(st.binary(max_size=300))
def test_never_raises_anything_else(body: bytes) -> None:
    """Any bytes either parse into a stanza or raise a refusal, never another error."""
    try:
        stanza = parse_stanza(b"<" + body, max_depth=8)
    except Refused as e:
        assert e.status in (406, 500)
        assert "\n" not in e.reason
    else:
        assert stanza.kind in ("message", "iq", "presence")


@given(st.text(max_size=60))
def test_text_bodies_are_kept(text: str) -> None:
    """The text of a message body survives parsing when it is valid XML character data."""
    try:
        stanza = parse_stanza(
            f"<message><body>{escape(text)}</body></message>".encode("utf-8", "surrogatepass"),
            max_depth=4,
        )
    except Rejected:
        return  # characters XML cannot carry (controls, surrogates)
    assert (stanza.element.findtext("body") or "") == text.replace("\r\n", "\n").replace("\r", "\n")
