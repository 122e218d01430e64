"""The sequence of calls the differential suite sends to ejabberd 23.01 and to the gateway.

The sequence builds its own starting state through the API (accounts, rosters, rooms, groups,
vCards …) and then exercises every command the embedded backend runs in the 23.01 profile,
with successful calls and the usual mistakes: an unknown user, host or room, an argument of
the wrong type or missing, a malformed JID, a bad password, a caller without permission.

Each ``Step`` is dialect-neutral: its ``args`` are the ``/api`` JSON body and the XML-RPC
argument struct alike.  Where the two dialects need different shapes (lists in 23.01 XML-RPC
are arrays of one-member structs named after the element), ``xmlrpc`` holds the XML-RPC params
instead.  A call is named ``<dialect> <command> <case>``; docs/compatibility.md refers to the
differences by that name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.compat.harness import ADMIN, MUC_SERVICE, VHOST

__all__ = ["DIALECTS", "Ref", "Step", "files_for", "steps"]

DIALECTS = ("api", "xmlrpc")

#: a time far in the past (2020-01-01T00:00:00Z) for set_last, so delete_old_users finds it
OLD = 1577836800
# ejabberd compares check_password_hash digests as upper-case hex
SHA_SECRET = hashlib.sha1(b"password").hexdigest().upper()
MD5_SECRET = hashlib.md5(b"password").hexdigest().upper()

# What varies from run to run in some answers (applied to both sides of those calls only).
TOKEN = (r"\b[A-Za-z0-9]{32}\b", "<token>")
DIGEST = (r"\bsha256:[0-9a-f]{64}\b", "<token>")
SECONDS = (r"\b\d+ seconds\b", "<n> seconds")
ANY_INT = (r"^\d+$", "<int>")


@dataclass(frozen=True)
class Ref:
    """A value captured from an earlier answer of the same server (e.g. an issued token)."""

    name: str


@dataclass(frozen=True)
class Step:
    """One call, sent in each dialect (or only in ``only``) to both servers.

    ``auth`` is ``"admin"`` (the admin's password), ``"none"`` (anonymous), ``"badpass"``
    (the admin with a wrong password) or ``"nobody"`` (an account that does not exist).
    ``raw_api`` is sent as the ``/api`` body instead of ``args`` as JSON.  ``masks`` are
    regular expressions (with replacements) for the parts of these answers that differ from
    run to run; ``sort`` compares list answers whose order the server does not define as
    sorted; ``capture`` keeps the first ``token`` found in the answer under that name.
    """

    command: str
    case: str
    args: Mapping[str, Any] | None = field(default_factory=dict)
    xmlrpc: tuple[Any, ...] | None = None
    raw_api: bytes | None = None
    auth: str = "admin"
    only: str | None = None
    masks: tuple[tuple[str, str], ...] = ()
    sort: bool = False
    capture: str | None = None

    def id(self, dialect: str) -> str:
        """The call's name in reports and in docs/compatibility.md."""
        return f"{dialect} {self.command} {self.case}"


def _s(command: str, case: str, args: Mapping[str, Any] | None = None, **kw: Any) -> Step:
    return Step(command, case, {} if args is None else dict(args), **kw)


def _u(user: str, **more: Any) -> dict[str, Any]:
    """``{"user": user, "host": VHOST, **more}``."""
    return {"user": user, "host": VHOST, **more}


def _room(name: str, **more: Any) -> dict[str, Any]:
    """``{"name": name, "service": MUC_SERVICE, **more}``."""
    return {"name": name, "service": MUC_SERVICE, **more}


def _x_list(element: str, values: list[Any]) -> list[dict[str, Any]]:
    """A 23.01 XML-RPC list argument: one single-member struct per element."""
    return [{element: value} for value in values]


def _x_tuple(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A 23.01 XML-RPC tuple argument: an array holding one struct of the fields."""
    return [dict(fields)]


def files_for(directory: Path) -> dict[str, str]:
    """The input files the file commands read (name -> content), written into ``directory``."""
    return {
        "rooms.txt": f"filea@{MUC_SERVICE}\nfileb@{MUC_SERVICE}\n",
        "badrooms.txt": "not a room jid at all\n",
        "roster.txt": '[{<<"bob">>, <<"localhost">>, <<"Pushed">>, <<"Bob">>}].\n',
        "roster_all.txt": (
            '[{<<"carol">>, <<"localhost">>, <<"All">>, <<"Carol">>},'
            ' {<<"dave">>, <<"localhost">>, <<"All">>, <<"Dave">>}].\n'
        ),
    }


def steps(files: Path) -> list[Step]:
    """Every call of the comparison, in order; ``files`` holds ``files_for``'s files."""
    rooms_file = str(files / "rooms.txt")
    j = f"@{VHOST}"
    sub_nodes = "urn:xmpp:mucsub:nodes:messages,urn:xmpp:mucsub:nodes:affiliations"
    bookmarks = (
        "<storage xmlns='storage:bookmarks'>"
        f"<conference jid='r1@{MUC_SERVICE}' autojoin='true' name='R1'/></storage>"
    )
    nested = (
        "<query xmlns='compat:outer'><item xmlns='compat:inner' a='1'>text</item>"
        "<other>x &amp; y</other></query>"
    )
    s: list[Step] = [
        # -- status and the protocol edges ---------------------------------------------------
        _s("status", "admin", None, xmlrpc=()),
        _s("status", "anonymous", None, xmlrpc=(), auth="none"),
        _s("status", "extra-argument", {"foo": "x"}),
        _s("no_such_command", "unknown-command"),
        # "ok" is no command but an atom ejabberd knows, which mod_http_api tells apart
        _s("ok", "atom-not-command"),
        _s("get_roster_count", "newer-command", _u("admin")),
        _s("status", "malformed-json", raw_api=b"{not json", only="api"),
        _s("status", "json-array-body", raw_api=b"[]", only="api"),
        _s("registered_users", "bare-string-param", xmlrpc=(VHOST,), only="xmlrpc"),
        _s("registered_users", "two-structs", xmlrpc=({"host": VHOST}, {}), only="xmlrpc"),
        # -- accounts -------------------------------------------------------------------------
        *(
            _s("register", f"ok-{name}", _u(name, password=f"{name}-pw"))
            for name in ("alice", "bob", "carol", "dave", "erin", "frank", "grace")
        ),
        _s("register", "uppercase-user", _u("Heidi", password="heidi-pw")),
        _s("register", "already-registered", _u("alice", password="other")),
        _s("register", "unknown-host", {"user": "zed", "host": "nohost.example", "password": "x"}),
        _s("register", "missing-password", _u("zed")),
        _s("register", "wrong-type-password", _u("zed", password=5)),
        _s("register", "malformed-user-at", _u("@@", password="x")),
        _s("register", "malformed-user-space", _u("not a jid", password="x")),
        _s("register", "empty-user", _u("", password="x")),
        _s("unregister", "empty-user", _u("")),
        _s("register", "empty-password", _u("zed", password="")),
        _s("register", "extra-argument", _u("zed", password="x", extra="y")),
        _s("register", "anonymous", _u("zed", password="x"), auth="none"),
        _s("register", "bad-password", _u("zed", password="x"), auth="badpass"),
        _s("register", "unknown-caller", _u("zed", password="x"), auth="nobody"),
        _s("registered_users", "ok", {"host": VHOST}),
        _s("registered_users", "unknown-host", {"host": "nohost.example"}),
        _s("registered_users", "missing-host"),
        _s("registered_users", "wrong-type-host", {"host": 5}),
        _s("registered_users", "anonymous", {"host": VHOST}, auth="none"),
        _s("registered_users", "bad-password", {"host": VHOST}, auth="badpass"),
        _s("check_account", "exists", _u("alice")),
        _s("check_account", "unknown-user", _u("nobody")),
        _s("check_account", "unknown-host", {"user": "alice", "host": "nohost.example"}),
        _s("check_account", "uppercase", _u("ALICE")),
        _s("check_account", "malformed-user", _u("@@")),
        _s("check_account", "missing-host", {"user": "alice"}),
        _s("check_password", "right", _u("alice", password="alice-pw")),
        _s("check_password", "wrong", _u("alice", password="nope")),
        _s("check_password", "unknown-user", _u("nobody", password="x")),
        _s("check_password", "unknown-host", {"user": "a", "host": "no.example", "password": "x"}),
        _s("check_password", "missing-password", _u("alice")),
        _s("check_password", "wrong-type", _u("alice", password=12)),
        _s("change_password", "ok", _u("grace", newpass="password")),
        _s("change_password", "unknown-user", _u("nobody", newpass="x")),
        _s("change_password", "unknown-host", {"user": "a", "host": "no.example", "newpass": "x"}),
        _s("change_password", "missing-newpass", _u("grace")),
        _s("change_password", "malformed-user", _u("@@", newpass="x")),
        _s("check_password", "after-change", _u("grace", password="password")),
        _s("check_password", "old-after-change", _u("grace", password="grace-pw")),
        _s(
            "check_password_hash",
            "sha-right-registered",
            _u(
                "alice",
                passwordhash=hashlib.sha1(b"alice-pw").hexdigest().upper(),
                hashmethod="sha",
            ),
        ),
        _s(
            "check_password_hash",
            "sha-lowercase-hex",
            _u("alice", passwordhash=hashlib.sha1(b"alice-pw").hexdigest(), hashmethod="sha"),
        ),
        _s(
            "check_password_hash",
            "sha-right",
            _u("grace", passwordhash=SHA_SECRET, hashmethod="sha"),
        ),
        _s(
            "check_password_hash",
            "md5-right",
            _u("grace", passwordhash=MD5_SECRET, hashmethod="md5"),
        ),
        _s(
            "check_password_hash", "sha-wrong", _u("grace", passwordhash="0" * 40, hashmethod="sha")
        ),
        _s(
            "check_password_hash",
            "unknown-method",
            _u("grace", passwordhash=SHA_SECRET, hashmethod="whirlpool"),
        ),
        _s(
            "check_password_hash",
            "unknown-user",
            _u("nobody", passwordhash=SHA_SECRET, hashmethod="sha"),
        ),
        _s("check_password_hash", "missing-method", _u("grace", passwordhash=SHA_SECRET)),
        # -- last activity --------------------------------------------------------------------
        _s("get_last", "never-logged-in", _u("alice")),
        _s("set_last", "ok", _u("bob", timestamp=OLD + 3600, status="Gone fishing")),
        _s("get_last", "after-set-last", _u("bob")),
        _s("set_last", "old", _u("frank", timestamp=OLD, status="Long ago")),
        _s(
            "set_last",
            "unknown-host",
            {"user": "a", "host": "no.example", "timestamp": 1, "status": ""},
        ),
        _s("set_last", "wrong-type-timestamp", _u("bob", timestamp="yesterday", status="x")),
        _s("set_last", "numeric-string-timestamp", _u("bob", timestamp="5", status="x")),
        _s("set_last", "missing-status", _u("bob", timestamp=OLD)),
        _s("get_last", "unknown-user", _u("nobody")),
        _s("get_last", "unknown-host", {"user": "alice", "host": "nohost.example"}),
        _s("get_last", "malformed-user", _u("@@")),
        _s("get_last", "malformed-user-space", _u("not a jid")),
        _s("get_last", "missing-user", {"host": VHOST}),
        # -- vCards ---------------------------------------------------------------------------
        _s("set_vcard", "fn", _u("alice", name="FN", content="Alice Liddell")),
        _s("get_vcard", "fn", _u("alice", name="FN")),
        _s("set_vcard", "nickname", _u("alice", name="NICKNAME", content="Ally")),
        _s("get_vcard", "field-not-set", _u("alice", name="URL")),
        _s("get_vcard", "no-vcard", _u("bob", name="FN")),
        _s("get_vcard", "unknown-user", _u("nobody", name="FN")),
        _s("get_vcard", "unknown-host", {"user": "alice", "host": "no.example", "name": "FN"}),
        _s("get_vcard", "missing-name", _u("alice")),
        _s("set_vcard", "wrong-type", _u("alice", name="FN", content=7)),
        _s("set_vcard", "lowercase-field", _u("carol", name="fn", content="Carol C")),
        _s("get_vcard", "lowercase-field", _u("carol", name="fn")),
        _s("set_vcard2", "n-given", _u("alice", name="N", subname="GIVEN", content="Alice")),
        _s("set_vcard2", "n-family", _u("alice", name="N", subname="FAMILY", content="Liddell")),
        _s("get_vcard2", "n-given", _u("alice", name="N", subname="GIVEN")),
        _s("get_vcard2", "subfield-not-set", _u("alice", name="N", subname="MIDDLE")),
        _s("get_vcard2", "unknown-user", _u("nobody", name="N", subname="GIVEN")),
        _s(
            "set_vcard2_multi",
            "org-units",
            _u("alice", name="ORG", subname="ORGUNIT", contents=["Tea", "Croquet"]),
            xmlrpc=(
                _u(
                    "alice",
                    name="ORG",
                    subname="ORGUNIT",
                    contents=_x_list("value", ["Tea", "Croquet"]),
                ),
            ),
        ),
        _s("get_vcard2_multi", "org-units", _u("alice", name="ORG", subname="ORGUNIT")),
        _s("get_vcard2_multi", "not-set", _u("bob", name="ORG", subname="ORGUNIT")),
        _s("get_vcard2", "first-of-multi", _u("alice", name="ORG", subname="ORGUNIT")),
        _s(
            "set_vcard2_multi",
            "wrong-type-contents",
            _u("alice", name="ORG", subname="ORGUNIT", contents="Tea"),
        ),
        _s("set_nickname", "ok", _u("bob", nickname="Bobby")),
        _s("get_vcard", "after-set-nickname", _u("bob", name="NICKNAME")),
        _s("set_nickname", "missing-nickname", _u("bob")),
        # -- private storage ------------------------------------------------------------------
        _s("private_set", "bookmarks", _u("alice", element=bookmarks)),
        _s("private_get", "bookmarks", _u("alice", element="storage", ns="storage:bookmarks")),
        _s("private_set", "nested-namespaces", _u("alice", element=nested)),
        _s("private_get", "nested-namespaces", _u("alice", element="query", ns="compat:outer")),
        _s("private_get", "not-stored", _u("alice", element="query", ns="compat:none")),
        _s("private_get", "unknown-user", _u("nobody", element="storage", ns="storage:bookmarks")),
        _s("private_set", "malformed-xml", _u("alice", element="<storage xmlns='x'>")),
        _s("private_set", "no-namespace", _u("alice", element="<storage/>")),
        _s("private_set", "not-xml", _u("alice", element="just text")),
        _s("private_get", "missing-ns", _u("alice", element="storage")),
        # -- rosters --------------------------------------------------------------------------
        _s(
            "add_rosteritem",
            "ok",
            {
                "localuser": "alice",
                "localhost": VHOST,
                "user": "bob",
                "host": VHOST,
                "nick": "Bob",
                "group": "Friends",
                "subs": "both",
            },
        ),
        _s(
            "add_rosteritem",
            "semicolon-group",
            {
                "localuser": "alice",
                "localhost": VHOST,
                "user": "carol",
                "host": VHOST,
                "nick": "Carol",
                "group": "Work;Play",
                "subs": "to",
            },
        ),
        _s(
            "add_rosteritem",
            "renamed-server-args",
            {
                "localuser": "bob",
                "localserver": VHOST,
                "user": "alice",
                "server": VHOST,
                "nick": "Alice",
                "group": "",
                "subs": "from",
            },
        ),
        _s(
            "add_rosteritem",
            "remote-contact",
            {
                "localuser": "alice",
                "localhost": VHOST,
                "user": "romeo",
                "host": "montague.example",
                "nick": "Romeo",
                "group": "Far",
                "subs": "none",
            },
        ),
        _s(
            "add_rosteritem",
            "bad-subs",
            {
                "localuser": "alice",
                "localhost": VHOST,
                "user": "dave",
                "host": VHOST,
                "nick": "Dave",
                "group": "G",
                "subs": "sometimes",
            },
        ),
        _s(
            "delete_rosteritem",
            "after-bad-subs",
            {"localuser": "alice", "localhost": VHOST, "user": "dave", "host": VHOST},
        ),
        _s(
            "add_rosteritem",
            "unknown-local-host",
            {
                "localuser": "alice",
                "localhost": "no.example",
                "user": "bob",
                "host": VHOST,
                "nick": "Bob",
                "group": "G",
                "subs": "both",
            },
        ),
        _s(
            "add_rosteritem",
            "malformed-contact",
            {
                "localuser": "alice",
                "localhost": VHOST,
                "user": "@@",
                "host": VHOST,
                "nick": "X",
                "group": "G",
                "subs": "both",
            },
        ),
        _s(
            "add_rosteritem",
            "missing-subs",
            {
                "localuser": "alice",
                "localhost": VHOST,
                "user": "bob",
                "host": VHOST,
                "nick": "Bob",
                "group": "G",
            },
        ),
        _s("get_roster", "three-contacts", _u("alice"), sort=True),
        _s("get_roster", "one-contact", _u("bob")),
        _s("get_roster", "empty", _u("dave")),
        _s("get_roster", "unknown-user", _u("nobody")),
        _s("get_roster", "server-arg", {"user": "bob", "server": VHOST}),
        _s("get_roster", "missing-host", {"user": "bob"}),
        _s(
            "delete_rosteritem",
            "ok",
            {"localuser": "alice", "localhost": VHOST, "user": "romeo", "host": "montague.example"},
        ),
        _s(
            "delete_rosteritem",
            "not-in-roster",
            {"localuser": "alice", "localhost": VHOST, "user": "erin", "host": VHOST},
        ),
        _s(
            "delete_rosteritem",
            "unknown-local-user",
            {"localuser": "nobody", "localhost": VHOST, "user": "bob", "host": VHOST},
        ),
        _s(
            "delete_rosteritem",
            "malformed-contact",
            {"localuser": "alice", "localhost": VHOST, "user": "@@", "host": VHOST},
        ),
        _s("get_roster", "after-delete", _u("alice"), sort=True),
        _s("push_roster", "ok", {"file": str(files / "roster.txt"), **_u("dave")}),
        _s("get_roster", "after-push-roster", _u("dave")),
        _s("push_roster", "missing-file", {"file": str(files / "none.txt"), **_u("dave")}),
        _s("push_roster_all", "ok", {"file": str(files / "roster_all.txt")}),
        _s("get_roster", "after-push-roster-all", _u("carol")),
        # an item for process_rosteritems to delete, on a roster nothing has read yet (ejabberd
        # deletes behind its roster cache, so a roster read before would still show it)
        _s(
            "add_rosteritem",
            "to-purge",
            {
                "localuser": "heidi",
                "localhost": VHOST,
                "user": "carol",
                "host": VHOST,
                "nick": "C",
                "group": "Purge",
                "subs": "to",
            },
        ),
        _s("push_roster_all", "missing-file", {"file": str(files / "none.txt")}),
        _s("push_roster_all", "not-erlang-terms", {"file": rooms_file}),
        _s(
            "process_rosteritems",
            "list-all",
            {"action": "list", "subs": "any", "asks": "any", "users": "any", "contacts": "any"},
            sort=True,
        ),
        _s(
            "process_rosteritems",
            "list-both",
            {"action": "list", "subs": "both", "asks": "any", "users": "any", "contacts": "any"},
            sort=True,
        ),
        _s(
            "process_rosteritems",
            "list-pattern",
            {
                "action": "list",
                "subs": "any",
                "asks": "any",
                "users": f"a*{j}",
                "contacts": f"*{j}",
            },
            sort=True,
        ),
        _s(
            "process_rosteritems",
            "delete-one",
            {
                "action": "delete",
                "subs": "to",
                "asks": "any",
                "users": f"heidi{j}",
                "contacts": f"carol{j}",
            },
        ),
        _s("get_roster", "after-purge", _u("heidi")),
        _s(
            "process_rosteritems",
            "unknown-action",
            {"action": "shout", "subs": "any", "asks": "any", "users": "any", "contacts": "any"},
        ),
        _s(
            "process_rosteritems",
            "unknown-subs",
            {"action": "list", "subs": "maybe", "asks": "any", "users": "any", "contacts": "any"},
        ),
        _s("process_rosteritems", "missing-args", {"action": "list"}),
        # -- shared roster groups -------------------------------------------------------------
        _s(
            "srg_create",
            "team",
            {
                "group": "team",
                "host": VHOST,
                "label": "The Team",
                "description": "Everyone",
                "display": "team",
            },
        ),
        _s(
            "srg_create",
            "ops-no-display",
            {"group": "ops", "host": VHOST, "label": "Ops", "description": "", "display": ""},
        ),
        _s(
            "srg_create",
            "two-displayed",
            {
                "group": "club",
                "host": VHOST,
                "label": "Club",
                "description": "c",
                "display": "team\\nops",
            },
        ),
        _s(
            "srg_create",
            "name-arg",
            {"group": "named", "host": VHOST, "name": "Named", "description": "", "display": ""},
        ),
        _s(
            "srg_create",
            "again",
            {"group": "ops", "host": VHOST, "label": "Ops 2", "description": "", "display": ""},
        ),
        _s(
            "srg_create",
            "unknown-host",
            {"group": "x", "host": "no.example", "label": "X", "description": "", "display": ""},
        ),
        _s(
            "srg_create",
            "missing-display",
            {"group": "x", "host": VHOST, "label": "X", "description": ""},
        ),
        _s("srg_list", "ok", {"host": VHOST}, sort=True),
        _s("srg_list", "unknown-host", {"host": "no.example"}),
        _s("srg_get_info", "team", {"group": "team", "host": VHOST}, sort=True),
        _s("srg_get_info", "no-display", {"group": "ops", "host": VHOST}, sort=True),
        _s("srg_get_info", "two-displayed", {"group": "club", "host": VHOST}, sort=True),
        _s("srg_get_info", "unknown-group", {"group": "nogroup", "host": VHOST}),
        _s("srg_user_add", "alice-team", {**_u("alice"), "group": "team", "grouphost": VHOST}),
        _s("srg_user_add", "erin-team", {**_u("erin"), "group": "team", "grouphost": VHOST}),
        _s("srg_user_add", "bob-ops", {**_u("bob"), "group": "ops", "grouphost": VHOST}),
        _s("srg_user_add", "twice", {**_u("alice"), "group": "team", "grouphost": VHOST}),
        _s(
            "srg_user_add",
            "unknown-grouphost",
            {**_u("alice"), "group": "team", "grouphost": "no.example"},
        ),
        _s("srg_get_members", "team", {"group": "team", "host": VHOST}, sort=True),
        _s("srg_get_members", "empty", {"group": "club", "host": VHOST}),
        _s("srg_get_members", "unknown-group", {"group": "nogroup", "host": VHOST}),
        _s("get_roster", "with-shared-group", _u("erin"), sort=True),
        _s("get_roster", "shared-and-own", _u("alice"), sort=True),
        _s("srg_user_del", "ok", {**_u("erin"), "group": "team", "grouphost": VHOST}),
        _s("srg_user_del", "not-member", {**_u("carol"), "group": "team", "grouphost": VHOST}),
        _s(
            "srg_user_del", "unknown-group", {**_u("alice"), "group": "nogroup", "grouphost": VHOST}
        ),
        _s("srg_get_members", "after-del", {"group": "team", "host": VHOST}),
        _s("push_alltoall", "ok", {"host": VHOST, "group": "Everybody"}),
        _s("get_roster", "after-push-alltoall", _u("dave"), sort=True),
        _s("push_alltoall", "unknown-host", {"host": "no.example", "group": "G"}),
        _s("srg_delete", "club", {"group": "club", "host": VHOST}),
        _s("srg_delete", "unknown-group", {"group": "nogroup", "host": VHOST}),
        _s("srg_delete", "unknown-host", {"group": "team", "host": "no.example"}),
        _s("srg_list", "after-delete", {"host": VHOST}, sort=True),
        # -- multi-user chat ------------------------------------------------------------------
        _s("create_room", "r1", _room("r1", host=VHOST)),
        _s("create_room", "already-exists", _room("r1", host=VHOST)),
        _s("create_room", "room-arg", {"room": "r0", "service": MUC_SERVICE, "host": VHOST}),
        _s("create_room", "uppercase-name", _room("UpperRoom", host=VHOST)),
        _s("create_room", "invalid-name", _room("bad room", host=VHOST)),
        _s("create_room", "invalid-name-at", _room("a@b", host=VHOST)),
        _s(
            "create_room",
            "unknown-service",
            {"name": "r9", "service": "conference.no.example", "host": VHOST},
        ),
        _s("create_room", "unknown-host", _room("r9", host="no.example")),
        _s("create_room", "missing-host", _room("r9")),
        _s(
            "create_room_with_opts",
            "r2-options",
            _room(
                "r2",
                host=VHOST,
                options=[
                    {"name": "title", "value": "Room Two"},
                    {"name": "members_only", "value": "true"},
                    {"name": "allow_subscription", "value": "true"},
                    {"name": "max_users", "value": "50"},
                ],
            ),
            xmlrpc=(
                _room(
                    "r2",
                    host=VHOST,
                    options=_x_list(
                        "option",
                        [
                            _x_tuple({"name": "title", "value": "Room Two"}),
                            _x_tuple({"name": "members_only", "value": "true"}),
                            _x_tuple({"name": "allow_subscription", "value": "true"}),
                            _x_tuple({"name": "max_users", "value": "50"}),
                        ],
                    ),
                ),
            ),
        ),
        _s(
            "create_room_with_opts",
            "no-options",
            _room("r3", host=VHOST, options=[]),
            xmlrpc=(_room("r3", host=VHOST, options=[]),),
        ),
        _s(
            "create_room_with_opts",
            "unknown-option",
            _room("r4", host=VHOST, options=[{"name": "colour", "value": "blue"}]),
            xmlrpc=(
                _room(
                    "r4",
                    host=VHOST,
                    options=_x_list("option", [_x_tuple({"name": "colour", "value": "blue"})]),
                ),
            ),
        ),
        _s(
            "create_room_with_opts",
            "bad-boolean",
            _room("r5", host=VHOST, options=[{"name": "members_only", "value": "perhaps"}]),
            xmlrpc=(
                _room(
                    "r5",
                    host=VHOST,
                    options=_x_list(
                        "option", [_x_tuple({"name": "members_only", "value": "perhaps"})]
                    ),
                ),
            ),
        ),
        _s(
            "create_room_with_opts",
            "affiliations-option",
            _room(
                "r6",
                host=VHOST,
                options=[{"name": "affiliations", "value": f"owner:dave{j},member:erin{j}"}],
            ),
            xmlrpc=(
                _room(
                    "r6",
                    host=VHOST,
                    options=_x_list(
                        "option",
                        [
                            _x_tuple(
                                {"name": "affiliations", "value": f"owner:dave{j},member:erin{j}"}
                            )
                        ],
                    ),
                ),
            ),
        ),
        _s("create_room_with_opts", "missing-options", _room("r7", host=VHOST)),
        _s("get_room_options", "default-room", _room("r1")),
        _s("get_room_options", "with-options", _room("r2")),
        _s("get_room_options", "unknown-room", _room("noroom")),
        _s(
            "get_room_options",
            "unknown-service",
            {"name": "r1", "service": "conference.no.example"},
        ),
        _s("get_room_options", "room-arg", {"room": "r1", "service": MUC_SERVICE}),
        _s("change_room_option", "title", _room("r1", option="title", value="Room One")),
        _s("change_room_option", "persistent", _room("r1", option="persistent", value="true")),
        _s("change_room_option", "max-users", _room("r1", option="max_users", value="30")),
        _s("change_room_option", "unknown-option", _room("r1", option="colour", value="blue")),
        _s("change_room_option", "bad-boolean", _room("r3", option="public", value="perhaps")),
        _s("change_room_option", "bad-integer", _room("r1", option="max_users", value="many")),
        _s("change_room_option", "unknown-room", _room("noroom", option="title", value="x")),
        _s("get_room_options", "after-change", _room("r1")),
        _s("set_room_affiliation", "admin", _room("r1", jid=f"alice{j}", affiliation="admin")),
        _s("set_room_affiliation", "owner", _room("r1", jid=f"bob{j}", affiliation="owner")),
        _s("set_room_affiliation", "member", _room("r1", jid=f"carol{j}", affiliation="member")),
        _s("set_room_affiliation", "outcast", _room("r1", jid=f"dave{j}", affiliation="outcast")),
        _s(
            "set_room_affiliation",
            "remote-member",
            _room("r1", jid="romeo@montague.example", affiliation="member"),
        ),
        _s("set_room_affiliation", "none", _room("r1", jid=f"dave{j}", affiliation="none")),
        _s(
            "set_room_affiliation",
            "unknown-affiliation",
            _room("r1", jid=f"erin{j}", affiliation="boss"),
        ),
        _s(
            "set_room_affiliation",
            "unknown-room",
            _room("noroom", jid=f"erin{j}", affiliation="member"),
        ),
        _s("set_room_affiliation", "malformed-jid", _room("r1", jid="@@", affiliation="member")),
        _s(
            "set_room_affiliation",
            "jid-with-space",
            _room("r1", jid="not a jid", affiliation="member"),
        ),
        _s("set_room_affiliation", "missing-affiliation", _room("r1", jid=f"erin{j}")),
        _s("get_room_affiliation", "admin", _room("r1", jid=f"alice{j}")),
        _s("get_room_affiliation", "owner", _room("r1", jid=f"bob{j}")),
        _s("get_room_affiliation", "none", _room("r1", jid=f"erin{j}")),
        _s("get_room_affiliation", "unknown-room", _room("noroom", jid=f"alice{j}")),
        _s("get_room_affiliation", "malformed-jid", _room("r1", jid="@@")),
        _s("get_room_affiliations", "r1", _room("r1"), sort=True),
        _s("get_room_affiliations", "from-options", _room("r6"), sort=True),
        _s("get_room_affiliations", "empty", _room("r3")),
        _s("get_room_affiliations", "unknown-room", _room("noroom")),
        _s(
            "muc_register_nick",
            "ok",
            {"nick": "Alicia", "jid": f"alice{j}", "service": MUC_SERVICE},
        ),
        _s(
            "muc_register_nick",
            "host-arg",
            {"nick": "Bobster", "jid": f"bob{j}", "host": MUC_SERVICE},
        ),
        _s(
            "muc_register_nick",
            "nick-taken",
            {"nick": "Alicia", "jid": f"bob{j}", "service": MUC_SERVICE},
        ),
        _s(
            "muc_register_nick",
            "same-again",
            {"nick": "Alicia", "jid": f"alice{j}", "service": MUC_SERVICE},
        ),
        _s(
            "muc_register_nick",
            "unknown-service",
            {"nick": "C", "jid": f"carol{j}", "service": "conference.no.example"},
        ),
        _s(
            "muc_register_nick", "malformed-jid", {"nick": "C", "jid": "@@", "service": MUC_SERVICE}
        ),
        _s("muc_unregister_nick", "ok", {"jid": f"bob{j}", "service": MUC_SERVICE}),
        _s("muc_unregister_nick", "not-registered", {"jid": f"carol{j}", "service": MUC_SERVICE}),
        _s("muc_unregister_nick", "malformed-jid", {"jid": "@@", "service": MUC_SERVICE}),
        _s(
            "muc_register_nick",
            "after-unregister",
            {"nick": "Bobster", "jid": f"carol{j}", "service": MUC_SERVICE},
        ),
        _s(
            "subscribe_room",
            "ok",
            {"user": f"alice{j}", "nick": "alice", "room": f"r2@{MUC_SERVICE}", "nodes": sub_nodes},
        ),
        _s(
            "subscribe_room",
            "with-resource",
            {
                "user": f"bob{j}/phone",
                "nick": "bob",
                "room": f"r2@{MUC_SERVICE}",
                "nodes": "urn:xmpp:mucsub:nodes:messages",
            },
        ),
        _s(
            "subscribe_room",
            "nick-taken",
            {"user": f"carol{j}", "nick": "alice", "room": f"r2@{MUC_SERVICE}", "nodes": sub_nodes},
        ),
        _s(
            "subscribe_room",
            "subscription-not-allowed",
            {"user": f"carol{j}", "nick": "carol", "room": f"r1@{MUC_SERVICE}", "nodes": sub_nodes},
        ),
        _s(
            "subscribe_room",
            "unknown-room",
            {
                "user": f"carol{j}",
                "nick": "carol",
                "room": f"noroom@{MUC_SERVICE}",
                "nodes": sub_nodes,
            },
        ),
        _s(
            "subscribe_room",
            "malformed-user",
            {"user": "@@", "nick": "x", "room": f"r2@{MUC_SERVICE}", "nodes": sub_nodes},
        ),
        _s(
            "subscribe_room",
            "malformed-room",
            {"user": f"carol{j}", "nick": "carol", "room": "not a jid", "nodes": sub_nodes},
        ),
        _s(
            "subscribe_room",
            "unknown-node",
            {
                "user": f"dave{j}",
                "nick": "dave",
                "room": f"r2@{MUC_SERVICE}",
                "nodes": "urn:compat:nonsense",
            },
        ),
        _s(
            "subscribe_room",
            "empty-nodes",
            {"user": f"erin{j}", "nick": "erin", "room": f"r2@{MUC_SERVICE}", "nodes": ""},
        ),
        _s(
            "subscribe_room_many",
            "two-users",
            {
                "users": [
                    {"jid": f"carol{j}", "nick": "carol"},
                    {"jid": f"dave{j}", "nick": "dave"},
                ],
                "room": f"r2@{MUC_SERVICE}",
                "nodes": sub_nodes,
            },
            xmlrpc=(
                {
                    "users": _x_list(
                        "user",
                        [
                            _x_tuple({"jid": f"carol{j}", "nick": "carol"}),
                            _x_tuple({"jid": f"dave{j}", "nick": "dave"}),
                        ],
                    ),
                    "room": f"r2@{MUC_SERVICE}",
                    "nodes": sub_nodes,
                },
            ),
        ),
        _s(
            "subscribe_room_many",
            "unknown-room",
            {
                "users": [{"jid": f"carol{j}", "nick": "carol"}],
                "room": f"noroom@{MUC_SERVICE}",
                "nodes": sub_nodes,
            },
            xmlrpc=(
                {
                    "users": _x_list("user", [_x_tuple({"jid": f"carol{j}", "nick": "carol"})]),
                    "room": f"noroom@{MUC_SERVICE}",
                    "nodes": sub_nodes,
                },
            ),
        ),
        _s(
            "subscribe_room_many",
            "not-allowed",
            {
                "users": [{"jid": f"carol{j}", "nick": "carol"}],
                "room": f"r1@{MUC_SERVICE}",
                "nodes": sub_nodes,
            },
            xmlrpc=(
                {
                    "users": _x_list("user", [_x_tuple({"jid": f"carol{j}", "nick": "carol"})]),
                    "room": f"r1@{MUC_SERVICE}",
                    "nodes": sub_nodes,
                },
            ),
        ),
        _s(
            "subscribe_room_many",
            "wrong-type-users",
            {"users": "carol", "room": f"r2@{MUC_SERVICE}", "nodes": sub_nodes},
        ),
        _s("get_subscribers", "r2", _room("r2"), sort=True),
        _s("get_subscribers", "none", _room("r3")),
        _s("get_subscribers", "unknown-room", _room("noroom")),
        _s("get_user_subscriptions", "alice", _u("alice")),
        _s("get_user_subscriptions", "bob", _u("bob")),
        _s("get_user_subscriptions", "none", _u("grace")),
        _s("get_user_subscriptions", "unknown-user", _u("nobody")),
        _s("get_user_subscriptions", "unknown-host", {"user": "alice", "host": "no.example"}),
        _s("unsubscribe_room", "ok", {"user": f"alice{j}", "room": f"r2@{MUC_SERVICE}"}),
        _s(
            "unsubscribe_room", "not-subscribed", {"user": f"grace{j}", "room": f"r2@{MUC_SERVICE}"}
        ),
        _s(
            "unsubscribe_room",
            "unknown-room",
            {"user": f"alice{j}", "room": f"noroom@{MUC_SERVICE}"},
        ),
        _s("unsubscribe_room", "malformed-user", {"user": "@@", "room": f"r2@{MUC_SERVICE}"}),
        _s("unsubscribe_room", "malformed-room", {"user": f"alice{j}", "room": "@@"}),
        _s("get_subscribers", "after-unsubscribe", _room("r2"), sort=True),
        _s("create_rooms_file", "ok", {"file": rooms_file}),
        _s("get_room_options", "from-file", _room("filea")),
        _s("create_rooms_file", "missing-file", {"file": str(files / "none.txt")}),
        _s("create_rooms_file", "bad-line", {"file": str(files / "badrooms.txt")}),
        _s("destroy_rooms_file", "ok", {"file": rooms_file}),
        _s("get_room_options", "after-destroy-file", _room("filea")),
        _s("destroy_rooms_file", "missing-file", {"file": str(files / "none.txt")}),
        _s("destroy_room", "r1", _room("r1")),
        _s("destroy_room", "again", _room("r1")),
        _s("destroy_room", "unknown-room", _room("noroom")),
        _s("destroy_room", "unknown-service", {"name": "r2", "service": "conference.no.example"}),
        _s("destroy_room", "room-arg", {"room": "r0", "service": MUC_SERVICE}),
        _s("destroy_room", "missing-service", {"name": "r2"}),
        _s("get_room_options", "destroyed", _room("r1")),
        # -- statistics -----------------------------------------------------------------------
        _s("stats", "registeredusers", {"name": "registeredusers"}),
        _s("stats", "onlineusers", {"name": "onlineusers"}),
        _s("stats", "onlineusersnode", {"name": "onlineusersnode"}),
        _s("stats", "uptimeseconds", {"name": "uptimeseconds"}, masks=(ANY_INT,)),
        _s("stats", "processes", {"name": "processes"}, masks=(ANY_INT,)),
        _s("stats", "unknown-name", {"name": "temperature"}),
        _s("stats", "missing-name"),
        _s("stats_host", "registeredusers", {"name": "registeredusers", "host": VHOST}),
        _s("stats_host", "onlineusers", {"name": "onlineusers", "host": VHOST}),
        _s("stats_host", "unknown-name", {"name": "temperature", "host": VHOST}),
        _s("stats_host", "unknown-host", {"name": "registeredusers", "host": "no.example"}),
        # -- OAuth ----------------------------------------------------------------------------
        _s(
            "oauth_issue_token",
            "admin-scope",
            {"jid": f"{ADMIN}{j}", "ttl": 3600, "scopes": "ejabberd:admin"},
            masks=(TOKEN, SECONDS),
            capture="token",
        ),
        _s("oauth_list_tokens", "one-token", masks=(TOKEN, SECONDS)),
        _s(
            "oauth_issue_token",
            "two-scopes",
            {"jid": f"alice{j}", "ttl": 600, "scopes": "get_roster;ejabberd:user"},
            masks=(TOKEN, SECONDS),
        ),
        _s(
            "oauth_issue_token",
            "malformed-jid",
            {"jid": "@@", "ttl": 600, "scopes": "ejabberd:user"},
            masks=(TOKEN, SECONDS),
        ),
        _s(
            "oauth_issue_token",
            "wrong-type-ttl",
            {"jid": f"alice{j}", "ttl": "soon", "scopes": "ejabberd:user"},
        ),
        # How a listed token reads differs (one-token shows it); these two compare the rest.
        _s("oauth_list_tokens", "two-tokens", masks=(TOKEN, DIGEST, SECONDS), sort=True),
        _s("oauth_revoke_token", "ok", {"token": Ref("token")}),
        _s("oauth_revoke_token", "unknown-token", {"token": "not-a-token"}),
        _s("oauth_list_tokens", "after-revoke", masks=(TOKEN, DIGEST, SECONDS)),
        _s(
            "oauth_add_client_password",
            "ok",
            {"client_id": "monitor", "client_name": "Monitor", "secret": "s3cret"},
        ),
        _s(
            "oauth_add_client_password",
            "again",
            {"client_id": "monitor", "client_name": "Monitor 2", "secret": "other"},
        ),
        _s(
            "oauth_add_client_implicit",
            "ok",
            {
                "client_id": "webapp",
                "client_name": "Web app",
                "redirect_uri": "https://app.example/callback",
            },
        ),
        _s(
            "oauth_add_client_implicit",
            "missing-uri",
            {"client_id": "webapp2", "client_name": "Web app"},
        ),
        _s("oauth_remove_client", "ok", {"client_id": "monitor"}),
        _s("oauth_remove_client", "implicit", {"client_id": "webapp"}),
        _s("oauth_remove_client", "unknown-client", {"client_id": "nosuchclient"}),
        # -- bans, removals -------------------------------------------------------------------
        _s("ban_account", "ok", _u("grace", reason="Spamming")),
        _s("check_password", "after-ban", _u("grace", password="password")),
        _s("ban_account", "unknown-host", {"user": "a", "host": "no.example", "reason": "x"}),
        _s("ban_account", "missing-reason", _u("grace")),
        _s("delete_old_users_vhost", "none-old", {"host": VHOST, "days": 36500}),
        _s("delete_old_users_vhost", "one-old", {"host": VHOST, "days": 365}),
        _s("delete_old_users_vhost", "unknown-host", {"host": "no.example", "days": 1}),
        _s("delete_old_users_vhost", "wrong-type-days", {"host": VHOST, "days": "ten"}),
        _s("set_last", "old-again", _u("dave", timestamp=OLD, status="Long ago")),
        _s("delete_old_users", "one-old", {"days": 365}),
        _s("delete_old_users", "none-old", {"days": 365}),
        _s("delete_old_users", "wrong-type-days", {"days": "ten"}),
        _s("delete_old_users", "missing-days"),
        _s("check_account", "after-delete-old", _u("bob")),
        _s("unregister", "ok", _u("carol")),
        _s("unregister", "again", _u("carol")),
        _s("unregister", "unknown-host", {"user": "alice", "host": "no.example"}),
        _s("unregister", "malformed-user", _u("@@")),
        _s("unregister", "missing-host", {"user": "alice"}),
        _s("unregister", "anonymous", _u("alice"), auth="none"),
        _s("check_account", "after-unregister", _u("carol")),
        _s("get_roster", "after-unregister", _u("carol")),
        _s("registered_users", "at-the-end", {"host": VHOST}),
        _s("stats", "registeredusers-at-the-end", {"name": "registeredusers"}),
        # -- writes for accounts that do not exist ("ghost"): ejabberd stores them anyway,
        # so they come last, where what they leave behind cannot change other answers.
        _s(
            "srg_create",
            "haunted",
            {"group": "haunted", "host": VHOST, "label": "H", "description": "", "display": ""},
        ),
        _s("set_last", "unknown-user", _u("ghost", timestamp=OLD, status="x")),
        _s("set_vcard", "unknown-user", _u("ghost", name="FN", content="Nobody")),
        _s("set_vcard2", "unknown-user", _u("ghost", name="N", subname="GIVEN", content="x")),
        _s(
            "set_vcard2_multi",
            "unknown-user",
            _u("ghost", name="ORG", subname="ORGUNIT", contents=["x"]),
            xmlrpc=(_u("ghost", name="ORG", subname="ORGUNIT", contents=_x_list("value", ["x"])),),
        ),
        _s("set_nickname", "unknown-user", _u("ghost", nickname="N")),
        _s("private_set", "unknown-user", _u("ghost", element=bookmarks)),
        _s(
            "add_rosteritem",
            "unknown-local-user",
            {
                "localuser": "ghost",
                "localhost": VHOST,
                "user": "bob",
                "host": VHOST,
                "nick": "Bob",
                "group": "G",
                "subs": "both",
            },
        ),
        _s("push_roster", "unknown-user", {"file": str(files / "roster.txt"), **_u("ghost")}),
        _s("srg_user_add", "unknown-user", {**_u("ghost"), "group": "haunted", "grouphost": VHOST}),
        _s(
            "srg_user_add",
            "unknown-group",
            {**_u("alice"), "group": "ghostgroup", "grouphost": VHOST},
        ),
        _s(
            "muc_register_nick",
            "unknown-user",
            {"nick": "Ghost", "jid": f"ghost{j}", "service": MUC_SERVICE},
        ),
        _s("get_last", "after-unknown-user", _u("ghost")),
        _s("get_vcard", "after-unknown-user", _u("ghost", name="FN")),
        _s(
            "private_get",
            "after-unknown-user",
            _u("ghost", element="storage", ns="storage:bookmarks"),
        ),
        _s("get_roster", "after-unknown-user", _u("ghost")),
        _s("srg_get_members", "after-unknown-user", {"group": "haunted", "host": VHOST}),
        _s("srg_get_members", "after-unknown-group", {"group": "ghostgroup", "host": VHOST}),
        _s(
            "oauth_issue_token",
            "unknown-user",
            {"jid": f"ghost{j}", "ttl": 600, "scopes": "ejabberd:user"},
            masks=(TOKEN, SECONDS),
        ),
        _s("ban_account", "unknown-user", _u("ghost", reason="x")),
        _s("check_account", "after-ban-unknown-user", _u("ghost")),
        # ejabberd deletes every account (the admin too) when days is negative: the very last call.
        _s("delete_old_users_vhost", "negative-days", {"host": VHOST, "days": -1}),
    ]
    return s
