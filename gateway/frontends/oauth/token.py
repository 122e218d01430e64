"""``POST /oauth/token``: the token endpoint (RFC 6749, section 3.2).

Two grants: ``password`` (an account's JID and password; a client may also
authenticate, and its secret is then checked, but need not) and
``client_credentials`` (a client registered with
``oauth_add_client_password``, authenticating with its secret).  Success is
ejabberd's JSON answer, ``access_token``, ``token_type`` (``bearer``),
``scope`` and ``expires_in``; a refusal raises :class:`OAuthError` for the
resource to encode.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from twisted.web.iweb import IRequest

from gateway.engine.model import IPAddress
from gateway.engine.oauth import IssuedToken, OAuthError, TokenGrants
from gateway.frontends.base import HttpAnswer
from gateway.frontends.oauth.params import FORM_TYPE, client_auth, is_form, read_params

__all__ = ["JSON_HEADERS", "error_answer", "request_token", "token_answer"]

#: what RFC 6749 asks of every token endpoint answer (and ejabberd sends)
JSON_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "application/json;charset=UTF-8"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
)


async def request_token(
    grants: TokenGrants, request: IRequest, body: bytes, ip: IPAddress | None, tag: str | None
) -> HttpAnswer:
    """Answer one token request whose ``body`` has been read.

    Raises:
        OAuthError: the request is refused.
        TooManyFailures: ``ip`` is banned.
    """
    if not is_form(request.getHeader(b"content-type")):
        raise OAuthError("invalid_request", f"the body must be {FORM_TYPE}")
    params = read_params(body)
    client = client_auth(request.getHeader(b"authorization"), params)
    grant_type = params.get("grant_type", "")
    scope = params.get("scope", "")
    ttl = _ttl(params)
    if grant_type == "password":
        if client is not None and client.secret:
            await grants.authenticate_client(client.client_id, client.secret, ip=ip)
        username, password = _required(params, "username"), _required(params, "password")
        issued = await grants.password(username, password, scope, ttl, ip=ip, tag=tag)
    elif grant_type == "client_credentials":
        if client is None:
            raise OAuthError(
                "invalid_client",
                "client_credentials needs the client's id and secret "
                "(HTTP Basic, or client_id and client_secret)",
            )
        issued = await grants.client_credentials(
            client.client_id, client.secret, scope, ttl, ip=ip, tag=tag
        )
    elif not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    else:
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type {grant_type!r} is not supported: use password or client_credentials",
        )
    return token_answer(issued)


def token_answer(issued: IssuedToken) -> HttpAnswer:
    """The 200 answer carrying a new token."""
    body = {
        "access_token": issued.access_token,
        "token_type": "bearer",
        "scope": issued.scope,
        "expires_in": issued.expires_in,
    }
    return HttpAnswer(200, json.dumps(body).encode("utf-8"), JSON_HEADERS)


def error_answer(
    status: int, error: str, description: str, headers: tuple[tuple[str, str], ...] = ()
) -> HttpAnswer:
    """RFC 6749's error object: ``error`` and ``error_description``."""
    body = json.dumps({"error": error, "error_description": description}).encode("utf-8")
    return HttpAnswer(status, body, (*JSON_HEADERS, *headers))


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise OAuthError("invalid_request", f"{name} is required")
    return value


def _ttl(params: Mapping[str, str]) -> int | None:
    """The optional ``ttl`` (seconds) ejabberd takes besides RFC 6749's parameters."""
    text = params.get("ttl", "")
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise OAuthError("invalid_request", "ttl must be a number of seconds")
    return int(text)
