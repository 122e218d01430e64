"""Every mod_rest command line gets an answer, even when wording the answer breaks.

A crash in the result encoder (the ejabberdctl text of a result) answers the text
``Error: internal error`` as the command's output, like any failed command line; a crash in
the error encoder answers mod_rest's internal error, 500 ``Error: internal error``.  Neither
leaves the request hanging.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from gateway.frontends.ctl import process as ctl_process
from gateway.frontends.rest import resource as rest_resource
from tests.frontends.rest.helpers import make_resource, post

PROFILES = ("23.01", "24.12")


def broken(*args: Any, **kwargs: Any) -> NoReturn:
    """An encoder with a bug."""
    raise AttributeError("encoder bug")


@pytest.mark.parametrize("profile", PROFILES)
def test_result_encoder_crash_answers_the_internal_error(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result the ejabberdctl formatter cannot write is the command line's internal error."""
    monkeypatch.setattr(ctl_process, "format_result", broken)
    answer = post(make_resource(profile=profile), "status")
    assert answer.finished
    assert (answer.status, answer.text) == (200, "Error: internal error")


@pytest.mark.parametrize("profile", PROFILES)
def test_error_encoder_crash_answers_the_internal_error(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error the formatter cannot word is answered 500 "Error: internal error"."""
    monkeypatch.setattr(rest_resource, "format_error", broken)
    answer = post(make_resource(profile=profile), "register admin localhost again")
    assert answer.finished
    assert (answer.status, answer.text) == (500, "Error: internal error")
