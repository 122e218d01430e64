"""Answers captured from Debian's ejabberd 23.01, shared by the tests that pin them."""

from __future__ import annotations

#: get_room_options (/api) of a room created by create_room_with_opts with persistent=true
#: and nothing else set
ROOM_OPTIONS_2301: tuple[tuple[str, str], ...] = (
    ("title", ""),
    ("description", ""),
    ("allow_change_subj", "true"),
    ("allow_query_users", "true"),
    ("allow_private_messages", "true"),
    ("allow_private_messages_from_visitors", "anyone"),
    ("allow_visitor_status", "true"),
    ("allow_visitor_nickchange", "true"),
    ("public", "true"),
    ("public_list", "true"),
    ("persistent", "true"),
    ("moderated", "true"),
    ("captcha_protected", "false"),
    ("members_by_default", "true"),
    ("members_only", "false"),
    ("allow_user_invites", "false"),
    ("allow_subscription", "false"),
    ("password_protected", "false"),
    ("password", ""),
    ("anonymous", "true"),
    ("presence_broadcast", "[moderator,participant,visitor]"),
    ("allow_voice_requests", "true"),
    ("voice_request_min_interval", "1800"),
    ("max_users", "200"),
    ("logging", "false"),
    ("vcard", ""),
    ("vcard_xupdate", "undefined"),
    ("captcha_whitelist", "{0,nil}"),
    ("mam", "false"),
    ("pubsub", ""),
    ("enable_hats", "false"),
    ("lang", ""),
)
