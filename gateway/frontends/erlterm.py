"""Erlang term printing (``~p`` and ``~w``), for messages ejabberd builds with io_lib.

Several dialects quote the caller's own input back in Erlang syntax (XML-RPC
faults, mod_http_api argument errors, ejabberdctl errors), so legacy clients
that parse those messages see the same text.  Python values map to terms:
:class:`Atom` is an atom, ``str`` a binary, :class:`Charlist` an Erlang string,
``int``/``float`` numbers, ``list`` a list and ``tuple`` a tuple.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Atom", "Charlist", "format_p", "format_w"]


class Atom(str):
    """An Erlang atom."""

    __slots__ = ()


class Charlist(str):
    """An Erlang string (a list of character codes)."""

    __slots__ = ()


_PLAIN_ATOM_START = "abcdefghijklmnopqrstuvwxyz"
_PLAIN_ATOM_CHARS = _PLAIN_ATOM_START + "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@"
_RESERVED = frozenset(
    "after and andalso band begin bnot bor bsl bsr bxor case catch cond div end fun if let not "
    "of or orelse receive rem try when xor maybe else".split()
)
_ESCAPES = {
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\\": "\\\\",
    "\x1b": "\\e",
    "\f": "\\f",
    "\b": "\\b",
    "\v": "\\v",
    "\x7f": "\\d",
}


def _atom(name: str) -> str:
    plain = name and name[0] in _PLAIN_ATOM_START and all(c in _PLAIN_ATOM_CHARS for c in name)
    if plain and name not in _RESERVED:
        return name
    return "'" + "".join(_ESCAPES.get(c, "\\'" if c == "'" else c) for c in name) + "'"


def _quoted(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, '\\"' if c == '"' else c) for c in text) + '"'


def _printable(text: str) -> bool:
    return all(0x20 <= ord(c) < 0x7F or c in "\n\t\r" for c in text)


def format_p(term: Any) -> str:
    """``io_lib:format("~p", [Term])`` without line wrapping (keep terms short)."""
    return _format(term, pretty=True)


def format_w(term: Any) -> str:
    """``io_lib:format("~w", [Term])``: binaries and strings as raw codes."""
    return _format(term, pretty=False)


def _format(term: Any, pretty: bool) -> str:
    if isinstance(term, bool):
        return "true" if term else "false"
    if term is None:
        return "null"
    if isinstance(term, Atom):
        return _atom(term)
    if isinstance(term, Charlist):
        if pretty and _printable(term):
            return _quoted(term)
        return "[" + ",".join(str(ord(c)) for c in term) + "]"
    if isinstance(term, str):
        if pretty and _printable(term):
            return "<<" + _quoted(term) + ">>"
        return "<<" + ",".join(str(b) for b in term.encode("utf-8")) + ">>"
    if isinstance(term, int):
        return str(term)
    if isinstance(term, float):
        return repr(term)
    if isinstance(term, list):
        return "[" + ",".join(_format(t, pretty) for t in term) + "]"
    if isinstance(term, tuple):
        return "{" + ",".join(_format(t, pretty) for t in term) + "}"
    if isinstance(term, dict):
        items = ",".join(f"{_format(k, pretty)} => {_format(v, pretty)}" for k, v in term.items())
        return "#{" + items + "}"
    return _quoted(str(term))
