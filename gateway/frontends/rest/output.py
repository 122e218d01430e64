"""The body mod_rest answers a command line with.

mod_rest hands the line to ejabberdctl's processing and replies with the
text ejabberdctl returns, or with the decimal exit status when there is no
text (a rescode ``ok`` reads ``0``).  Some lines ejabberdctl *prints on its
console* instead of returning them, so they never reached a mod_rest caller:
the ``Error: error`` line before an ``{error, Reason}`` answer, and the
command's help before a wrong-argument-count error.  :func:`rest_text`
removes them from the ctl processor's text.
"""

from __future__ import annotations

import re

__all__ = ["rest_text"]

_CONSOLE_ERROR_LINE = "Error: error\n"
_COUNT_ERROR = re.compile(r"Error: the command '[^'\n]*' requires \d+ (?:more|less) argument\.")


def rest_text(text: str, status: int) -> str:
    """The mod_rest body for the ctl answer ``(text, status)``."""
    if status != 0:
        if text.startswith(_CONSOLE_ERROR_LINE):
            text = text[len(_CONSOLE_ERROR_LINE) :]
        _, blank, last = text.rpartition("\n\n")
        if blank and _COUNT_ERROR.fullmatch(last):
            text = last
    return text if text else str(status)
