"""The ``/oauth`` request handler, like ejabberd's ``ejabberd_oauth``.

Two endpoints under the handler's path: ``token`` (see
:mod:`~gateway.frontends.oauth.token`) and ``authorization_token`` (see
:mod:`~gateway.frontends.oauth.authorize`).  An address banned for failing to
log in too often gets 429 with ``Retry-After`` before anything is read, on
both: as JSON from the token endpoint, as a page from the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from gateway.engine.errors import CommandError, TooManyFailures, Unavailable
from gateway.engine.oauth import OAuthError, TokenGrants
from gateway.frontends.base import (
    AsyncResource,
    HttpAnswer,
    IPNetwork,
    RequestTooLarge,
    client_ip,
    retry_after,
    write_answer,
    xhtml_page,
)
from gateway.frontends.oauth.authorize import authorization
from gateway.frontends.oauth.page import HTML_HEADERS, error_page
from gateway.frontends.oauth.token import error_answer, request_token
from gateway.offload import Offload, run_inline

__all__ = ["OAuthResource"]

_TOKEN = b"token"
_AUTHORIZATION = b"authorization_token"
_NOT_FOUND_HEADERS = (("Content-Type", "text/html; charset=utf-8"),)


class OAuthResource(AsyncResource[HttpAnswer]):
    """The OAuth endpoints for one listener path.

    Args:
        grants: checks callers and scopes, and issues tokens.
        tag: the listener's ``tag``.
        custom_headers: extra headers sent with every answer.
        max_body_bytes: larger bodies are refused with 413.
        trusted_proxies: proxies whose ``X-Forwarded-For`` is believed.
    """

    expected_errors: ClassVar[tuple[type[BaseException], ...]] = (
        CommandError,
        RequestTooLarge,
        OAuthError,
    )

    def __init__(
        self,
        grants: TokenGrants,
        *,
        tag: str | None = None,
        custom_headers: Sequence[tuple[str, str]] = (),
        max_body_bytes: int = 1 << 20,
        trusted_proxies: Sequence[IPNetwork] = (),
        offload: Offload = run_inline,
    ) -> None:
        super().__init__(max_body_bytes=max_body_bytes, offload=offload)
        self._grants = grants
        self._tag = tag
        self._custom_headers = tuple(custom_headers)
        self._trusted_proxies = tuple(trusted_proxies)

    async def _async_render(self, request: IRequest) -> HttpAnswer:
        ip = client_ip(request, self._trusted_proxies)
        # a banned address gets nothing else, not even the form
        self._grants.admit(ip)
        endpoint = _endpoint(request)
        method = request.method
        if endpoint == _TOKEN:
            if method != b"POST":
                return _not_allowed(b"POST", error_answer(405, "invalid_request", "use POST"))
            return await request_token(
                self._grants, request, self.read_body(request), ip, self._tag
            )
        if endpoint == _AUTHORIZATION:
            if method in (b"GET", b"HEAD"):
                return await authorization(self._grants, request, None, ip, self._tag)
            if method == b"POST":
                body = self.read_body(request)
                return await authorization(self._grants, request, body, ip, self._tag)
            page = error_page("405 Method Not Allowed", "Use GET or POST.")
            return _not_allowed(b"GET, HEAD, POST", HttpAnswer(405, page, HTML_HEADERS))
        return HttpAnswer(404, xhtml_page("404 Not Found"), _NOT_FOUND_HEADERS)

    def _send_response(self, request: IRequest, response: HttpAnswer) -> None:
        headers = (*response.headers, *self._custom_headers)
        write_answer(request, HttpAnswer(response.status, response.body, headers))

    def _send_error_response(self, request: IRequest, failure: Failure) -> None:
        error = failure.value
        token = _endpoint(request) == _TOKEN
        if isinstance(error, OAuthError):
            # invalid_client is 401, and a 401 names the scheme to authenticate with
            status = 401 if error.error == "invalid_client" else 400
            challenge = (("WWW-Authenticate", 'Basic realm="oauth"'),) if status == 401 else ()
            if token:
                answer = error_answer(status, error.error, error.description, challenge)
            else:
                answer = HttpAnswer(status, error_page("Refused", error.description), HTML_HEADERS)
        elif isinstance(error, RequestTooLarge):
            answer = _failure(
                token, 413, "invalid_request", f"The body is over {error.limit} bytes."
            )
        elif isinstance(error, TooManyFailures):
            answer = _failure(token, 429, "temporarily_unavailable", str(error))
            answer = HttpAnswer(429, answer.body, (*answer.headers, *retry_after(error)))
        elif isinstance(error, Unavailable):
            answer = _failure(token, 503, "temporarily_unavailable", str(error))
        else:
            answer = _failure(token, 500, "server_error", "The token could not be issued.")
        self._send_response(request, answer)


def _endpoint(request: IRequest) -> bytes | None:
    segments = [s for s in request.postpath if s]
    return segments[0] if len(segments) == 1 else None


_HEADINGS = {
    413: "Request too large",
    429: "Too many failed logins",
    500: "Internal error",
    503: "Unavailable",
}


def _failure(token: bool, status: int, error: str, description: str) -> HttpAnswer:
    if token:
        return error_answer(status, error, description)
    return HttpAnswer(status, error_page(_HEADINGS[status], description), HTML_HEADERS)


def _not_allowed(allow: bytes, answer: HttpAnswer) -> HttpAnswer:
    return HttpAnswer(answer.status, answer.body, (*answer.headers, ("Allow", allow.decode())))
