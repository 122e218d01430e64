"""The answers the xmpp backend shares with the embedded store, word for word.

Every backend answers a command's failures with the same text, so a script
cannot tell which one ran it; these are the embedded store's (ejabberd's) words.
"""

from __future__ import annotations

from twisted.words.protocols.jabber.jid import JID

from gateway.engine.errors import CommandFailed, NotSupported, TypedCommandError
from gateway.stanza import jid_from_parts

__all__ = [
    "UNKNOWN_HOST",
    "NotOffered",
    "already_registered",
    "local_jid",
    "not_served",
    "unknown_user",
]

UNKNOWN_HOST = "Unknown virtual host"


class NotOffered(NotSupported):
    """The served XMPP server offers nothing this command could run through."""

    def __init__(self, command: str, host: str, missing: str) -> None:
        super().__init__(command, "xmpp")
        self.message = (
            f"Command '{command}' is not supported by the xmpp backend on {host}: {missing}"
        )
        self.args = (self.message,)


def unknown_user() -> CommandFailed:
    """ejabberd's thrown ``{not_found, "unknown_user"}``."""
    return CommandFailed("unknown_user", atom="not_found", thrown=True)


def already_registered(user: str, host: str) -> TypedCommandError:
    """``register``'s answer for an account that exists."""
    return TypedCommandError("conflict", 10090, f"User {user}@{host} already registered")


def not_served() -> CommandFailed:
    return CommandFailed(UNKNOWN_HOST)


def local_jid(user: str, host: str, served: str, resource: str | None = None) -> JID | None:
    """``user@host[/resource]`` prepared, or ``None`` when malformed or not on the served host."""
    try:
        jid = jid_from_parts(user or None, host, resource or None)
    except ValueError:
        return None
    if jid.host != served or not jid.user:
        return None
    return jid
