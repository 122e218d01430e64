"""Command lines posted to mod_rest: how the text is cut into words.

mod_rest splits on the space character only: tabs, newlines and every
other character belong to the word they are in.  A word that *starts* with
``"`` (or ``\\"``) is quoted: it runs to the next ``"`` followed by a space,
or to the end of the text (a closing ``"`` or ``\\"`` right at the end is
dropped).  Inside a quoted word a ``"`` that is not followed by a space is an
ordinary character, and so is a ``"`` in the middle of an unquoted word.  A
``\\"`` followed by a space also closes a quoted word, the backslash dropped.

Two deliberate differences from mod_rest:

- ``""`` gives an empty word; mod_rest silently dropped it, so a caller could
  never pass an empty argument (and ``--auth "" "" ""`` fell apart).
- :func:`strip_line_ending` removes one line ending at the end of the body
  before it is split.  ``echo ... | curl --data-binary @-`` sends one, and
  mod_rest glued it to the last argument (``registered_users localhost\\n``
  asked about the host ``"localhost\\n"``).  wget's ``--post-data`` sends
  none, so its requests read the same either way.  A caller who really means
  a trailing newline in the last argument sends two line endings, or quotes
  the argument.

A leading ``--auth`` is read like ejabberdctl's, by
:func:`gateway.frontends.ctl.options.split_auth`.
"""

from __future__ import annotations

__all__ = ["split_command_line", "strip_line_ending"]


def strip_line_ending(text: str) -> str:
    """``text`` without one trailing ``"\\n"`` or ``"\\r\\n"``."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def split_command_line(text: str) -> list[str]:
    """The words of a mod_rest command line; see the module docstring."""
    words: list[str] = []
    i = 0
    end = len(text)
    while i < end:
        char = text[i]
        if char == " ":
            i += 1
            continue
        if char == '"':
            word, i = _quoted(text, i + 1)
            words.append(word)
        elif text.startswith('\\"', i):
            word, i = _quoted(text, i + 2)
            words.append(word)
        else:
            stop = text.find(" ", i)
            if stop < 0:
                stop = end
            words.append(text[i:stop])
            i = stop
    return words


def _quoted(text: str, start: int) -> tuple[str, int]:
    """A quoted word's content from ``start``, and where the rest of the line begins.

    The closers are ``"`` and ``\\"``, each either followed by a space or
    ending the text; the first one wins.  Quotes are found with ``str.find``,
    so a long unterminated word costs one scan rather than a Python loop
    iteration per character.
    """
    end = len(text)
    quote = text.find('"', start)
    while quote >= 0:
        after = quote + 1
        if after == end or text[after] == " ":
            # a backslash inside the word right before the quote belongs to the closer
            close = quote - 1 if quote > start and text[quote - 1] == "\\" else quote
            return text[start:close], end if after == end else after + 1
        quote = text.find('"', after)
    return text[start:], end
