"""Untrusted XML is parsed without entities, DTDs or unbounded size and depth."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.safexml import XmlRejected, parse

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"""
EXTERNAL = b"""<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL, b"<!DOCTYPE x><x/>"])
def test_doctype_refused(body: bytes) -> None:
    """Any DOCTYPE, and so any entity declaration, is refused before use."""
    with pytest.raises(XmlRejected) as e:
        parse(body)
    assert e.value.reason in ("doctype", "malformed")


def test_depth_and_size_limits() -> None:
    """Nesting past max_depth and bodies past max_bytes are refused; at the limit they pass."""
    assert parse(b"<a><b/></a>", max_depth=2).tag == "a"
    with pytest.raises(XmlRejected) as e:
        parse(b"<a><b><c/></b></a>", max_depth=2)
    assert e.value.reason == "depth"
    with pytest.raises(XmlRejected) as e:
        parse(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
    assert e.value.reason == "size"


def test_malformed() -> None:
    """Broken or empty XML is refused as malformed."""
    for body in (b"<a>", b"", b"   ", b"not xml"):
        with pytest.raises(XmlRejected) as e:
            parse(body)
        assert e.value.reason == "malformed"


@given(st.binary(max_size=200))
def test_never_raises_anything_else(body: bytes) -> None:
    """Whatever the bytes, the result is an element or XmlRejected."""
    try:
        parse(body, max_depth=5, max_bytes=150)
    except XmlRejected:
        pass
