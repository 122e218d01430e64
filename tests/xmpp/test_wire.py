"""Stanzas on the component stream: namespaces on the wire, origin-id, IQs and their answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from twisted.words.xish import domish

from gateway.stanza import COMPONENT_NS, FromRefused, InvalidStanza, parse_xml, read_stanza
from gateway.xmpp.wire import (
    answer_text,
    ensure_origin_id,
    prepare_iq,
    prepare_outbound,
    stream_text,
)

COMPONENT = "rest.localhost"


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


def test_prepare_outbound_does_everything() -> None:
    """prepare_outbound checks, stamps from and origin-id, and writes the wire text."""
    text = prepare_outbound("<message to='u@localhost'><body>x</body></message>", COMPONENT, "pass")
    root = etree.fromstring(text)
    assert root.tag == f"{{{COMPONENT_NS}}}message"
    assert root.get("from") == COMPONENT
    assert root.find("{urn:xmpp:sid:0}origin-id") is not None


def test_prepare_outbound_leaves_a_checked_stanza_alone() -> None:
    """A checked stanza is stamped in a copy: its element keeps its namespace and from."""
    stanza = read_stanza(
        "<message xmlns='jabber:client' to='u@localhost' from='admin@localhost'>"
        "<body>x</body></message>"
    )
    before = etree.tostring(stanza.element)
    root = etree.fromstring(prepare_outbound(stanza, COMPONENT, "rewrite"))
    assert (root.tag, root.get("from")) == (f"{{{COMPONENT_NS}}}message", COMPONENT)
    assert etree.tostring(stanza.element) == before


def test_prepare_outbound_refuses_by_policy() -> None:
    """The reject policy refuses a foreign sender of a checked stanza."""
    stanza = read_stanza("<presence from='admin@localhost'/>")
    with pytest.raises(FromRefused):
        prepare_outbound(stanza, COMPONENT, "reject")


def test_prepare_iq_uses_its_own_id() -> None:
    """An awaited IQ goes out under our id, keeps the caller's, and is stamped with from."""
    stanza = read_stanza(
        "<iq type='get' id='caller' to='LocalHost'><ping xmlns='urn:xmpp:ping'/></iq>"
    )
    outgoing = prepare_iq(stanza, COMPONENT, "pass", "gw-1")
    root = etree.fromstring(outgoing.text)
    assert (outgoing.own_id, outgoing.caller_id, outgoing.target) == ("gw-1", "caller", "localhost")
    assert root.tag == f"{{{COMPONENT_NS}}}iq"
    assert (root.get("id"), root.get("from")) == ("gw-1", COMPONENT)
    assert stanza.element.get("id") == "caller"


@pytest.mark.parametrize(
    "text", ["<iq type='result' id='1'/>", "<message to='u@localhost'/>", "<presence/>"]
)
def test_prepare_iq_only_get_and_set(text: str) -> None:
    """Only an iq get or set can be awaited."""
    with pytest.raises(InvalidStanza, match="can be awaited"):
        prepare_iq(read_stanza(text), COMPONENT, "pass", "gw-1")


def parsed(text: str) -> domish.Element:
    """``text`` as the component stream parses it (in the stream's namespace)."""
    found: list[domish.Element] = []
    stream = domish.elementStream()
    stream.DocumentStartEvent = lambda root: None
    stream.ElementEvent = found.append
    stream.DocumentEndEvent = lambda: None
    stream.parse(
        f"<stream:stream xmlns='{COMPONENT_NS}' xmlns:stream='http://etherx.jabber.org/streams'>"
        f"{text}".encode()
    )
    [element] = found
    return element


def test_answer_text_in_client_namespace() -> None:
    """An answer is jabber:client text with the caller's id; payload, lang and text survive."""
    iq = parsed(
        "<iq type='result' id='gw-1' from='localhost' xml:lang='fr'>"
        "<query xmlns='jabber:iq:version' xmlns:p='urn:p' p:a='1'><name>x &amp; y</name>"
        "<item xmlns='jabber:client'/></query><error type='cancel'>t<b/>u</error></iq>"
    )
    root = etree.fromstring(answer_text(iq, "caller"))
    assert (root.tag, root.get("id"), root.get("type")) == ("{jabber:client}iq", "caller", "result")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    query = root.find("{jabber:iq:version}query")
    assert query is not None
    assert query.get("{urn:p}a") == "1"
    assert query.findtext("{jabber:iq:version}name") == "x & y"
    # inside an extension the namespace is the payload's own, jabber:client included
    assert query.find("{jabber:client}item") is not None
    error = root.find("{jabber:client}error")
    assert error is not None
    assert (error.text, error[0].tag, error[0].tail) == ("t", "{jabber:client}b", "u")


def test_answer_text_without_caller_id() -> None:
    """A caller that gave no id gets an answer without one."""
    root = etree.fromstring(answer_text(parsed("<iq type='result' id='gw-1'/>"), None))
    assert root.get("id") is None


def test_answer_text_deeply_nested() -> None:
    """An answer nested deeper than Python recurses is still copied (no recursion)."""
    depth = 3000
    nested = "<a>" * depth + "</a>" * depth
    iq = parsed(f"<iq type='result' id='1'><q xmlns='urn:q'>{nested}</q></iq>")
    text = answer_text(iq, "c")
    assert (text.count("<a>"), text.count("<a/>")) == (depth - 1, 1)


def test_answer_text_refuses_unnamespaced_inside_extension() -> None:
    """An element of no namespace inside an extension cannot be written faithfully."""
    with pytest.raises(InvalidStanza, match="no namespace"):
        answer_text(parsed("<iq type='result' id='1'><q xmlns='urn:q'><a xmlns=''/></q></iq>"), "c")
