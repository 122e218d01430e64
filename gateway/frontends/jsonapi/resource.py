"""The mod_http_api JSON ``/api`` endpoint.

``POST <mount>/<command>`` with a JSON object, or ``GET`` with query
arguments.  A request is decoded into one
:class:`~gateway.engine.model.CommandCall`, which the engine checks in
ejabberd's order for this dialect (see :mod:`gateway.engine.steps`): the
command name (an unknown name is always 404 ``Endpoint not found.``), then
the body, then the credentials, then the arguments, then ``api_permissions``,
then the command itself.  The body is decoded once the command is known, so
an unknown command is reported as such whatever the body holds.  Before all
of it, an address banned for failing to authenticate too often gets 429 with
``Retry-After``.

The 23.01 profile keeps 23.01's order for names it does not know: the body
is decoded first (a body that is not JSON is 400 whatever the name), then a
name 23.01's VM did not know as an atom is 404 ``Endpoint not found.``, and
one it did (:mod:`~gateway.frontends.jsonapi.atoms_2301`) has its
credentials checked and is ``400 "unknown_command"``.

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

from gateway.engine.dispatch import Engine
from gateway.engine.errors import CommandError, TypedCommandError, UnknownCommand
from gateway.engine.model import CommandCall, CommandDefinition, LateArguments
from gateway.engine.names import LEGACY_PROFILE, MOD_HTTP_API
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
from gateway.frontends.http_auth import parse_authorization
from gateway.frontends.jsonapi.atoms_2301 import ATOMS_2301
from gateway.frontends.jsonapi.request import (
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

__all__ = ["JsonApiResource"]

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
        self._legacy = engine.catalogue.profile == LEGACY_PROFILE
        self._default_version = default_version
        self._tag = tag
        self._custom_headers = tuple(custom_headers)
        self._trusted_proxies = tuple(trusted_proxies)

    # -- handling ---------------------------------------------------------------

    async def _async_render(self, request: IRequest) -> JsonAnswer | HttpAnswer:
        ip = client_ip(request, self._trusted_proxies)
        # a banned address gets nothing else, not even an anonymous answer
        self._engine.admit(ip)
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

        profile = self._engine.catalogue.profile
        early: list[tuple[str, Any]] | None = None
        if self._legacy and method == b"POST":
            # 23.01 decodes the body before it looks at the command's name
            early = await self.offload(len(body), decode_json_body, body, profile)
        name = _command_name(segments[0])
        credentials = parse_authorization(request.getHeader(b"authorization"))
        # 23.01 checks the credentials of a name its VM knew as an atom, then finds no
        # such command; a name it never saw is 404 at once (the engine's answer)
        known_atom = self._legacy and name not in self._engine.catalogue and name in ATOMS_2301
        if known_atom:
            await self._engine.authenticate(
                credentials, frontend=MOD_HTTP_API, ip=ip, tag=self._tag
            )

        async def read(definition: CommandDefinition) -> list[tuple[str, Any]]:
            if early is not None:
                return early
            if method == b"POST":
                decoded: list[tuple[str, Any]] = await self.offload(
                    len(body), decode_json_body, body, profile
                )
                return decoded
            return list(decode_query(request.uri))

        call = CommandCall(
            name,
            LateArguments(read),
            self._requested_version(request),
            frontend=MOD_HTTP_API,
            credentials=credentials,
            ip=ip,
            tag=self._tag,
        )
        self.log.debug(
            "{frontend} call {command} from {ip}", frontend=MOD_HTTP_API, command=name, ip=ip
        )
        try:
            result = await self._engine.call(call)
        except UnknownCommand:
            if known_atom:
                return JsonAnswer(400, "unknown_command")
            raise
        except TypedCommandError as e:
            if e.definition is not None and e.definition.result.type.kind == "rescode":
                _name_version(request, e.definition)
                return JsonAnswer(200, 1)  # a rescode reports any failure as 1
            raise
        _name_version(request, result.definition)
        legacy = result.profile == LEGACY_PROFILE
        wrap = legacy or result.requested_version == 0
        status, value = encode_result(result, legacy=legacy, wrap=wrap)
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
            if error.definition is not None:
                _name_version(request, error.definition)
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


def _name_version(request: IRequest, definition: CommandDefinition) -> None:
    """``X-Api-Version``: the version of the definition that answered."""
    request.setHeader(b"X-Api-Version", str(definition.version).encode("ascii"))


def _command_name(segment: bytes) -> str:
    try:
        return segment.decode("utf-8")
    except UnicodeDecodeError:
        raise UnknownCommand(segment.decode("utf-8", "replace")) from None
