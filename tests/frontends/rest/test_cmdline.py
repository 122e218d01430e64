"""Splitting mod_rest command lines into words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.frontends.rest.cmdline import split_command_line, strip_line_ending


def test_mod_rest_example() -> None:
    """The example in mod_rest's source splits the same way here."""
    line = '  a1 b2 "c3 d4"e5" c6   d7 \\"  e8"f9   g0 \\" h1  '
    assert split_command_line(line) == ["a1", "b2", 'c3 d4"e5', "c6", "d7", '  e8"f9   g0 ', "h1"]


def test_spaces_only() -> None:
    """Only spaces separate words: tabs and newlines stay inside them."""
    assert split_command_line("a\tb c\nd") == ["a\tb", "c\nd"]


def test_quote_inside_word() -> None:
    """A ``"`` inside an unquoted word is an ordinary character."""
    assert split_command_line('say a"b c"') == ["say", 'a"b', 'c"']


def test_quoted_to_the_end() -> None:
    """An unterminated quote runs to the end; a closing quote at the very end is dropped."""
    assert split_command_line('x "a b') == ["x", "a b"]
    assert split_command_line('x "a b"') == ["x", "a b"]
    assert split_command_line('x \\"a b\\"') == ["x", "a b"]


def test_backslash_quote_inside() -> None:
    """Inside quotes, ``\\"`` not followed by a space stays as it is."""
    assert split_command_line('"a\\"b" c') == ['a\\"b', "c"]


def test_empty_quotes() -> None:
    """``""`` is an empty word (mod_rest dropped it: our deliberate difference)."""
    assert split_command_line('--auth "" "" "" status') == ["--auth", "", "", "", "status"]


def test_blank() -> None:
    """Nothing but spaces gives no words."""
    assert split_command_line("") == []
    assert split_command_line("    ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a b\n", "a b"),
        ("a b\r\n", "a b"),
        ("a b\n\n", "a b\n"),
        ("a b\r", "a b\r"),
        ("a b", "a b"),
    ],
)
def test_strip_line_ending(text: str, expected: str) -> None:
    """Exactly one trailing ``\\n`` or ``\\r\\n`` is removed."""
    assert strip_line_ending(text) == expected


@given(st.text())
def test_never_raises(text: str) -> None:
    """Any text splits into a list of strings, none containing a separating space at an end."""
    words = split_command_line(text)
    assert all(isinstance(w, str) for w in words)
    assert "".join(words).count(" ") <= text.count(" ")


_plain_word = st.text(st.characters(exclude_characters=' "\\', codec="utf-8"), min_size=1)
_quotable = st.text(st.characters(exclude_characters='"\\', codec="utf-8"))


@given(st.lists(_plain_word))
def test_plain_words_round_trip(words: list[str]) -> None:
    """Words without spaces or quotes, joined by spaces, split back into the same words."""
    assert split_command_line(" ".join(words)) == words


@given(st.lists(_quotable))
def test_quoted_words_round_trip(words: list[str]) -> None:
    """Quoted words (spaces allowed, no quotes or backslashes) split back unchanged."""
    line = " ".join(f'"{w}"' for w in words)
    assert split_command_line(line) == words


def _quoted_reference(text: str, start: int) -> tuple[str, int]:
    """The character-by-character scan ``_quoted`` replaced, kept as its specification."""
    i = start
    end = len(text)
    while i < end:
        for closer in ('"', '\\"'):
            if text.startswith(closer, i):
                after = i + len(closer)
                if after == end:
                    return text[start:i], end
                if text[after] == " ":
                    return text[start:i], after + 1
        i += 1
    return text[start:], end


def _split_reference(text: str) -> list[str]:
    words: list[str] = []
    i, end = 0, len(text)
    while i < end:
        if text[i] == " ":
            i += 1
        elif text[i] == '"':
            word, i = _quoted_reference(text, i + 1)
            words.append(word)
        elif text.startswith('\\"', i):
            word, i = _quoted_reference(text, i + 2)
            words.append(word)
        else:
            stop = text.find(" ", i)
            stop = end if stop < 0 else stop
            words.append(text[i:stop])
            i = stop
    return words


_quote_heavy = st.text(st.sampled_from(['"', "\\", " ", "a", "b"]))


@given(st.one_of(_quote_heavy, st.text()))
def test_same_words_as_the_character_scan(text: str) -> None:
    """Quoted words end exactly where the former per-character scan ended them."""
    assert split_command_line(text) == _split_reference(text)


def test_long_unterminated_quote_is_one_word() -> None:
    """A 1 MiB quoted word with no closing quote is the rest of the line, found in one scan."""
    word = "a" * (1 << 20)
    assert split_command_line(f'registered_users "{word}') == ["registered_users", word]
