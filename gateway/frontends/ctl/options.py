"""The options before an ejabberdctl command: ``--version N`` and ``--auth USER HOST PASSWORD``.

``--auth`` is read here for every command line, the control socket's and
mod_rest's alike (mod_rest only knows a leading ``--auth`` and takes
``--version`` for a command name).  ``--auth "" "" ""``, which mod_rest's own
prefix sends for anonymous requests, stands for no credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.engine.credentials import NO_CREDENTIALS, Credentials, Password

__all__ = [
    "AuthPrefix",
    "BadAuthPrefix",
    "BadVersion",
    "CommandLine",
    "UsageError",
    "parse_options",
    "split_auth",
]


@dataclass(frozen=True, slots=True)
class AuthPrefix:
    """The ``--auth USER HOST PASSWORD`` a command line started with."""

    user: str
    host: str
    password: str

    @property
    def anonymous(self) -> bool:
        """True for ``--auth "" "" ""``, which stands for no credentials."""
        return not (self.user or self.host or self.password)

    @property
    def credentials(self) -> Credentials:
        """What the engine checks: the account's password, or nothing when anonymous."""
        if self.anonymous:
            return NO_CREDENTIALS
        return Password(self.user, self.host, self.password)


class BadAuthPrefix(ValueError):
    """``--auth`` without its three values."""


def split_auth(words: Sequence[str]) -> tuple[AuthPrefix | None, list[str]]:
    """Split a leading ``--auth USER HOST PASSWORD`` off ``words``.

    Raises:
        BadAuthPrefix: the line starts with ``--auth`` and has fewer than
            three words after it.
    """
    if not words or words[0] != "--auth":
        return None, list(words)
    if len(words) < 4:
        raise BadAuthPrefix("--auth takes three values: USER HOST PASSWORD")
    return AuthPrefix(words[1], words[2], words[3]), list(words[4:])


class UsageError(Exception):
    """The options before the command are malformed."""


class BadVersion(Exception):
    """``--version`` is followed by something that is not an integer."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True, slots=True)
class CommandLine:
    """An ejabberdctl command line with its options read."""

    version: int | None
    auth: AuthPrefix | None
    #: the command and its arguments
    words: list[str]

    @property
    def credentials(self) -> Credentials:
        return NO_CREDENTIALS if self.auth is None else self.auth.credentials


def parse_options(argv: Sequence[str]) -> CommandLine:
    """Split the leading ``--version N`` and ``--auth USER HOST PASS`` off ``argv``, in any order.

    Raises:
        UsageError: an option without its values.
        BadVersion: ``--version`` of something that is not an integer.
    """
    version: int | None = None
    auth: AuthPrefix | None = None
    rest = list(argv)
    while rest and rest[0] in ("--version", "--auth"):
        if rest[0] == "--version":
            if len(rest) < 2:
                raise UsageError
            version = _read_version(rest[1])
            rest = rest[2:]
        else:
            try:
                auth, rest = split_auth(rest)
            except BadAuthPrefix:
                raise UsageError from None
    return CommandLine(version, auth, rest)


def _read_version(text: str) -> int:
    # Erlang's list_to_integer: an optional sign and digits, nothing else
    stripped = text[1:] if text[:1] in ("+", "-") else text
    if not stripped.isascii() or not stripped.isdigit():
        raise BadVersion(text)
    return int(text)
