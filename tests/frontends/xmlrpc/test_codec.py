"""Safe decoding of ``<methodCall>`` and exact encoding of ``<methodResponse>``."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.frontends.erlterm import format_p
from gateway.frontends.xmlrpc.codec import (
    DecodeError,
    MalformedRequest,
    MalformedXml,
    MethodCall,
    decode_call,
    encode_fault,
    encode_response,
)
from gateway.frontends.xmlrpc.values import Base64, DateTime, Struct, Value, to_term


def decode_value(xml: str) -> Any:
    params = f"<params><param>{xml}</param></params>"
    body = f"<methodCall><methodName>m</methodName>{params}</methodCall>"
    (value,) = decode_call(body.encode()).params
    return value


# ------------------------------------------------------------------ decoding


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<value>plain</value>", "plain"),
        ("<value></value>", ""),
        ("<value><string/></value>", ""),
        ("<value><string>a &amp; b</string></value>", "a & b"),
        ("<value><int>-7</int></value>", -7),
        ("<value><i4> 42 </i4></value>", 42),
        ("<value><boolean>1</boolean></value>", True),
        ("<value><boolean>false</boolean></value>", False),
        ("<value><double>2.5</double></value>", 2.5),
        ("<value><base64>aGk=</base64></value>", Base64("aGk=")),
        (
            "<value><dateTime.iso8601>20240501T10:00:00</dateTime.iso8601></value>",
            DateTime("20240501T10:00:00"),
        ),
        ("<value><nil/></value>", None),
        ("<value><array><data/></array></value>", []),
        (
            "<value><array><data><value>a</value><value><int>1</int></value></data></array></value>",
            ["a", 1],
        ),
    ],
)
def test_scalar_and_array_values(xml: str, expected: Any) -> None:
    """Each XML-RPC type decodes to its Python value; an untyped value is a string."""
    assert decode_value(xml) == expected


def test_struct_keeps_order_and_duplicates() -> None:
    """A struct keeps its members in document order, duplicates included."""
    xml = (
        "<value><struct>"
        "<member><name>b</name><value>1</value></member>"
        "<member><name>a</name><value><int>2</int></value></member>"
        "<member><name>b</name><value>3</value></member>"
        "</struct></value>"
    )
    value = decode_value(xml)
    assert value == Struct((("b", "1"), ("a", 2), ("b", "3")))
    assert value.first("b") == "1"


def test_whitespace_between_elements_is_ignored() -> None:
    """Pretty-printed calls (as Python's client writes them) decode like compact ones."""
    body = xmlrpc.client.dumps(({"host": "localhost"}, [1, 2]), methodname="registered_users")
    assert decode_call(body.encode()) == MethodCall(
        "registered_users", (Struct.of(("host", "localhost")), [1, 2])
    )


def test_no_params() -> None:
    """A call without ``<params>`` has no params."""
    assert decode_call(b"<methodCall><methodName>status</methodName></methodCall>") == MethodCall(
        "status"
    )


def test_base64_bytes() -> None:
    """A base64 value keeps the sent text and decodes it on demand."""
    assert Base64("aGk=").data == b"hi"
    assert Base64.wrap(b"hi") == Base64("aGk=")


@pytest.mark.parametrize(
    "body",
    [
        b"<methodCall>",
        b"not xml at all",
        b"<methodCall><methodName>x</methodName></methodCall><extra/>",
        b"<methodCall><methodName>&undefined;</methodName></methodCall>",
        b"\xff\xfe\x00",
    ],
)
def test_malformed_xml(body: bytes) -> None:
    """Bodies that are not well-formed XML raise :class:`MalformedXml`."""
    with pytest.raises(MalformedXml):
        decode_call(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<foo/>",
        b"<methodResponse><params/></methodResponse>",
        b"<methodCall/>",
        b"<methodCall><methodName> </methodName></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param/></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param><value><int>x</int></value>"
        b"</param></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param><value><boolean>2</boolean>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param><value><double>nan</double>"
        b"</value></param></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param><value><array/></value>"
        b"</param></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param><value><struct><member>"
        b"<value>1</value></member></struct></value></param></params></methodCall>",
        b"<methodCall><methodName>m</methodName><params><param><value><foo/></value>"
        b"</param></params></methodCall>",
        b'<methodCall xmlns="urn:x"><methodName>m</methodName></methodCall>',
    ],
)
def test_malformed_request(body: bytes) -> None:
    """Well-formed XML that is no readable method call raises :class:`MalformedRequest`."""
    with pytest.raises(MalformedRequest):
        decode_call(body)


def test_integer_digits_are_bounded() -> None:
    """Integers longer than 1000 digits are refused (products stay printable)."""
    assert decode_value(f"<value><int>{'9' * 1000}</int></value>") == int("9" * 1000)
    with pytest.raises(MalformedRequest):
        decode_value(f"<value><int>{'9' * 1001}</int></value>")


# ------------------------------------------------------------------ safety

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<methodCall><methodName>echothis</methodName><params><param><value>&lol4;</value></param>
</params></methodCall>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>echothis</methodName><params><param><value>&secret;</value></param>
</params></methodCall>"""

DOCTYPE_ONLY = b"""<!DOCTYPE methodCall SYSTEM "http://example.invalid/x.dtd">
<methodCall><methodName>status</methodName></methodCall>"""


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, DOCTYPE_ONLY], ids=["laughs", "xxe", "doctype"]
)
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    """Any DOCTYPE (and so any entity declaration) is refused before decoding."""
    with pytest.raises(MalformedXml):
        decode_call(body)


def nested_arrays(depth: int) -> bytes:
    inner = "<value>x</value>"
    for _ in range(depth):
        inner = f"<value><array><data>{inner}</data></array></value>"
    body = f"<methodCall><methodName>echothis</methodName><params><param>{inner}</param></params>"
    return (body + "</methodCall>").encode()


def test_depth_limit() -> None:
    """Nesting deeper than ``max_depth`` elements is refused; shallower nesting decodes."""
    assert decode_call(nested_arrays(5), max_depth=64).params[0] == [[[[["x"]]]]]
    with pytest.raises(MalformedRequest):
        decode_call(nested_arrays(30), max_depth=64)


def test_depth_limit_counts_ignored_elements() -> None:
    """Deep nesting inside elements the decoder would skip is refused too."""
    deep = "<x>" * 100 + "</x>" * 100
    body = f"<methodCall><methodName>status</methodName>{deep}</methodCall>".encode()
    with pytest.raises(MalformedRequest):
        decode_call(body, max_depth=64)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_decode_errors(body: bytes) -> None:
    """Whatever the bytes, decoding either succeeds or raises a :class:`DecodeError`."""
    try:
        decode_call(body)
    except DecodeError:
        pass


@given(st.text(max_size=200))
def test_arbitrary_text_after_a_prefix(tail: str) -> None:
    """Bodies that start like a call but continue arbitrarily only raise decode errors."""
    body = ("<methodCall><methodName>m</methodName><params><param><value>" + tail).encode()
    try:
        decode_call(body)
    except DecodeError:
        pass


# ------------------------------------------------------------------ encoding


def test_escaping() -> None:
    """All five XML specials become entities; newlines stay literal."""
    body = encode_response("<a & 'b' \"c\">\nz")
    assert body == (
        b'<?xml version="1.0"?><methodResponse><params><param><value><string>'
        b"&lt;a &amp; &apos;b&apos; &quot;c&quot;&gt;\nz"
        b"</string></value></param></params></methodResponse>"
    )


def test_empty_containers_are_self_closed() -> None:
    """Empty strings, arrays and structs are written as empty elements."""
    body = encode_response(Struct.of(("s", ""), ("a", []), ("t", Struct())))
    assert b"<value><string/></value>" in body
    assert b"<array><data/></array>" in body
    assert b"<value><struct/></value>" in body
    assert xmlrpc.client.loads(body.decode())[0] == ({"s": "", "a": [], "t": {}},)


def test_fault_encoding() -> None:
    """A fault is ``faultCode`` then ``faultString`` in a struct inside ``<fault>``."""
    body = encode_fault(-118, "Error -118\nInvalid oauth token")
    assert body == (
        b'<?xml version="1.0"?><methodResponse><fault><value><struct>'
        b"<member><name>faultCode</name><value><int>-118</int></value></member>"
        b"<member><name>faultString</name><value><string>Error -118\nInvalid oauth token"
        b"</string></value></member></struct></value></fault></methodResponse>"
    )
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(body.decode())
    assert caught.value.faultCode == -118


def test_characters_xml_cannot_carry_are_replaced() -> None:
    """Control characters become U+FFFD and CR is a character reference, so replies parse."""
    body = encode_response("a\x01b\rc")
    assert xmlrpc.client.loads(body.decode())[0] == ("a\ufffdb\rc",)


def test_every_type_encodes() -> None:
    """Booleans, doubles, nil, base64, bytes and dates encode in their own elements."""
    value = [True, 1.5, None, Base64("aGk="), b"hi", DateTime("20240501T10:00:00")]
    body = encode_response(value)
    for piece in (
        b"<boolean>1</boolean>",
        b"<double>1.5</double>",
        b"<nil/>",
        b"<base64>aGk=</base64>",
        b"<dateTime.iso8601>20240501T10:00:00</dateTime.iso8601>",
    ):
        assert piece in body
    parsed: Any = xmlrpc.client.loads(body.decode(), use_builtin_types=True)[0][0]
    assert parsed[:3] == [True, 1.5, None]
    assert parsed[3] == parsed[4] == b"hi"


def test_unknown_python_type_is_an_error() -> None:
    """Values outside the model are refused rather than written wrongly."""
    with pytest.raises(TypeError):
        encode_response(object())


# XML-RPC values Python's client can write: text without characters XML forbids
_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=20
).filter(lambda t: all(c in "\t\n" or ord(c) >= 0x20 for c in t))
_values = st.recursive(
    st.one_of(
        _text,
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(_text.filter(bool), inner, max_size=4),
    ),
    max_leaves=12,
)


def _as_python(value: Any) -> Any:
    if isinstance(value, Struct):
        return {name: _as_python(v) for name, v in value.members}
    if isinstance(value, list):
        return [_as_python(v) for v in value]
    return value


@given(_values)
def test_round_trip_with_python_client(value: Any) -> None:
    """What Python's client sends decodes to the same value, and echoes back intact."""
    body = xmlrpc.client.dumps((value,), methodname="echothis").encode("utf-8")
    decoded = decode_call(body).params[0]
    assert _as_python(decoded) == value
    assert xmlrpc.client.loads(encode_response(decoded).decode("utf-8"))[0] == (value,)


def test_terms_for_messages() -> None:
    """Decoded values print as the terms ejabberd's XML-RPC library holds.

    ``é`` prints as text: its UTF-8 bytes are printable Latin-1, which is what a
    23.01 node shows (it was pinned as ``<<195,169>>`` before, which no node prints).
    """
    value: list[Value] = [Struct.of(("a", 1)), None, Base64("aGk="), DateTime("d"), "é", 2.5, True]
    # 81 columns: ~p breaks it, tuples on lines of their own (as Erlang/OTP 25 prints it)
    assert format_p(to_term(value)) == (
        "{array,[{struct,[{a,1}]},\n"
        "        nil,\n"
        '        {base64,<<"aGk=">>},\n'
        '        {date,<<"d">>},\n'
        '        <<"é">>,2.5,true]}'
    )
