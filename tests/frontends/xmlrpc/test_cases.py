"""The XML-RPC cases of the wire reference (§7, cases 24–34), in both API profiles.

A is ejabberd 23.01 (profile ``"23.01"``), B is 24.12 (profile ``"24.12"``).
Where ejabberd drops the connection the gateway answers a fault instead, and
the test says so.
"""

from __future__ import annotations

import pytest

from gateway import __version__
from tests.frontends.xmlrpc.helpers import (
    ADMIN,
    NODE,
    call,
    i,
    make_resource,
    post,
    raw_call,
    s,
    struct_xml,
)

PROFILES = ("24.12", "23.01")
#: ``status`` in each profile: that release's first line, then our product and version
STATUS_TEXTS = {
    "23.01": f"The node {NODE} is started. Status: startedejabberd 23.01"
    f" is running in that node\nxmpp-api-gateway {__version__}",
    "24.12": f"The node {NODE} is started. Status: started  ejabberd 24.12"
    f" is running in that node\nxmpp-api-gateway {__version__}",
}


def test_case_24_status_24_12() -> None:
    """Case 24 (B): ``status`` with no params answers ``{text: …}`` only."""
    resource, _ = make_resource("24.12")
    reply = call(resource, "status")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/xml"
    assert reply.loads() == {"text": STATUS_TEXTS["24.12"]}


def test_case_24_status_23_01() -> None:
    """Case 24 (A): ``status`` answers ``{res: 0, text: …}``."""
    resource, _ = make_resource("23.01")
    assert call(resource, "status").loads() == {"res": 0, "text": STATUS_TEXTS["23.01"]}


def test_case_24_exact_bytes() -> None:
    """Case 24: the body is the XML declaration directly followed by compact XML."""
    resource, _ = make_resource("24.12")
    reply = call(resource, "status")
    text = STATUS_TEXTS["24.12"]
    assert (
        reply.body
        == (
            '<?xml version="1.0"?><methodResponse><params><param><value><struct><member>'
            f"<name>text</name><value><string>{text}</string></value></member></struct>"
            "</value></param></params></methodResponse>"
        ).encode()
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_24_status_with_only_the_auth_struct(profile: str) -> None:
    """Case 24: a call whose only param is the auth struct runs without arguments."""
    resource, _ = make_resource(profile)
    reply = call(resource, "status", ADMIN)
    assert reply.loads()["text"] == STATUS_TEXTS[profile]


def test_case_24_auth_struct_extra_members_ignored() -> None:
    """§1.1: a complete auth struct authenticates; extra members such as ``admin`` are ignored."""
    resource, backend = make_resource()
    auth = {"user": "ADMIN", "server": "localhost", "password": "secret", "admin": True}
    assert call(resource, "registered_users", auth, {"host": "localhost"}).loads() == {
        "users": ["admin", "alice"]
    }
    assert backend.calls[0][2].jid == "admin@localhost"


def test_case_24_incomplete_auth_struct_is_arguments() -> None:
    """§1.1: a struct with ``user`` and ``server`` but no secret is the argument struct."""
    resource, backend = make_resource()
    fault = call(resource, "status", {"user": "admin", "server": "localhost"}).fault()
    assert fault.faultString == (
        "Error -120\nThe call provided additional unused arguments:\n"
        '[{user,<<"admin">>},{server,<<"localhost">>}]'
    )
    assert backend.calls == []


@pytest.mark.parametrize("profile", PROFILES)
def test_case_25_unknown_method_is_a_fault(profile: str) -> None:
    """Case 25: methodName ``ok`` gets fault -112.

    Deliberate difference: ejabberd closes the connection without a response.
    """
    resource, _ = make_resource(profile)
    fault = call(resource, "ok").fault()
    assert fault.faultCode == -112
    assert fault.faultString == "Error -112\nUnknown call: {call,ok,[{struct,[]}]}"


@pytest.mark.parametrize("profile", PROFILES)
def test_case_25_unknown_method_with_arguments(profile: str) -> None:
    """Case 25: an unknown method with an argument struct names it in the -112 text."""
    resource, _ = make_resource(profile)
    fault = call(resource, "no_such_cmd", {"a": 1}).fault()
    assert fault.faultString == ("Error -112\nUnknown call: {call,no_such_cmd,[{struct,[{a,1}]}]}")


@pytest.mark.parametrize("profile", PROFILES)
def test_case_26_anonymous_is_forbidden(profile: str) -> None:
    """Case 26: anonymous ``registered_users`` is -118 with the original arguments."""
    resource, backend = make_resource(profile)
    fault = call(resource, "registered_users", {"host": "localhost"}).fault()
    assert fault.faultCode == -118
    assert fault.faultString == (
        "Error -118\nA problem '{error,access_rules_unauthorized}' occurred executing the "
        'command registered_users with arguments\n[{host,<<"localhost">>}]'
    )
    assert backend.calls == []


@pytest.mark.parametrize("profile", PROFILES)
def test_case_27_wrong_password(profile: str) -> None:
    """Case 27: a wrong password in the auth struct is -118 ``Invalid authentication data``."""
    resource, _ = make_resource(profile)
    auth = {"user": "nobody", "server": "localhost", "password": "x"}
    fault = call(resource, "status", auth, {}).fault()
    assert (fault.faultCode, fault.faultString) == (-118, "Error -118\nInvalid authentication data")


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    "token",
    ["unknown", "old"],
    ids=["unknown token", "expired token"],
)
def test_case_27_bad_token(profile: str, token: str) -> None:
    """Case 27: an unknown or expired token is -118 ``Invalid oauth token``."""
    resource, _ = make_resource(profile)
    auth = {"user": "admin", "server": "localhost", "token": token}
    fault = call(resource, "status", auth, {}).fault()
    assert (fault.faultCode, fault.faultString) == (-118, "Error -118\nInvalid oauth token")


def test_case_27_token_of_another_user() -> None:
    """Case 27: a valid token presented for another account is ``Invalid oauth token``."""
    resource, _ = make_resource()
    auth = {"user": "alice", "server": "localhost", "token": "good"}
    assert call(resource, "status", auth).fault().faultString == "Error -118\nInvalid oauth token"


def test_case_27_token_authenticates() -> None:
    """Case 27: a valid token for its owner authenticates (admin may list users)."""
    resource, backend = make_resource()
    auth = {"user": "Admin", "server": "LOCALHOST", "token": "good"}
    assert call(resource, "registered_users", auth, {"host": "localhost"}).loads() == {
        "users": ["admin", "alice"]
    }
    caller = backend.calls[0][2]
    assert (caller.user, caller.host, caller.oauth_scopes) == (
        "admin",
        "localhost",
        frozenset({"ejabberd:admin"}),
    )
    assert caller.frontend == "ejabberd_xmlrpc"


@pytest.mark.parametrize("profile", PROFILES)
def test_case_28_string_for_integer(profile: str) -> None:
    """Case 28: ``<string>5</string>`` for an integer argument is -122."""
    resource, _ = make_resource(profile)
    fault = call(resource, "delete_old_users", ADMIN, {"days": "5"}).fault()
    assert fault.faultCode == -122
    assert fault.faultString == (
        "Error -122\nParameter '<<\"5\">>' can't be coerced to type 'integer'"
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_29_missing_argument(profile: str) -> None:
    """Case 29: ``registered_users {}`` is -116, before the (failing) permission check."""
    resource, _ = make_resource(profile)
    fault = call(resource, "registered_users", {}).fault()
    assert fault.faultCode == -116
    assert fault.faultString == "Error -116\nRequired attribute 'host' not found:\n[]"


@pytest.mark.parametrize("profile", PROFILES)
def test_case_29_unused_argument(profile: str) -> None:
    """Case 29: ``status {foo: "x"}`` is -120 listing the leftover."""
    resource, _ = make_resource(profile)
    fault = call(resource, "status", {"foo": "x"}).fault()
    assert fault.faultCode == -120
    assert fault.faultString == (
        'Error -120\nThe call provided additional unused arguments:\n[{foo,<<"x">>}]'
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_29_duplicate_argument(profile: str) -> None:
    """Case 29: a duplicated ``host`` is -114 with the list still unconsumed."""
    resource, _ = make_resource(profile)
    reply = raw_call(resource, "registered_users", struct_xml(("host", s("a")), ("host", s("b"))))
    fault = reply.fault()
    assert fault.faultCode == -114
    assert fault.faultString == (
        'Error -114\nAttribute \'host\' duplicated:\n[{host,<<"a">>},{host,<<"b">>}]'
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_30_bare_string_param(profile: str) -> None:
    """Case 30: a bare ``<string>`` param is -112 quoting the whole call."""
    resource, _ = make_resource(profile)
    fault = call(resource, "registered_users", "localhost").fault()
    assert fault.faultCode == -112
    assert fault.faultString == (
        'Error -112\nUnknown call: {call,registered_users,[<<"localhost">>]}'
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_30_two_structs(profile: str) -> None:
    """§1 dispatch: two argument structs (no auth) are -112 ``{call,status,[{struct,[]},…]}``."""
    resource, _ = make_resource(profile)
    fault = call(resource, "status", {}, {}).fault()
    assert fault.faultString == "Error -112\nUnknown call: {call,status,[{struct,[]},{struct,[]}]}"


@pytest.mark.parametrize("profile", PROFILES)
def test_case_31_truncated_xml(profile: str) -> None:
    """Case 31: a lone ``<methodCall>`` is 400 ``<h1>Malformed XML</h1>``."""
    resource, _ = make_resource(profile)
    reply = post(resource, b"<methodCall>")
    assert reply.status == 400
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.body == (
        b"<?xml version='1.0'?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\""
        b' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<h1>Malformed XML</h1>'
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_31_not_a_method_call(profile: str) -> None:
    """Case 31: ``<foo/>`` is 400 ``<h1>Malformed Request</h1>``."""
    resource, _ = make_resource(profile)
    reply = post(resource, b"<foo/>")
    assert reply.status == 400
    assert reply.body.endswith(b"\n<h1>Malformed Request</h1>")


@pytest.mark.parametrize("method", [b"GET", b"PUT", b"DELETE"])
def test_case_31_not_post(method: bytes) -> None:
    """Case 31: any method but POST is 400 with the bare ``<h1>400 Bad Request</h1>``."""
    resource, _ = make_resource()
    reply = post(resource, b"", method=method)
    assert reply.status == 400
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.body.endswith(b'dtd">\n<h1>400 Bad Request</h1>')


def test_case_31_head() -> None:
    """Case 31 / §0: HEAD is refused like GET, with no body and ``Content-Length: 0``."""
    resource, _ = make_resource()
    reply = post(resource, b"", method=b"HEAD")
    assert (reply.status, reply.body, reply.headers["content-length"]) == (400, b"", "0")


def test_case_31_empty_post() -> None:
    """§0: a POST without a body gets ejabberd_http's full XHTML 400 page."""
    resource, _ = make_resource()
    reply = post(resource, b"")
    assert reply.status == 400
    assert reply.body.startswith(b"<?xml version='1.0'?>\n<!DOCTYPE html PUBLIC")
    assert b"<body><h1>400 Bad Request</h1></body></html>" in reply.body


@pytest.mark.parametrize("profile", PROFILES)
def test_case_32_echothis(profile: str) -> None:
    """Case 32: ``echothis "hi"`` returns the bare ``<string>hi</string>``."""
    resource, _ = make_resource(profile)
    reply = call(resource, "echothis", "hi")
    assert b"<param><value><string>hi</string></value></param>" in reply.body
    assert reply.loads() == "hi"


@pytest.mark.parametrize("profile", PROFILES)
def test_case_32_multhis(profile: str) -> None:
    """Case 32: ``multhis {a:3, b:4}`` returns ``<int>12</int>``."""
    resource, _ = make_resource(profile)
    reply = raw_call(resource, "multhis", struct_xml(("a", i(3)), ("b", i(4))))
    assert b"<param><value><int>12</int></value></param>" in reply.body


def test_case_32_new_style_debug_methods() -> None:
    """§1.3: ``echothisnew`` answers ``{repeated}`` and ``multhisnew`` answers ``{mu}``."""
    resource, _ = make_resource()
    assert call(resource, "echothisnew", {"sentence": "yo"}).loads() == {"repeated": "yo"}
    reply = raw_call(resource, "multhisnew", struct_xml(("a", i(6)), ("b", i(7))))
    assert reply.loads() == {"mu": 42}


def test_case_32_debug_methods_after_auth() -> None:
    """§1.3: debug methods run after the auth struct is taken off."""
    resource, _ = make_resource()
    assert call(resource, "echothis", ADMIN, [1, "two"]).loads() == [1, "two"]


def test_debug_method_checks_credentials() -> None:
    """A debug method with a wrong auth struct is fault -118, as ejabberd authenticates first."""
    resource, _ = make_resource()
    wrong = {"user": "admin", "server": "localhost", "password": "nope"}
    fault = call(resource, "echothis", wrong, "hi").fault()
    assert fault.faultString == "Error -118\nInvalid authentication data"


def test_case_32_multhis_with_text_is_a_fault() -> None:
    """§1.4: ``multhis`` on non-numbers is fault -118 (ejabberd crashes and drops the line)."""
    resource, _ = make_resource()
    reply = raw_call(resource, "multhis", struct_xml(("a", s("x")), ("b", i(4))))
    fault = reply.fault()
    assert fault.faultCode == -118
    assert fault.faultString == (
        "Error -118\nA problem 'badarith' occurred executing the command multhis with "
        'arguments\n[{a,<<"x">>},{b,4}]'
    )


def test_case_32_wrong_debug_shape_falls_through() -> None:
    """§1.3: ``echothisnew`` with other members is no debug call, so it is an unknown call."""
    resource, _ = make_resource()
    fault = call(resource, "echothisnew", {"words": "x"}).fault()
    assert fault.faultCode == -112


def test_case_33_registered_users_24_12() -> None:
    """Case 33 (B): authorised ``registered_users`` is ``{users: [<string>…]}``."""
    resource, _ = make_resource("24.12")
    assert call(resource, "registered_users", ADMIN, {"host": "localhost"}).loads() == {
        "users": ["admin", "alice"]
    }


def test_case_33_registered_users_23_01() -> None:
    """Case 33 (A): authorised ``registered_users`` is ``{users: [{username: …}…]}``."""
    resource, _ = make_resource("23.01")
    assert call(resource, "registered_users", ADMIN, {"host": "localhost"}).loads() == {
        "users": [{"username": "admin"}, {"username": "alice"}]
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_case_34_register_conflict(profile: str) -> None:
    """Case 34: ``register`` on an existing user is -118 ``'{error,"Msg"}'`` in both releases."""
    resource, _ = make_resource(profile)
    args = {"user": "admin", "host": "localhost", "password": "x"}
    fault = call(resource, "register", ADMIN, args).fault()
    assert fault.faultCode == -118
    assert fault.faultString == (
        "Error -118\nA problem '{error,\"User admin@localhost already registered\"}' occurred "
        "executing the command register with arguments\n"
        '[{user,<<"admin">>},{host,<<"localhost">>},{password,<<"x">>}]'
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_34_register_success(profile: str) -> None:
    """Case 34: a successful ``register`` is a restuple shaped per release."""
    resource, backend = make_resource(profile)
    args = {"user": "bob", "host": "localhost", "password": "pw"}
    value = call(resource, "register", ADMIN, args).loads()
    text = "User bob@localhost successfully registered"
    assert value == ({"text": text} if profile == "24.12" else {"res": 0, "text": text})
    assert backend.accounts[("bob", "localhost")] == "pw"


def test_case_34_rescode_error_24_12() -> None:
    """Case 34 (B): a rescode command answering ``{error,_}`` is ``{res: 1}``."""
    resource, _ = make_resource("24.12")
    args = {"user": "alice", "host": "localhost", "resource": "r", "reason": "bye"}
    assert call(resource, "kick_session", ADMIN, args).loads() == {"res": 1}


def test_case_34_rescode_error_23_01() -> None:
    """Case 34 (A): a rescode command answering ``{error,_}`` is a -118 fault."""
    resource, _ = make_resource("23.01")
    args = {"user": "alice", "host": "localhost", "resource": "r", "reason": "bye"}
    fault = call(resource, "kick_session", ADMIN, args).fault()
    assert fault.faultCode == -118
    assert fault.faultString.startswith(
        "Error -118\nA problem '{error,\"No such session\"}' occurred executing the command "
        "kick_session with arguments\n[{"
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_case_34_rescode_true_and_false(profile: str) -> None:
    """Case 34 / §1 table: rescode ``true`` is ``{res: 0}``, ``false`` is ``{res: 1}``."""
    resource, _ = make_resource(profile)
    known = {"user": "alice", "host": "localhost"}
    unknown = {"user": "zed", "host": "localhost"}
    assert call(resource, "check_account", ADMIN, known).loads() == {"res": 0}
    assert call(resource, "check_account", ADMIN, unknown).loads() == {"res": 1}


@pytest.mark.parametrize(
    ("secret", "message"),
    [({"password": 7}, "Invalid authentication data"), ({"token": 7}, "Invalid oauth token")],
    ids=["password", "token"],
)
def test_case_27_non_text_secret(secret: dict[str, int], message: str) -> None:
    """Case 27: a complete auth struct with a non-text secret is refused, not ignored."""
    resource, _ = make_resource()
    auth = {"user": "admin", "server": "localhost", **secret}
    assert call(resource, "status", auth).fault().faultString == f"Error -118\n{message}"
