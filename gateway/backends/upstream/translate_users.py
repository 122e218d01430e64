"""Roster, shared roster group, session, OAuth and cluster commands on a 23.01 upstream.

The separators are those 23.01's own code split on: ``;`` for roster groups
and OAuth scopes, the two characters backslash and ``n`` for the groups a
shared roster group displays.  Answers are read as 23.01's ``/api`` writes
them: ``get_roster`` one line per contact and group (the contacts in the
reverse of the roster's order), a list of strings inside a ``string`` value
joined by line breaks (``srg_get_info``'s displayed groups), a list of
binaries run together without any separator (a token's scopes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from gateway.backends.upstream.translate_rules import (
    Inexpressible,
    Rule,
    jid_from_parts,
    join_pieces,
)
from gateway.engine.catalogue import Catalogue
from gateway.engine.model import ResTuple
from gateway.engine.names import LEGACY_PROFILE
from gateway.engine.scopes import BASE_SCOPES

__all__ = ["USER_RULES", "split_scopes"]

# -- roster ---------------------------------------------------------------------

#: one line of 23.01's get_roster: (jid, nick, subscription, ask, group)
_RosterLine = tuple[str, str, str, str, str]
#: one contact of 24.12's get_roster: (jid, nick, subscription, pending, groups)
_Contact = tuple[str, str, str, str, list[str]]


def _add_rosteritem(given: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in given.items() if key != "groups"}
    out["group"] = join_pieces("add_rosteritem", "roster group name", given["groups"], ";")
    return out


def _contacts(lines: Sequence[_RosterLine]) -> list[_Contact]:
    """23.01's lines gathered per contact, in the roster's order.

    23.01 wrote a contact without groups as one line with group ``""``; its
    ``ask`` held the values 24.12 calls ``pending`` (``subscribe`` or
    ``undefined``), so it is taken as it is.
    """
    found: dict[str, tuple[str, str, str, list[str]]] = {}
    for jid, nick, subscription, ask, group in lines:
        entry = found.get(jid)
        if entry is None:
            entry = found[jid] = (nick, subscription, ask, [])
        entry[3].append(group)
    return [
        (jid, nick, subscription, ask, [] if groups == [""] else groups)
        for jid, (nick, subscription, ask, groups) in reversed(found.items())
    ]


def _roster_count(lines: Sequence[_RosterLine]) -> int:
    """get_roster_count counts the contacts get_roster lists (24.12 reads the same roster)."""
    return len({line[0] for line in lines})


# -- shared roster groups ----------------------------------------------------------

_DISPLAYED = "displayed_groups"


def _srg_create(given: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(given)
    # a line break inside a name could not be told from the separator in srg_get_info's answer
    out["display"] = join_pieces(
        "srg_create", "displayed group", given["display"], "\\n", forbidden=r"[\r\n]"
    )
    return out


def _displayed(text: str) -> list[str]:
    """The displayed groups in 23.01's answer: joined by line breaks, ``""`` for none."""
    return text.split("\n") if text else []


def _srg_get_info_result(value: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """24.12 joins the displayed groups with ``", "`` where 23.01 broke lines."""
    return [
        (key, ", ".join(_displayed(text)) if key == _DISPLAYED else text) for key, text in value
    ]


def _srg_get_displayed_result(value: Sequence[tuple[str, str]]) -> list[str]:
    """srg_get_displayed, read from srg_get_info (an unknown group has no information)."""
    for key, text in value:
        if key == _DISPLAYED:
            return _displayed(text)
    return []


# -- sessions ----------------------------------------------------------------------


def _set_presence(given: Mapping[str, Any]) -> dict[str, Any]:
    return {**given, "priority": str(given["priority"])}


def _status_list_result(
    value: Sequence[tuple[str, str, str, int, str]],
) -> list[tuple[str, int, str]]:
    """23.01 gave each session's user, host and resource apart; 24.12 its full JID."""
    return [
        (jid_from_parts(user, host, resource), priority, status)
        for user, host, resource, priority, status in value
    ]


def _kick_user_result(value: int) -> ResTuple:
    """23.01 answered the number of sessions it closed; 24.12 says it in words."""
    return ResTuple(f"Kicked sessions: {value}")


# -- OAuth ---------------------------------------------------------------------------


@cache
def _known_scopes() -> frozenset[str]:
    """The scopes a 23.01 server grants: its command names and the base scopes."""
    commands = Catalogue.load(LEGACY_PROFILE).names(include_internal=True)
    return frozenset(commands) | BASE_SCOPES


def split_scopes(text: str, known: Collection[str] | None = None) -> list[str] | None:
    """Split scopes that were run together back into ``known`` scope names.

    23.01 grants only its command names and three special scopes, and its
    ``/api`` writes a token's scope list with no separator.  The text is split
    into those names; ``None`` when there is no way, or more than one way, to
    do so (the answer cannot be read without guessing).
    """
    names = _known_scopes() if known is None else frozenset(known)
    lengths = sorted({len(name) for name in names if name})
    # ways[i]: (number of splits of text[i:], capped at 2; one such split)
    nothing: list[str] = []
    ways: list[tuple[int, list[str]]] = [(0, nothing)] * len(text) + [(1, nothing)]
    for start in range(len(text) - 1, -1, -1):
        count, best = 0, nothing
        for length in lengths:
            piece = text[start : start + length]
            if len(piece) < length:
                break
            if piece in names and ways[start + length][0]:
                if count == 0:
                    best = [piece, *ways[start + length][1]]
                count = min(2, count + ways[start + length][0])
        ways[start] = (count, best)
    count, found = ways[0]
    return found if count == 1 else None


def _scopes(command: str, text: str) -> list[str]:
    found = split_scopes(text)
    if found is None:
        raise Inexpressible(
            command,
            f"the upstream writes a token's scopes with nothing between them ({text!r}), "
            "and they cannot be told apart",
        )
    return found


def _oauth_issue_token(given: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(given)
    out["scopes"] = join_pieces("oauth_issue_token", "scope", given["scopes"], ";")
    return out


def _oauth_issue_token_result(value: tuple[str, str, str]) -> tuple[str, list[str], str]:
    token, scopes, expires_in = value
    return token, _scopes("oauth_issue_token", scopes), expires_in


def _oauth_list_tokens_result(
    value: Sequence[tuple[str, str, str, str]],
) -> list[tuple[str, str, str, str]]:
    """The canonical answer separates each token's scopes with blanks."""
    return [
        (token, user, " ".join(_scopes("oauth_list_tokens", scope)), expires_in)
        for token, user, scope, expires_in in value
    ]


# -- cluster ------------------------------------------------------------------------


def _join_cluster_result(value: Any) -> ResTuple:
    """23.01 answered ok or not; it joined before answering, and gave no reason for a failure."""
    if value is True:
        return ResTuple("This node joined that cluster.")
    return ResTuple(
        "The ejabberd 23.01 upstream could not join that cluster (it gives no reason)", "error"
    )


USER_RULES: dict[str, Rule] = {
    "add_rosteritem": Rule(args=_add_rosteritem),
    "get_roster": Rule(result=_contacts),
    "get_roster_count": Rule(upstream="get_roster", result=_roster_count),
    "srg_create": Rule(args=_srg_create),
    "srg_get_info": Rule(result=_srg_get_info_result),
    "srg_get_displayed": Rule(upstream="srg_get_info", result=_srg_get_displayed_result),
    "set_presence": Rule(args=_set_presence),
    "status_list": Rule(result=_status_list_result),
    "status_list_host": Rule(result=_status_list_result),
    "kick_user": Rule(result=_kick_user_result),
    "oauth_issue_token": Rule(args=_oauth_issue_token, result=_oauth_issue_token_result),
    "oauth_list_tokens": Rule(result=_oauth_list_tokens_result),
    "join_cluster": Rule(result=_join_cluster_result),
}
