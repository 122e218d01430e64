"""``/oauth/authorization_token``: the implicit grant's page (RFC 6749, section 4.2).

``GET`` with ``response_type=token``, ``client_id``, ``redirect_uri``,
``scope`` and ``state`` shows a login form for a client registered with
``oauth_add_client_implicit``; the form posts the same parameters back with
the JID, password, scopes and lifetime.  On success the browser is sent
(302) to the client's registered redirect URI with the token in the fragment:
``#access_token=…&token_type=bearer&expires_in=…&scope=…&state=…``.

Where the token or error goes is never taken from the request: an unknown
client, a client of another kind, or a ``redirect_uri`` other than the
registered one gets an error page and no redirect at all (section 4.2.2.1).
Errors the client should hear of (an unsupported ``response_type``, a scope
the user may not have, the user's refusal) are redirected with ``error`` in
the fragment.  A wrong JID or password shows the form again; it counts
towards the brute-force limits like any failed login.  ejabberd puts the
token in the query string; RFC 6749 puts it in the fragment, which browsers
do not send to servers, and so does the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from twisted.web.iweb import IRequest

from gateway.backends.interfaces import OAuthClient
from gateway.engine.model import IPAddress
from gateway.engine.oauth import IssuedToken, OAuthError, TokenGrants
from gateway.frontends.base import HttpAnswer
from gateway.frontends.oauth.page import (
    HTML_HEADERS,
    TTL_CHOICES,
    error_page,
    form_page,
    redirect_page,
)
from gateway.frontends.oauth.params import FORM_TYPE, is_form, read_params

__all__ = ["authorization"]

# schemes a browser would run rather than visit
_REFUSED_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "about", "blob"})
_TTLS = {value: int(value) for value, _ in TTL_CHOICES if value}


async def authorization(
    grants: TokenGrants,
    request: IRequest,
    body: bytes | None,
    ip: IPAddress | None,
    tag: str | None,
) -> HttpAnswer:
    """Answer a ``GET`` (``body`` is ``None``) or a ``POST`` of the authorisation page.

    Raises:
        TooManyFailures: ``ip`` is banned.
    """
    try:
        if body is None:
            params = read_params(request.uri.partition(b"?")[2])
        elif not is_form(request.getHeader(b"content-type")):
            raise OAuthError("invalid_request", f"the form must be sent as {FORM_TYPE}")
        else:
            params = read_params(body)
        client = await grants.implicit_client(
            params.get("client_id", ""), params.get("redirect_uri")
        )
        usable_redirect(client.redirect_uri)
    except OAuthError as e:
        return _page(400, "Invalid authorization request", e.description)
    if params.get("response_type") != "token":
        return _redirect_error(
            client,
            params,
            OAuthError("unsupported_response_type", "only response_type=token is supported"),
        )
    if body is not None and params.get("action") == "deny":
        return _redirect_error(client, params, OAuthError("access_denied", "the user said no"))
    try:
        scopes = grants.requested_scopes(params.get("scope", ""))
    except OAuthError as e:
        return _redirect_error(client, params, e)
    username = params.get("username", params.get("jid", ""))
    if body is None:
        return HttpAnswer(
            200, form_page(params, client.name, scopes, username=username), HTML_HEADERS
        )

    def again(error: str) -> HttpAnswer:
        page = form_page(params, client.name, scopes, username=username, error=error)
        return HttpAnswer(200, page, HTML_HEADERS)

    ttl_text = params.get("ttl", "")
    if ttl_text and ttl_text not in _TTLS:
        return again("Choose one of the token lifetimes offered.")
    try:
        issued = await grants.implicit(
            client,
            username,
            params.get("password", ""),
            params.get("scope", ""),
            _TTLS.get(ttl_text),
            ip=ip,
            tag=tag,
        )
    except OAuthError as e:
        if e.error == "invalid_grant":
            return again("Wrong JID or password.")
        return _redirect_error(client, params, e)
    return _redirect_token(client, params, issued)


def usable_redirect(uri: str) -> None:
    """Refuse a registered redirect URI that no browser should be sent to.

    It must be an absolute URI in printable ASCII without a fragment (RFC
    6749, section 3.1.2), and not a scheme a browser would run.

    Raises:
        OAuthError: ``invalid_request``, naming what is wrong.
    """
    problem = None
    if not uri.isascii() or not uri.isprintable() or " " in uri:
        problem = "it must be printable ASCII without spaces"
    elif "#" in uri:
        problem = "it must not have a fragment"
    else:
        scheme = urlsplit(uri).scheme.lower()
        if not scheme:
            problem = "it must be an absolute URI"
        elif scheme in _REFUSED_SCHEMES:
            problem = f"{scheme}: URIs are not followed"
    if problem is not None:
        raise OAuthError(
            "invalid_request", f"the client's registered redirect_uri cannot be used: {problem}"
        )


def _redirect_token(
    client: OAuthClient, params: Mapping[str, str], issued: IssuedToken
) -> HttpAnswer:
    fields = [
        ("access_token", issued.access_token),
        ("token_type", "bearer"),
        ("expires_in", str(issued.expires_in)),
        ("scope", issued.scope),
    ]
    return _redirect(client, params, fields)


def _redirect_error(
    client: OAuthClient, params: Mapping[str, str], error: OAuthError
) -> HttpAnswer:
    fields = [("error", error.error), ("error_description", error.description)]
    return _redirect(client, params, fields)


def _redirect(
    client: OAuthClient, params: Mapping[str, str], fields: list[tuple[str, str]]
) -> HttpAnswer:
    if params.get("state"):
        fields.append(("state", params["state"]))
    location = f"{client.redirect_uri}#{urlencode(fields)}"
    headers = (
        *HTML_HEADERS,
        ("Location", location),
    )
    return HttpAnswer(302, redirect_page(), headers)


def _page(status: int, heading: str, description: str) -> HttpAnswer:
    return HttpAnswer(status, error_page(heading, description), HTML_HEADERS)
