"""The safe Erlang term reader used for roster files."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.backends.embedded.erlterms import Atom, Binary, ErlTermError, parse_terms, text_of


def test_roster_file_example() -> None:
    """ejabberd's documented roster file reads as one list of 4-tuples."""
    text = (
        '[{"bob", "example.org", "Workers", "Bob"},\n'
        ' {"mart", "example.org", "Workers", "Mart"}].\n'
    )
    assert parse_terms(text) == [
        [("bob", "example.org", "Workers", "Bob"), ("mart", "example.org", "Workers", "Mart")]
    ]


def test_term_kinds() -> None:
    """Atoms, quoted atoms, binaries, numbers, comments and several terms are understood."""
    text = (
        "% a comment\n"
        '{ok, \'Quoted atom\', <<"bin">>, <<"caf\u00e9"/utf8>>, <<104,105>>, <<>>, -12, 1.5}.\n'
        '[]. "".'
    )
    first, empty_list, empty_string = parse_terms(text)
    assert first == ("ok", "Quoted atom", "bin", "caf\u00e9", "hi", "", -12, 1.5)
    assert isinstance(first[0], Atom) and isinstance(first[1], Atom)
    assert isinstance(first[2], Binary) and not isinstance(first[2], Atom)
    assert (empty_list, empty_string) == ([], "")


def test_escapes() -> None:
    """String escapes: named, octal, hex, braced hex, control and quoted characters."""
    [value] = parse_terms(r'"a\nb\tc\101\x41\x{263A}\^A\"\\\q".')
    assert value == 'a\nb\tcAA\u263a\x01"\\q'


@pytest.mark.parametrize(
    "text",
    [
        "[{a, b}]",  # no terminating dot
        "{a, b.",
        '"unterminated.',
        'os:cmd("rm -rf /").',
        "X = 1.",
        "fun() -> ok end.",
        "#record{}.",
        "[1 | 2].",
        '<<"x"/binary>>.',
        "<<300>>.",
        "a.b.",
        "\u00b2.",  # a digit only to Unicode
        "\u00e9t\u00e9.",  # atoms start with an ASCII lower-case letter
        "{" * 100 + "}" * 100 + ".",
    ],
)
def test_rejects_what_it_does_not_understand(text: str) -> None:
    """Anything beyond plain data, or malformed, is an ErlTermError, never evaluated."""
    with pytest.raises(ErlTermError):
        parse_terms(text)


def test_error_names_line_and_column() -> None:
    """Errors say where the reader stopped."""
    with pytest.raises(ErlTermError, match="line 2, column 4"):
        parse_terms("[a,\nb, ?].")


def test_text_of() -> None:
    """Strings, binaries, atoms and character lists read as text; other terms do not."""
    assert text_of("abc") == "abc"
    assert text_of(Binary("b")) == "b"
    assert text_of(Atom("at")) == "at"
    assert text_of([]) == ""
    assert text_of([104, "i", [33]]) == "hi!"
    assert text_of(12) is None
    assert text_of((1,)) is None
    assert text_of([Atom("x")]) is None


# -- property: whatever we print, we read back ----------------------------------------------------


def _show_text(text: str) -> str:
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif ord(char) < 32:
            out.append(f"\\x{{{ord(char):x}}}")
        else:
            out.append(char)
    return "".join(out)


def _show(term: Any) -> str:
    if isinstance(term, Atom):
        return "'" + term.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(term, Binary):
        return '<<"' + _show_text(term) + '"/utf8>>'
    if isinstance(term, str):
        return '"' + _show_text(term) + '"'
    if isinstance(term, list):
        return "[" + ", ".join(_show(t) for t in term) + "]"
    if isinstance(term, tuple):
        return "{" + ",".join(_show(t) for t in term) + "}"
    return repr(term)


_text = st.text(st.characters(codec="utf-8"), max_size=12)
_leaves = st.one_of(
    _text,
    _text.map(Binary),
    _text.map(Atom),
    st.integers(min_value=-(10**20), max_value=10**20),
)
_terms = st.recursive(
    _leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.lists(inner, max_size=4).map(tuple)),
    max_leaves=20,
)


@given(st.lists(_terms, min_size=1, max_size=3))
def test_round_trip(terms: list[Any]) -> None:
    """Printed terms read back equal, with atoms and binaries kept apart from strings."""
    text = "\n".join(_show(t) + "." for t in terms)
    parsed = parse_terms(text)
    assert parsed == terms
    assert [type(t) for t in parsed] == [type(t) for t in terms]


@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    """Any text either parses or raises ErlTermError: no other exception escapes."""
    try:
        parse_terms(text)
    except ErlTermError:
        pass
