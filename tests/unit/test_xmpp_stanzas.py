"""Stanza plumbing: safe parsing, namespaces on the wire, origin-id and the from policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from twisted.words.protocols.jabber.jid import JID
from twisted.words.xish import domish

from gateway.xmpp.stanzas import (
    COMPONENT_NS,
    FromRefused,
    InvalidStanza,
    apply_from_policy,
    ensure_origin_id,
    in_domain,
    jid_from_parts,
    parse_jid,
    parse_xml,
    prepare_outbound,
    stream_text,
    to_element,
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


def test_to_element_checks_stanza_kind_and_namespace() -> None:
    """Only message, iq and presence in a stream namespace (or none) are stanzas."""
    with pytest.raises(InvalidStanza, match="not a stanza"):
        to_element("<foo/>")
    with pytest.raises(InvalidStanza, match="foreign namespace"):
        to_element("<message xmlns='urn:other'/>")
    for ns in ("", " xmlns='jabber:client'", " xmlns='jabber:server'"):
        assert etree.QName(to_element(f"<presence{ns}/>")).localname == "presence"


def test_to_element_accepts_domish_and_copies_lxml() -> None:
    """domish elements are accepted; an lxml element is copied, never changed."""
    element = domish.Element(("jabber:client", "message"))
    element.addElement("body", content="hi")
    assert to_element(element).findtext("{jabber:client}body") == "hi"
    original = etree.fromstring("<message><body>x</body></message>")
    copy = to_element(original)
    copy.set("from", "a@b")
    assert original.get("from") is None


def test_stream_text_moves_stanza_chain_only() -> None:
    """The stanza and its direct payload move to the component namespace; extensions stay."""
    text = stream_text(
        etree.fromstring(
            "<message xmlns='jabber:client' to='a@b'><body>hi</body>"
            "<forwarded xmlns='urn:xmpp:forward:0'>"
            "<message xmlns='jabber:client'><body>inner</body></message></forwarded>"
            "</message>"
        )
    )
    root = etree.fromstring(text)
    assert root.tag == f"{{{COMPONENT_NS}}}message"
    assert root.find(f"{{{COMPONENT_NS}}}body") is not None
    inner = root.find("{urn:xmpp:forward:0}forwarded/{jabber:client}message")
    assert inner is not None
    assert inner.findtext("{jabber:client}body") == "inner"


def test_stream_text_refuses_unnamespaced_inside_extension() -> None:
    """An element of no namespace inside an extension cannot be written faithfully."""
    root = etree.fromstring("<message><x xmlns='urn:x'><y xmlns=''/></x></message>")
    with pytest.raises(InvalidStanza, match="no namespace"):
        stream_text(root)


def test_stream_text_keeps_attributes_and_lang() -> None:
    """Attributes, xml:lang and text survive the rewrite."""
    root = etree.fromstring(
        "<message xml:lang='fr' type='chat' to='a@b'><body>salut &amp; &lt;3</body></message>"
    )
    again = etree.fromstring(stream_text(root))
    assert again.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert again.get("type") == "chat"
    assert again.findtext(f"{{{COMPONENT_NS}}}body") == "salut & <3"


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)


@given(body=texts, subject=texts)
def test_stream_text_round_trips_text(body: str, subject: str) -> None:
    """Any printable body and subject come back unchanged after the rewrite."""
    root = etree.Element("{jabber:client}message")
    etree.SubElement(root, "{jabber:client}body").text = body
    etree.SubElement(root, "{jabber:client}subject").text = subject
    again = parse_xml(stream_text(root))
    assert (again.findtext(f"{{{COMPONENT_NS}}}body") or "") == body
    assert (again.findtext(f"{{{COMPONENT_NS}}}subject") or "") == subject


def test_origin_id_added_once() -> None:
    """A message gets one origin-id; a second call keeps it; other stanzas get none."""
    root = etree.fromstring("<message/>")
    first = ensure_origin_id(root)
    assert first
    assert ensure_origin_id(root) == first
    assert len(root.findall("{urn:xmpp:sid:0}origin-id")) == 1
    assert ensure_origin_id(etree.fromstring("<presence/>")) is None


def test_origin_ids_unique() -> None:
    """Two messages get different origin-ids."""
    ids = {ensure_origin_id(etree.fromstring("<message/>")) for _ in range(50)}
    assert len(ids) == 50


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
    apply_from_policy(root, COMPONENT, policy)
    assert root.get("from") == expected


def test_reject_policy_refuses_foreign_from() -> None:
    """'reject' refuses a sender outside the domain, including a sub-domain."""
    for sender in ("admin@localhost", "x@sub.rest.localhost"):
        root = etree.Element("message", {"from": sender})
        with pytest.raises(FromRefused, match="outside the component domain"):
            apply_from_policy(root, COMPONENT, "reject")


def test_bad_from_refused() -> None:
    """A from that is not a JID is refused whatever the policy."""
    root = etree.Element("message", {"from": "a@@b"})
    with pytest.raises(InvalidStanza, match="not a valid JID"):
        apply_from_policy(root, COMPONENT, "pass")


def test_in_domain() -> None:
    """Domain membership compares the normalised host part."""
    assert in_domain("Bot@REST.localhost/x", COMPONENT)
    assert not in_domain("rest.localhost.evil", COMPONENT)
    assert not in_domain("@@", COMPONENT)


def test_prepare_outbound_does_everything() -> None:
    """prepare_outbound checks, stamps from and origin-id, and writes the wire text."""
    text = prepare_outbound("<message to='u@localhost'><body>x</body></message>", COMPONENT, "pass")
    root = etree.fromstring(text)
    assert root.tag == f"{{{COMPONENT_NS}}}message"
    assert root.get("from") == COMPONENT
    assert root.find("{urn:xmpp:sid:0}origin-id") is not None


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
