"""An in-process XMPP server behind a fake component link, for the xmpp backend's tests.

:class:`FakeChannel` is an :class:`~gateway.backends.interfaces.IqChannel`: IQs
written to it are answered at once by a :class:`FakeServer` (or held, to test
timeouts and the in-flight bound), and tests raise "link up" and inbound
messages by hand.  The servers answer as Debian's ejabberd 23.01 and Prosody
0.12 were observed to (on loopback, and in the servers' own sources:
ejabberd's mod_configure, Prosody's mod_admin_adhoc), and one speaks
ejabberd 25.03's ``api-commands/`` layout (mod_adhoc_api).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IReactorTime

from gateway.engine.errors import Unavailable

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_ROSTER = "jabber:iq:roster"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
HOST = "localhost"
COMPONENT = "admin.localhost"


def admin(name: str) -> str:
    return f"{NS_ADMIN}#{name}"


class Refuse(Exception):
    """Answer the IQ with this stanza error."""

    def __init__(self, condition: str, kind: str = "cancel", text: str = "") -> None:
        super().__init__(condition)
        self.condition, self.kind, self.text = condition, kind, text


def field_xml(var: str, values: list[str] | tuple[str, ...] = (), kind: str = "text-single") -> str:
    inner = "".join(f"<value>{_escape(v)}</value>" for v in values)
    return f"<field var='{var}' type='{kind}'>{inner}</field>"


def form_xml(kind: str, fields: list[str]) -> str:
    hidden = field_xml("FORM_TYPE", [NS_ADMIN], "hidden") if kind in ("form", "result") else ""
    return f"<x xmlns='{NS_DATA}' type='{kind}'>{hidden}{''.join(fields)}</x>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Reply:
    """One stage's answer: status, form XML, notes."""

    status: str
    form: str = ""
    notes: list[tuple[str, str]] = field(default_factory=list)
    actions: str = ""


#: a node's behaviour: (submitted values or None on execute, session state) -> Reply
Handler = Callable[[dict[str, list[str]] | None, dict[str, object]], Reply]


class FakeServer:
    """A server with accounts, sessions, rosters and ad-hoc nodes."""

    name = "fake"
    privilege_ns = "urn:xmpp:privilege:2"

    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.online: dict[str, list[str]] = {}
        self.rosters: dict[str, dict[str, dict[str, object]]] = {}
        self.nodes: dict[str, Handler] = {}
        self.sessions: dict[str, tuple[str, dict[str, object]]] = {}
        self.cancelled: list[str] = []
        self.roster_perm = "both"
        self.message_perm = "outgoing"
        self.disco_refused = False
        #: ejabberd 23.01's mod_roster crashes on a roster set from a component
        self.roster_set_crashes = False
        self._ids = itertools.count(1)

    # -- the wire --------------------------------------------------------------------------

    def answer(self, text: str) -> str:
        iq = etree.fromstring(text)
        to = iq.get("to", "")
        payload = iq[0]
        try:
            body = self._dispatch(iq.get("type", ""), to, payload)
        except Refuse as e:
            error = (
                f"<error type='{e.kind}'><{e.condition} xmlns='{NS_STANZAS}'/>"
                + (f"<text xmlns='{NS_STANZAS}'>{e.text}</text>" if e.text else "")
                + "</error>"
            )
            return (
                f"<iq xmlns='jabber:client' type='error' id='{iq.get('id')}' from='{to}'"
                f" to='{COMPONENT}'>{error}</iq>"
            )
        return (
            f"<iq xmlns='jabber:client' type='result' id='{iq.get('id')}' from='{to}'"
            f" to='{COMPONENT}'>{body}</iq>"
        )

    def _dispatch(self, kind: str, to: str, payload: etree._Element) -> str:
        tag = payload.tag
        if tag == f"{{{NS_DISCO_ITEMS}}}query" and to == HOST:
            if self.disco_refused:
                raise Refuse("forbidden", "auth")
            items = "".join(f"<item jid='{HOST}' node='{n}' name='x'/>" for n in self.nodes)
            return f"<query xmlns='{NS_DISCO_ITEMS}' node='{NS_COMMANDS}'>{items}</query>"
        if tag == f"{{{NS_COMMANDS}}}command" and to == HOST and kind == "set":
            return self._command(payload)
        if tag == f"{{{NS_ROSTER}}}query" and "@" in to:
            return self._roster(kind, to, payload)
        raise Refuse("service-unavailable")

    def privileges_message(self) -> str:
        perms = (
            f"<perm access='roster' type='{self.roster_perm}'/>"
            f"<perm access='message' type='{self.message_perm}'/>"
            "<perm access='presence' type='none'/>"
        )
        return (
            f"<message xmlns='jabber:component:accept' from='{HOST}' to='{COMPONENT}'>"
            f"<privilege xmlns='{self.privilege_ns}'>{perms}</privilege></message>"
        )

    # -- ad-hoc ----------------------------------------------------------------------------

    def _command(self, command: etree._Element) -> str:
        node = command.get("node", "")
        action = command.get("action", "execute")
        sid = command.get("sessionid")
        if node not in self.nodes:
            raise Refuse("item-not-found")
        if action == "cancel":
            self.cancelled.append(sid or "")
            self.sessions.pop(sid or "", None)
            return (
                f"<command xmlns='{NS_COMMANDS}' node='{node}' sessionid='{sid}'"
                " status='canceled'/>"
            )
        x = command.find(f"{{{NS_DATA}}}x")
        if sid is None:
            sid = f"s{next(self._ids)}"
            state: dict[str, object] = {}
            self.sessions[sid] = (node, state)
            submitted = None
        else:
            if sid not in self.sessions:
                raise Refuse("bad-request", "modify", "unknown session")
            state = self.sessions[sid][1]
            submitted = _values(x) if x is not None else {}
        reply = self.nodes[node](submitted, state)
        if reply.status != "executing":
            self.sessions.pop(sid, None)
        notes = "".join(f"<note type='{k}'>{_escape(t)}</note>" for k, t in reply.notes)
        return (
            f"<command xmlns='{NS_COMMANDS}' node='{node}' sessionid='{sid}'"
            f" status='{reply.status}'>{reply.actions}{notes}{reply.form}</command>"
        )

    # -- XEP-0356 rosters -------------------------------------------------------------------

    def _roster(self, kind: str, owner: str, query: etree._Element) -> str:
        wanted = "get" if kind == "get" else "set"
        if self.roster_perm not in (wanted, "both"):
            raise Refuse("forbidden", "auth")
        roster = self.rosters.setdefault(owner, {})
        if kind == "get":
            items = ""
            for contact, item in sorted(roster.items()):
                attrs = f" jid='{contact}' subscription='{item['subscription']}'"
                if item.get("name"):
                    attrs += f" name='{item['name']}'"
                if item.get("ask"):
                    attrs += f" ask='{item['ask']}'"
                groups = "".join(f"<group>{g}</group>" for g in item["groups"])  # type: ignore[attr-defined]
                items += f"<item{attrs}>{groups}</item>"
            return f"<query xmlns='{NS_ROSTER}'>{items}</query>"
        if self.roster_set_crashes:
            raise Refuse("internal-server-error", "wait", "Module failed to handle the query")
        if owner not in self.accounts:
            raise Refuse("item-not-found", "cancel")
        for item in query:
            contact = item.get("jid", "")
            if item.get("subscription") == "remove":
                roster.pop(contact, None)
            else:
                roster[contact] = {
                    "name": item.get("name", ""),
                    "subscription": item.get("subscription", "none"),
                    "groups": [g.text for g in item],
                }
        return ""


def _values(x: etree._Element) -> dict[str, list[str]]:
    return {
        f.get("var", ""): [v.text or "" for v in f.iterchildren(f"{{{NS_DATA}}}value")]
        for f in x.iterchildren(f"{{{NS_DATA}}}field")
    }


def _user(jid: str) -> str:
    return jid.split("/")[0]


#: what ejabberd 23.01 answers when an admin node's handler crashes on its own check
CRASHED = Refuse("item-not-found", "cancel", "No hook has processed this command")


class Ejabberd2301(FakeServer):
    """Debian's ejabberd 23.01 with mod_configure and mod_privilege (urn:xmpp:privilege:1)."""

    name = "ejabberd 23.01"
    privilege_ns = "urn:xmpp:privilege:1"

    def __init__(self) -> None:
        super().__init__()
        # mod_roster:process_local_iq asks mod_roster's options of the component's domain
        # (module_not_loaded); fixed after 23.01 ("mod_privilege: Don't fail to edit roster")
        self.roster_set_crashes = True
        self.nodes = {
            admin("add-user"): self._add_user,
            admin("change-user-password"): self._change_password,
            admin("delete-user"): self._delete_user,
            admin("end-user-session"): self._end_session,
            admin("get-online-users-list"): self._online_list,
            admin("get-online-users-num"): self._online_num,
            admin("get-registered-users-list"): self._registered_list,
            admin("get-registered-users-num"): self._registered_num,
            admin("get-user-lastlogin"): self._unused,
            admin("get-user-password"): self._unused,
            admin("user-stats"): self._unused,
            "running nodes/ejabberd@localhost/DB": self._unused,
            "ping": self._unused,
        }

    def _unused(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        raise Refuse("feature-not-implemented")

    def _add_user(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            return Reply(
                "executing",
                form_xml(
                    "form",
                    [
                        field_xml("accountjid", kind="jid-single"),
                        field_xml("password", kind="text-private"),
                        field_xml("password-verify", kind="text-private"),
                    ],
                ),
            )
        account = values["accountjid"][0]
        if values["password"] != values["password-verify"]:
            raise CRASHED
        if account in self.accounts:
            raise Refuse("conflict")
        self.accounts[account] = values["password"][0]
        return Reply("completed")

    def _change_password(
        self, values: dict[str, list[str]] | None, state: dict[str, object]
    ) -> Reply:
        if values is None:
            return Reply(
                "executing",
                form_xml(
                    "form", [field_xml("accountjid", kind="jid-single"), field_xml("password")]
                ),
            )
        account = values["accountjid"][0]
        if account not in self.accounts:
            raise CRASHED
        self.accounts[account] = values["password"][0]
        return Reply("completed")

    def _delete_user(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            return Reply(
                "executing", form_xml("form", [field_xml("accountjids", kind="jid-multi")])
            )
        for account in values["accountjids"]:
            if account not in self.accounts:
                raise CRASHED
        for account in values["accountjids"]:
            del self.accounts[account]
        return Reply("completed")

    def _end_session(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            return Reply(
                "executing", form_xml("form", [field_xml("accountjid", kind="jid-single")])
            )
        target = values["accountjid"][0]
        bare, _, resource = target.partition("/")
        sessions = self.online.get(bare, [])
        self.online[bare] = [r for r in sessions if resource and r != resource]
        if not self.online[bare]:
            del self.online[bare]
        return Reply("completed")

    def _online_list(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        jids = sorted(self.online)
        return Reply(
            "completed", form_xml("form", [field_xml("onlineuserjids", jids, "jid-multi")])
        )

    def _online_num(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        count = sum(len(r) for r in self.online.values())
        return Reply("completed", form_xml("form", [field_xml("onlineusersnum", [str(count)])]))

    def _registered_list(
        self, values: dict[str, list[str]] | None, state: dict[str, object]
    ) -> Reply:
        jids = list(self.accounts)
        return Reply(
            "completed", form_xml("form", [field_xml("registereduserjids", jids, "jid-multi")])
        )

    def _registered_num(
        self, values: dict[str, list[str]] | None, state: dict[str, object]
    ) -> Reply:
        count = str(len(self.accounts))
        return Reply("completed", form_xml("form", [field_xml("registeredusersnum", [count])]))


class Prosody012(FakeServer):
    """Debian's Prosody 0.12 with mod_admin_adhoc and prosody-modules' mod_privilege."""

    name = "Prosody 0.12"

    def __init__(self) -> None:
        super().__init__()
        self.nodes = {
            admin("add-user"): self._add_user,
            admin("change-user-password"): self._change_password,
            admin("delete-user"): self._delete_user,
            admin("end-user-session"): self._end_session,
            admin("get-online-users-list"): self._online_list,
            admin("get-user-roster"): self._unused,
            admin("user-stats"): self._unused,
            admin("shutdown"): self._unused,
            "http://prosody.im/protocol/config#reload": self._unused,
            "http://prosody.im/protocol/modules#list": self._unused,
        }

    _actions = "<actions execute='complete'><complete/></actions>"

    def _unused(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        raise Refuse("feature-not-implemented")

    def _add_user(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            fields = [
                field_xml("accountjid", kind="jid-single"),
                field_xml("password", kind="text-private"),
                field_xml("password-verify", kind="text-private"),
            ]
            return Reply("executing", form_xml("form", fields), actions=self._actions)
        account = values["accountjid"][0]
        if account in self.accounts:
            return Reply("completed", notes=[("error", "Account already exists")])
        self.accounts[account] = values["password"][0]
        return Reply("completed", notes=[("info", "Account successfully created")])

    def _change_password(
        self, values: dict[str, list[str]] | None, state: dict[str, object]
    ) -> Reply:
        if values is None:
            fields = [field_xml("accountjid", kind="jid-single"), field_xml("password")]
            return Reply("executing", form_xml("form", fields), actions=self._actions)
        account = values["accountjid"][0]
        if account not in self.accounts:
            return Reply("completed", notes=[("error", "User does not exist")])
        self.accounts[account] = values["password"][0]
        return Reply("completed", notes=[("info", "Password successfully changed")])

    def _delete_user(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            form = form_xml("form", [field_xml("accountjids", kind="jid-multi")])
            return Reply("executing", form, actions=self._actions)
        done, failed = [], []
        for account in values["accountjids"]:
            if account in self.accounts:
                del self.accounts[account]
                done.append(account)
            else:
                failed.append(account)
        return _outcome("deleted", done, failed)

    def _end_session(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            form = form_xml("form", [field_xml("accountjids", kind="jid-multi")])
            return Reply("executing", form, actions=self._actions)
        done, failed = [], []
        for target in values["accountjids"]:
            bare, _, resource = target.partition("/")
            if bare in self.accounts:
                left = [r for r in self.online.get(bare, []) if resource and r != resource]
                if left:
                    self.online[bare] = left
                else:
                    self.online.pop(bare, None)
                done.append(target)
            else:
                failed.append(target)
        return _outcome("disconnected", done, failed)

    def _online_list(self, values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
        if values is None:
            fields = [
                "<field var='max_items' type='list-single'><option><value>25</value></option>"
                "<option><value>all</value></option></field>",
                field_xml("details", kind="boolean"),
            ]
            return Reply("executing", form_xml("form", fields), actions=self._actions)
        state["asked"] = values
        users = sorted(self.online)
        if values.get("max_items") != ["all"]:
            users = users[:25]
        # Prosody's text-multi: one value per line
        return Reply(
            "completed", form_xml("result", [field_xml("onlineuserjids", users, "text-multi")])
        )


class ApiServer(FakeServer):
    """ejabberd ≥ 25.03 with mod_adhoc_api: ``api-commands/<name>`` nodes (single cluster node).

    ``results`` maps a command to a function of its arguments giving ``(values)``
    of the result field, or raising :class:`ApiError` for an error field.
    """

    name = "ejabberd 25.03 (mod_adhoc_api)"
    privilege_ns = "urn:xmpp:privilege:2"

    def __init__(
        self,
        commands: dict[str, tuple[list[str], Callable[[dict[str, list[str]]], list[str]], str]],
    ) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        for name, (args, run, result) in commands.items():
            self.nodes[f"api-commands/{name}"] = self._make(name, args, run, result)

    def _make(
        self,
        name: str,
        args: list[str],
        run: Callable[[dict[str, list[str]]], list[str]],
        result: str,
    ) -> Handler:
        def handler(values: dict[str, list[str]] | None, state: dict[str, object]) -> Reply:
            arg_fields = [field_xml(a, [HOST] if a in ("host", "localhost") else []) for a in args]
            if values is None:
                heads = ["<field type='fixed' label='Arguments'/>"] if arg_fields else []
                return Reply("executing", _api_form("form", heads + arg_fields))
            self.calls.append((name, values))
            echoed = ["<field type='fixed' label='Arguments'/>"] + [
                field_xml(a, values.get(a, [])) for a in args
            ]
            tail = ["<field type='fixed' label=''/>", "<field type='fixed' label='Result'/>"]
            try:
                out = field_xml(result, run(values), "text-multi")
            except ApiError as e:
                out = (
                    f"<field var='error' type='text-single' label='Error {e.code}'>"
                    f"<value>{e.text}</value></field>"
                )
            return Reply("completed", _api_form("result", echoed + tail + [out]))

        return handler


class ApiError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def _api_form(kind: str, fields: list[str]) -> str:
    return (
        f"<x xmlns='{NS_DATA}' type='{kind}'><title>Api command</title>"
        f"<instructions>desc</instructions>{''.join(fields)}</x>"
    )


class FakeChannel:
    """The component link as the backend sees it, with a :class:`FakeServer` behind it."""

    def __init__(self, server: FakeServer, clock: IReactorTime) -> None:
        self.server = server
        self.clock = clock
        self.connected = False
        #: while True, IQs are held (never answered) to test timeouts and the bound
        self.hold = False
        self.held: list[tuple[str, Deferred[str]]] = []
        self.sent: list[str] = []
        self.submitted: list[str] = []
        self._up: list[Callable[[], None]] = []
        self._messages: list[Callable[[str], None]] = []

    # IqChannel
    def iq(self, stanza: str, timeout: float) -> Deferred[str]:
        if not self.connected:
            return fail(Unavailable("the XMPP component link is not connected"))
        self.sent.append(stanza)
        if self.hold:
            waiting: Deferred[str] = Deferred()
            self.held.append((stanza, waiting))
            return waiting.addTimeout(timeout, self.clock)
        return succeed(self.server.answer(stanza))

    def submit(self, stanza: str) -> Deferred[None]:
        self.submitted.append(stanza)
        return succeed(None)

    def on_up(self, callback: Callable[[], None]) -> None:
        self._up.append(callback)

    def on_message(self, callback: Callable[[str], None]) -> None:
        self._messages.append(callback)

    # test controls
    def come_up(self, *, privileges: bool = True) -> None:
        """The link authenticates: listeners run, then the server announces its privileges."""
        self.connected = True
        for callback in self._up:
            callback()
        if privileges:
            self.deliver(self.server.privileges_message())

    def go_down(self) -> None:
        self.connected = False
        for _, waiting in self.held:
            if not waiting.called:
                waiting.errback(
                    Unavailable("the XMPP component link went down before the answer came")
                )
        self.held.clear()

    def deliver(self, message: str) -> None:
        for callback in self._messages:
            callback(message)

    def release(self) -> None:
        """Answer every held IQ now."""
        held, self.held = self.held, []
        for stanza, waiting in held:
            if not waiting.called:
                waiting.callback(self.server.answer(stanza))


def _outcome(verb: str, done: list[str], failed: list[str]) -> Reply:
    """Prosody's note after deleting or disconnecting accounts: who was, who could not be."""
    text = f"The following accounts were successfully {verb}:\n" + "\n".join(done) + "\n"
    text = text if done else ""
    if failed:
        text += f"The following accounts could not be {verb}:\n" + "\n".join(failed)
    return Reply("completed", notes=[("info", text)])
