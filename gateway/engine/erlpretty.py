"""Erlang's ``~p``, line breaks included: a port of OTP 25's ``io_lib_pretty``.

ejabberd builds several texts with ``io_lib:format``: XML-RPC fault strings
(``"A problem '~p' occurred executing the command ~p with arguments~n~p"``),
ejabberdctl's error lines and some results.  ``~p`` writes a term on one line
when it fits in 80 columns and otherwise breaks it: a list or tuple that does
not fit puts its elements one per line, aligned under the first; a tuple whose
first element is an atom (a *tagged* tuple) keeps the tag on the first line;
a binary of numbers wraps like a paragraph.  Clients that parse those texts see
the breaks, so this module reproduces the algorithm of Erlang/OTP 25 (Debian
bookworm, under ejabberd 23.01) step by step, for ``io_lib:format`` without the
``t`` modifier: no depth or character limit, Latin-1 output.

Terms are Python values:

* :class:`Atom` is an atom, as are ``True``/``False`` (``true``/``false``) and
  ``None`` (``null``, as a JSON decoder gives it);
* ``str`` is a binary holding the text's UTF-8, ``bytes`` a binary;
* :class:`Charlist` is an Erlang string: the UTF-8 bytes of the text when
  ``~p`` shows those as text, else its code points;
* ``int`` and ``float`` are numbers, ``list`` a list, ``tuple`` a tuple;
* ``dict`` is a map, printed in the dict's order (callers give Erlang's).

A list of integers is an Erlang string too, and ``~p`` shows it as one when
every code is a printable Latin-1 character, exactly as Erlang does.

Layout happens in Latin-1 characters (a binary's bytes count one column each);
:func:`format_p` and :func:`io_format` then read the bytes as UTF-8, as
ejabberd's answer reaches its client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = [
    "LINE_LENGTH",
    "Atom",
    "Charlist",
    "erlang_float",
    "format_p",
    "io_format",
    "io_format_latin1",
    "print_latin1",
    "write_atom",
]

#: ``io_lib:format``'s line length for ``~p``
LINE_LENGTH = 80


class Atom(str):
    """An Erlang atom."""

    __slots__ = ()


class Charlist(str):
    """An Erlang string (a list of character codes)."""

    __slots__ = ()


# -- writing atoms, strings and floats (io_lib) -------------------------------------------

#: erl_scan:reserved_word/1 of OTP 25 (``maybe`` and ``else`` only with the feature on)
_RESERVED = frozenset(
    "after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let "
    "not of or orelse receive rem try when xor".split()
)

_ESCAPES = {
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
    0x08: "\\b",
    0x0C: "\\f",
    0x1B: "\\e",
    0x7F: "\\d",
}

#: the control characters io_lib counts as printable
_PRINTABLE_CONTROLS = frozenset((0x0A, 0x0D, 0x09, 0x0B, 0x08, 0x0C, 0x1B))


def _printable_code(code: int) -> bool:
    return 32 <= code <= 126 or 160 <= code <= 255 or code in _PRINTABLE_CONTROLS


def _lower_start(code: int) -> bool:
    return 97 <= code <= 122 or (223 <= code <= 255 and code != 247)


def _name_char(code: int) -> bool:
    return (
        97 <= code <= 122
        or (223 <= code <= 255 and code != 247)
        or 65 <= code <= 90
        or (192 <= code <= 222 and code != 215)
        or 48 <= code <= 57
        or code in (95, 64)
    )


def _string_char(code: int, quote: int) -> str:
    """io_lib's string_char in ``unicode_as_latin1`` mode."""
    if code == quote or code == 92:
        return "\\" + chr(code)
    if 32 <= code <= 126 or 160 <= code <= 255:
        return chr(code)
    if code > 255:
        return "\\x{" + format(code, "X") + "}"
    if code in _ESCAPES:
        return _ESCAPES[code]
    return "\\" + format(code, "03o")


def _quoted(codes: Any, quote: str) -> str:
    mark = ord(quote)
    return quote + "".join(_string_char(code, mark) for code in codes) + quote


def write_atom(name: str) -> str:
    """An atom as ``io_lib:write_atom_as_latin1`` writes it: quoted when it must be."""
    codes = [ord(c) for c in name]
    plain = (
        name not in _RESERVED
        and bool(codes)
        and _lower_start(codes[0])
        and all(_name_char(c) for c in codes[1:])
    )
    return name if plain else _quoted(codes, "'")


def erlang_float(value: float) -> str:
    """A float as Erlang writes it (``~w``, ``~p``): shortest digits, ``5.0``, ``1.0e20``.

    Erlang chooses between plain and exponent notation by which one is
    shorter, so ``100.0`` stays plain but ``1000.0`` becomes ``1.0e3``; from
    2**53 on (where floats stop holding every integer) it always uses the exponent.
    """
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("Erlang has no NaN or infinite floats")
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign = "-" if value < 0 else ""
    digits, place = _digits(abs(value))
    if abs(value) >= _EXACT_INTEGERS:
        return sign + _with_exponent(str(place - 1), digits)
    return sign + _insert_decimal(place, digits)


_EXACT_INTEGERS = float(2**53)


def _digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and the decimal point's place: 0.DIGITS × 10**place."""
    text = repr(value)
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    place = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    place -= len(digits) - len(stripped)
    return stripped.rstrip("0") or "0", place


def _insert_decimal(place: int, digits: str) -> str:
    # mirrors io_lib_format:insert_decimal/3, the rule behind Erlang's shortest float output
    if place == 0:
        return "0." + digits
    length = len(digits)
    if 0 < place < length:
        return digits[:place] + "." + digits[place:]
    exponent = str(place - 1)
    cost = len(exponent) + 1 + (2 if length == 1 else 1)
    if place < 0:
        if 2 - place <= cost:
            return "0." + "0" * -place + digits
        return _with_exponent(exponent, digits)
    if place - length + 2 <= cost:
        return digits + "0" * (place - length) + ".0"
    return _with_exponent(exponent, digits)


def _with_exponent(exponent: str, digits: str) -> str:
    if len(digits) == 1:
        return digits + ".0e" + exponent
    return digits[0] + "." + digits[1:] + "e" + exponent


# -- the intermediate form (io_lib_pretty:print_length) ------------------------------------

_LEAF, _LIST, _TUPLE, _MAP, _PAIR, _BIN = range(6)


class _If:
    """A measured term: io_lib_pretty's intermediate format without depth limits.

    A leaf holds its written ``text`` and is "atomic" for the layout (the
    ``?ATM`` test: several may share a line); a list, tuple or map holds its
    measured ``items`` (a map's are pairs, a pair's are key and value); a
    binary of numbers holds them, written, as ``items``.
    """

    __slots__ = ("items", "kind", "length", "tagged", "text")

    def __init__(
        self,
        kind: int,
        length: int,
        text: str = "",
        items: tuple[Any, ...] = (),
        tagged: bool = False,
    ) -> None:
        self.kind = kind
        self.length = length
        self.text = text
        self.items = items
        self.tagged = tagged

    @property
    def atomic(self) -> bool:
        if self.kind == _PAIR:
            return bool(self.items[0].atomic and self.items[1].atomic)
        return self.kind == _LEAF


def _leaf(text: str) -> _If:
    return _If(_LEAF, len(text), text)


def _is_atom(term: Any) -> bool:
    return isinstance(term, Atom | bool) or term is None


def _atom_text(term: Any) -> str:
    if term is None:
        return "null"
    if isinstance(term, bool):
        return "true" if term else "false"
    return write_atom(term)


def _charlist_codes(text: str) -> list[int]:
    raw = text.encode("utf-8")
    if all(_printable_code(b) for b in raw):
        return list(raw)
    return [ord(c) for c in text]


def _measure(term: Any) -> _If:
    if _is_atom(term):
        return _leaf(_atom_text(term))
    if isinstance(term, Charlist):
        return _measure_list(_charlist_codes(term))
    if isinstance(term, str):
        return _measure_binary(term.encode("utf-8"))
    if isinstance(term, bytes | bytearray):
        return _measure_binary(bytes(term))
    if isinstance(term, int):
        return _leaf(str(term))
    if isinstance(term, float):
        return _leaf(erlang_float(term))
    if isinstance(term, list):
        return _measure_list(term)
    if isinstance(term, tuple):
        if not term:
            return _leaf("{}")
        items = tuple(_measure(t) for t in term)
        return _If(
            _TUPLE, _seq_length(items, 2), items=items, tagged=_is_atom(term[0]) and len(term) > 1
        )
    if isinstance(term, dict):
        if not term:
            return _leaf("#{}")
        pairs = []
        for key, value in term.items():
            k, v = _measure(key), _measure(value)
            pairs.append(_If(_PAIR, k.length + 4 + v.length, items=(k, v)))
        return _If(_MAP, _seq_length(pairs, 3), items=tuple(pairs))
    raise TypeError(f"no Erlang term for {term!r}")


def _seq_length(items: Any, brackets: int) -> int:
    return brackets + sum(item.length for item in items) + len(items) - 1


def _measure_list(term: list[Any]) -> _If:
    if not term:
        return _leaf("[]")
    if all(isinstance(c, int) and not isinstance(c, bool) and _printable_code(c) for c in term):
        return _leaf(_quoted(term, '"'))
    items = tuple(_measure(t) for t in term)
    return _If(_LIST, _seq_length(items, 2), items=items)


def _measure_binary(data: bytes) -> _If:
    if not data:
        return _leaf("<<>>")
    if all(_printable_code(b) for b in data):
        return _leaf("<<" + _quoted(data, '"') + ">>")
    numbers = tuple(str(b) for b in data)
    return _If(_BIN, 4 + sum(len(n) for n in numbers) + len(numbers) - 1, items=numbers)


# -- writing on one line (io_lib_pretty:write) ---------------------------------------------


def _write(node: _If) -> str:
    kind = node.kind
    if kind == _LEAF:
        return node.text
    if kind == _BIN:
        return "<<" + ",".join(node.items) + ">>"
    if kind == _PAIR:
        return _write(node.items[0]) + " => " + _write(node.items[1])
    inner = ",".join(_write(item) for item in node.items)
    if kind == _LIST:
        return "[" + inner + "]"
    if kind == _TUPLE:
        return "{" + inner + "}"
    return "#{" + inner + "}"


# -- breaking over lines (io_lib_pretty:pp and friends) -------------------------------------
#
# The names follow io_lib_pretty: ``col`` is the current column (1-based),
# ``ll`` the line length, ``m`` the most a line may hold (the whole term's
# length), ``tind`` the indentation for a tagged tuple's elements, ``ind`` the
# spaces that start a continuation line, ``ld`` how many closing brackets
# follow the last element ("last depth") and ``w`` the width used so far.


def _fits(node: _If, col: int, ll: int, m: int, ld: int, w: int) -> bool:
    return node.length < ll - col - ld and node.length + w + ld <= m


def _last_depth(more: bool, ld: int) -> int:
    return 0 if more else ld + 1


def _joins(node: _If, col: int, ll: int, m: int, ld1: int, w: int) -> bool:
    """Whether a following element stays on the current line (pp_tail's first clause)."""
    elen = 1 + node.length
    if not node.atomic:
        return False
    if ld1 == 0:
        return elen + 1 < ll - col and w + elen + 1 <= m
    return elen < ll - col - ld1 and w + elen + ld1 <= m


def _pp(node: _If, col: int, ll: int, m: int, tind: int, ind: str, ld: int, w: int) -> str:
    if _fits(node, col, ll, m, ld, w):
        return _write(node)
    kind = node.kind
    if kind == _LIST:
        return "[" + _pp_list(node.items, col + 1, ll, m, tind, " " + ind, ld, w + 1) + "]"
    if kind == _TUPLE and node.tagged:
        return "{" + _pp_tag_tuple(node.items, col, ll, m, tind, ind, ld, w + 1) + "}"
    if kind == _TUPLE:
        return "{" + _pp_list(node.items, col + 1, ll, m, tind, " " + ind, ld, w + 1) + "}"
    if kind == _MAP:
        return "#{" + _pp_map(node.items, col + 2, ll, m, tind, "  " + ind, ld, w + 1) + "}"
    if kind == _BIN:
        return _pp_binary(node.items, col + 2, ll, m, "  " + ind, ld, w)
    return node.text


def _pp_tag_tuple(
    items: tuple[_If, ...], col: int, ll: int, m: int, tind: int, ind: str, ld: int, w: int
) -> str:
    tag, rest = items[0], items[1:]
    tag_ind = tag.length + 2
    tcol = col + tag_ind
    if tind > 0 and tag_ind > tind:
        return tag.text + _pp_tail(
            rest, col + tind, tcol, ll, m, tind, " " * tind + ind, ld, w + tag.length
        )
    indent = " " * tag_ind + ind
    return tag.text + "," + _pp_list(rest, tcol, ll, m, tind, indent, ld, w + tag.length + 1)


def _pp_list(
    items: tuple[_If, ...], col0: int, ll: int, m: int, tind: int, ind: str, ld: int, w: int
) -> str:
    rest = items[1:]
    text, width = _pp_element(items[0], col0, ll, m, tind, ind, _last_depth(bool(rest), ld), w)
    return text + _pp_tail(rest, col0, col0 + width, ll, m, tind, ind, ld, w + width)


def _pp_tail(
    items: tuple[_If, ...],
    col0: int,
    col: int,
    ll: int,
    m: int,
    tind: int,
    ind: str,
    ld: int,
    w: int,
) -> str:
    parts = []
    last = len(items) - 1
    for index, node in enumerate(items):
        ld1 = _last_depth(index < last, ld)
        if _joins(node, col, ll, m, ld1, w):
            parts.append("," + _write(node))
            col, w = col + 1 + node.length, w + 1 + node.length
        else:
            text, width = _pp_element(node, col0, ll, m, tind, ind, ld1, 0)
            parts.append(",\n" + ind + text)
            col, w = col0 + width, width
    return "".join(parts)


def _pp_element(
    node: _If, col: int, ll: int, m: int, tind: int, ind: str, ld: int, w: int
) -> tuple[str, int]:
    if _fits(node, col, ll, m, ld, w) and node.atomic:
        return _write(node), node.length
    return _pp(node, col, ll, m, tind, ind, ld, w), ll  # ll: forces a line break after it


def _pp_map(
    pairs: tuple[_If, ...], col: int, ll: int, m: int, tind: int, ind: str, ld: int, w: int
) -> str:
    rest = pairs[1:]
    text, width = _pp_pair(pairs[0], col, ll, m, tind, ind, _last_depth(bool(rest), ld), w)
    parts = [text]
    col0, col, w = col, col + width, width
    last = len(rest) - 1
    for index, pair in enumerate(rest):
        ld1 = _last_depth(index < last, ld)
        if _joins(pair, col, ll, m, ld1, w):
            parts.append("," + _write(pair))
            col, w = col + 1 + pair.length, w + 1 + pair.length
        else:
            text, width = _pp_pair(pair, col0, ll, m, tind, ind, ld1, 0)
            parts.append(",\n" + ind + text)
            col, w = col0 + width, width
    return "".join(parts)


def _pp_pair(
    pair: _If, col: int, ll: int, m: int, tind: int, ind: str, ld: int, w: int
) -> tuple[str, int]:
    if _fits(pair, col, ll, m, ld, w):
        return _write(pair), pair.length if pair.atomic else ll
    key, value = pair.items
    step = tind if tind > 0 else 4
    value_ind = " " * step + ind
    text = (
        _pp(key, col, ll, m, tind, ind, ld, w)
        + " =>\n"
        + value_ind
        + _pp(value, col + step, ll, m, tind, value_ind, ld, 0)
    )
    return text, ll


def _pp_binary(
    numbers: tuple[str, ...], col: int, ll: int, m: int, ind: str, ld: int, w: int
) -> str:
    start = max(8, min(ll - col, m - 4 - w) - ld)
    room, parts = start, []
    for number in numbers[:-1]:
        used = len(number) + 1
        if room - used < 0:
            parts.append("\n" + ind + number + ",")
            room = start - used
        else:
            parts.append(number + ",")
            room -= used
    last = numbers[-1]
    parts.append("\n" + ind + last if len(last) > room else last)
    return "<<" + "".join(parts) + ">>"


# -- choosing the tagged tuples' indentation (io_lib_pretty:cind) ---------------------------


class _NoGood(Exception):
    """The indentation tried would push a line past half the line length."""


def _cind(node: _If, col: int, ll: int, m: int, ind: int, ld: int, w: int) -> None:
    if _fits(node, col, ll, m, ld, w):
        return
    kind = node.kind
    if kind == _LIST or (kind == _TUPLE and not node.tagged):
        _cind_list(node.items, col + 1, ll, m, ind, ld, w + 1)
    elif kind == _TUPLE:
        _cind_tag_tuple(node.items, col, ll, m, ind, ld, w + 1)
    elif kind == _MAP:
        _cind_map(node.items, col + 2, ll, m, ind, ld, w + 2)


def _cind_tag_tuple(
    items: tuple[_If, ...], col: int, ll: int, m: int, ind: int, ld: int, w: int
) -> None:
    tag, rest = items[0], items[1:]
    tag_ind = tag.length + 2
    tcol = col + tag_ind
    if ind > 0 and tag_ind > ind:
        col1 = col + ind
        if not (m + col1 <= ll or col1 <= ll // 2):
            raise _NoGood
        _cind_tail(rest, col1, tcol, ll, m, ind, ld, w + tag.length)
    elif m + tcol < ll or tcol < ll // 2:
        _cind_list(rest, tcol, ll, m, ind, ld, w + tag.length + 1)
    else:
        raise _NoGood


def _cind_list(
    items: tuple[_If, ...], col0: int, ll: int, m: int, ind: int, ld: int, w: int
) -> None:
    rest = items[1:]
    width = _cind_element(items[0], col0, ll, m, ind, _last_depth(bool(rest), ld), w)
    _cind_tail(rest, col0, col0 + width, ll, m, ind, ld, w + width)


def _cind_tail(
    items: tuple[_If, ...], col0: int, col: int, ll: int, m: int, ind: int, ld: int, w: int
) -> None:
    last = len(items) - 1
    for index, node in enumerate(items):
        ld1 = _last_depth(index < last, ld)
        if _joins(node, col, ll, m, ld1, w):
            col, w = col + 1 + node.length, w + 1 + node.length
        else:
            width = _cind_element(node, col0, ll, m, ind, ld1, 0)
            col, w = col0 + width, width


def _cind_element(node: _If, col: int, ll: int, m: int, ind: int, ld: int, w: int) -> int:
    if _fits(node, col, ll, m, ld, w) and node.atomic:
        return node.length
    _cind(node, col, ll, m, ind, ld, w)
    return ll


def _cind_map(pairs: tuple[_If, ...], col: int, ll: int, m: int, ind: int, ld: int, w: int) -> None:
    rest = pairs[1:]
    width = _cind_pair(pairs[0], col, ll, m, ind, _last_depth(bool(rest), ld), w)
    col0, col, w = col, col + width, w + width
    last = len(rest) - 1
    for index, pair in enumerate(rest):
        ld1 = _last_depth(index < last, ld)
        if _joins(pair, col, ll, m, ld1, w):
            col, w = col + 1 + pair.length, w + 1 + pair.length
        else:
            width = _cind_pair(pair, col0, ll, m, ind, ld1, 0)
            col, w = col0 + width, width


def _cind_pair(pair: _If, col: int, ll: int, m: int, ind: int, ld: int, w: int) -> int:
    if _fits(pair, col, ll, m, ld, w):
        return pair.length if pair.atomic else ll
    key, value = pair.items
    _cind(key, col, ll, m, ind, ld, w)
    _cind(value, col + (ind if ind > 0 else 4), ll, m, ind, ld, 0)
    return ll


def _tagged_indent(node: _If, col: int, ll: int, m: int) -> int:
    """io_lib_pretty's ``while_fail([-1, 4], …, 1)``: the first indentation that works."""
    for ind in (-1, 4):
        try:
            _cind(node, col, ll, m, ind, 0, 0)
        except _NoGood:
            continue
        return ind
    return 1


# -- the entry points -----------------------------------------------------------------------


def print_latin1(term: Any, column: int = 1, line_length: int = LINE_LENGTH) -> str:
    """``io_lib_pretty:print`` of ``term`` starting at ``column``, in Latin-1 characters.

    ``column`` is 1 at a line's start; the result's continuation lines are
    indented relative to it.
    """
    column = max(column, 1)
    node = _measure(term)
    if node.kind == _LEAF or line_length == 0:
        return node.text if node.kind == _LEAF else _write(node)
    m = node.length
    if node.length < line_length - column:
        return _write(node)
    tind = _tagged_indent(node, column, line_length, m)
    return _pp(node, column, line_length, m, tind, " " * (column - 1), 0, 0)


def _indentation(text: str, column: int) -> int:
    """io_lib_format:indentation/2: the column (0-based) after ``text``; tabs stop every 8."""
    for char in text:
        if char == "\n":
            column = 0
        elif char == "\t":
            column = (column + 8) // 8 * 8
        else:
            column += 1
    return column


#: marks the end of io_format's arguments
_END = object()


def io_format_latin1(template: str, *args: Any) -> str:
    """``io_lib:format(Template, Args)`` for ``~p``, ``~n`` and ``~~``, in Latin-1 characters.

    Each ``~p`` starts at the column the text before it on its line leaves
    (the template's characters and earlier terms' last lines count).
    """
    values: Iterator[Any] = iter(args)
    parts: list[str] = []
    column = 0  # io_lib_format's indentation: characters since the last newline
    index = 0
    while index < len(template):
        char = template[index]
        index += 1
        if char != "~":
            parts.append(char)
            column = _indentation(char, column)
            continue
        control = template[index : index + 1]
        index += 1
        if control == "p":
            term = next(values, _END)
            if term is _END:
                raise ValueError(f"too few arguments for {template!r}")
            printed = print_latin1(term, column + 1)
            parts.append(printed)
            column = _indentation(printed, column)
        elif control == "n":
            parts.append("\n")
            column = 0
        elif control == "~":
            parts.append("~")
            column += 1
        else:
            raise ValueError(f"unsupported control ~{control} in {template!r}")
    if next(values, _END) is not _END:
        raise ValueError(f"too many arguments for {template!r}")
    return "".join(parts)


def _as_utf8(latin1: str) -> str:
    """The Latin-1 characters' bytes read as UTF-8; a stray byte stays its Latin-1 character."""
    text = latin1.encode("latin-1").decode("utf-8", "surrogateescape")
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return "".join(chr(ord(c) - 0xDC00) if "\udc80" <= c <= "\udcff" else c for c in text)


def format_p(term: Any, column: int = 1, line_length: int = LINE_LENGTH) -> str:
    """``io_lib:format("~p", [Term])`` at ``column``, read as UTF-8 like ejabberd's answer."""
    return _as_utf8(print_latin1(term, column, line_length))


def io_format(template: str, *args: Any) -> str:
    """``io_lib:format(Template, Args)`` (``~p``, ``~n``, ``~~``), read as UTF-8."""
    return _as_utf8(io_format_latin1(template, *args))
