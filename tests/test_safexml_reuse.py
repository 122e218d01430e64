"""safexml's shortcuts (a parser per thread, skipping the depth walk for small documents)
decide exactly what the plain way decides."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from gateway.safexml import XmlRejected, _deeper_than, parse, parser

names = st.sampled_from(["a", "b", "c"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """Random nested XML with text, comments, CDATA holding "</" and self-closed elements."""
    name = draw(names)
    if depth >= 8 or draw(st.integers(0, 3)) == 0:
        return f"<{name}/>"
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append("<!-- x </a> -->")
        elif kind == 1:
            parts.append("<![CDATA[</b><c>]]>")
        else:
            parts.append(draw(documents(depth + 1)))
    return f"<{name}>{''.join(parts)}</{name}>"


def plain_depth_verdict(raw: bytes, limit: int) -> bool:
    """Too deep, by the full walk on a fresh parser."""
    return _deeper_than(etree.fromstring(raw, parser()), limit)


@given(documents(), st.integers(1, 10))
def test_depth_verdict_unchanged(document: str, limit: int) -> None:
    """parse refuses as too deep exactly the documents the full walk finds too deep."""
    raw = document.encode()
    try:
        parse(raw, max_depth=limit)
        refused = False
    except XmlRejected as e:
        assert e.reason == "depth"
        refused = True
    assert refused == plain_depth_verdict(raw, limit)


def test_reused_parser_recovers_from_errors() -> None:
    """After a malformed document and a DOCTYPE, the same thread parses a good one as before."""
    with pytest.raises(XmlRejected):
        parse(b"<a><b></a>")
    with pytest.raises(XmlRejected):
        parse(b"<!DOCTYPE x><x/>")
    root = parse(b"<a><!-- gone --><b>text</b><?pi gone?></a>")
    assert etree.tostring(root) == b"<a><b>text</b></a>"


def test_each_thread_parses_with_its_own_parser() -> None:
    """Documents parsed at once in several threads all come out whole."""
    results: dict[int, bytes] = {}

    def work(n: int) -> None:
        for _ in range(200):
            root = parse(f"<m><n>{n}</n></m>".encode(), max_depth=4)
        results[n] = etree.tostring(root)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: f"<m><n>{n}</n></m>".encode() for n in range(4)}
