"""Reading OAuth parameters: form bodies, query strings and client credentials.

RFC 6749 sends parameters form-encoded, each at most once (section 3.1 and
3.2); a request that repeats one, or cannot be decoded as UTF-8, is refused
rather than guessed at.  A client authenticates with HTTP Basic or with
``client_id``/``client_secret`` in the body, never both (section 2.3.1).
"""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from gateway.engine.oauth import OAuthError

__all__ = [
    "FORM_TYPE",
    "MAX_FIELDS",
    "ClientAuth",
    "client_auth",
    "is_form",
    "read_params",
]

FORM_TYPE = "application/x-www-form-urlencoded"
#: more parameters than any OAuth request has; more are refused
MAX_FIELDS = 64


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """A client id and secret, and whether they came in an ``Authorization`` header."""

    client_id: str
    secret: str
    from_header: bool = False


def is_form(content_type: bytes | None) -> bool:
    """Whether a ``Content-Type`` header says the body is form-encoded."""
    if content_type is None:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == FORM_TYPE.encode("ascii")


def read_params(encoded: bytes) -> dict[str, str]:
    """The parameters of a form body or query string, each given once.

    Raises:
        OAuthError: ``invalid_request`` for text that is not UTF-8, too many
            parameters, or a parameter given twice.
    """
    try:
        text = encoded.decode("utf-8")
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError is one
        raise OAuthError(
            "invalid_request", f"parameters must be UTF-8, at most {MAX_FIELDS} of them"
        ) from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise OAuthError("invalid_request", f"parameter {name} is given more than once")
        params[name] = value
    return params


def client_auth(authorization: bytes | None, params: Mapping[str, str]) -> ClientAuth | None:
    """The client credentials of a token request, or ``None`` when it has none.

    An ``Authorization`` header that is not readable Basic credentials gives
    empty ones, which fail (and count) like a wrong secret.  The id and
    secret are taken as sent, as ejabberd takes them: RFC 6749 would have
    them form-encoded first, which few clients do.

    Raises:
        OAuthError: ``invalid_request`` when both the header and the body carry them.
    """
    in_body = "client_id" in params or "client_secret" in params
    if authorization is None:
        if not in_body:
            return None
        return ClientAuth(params.get("client_id", ""), params.get("client_secret", ""))
    if in_body:
        raise OAuthError(
            "invalid_request", "client credentials given both in the header and in the body"
        )
    scheme, _, rest = authorization.partition(b" ")
    if scheme.lower() != b"basic":
        return _UNREADABLE
    try:
        client_id, sep, secret = b64decode(rest.strip(), validate=True).decode().partition(":")
    except ValueError:  # binascii.Error and UnicodeDecodeError
        return _UNREADABLE
    return ClientAuth(client_id, secret, True) if sep else _UNREADABLE


_UNREADABLE = ClientAuth("", "", True)
