"""OAuth scopes as ejabberd knows them.

A token's scopes are ejabberd's three fixed scopes or command names; ejabberd
refuses any other.  In a request they are one space-separated ``scope``
parameter (RFC 6749, section 3.3).
"""

from __future__ import annotations

import re

__all__ = ["BASE_SCOPES", "MAX_SCOPES", "ScopeError", "parse_scope"]

#: the scopes every token may carry besides command names
BASE_SCOPES = frozenset({"ejabberd:user", "ejabberd:admin", "sasl_auth"})
#: more scopes than this in one request are refused (there are about 200 commands)
MAX_SCOPES = 256

# RFC 6749's scope-token: printable ASCII but space, '"' and '\'
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


class ScopeError(ValueError):
    """A ``scope`` parameter that is not a list of scope tokens."""


def parse_scope(text: str) -> list[str]:
    """The scopes of a ``scope`` parameter, in order, each once.

    Raises:
        ScopeError: a character RFC 6749 does not allow, or too many scopes.
    """
    found = list(dict.fromkeys(part for part in text.split(" ") if part))
    if len(found) > MAX_SCOPES:
        raise ScopeError(f"at most {MAX_SCOPES} scopes may be asked for")
    for scope in found:
        if not _SCOPE_TOKEN.fullmatch(scope):
            raise ScopeError(f"{scope!r} is not a valid scope")
    return found
