"""The mod_rest text endpoint: a stanza or an ejabberdctl command line per POST.

What a request gets, in the order the checks run (a POST to a sub-path is
answered like a GET once its body is known not to be empty):

======  ==================================================================
status  when
======  ==================================================================
200     ``Try POSTing a stanza.``: any method but POST (or a sub-path)
406     ``Error: REST request is rejected by service.`` + reason: the caller
        is outside ``allowed_ips``
429     ``Error: Too many failed authentications …`` with ``Retry-After``:
        the caller's address is banned (see :mod:`gateway.engine.bruteforce`)
413     the same first line + reason: the body is over ``max_body_bytes``
400     the XHTML ``400 Bad Request`` page: an empty POST (ejabberd_http)
406     the same first line + reason: malformed XML, a DOCTYPE, nesting
        over ``max_depth``, ``allowed_stanza_types``, ``allowed_destinations``,
        a misused ``?wait=``, or the link's ``from`` policy refused it
500     ``Error: xmpp_codec`` + reason: XML that is not a stanza
503     ``Error: …``: no component link configured, or its queue is full
200     ``Ok``: the stanza is queued durably
200     ``?wait=iq``: the server's answer to the IQ, ``text/xml``
504     ``?wait=iq``: no answer within ``iq_timeout``
400     ``Error: …``: a command line that is not UTF-8, or ``--auth``
        without its three values
401     ``Error: …``: wrong ``--auth`` credentials, or none while
        ``access_commands`` is configured
403     ``Error: …``: ``access_commands`` do not allow the command, or
        ``api_permissions`` do not let the caller (the ``--auth`` account,
        else an anonymous caller from its address) run it
503     ``Error: …``: a command whose backend is unreachable or refused it
504     ``Error: …``: a command whose backend did not answer in time
200     anything else: the command's ejabberdctl text (errors included)
======  ==================================================================

Every answer is ``text/html; charset=utf-8`` except the IQ answer.

Where we differ from ejabberd-contrib's mod_rest, on purpose:

- A ``Host`` that is not a served vhost is answered normally (mod_rest
  closed the connection).
- A stanza without ``from`` is accepted (mod_rest: 500 ``Error: badrecord``);
  ``allowed_stanza_types`` is enforced (mod_rest had the check commented out).
- Refusals carry a second line saying why; an oversized body is 413.
- Command lines are decided by ``api_permissions`` (``from: mod_rest``) as
  the ``--auth`` account or as an anonymous caller from its address;
  mod_rest ran them as console commands, so anyone ``allowed_ips`` admitted
  could run every command.  ``--auth`` credentials are checked whenever they
  are given, and ``access_commands`` narrows what each account may run on
  top of that (mod_rest checked neither).  Both checks are the engine's
  (``access_commands`` is handed to it, see :mod:`.access`); this resource
  only says who was refused and why.
- One trailing line ending is dropped from a command line and ``""`` is an
  empty argument (see :mod:`gateway.frontends.rest.cmdline`); clearly
  url-encoded form bodies are decoded (see :mod:`gateway.frontends.rest.form`).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from twisted.internet import defer
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest

from gateway.config.model import RestOptions
from gateway.engine.credentials import NO_CREDENTIALS, NoCredentials
from gateway.engine.errors import (
    CommandError,
    Forbidden,
    InternalError,
    TooManyFailures,
    Unauthorized,
    Unavailable,
    UnknownCommand,
    mapping_for,
)
from gateway.engine.model import IPAddress
from gateway.engine.names import MOD_REST
from gateway.engine.steps import Step
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
from gateway.frontends.ctl.args import command_name
from gateway.frontends.ctl.options import AuthPrefix, BadAuthPrefix, split_auth
from gateway.frontends.ctl.process import CtlProcessor
from gateway.frontends.ctl.text import format_error
from gateway.frontends.rest.access import ACCESS_COMMANDS, ip_allowed
from gateway.frontends.rest.cmdline import split_command_line, strip_line_ending
from gateway.frontends.rest.form import form_payload
from gateway.frontends.rest.output import rest_text
from gateway.frontends.rest.sink import StanzaSink
from gateway.frontends.rest.stanza import REJECTED, Refused, check_policy, parse_stanza
from gateway.offload import Offload, run_inline
from gateway.stanza import Stanza

__all__ = ["TRY_POSTING", "RestResource"]

TRY_POSTING = "Try POSTing a stanza."
OK = "Ok"

_HTML = (("Content-Type", "text/html; charset=utf-8"),)
_XML = (("Content-Type", "text/xml; charset=utf-8"),)
#: words mod_rest never treated as options: after ``--auth`` they are the command
_NOT_OPTIONS = frozenset({"--version", "--auth"})
_NO_COMMAND = (
    "Error: no command given; POST a command line such as 'registered_users example.org', "
    "or a stanza starting with '<'"
)


def _text(status: int, text: str) -> HttpAnswer:
    return HttpAnswer(status, text.encode("utf-8", "replace"), _HTML)


def _refused(status: int, reason: str, first_line: str = REJECTED) -> HttpAnswer:
    return _text(status, f"{first_line}\n{reason}")


class RestResource(AsyncResource[HttpAnswer]):
    """mod_rest at one listener path.

    Args:
        processor: runs command lines; built with ``frontend="mod_rest"``, on
            an engine holding this endpoint's ``access_commands``.
        sink: the component link's queue, ``None`` when no component is
            configured (stanzas then get 503).
        options: ``modules.mod_rest``.
        hosts: the served vhosts (a ``Host`` outside them is only logged).
        max_body_bytes: larger bodies get 413.
        max_depth: stanzas nested deeper get 406.
        iq_timeout: seconds ``?wait=iq`` waits for the answer.
        clock: times ``?wait=iq``.
        trusted_proxies: proxies whose ``X-Forwarded-For`` is believed.
        offload: decodes large bodies (forms, stanzas, command lines) off the event loop.
    """

    def __init__(
        self,
        processor: CtlProcessor,
        sink: StanzaSink | None,
        options: RestOptions,
        *,
        hosts: Sequence[str],
        max_body_bytes: int,
        max_depth: int,
        iq_timeout: float,
        clock: IReactorTime,
        trusted_proxies: Sequence[IPNetwork] = (),
        offload: Offload = run_inline,
    ) -> None:
        super().__init__(max_body_bytes=max_body_bytes, offload=offload)
        if max_depth < 1:
            raise ValueError("max_depth must be at least 1")
        if iq_timeout <= 0:
            raise ValueError("iq_timeout must be positive")
        self._processor = processor
        self._sink = sink
        self._options = options
        self._hosts = frozenset(host.lower() for host in hosts)
        if processor.frontend != MOD_REST:
            raise ValueError("mod_rest needs a processor built with frontend='mod_rest'")
        self._max_depth = max_depth
        self._iq_timeout = iq_timeout
        self._clock = clock
        self._trusted_proxies = tuple(trusted_proxies)

    # -- requests ---------------------------------------------------------------

    async def _async_render(self, request: IRequest) -> HttpAnswer:
        if request.method != b"POST":
            return _text(200, TRY_POSTING)
        own_path = not any(request.postpath)
        ip = client_ip(request, self._trusted_proxies)
        if own_path and self._options.allowed_ips is not None:
            if ip is None:
                return _refused(406, "the caller's IP address is unknown, and allowed_ips is set")
            if not ip_allowed(self._options, ip):
                return _refused(406, f"{ip} is not in allowed_ips")
        try:
            self._processor.engine.admit(ip)  # a banned address gets nothing else
        except TooManyFailures as e:
            return _too_many(e)
        body = self.read_body(request)
        if not body:
            # ejabberd_http answers an empty POST before any handler runs
            return HttpAnswer(400, xhtml_page("400 Bad Request"), _HTML)
        if not own_path:
            return _text(200, TRY_POSTING)
        self._note_host(request)
        wait = _wait_mode(request.uri)
        if wait is not None and wait != "iq":
            return _refused(406, f"wait={wait} is not supported; the only value is wait=iq")
        payload = await self.offload(
            len(body), form_payload, body, request.getHeader(b"content-type")
        )
        if payload[:1] == b"<":
            return await self._stanza(payload, ip, wait_iq=wait == "iq")
        if wait is not None:
            return _refused(406, "wait=iq needs an <iq type='get'/> or <iq type='set'/> stanza")
        return await self._command(payload, ip)

    # -- stanzas ----------------------------------------------------------------

    async def _stanza(self, payload: bytes, ip: IPAddress | None, *, wait_iq: bool) -> HttpAnswer:
        try:
            stanza = await self.offload(
                len(payload), parse_stanza, payload, max_depth=self._max_depth
            )
            check_policy(
                stanza, self._options.allowed_destinations, self._options.allowed_stanza_types
            )
        except Refused as e:
            return _refused(e.status, e.reason, e.first_line)
        if wait_iq and (stanza.kind != "iq" or stanza.type not in ("get", "set")):
            shown = f"<{stanza.kind} type='{stanza.type}'/>" if stanza.type else f"<{stanza.kind}/>"
            return _refused(
                406, f"wait=iq needs an <iq type='get'/> or <iq type='set'/>, not {shown}"
            )
        if self._sink is None:
            return _text(
                503, "Error: no XMPP component link is configured, so stanzas cannot be sent"
            )
        if wait_iq:
            return await self._wait_for_answer(self._sink, stanza, len(payload))
        try:
            await self._sink.submit(stanza, size=len(payload))
        except CommandError as e:
            return _sink_refusal(e)
        # debug: the access log already has a line for the request, and a second
        # info line per stanza cost the busiest stanza path several per cent
        self.log.debug(
            "mod_rest queued a {kind} to {to} from {ip}", kind=stanza.kind, to=stanza.to, ip=ip
        )
        return _text(200, OK)

    async def _wait_for_answer(self, sink: StanzaSink, stanza: Stanza, size: int) -> HttpAnswer:
        pending = sink.iq(stanza, self._iq_timeout, size=size)
        # our own bound, so a link that never gives up cannot hold the request
        pending.addTimeout(self._iq_timeout, self._clock)
        try:
            answer = await pending
        except (defer.TimeoutError, TimeoutError):
            return _text(504, f"Error: no answer to the IQ within {self._iq_timeout:g} seconds")
        except CommandError as e:
            return _sink_refusal(e)
        return HttpAnswer(200, answer.encode("utf-8", "replace"), _XML)

    # -- command lines ----------------------------------------------------------

    async def _command(self, payload: bytes, ip: IPAddress | None) -> HttpAnswer:
        try:
            auth, words = await self.offload(len(payload), _split_line, payload)
        except UnicodeDecodeError:
            return _text(400, "Error: the command line is not valid UTF-8")
        except BadAuthPrefix as e:
            return _text(400, f"Error: {e}")
        if not words:
            return _text(200, _NO_COMMAND)
        if words[0] in _NOT_OPTIONS:
            return _text(200, self._unknown_command(words[0]))
        credentials = NO_CREDENTIALS if auth is None else auth.credentials
        if self._options.access_commands and isinstance(credentials, NoCredentials):
            return _text(
                401,
                "Error: access_commands is configured: start the command line with "
                "--auth USER HOST PASSWORD",
            )
        try:
            if command_name(words[0]) == "help":
                # help runs no command, but wrong credentials are refused all the same
                await self._processor.engine.authenticate(credentials, frontend=MOD_REST, ip=ip)
            text, status = await self._processor.answer(words, ip, credentials)
        except CommandError as e:
            refusal = _refusal(e, ip)
            if refusal is not None:
                return refusal
            text, status = format_error(e)
        return _text(200, rest_text(text, status))

    def _unknown_command(self, word: str) -> str:
        suggestion = self._processor.engine.catalogue.suggest(command_name(word))
        text, _ = format_error(UnknownCommand(word, suggestion))
        return text

    # -- helpers ----------------------------------------------------------------

    def _note_host(self, request: IRequest) -> None:
        host = _host_name(request.getHeader(b"host"))
        if host is not None and host not in self._hosts:
            # mod_rest closed the connection here; we answer, and only note it
            self.log.debug("mod_rest request for {host}, which is not a served host", host=host)

    # -- writing ----------------------------------------------------------------

    def _send_response(self, request: IRequest, response: HttpAnswer) -> None:
        write_answer(request, response)

    def _send_error_response(self, request: IRequest, failure: Failure) -> None:
        error = failure.value
        if isinstance(error, RequestTooLarge):
            answer = _refused(413, f"the body is larger than {error.limit} bytes")
        else:
            answer = _text(500, "Error: internal error")
        write_answer(request, answer)


def _refusal(error: CommandError, ip: IPAddress | None) -> HttpAnswer | None:
    """The HTTP answer for credentials or permissions the engine refused, else ``None``.

    Other errors are the command's, answered with ejabberdctl's text.
    """
    if error.step is Step.AUTHENTICATE:
        if isinstance(error, TooManyFailures):
            return _too_many(error)
        status = 401 if isinstance(error, Unauthorized) else mapping_for(error).http_status
        return _text(status, f"Error: {error.message}")
    if isinstance(error, Unavailable):
        # nothing answered the command (a backend down or late): 503 / 504, not its text
        return _text(mapping_for(error).http_status, f"Error: {error.message}")
    if not isinstance(error, Forbidden):
        return None
    status = mapping_for(error).http_status
    caller, name = error.caller, error.command
    who = caller.jid if caller is not None else None
    if error.rule == ACCESS_COMMANDS:
        return _text(status, f"Error: access_commands do not let {who} run '{name}'")
    if who is not None:
        return _text(status, f"Error: api_permissions do not let {who} run '{name}'")
    origin = f" from {ip}" if ip is not None else ""
    return _text(
        status,
        f"Error: api_permissions do not let anonymous callers{origin} run '{name}'; "
        "start the command line with --auth USER HOST PASSWORD",
    )


def _too_many(error: TooManyFailures) -> HttpAnswer:
    """429 for an address banned for failing to authenticate too often."""
    answer = _text(mapping_for(error).http_status, f"Error: {error.message}")
    return HttpAnswer(answer.status, answer.body, (*answer.headers, *retry_after(error)))


def _split_line(payload: bytes) -> tuple[AuthPrefix | None, list[str]]:
    """The ``--auth`` prefix and the words of a command line (thread-safe, for offloading).

    Raises:
        UnicodeDecodeError: the line is not UTF-8.
        BadAuthPrefix: ``--auth`` without its three values.
    """
    return split_auth(split_command_line(strip_line_ending(payload.decode("utf-8"))))


def _sink_refusal(error: CommandError) -> HttpAnswer:
    if isinstance(error, Unavailable):
        return _text(503, f"Error: {error.message}")
    if isinstance(error, InternalError):
        return _text(500, "Error: internal error")
    # anything else is the link refusing this stanza, e.g. its ``from``
    return _refused(406, error.message)


def _wait_mode(uri: bytes) -> str | None:
    """The ``wait`` query argument, ``None`` when absent."""
    query = urlsplit(uri).query
    values = parse_qs(query.decode("latin-1"), keep_blank_values=True).get("wait")
    if not values:
        return None
    return ",".join(values)


def _host_name(header: bytes | None) -> str | None:
    """The host part of a ``Host`` header, lower-cased, without the port."""
    if not header:
        return None
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text
