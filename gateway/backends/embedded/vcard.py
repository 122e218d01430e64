"""vCard commands (XEP-0054 vcard-temp), on the vCard XML kept per account.

``get_vcard*`` answer ejabberd's ``error_no_vcard_found`` when the account
has no vCard and ``error_no_value_found_in_vcard`` when the field is empty.
``set_vcard*`` create the vCard when needed and replace the field's values;
they need an existing account (``not_found`` / ``unknown_user``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from gateway.backends.embedded.context import (
    Context,
    Handler,
    lock_account,
    prep_user,
    unknown_user,
)
from gateway.backends.embedded.store import Tx
from gateway.backends.embedded.xmltext import parse_element, to_text
from gateway.engine.errors import CommandFailed

__all__ = ["HANDLERS", "roster_name"]

NS = "vcard-temp"
EMPTY = f"<vCard xmlns='{NS}'/>"


def _tag(name: str) -> str:
    try:
        return etree.QName(NS, name).text
    except ValueError:
        raise CommandFailed(f"Invalid vCard field name '{name}'") from None


def _cdata(element: etree._Element) -> str:
    """The element's own text, as ejabberd's get_tag_cdata reads it."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def _values(vcard: etree._Element, path: Sequence[str]) -> list[str]:
    outer = vcard.findall(_tag(path[0]))
    if len(path) == 1:
        return [_cdata(e) for e in outer]
    return [_cdata(inner) for e in outer for inner in e.findall(_tag(path[1]))]


def roster_name(tx: Tx, user: str, host: str) -> str:
    """The name a shared roster group gives ``user@host``: its vCard's NICKNAME, else FN.

    As mod_shared_roster reads it: the first element's text, ``""`` when the
    account has no vCard or neither field has text.
    """
    text = tx.scalar("SELECT vcard FROM vcards WHERE host = ? AND username = ?", (host, user))
    if text is None:
        return ""
    vcard = parse_element(text)
    for name in ("NICKNAME", "FN"):
        found = vcard.find(_tag(name))
        value = _cdata(found) if found is not None else ""
        if value:
            return value
    return ""


def _replace(parent: etree._Element, name: str, contents: Sequence[str]) -> None:
    """Drop ``parent``'s ``name`` children and add one per content, where the first was."""
    tag = _tag(name)
    old = parent.findall(tag)
    index = list(parent).index(old[0]) if old else len(parent)
    for element in old:
        parent.remove(element)
    for offset, content in enumerate(contents):
        element = etree.Element(tag)
        element.text = content
        parent.insert(index + offset, element)


def _thrown(atom: str) -> CommandFailed:
    """One of the bare atoms mod_admin_extra throws when reading a vCard."""
    return CommandFailed(atom, atom=atom, thrown=True)


async def _read_vcard(ctx: Context, args: Mapping[str, Any]) -> etree._Element:
    try:
        host = ctx.host(args["host"])
    except CommandFailed:
        # ejabberd finds no route to that host
        raise _thrown("error_wrong_hostname") from None
    user = prep_user(args["user"])
    text = None
    if user is not None:
        text = await ctx.store.read(
            lambda tx: tx.scalar(
                "SELECT vcard FROM vcards WHERE host = ? AND username = ?", (host, user)
            )
        )
    if text is None:
        raise _thrown("error_no_vcard_found")
    return parse_element(text)


async def _get(ctx: Context, args: Mapping[str, Any], path: Sequence[str]) -> list[str]:
    for name in path:
        _tag(name)
    values = _values(await _read_vcard(ctx, args), path)
    if not values:
        raise _thrown("error_no_value_found_in_vcard")
    return values


async def _set(
    ctx: Context, args: Mapping[str, Any], path: Sequence[str], contents: Sequence[str]
) -> bool:
    host = ctx.host(args["host"])
    user = prep_user(args["user"])
    if user is None:
        raise unknown_user()
    for name in path:
        _tag(name)

    def update(tx: Tx) -> bool:
        if not lock_account(tx, user, host):
            raise unknown_user()
        text = tx.scalar("SELECT vcard FROM vcards WHERE host = ? AND username = ?", (host, user))
        vcard = parse_element(text if text is not None else EMPTY)
        if len(path) == 1:
            _replace(vcard, path[0], contents)
        else:
            outer = vcard.find(_tag(path[0]))
            if outer is None:
                outer = etree.SubElement(vcard, _tag(path[0]))
            _replace(outer, path[1], contents)
        tx.execute(
            "INSERT INTO vcards (host, username, vcard) VALUES (?, ?, ?)"
            " ON CONFLICT (host, username) DO UPDATE SET vcard = excluded.vcard",
            (host, user, to_text(vcard)),
        )
        return True

    return await ctx.store.write(update)


async def _get_vcard(ctx: Context, args: Mapping[str, Any]) -> str:
    return (await _get(ctx, args, [args["name"]]))[0]


async def _get_vcard2(ctx: Context, args: Mapping[str, Any]) -> str:
    return (await _get(ctx, args, [args["name"], args["subname"]]))[0]


async def _get_vcard2_multi(ctx: Context, args: Mapping[str, Any]) -> list[str]:
    return await _get(ctx, args, [args["name"], args["subname"]])


async def _set_vcard(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _set(ctx, args, [args["name"]], [args["content"]])


async def _set_vcard2(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _set(ctx, args, [args["name"], args["subname"]], [args["content"]])


async def _set_vcard2_multi(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _set(ctx, args, [args["name"], args["subname"]], list(args["contents"]))


async def _set_nickname(ctx: Context, args: Mapping[str, Any]) -> bool:
    return await _set(ctx, args, ["NICKNAME"], [args["nickname"]])


HANDLERS: dict[str, Handler] = {
    "get_vcard": _get_vcard,
    "get_vcard2": _get_vcard2,
    "get_vcard2_multi": _get_vcard2_multi,
    "set_vcard": _set_vcard,
    "set_vcard2": _set_vcard2,
    "set_vcard2_multi": _set_vcard2_multi,
    "set_nickname": _set_nickname,
}
