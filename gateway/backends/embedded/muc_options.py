"""MUC room options: names, kinds and defaults, and how their values are read and printed.

The names and defaults follow ejabberd's room configuration (``default_room_options``).
Values are kept and shown as ejabberd's ``get_room_options`` prints them:
booleans ``true``/``false``, integers in decimal, lists as ``[a,b]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.engine.errors import CommandFailed

__all__ = ["OPTIONS", "RoomOption", "normalise"]

ROLES = ("moderator", "participant", "visitor")


@dataclass(frozen=True, slots=True)
class RoomOption:
    """One room option: ``kind`` is bool, int, text, choice or roles."""

    name: str
    kind: str
    default: str
    choices: tuple[str, ...] = ()


def _bool(name: str, default: bool) -> RoomOption:
    return RoomOption(name, "bool", "true" if default else "false")


#: every option, in the order get_room_options lists them
OPTIONS: dict[str, RoomOption] = {
    o.name: o
    for o in (
        RoomOption("title", "text", ""),
        RoomOption("description", "text", ""),
        _bool("allow_change_subj", True),
        _bool("allow_query_users", True),
        RoomOption("allowpm", "choice", "anyone", ("anyone", "participants", "moderators", "none")),
        RoomOption(
            "allow_private_messages_from_visitors",
            "choice",
            "anyone",
            ("anyone", "moderators", "nobody"),
        ),
        _bool("allow_visitor_status", True),
        _bool("allow_visitor_nickchange", True),
        _bool("public", True),
        _bool("public_list", True),
        _bool("persistent", False),
        _bool("moderated", True),
        _bool("captcha_protected", False),
        _bool("members_by_default", True),
        _bool("members_only", False),
        _bool("allow_user_invites", False),
        _bool("allow_subscription", False),
        _bool("password_protected", False),
        RoomOption("password", "text", ""),
        _bool("anonymous", True),
        RoomOption("presence_broadcast", "roles", "[moderator,participant,visitor]"),
        _bool("allow_voice_requests", True),
        RoomOption("voice_request_min_interval", "int", "1800"),
        RoomOption("max_users", "int", "200"),
        _bool("logging", False),
        RoomOption("vcard", "text", ""),
        _bool("mam", False),
        RoomOption("pubsub", "text", ""),
        _bool("enable_hats", False),
        RoomOption("lang", "text", ""),
    )
}


def _invalid(option: RoomOption, value: str, expected: str) -> CommandFailed:
    return CommandFailed(f"Invalid value '{value}' for room option {option.name}: {expected}")


def normalise(name: str, value: str) -> str:
    """``value`` for option ``name`` in its stored (printed) form.

    Raises:
        CommandFailed: for an unknown option or a value of the wrong kind.
    """
    option = OPTIONS.get(name)
    if option is None:
        raise CommandFailed(f"Unknown room option '{name}'")
    if option.kind == "bool":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise _invalid(option, value, "use true or false")
        return lowered
    if option.kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise _invalid(option, value, "use a whole number") from None
        if number < 0:
            raise _invalid(option, value, "use a number of zero or more")
        return str(number)
    if option.kind == "choice":
        if value not in option.choices:
            raise _invalid(option, value, "use " + ", ".join(option.choices))
        return value
    if option.kind == "roles":
        roles = [r.strip() for r in value.strip("[]").split(",") if r.strip()]
        if any(r not in ROLES for r in roles):
            raise _invalid(option, value, "use a list of moderator, participant, visitor")
        return "[" + ",".join(dict.fromkeys(roles)) + "]"
    return value
