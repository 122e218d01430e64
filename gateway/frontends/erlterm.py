"""Erlang term printing (``~p`` and ``~w``), for messages ejabberd builds with io_lib.

Several dialects quote the caller's own input back in Erlang syntax (XML-RPC
faults, mod_http_api argument errors, ejabberdctl errors), so legacy clients
that parse those messages see the same text.  Python values map to terms:
:class:`Atom` is an atom, ``str`` a binary, :class:`Charlist` an Erlang string,
``int``/``float`` numbers, ``list`` a list and ``tuple`` a tuple.

``~p`` and its line breaking come from :mod:`gateway.engine.erlpretty` (a port of
io_lib_pretty checked against a real ``erl``); this module adds ``~w``.
"""

from __future__ import annotations

from typing import Any

from gateway.engine.erlpretty import (
    Atom,
    Charlist,
    erlang_float,
    format_p,
    io_format,
    write_atom,
)

__all__ = ["Atom", "Charlist", "format_p", "format_w", "io_format", "thrown_term"]


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


def _quoted(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(c, '\\"' if c == '"' else c) for c in text) + '"'


def thrown_term(neutral: tuple[str, ...] | str) -> Any:
    """A :meth:`CommandFailed.thrown_term <gateway.engine.errors.CommandFailed.thrown_term>`
    as a term: a ``str`` is a bare atom; a tuple holds atoms and ends with a string.
    """
    if isinstance(neutral, str):
        return Atom(neutral)
    *atoms, text = neutral
    return (*(Atom(a) for a in atoms), Charlist(text))


def format_w(term: Any) -> str:
    """``io_lib:format("~w", [Term])``: binaries and strings as raw codes."""
    return _format(term)


def _format(term: Any) -> str:
    if isinstance(term, bool):
        return "true" if term else "false"
    if term is None:
        return "null"
    if isinstance(term, Atom):
        return write_atom(term)
    if isinstance(term, Charlist):
        return "[" + ",".join(str(ord(c)) for c in term) + "]"
    if isinstance(term, str):
        return "<<" + ",".join(str(b) for b in term.encode("utf-8")) + ">>"
    if isinstance(term, int):
        return str(term)
    if isinstance(term, float):
        return erlang_float(term)
    if isinstance(term, list):
        return "[" + ",".join(_format(t) for t in term) + "]"
    if isinstance(term, tuple):
        return "{" + ",".join(_format(t) for t in term) + "}"
    if isinstance(term, dict):
        items = ",".join(f"{_format(k)} => {_format(v)}" for k, v in term.items())
        return "#{" + items + "}"
    return _quoted(str(term))
