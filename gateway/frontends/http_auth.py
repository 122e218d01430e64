"""The HTTP ``Authorization`` header, read the way ejabberd_http reads it.

``Basic`` carries ``base64(jid:password)`` (split at the first ``:``) and
``Bearer`` an OAuth token (surrounding blanks trimmed).  Any other value is
invalid and is refused, never treated as anonymous.  No header at all means
an anonymous caller, whom only IP-based rules can let in.  ``X-Admin`` is not
looked at: ejabberd stopped honouring it long ago.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from dataclasses import dataclass

from gateway.engine.auth import Authenticator
from gateway.engine.errors import Unauthorized
from gateway.engine.model import Caller, IPAddress

__all__ = ["BasicCredentials", "BearerToken", "authenticate", "parse_authorization"]


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """``Authorization: Basic``: a JID (``user@host``) and a password."""

    jid: str
    password: str


@dataclass(frozen=True, slots=True)
class BearerToken:
    """``Authorization: Bearer``: an OAuth token."""

    token: str


def parse_authorization(value: bytes | None) -> BasicCredentials | BearerToken | None:
    """Read an ``Authorization`` header; ``None`` when there is none.

    Scheme names are matched without regard to case, as HTTP asks.

    Raises:
        Unauthorized: the header is present but is neither usable Basic
            credentials nor a Bearer token.
    """
    if value is None:
        return None
    scheme, _, rest = value.partition(b" ")
    scheme = scheme.lower()
    if scheme == b"basic":
        return _basic(rest.strip())
    if scheme == b"bearer":
        try:
            return BearerToken(rest.decode("utf-8").strip())
        except UnicodeDecodeError:
            raise Unauthorized() from None
    raise Unauthorized()


def _basic(encoded: bytes) -> BasicCredentials:
    try:
        decoded = b64decode(encoded, validate=True)
        jid, sep, password = decoded.partition(b":")
        if not sep:
            raise Unauthorized()
        return BasicCredentials(jid.decode("utf-8"), password.decode("utf-8"))
    except (binascii.Error, ValueError):
        # binascii.Error and UnicodeDecodeError are both ValueErrors
        raise Unauthorized() from None


async def authenticate(
    authenticator: Authenticator,
    header: bytes | None,
    *,
    frontend: str = "mod_http_api",
    ip: IPAddress | None = None,
    tag: str | None = None,
) -> Caller:
    """The caller behind an ``Authorization`` header.

    Every refused header counts as a failed authentication from ``ip``.

    Raises:
        Unauthorized: an invalid header, a bare user name, an unknown user or
            a wrong password.
        InvalidToken: an unknown or expired Bearer token.
        TooManyFailures: ``ip`` is banned for failing too often.
    """
    authenticator.admit(ip)  # a banned address is not even anonymous
    try:
        credentials = parse_authorization(header)
    except Unauthorized:
        authenticator.failed(ip)  # unreadable credentials are a failed attempt too
        raise
    if credentials is None:
        return Caller(frontend=frontend, ip=ip, tag=tag)
    if isinstance(credentials, BearerToken):
        return await authenticator.token(credentials.token, frontend, ip, tag)
    return await authenticator.basic(credentials.jid, credentials.password, frontend, ip, tag)
