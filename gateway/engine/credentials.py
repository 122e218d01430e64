"""What a caller presented to prove who it is, as every dialect decodes it.

Frontends only read credentials off the wire; the engine checks them (see
:meth:`gateway.engine.auth.Authenticator.login`), at the point of the call
its dialect expects.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NO_CREDENTIALS",
    "Basic",
    "Credentials",
    "NoCredentials",
    "Password",
    "Token",
    "Unreadable",
]


@dataclass(frozen=True, slots=True)
class NoCredentials:
    """Nothing presented: an anonymous caller, known only by its address."""


@dataclass(frozen=True, slots=True)
class Password:
    """An account and its password (XML-RPC's auth struct, ejabberdctl's ``--auth``)."""

    user: str
    host: str
    password: str


@dataclass(frozen=True, slots=True)
class Basic:
    """HTTP Basic: a ``user@host`` JID and its password; a bare user name is refused."""

    jid: str
    password: str


@dataclass(frozen=True, slots=True)
class Token:
    """An OAuth token; with ``user``/``host`` the token must belong to that account."""

    token: str
    user: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Credentials were sent but cannot be read: a failed login all the same.

    ``token`` says whether they were meant as a token (refused as an invalid
    token) or as a password (refused as invalid authentication data).
    """

    token: bool = False


Credentials = NoCredentials | Password | Basic | Token | Unreadable
NO_CREDENTIALS = NoCredentials()
