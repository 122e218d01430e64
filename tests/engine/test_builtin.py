"""The gateway's own commands: the wording of ``status`` in each release's terms."""

from __future__ import annotations

import re

import pytest
from twisted.internet.defer import Deferred

from gateway import __version__
from gateway.engine.builtin import (
    GatewayCommands,
    ctl_status_text,
    node_term,
    profile_status_text,
    status_line,
)
from gateway.engine.model import Caller, ResTuple
from gateway.logs import LogLevelControl

#: how client libraries read the server's release out of ``status``
RELEASE = re.compile(r"(\S+) is running in that node")


def _value(deferred: Deferred[ResTuple]) -> ResTuple:
    fired: list[ResTuple] = []
    deferred.addCallback(fired.append)
    assert fired, "the gateway commands answer synchronously"
    return fired[0]


@pytest.mark.parametrize(
    ("node", "printed"),
    [
        ("ejabberd@localhost", "ejabberd@localhost"),
        ("gw_1@Host9", "gw_1@Host9"),
        ("xmpp-gateway@vm", "'xmpp-gateway@vm'"),
        ("gw@host.example.org", "'gw@host.example.org'"),
        ("Gw@host", "'Gw@host'"),
        ("it's@host", "'it\\'s@host'"),
        ("case", "'case'"),
    ],
)
def test_node_term_quotes_like_erlang(node: str, printed: str) -> None:
    """A node name is printed as Erlang's ``~p`` prints the atom: bare when it may be."""
    assert node_term(node) == printed


def test_status_line_in_each_release() -> None:
    """23.01 runs the two sentences together; 24.12 puts two spaces between them
    (ejabberd_admin:status/0 of each tag); the release is the profile's."""
    assert status_line("ejabberd@localhost", "23.01") == (
        "The node ejabberd@localhost is started. Status: startedejabberd 23.01 is running"
        " in that node"
    )
    assert status_line("ejabberd@localhost", "24.12") == (
        "The node ejabberd@localhost is started. Status: started  ejabberd 24.12 is running"
        " in that node"
    )


def test_status_command_names_the_release_not_our_version() -> None:
    """The status command's first line names 24.12 where clients read the release; our
    product, version and extra state follow on their own lines."""
    commands = GatewayCommands(
        ["localhost"],
        LogLevelControl(),
        node="xmpp-gateway@vm",
        extra_status=lambda: ["XMPP component rest.localhost: connected"],
    )
    value = _value(commands.execute("status", {}, Caller(frontend="mod_http_api")))
    assert value.ok
    assert value.text.split("\n") == [
        "The node 'xmpp-gateway@vm' is started. Status: started  ejabberd 24.12 is running"
        " in that node",
        f"xmpp-api-gateway {__version__}",
        "XMPP component rest.localhost: connected",
    ]
    found = RELEASE.search(value.text)
    assert found is not None and found[1] == "24.12"


def test_profile_status_text_rewords_only_the_first_line() -> None:
    """The 23.01 wording replaces the first line and keeps the node and the later lines."""
    text = status_line("gw@test", "24.12") + "\nxmpp-api-gateway 0.1.0\nlink: up"
    assert profile_status_text(text, "23.01") == (
        "The node gw@test is started. Status: startedejabberd 23.01 is running in that node"
        "\nxmpp-api-gateway 0.1.0\nlink: up"
    )
    assert profile_status_text(profile_status_text(text, "23.01"), "24.12") == text
    assert profile_status_text("something else", "23.01") == "something else"


def test_ctl_status_text_is_ejabberdctl_wording() -> None:
    """ejabberdctl's own status: "is started with status: started", then the release line
    (ejabberd_ctl.erl, the same in 23.01 and 24.12), then our lines."""
    text = status_line("xmpp-gateway@vm", "23.01") + "\nxmpp-api-gateway 0.1.0"
    assert ctl_status_text(text) == (
        "The node 'xmpp-gateway@vm' is started with status: started\n"
        "ejabberd 23.01 is running in that node\nxmpp-api-gateway 0.1.0"
    )
    text = status_line("ejabberd@localhost", "24.12")
    assert ctl_status_text(text) == (
        "The node ejabberd@localhost is started with status: started\n"
        "ejabberd 24.12 is running in that node"
    )
    assert ctl_status_text("Error: nothing") == "Error: nothing"
