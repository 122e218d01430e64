"""What the engine needs from a backend, and nothing more.

A backend executes commands by their canonical (newest 24.12) name with
arguments keyed by the canonical definition's argument names, and answers
whether credentials are good.  Both the embedded SQL store and the upstream
ejabberd forwarder implement :class:`Backend`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from twisted.internet.defer import Deferred

from gateway.engine.model import Caller

__all__ = ["Backend", "Executor", "TokenGrant"]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What an OAuth token stands for."""

    user: str
    host: str
    scopes: frozenset[str]
    #: POSIX time after which the token is no longer valid
    expires: float


@runtime_checkable
class Executor(Protocol):
    """Runs commands."""

    #: short name used in messages, e.g. ``"embedded"``
    name: str

    def supports(self, command: str) -> bool:
        """Whether this executor can honestly run ``command``."""

    def execute(self, command: str, args: Mapping[str, Any], caller: Caller) -> Deferred[Any]:
        """Run ``command``; fire with a value shaped like its canonical result.

        Fails with a :class:`~gateway.engine.errors.CommandError` for the
        command's own error answers.
        """


@runtime_checkable
class Backend(Executor, Protocol):
    """An executor that also holds the accounts and tokens callers log in with."""

    def check_password(self, user: str, host: str, password: str) -> Deferred[bool]:
        """Whether ``password`` is right for ``user@host``.

        Answers in the same time whether or not the account exists (an unknown
        account is checked against dummy credentials), so a caller cannot
        learn which accounts exist by timing it.
        """

    def check_token(self, token: str) -> Deferred[TokenGrant | None]:
        """The grant behind ``token``, or ``None`` when it is unknown."""
