"""What an error answer of ejabberd's ``/api`` means, as an engine error.

mod_http_api answers a failed call with a status and either a bare JSON
string (a command's ``{error, Reason}``, an argument problem) or an object
``{"status": "error", "code": N, "message": M}``.  Read together they give
back the error the command ended with, so each of our dialects can show it
the way ejabberd's own interface would:

- 400 string: the command's ``{error, Text}`` (``unknown_command`` and
  ``frontend_cannot_call_an_internal_command`` are the lookup's);
- 401 / 404 string: ``not_allowed`` / ``not_found`` reasons;
- 404 object code 40 or 44: no such command;
- 409 / 404 / 500 object: ``{error, conflict | not_exists | Other, Code, Msg}``;
- 401 object code 10 and 403 object code 31/32: the upstream refused *the
  gateway's* account (not the caller's), which the caller cannot fix.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.engine.errors import (
    CommandError,
    CommandFailed,
    InternalCommand,
    InternalError,
    TypedCommandError,
    Unavailable,
    UnknownCommand,
)

__all__ = ["TYPED_KINDS", "UpstreamRefused", "error_for"]

#: the error atoms behind the numeric codes ejabberd's commands use (both releases)
TYPED_KINDS: dict[int, str] = {10001: "cannot_register", 10090: "conflict"}

#: a reason that is an Erlang atom rather than text (``error_no_vcard_found``)
_ATOM = re.compile(r"[a-z][a-z0-9_]*\Z")


class UpstreamRefused(Unavailable):
    """The upstream refused the gateway's own credentials or permissions."""


def error_for(status: int, body: bytes, *, command: str, url: str) -> CommandError:
    """The engine error for a non-200 answer of ``url`` to ``command``."""
    try:
        decoded: Any = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        decoded = None
    if isinstance(decoded, str):
        return _from_text(status, decoded, command, url)
    if isinstance(decoded, dict) and decoded.get("status") == "error":
        code = decoded.get("code")
        message = decoded.get("message")
        if isinstance(code, int) and isinstance(message, str):
            return _from_object(status, code, message, command, url)
    return Unavailable(
        f"the upstream ejabberd at {url} answered {command} with HTTP {status}"
        f" and no mod_http_api error body (is {url} its /api base URL?)"
    )


def _from_text(status: int, text: str, command: str, url: str) -> CommandError:
    if status == 400:
        if text == "unknown_command":
            return UnknownCommand(command)
        if text == "frontend_cannot_call_an_internal_command":
            return InternalCommand(command)
        if text == "400 Bad Request":
            return InternalError(
                f"the upstream ejabberd at {url} could not read or answer {command}"
            )
        return _failed(text)
    if status == 404:
        return CommandFailed(text, atom="not_found")
    if status == 401:
        return CommandFailed(text, atom="not_allowed")
    if status == 500 and text == "internal_error":
        return InternalError(f"{command} failed inside the upstream ejabberd at {url}")
    return Unavailable(f"the upstream ejabberd at {url} answered {command} with HTTP {status}")


def _failed(text: str) -> CommandFailed:
    """``{error, Reason}``: an atom reason keeps being an atom."""
    if _ATOM.match(text):
        return CommandFailed(text, atom=text)
    return CommandFailed(text)


def _from_object(status: int, code: int, message: str, command: str, url: str) -> CommandError:
    if status == 401 and code == 10:
        return UpstreamRefused(
            f"the upstream ejabberd at {url} refused the gateway's credentials ({message})"
        )
    if status == 403 and code in (31, 32):
        return UpstreamRefused(
            f"the upstream ejabberd at {url} does not let the gateway's account run"
            f" {command} ({message})"
        )
    if status == 404 and code in (40, 44):
        return UnknownCommand(command)
    if status == 409:
        return TypedCommandError("conflict", code, message)
    if status == 404:
        return TypedCommandError("not_exists", code, message)
    if status == 500:
        return TypedCommandError(TYPED_KINDS.get(code, "error"), code, message)
    if status == 400 and code == 40:
        return UnknownCommand(command)  # "Missing command name.": an empty name
    return Unavailable(
        f"the upstream ejabberd at {url} answered {command} with HTTP {status}: {message}"
    )
