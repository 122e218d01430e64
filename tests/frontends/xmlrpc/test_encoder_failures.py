"""Every XML-RPC call gets an answer, even when wording the answer breaks.

A crash in the result encoder or in the error (fault) encoder must still produce
ejabberd_xmlrpc's internal-error fault (-118, ``A problem 'internal_error' occurred ...``),
never a request left hanging.  A malformed JID gets ejabberd's own -118 fault.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from gateway.frontends.xmlrpc import handler as xmlrpc_handler
from gateway.frontends.xmlrpc import resource as xmlrpc_resource
from gateway.testing import FakeBackend
from tests.frontends.xmlrpc.helpers import ACCOUNTS, ADMIN, Reply, call, make_resource

PROFILES = ("23.01", "24.12")


def broken(*args: Any, **kwargs: Any) -> NoReturn:
    """An encoder with a bug."""
    raise AttributeError("encoder bug")


def assert_internal_fault(reply: Reply, method: str) -> None:
    """ejabberd_xmlrpc's answer to a crash: a -118 fault naming ``internal_error``."""
    assert reply.finished
    assert reply.status == 200
    fault = reply.fault()
    assert fault.faultCode == -118
    assert fault.faultString.startswith(
        f"Error -118\nA problem 'internal_error' occurred executing the command {method}"
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_result_encoder_crash_is_an_internal_fault(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result that the encoder cannot write is answered with the internal-error fault."""
    resource, _ = make_resource(profile)
    monkeypatch.setattr(xmlrpc_resource, "encode_response", broken)
    assert_internal_fault(call(resource, "status"), "status")


@pytest.mark.parametrize("profile", PROFILES)
def test_error_encoder_crash_is_an_internal_fault(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that cannot be worded as its own fault still gets the internal-error fault."""
    resource, _ = make_resource(profile)
    monkeypatch.setattr(xmlrpc_handler, "_fault", broken)
    reply = call(resource, "register", ADMIN, {"user": "admin", "host": "localhost"})
    assert_internal_fault(reply, "register")


@pytest.mark.parametrize("user", ["@@", "not a jid"])
def test_malformed_jid_gets_ejabberds_fault(user: str) -> None:
    """subscribe_room of the 23.01 profile with a user that is no JID is the -118 fault
    ejabberd 23.01 gives: mod_muc_admin's thrown ``{error,"Malformed user JID"}``.  (In the
    24.12 profile XML-RPC runs the newest definition, which takes user and host apart.)"""
    backend = FakeBackend(ACCOUNTS, answers={"subscribe_room": []})
    resource, _ = make_resource("23.01", backend)
    args = {"user": user, "nick": "n", "room": "lobby@conference.localhost", "nodes": ""}
    reply = call(resource, "subscribe_room", ADMIN, args)
    assert reply.finished
    fault = reply.fault()
    assert fault.faultCode == -118
    assert fault.faultString.startswith(
        "Error -118\nA problem '{error,\"Malformed user JID\"}' occurred executing the command"
        " subscribe_room with arguments\n"
    )
    assert backend.calls == []


def test_malformed_jid_of_a_rescode_command_is_a_fault() -> None:
    """muc_register_nick (a rescode command) with a jid that is no JID is a -118 fault, not
    ``{res: 1}``: mod_muc_admin throws ``{error,"Invalid 'jid'"}``, as ejabberd 23.01 shows."""
    backend = FakeBackend(ACCOUNTS, answers={"muc_register_nick": True})
    resource, _ = make_resource("23.01", backend)
    args = {"nick": "n", "jid": "@@", "service": "conference.localhost"}
    fault = call(resource, "muc_register_nick", ADMIN, args).fault()
    assert (fault.faultCode, fault.faultString) == (
        -118,
        "Error -118\nA problem '{error,\"Invalid 'jid'\"}' occurred executing the command"
        ' muc_register_nick with arguments\n[{nick,<<"n">>},{jid,<<"@@">>},'
        '{service,<<"conference.localhost">>}]',
    )
    assert backend.calls == []
