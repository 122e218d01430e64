"""The pieces every 23.01 translation rule is built from.

A :class:`Rule` says how one canonical (newest 24.12) command is sent to an
ejabberd 23.01 upstream: which upstream command runs it, how the canonical
arguments become that command's, and how its answer becomes the canonical
answer.  The helpers here write a canonical list or a JID pair into the
single string 23.01 took instead, refusing what that string cannot carry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.engine.errors import NotSupported
from gateway.engine.versions import rename_keys

__all__ = [
    "UPSTREAM_2301",
    "Inexpressible",
    "Rule",
    "jid_from_parts",
    "jid_of",
    "join_pieces",
    "renamed",
    "room_jid",
]

#: how the errors name the backend
UPSTREAM_2301 = "ejabberd 23.01 upstream"

ArgsFn = Callable[[Mapping[str, Any]], dict[str, Any]]
ResultFn = Callable[[Any], Any]


def _same_args(given: Mapping[str, Any]) -> dict[str, Any]:
    return dict(given)


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class Rule:
    """How one canonical command runs on a 23.01 upstream.

    ``upstream`` is the 23.01 command that runs it (``None``: the same
    name); ``args`` turns the canonical arguments into that command's, keyed
    by its 23.01 argument names; ``result`` turns its decoded answer into the
    canonical one.
    """

    args: ArgsFn = _same_args
    result: ResultFn = _same
    upstream: str | None = None


class Inexpressible(NotSupported):
    """The 23.01 API cannot say this call, or its answer cannot be read back.

    It is a :class:`NotSupported` (the backend cannot honestly do it) whose
    text says what exactly 23.01 lacks.
    """

    def __init__(self, command: str, detail: str) -> None:
        super().__init__(command, UPSTREAM_2301)
        self.message = f"Command '{command}' cannot be run through an {UPSTREAM_2301}: {detail}"
        self.args = (self.message,)


def renamed(renames: Mapping[str, str]) -> ArgsFn:
    """An argument map that only renames keys (canonical name → 23.01 name)."""

    def args(given: Mapping[str, Any]) -> dict[str, Any]:
        return rename_keys(given, renames)

    return args


def join_pieces(
    command: str,
    what: str,
    pieces: Iterable[str],
    separator: str,
    *,
    forbidden: str | None = None,
    allow_empty_list: bool = True,
) -> str:
    """``pieces`` joined with ``separator``, as 23.01 took a list in one string.

    23.01 split the string again, so a piece that is empty or holds the
    separator (or matches the regular expression ``forbidden``, where 23.01
    split on more than the plain separator) would come out as other pieces:
    such a call is refused rather than changed.

    Raises:
        Inexpressible: naming ``what`` (e.g. ``"a roster group name"``).
    """
    items = list(pieces)
    if not items and not allow_empty_list:
        raise Inexpressible(command, f"23.01 cannot take an empty list of {what}s")
    for item in items:
        if not item:
            raise Inexpressible(command, f"23.01 cannot take an empty {what}")
        if separator in item or (forbidden is not None and re.search(forbidden, item)):
            shown = separator.encode("unicode_escape").decode("ascii")
            raise Inexpressible(
                command,
                f"23.01 takes the {what}s joined by '{shown}' in one string, "
                f"so it cannot take the {what} {item!r}",
            )
    return separator.join(items)


#: characters that would change what a JID made by joining parts means
_JID_MARKS = ("@", "/")


def jid_of(command: str, user: str, host: str) -> str:
    """The JID 23.01 took where 24.12 takes a user and a host apart.

    An empty user is the server itself (``host``), as 24.12 reads it.

    Raises:
        Inexpressible: when a part holds ``@`` or ``/``, so the joined text
            would name another JID.
    """
    for part, value in (("user", user), ("host", host)):
        if any(mark in value for mark in _JID_MARKS):
            raise Inexpressible(
                command,
                f"23.01 takes one JID here, and the {part} {value!r} cannot be part of one",
            )
    return f"{user}@{host}" if user else host


def room_jid(command: str, room: str, service: str) -> str:
    """The room's JID 23.01 took where 24.12 takes the room and its service apart."""
    for part, value in (("room", room), ("service", service)):
        if any(mark in value for mark in _JID_MARKS):
            raise Inexpressible(
                command,
                f"23.01 takes the room's JID here, and the {part} {value!r} cannot be part of one",
            )
    return f"{room}@{service}"


def jid_from_parts(user: str, host: str, resource: str = "") -> str:
    """A JID from the parts a 23.01 answer gives apart (an empty user: the server)."""
    bare = f"{user}@{host}" if user else host
    return f"{bare}/{resource}" if resource else bare
