"""A backend that is down or late, as each dialect answers it.

``Unavailable`` and ``GatewayTimeout`` are no answer of the command: /api
gives 503/504 with a JSON error, XML-RPC a fault, a mod_rest command line
503/504 with the text, gatewayctl exit status 1 with the text.
"""

from __future__ import annotations

import pytest

from gateway.engine.errors import CommandError, GatewayTimeout, Unavailable
from gateway.frontends.ctl.text import format_error
from gateway.frontends.jsonapi.response import encode_error
from gateway.frontends.xmlrpc.faults import command_fault
from tests.frontends.rest.helpers import make_resource, post

LATE = "the upstream ejabberd at http://127.0.0.1:5280/api did not answer stats within 30 s"
DOWN = "the upstream ejabberd at http://127.0.0.1:5280/api is unavailable: Connection refused"

CASES = [(GatewayTimeout(LATE), 504, 54), (Unavailable(DOWN), 503, 51)]


@pytest.mark.parametrize(("error", "status", "code"), CASES)
def test_jsonapi(error: CommandError, status: int, code: int) -> None:
    """/api: the HTTP status and a JSON error object carrying the message."""
    for legacy in (False, True):
        answer_status, body = encode_error(error, legacy=legacy)
        assert answer_status == status
        assert body == {"status": "error", "code": code, "message": error.message}


@pytest.mark.parametrize(("error", "status", "code"), CASES)
def test_xmlrpc(error: CommandError, status: int, code: int) -> None:
    """XML-RPC: a -118 fault with the message as it is."""
    fault = command_fault(error, "stats", [("name", "registeredusers")])
    assert fault.code == -118
    assert fault.fault_string == f"Error -118\n{error.message}"


@pytest.mark.parametrize(("error", "status", "code"), CASES)
def test_gatewayctl(error: CommandError, status: int, code: int) -> None:
    """gatewayctl: ``Error: <message>`` and exit status 1."""
    assert format_error(error) == (f"Error: {error.message}", 1)


@pytest.mark.parametrize(("error", "status", "code"), CASES)
def test_mod_rest_command_line(error: CommandError, status: int, code: int) -> None:
    """A mod_rest command line: the HTTP status (not 200) with ``Error: <message>``."""
    rig = make_resource()
    rig.backend.answer("stats", error)
    answer = post(rig, "stats registeredusers")
    assert (answer.status, answer.text) == (status, f"Error: {error.message}")


def test_mod_rest_command_failure_stays_200() -> None:
    """The command's own failure is still ejabberdctl's text with 200."""
    rig = make_resource()
    answer = post(rig, "registered_users nohost.example")
    assert answer.status == 200
