"""The servers' admin set-up, checked with a raw component before the gateway is involved.

If these fail, the server configuration (admin_servers.py, and the README's "In front of
Prosody" lines) is wrong, not the xmpp backend.  They also pin down what each server offers,
which the README's table reports: the XEP-0133 nodes, and the XEP-0356 roster access.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.integration.servers import XmppServer
from tests.integration.xmpp_backend.rawcomponent import ADMIN, RawComponent
from tests.integration.xmppclient import can_login

NS_ITEMS = "http://jabber.org/protocol/disco#items"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_ROSTER = "jabber:iq:roster"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

#: XEP-0133 nodes both servers offer the admin component
COMMON = {
    "add-user",
    "change-user-password",
    "delete-user",
    "end-user-session",
    "get-online-users-list",
    "user-stats",
}
ONLY = {
    "ejabberd": {
        "get-online-users-num",
        "get-registered-users-list",
        "get-registered-users-num",
        "get-user-lastlogin",
        "get-user-password",
    },
    "prosody": {"get-user-roster", "shutdown"},
}


@pytest.fixture
def component(xmpp_server: XmppServer) -> Iterator[RawComponent]:
    """A raw component logged in as ``api.localhost``, once the server granted its privileges."""
    link = xmpp_server.component
    assert link is not None
    with RawComponent(link.host, link.port, link.domain, link.secret) as raw:
        # both servers announce the XEP-0356 grant right after the handshake
        raw.wait_for(
            "{urn:xmpp:privilege:2}perm"
            if xmpp_server.kind == "prosody"
            else "{urn:xmpp:privilege:1}perm"
        )
        yield raw


def test_admin_nodes_offered(xmpp_server: XmppServer, component: RawComponent) -> None:
    """The component sees exactly the XEP-0133 admin nodes the README's table lists."""
    answer = component.iq(
        "get", xmpp_server.vhost, f"<query xmlns='{NS_ITEMS}' node='{NS_COMMANDS}'/>"
    )
    assert answer.get("type") == "result", ET.tostring(answer)
    nodes = {item.get("node", "") for item in answer.iter(f"{{{NS_ITEMS}}}item")}
    admin = {node.split("#", 1)[1] for node in nodes if node.startswith(ADMIN + "#")}
    assert admin == COMMON | ONLY[xmpp_server.kind]


def test_add_user_from_the_component(xmpp_server: XmppServer, component: RawComponent) -> None:
    """XEP-0133 add-user (form, submit) creates an account that logs in over c2s."""
    answer = component.command(
        xmpp_server.vhost,
        f"{ADMIN}#add-user",
        {"accountjid": xmpp_server.jid("setup1"), "password": "pw-1", "password-verify": "pw-1"},
    )
    command = answer.find(f"{{{NS_COMMANDS}}}command")
    assert command is not None and command.get("status") == "completed", ET.tostring(answer)
    assert can_login(xmpp_server.host, xmpp_server.c2s_port, xmpp_server.jid("setup1"), "pw-1")


def test_roster_access(xmpp_server: XmppServer, component: RawComponent) -> None:
    """XEP-0356: the roster get works on both; the roster set only on Prosody.

    ejabberd 23.01 answers the set with internal-server-error ("Module failed to handle
    the query"): its mod_roster checks the component's own domain as if it were a virtual
    host (ejabberd issue #3942, fixed in 23.10).
    """
    user = "setup2"
    xmpp_server.register(user, "pw-2")
    bare = xmpp_server.jid(user)
    got = component.iq("get", bare, f"<query xmlns='{NS_ROSTER}'/>")
    assert got.get("type") == "result", ET.tostring(got)
    item = f"<item jid='{xmpp_server.jid('friend')}' name='Friend'><group>Mates</group></item>"
    answer = component.iq("set", bare, f"<query xmlns='{NS_ROSTER}'>{item}</query>")
    roster = component.iq("get", bare, f"<query xmlns='{NS_ROSTER}'/>")
    names = [element.get("name") for element in roster.iter(f"{{{NS_ROSTER}}}item")]
    if xmpp_server.kind == "prosody":
        assert answer.get("type") == "result", ET.tostring(answer)
        assert names == ["Friend"]
    else:
        assert answer.get("type") == "error"
        assert answer.find(f".//{{{NS_STANZAS}}}internal-server-error") is not None
        assert names == []
