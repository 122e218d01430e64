"""What a stanza is: safe parsing, the checks, JIDs and the component's from policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from twisted.words.protocols.jabber.jid import JID

from gateway.stanza import (
    ForeignNamespace,
    FromRefused,
    InvalidStanza,
    UnreadableStanza,
    check_stanza,
    from_policy,
    in_domain,
    jid_from_parts,
    parse_jid,
    parse_xml,
    read_stanza,
)

COMPONENT = "rest.localhost"


def test_parse_refuses_entities_and_doctype() -> None:
    """A DOCTYPE (the only way to declare entities) is refused; nothing is expanded."""
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;">]><message><body>&b;</body></message>'
    )
    with pytest.raises(InvalidStanza, match="DOCTYPE"):
        parse_xml(bomb)


def test_parse_refuses_external_entity() -> None:
    """An external entity reference is never resolved."""
    text = (
        '<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><message><body>&x;</body></message>'
    )
    with pytest.raises(InvalidStanza):
        parse_xml(text)


def test_parse_limits_size_and_depth() -> None:
    """Oversized or too deeply nested text is refused with the limit in the message."""
    with pytest.raises(InvalidStanza, match="larger than 10 bytes"):
        parse_xml("<message><body>long</body></message>", max_bytes=10)
    deep = "<message>" + "<x>" * 5 + "</x>" * 5 + "</message>"
    with pytest.raises(InvalidStanza, match="deeper than 4"):
        parse_xml(deep, max_depth=4)
    assert parse_xml(deep, max_depth=6) is not None


def test_parse_refuses_malformed_and_empty() -> None:
    """Text that is not well-formed, or empty, is refused."""
    with pytest.raises(InvalidStanza, match="not well-formed"):
        parse_xml("<message><body></message>")
    with pytest.raises(InvalidStanza, match="empty"):
        parse_xml("  ")


def test_parse_size_checked_before_emptiness() -> None:
    """Blank text over the size limit is refused for its size, under it as empty."""
    with pytest.raises(InvalidStanza, match="larger than 8 bytes"):
        parse_xml(b" " * 9, max_bytes=8)
    with pytest.raises(InvalidStanza, match="the stanza is empty"):
        parse_xml(b" " * 8, max_bytes=8)


@given(data=st.binary(max_size=200))
def test_parse_refuses_only_with_invalid_stanza(data: bytes) -> None:
    """Whatever the bytes, parse_xml gives an element or an InvalidStanza with a message."""
    try:
        root = parse_xml(data, max_bytes=150, max_depth=5)
    except InvalidStanza as e:
        assert e.message.startswith(("the stanza is ", "a DOCTYPE"))
    else:
        assert isinstance(root.tag, str)


def test_check_stanza_kind_and_namespace() -> None:
    """Only message, iq and presence in a stream namespace (or none) are stanzas."""
    with pytest.raises(InvalidStanza, match="not a stanza"):
        read_stanza("<foo/>")
    with pytest.raises(ForeignNamespace, match="foreign namespace") as caught:
        read_stanza("<message xmlns='urn:other'/>")
    assert (caught.value.kind, caught.value.namespace) == ("message", "urn:other")
    for ns in ("", " xmlns='jabber:client'", " xmlns='jabber:server'"):
        assert read_stanza(f"<presence{ns}/>").kind == "presence"


def test_check_stanza_reads_addresses_and_keeps_the_element() -> None:
    """The kind, type and prepared JIDs are read once; the element itself is not changed."""
    original = etree.fromstring(
        "<message type='chat' to='Nolan@LocalHost/Phone' from='localhost/rest'><body>x</body>"
        "</message>"
    )
    stanza = check_stanza(original)
    assert stanza.element is original
    assert (stanza.kind, stanza.type) == ("message", "chat")
    assert (stanza.to, stanza.sender) == ("nolan@localhost/Phone", "localhost/rest")
    assert original.get("to") == "Nolan@LocalHost/Phone"


def test_strict_checks_types_and_iq_attributes() -> None:
    """strict refuses a type the kind lacks and an iq without type or id; lenient does not."""
    for text, reason in (
        ("<message type='shout'/>", "type 'shout' is not valid for <message/>"),
        ("<iq id='1'/>", "an <iq/> needs a 'type' attribute"),
        ("<iq type='get'/>", "an <iq/> needs an 'id' attribute"),
    ):
        with pytest.raises(InvalidStanza, match=reason):
            read_stanza(text, strict=True)
        assert read_stanza(text).element.get("id") in (None, "1")


def test_unreadable_keeps_the_parsers_facts() -> None:
    """An unreadable text says which safety rule refused it, and the parser's own sentence."""
    with pytest.raises(UnreadableStanza) as caught:
        parse_xml("<message>")
    assert caught.value.reason == "malformed"
    assert caught.value.detail.startswith("not well-formed XML: ")
    with pytest.raises(UnreadableStanza) as caught:
        parse_xml(" ")
    assert caught.value.reason == "empty"


def test_bad_addresses_refused() -> None:
    """A to or from that is not a JID is refused, naming the attribute."""
    with pytest.raises(InvalidStanza, match="'to' is not a valid JID"):
        read_stanza("<message to='a b@localhost'/>")
    with pytest.raises(InvalidStanza, match="'from' is not a valid JID: empty JID"):
        read_stanza("<message from=''/>")


@pytest.mark.parametrize(
    ("policy", "sender", "expected"),
    [
        ("pass", "admin@localhost", "admin@localhost"),
        ("rewrite", "admin@localhost", COMPONENT),
        ("rewrite", "bot@rest.localhost/r", "bot@rest.localhost/r"),
        ("reject", COMPONENT, COMPONENT),
        ("pass", None, COMPONENT),
        ("rewrite", None, COMPONENT),
        ("reject", None, COMPONENT),
    ],
)
def test_from_policy(policy: str, sender: str | None, expected: str) -> None:
    """Each policy's treatment of a foreign, own-domain or missing from."""
    root = etree.Element("message")
    if sender is not None:
        root.set("from", sender)
    assert from_policy(check_stanza(root), COMPONENT, policy) == expected
    assert root.get("from") == sender  # the stanza's element is not changed


def test_from_policy_keeps_the_sender_as_written() -> None:
    """A sender that is kept is written as the caller wrote it, not re-prepared."""
    stanza = check_stanza(etree.Element("message", {"from": "Bot@REST.localhost/R"}))
    assert from_policy(stanza, COMPONENT, "reject") == "Bot@REST.localhost/R"


def test_reject_policy_refuses_foreign_from() -> None:
    """'reject' refuses a sender outside the domain, including a sub-domain."""
    for sender in ("admin@localhost", "x@sub.rest.localhost"):
        stanza = check_stanza(etree.Element("message", {"from": sender}))
        with pytest.raises(FromRefused, match="outside the component domain"):
            from_policy(stanza, COMPONENT, "reject")


def test_bad_from_refused() -> None:
    """A from that is not a JID is refused whatever the policy."""
    root = etree.Element("message", {"from": "a@@b"})
    with pytest.raises(InvalidStanza, match="not a valid JID"):
        check_stanza(root)


def test_in_domain() -> None:
    """Domain membership compares the normalised host part."""
    assert in_domain("Bot@REST.localhost/x", COMPONENT)
    assert not in_domain("rest.localhost.evil", COMPONENT)
    assert not in_domain("@@", COMPONENT)


@pytest.mark.parametrize("text", ["Bot@REST.localhost/Res", "localhost", "host/a@b", "é@Ä.de/x y"])
def test_parse_jid_is_twisteds_jid(text: str) -> None:
    """parse_jid gives the JID Twisted would, usable wherever a Twisted JID is."""
    jid = parse_jid(text)
    assert jid == JID(text) and hash(jid) == hash(JID(text))
    assert jid.full() == JID(text).full() and jid.userhost() == JID(text).userhost()


@pytest.mark.parametrize(
    "text", ["", "a@a..b", "a@.", "@host", "a@host/", "a" * 1024 + "@host", "a@" + "b" * 5000]
)
def test_parse_jid_refuses(text: str) -> None:
    """Empty labels, empty parts and parts over 1023 bytes are a ValueError."""
    with pytest.raises(ValueError):
        parse_jid(text)


def test_parse_jid_full_is_the_prepared_text() -> None:
    """JIDs are stringprepped; invalid ones (empty labels, over-long parts) raise ``ValueError``."""
    assert parse_jid("Alice@Example.COM/Res").full() == "alice@example.com/Res"
    for bad in ("", "a b@c", "a@", "a@b..c", "a@.", "a" * 1024 + "@c", "a@" + "c" * 5000):
        with pytest.raises(ValueError):
            parse_jid(bad)


def test_jid_from_parts() -> None:
    """Separate parts are prepared; empty user or resource means none; bad parts raise."""
    assert jid_from_parts("Bob", "LocalHost", "Phone") == JID("bob@localhost/Phone")
    assert jid_from_parts("", "localhost", "").full() == "localhost"
    for user, host in (("a b", "localhost"), ("bob", "a..b"), ("x" * 1024, "localhost")):
        with pytest.raises(ValueError):
            jid_from_parts(user, host)


@given(st.text(st.characters(exclude_categories=()), max_size=30))
def test_parse_jid_raises_only_value_error(text: str) -> None:
    """Any text is a JID or a ValueError, nothing else."""
    try:
        jid = parse_jid(text)
    except ValueError:
        return
    assert jid.host
