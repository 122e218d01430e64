"""Erlang term printing for the dialects' messages (``~p`` and ``~w``)."""

from __future__ import annotations

import pytest

from gateway.frontends.erlterm import Atom, Charlist, format_p, format_w, thrown_term


@pytest.mark.parametrize(
    ("term", "printed"),
    [
        # printable Latin-1 bytes: a 23.01 node shows the text, which reads back as UTF-8
        ("é", '<<"é">>'),
        (Charlist("é"), '"é"'),
        # a byte from 128 to 159 in the UTF-8 makes the whole binary numbers
        ("€", "<<226,130,172>>"),
        ("a\x7f", "<<97,127>>"),
        # the control characters ~p still shows as text, escaped
        ('a\vb\x1b"\\', '<<"a\\vb\\e\\"\\\\">>'),
        ("", "<<>>"),
        (Charlist(""), "[]"),
    ],
)
def test_p_prints_text_by_its_latin1_bytes(term: object, printed: str) -> None:
    """``~p`` shows a binary or string as text exactly when a 23.01 node does.

    Checked against ``io_lib:format("~p", …)`` of Debian's Erlang/OTP 25 and a
    real ejabberd 23.01 XML-RPC fault.
    """
    assert format_p(term) == printed


def test_w_prints_binaries_as_numbers() -> None:
    """``~w`` never shows a binary as text (mod_http_api's ``Arg <<53>> …``)."""
    assert format_w("5") == "<<53>>"
    assert format_w("é") == "<<195,169>>"


def test_thrown_terms() -> None:
    """The neutral thrown term becomes the Erlang term ejabberd threw."""
    assert format_p(thrown_term("error_no_vcard_found")) == "error_no_vcard_found"
    assert format_p(thrown_term(("not_found", "unknown_user"))) == '{not_found,"unknown_user"}'
    assert format_p(thrown_term(("error", "Room not found"))) == '{error,"Room not found"}'
    assert thrown_term("x") == Atom("x")


def test_p_breaks_long_terms_like_io_lib() -> None:
    """Past 80 columns ``~p`` breaks a term as Erlang/OTP 25's io_lib:format does.

    The expected texts were printed by ``erl`` (and ejabberd 23.01's XML-RPC faults
    show the same); a random comparison of a few thousand terms at several columns
    against ``erl`` matched as well.
    """
    args = [(Atom(k), v) for k, v in (("user", "alice"), ("host", "localhost"))]
    args += [(Atom("name"), "N"), (Atom("subname"), "FAMILY")]
    assert format_p(args) == (
        '[{user,<<"alice">>},\n {host,<<"localhost">>},\n {name,<<"N">>},\n {subname,<<"FAMILY">>}]'
    )
    # a tagged tuple keeps its elements after the tag, under the first one
    call = (
        Atom("call"),
        Atom("registered_users"),
        [(Atom("struct"), [(Atom("host"), "localhost")]), (Atom("struct"), [])],
    )
    assert format_p(call, column=15) == (
        "{call,registered_users,\n" + " " * 20 + '[{struct,[{host,<<"localhost">>}]},{struct,[]}]}'
    )
    # deep nesting indents a tag's elements by 4 instead
    user = (Atom("struct"), [(Atom("jid"), "carol@localhost"), (Atom("nick"), "carol")])
    users = (Atom("array"), [(Atom("struct"), [(Atom("user"), (Atom("array"), [user]))])])
    nested = [(Atom("users"), users), (Atom("room"), "noroom@conference.localhost")]
    assert format_p(nested) == (
        "[{users,\n"
        "     {array,\n"
        "         [{struct,\n"
        "              [{user,\n"
        "                   {array,\n"
        "                       [{struct,\n"
        '                            [{jid,<<"carol@localhost">>},\n'
        '                             {nick,<<"carol">>}]}]}}]}]}},\n'
        ' {room,<<"noroom@conference.localhost">>}]'
    )
    # a short term stays on its line wherever it starts
    assert format_p((Atom("error"), Charlist("x")), column=12) == '{error,"x"}'
