"""``gatewayctl --json``: a command's answer as the JSON ``/api`` gives for it.

The result or error body is encoded by mod_http_api's own encoder
(:mod:`gateway.frontends.jsonapi.response`), with the same shape for the
same profile and API version; the exit status stays ejabberdctl's, so
scripts can test it as before.  Help and usage texts are not results and
stay text.
"""

from __future__ import annotations

from gateway.engine.errors import CommandError, mapping_for
from gateway.engine.model import Result
from gateway.engine.names import LEGACY_PROFILE
from gateway.frontends.ctl.text import format_result, output_style
from gateway.frontends.jsonapi.response import dump_json, encode_error, encode_result

__all__ = ["json_error", "json_result", "json_text"]


def json_result(result: Result) -> tuple[str, int]:
    """The JSON ``/api`` answers ``result`` with, and the exit status ejabberdctl would give."""
    legacy = result.profile == LEGACY_PROFILE
    _, value = encode_result(result, legacy=legacy, wrap=legacy or result.requested_version == 0)
    _, status = format_result(result, output_style(result.profile, result.requested_version))
    return json_text(value), status


def json_error(error: CommandError, *, profile: str) -> tuple[str, int]:
    """The JSON error body ``/api`` answers ``error`` with, and ejabberdctl's exit status."""
    _, body = encode_error(error, legacy=profile == LEGACY_PROFILE)
    return json_text(body), mapping_for(error).ctl_exit


def json_text(value: object) -> str:
    """``value`` as ``/api`` writes it (compact, UTF-8 as is)."""
    return dump_json(value).decode("utf-8")
