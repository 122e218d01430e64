"""Reading a mod_http_api request: the command, the API version and the arguments.

Arguments come out as ``(name, value)`` pairs of neutral values (``None``,
``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``) for the engine's
coercion.  How a body is read depends on the API profile:

- 24.12 wants a JSON object; a repeated key keeps its last value, and the
  pairs come out sorted by key (the order ejabberd's decoded map has, which
  shows in the unknown-arguments message).
- 23.01 keeps a top-level object's keys in body order, repeats included (so
  the engine reports a duplicate), and reads any other top-level value as no
  arguments.

Whatever the bytes, the only error raised is
:class:`~gateway.engine.errors.BadRequest`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

from gateway.engine.errors import BadRequest
from gateway.engine.names import LEGACY_PROFILE

__all__ = [
    "command_segments",
    "decode_json_body",
    "decode_query",
    "path_version",
]

_VERSION = re.compile(rb"v([+-]?[0-9]+)")


def command_segments(postpath: Sequence[bytes]) -> list[bytes]:
    """The path below the handler's mount point, empty segments dropped."""
    return [segment for segment in postpath if segment]


def path_version(segments: Sequence[bytes]) -> int | None:
    """The API version named by the last ``v<N>`` segment of the full path, if any."""
    for segment in reversed(segments):
        found = _VERSION.fullmatch(segment)
        if found is not None:
            return int(found.group(1))
    return None


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as decoded, before repeated keys are resolved."""


def _pairs(pairs: list[tuple[str, Any]]) -> _Pairs:
    # A Python function, not the class itself: running bytecode for each
    # object lets a thread decoding a large body give up the GIL now and then
    # (the C decoder calling a type never does, holding the event loop up).
    return _Pairs(pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


# built once: json.loads with options builds a new decoder for every body
_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_constant=_reject_constant, parse_float=_finite_float
)


def _decode_text(text: str) -> Any:
    """``json.loads(text)`` with the options above, on the one decoder."""
    if text.startswith("\ufeff"):  # what json.loads refuses before decoding
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


def decode_json_body(body: bytes, profile: str) -> list[tuple[str, Any]]:
    """The arguments of a POST body.

    A body of a single newline carries no arguments (curl's ``-d @-`` habit).
    """
    if body == b"\n":
        return []
    legacy = profile == LEGACY_PROFILE
    try:
        decoded = _decode_text(body.decode("utf-8"))
        if not isinstance(decoded, _Pairs):
            if legacy:
                return []
            raise BadRequest("the request body must be a JSON object")
        if legacy:
            return [(_text(key), _neutral(value, last_wins=False)) for key, value in decoded]
        merged = _neutral(decoded, last_wins=True)
        return sorted(merged.items(), key=lambda item: item[0].encode("utf-8"))
    except BadRequest:
        raise
    except (ValueError, RecursionError) as e:
        # ValueError covers malformed JSON, bad UTF-8 and over-long integers
        raise BadRequest(f"the request body is not valid JSON: {e}") from None


def _neutral(value: Any, *, last_wins: bool) -> Any:
    """Decoded JSON with objects as dicts, every string checked to be encodable."""
    if isinstance(value, _Pairs):
        result: dict[str, Any] = {}
        for key, item in value:
            key = _text(key)
            if last_wins or key not in result:
                result[key] = _neutral(item, last_wins=last_wins)
        return result
    if isinstance(value, list):
        return [_neutral(item, last_wins=last_wins) for item in value]
    if isinstance(value, str):
        return _text(value)
    return value


def _text(value: str) -> str:
    # "\ud800" decodes to a lone surrogate: no valid UTF-8 exists for it
    value.encode("utf-8")
    return value


def decode_query(uri: bytes) -> list[tuple[str, str]]:
    """The arguments of a GET: the query string's pairs, in order, values always text.

    ``+`` stands for a space and ``%XX`` escapes are UTF-8.  A key with no
    ``=`` has the empty string as its value.
    """
    _, _, query = uri.partition(b"?")
    query = query.partition(b"#")[0]
    pairs: list[tuple[str, str]] = []
    try:
        for part in query.split(b"&"):
            if not part:
                continue
            key, _, value = part.partition(b"=")
            pairs.append((_unquote(key), _unquote(value)))
    except UnicodeDecodeError:
        raise BadRequest("the query string is not UTF-8") from None
    return pairs


def _unquote(raw: bytes) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
