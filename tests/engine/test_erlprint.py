"""Erlang's ``~p`` with line breaking: the texts a real ejabberd prints for the same terms.

The expected strings were captured from Debian's ejabberd 23.01 (OTP 25) on loopback:
``delete_old_users`` over /api and XML-RPC, and ``srg_get_info`` over XML-RPC and
ejabberdctl.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.engine.erlpretty import format_p
from gateway.engine.erlpretty import print_latin1 as format_latin1
from gateway.engine.erlprint import TermText, charlist

LOCAL = b"localhost"

#: captured from Debian's ejabberd 23.01: delete_old_users_vhost over /api (8 accounts)
DELETED_EIGHT = (
    'Deleted 8 users: [{<<"alice">>,<<"localhost">>},\n'
    '                  {<<"bob">>,<<"localhost">>},\n'
    '                  {<<"u1">>,<<"localhost">>},\n'
    '                  {<<"u2">>,<<"localhost">>},\n'
    '                  {<<"josé">>,<<"localhost">>},\n'
    '                  {<<"longusername_abcdefghijkl">>,<<"localhost">>},\n'
    '                  {<<"another_long_username_xyz">>,<<"localhost">>},\n'
    '                  {<<"third_user_with_long_name">>,<<"localhost">>}]'
)
EIGHT = [
    b"alice",
    b"bob",
    b"u1",
    b"u2",
    "josé".encode(),
    b"longusername_abcdefghijkl",
    b"another_long_username_xyz",
    b"third_user_with_long_name",
]

#: captured from Debian's ejabberd 23.01: delete_old_users over XML-RPC; the Cyrillic
#: name has bytes that are no printable Latin-1, so its binary prints as numbers
DELETED_FIVE = (
    'Deleted 5 users: [{<<"alice">>,<<"localhost">>},\n'
    '                  {<<"bob">>,<<"localhost">>},\n'
    '                  {<<"josé">>,<<"localhost">>},\n'
    '                  {<<"a\\\\b">>,<<"localhost">>},\n'
    "                  {<<208,180,209,128,209,131,208,179,208,180,209,128,209,131,\n"
    "                     208,179,208,180,209,128,209,131,208,179,208,180,209,128,\n"
    "                     209,131,208,179,120,120>>,\n"
    '                   <<"localhost">>}]'
)
FIVE = [b"alice", b"bob", "josé".encode(), b"a\\b", "другдругдругдругxx".encode()]

#: captured from Debian's ejabberd 23.01: srg_get_info's displayed_groups over XML-RPC
#: and ejabberdctl (the same text)
DISPLAYED = (
    '["group_number_one","group_number_two","group_number_three",\n'
    ' "group_number_four","group_number_five","zoë",\n'
    " [208,180,209,128,209,131,208,179],\n"
    ' "q\\"b"]'
)
DISPLAYED_GROUPS = [
    "group_number_one",
    "group_number_two",
    "group_number_three",
    "group_number_four",
    "group_number_five",
    "zoë",
    "друг",
    'q"b',
]


def _deleted(users: list[bytes]) -> str:
    prefix = f"Deleted {len(users)} users: "
    return prefix + format_p([(user, LOCAL) for user in users], column=len(prefix) + 1)


def test_deleted_accounts_break_like_ejabberd() -> None:
    """A list of account tuples too long for one line puts each tuple on its own line."""
    assert _deleted(EIGHT) == DELETED_EIGHT


def test_non_latin1_binaries_print_as_numbers_and_break() -> None:
    """Binaries with bytes outside printable Latin-1 print as numbers, broken to fit."""
    assert _deleted(FIVE) == DELETED_FIVE


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        # captured from Debian's ejabberd 23.01 (ejabberdctl delete_old_users 0)
        ([b"solo"], 'Deleted 1 users: [{<<"solo">>,<<"localhost">>}]'),
        ([], "Deleted 0 users: []"),
    ],
)
def test_short_lists_stay_on_one_line(users: list[bytes], expected: str) -> None:
    """A term that fits in the line is printed on it."""
    assert _deleted(users) == expected


def test_strings_fill_lines_and_lists_of_numbers_break_them() -> None:
    """Erlang strings share lines; a list of numbers sits on a line of its own."""
    assert format_p([charlist(group) for group in DISPLAYED_GROUPS]) == DISPLAYED


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ([], "[]"),
        ([charlist("g1")], '["g1"]'),
        ([charlist("g1"), charlist("g3")], '["g1","g3"]'),
        (b"", "<<>>"),
        (b"tab\there", '<<"tab\\there">>'),
        (bytes([127]), "<<127>>"),
        ((b"a", 7), '{<<"a">>,7}'),
    ],
)
def test_simple_terms(term: object, expected: str) -> None:
    """Small terms print like ``~p``: escapes, empty binaries and lists, numbers."""
    assert format_p(term) == expected


def test_values_without_a_term_are_refused() -> None:
    """A value with no Erlang term is an error, not a guess (the printer is erlpretty's)."""
    with pytest.raises(TypeError):
        format_p(object())


_BINARIES = st.binary(max_size=40)
_TERMS = st.lists(st.tuples(_BINARIES, _BINARIES), max_size=12)


@given(_TERMS, st.integers(min_value=1, max_value=60))
def test_breaking_only_adds_line_breaks_and_indentation(
    term: list[tuple[bytes, bytes]], column: int
) -> None:
    """Broken or not, the text is the one-line text with breaks and spaces between elements."""
    broken = format_latin1(term, column)
    flat = format_latin1(term, column, line_length=10_000)
    assert "\n" not in flat
    assert broken.replace("\n", "").replace(" ", "") == flat.replace(" ", "")
    # every line of a broken term but the first starts indented past the column
    for line in broken.split("\n")[1:]:
        assert line.startswith(" " * column)


def test_term_text_carries_both_renderings() -> None:
    """A TermText is its mod_http_api text, with the ~p text beside it."""
    value = TermText("g1\ng3", '["g1","g3"]')
    assert value == "g1\ng3"
    assert value.printed == '["g1","g3"]'
    assert isinstance(value, str)
