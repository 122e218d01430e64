"""The embedded backend as the engine sees it: what it claims, and how it fails."""

from __future__ import annotations

import sqlite3

from gateway.backends.embedded.backend import HANDLERS, EmbeddedBackend, _store_down
from gateway.backends.interfaces import Backend
from gateway.engine.catalogue import Catalogue
from gateway.engine.errors import NotSupported
from tests.backends.embedded.cases import MemoryCase

#: the commands issue 4 asks the embedded store to run (other server commands live elsewhere)
ISSUE_COMMANDS = """
register unregister registered_users check_account check_password check_password_hash
change_password ban_account unban_account get_ban_details delete_old_users delete_old_users_vhost
add_rosteritem delete_rosteritem get_roster get_roster_count push_alltoall process_rosteritems
push_roster push_roster_all get_vcard get_vcard2 get_vcard2_multi set_vcard set_vcard2
set_vcard2_multi set_nickname get_last set_last private_get private_set create_room
create_room_with_opts destroy_room change_room_option get_room_options get_room_affiliation
get_room_affiliations set_room_affiliation muc_online_rooms muc_online_rooms_by_regex
muc_register_nick muc_unregister_nick get_subscribers subscribe_room subscribe_room_many
unsubscribe_room get_user_subscriptions rooms_empty_list rooms_empty_destroy rooms_unused_list
rooms_unused_destroy create_rooms_file destroy_rooms_file oauth_issue_token oauth_list_tokens
oauth_revoke_token oauth_add_client_password oauth_add_client_implicit oauth_remove_client
stats stats_host
""".split()


def test_handlers_are_real_commands() -> None:
    """Every handler is named after a public 24.12 command."""
    names = set(Catalogue.load("24.12").names())
    assert set(HANDLERS) <= names


#: issue 4 commands about live rooms, refused since issue 8 (item 12): the store cannot know
LIVE_ROOM_COMMANDS = frozenset(
    {
        "muc_online_rooms",
        "muc_online_rooms_by_regex",
        "rooms_empty_list",
        "rooms_empty_destroy",
        "rooms_unused_list",
        "rooms_unused_destroy",
    }
)


def test_issue_commands_all_handled() -> None:
    """Every account, roster, vCard, last, private, srg, MUC and OAuth command has a handler.

    Changed by issue 8 (item 12): the commands about live rooms (online,
    empty, unused) are deliberately not handled, since no MUC service runs
    in the gateway; they answer "not supported".
    """
    srg = {n for n in Catalogue.load("24.12").names() if n.startswith("srg_")}
    missing = (set(ISSUE_COMMANDS) | srg) - set(HANDLERS)
    assert missing == LIVE_ROOM_COMMANDS


class TestBackendSurface(MemoryCase):
    def test_is_a_backend(self) -> None:
        """The backend satisfies the engine's Backend protocol and is named embedded."""
        assert isinstance(self.backend, Backend)
        assert self.backend.name == "embedded"

    def test_supports_only_handled(self) -> None:
        """supports() is true for handled commands and false for session or cluster ones."""
        assert self.backend.supports("register")
        for name in ("connected_users", "kick_user", "join_cluster", "send_message", "gc"):
            assert not self.backend.supports(name)

    async def test_engine_answers_not_supported(self) -> None:
        """The engine turns an unhandled command into NotSupported naming this backend."""
        error = await self.fails("connected_users_number")
        assert isinstance(error, NotSupported)
        assert "embedded" in error.message

    async def test_execute_unhandled_directly(self) -> None:
        """Called directly with an unhandled command, the backend fails with NotSupported."""
        try:
            await self.backend.execute("kick_user", {}, None)  # type: ignore[arg-type]
        except NotSupported as e:
            assert e.backend == "embedded"
        else:
            raise AssertionError("kick_user ran")

    def test_muc_services_follow_hosts(self) -> None:
        """Each served host gets its MUC service from the @HOST@ template."""
        assert dict(self.backend.ctx.muc_services) == {
            "conference.localhost": "localhost",
            "conference.example.net": "example.net",
        }
        other = EmbeddedBackend(self.store, ["a.org"], self.clock, muc_service="muc.@HOST@")
        assert dict(other.ctx.muc_services) == {"muc.a.org": "a.org"}


def test_store_down_classification() -> None:
    """Lock and I/O errors mean the store is unavailable; SQL mistakes do not."""
    assert _store_down(sqlite3.OperationalError("database is locked"))
    assert _store_down(sqlite3.OperationalError("disk I/O error"))
    assert not _store_down(sqlite3.OperationalError("no such table: x"))
    assert not _store_down(ValueError("x"))
