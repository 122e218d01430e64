"""Canonical command calls as an upstream ejabberd's API takes them, and its answers back.

The engine hands a backend canonical calls: the newest 24.12 definition's
name and typed arguments, and expects an answer shaped like that
definition's result.  :func:`translate_call` says what to send an upstream
speaking ``profile`` instead (:class:`UpstreamCall`), :func:`translate_result`
turns the upstream's decoded answer back into the canonical one.

A 24.12 upstream takes canonical calls as they are, at the newest version.

A 23.01 upstream has no API versions and knows each command as 23.01
defined it.  A command whose 23.01 definition takes and returns exactly what
the canonical one does is sent unchanged, unless listed below.  Every other
command has a rule (:mod:`.translate_muc`, :mod:`.translate_users`); a
command 23.01 lacks, or a call 23.01 cannot express, is refused with
:class:`~.translate_rules.Inexpressible` (a
:class:`~gateway.engine.errors.NotSupported` saying what 23.01 lacks).
The differences, and what is done with them:

==========================  ==================================================================
command                     sent to 23.01 as / read back as
==========================  ==================================================================
add_rosteritem              ``groups`` list → ``group`` joined by ``;``; a name that is empty
                            or holds ``;`` is refused
change_room_option          ``room`` → ``name``; option ``allowpm`` → ``allow_private_messages``
                            (``anyone`` → ``true``, ``none`` → ``false``; the other levels
                            are refused)
create_room_with_opts       the same, for each option
create_room, destroy_room,  ``room`` → ``name``
get_room_affiliation,
get_room_occupants,
get_room_occupants_number,
get_subscribers
get_room_options            ``room`` → ``name``; ``allow_private_messages`` read back as
                            ``allowpm``; the other options as listed (23.01 and 24.12 both list
                            ``vcard_xupdate`` and ``captcha_whitelist``)
get_room_affiliations       ``room`` → ``name``; each ``username``, ``domain`` read back as
                            one ``jid``
set_room_affiliation        ``room`` → ``name``; ``user``, ``host`` → ``jid``
muc_register_nick,          ``user``, ``host`` → ``jid``
muc_unregister_nick
subscribe_room              ``user``, ``host`` → the user's JID; ``room``, ``service`` → the
                            room's JID; ``nodes`` joined by ``,`` (empty list, empty node,
                            comma or blanks at a node's edge refused)
subscribe_room_many         the same for each user and for the room
unsubscribe_room            the user's and the room's JID
send_direct_invitation      ``room`` → ``name``; ``users`` joined by ``:`` (empty list, empty
                            JID or ``:`` refused)
rooms_empty_destroy         the list of destroyed rooms read back as ``Destroyed rooms: N``
get_roster                  one line per contact and group read back as one contact with its
                            groups (group ``""`` alone: no group), ``ask`` as ``pending``, in
                            the roster's order (23.01 listed it reversed)
get_roster_count            (not in 23.01) sent as ``get_roster``; the contacts are counted
srg_create                  ``display`` joined by backslash-``n``; a name that is empty or holds
                            backslash-``n`` or a line break is refused
srg_get_info                ``displayed_groups`` (line breaks) read back joined by ``", "``
srg_get_displayed           (not in 23.01) sent as ``srg_get_info``; ``displayed_groups`` split
set_presence                ``priority`` integer → its decimal text
status_list,                each session's ``user``, ``host``, ``resource`` read back as one
status_list_host            full ``jid``
kick_user                   the number of closed sessions read back as ``Kicked sessions: N``
oauth_issue_token           ``scopes`` joined by ``;`` (empty or ``;`` refused); the answer's
                            scopes, run together by 23.01, split again into 23.01's scope names
                            (refused when that cannot be done one way only)
oauth_list_tokens           each token's run-together scopes split the same way, joined by blanks
join_cluster                ``true`` read back as an ok restuple; ``false`` as an error restuple
                            (23.01 gives no reason)
ban_account                 sent unchanged (same definition): 23.01 kicks the account and
                            replaces its password, where 24.12 marks a ban it can lift
unregister, oauth_* (ok     sent unchanged: 23.01 and 24.12 both answer ``{ok, ""}``
text), delete_old_users*,   and the same ``Deleted N users: ~p`` text; ``status`` is the
status                      upstream's own text
==========================  ==================================================================

Refused because ejabberd 23.01 has no such command: ``evacuate_kindly``,
``get_ban_details``, ``unban_account``, ``get_mam_count``, ``get_master``,
``get_room_history``, ``halt``, ``join_cluster_here``,
``list_cluster_detailed``, ``srg_add``, ``srg_add_displayed``,
``srg_del_displayed``, ``srg_set_info`` (each would need a read and a write
that another client could come between), the ctl-only ``help``,
``mnesia_info_ctl``, ``print_sql_schema``, and the internal ``echo``,
``echo3``, ``get_mam_messages``, ``get_offline_messages``, ``mnesia_*`` and
``webadmin_*``.

Tags changed too (``mam``, ``offline``, ``muc_sub``), which only matters to
``api_permissions``: the gateway judges callers by its own catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from gateway.backends.upstream.translate_muc import MUC_RULES
from gateway.backends.upstream.translate_rules import UPSTREAM_2301, Inexpressible, Rule
from gateway.backends.upstream.translate_users import USER_RULES
from gateway.engine.catalogue import Catalogue
from gateway.engine.dispatch import with_policy_args
from gateway.engine.model import CommandDefinition
from gateway.engine.names import CURRENT_PROFILE, LEGACY_PROFILE

__all__ = [
    "LEGACY_RULES",
    "UPSTREAM_2301",
    "Inexpressible",
    "UpstreamCall",
    "legacy_rule",
    "translate_call",
    "translate_result",
]


@dataclass(frozen=True)
class UpstreamCall:
    """One call to send to the upstream."""

    #: the command's name at the upstream
    name: str
    #: the API version to ask for; ``None`` for 23.01, which has no versions
    version: int | None
    #: typed arguments keyed by the upstream definition's argument names, in its order
    args: dict[str, Any]
    #: the upstream's definition (``policy: user`` commands take ``user`` and ``host``
    #: first, as :func:`~gateway.engine.dispatch.with_policy_args` shows them); its result
    #: type decodes the answer
    definition: CommandDefinition


#: every canonical command that a 23.01 upstream runs differently
LEGACY_RULES: dict[str, Rule] = {**MUC_RULES, **USER_RULES}

_UNCHANGED = Rule()


def _definition(profile: str, name: str) -> CommandDefinition:
    return with_policy_args(Catalogue.load(profile).newest(name))


@cache
def legacy_rule(command: str) -> Rule:
    """How canonical ``command`` runs on a 23.01 upstream.

    Raises:
        UnknownCommand: the canonical catalogue has no such command.
        Inexpressible: 23.01 has no such command, or a differing definition
            that no rule translates.
    """
    newest = _definition(CURRENT_PROFILE, command)
    rule = LEGACY_RULES.get(command)
    if rule is not None:
        return rule
    if command not in Catalogue.load(LEGACY_PROFILE):
        raise Inexpressible(command, "ejabberd 23.01 has no such command")
    if not _definition(LEGACY_PROFILE, command).same_signature(newest):
        # every difference has a rule (the tests hold this); refuse rather than guess
        raise Inexpressible(command, "its 23.01 definition differs and is not translated")
    return _UNCHANGED


def translate_call(profile: str, command: str, args: Mapping[str, Any]) -> UpstreamCall:
    """The call to send an upstream speaking ``profile`` for canonical ``command``.

    ``args`` are the canonical typed arguments, keyed by the newest 24.12
    definition's names.

    Raises:
        Inexpressible: the upstream's API cannot express this call.
        UnknownCommand: no such canonical command.
        ValueError: ``profile`` is no API profile.
    """
    if profile == CURRENT_PROFILE:
        definition = _definition(CURRENT_PROFILE, command)
        return UpstreamCall(command, definition.version, dict(args), definition)
    if profile != LEGACY_PROFILE:
        raise ValueError(f"unknown API profile {profile!r}")
    rule = legacy_rule(command)
    name = rule.upstream or command
    definition = _definition(LEGACY_PROFILE, name)
    given = rule.args(args)
    wanted = definition.arg_names
    if set(given) != set(wanted):
        raise ValueError(
            f"{command}: translated arguments {sorted(given)} do not match "
            f"23.01 {name}'s {list(wanted)}"
        )
    return UpstreamCall(name, None, {key: given[key] for key in wanted}, definition)


def translate_result(profile: str, command: str, value: Any) -> Any:
    """The canonical answer of ``command`` from the decoded answer of an upstream of ``profile``.

    ``value`` is the upstream's answer decoded by the result type of the
    :class:`UpstreamCall` definition that :func:`translate_call` gave.

    Raises:
        Inexpressible: the answer cannot be read back without guessing.
    """
    if profile == CURRENT_PROFILE:
        return value
    if profile != LEGACY_PROFILE:
        raise ValueError(f"unknown API profile {profile!r}")
    return legacy_rule(command).result(value)
