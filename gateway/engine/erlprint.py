"""What the answers ejabberd prints with ``io_lib:format("~p", …)`` need around the printer.

A few ejabberd answers are Erlang terms printed by ``~p``: ``delete_old_users``
lists the deleted accounts as ``[{<<"u">>,<<"host">>}]``, and in 23.01
``srg_get_info`` shows a list of group names that way over XML-RPC and
ejabberdctl.  The printing (line breaks included) is
:func:`gateway.engine.erlpretty.format_p`; here are :func:`charlist`, the Erlang
string ejabberd builds from a text, and :class:`TermText`, a text result whose
dialects print its term differently.
"""

from __future__ import annotations

__all__ = ["TermText", "charlist"]


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
