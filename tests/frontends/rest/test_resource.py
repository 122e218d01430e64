"""The mod_rest endpoint end to end: ``DummyRequest`` in, status and text out.

Cases 35–42 refer to ``wire-behaviour.md`` §7; where the gateway answers
differently from ejabberd on purpose, the test's docstring says so.
"""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from gateway.engine.errors import CommandFailed, InternalError, Unavailable
from gateway.frontends.rest.resource import RestResource
from gateway.testing import FakeStanzaSink
from tests.frontends.rest.helpers import (
    QUEUE_FULL,
    answer_of,
    make_request,
    make_resource,
    post,
    queue_full,
    render,
    rest_options,
)

REJECTED = "Error: REST request is rejected by service."
HTML = "text/html; charset=utf-8"
WGET_MESSAGE = '<message to="nolan@localhost" from="localhost/rest"><body>World</body></message>'
PING = "<iq type='get' from='localhost' to='localhost' id='p'><ping xmlns='urn:xmpp:ping'/></iq>"
FORM = ((b"Host", b"localhost"), (b"Content-Type", b"application/x-www-form-urlencoded"))


class GetTests(SynchronousTestCase):
    """Anything but a POST to the handler's own path."""

    def test_case_35_get(self) -> None:
        """Case 35: ``GET /rest`` answers 200 ``Try POSTing a stanza.`` as HTML."""
        rig = make_resource()
        answer = render(rig.resource, make_request(None, method=b"GET"))
        self.assertEqual((answer.status, answer.text), (200, "Try POSTing a stanza."))
        self.assertEqual(answer.content_type, HTML)
        self.assertEqual(answer.finished, 1)

    def test_other_methods_and_sub_paths(self) -> None:
        """PUT, a POST to a sub-path and a HEAD all get the same 200; HEAD without a body."""
        rig = make_resource()
        put = render(rig.resource, make_request(b"status", method=b"PUT"))
        self.assertEqual((put.status, put.text), (200, "Try POSTing a stanza."))
        sub = post(rig, "status", path="/rest/deeper")
        self.assertEqual((sub.status, sub.text), (200, "Try POSTing a stanza."))
        head = render(rig.resource, make_request(None, method=b"HEAD"))
        self.assertEqual((head.status, head.body), (200, b""))
        self.assertEqual(rig.backend.calls, [])

    def test_get_ignores_allowed_ips(self) -> None:
        """allowed_ips guards POSTs only, as in mod_rest: a GET from outside still gets 200."""
        rig = make_resource(rest_options(allowed_ips=(_net("127.0.0.0/8"),)))
        answer = render(rig.resource, make_request(None, method=b"GET", ip="10.1.2.3"))
        self.assertEqual(answer.status, 200)

    def test_empty_post(self) -> None:
        """An empty POST gets ejabberd_http's XHTML ``400 Bad Request`` page."""
        rig = make_resource()
        answer = post(rig, b"")
        self.assertEqual(answer.status, 400)
        self.assertEqual(answer.content_type, HTML)
        self.assertIn(b"<h1>400 Bad Request</h1>", answer.body)
        self.assertTrue(answer.body.startswith(b"<?xml version='1.0'?>\n<!DOCTYPE html"))


class CommandTests(SynchronousTestCase):
    """Command lines run through the ctl processor; the reply is always 200."""

    def test_case_36_results(self) -> None:
        """Case 36: ``connected_users_number`` answers ``0``; a list prints one item per line."""
        rig = make_resource()
        answer = post(rig, "connected_users_number")
        self.assertEqual((answer.status, answer.text), (200, "0"))
        self.assertEqual(answer.content_type, HTML)
        self.assertEqual(post(rig, "registered_users localhost").text, "admin\nalice\nrobot")
        self.assertEqual(rig.backend.calls[-1][2].frontend, "mod_rest")

    def test_case_37_unknown_command(self) -> None:
        """Case 37: an unknown command gets ejabberdctl's error with the closest name."""
        rig = make_resource()
        answer = post(rig, "no_such_cmd_zz")
        self.assertEqual(
            (answer.status, answer.text),
            (200, "Error: unknown command 'no_such_cmd_zz'. Did you mean 'module_check'?"),
        )

    def test_case_38_argument_count(self) -> None:
        """Case 38: a wrong argument count answers only the error line, not the help."""
        rig = make_resource()
        answer = post(rig, "registered_users")
        self.assertEqual(
            (answer.status, answer.text),
            (200, "Error: the command 'registered_users' requires 1 more argument."),
        )
        self.assertEqual(
            post(rig, "registered_users a b").text,
            "Error: the command 'registered_users' requires 1 less argument.",
        )

    def test_case_38_command_failed(self) -> None:
        """Case 38: an ``{error, Reason}`` answer shows the reason without ``Error: error``."""
        rig = make_resource()
        answer = post(rig, "registered_users nohost.example")
        self.assertEqual((answer.status, answer.text), (200, 'Error: "Unknown virtual host"'))

    def test_rescode(self) -> None:
        """A rescode ok has no text, so the exit status ``0`` is the body; false is an error."""
        rig = make_resource()
        self.assertEqual(post(rig, "check_account alice localhost").text, "0")
        self.assertEqual(post(rig, "check_account nobody localhost").text, "Error: false")

    def test_case_41_trailing_newline(self) -> None:
        """Case 41: one trailing line ending is dropped before splitting.

        ejabberd kept it in the last argument and answered ``Error: "Unknown
        virtual host"``; we answer what the caller meant.  A second newline
        stays in the argument.
        """
        rig = make_resource()
        users = "admin\nalice\nrobot"
        self.assertEqual(post(rig, "registered_users localhost\n").text, users)
        self.assertEqual(post(rig, "registered_users localhost\r\n").text, users)
        self.assertEqual(
            post(rig, "registered_users localhost\n\n").text, 'Error: "Unknown virtual host"'
        )
        self.assertEqual(rig.backend.calls[-1][1], {"host": "localhost\n"})

    def test_case_41_leading_space(self) -> None:
        """Case 41: a body whose first byte is not ``<`` is a command line, even `` <iq/>``."""
        rig = make_resource()
        answer = post(rig, " <iq/>")
        self.assertEqual(answer.status, 200)
        self.assertTrue(answer.text.startswith("Error: unknown command '<iq/>'."))
        self.assertEqual(rig.sink.submitted if rig.sink else None, [])

    def test_quotes_and_tabs(self) -> None:
        """Double quotes group an argument; a tab is part of the word it is in."""
        rig = make_resource()
        self.assertEqual(post(rig, 'registered_users "localhost"').text, "admin\nalice\nrobot")
        answer = post(rig, "registered_users\tlocalhost")
        self.assertTrue(
            answer.text.startswith("Error: unknown command 'registered_users\tlocalhost'")
        )

    def test_version_is_not_an_option(self) -> None:
        """``--version`` is an unknown command to mod_rest, with or without ``--auth`` before it."""
        rig = make_resource()
        answer = post(rig, "--version 0 status")
        self.assertTrue(answer.text.startswith("Error: unknown command '--version'."), answer.text)
        answer = post(rig, "--auth admin localhost secret --version 0 status")
        self.assertTrue(answer.text.startswith("Error: unknown command '--version'."), answer.text)
        self.assertEqual(rig.backend.calls, [])

    def test_api_permissions_apply(self) -> None:
        """api_permissions decide: here only loopback callers may run any command.

        A refusal is 403 with who was refused; it used to be ejabberdctl's bare
        ``{error,access_rules_unauthorized}`` with 200 (issue 8 made mod_rest
        refusals by api_permissions as clear as access_commands ones).
        """
        rig = make_resource()
        answer = post(rig, "connected_users_number", ip="10.1.2.3")
        self.assertEqual(
            (answer.status, answer.text),
            (
                403,
                "Error: api_permissions do not let anonymous callers from 10.1.2.3 run "
                "'connected_users_number'; start the command line with --auth USER HOST PASSWORD",
            ),
        )
        self.assertEqual(rig.backend.calls, [])

    def test_status_builtin(self) -> None:
        """``status`` prints the status command's text (mod_rest runs the command, so it is
        not ejabberdctl's own wording), with the node name printed as Erlang prints it."""
        rig = make_resource()
        answer = post(rig, "status")
        self.assertTrue(
            answer.text.startswith(
                "The node 'xmpp-gateway@testhost' is started. Status: started"
                "  ejabberd 24.12 is running in that node\n"
            ),
            answer.text,
        )

    def test_not_utf8(self) -> None:
        """A command line that is not UTF-8 is refused with 400 (ejabberd crashed)."""
        rig = make_resource()
        answer = post(rig, b"registered_users \xff\xfe")
        self.assertEqual(
            (answer.status, answer.text), (400, "Error: the command line is not valid UTF-8")
        )

    def test_no_command(self) -> None:
        """Only spaces, or only ``--auth``, is answered with a clear error."""
        rig = make_resource()
        for body in ("   ", "--auth admin localhost secret"):
            answer = post(rig, body)
            self.assertEqual(answer.status, 200)
            self.assertTrue(answer.text.startswith("Error: no command given"), answer.text)

    def test_auth_checked(self) -> None:
        """Good ``--auth`` credentials make the caller that account."""
        rig = make_resource()
        answer = post(rig, "--auth admin localhost secret registered_users localhost")
        self.assertEqual(answer.text, "admin\nalice\nrobot")
        caller = rig.backend.calls[-1][2]
        self.assertEqual((caller.user, caller.host), ("admin", "localhost"))

    def test_auth_checked_once(self) -> None:
        """The password is checked once per request: the processor reuses the caller."""
        rig = make_resource()
        post(rig, "--auth admin localhost secret registered_users localhost")
        self.assertEqual(rig.backend.password_checks, 1)

    def test_bad_auth(self) -> None:
        """Wrong ``--auth`` credentials are refused with 401 even without access_commands.

        mod_rest never checked them.
        """
        rig = make_resource()
        answer = post(rig, "--auth admin localhost wrong registered_users localhost")
        self.assertEqual((answer.status, answer.text), (401, "Error: Invalid authentication data"))
        self.assertEqual(answer.content_type, HTML)
        self.assertEqual(rig.backend.calls, [])

    def test_help_checks_credentials_too(self) -> None:
        """``help`` runs no command, but wrong ``--auth`` credentials still get 401."""
        rig = make_resource()
        answer = post(rig, "--auth admin localhost wrong help status")
        self.assertEqual((answer.status, answer.text), (401, "Error: Invalid authentication data"))
        answer = post(rig, "--auth admin localhost secret help status")
        self.assertEqual(answer.status, 200)
        self.assertTrue(answer.text.startswith("  Command Name: status"), answer.text)

    def test_auth_without_values(self) -> None:
        """``--auth`` with fewer than three values is a 400 saying what it takes."""
        rig = make_resource()
        answer = post(rig, "--auth admin localhost")
        self.assertEqual(answer.status, 400)
        self.assertIn("USER HOST PASSWORD", answer.text)

    def test_empty_auth_is_anonymous(self) -> None:
        """``--auth "" "" ""`` stands for no credentials, as mod_rest's own prefix does."""
        rig = make_resource()
        answer = post(rig, '--auth "" "" "" connected_users_number')
        self.assertEqual((answer.status, answer.text), (200, "0"))
        self.assertIsNone(rig.backend.calls[-1][2].user)
        self.assertEqual(rig.backend.password_checks, 0)


class AccessCommandsTests(SynchronousTestCase):
    """With access_commands configured, credentials are required and the entries applied."""

    def rig(self) -> Any:
        return make_resource(
            rest_options(
                access_commands=[
                    ("rest_admin", None, {}),
                    ("rest_robots", ["registered_users"], {}),
                    ("rest_robots", ["change_password"], {"user": "alice"}),
                ]
            )
        )

    def test_credentials_required(self) -> None:
        """No ``--auth`` (or the anonymous one) gets 401 and runs nothing."""
        rig = self.rig()
        for body in ("registered_users localhost", '--auth "" "" "" registered_users localhost'):
            answer = post(rig, body)
            self.assertEqual(answer.status, 401)
            self.assertIn("--auth USER HOST PASSWORD", answer.text)
        self.assertEqual(rig.backend.calls, [])

    def test_bad_credentials(self) -> None:
        """A wrong password gets 401 ``Error: Invalid authentication data``."""
        rig = self.rig()
        answer = post(rig, "--auth robot localhost nope registered_users localhost")
        self.assertEqual((answer.status, answer.text), (401, "Error: Invalid authentication data"))
        self.assertEqual(rig.backend.calls, [])

    def test_listed_command(self) -> None:
        """A caller passing an entry's access rule may run the commands it lists."""
        rig = self.rig()
        answer = post(rig, "--auth robot localhost robotpw registered-users localhost")
        self.assertEqual((answer.status, answer.text), (200, "admin\nalice\nrobot"))

    def test_unlisted_command(self) -> None:
        """A command no entry grants the caller is refused with 403."""
        rig = self.rig()
        answer = post(rig, "--auth robot localhost robotpw connected_users_number")
        self.assertEqual(
            (answer.status, answer.text),
            (403, "Error: access_commands do not let robot@localhost run 'connected_users_number'"),
        )
        self.assertEqual(rig.backend.calls, [])

    def test_rule_not_passed(self) -> None:
        """An account no entry's access rule allows is refused even for listed commands."""
        rig = self.rig()
        answer = post(rig, "--auth alice localhost alicepw registered_users localhost")
        self.assertEqual(answer.status, 403)

    def test_all_commands_entry(self) -> None:
        """An entry listing all commands lets its callers run anything."""
        rig = self.rig()
        answer = post(rig, "--auth admin localhost secret connected_users_number")
        self.assertEqual((answer.status, answer.text), (200, "0"))

    def test_argument_restrictions(self) -> None:
        """A restricted argument must have exactly the configured value."""
        rig = self.rig()
        ok = post(rig, "--auth robot localhost robotpw change_password alice localhost new")
        self.assertEqual((ok.status, ok.text), (200, "0"))
        refused = post(rig, "--auth robot localhost robotpw change_password admin localhost new")
        self.assertEqual(refused.status, 403)
        self.assertEqual(rig.backend.accounts[("admin", "localhost")], "secret")

    def test_unknown_command(self) -> None:
        """An unknown command is reported as such to an authenticated caller."""
        rig = self.rig()
        answer = post(rig, "--auth robot localhost robotpw no_such_cmd_zz")
        self.assertEqual(answer.status, 200)
        self.assertTrue(answer.text.startswith("Error: unknown command 'no_such_cmd_zz'."))


#: the shape of conf/gateway.yml's rules: ctl may run all, admins all but start/stop,
#: loopback callers two harmless commands, and nothing for mod_rest in particular
SHIPPED_PERMISSIONS = {
    "console commands": {"from": "ejabberd_ctl", "who": "all", "what": "*"},
    "admin access": {"who": "admin", "what": ["*", "!stop", "!start"]},
    "public commands": {
        "who": {"ip": "127.0.0.1/8"},
        "what": ["status", "connected_users_number"],
    },
}


class ApiPermissionsTests(SynchronousTestCase):
    """Command lines are decided by api_permissions as the --auth account or an anonymous
    caller from its address; no rule lets mod_rest run everything (issue 8)."""

    def rig(self, options: Any = None) -> Any:
        return make_resource(options, api_permissions=SHIPPED_PERMISSIONS)

    def test_anonymous_cannot_change_a_password(self) -> None:
        """Anonymous change_password is refused with 403, with or without the empty --auth."""
        rig = self.rig()
        for body in (
            "change_password admin localhost pwned",
            '--auth "" "" "" change_password admin localhost pwned',
        ):
            answer = post(rig, body)
            self.assertEqual(answer.status, 403)
            self.assertEqual(
                answer.text,
                "Error: api_permissions do not let anonymous callers from 127.0.0.1 run "
                "'change_password'; start the command line with --auth USER HOST PASSWORD",
            )
        self.assertEqual(rig.backend.calls, [])
        self.assertEqual(rig.backend.accounts[("admin", "localhost")], "secret")

    def test_anonymous_gets_the_public_commands(self) -> None:
        """Anonymous loopback callers may run what anonymous /api callers may."""
        rig = self.rig()
        self.assertEqual(post(rig, "connected_users_number").text, "0")
        self.assertTrue(post(rig, "status").text.startswith("The node 'xmpp-gateway@testhost'"))
        self.assertIsNone(rig.backend.calls[-1][2].user)
        self.assertEqual(post(rig, "registered_users localhost").status, 403)

    def test_account_cannot_change_anothers_password(self) -> None:
        """An account that is not admin is refused another account's password change."""
        rig = self.rig()
        answer = post(rig, "--auth alice localhost alicepw change_password admin localhost pwned")
        self.assertEqual(
            (answer.status, answer.text),
            (403, "Error: api_permissions do not let alice@localhost run 'change_password'"),
        )
        self.assertEqual(rig.backend.accounts[("admin", "localhost")], "secret")

    def test_admin_may_run_admin_commands(self) -> None:
        """--auth admin runs what api_permissions let admin run, but not stop."""
        rig = self.rig()
        answer = post(rig, "--auth admin localhost secret registered_users localhost")
        self.assertEqual((answer.status, answer.text), (200, "admin\nalice\nrobot"))
        changed = post(rig, "--auth admin localhost secret change_password alice localhost new")
        self.assertEqual((changed.status, changed.text), (200, "0"))
        self.assertEqual(rig.backend.accounts[("alice", "localhost")], "new")
        self.assertEqual(post(rig, "--auth admin localhost secret stop").status, 403)

    def test_wrong_password_is_refused(self) -> None:
        """A wrong --auth password is 401 and runs nothing, even for a public command."""
        rig = self.rig()
        answer = post(rig, "--auth admin localhost wrong status")
        self.assertEqual((answer.status, answer.text), (401, "Error: Invalid authentication data"))
        self.assertEqual(rig.backend.calls, [])

    def test_unknown_commands_and_help_are_not_refused(self) -> None:
        """Unknown commands and ``help`` get ejabberdctl's text, whoever asks."""
        rig = self.rig()
        unknown = post(rig, "no_such_cmd_zz")
        self.assertEqual(unknown.status, 200)
        self.assertTrue(unknown.text.startswith("Error: unknown command 'no_such_cmd_zz'."))
        self.assertEqual(post(rig, "help status").status, 200)

    def test_access_commands_narrow_api_permissions(self) -> None:
        """access_commands narrow what api_permissions allow, and never widen it."""
        rig = self.rig(
            rest_options(
                access_commands=[
                    ("rest_admin", ["registered_users"], {}),
                    ("rest_robots", ["registered_users"], {}),
                ]
            )
        )
        ok = post(rig, "--auth admin localhost secret registered_users localhost")
        self.assertEqual(ok.status, 200)
        narrowed = post(rig, "--auth admin localhost secret change_password alice localhost x")
        self.assertEqual(
            (narrowed.status, narrowed.text),
            (403, "Error: access_commands do not let admin@localhost run 'change_password'"),
        )
        # robot passes access_commands, but api_permissions give it nothing
        robot = post(rig, "--auth robot localhost robotpw registered_users localhost")
        self.assertEqual(
            (robot.status, robot.text),
            (403, "Error: api_permissions do not let robot@localhost run 'registered_users'"),
        )
        self.assertEqual(rig.backend.accounts[("alice", "localhost")], "alicepw")


class StanzaTests(SynchronousTestCase):
    """Bodies starting with ``<`` are stanzas for the component link."""

    def test_readme_wget_example(self) -> None:
        """The README's wget example is queued and answered 200 ``Ok``."""
        rig = make_resource()
        answer = post(rig, WGET_MESSAGE, headers=FORM)
        self.assertEqual((answer.status, answer.text), (200, "Ok"))
        self.assertEqual(answer.content_type, HTML)
        assert rig.sink is not None
        (element,) = rig.sink.submitted
        assert not isinstance(element, str)
        self.assertEqual(etree.tostring(element).decode(), WGET_MESSAGE)

    def test_case_39_malformed(self) -> None:
        """Case 39: malformed XML gets 406 and the rejection text, plus a reason line."""
        rig = make_resource()
        answer = post(rig, '<message to="a@localhost"')
        self.assertEqual(answer.status, 406)
        first, reason = answer.text.split("\n")
        self.assertEqual(first, REJECTED)
        self.assertIn("not well-formed XML", reason)

    def test_case_39_not_a_stanza(self) -> None:
        """Case 39: ``<foo/>`` gets 500 ``Error: xmpp_codec`` plus a reason line."""
        rig = make_resource()
        answer = post(rig, "<foo/>")
        self.assertEqual(answer.status, 500)
        self.assertEqual(
            answer.text, "Error: xmpp_codec\n<foo/> is not a stanza (message, iq or presence)"
        )
        assert rig.sink is not None
        self.assertEqual(rig.sink.submitted, [])

    def test_case_39_no_from(self) -> None:
        """Case 39: an iq without ``from`` is accepted; the link gives it the component's JID.

        ejabberd answered 500 ``Error: badrecord`` (it crashed); we deliberately differ.
        """
        rig = make_resource()
        answer = post(
            rig, "<iq type='get' to='localhost' id='p'><ping xmlns='urn:xmpp:ping'/></iq>"
        )
        self.assertEqual((answer.status, answer.text), (200, "Ok"))

    def test_case_40_ping(self) -> None:
        """Case 40: a ping IQ with ``from`` is queued and answered 200 ``Ok``."""
        rig = make_resource()
        answer = post(rig, PING)
        self.assertEqual((answer.status, answer.text), (200, "Ok"))
        assert rig.sink is not None
        self.assertEqual(len(rig.sink.submitted), 1)

    def test_doctype(self) -> None:
        """A DOCTYPE (entity declarations included) is refused with 406; nothing is expanded."""
        rig = make_resource()
        body = (
            '<!DOCTYPE message [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            "<message to='a@localhost'><body>&b;</body></message>"
        )
        answer = post(rig, body)
        self.assertEqual(
            (answer.status, answer.text),
            (406, f"{REJECTED}\na DOCTYPE is not accepted in a stanza"),
        )

    def test_too_deep(self) -> None:
        """A stanza nested deeper than max_depth is refused with 406 and says the limit."""
        rig = make_resource(max_depth=4)
        ok = post(rig, "<message><a><b><c/></b></a></message>")
        self.assertEqual(ok.status, 200)
        deep = post(rig, "<message><a><b><c><d/></c></b></a></message>")
        self.assertEqual(
            (deep.status, deep.text),
            (406, f"{REJECTED}\nthe stanza is nested deeper than 4 elements"),
        )

    def test_too_large(self) -> None:
        """A body over max_body_bytes is refused with 413, the rejection text and the limit."""
        rig = make_resource(max_body_bytes=64)
        body = "<message to='a@localhost'><body>" + "x" * 64 + "</body></message>"
        answer = post(rig, body)
        self.assertEqual(
            (answer.status, answer.text), (413, f"{REJECTED}\nthe body is larger than 64 bytes")
        )
        self.assertEqual(answer.content_type, HTML)

    def test_destination(self) -> None:
        """``to`` must be one of allowed_destinations, compared as normalised JIDs, exactly."""
        rig = make_resource(rest_options(allowed_destinations=("nolan@localhost",)))
        self.assertEqual(post(rig, WGET_MESSAGE).status, 200)
        self.assertEqual(post(rig, "<message to='Nolan@LocalHost'/>").status, 200)
        full = post(rig, "<message to='nolan@localhost/phone'/>")
        self.assertEqual(
            (full.status, full.text),
            (406, f"{REJECTED}\nnolan@localhost/phone is not in allowed_destinations"),
        )
        other = post(rig, "<message to='eve@localhost'/>")
        self.assertEqual(other.status, 406)
        missing = post(rig, "<message/>")
        self.assertEqual(missing.status, 406)
        self.assertIn("has no 'to'", missing.text)

    def test_stanza_type(self) -> None:
        """A stanza whose element is not in allowed_stanza_types is refused with 406."""
        rig = make_resource(rest_options(allowed_stanza_types=frozenset({"message"})))
        answer = post(rig, "<presence to='a@localhost'/>")
        self.assertEqual(
            (answer.status, answer.text),
            (406, f"{REJECTED}\n<presence/> stanzas are not in allowed_stanza_types"),
        )
        self.assertEqual(post(rig, WGET_MESSAGE).status, 200)

    def test_queue_full(self) -> None:
        """A full queue is answered 503 with the link's message; nothing is claimed sent."""
        rig = make_resource(sink=FakeStanzaSink(refuse=queue_full()))
        answer = post(rig, WGET_MESSAGE)
        self.assertEqual((answer.status, answer.text), (503, f"Error: {QUEUE_FULL}"))
        self.assertEqual(answer.content_type, HTML)

    def test_from_refused(self) -> None:
        """A ``from`` the link's policy refuses is answered 406 with the link's reason."""
        refusal = CommandFailed("'from' eve@evil.example is outside the component's domain")
        rig = make_resource(sink=FakeStanzaSink(refuse=refusal))
        answer = post(rig, "<message from='eve@evil.example' to='a@localhost'/>")
        self.assertEqual((answer.status, answer.text), (406, f"{REJECTED}\n{refusal.message}"))

    def test_link_fault(self) -> None:
        """An internal error in the link is a 500, not a refusal of the stanza."""
        rig = make_resource(sink=FakeStanzaSink(refuse=InternalError()))
        answer = post(rig, WGET_MESSAGE)
        self.assertEqual((answer.status, answer.text), (500, "Error: internal error"))

    def test_no_component(self) -> None:
        """Without a component link, stanzas get 503 with a clear text; commands still run."""
        rig = make_resource(no_sink=True)
        answer = post(rig, WGET_MESSAGE)
        self.assertEqual(answer.status, 503)
        self.assertIn("no XMPP component link is configured", answer.text)
        self.assertEqual(post(rig, "connected_users_number").text, "0")

    def test_codec_errors(self) -> None:
        """Bad stanza attributes get 500 ``Error: xmpp_codec`` with the reason."""
        rig = make_resource()
        cases = {
            "<iq id='1'/>": "an <iq/> needs a 'type' attribute",
            "<iq type='get'/>": "an <iq/> needs an 'id' attribute",
            "<message type='shout'/>": "type 'shout' is not valid for <message/>",
            "<message to='a b@localhost'/>": "'to' is not a valid JID",
            "<message xmlns='urn:other'/>": "unknown namespace",
        }
        for body, reason in cases.items():
            answer = post(rig, body)
            self.assertEqual(answer.status, 500, body)
            first, second = answer.text.split("\n")
            self.assertEqual(first, "Error: xmpp_codec")
            self.assertIn(reason, second)


class IpAndHostTests(SynchronousTestCase):
    """allowed_ips and the Host header."""

    def test_case_42_foreign_host(self) -> None:
        """Case 42: ``Host: 127.0.0.1`` is answered normally.

        mod_rest closed the connection for a Host that is not a vhost with the
        module; we answer.
        """
        rig = make_resource()
        answer = post(rig, "connected_users_number", headers=((b"Host", b"127.0.0.1:5280"),))
        self.assertEqual((answer.status, answer.text), (200, "0"))

    def test_case_42_outside_allowed_ips(self) -> None:
        """Case 42: a POST from outside allowed_ips gets 406 with the address as the reason."""
        rig = make_resource(rest_options(allowed_ips=(_net("127.0.0.0/8"), _net("::1/128"))))
        answer = post(rig, "connected_users_number", ip="10.1.2.3")
        self.assertEqual(
            (answer.status, answer.text), (406, f"{REJECTED}\n10.1.2.3 is not in allowed_ips")
        )
        self.assertEqual(rig.backend.calls, [])
        stanza = post(rig, WGET_MESSAGE, ip="2001:db8::1")
        self.assertEqual(stanza.status, 406)
        assert rig.sink is not None
        self.assertEqual(rig.sink.submitted, [])

    def test_inside_allowed_ips(self) -> None:
        """Callers inside an allowed network, IPv4 or IPv6, are served."""
        rig = make_resource(rest_options(allowed_ips=(_net("127.0.0.0/8"), _net("::1/128"))))
        self.assertEqual(post(rig, "connected_users_number", ip="127.0.0.2").text, "0")
        self.assertEqual(post(rig, WGET_MESSAGE, ip="::1").text, "Ok")


class FormTests(SynchronousTestCase):
    """``application/x-www-form-urlencoded`` bodies."""

    def test_wget_verbatim_command(self) -> None:
        """wget's ``--post-data`` labels the raw command line as a form: it is read as is."""
        rig = make_resource()
        answer = post(rig, "registered_users localhost", headers=FORM)
        self.assertEqual(answer.text, "admin\nalice\nrobot")

    def test_wget_verbatim_plus_kept(self) -> None:
        """A raw stanza labelled as a form keeps its ``+`` and ``%`` characters."""
        rig = make_resource()
        body = "<message to='a@localhost'><body>1+1 is 100%</body></message>"
        self.assertEqual(post(rig, body, headers=FORM).text, "Ok")
        assert rig.sink is not None
        element = rig.sink.submitted[-1]
        assert not isinstance(element, str)
        self.assertEqual(element.findtext("body"), "1+1 is 100%")

    def test_encoded_stanza(self) -> None:
        """A url-encoded stanza (``curl --data-urlencode``) is decoded and queued."""
        rig = make_resource()
        body = (
            "%3Cmessage+to%3D%27a%40localhost%27%3E%3Cbody%3Ehi+there%3C%2Fbody%3E%3C%2Fmessage%3E"
        )
        self.assertEqual(post(rig, body, headers=FORM).text, "Ok")
        assert rig.sink is not None
        element = rig.sink.submitted[-1]
        assert not isinstance(element, str)
        self.assertEqual(element.findtext("body"), "hi there")

    def test_single_field_form(self) -> None:
        """A form of one ``name=value`` field carries its value as the payload."""
        rig = make_resource()
        answer = post(rig, "command=registered_users+localhost", headers=FORM)
        self.assertEqual(answer.text, "admin\nalice\nrobot")

    def test_without_form_type_nothing_is_decoded(self) -> None:
        """Without the form content type an encoded-looking body is a command line as is."""
        rig = make_resource()
        answer = post(rig, "registered_users+localhost")
        self.assertTrue(
            answer.text.startswith("Error: unknown command 'registered_users+localhost'")
        )


class WaitIqTests(SynchronousTestCase):
    """``POST /rest?wait=iq``: the server's answer comes back in the response."""

    def test_answer(self) -> None:
        """The IQ result comes back as ``text/xml``; the link got the timeout."""
        rig = make_resource()
        request = make_request(PING.encode(), path="/rest?wait=iq")
        pending = render(rig.resource, request)
        self.assertIsNone(pending.status)
        assert rig.sink is not None
        ((element, timeout, deferred),) = rig.sink.iqs
        self.assertEqual((element.get("id"), timeout), ("p", 10.0))
        result = "<iq type='result' from='localhost' to='localhost' id='p'/>"
        deferred.callback(result)
        answer = answer_of(request)
        self.assertEqual((answer.status, answer.text), (200, result))
        self.assertEqual(answer.content_type, "text/xml; charset=utf-8")
        self.assertEqual(rig.sink.submitted, [])

    def test_timeout(self) -> None:
        """No answer within iq_timeout gives 504, and the link's wait is cancelled."""
        rig = make_resource(iq_timeout=5.0)
        request = make_request(PING.encode(), path="/rest?wait=iq")
        render(rig.resource, request)
        rig.clock.advance(4.9)
        self.assertIsNone(request.responseCode)
        rig.clock.advance(0.1)
        answer = answer_of(request)
        self.assertEqual(
            (answer.status, answer.text), (504, "Error: no answer to the IQ within 5 seconds")
        )
        assert rig.sink is not None
        self.assertEqual(rig.sink.cancelled, 1)

    def test_link_timeout(self) -> None:
        """A timeout reported by the link itself also gives 504."""
        rig = make_resource()
        request = make_request(PING.encode(), path="/rest?wait=iq")
        render(rig.resource, request)
        assert rig.sink is not None
        rig.sink.iqs[0][2].errback(TimeoutError("no answer"))
        self.assertEqual(answer_of(request).status, 504)

    def test_client_gone(self) -> None:
        """A client that goes away cancels the wait."""
        rig = make_resource()
        request = make_request(PING.encode(), path="/rest?wait=iq")
        render(rig.resource, request)
        request.processingFailed(Failure(ConnectionError("gone")))
        assert rig.sink is not None
        self.assertEqual(rig.sink.cancelled, 1)
        self.assertEqual(request.written, [])

    def test_misuse(self) -> None:
        """wait=iq with a message, an iq result or a command line, or another wait value: 406."""
        rig = make_resource()
        cases = {
            ("/rest?wait=iq", WGET_MESSAGE): "not <message/>",
            ("/rest?wait=iq", "<iq type='result' id='1'/>"): "not <iq type='result'/>",
            ("/rest?wait=iq", "connected_users_number"): "needs an <iq type='get'/>",
            ("/rest?wait=all", PING): "wait=all is not supported",
        }
        for (path, body), reason in cases.items():
            answer = post(rig, body, path=path)
            self.assertEqual(answer.status, 406, body)
            first, second = answer.text.split("\n")
            self.assertEqual(first, REJECTED)
            self.assertIn(reason, second)
        assert rig.sink is not None
        self.assertEqual((rig.sink.iqs, rig.sink.submitted), ([], []))
        self.assertEqual(rig.backend.calls, [])

    def test_queue_full(self) -> None:
        """An IQ that cannot be queued gets 503."""
        rig = make_resource(sink=FakeStanzaSink(refuse=Unavailable("link down and queue full")))
        answer = post(rig, PING, path="/rest?wait=iq")
        self.assertEqual((answer.status, answer.text), (503, "Error: link down and queue full"))


class ConstructionTests(SynchronousTestCase):
    """Nonsense limits are refused when the resource is built."""

    def test_limits(self) -> None:
        """max_depth below 1 and a non-positive iq_timeout raise ``ValueError``."""
        with self.assertRaises(ValueError):
            make_resource(max_depth=0)
        with self.assertRaises(ValueError):
            make_resource(iq_timeout=0)
        self.assertIsInstance(make_resource().resource, RestResource)


def _net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)


_STATUSES = {200, 400, 401, 403, 406, 413, 500, 503, 504}


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=200).map(lambda b: b"<" + b),
        st.text(max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from(
            [WGET_MESSAGE.encode(), PING.encode(), b"--auth a b", b"--auth admin localhost x y"]
        ),
    ),
    form=st.booleans(),
    path=st.sampled_from(["/rest", "/rest?wait=iq", "/rest?wait=x"]),
)
def test_never_raises(body: bytes, form: bool, path: str) -> None:
    """Any body is answered with one of the documented statuses, and nothing is logged as a bug."""
    rig = make_resource()
    failures: list[LogEvent] = []

    def observe(event: LogEvent) -> None:
        if "log_failure" in event:
            failures.append(event)

    observer = cast(ILogObserver, observe)
    globalLogPublisher.addObserver(observer)
    try:
        request = make_request(body, path=path, headers=FORM if form else ())
        render(rig.resource, request)
        rig.clock.advance(60)  # IQs waiting for an answer time out
        answer = answer_of(request)
    finally:
        globalLogPublisher.removeObserver(observer)
    assert failures == []
    assert answer.finished == 1
    assert answer.status in _STATUSES
    assert answer.content_type == HTML or (answer.status == 200 and "?wait=iq" in path)
