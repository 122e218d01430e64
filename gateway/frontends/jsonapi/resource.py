"""The mod_http_api JSON ``/api`` endpoint.

``POST <mount>/<command>`` with a JSON object, or ``GET`` with query
arguments.  A request is handled in ejabberd's order: the command name (an
unknown name is always 404 ``Endpoint not found.``), then the credentials,
then the arguments, then ``api_permissions``, then the command itself.  The
body is decoded once the command is known, so an unknown command is reported
as such whatever the body holds.  Before all of it, an address banned for
failing to authenticate too often gets 429 with ``Retry-After``.

``X-Api-Version`` names the version of the command definition that answered.
Answers given before a definition was chosen (no or unknown command, a method
other than GET/POST, ``OPTIONS``, a missing body) do not carry it: no
definition was involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from gateway.engine.auth import Authenticator
from gateway.engine.coercion import coerce_args
from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, TypedCommandError, UnknownCommand
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
from gateway.frontends.http_auth import authenticate
from gateway.frontends.jsonapi.request import (
    LEGACY_PROFILE,
    command_segments,
    decode_json_body,
    decode_query,
    path_version,
)
from gateway.frontends.jsonapi.response import (
    BAD_REQUEST,
    MISSING_COMMAND,
    MISSING_COMMAND_CODE,
    dump_json,
    encode_error,
    encode_result,
    error_object,
)
from gateway.offload import Offload, run_inline

__all__ = ["FRONTEND", "JsonApiResource"]

#: the ``from`` name ``api_permissions`` rules use for this frontend
FRONTEND = "mod_http_api"

_ALLOW_HEADERS = ("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Admin")
_JSON_HEADERS = (
    ("Content-Type", "application/json"),
    ("Access-Control-Allow-Origin", "*"),
    _ALLOW_HEADERS,
)
_OPTIONS_HEADERS = (
    ("Content-Type", "text/plain"),
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    _ALLOW_HEADERS,
    ("Access-Control-Max-Age", "86400"),
)
_HTML_HEADERS = (("Content-Type", "text/html; charset=utf-8"),)


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    """A JSON answer still to be serialised."""

    status: int
    value: Any


class JsonApiResource(AsyncResource[JsonAnswer | HttpAnswer]):
    """mod_http_api for one listener path, speaking ``engine``'s API profile.

    Args:
        engine: the engine for this listener's profile (``"24.12"`` or ``"23.01"``).
        authenticator: checks Basic passwords and Bearer tokens.
        default_version: the API version used when the path names none
            (24.12 only; ``None`` means the newest).  23.01 always uses 0.
        tag: the listener's ``tag``, for ``api_permissions`` ``from: [{tag: …}]``.
        custom_headers: extra headers sent with every answer.
        max_body_bytes: larger bodies are refused with 413.
        trusted_proxies: proxies whose ``X-Forwarded-For`` is believed.
        offload: decodes large JSON bodies off the event loop.
    """

    def __init__(
        self,
        engine: Engine,
        authenticator: Authenticator,
        *,
        default_version: int | None = None,
        tag: str | None = None,
        custom_headers: Sequence[tuple[str, str]] = (),
        max_body_bytes: int = 1 << 20,
        trusted_proxies: Sequence[IPNetwork] = (),
        offload: Offload = run_inline,
    ) -> None:
        super().__init__(max_body_bytes=max_body_bytes, offload=offload)
        self._engine = engine
        self._authenticator = authenticator
        self._legacy = engine.catalogue.profile == LEGACY_PROFILE
        self._default_version = default_version
        self._tag = tag
        self._custom_headers = tuple(custom_headers)
        self._trusted_proxies = tuple(trusted_proxies)

    # -- handling ---------------------------------------------------------------

    async def _async_render(self, request: IRequest) -> JsonAnswer | HttpAnswer:
        # a banned address gets nothing else, not even an anonymous answer
        self._authenticator.admit(client_ip(request, self._trusted_proxies))
        method = request.method
        segments = command_segments(request.postpath)
        if method == b"OPTIONS":
            # preflight: fine for exactly one command segment and no body
            body = self.read_body(request)
            ok = len(segments) == 1 and not body
            return HttpAnswer(200 if ok else 400, b"", _OPTIONS_HEADERS)
        body = b""
        if method == b"POST":
            body = self.read_body(request)
            if not body:
                # ejabberd_http refuses an empty POST before any handler sees it
                return HttpAnswer(400, xhtml_page("400 Bad Request"), _HTML_HEADERS)
        elif method != b"GET":
            return self._missing_command()
        if not segments or (self._legacy and len(segments) != 1):
            return self._missing_command()

        name = _command_name(segments[0])
        version = self._requested_version(request)
        definition = self._engine.resolve(name, version)
        request.setHeader(b"X-Api-Version", str(definition.version).encode("ascii"))

        if method == b"POST":
            given: list[tuple[str, Any]] = await self.offload(
                len(body), decode_json_body, body, self._engine.catalogue.profile
            )
        else:
            given = list(decode_query(request.uri))
        ip = client_ip(request, self._trusted_proxies)
        self.log.debug(
            "{frontend} call {command} from {ip}", frontend=FRONTEND, command=name, ip=ip
        )
        caller = await authenticate(
            self._authenticator,
            request.getHeader(b"authorization"),
            frontend=FRONTEND,
            ip=ip,
            tag=self._tag,
        )
        args = coerce_args(definition, given)
        try:
            result = await self._engine.execute(definition, args, caller)
        except TypedCommandError:
            if definition.result.type.kind == "rescode":
                return JsonAnswer(200, 1)  # a rescode reports any failure as 1
            raise
        status, value = encode_result(
            result, legacy=self._legacy, wrap=self._legacy or version == 0
        )
        return JsonAnswer(status, value)

    def _requested_version(self, request: IRequest) -> int | None:
        full = [*request.prepath, *request.postpath]
        found = path_version(command_segments(full))
        if found is not None:
            return found
        return 0 if self._legacy else self._default_version

    def _missing_command(self) -> JsonAnswer:
        body = error_object(MISSING_COMMAND_CODE, MISSING_COMMAND, legacy=self._legacy)
        return JsonAnswer(400, body)

    # -- writing ----------------------------------------------------------------

    def _send_response(self, request: IRequest, response: JsonAnswer | HttpAnswer) -> None:
        if isinstance(response, HttpAnswer):
            self._write(request, response.status, response.headers, response.body)
            return
        try:
            body = dump_json(response.value)
        except UnicodeEncodeError:
            # text that has no UTF-8 form (ejabberd: invalid UTF-8 in a result)
            self._write_json(request, 400, BAD_REQUEST)
            return
        self._write(request, response.status, _JSON_HEADERS, body)

    def _send_error_response(self, request: IRequest, failure: Failure) -> None:
        error = failure.value
        if isinstance(error, RequestTooLarge):
            self._write_json(
                request, 413, f"Request body too large: the limit is {error.limit} bytes"
            )
        elif isinstance(error, CommandError):
            status, value = encode_error(error, legacy=self._legacy)
            headers = (*_JSON_HEADERS, *retry_after(error))
            self._write(request, status, headers, dump_json(value))
        else:
            self._write_json(request, 500, "internal_error")

    def _write_json(self, request: IRequest, status: int, value: Any) -> None:
        self._write(request, status, _JSON_HEADERS, dump_json(value))

    def _write(
        self, request: IRequest, status: int, headers: Sequence[tuple[str, str]], body: bytes
    ) -> None:
        write_answer(request, HttpAnswer(status, body, (*headers, *self._custom_headers)))


def _command_name(segment: bytes) -> str:
    try:
        return segment.decode("utf-8")
    except UnicodeDecodeError:
        raise UnknownCommand(segment.decode("utf-8", "replace")) from None
