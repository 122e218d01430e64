"""Catalogue commands run as XEP-0133 service administration nodes on the served host.

Each command names the node(s) it runs through and reads the server's answer
into the value the embedded store would give.  Where the servers differ:

- a failure Prosody reports in an ``error`` note, ejabberd 23.01 reports as an
  IQ error; for ``change-user-password`` and ``delete-user`` of an account
  that does not exist ejabberd's handler crashes on its own check, and the
  node answers ``item-not-found`` ("No hook has processed this command"), so
  that answer to a node just discovered is read as "no such account";
- ejabberd's user lists complete on the first ``execute``, Prosody's
  ``get-online-users-list`` asks how many users first (we ask for all);
- ``connected_users`` lists the online *accounts* (bare JIDs), since XEP-0133
  does not tell their resources; ejabberd's own command lists sessions;
- ``kick_session`` cannot pass the reason on (the node has no such field), and
  with an empty resource it ends every session of the account;
- ``ban_account`` runs ``disable-user`` (neither Debian server offers it).

ejabberd's API has no announcement command, so the announce nodes have no
catalogue command to serve.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.backends.xmpp.adhoc import AdhocClient, Filler, Outcome
from gateway.backends.xmpp.forms import Form
from gateway.backends.xmpp.requests import StanzaError
from gateway.backends.xmpp.texts import (
    NotOffered,
    already_registered,
    local_jid,
    not_served,
    unknown_user,
)
from gateway.engine.errors import CommandError, CommandFailed, NotSupported, TypedCommandError
from gateway.engine.model import ResTuple
from gateway.engine.server import SERVER_STATS, unknown_statistic

__all__ = ["ADMIN_COMMANDS", "NS_ADMIN", "AdminCommand", "AdminRun", "admin_node"]

NS_ADMIN = "http://jabber.org/protocol/admin"

#: how ejabberd 23.01 answers when an admin handler's own check fails (it crashes)
_CRASHED = frozenset({"item-not-found", "internal-server-error"})

#: ejabberd's ``stats_host`` names
HOST_STATS = ("registeredusers", "onlineusers")


def admin_node(name: str) -> str:
    """The XEP-0133 node ``name`` (``add-user`` → ``http://jabber.org/protocol/admin#add-user``)."""
    return f"{NS_ADMIN}#{name}"


@dataclass(frozen=True, slots=True)
class AdminRun:
    """What a command needs to run: the sessions, the served host, what it offers."""

    adhoc: AdhocClient
    host: str
    offered: frozenset[str]

    def node(self, command: str, name: str) -> str:
        """The node ``name``, or :class:`NotOffered` when the server does not list it."""
        node = admin_node(name)
        if node not in self.offered:
            raise NotOffered(command, self.host, f"the server offers no {node}")
        return node

    async def run(self, command: str, name: str, fill: Filler) -> Outcome:
        """Run node ``name``; an IQ error of the server becomes a :class:`CommandFailed`."""
        node = self.node(command, name)
        try:
            return await self.adhoc.run(node, fill)
        except StanzaError as e:
            raise refused(self.host, node, e) from None


def refused(host: str, node: str, error: StanzaError) -> CommandError:
    """A :class:`StanzaError` no command-specific rule explains, worded for the caller."""
    if error.condition in ("forbidden", "not-authorized"):
        return CommandFailed(
            f"The XMPP server {host} does not let the gateway run {node}: {error.describe()}"
        )
    return CommandFailed(f"The XMPP server {host} refused {node}: {error.describe()}")


def _fields(form: Form, values: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``values`` for the fields ``form`` has, plus every other field with its default."""
    filled: dict[str, list[str]] = {}
    for field in form.fields:
        if field.var is None or field.type == "fixed" or field.var == "FORM_TYPE":
            continue
        if field.var in values:
            filled[field.var] = list(values[field.var])
        elif field.values:
            filled[field.var] = list(field.values)
    return filled


def _account_field(form: Form, jid: str) -> dict[str, list[str]]:
    """The account field, whichever of ``accountjid`` / ``accountjids`` the form has."""
    if form.has("accountjids"):
        return {"accountjids": [jid]}
    return {"accountjid": [jid]}


def _jids(outcome: Outcome, var: str) -> list[str]:
    """The JIDs a result field lists (one per value or per line), without blanks."""
    field = outcome.form.get(var) if outcome.form is not None else None
    if field is None:
        return []
    return [line.strip() for line in field.value.splitlines() if line.strip()]


def _number(outcome: Outcome, var: str, host: str, node: str) -> int:
    field = outcome.form.get(var) if outcome.form is not None else None
    try:
        return int(field.values[0]) if field is not None and field.values else int("")
    except ValueError:
        raise CommandFailed(f"The XMPP server {host} answered {node} without a number") from None


def _failed(outcome: Outcome) -> None:
    """An ``error`` note is the command's failure, in the server's words."""
    if outcome.error is not None:
        raise CommandFailed(outcome.error)


# -- the commands --------------------------------------------------------------------------------


async def _register(ctx: AdminRun, args: Mapping[str, Any]) -> ResTuple:
    user, host, password = args["user"], args["host"], args["password"]
    jid = local_jid(user, host, ctx.host)
    if jid is None:
        if local_jid("x", host, ctx.host) is None:
            raise TypedCommandError("cannot_register", 10001, "Unknown virtual host")
        raise TypedCommandError(
            "cannot_register", 10001, f"Can't register user {user}@{host}: Malformed username"
        )
    account = jid.userhost()

    def fill(form: Form) -> dict[str, list[str]]:
        return _fields(
            form,
            {"accountjid": [account], "password": [password], "password-verify": [password]},
        )

    try:
        outcome = await ctx.adhoc.run(ctx.node("register", "add-user"), fill)
    except StanzaError as e:
        if e.condition == "conflict":
            raise already_registered(user, host) from None
        if e.condition in ("not-allowed", "not-acceptable", "bad-request"):
            raise TypedCommandError(
                "cannot_register", 10001, f"Can't register user {user}@{host}: {e.describe()}"
            ) from None
        raise refused(ctx.host, admin_node("add-user"), e) from None
    if outcome.error is not None:
        if "already exists" in outcome.error:  # Prosody's words
            raise already_registered(user, host)
        raise TypedCommandError(
            "cannot_register", 10001, f"Can't register user {user}@{host}: {outcome.error}"
        )
    return ResTuple(f"User {user}@{host} successfully registered")


async def _unregister(ctx: AdminRun, args: Mapping[str, Any]) -> ResTuple:
    user, host = args["user"], args["host"]
    jid = local_jid(user, host, ctx.host)
    if jid is None:
        if local_jid("x", host, ctx.host) is None:
            raise not_served()
        return ResTuple(f"User {user}@{host} was not registered")
    account = jid.userhost()
    node = ctx.node("unregister", "delete-user")
    try:
        outcome = await ctx.adhoc.run(node, lambda form: _account_field(form, account))
    except StanzaError as e:
        if e.condition in _CRASHED:  # ejabberd: its user_exists check failed
            return ResTuple(f"User {user}@{host} was not registered")
        raise refused(ctx.host, node, e) from None
    if "could not be deleted" in outcome.info:  # Prosody lists the accounts it did not find
        return ResTuple(f"User {user}@{host} was not registered")
    _failed(outcome)
    return ResTuple(f"User {user}@{host} unregistered")


async def _change_password(ctx: AdminRun, args: Mapping[str, Any]) -> bool:
    user, host, password = args["user"], args["host"], args["newpass"]
    jid = local_jid(user, host, ctx.host)
    if jid is None:
        raise unknown_user()
    if password == "":
        raise CommandFailed("Empty password")
    account = jid.userhost()
    node = ctx.node("change_password", "change-user-password")

    def fill(form: Form) -> dict[str, list[str]]:
        return _fields(form, {"accountjid": [account], "password": [password]})

    try:
        outcome = await ctx.adhoc.run(node, fill)
    except StanzaError as e:
        if e.condition in _CRASHED:  # ejabberd: its user_exists check failed
            raise unknown_user() from None
        raise refused(ctx.host, node, e) from None
    if outcome.error is not None and "does not exist" in outcome.error:  # Prosody
        raise unknown_user()
    _failed(outcome)
    return True


async def _kick_session(ctx: AdminRun, args: Mapping[str, Any]) -> bool:
    jid = local_jid(args["user"], args["host"], ctx.host, args["resource"])
    if jid is None:
        raise unknown_user()
    session = jid.full()
    outcome = await ctx.run(
        "kick_session", "end-user-session", lambda f: _account_field(f, session)
    )
    if "could not be disconnected" in outcome.info:  # Prosody: no such account
        raise unknown_user()
    _failed(outcome)
    return True


def _all_users(form: Form) -> dict[str, list[str]]:
    """Prosody asks how many online users to list, and whether with details: all, none."""
    values: dict[str, list[str]] = {}
    if form.has("max_items"):
        values["max_items"] = ["all"]
    if form.has("details"):
        values["details"] = ["0"]
    return _fields(form, values)


async def _connected_users(ctx: AdminRun, args: Mapping[str, Any]) -> list[str]:
    outcome = await ctx.run("connected_users", "get-online-users-list", _all_users)
    _failed(outcome)
    return sorted(set(_jids(outcome, "onlineuserjids")))


async def _count(ctx: AdminRun, command: str, name: str, var: str) -> int:
    outcome = await ctx.run(command, name, _all_users)
    _failed(outcome)
    return _number(outcome, var, ctx.host, admin_node(name))


async def _connected_users_number(ctx: AdminRun, args: Mapping[str, Any]) -> int:
    return await _count(ctx, "connected_users_number", "get-online-users-num", "onlineusersnum")


async def _registered_users(ctx: AdminRun, args: Mapping[str, Any]) -> list[str]:
    if local_jid("x", args["host"], ctx.host) is None:
        raise not_served()
    outcome = await ctx.run("registered_users", "get-registered-users-list", _all_users)
    _failed(outcome)
    users = set()
    for jid in _jids(outcome, "registereduserjids"):
        user, at, host = jid.partition("@")
        if at and host == ctx.host:
            users.add(user)
    return sorted(users)


_STAT_NODES = {
    "registeredusers": ("get-registered-users-num", "registeredusersnum"),
    "onlineusers": ("get-online-users-num", "onlineusersnum"),
}


async def _stats(ctx: AdminRun, args: Mapping[str, Any]) -> int:
    name = args["name"]
    if name not in SERVER_STATS:
        raise unknown_statistic(name, SERVER_STATS)
    if name not in _STAT_NODES:
        # onlineusersnode: XEP-0133 does not count per cluster node; uptime and
        # processes are the gateway's own, answered before the backend is asked
        raise NotSupported(f"stats {name}", "xmpp")
    node, var = _STAT_NODES[name]
    return await _count(ctx, f"stats {name}", node, var)


async def _stats_host(ctx: AdminRun, args: Mapping[str, Any]) -> int:
    name = args["name"]
    if name not in HOST_STATS:
        raise unknown_statistic(name, HOST_STATS)
    if local_jid("x", args["host"], ctx.host) is None:
        raise not_served()
    node, var = _STAT_NODES[name]
    return await _count(ctx, f"stats_host {name}", node, var)


async def _ban_account(ctx: AdminRun, args: Mapping[str, Any]) -> bool:
    jid = local_jid(args["user"], args["host"], ctx.host)
    if jid is None:
        raise unknown_user()
    account = jid.userhost()
    outcome = await ctx.run("ban_account", "disable-user", lambda f: _account_field(f, account))
    _failed(outcome)
    return True


@dataclass(frozen=True, slots=True)
class AdminCommand:
    """A catalogue command and the XEP-0133 nodes that can run it (any one of them)."""

    nodes: tuple[str, ...]
    run: Callable[[AdminRun, Mapping[str, Any]], Awaitable[Any]]


ADMIN_COMMANDS: dict[str, AdminCommand] = {
    "register": AdminCommand(("add-user",), _register),
    "unregister": AdminCommand(("delete-user",), _unregister),
    "change_password": AdminCommand(("change-user-password",), _change_password),
    "kick_session": AdminCommand(("end-user-session",), _kick_session),
    "connected_users": AdminCommand(("get-online-users-list",), _connected_users),
    "connected_users_number": AdminCommand(("get-online-users-num",), _connected_users_number),
    "registered_users": AdminCommand(("get-registered-users-list",), _registered_users),
    "stats": AdminCommand(("get-registered-users-num", "get-online-users-num"), _stats),
    "stats_host": AdminCommand(("get-registered-users-num", "get-online-users-num"), _stats_host),
    "ban_account": AdminCommand(("disable-user",), _ban_account),
}
