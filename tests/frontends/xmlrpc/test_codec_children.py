"""The XML-RPC decoder's child lookups (done by lxml in C) pick what the plain Python
comprehensions they replace picked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.frontends.xmlrpc.codec import MalformedRequest, _children, _only

pieces = st.sampled_from(
    [
        "<name>n</name>",
        "<value>v</value>",
        '<x:name xmlns:x="urn:x">q</x:name>',
        '<value xmlns="urn:y">w</value>',
        "<!-- c -->",
        "<?pi x?>",
        "text",
        "<member/>",
    ]
)


def old_children(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str)]


def old_only(element: etree._Element, tag: str) -> etree._Element | None:
    found = [c for c in old_children(element) if c.tag == tag]
    return found[0] if len(found) == 1 else None


@given(st.lists(pieces, max_size=6), st.sampled_from(["name", "value", "member"]))
def test_same_children_and_lookups(parts: list[str], tag: str) -> None:
    """For children in and out of namespaces, with comments, PIs and text between them,
    _children and _only find exactly the elements the comprehensions found."""
    # a plain parser keeps comments and PIs, the harder case for the filter
    root = etree.fromstring(f"<member>{''.join(parts)}</member>".encode())
    assert _children(root) == old_children(root)
    expected = old_only(root, tag)
    try:
        found: etree._Element | None = _only(root, tag)
    except MalformedRequest:
        found = None
    assert found is expected
