"""The HTTP ``Authorization`` header, read the way ejabberd_http reads it.

``Basic`` carries ``base64(jid:password)`` (split at the first ``:``) and
``Bearer`` an OAuth token (surrounding blanks trimmed).  Any other value is
invalid and is refused, never treated as anonymous.  No header at all means
an anonymous caller, whom only IP-based rules can let in.  ``X-Admin`` is not
looked at: ejabberd stopped honouring it long ago.
"""

from __future__ import annotations

from base64 import b64decode

from gateway.engine.credentials import (
    NO_CREDENTIALS,
    Basic,
    Credentials,
    Token,
    Unreadable,
)

__all__ = ["parse_authorization"]

_UNREADABLE = Unreadable()


def parse_authorization(value: bytes | None) -> Credentials:
    """The credentials an ``Authorization`` header carries.

    No header means no credentials.  Scheme names are matched without regard
    to case, as HTTP asks.  A header that is neither usable Basic credentials
    nor a Bearer token is :class:`~gateway.engine.credentials.Unreadable`,
    which the engine refuses as a failed login.
    """
    if value is None:
        return NO_CREDENTIALS
    scheme, _, rest = value.partition(b" ")
    scheme = scheme.lower()
    if scheme == b"basic":
        return _basic(rest.strip())
    if scheme == b"bearer":
        try:
            return Token(rest.decode("utf-8").strip())
        except UnicodeDecodeError:
            return _UNREADABLE
    return _UNREADABLE


def _basic(encoded: bytes) -> Credentials:
    try:
        decoded = b64decode(encoded, validate=True)
        jid, sep, password = decoded.partition(b":")
        if not sep:
            return _UNREADABLE
        return Basic(jid.decode("utf-8"), password.decode("utf-8"))
    except ValueError:
        # binascii.Error and UnicodeDecodeError are both ValueErrors
        return _UNREADABLE
