"""Erlang's ``~p`` with its line breaking, for texts ejabberd builds with ``io_lib:format``.

A few ejabberd answers are Erlang terms printed by ``io_lib:format("~p", …)``:
``delete_old_users`` lists the deleted accounts as ``[{<<"u">>,<<"host">>}]``, and
in 23.01 ``srg_get_info`` shows a list of group names that way over XML-RPC and
ejabberdctl.  ``~p`` breaks a term that does not fit in 80 columns over several
lines, so a client that parses such an answer sees the breaks too; this module
prints the same text, byte for byte, for the terms those answers hold.

Terms are plain Python values: ``bytes`` is a binary, ``list`` a list (a list
of character codes is an Erlang string), ``tuple`` a tuple and ``int`` an
integer.  The node prints with the default ``latin1`` printable range, as a node
started by ``ejabberdctl`` does: a binary or string is shown as text only when
every byte (code) is a printable Latin-1 character, else as its numbers.  Text
is laid out in those Latin-1 characters; :func:`format_p` then reads the bytes
as UTF-8, as ejabberd's answer reaches its client.

The printing itself is :mod:`gateway.engine.erlpretty`'s port of io_lib_pretty;
this module keeps what those answers need around it.
"""

from __future__ import annotations

from typing import Any

from gateway.engine import erlpretty
from gateway.engine.erlpretty import LINE_LENGTH, print_latin1

__all__ = ["TermText", "charlist", "format_latin1", "format_p"]


class TermText(str):
    """A text result whose Erlang term the dialects print differently.

    ejabberd sometimes answers a ``string`` result with a term that is not
    one (a list of strings, or ``[]``).  mod_http_api flattens it: the ``str``
    value is that text.  XML-RPC and ejabberdctl print such a term with ``~p``:
    :attr:`printed` holds what they show.
    """

    __slots__ = ("printed",)
    printed: str

    def __new__(cls, text: str, printed: str) -> TermText:
        made = super().__new__(cls, text)
        made.printed = printed
        return made


def charlist(text: str) -> list[int]:
    """``binary_to_list`` of ``text``'s UTF-8 bytes: the Erlang string ejabberd builds."""
    return list(text.encode("utf-8"))


def format_latin1(term: Any, column: int = 1, line_length: int = LINE_LENGTH) -> str:
    """``~p`` of ``term`` as the node lays it out, in Latin-1 characters."""
    return print_latin1(term, column, line_length)


def format_p(term: Any, column: int = 1, line_length: int = LINE_LENGTH) -> str:
    """``~p`` of ``term`` starting at ``column``, as the client reads it (UTF-8)."""
    return erlpretty.format_p(term, column, line_length)
