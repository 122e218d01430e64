"""A small, safe reader for files of Erlang terms (what ``file:consult/1`` reads).

``push_roster`` files look like ``[{"bob", "example.org", "Friends", "Bob"}].``
This reader understands lists, tuples, strings, binaries (``<<"text">>``,
``<<"text"/utf8>>``, ``<<104,105>>``), atoms (plain and quoted), integers,
floats and ``%`` comments; each term ends with a dot.  It builds plain Python
values and never evaluates anything: no records, funs, macros, variables or
operators.

Values: atom :class:`Atom`; string ``str``; binary :class:`Binary`; integer
``int``; float ``float``; list ``list``; tuple ``tuple``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Atom", "Binary", "ErlTermError", "parse_terms", "text_of"]

MAX_DEPTH = 64


class Atom(str):
    """An Erlang atom."""

    __slots__ = ()


class Binary(str):
    """An Erlang binary, decoded as UTF-8."""

    __slots__ = ()


class ErlTermError(ValueError):
    """The text is not a sequence of dot-terminated Erlang terms; says where."""

    def __init__(self, message: str, text: str, position: int) -> None:
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


_SIMPLE_ESCAPES = {
    "b": "\b",
    "d": "\x7f",
    "e": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "s": " ",
    "t": "\t",
    "v": "\v",
}
_ATOM_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@")
_OCTAL = frozenset("01234567")
_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_HEX = frozenset("0123456789abcdefABCDEF")


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> ErlTermError:
        return ErlTermError(message, self.text, self.pos if position is None else position)

    def skip_space(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            char = text[self.pos]
            if char == "%":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end + 1
            elif char.isspace():
                self.pos += 1
            else:
                return

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos : self.pos + 1]

    def expect(self, token: str) -> None:
        self.skip_space()
        if not self.text.startswith(token, self.pos):
            found = self.text[self.pos : self.pos + 1] or "end of file"
            raise self.fail(f"expected '{token}', found '{found}'")
        self.pos += len(token)

    def terms(self) -> list[Any]:
        found: list[Any] = []
        while self.peek():
            found.append(self.term(0))
            self.expect(".")
            # a term's dot must be followed by whitespace, a comment or the end
            if self.pos < len(self.text) and not (
                self.text[self.pos].isspace() or self.text[self.pos] == "%"
            ):
                raise self.fail("expected whitespace after '.'")
        return found

    def term(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail("terms are nested too deeply")
        char = self.peek()
        if char == "[":
            return self.sequence("[", "]", depth)
        if char == "{":
            return tuple(self.sequence("{", "}", depth))
        if char == '"':
            return self.quoted('"')
        if char == "'":
            return Atom(self.quoted("'"))
        if self.text.startswith("<<", self.pos):
            return self.binary()
        if char == "-" or char in _DIGITS:
            return self.number()
        if char in _LOWER and char:
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] in _ATOM_CHARS:
                self.pos += 1
            return Atom(self.text[start : self.pos])
        if not char:
            raise self.fail("unexpected end of file")
        raise self.fail(f"unexpected '{char}'")

    def sequence(self, opening: str, closing: str, depth: int) -> list[Any]:
        self.expect(opening)
        items: list[Any] = []
        if self.peek() == closing:
            self.pos += 1
            return items
        while True:
            items.append(self.term(depth + 1))
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char == closing:
                self.pos += 1
                return items
            else:
                raise self.fail(f"expected ',' or '{closing}'")

    def quoted(self, quote: str) -> str:
        start = self.pos
        self.pos += 1
        text = self.text
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.fail("unterminated quoted text", start)
            char = text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char == "\\":
                out.append(self.escape())
            else:
                out.append(char)

    def escape(self) -> str:
        text = self.text
        if self.pos >= len(text):
            raise self.fail("unterminated escape")
        char = text[self.pos]
        self.pos += 1
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        if char in _OCTAL:
            digits = char
            while len(digits) < 3 and self.pos < len(text) and text[self.pos] in _OCTAL:
                digits += text[self.pos]
                self.pos += 1
            return chr(int(digits, 8))
        if char == "x":
            return self.hex_escape()
        if char == "^":
            if self.pos >= len(text):
                raise self.fail("unterminated escape")
            control = text[self.pos]
            self.pos += 1
            return chr(ord(control) % 32)
        return char  # \\ \" \' and any other character stand for themselves

    def hex_escape(self) -> str:
        text = self.text
        if text.startswith("{", self.pos):
            end = text.find("}", self.pos)
            digits = text[self.pos + 1 : end] if end > 0 else ""
            if not digits or any(d not in _HEX for d in digits) or len(digits) > 6:
                raise self.fail("bad \\x{…} escape")
            self.pos = end + 1
        else:
            digits = text[self.pos : self.pos + 2]
            if len(digits) != 2 or any(d not in _HEX for d in digits):
                raise self.fail("bad \\xHH escape")
            self.pos += 2
        code = int(digits, 16)
        if code > 0x10FFFF:
            raise self.fail("character code out of range")
        return chr(code)

    def number(self) -> int | float:
        start = self.pos
        if self.text[self.pos] == "-":
            self.pos += 1
        digits_start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _DIGITS:
            self.pos += 1
        if self.pos == digits_start:
            raise self.fail("expected a number", start)
        if (
            self.text.startswith(".", self.pos)
            and self.pos + 1 < len(self.text)
            and self.text[self.pos + 1] in _DIGITS
        ):
            self.pos += 1
            while self.pos < len(self.text) and self.text[self.pos] in _DIGITS:
                self.pos += 1
            return float(self.text[start : self.pos])
        return int(self.text[start : self.pos])

    def binary(self) -> Binary:
        self.expect("<<")
        data = bytearray()
        if self.peek() == ">":
            self.expect(">>")
            return Binary("")
        while True:
            char = self.peek()
            if char == '"':
                segment = self.quoted('"')
                if self.peek() == "/":
                    self.pos += 1
                    self.skip_space()
                    if not self.text.startswith("utf8", self.pos):
                        raise self.fail("only /utf8 is understood in binaries")
                    self.pos += 4
                    data += segment.encode("utf-8")
                else:
                    if any(ord(c) > 255 for c in segment):
                        raise self.fail("a binary string without /utf8 holds bytes only")
                    data += segment.encode("latin-1")
            elif char and char in _DIGITS:
                value = self.number()
                if not isinstance(value, int) or not 0 <= value <= 255:
                    raise self.fail("binary segments are bytes (0-255)")
                data.append(value)
            else:
                raise self.fail("expected a string or a byte in the binary")
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif self.text.startswith(">>", self.pos):
                self.pos += 2
                break
            else:
                raise self.fail("expected ',' or '>>'")
        try:
            return Binary(bytes(data).decode("utf-8"))
        except UnicodeDecodeError:
            raise self.fail("binary is not UTF-8 text") from None


def parse_terms(text: str) -> list[Any]:
    """Every dot-terminated term of ``text``.

    Raises:
        ErlTermError: at the first thing that is not understood.
    """
    return _Reader(text).terms()


def text_of(term: Any) -> str | None:
    """A term read as text the way ``iolist_to_binary`` would, or ``None``.

    Strings, binaries and atoms are text; so is a list of character codes
    and text pieces (``[]`` is the empty string).
    """
    if isinstance(term, str):
        return str(term)
    if isinstance(term, list):
        parts: list[str] = []
        for item in term:
            if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 0x10FFFF:
                parts.append(chr(item))
            elif isinstance(item, (Binary, list)) or (
                isinstance(item, str) and not isinstance(item, Atom)
            ):
                piece = text_of(item)
                if piece is None:
                    return None
                parts.append(piece)
            else:
                return None
        return "".join(parts)
    return None
