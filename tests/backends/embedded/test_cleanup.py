"""What goes with an account, and logins recorded as last activity, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from gateway.backends.embedded.context import iso_timestamp
from gateway.engine.model import ResTuple
from gateway.frontends.extauth import answer
from tests.backends.embedded.cases import HOST, Mixin, PostgresCase, SQLiteCase

SERVICE = "conference.localhost"
MESSAGES = "urn:xmpp:mucsub:nodes:messages"
DAY = 86400


class CleanupTests(Mixin):
    async def _involve(self, user: str, nick: str) -> None:
        """Give ``user@localhost`` an affiliation, a subscription, a nick and a group."""
        await self.call(
            "set_room_affiliation",
            room="lobby",
            service=SERVICE,
            user=user,
            host=HOST,
            affiliation="admin",
        )
        await self.call(
            "subscribe_room",
            user=user,
            host=HOST,
            nick=nick,
            room="lobby",
            service=SERVICE,
            nodes=[MESSAGES],
        )
        await self.call("muc_register_nick", nick=nick, user=user, host=HOST, service=SERVICE)
        await self.call("srg_user_add", user=user, host=HOST, group="team", grouphost=HOST)

    async def _records(self) -> dict[str, Any]:
        """Who appears in the room and the group, through the commands."""
        return {
            "affiliations": await self.call("get_room_affiliations", room="lobby", service=SERVICE),
            "subscribers": await self.call("get_subscribers", room="lobby", service=SERVICE),
            "members": await self.call("srg_get_members", group="team", host=HOST),
            "nicks": sorted(
                await self.store.read(lambda tx: tx.all("SELECT jid, nick FROM muc_nicks"))
            ),
        }

    async def _setup(self) -> None:
        await self.call("create_room", room="lobby", service=SERVICE, host=HOST)
        # a room takes MUC/Sub subscriptions only when it allows them
        await self.call(
            "change_room_option",
            room="lobby",
            service=SERVICE,
            option="allow_subscription",
            value="true",
        )
        await self.call(
            "srg_create", group="team", host=HOST, label="T", description="", display=[]
        )
        for user, nick in (("bob", "Bob"), ("amy", "Amy")):
            await self.register(user)
            await self._involve(user, nick)

    async def test_unregister_removes_muc_and_group_records(self) -> None:
        """unregister drops the account's affiliations, subscriptions, nicks and memberships."""
        await self._setup()
        await self.call("unregister", user="bob", host=HOST)
        assert await self._records() == {
            "affiliations": [("amy@localhost", "admin", "")],
            "subscribers": ["amy@localhost"],
            "members": ["amy@localhost"],
            "nicks": [("amy@localhost", "Amy")],
        }
        # the nickname is free for someone else now
        assert await self.call(
            "muc_register_nick", nick="Bob", user="amy", host=HOST, service=SERVICE
        )

    async def test_unregister_of_a_jid_without_account_keeps_its_records(self) -> None:
        """Records of a JID that never had an account stay when unregister finds no account."""
        await self._setup()
        await self._involve("carol", "Carol")
        before = await self._records()
        result = await self.call("unregister", user="carol", host=HOST)
        assert result == ResTuple("User carol@localhost was not registered")
        assert await self._records() == before

    async def test_removeuser3_with_wrong_password_keeps_everything(self) -> None:
        """extauth's removeuser3 with a wrong password removes nothing at all."""
        await self._setup()
        before = await self._records()
        assert await self.backend.remove_user("bob", HOST, "wrong") is False
        assert await self._records() == before
        assert await self.backend.remove_user("bob", HOST, "secret") is True
        assert (await self._records())["members"] == ["amy@localhost"]

    async def test_purge_removes_records_too(self) -> None:
        """delete_old_users removes the purged accounts' MUC and group records as well."""
        await self._setup()
        self.clock.advance(10 * DAY)
        await self.backend.record_login("amy", HOST)
        await self.call("delete_old_users", days=5)
        assert await self._records() == {
            "affiliations": [("amy@localhost", "admin", "")],
            "subscribers": ["amy@localhost"],
            "members": ["amy@localhost"],
            "nicks": [("amy@localhost", "Amy")],
        }

    # -- logins as last activity ----------------------------------------------------------------

    async def test_record_login_sets_last_activity(self) -> None:
        """A recorded login is get_last's time, with an empty status replacing the old one."""
        await self.register("bob")
        await self.call("set_last", user="bob", host=HOST, timestamp=1000, status="Away")
        self.clock.advance(30.5)
        assert await self.backend.record_login("bob", HOST) is True
        when = int(self.clock.seconds())
        assert await self.call("get_last", user="bob", host=HOST) == (iso_timestamp(when), "")

    async def test_extauth_login_is_recorded(self) -> None:
        """An extauth auth with the right password records the login; a wrong one does not."""
        await self.register("bob", password="pw")
        assert await answer(self.backend, "auth:bob:localhost:wrong") is False
        # nothing recorded yet: the account's registration, as ejabberd's mod_last shows it
        assert (await self.call("get_last", user="bob", host=HOST))[1] == (
            "Registered but didn't login"
        )
        self.clock.advance(12)
        assert await answer(self.backend, "auth:bob:localhost:pw") is True
        when = iso_timestamp(int(self.clock.seconds()))
        assert await self.call("get_last", user="bob", host=HOST) == (when, "")

    async def test_record_login_of_unknown_account(self) -> None:
        """No account, a malformed name or a host not served: nothing recorded, false."""
        assert await self.backend.record_login("ghost", HOST) is False
        assert await self.backend.record_login("a@b", HOST) is False
        assert await self.backend.record_login("bob", "nowhere.org") is False
        rows = await self.store.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM last_activity"))
        assert rows == 0

    async def test_logins_keep_accounts_from_purges(self) -> None:
        """delete_old_users spares an old account that logged in recently."""
        await self.register("active")
        await self.register("idle")
        self.clock.advance(40 * DAY)
        await self.backend.record_login("Active", HOST)
        result = await self.call("delete_old_users", days=30)
        assert result == ResTuple('Deleted 1 users: ["idle@localhost"]')
        assert await self.call("registered_users", host=HOST) == ["active"]


class TestCleanupSQLite(CleanupTests, SQLiteCase):
    pass


class TestCleanupPostgres(CleanupTests, PostgresCase):
    pass
