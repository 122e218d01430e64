"""Shared roster group commands of the embedded backend, on SQLite and PostgreSQL."""

from __future__ import annotations

from gateway.engine.errors import CommandFailed
from tests.backends.embedded.cases import HOST, OTHER, Mixin, PostgresCase, SQLiteCase

#: captured from Debian's ejabberd 23.01: srg_get_info's displayed_groups over XML-RPC
#: and ejabberdctl for the group ``g4`` below ("друг" is no printable Latin-1)
G4_DISPLAYED = (
    '["group_number_one","group_number_two","group_number_three",\n'
    ' "group_number_four","group_number_five","zoë",\n'
    " [208,180,209,128,209,131,208,179],\n"
    ' "q\\"b"]'
)


class SrgTests(Mixin):
    async def _create(self, group: str = "team", display: list[str] | None = None) -> None:
        await self.call(
            "srg_create",
            group=group,
            host=HOST,
            label=group.title(),
            description=f"The {group}",
            display=display if display is not None else [group],
        )

    async def test_create_list_info(self) -> None:
        """srg_create makes a group that srg_list and srg_get_info show."""
        await self._create("team", ["team", "ops", "", "ops"])
        await self._create("ops")
        assert await self.call("srg_list", host=HOST) == ["ops", "team"]
        assert await self.call("srg_list", host=OTHER) == []
        assert await self.call("srg_get_info", group="team", host=HOST) == [
            ("label", "Team"),
            ("description", "The team"),
            ("displayed_groups", "team, ops"),
        ]
        assert await self.call("srg_get_displayed", group="team", host=HOST) == ["team", "ops"]

    async def test_get_info_in_2301(self) -> None:
        """The 23.01 profile answers srg_get_info in 23.01's order and per-dialect values.

        Captured from Debian's ejabberd 23.01 after the same srg_create calls: /api
        gives ``label, displayed_groups, description`` (then flags) with the groups
        joined by line breaks and empty values as ``""``; XML-RPC and ejabberdctl
        print empty values as ``[]`` and the groups with ``~p``.
        """
        await self.legacy_call(
            "srg_create", group="g1", host=HOST, label="", description="d", display=""
        )
        await self.legacy_call("srg_user_add", user="@all@", host=HOST, group="g1", grouphost=HOST)
        g1 = await self.legacy_call("srg_get_info", group="g1", host=HOST)
        assert g1 == [
            ("label", ""),
            ("displayed_groups", ""),
            ("description", "d"),
            ("all_users", "true"),
        ]
        assert [getattr(v, "printed", v) for _, v in g1] == ["[]", "[]", "d", "true"]
        groups = [
            "group_number_one",
            "group_number_two",
            "group_number_three",
            "group_number_four",
            "group_number_five",
            "zoë",
            "друг",
            'q"b',
        ]
        await self.legacy_call(
            "srg_create",
            group="g4",
            host=HOST,
            label="Zoë €",
            description="",
            display="\\n".join(groups),
        )
        g4 = await self.legacy_call("srg_get_info", group="g4", host=HOST)
        assert g4 == [
            ("label", "Zoë €"),
            ("displayed_groups", "\n".join(groups)),
            ("description", ""),
        ]
        assert [getattr(v, "printed", v) for _, v in g4] == ["Zoë €", G4_DISPLAYED, "[]"]
        assert await self.legacy_call("srg_get_info", group="nope", host=HOST) == []

    async def test_create_again_replaces_details_keeps_members(self) -> None:
        """Creating an existing group replaces its details; its members stay."""
        await self._create("team")
        await self.call("srg_user_add", user="bob", host=HOST, group="team", grouphost=HOST)
        await self.call(
            "srg_create", group="team", host=HOST, label="T", description="d", display=[]
        )
        assert await self.call("srg_get_info", group="team", host=HOST) == [
            ("label", "T"),
            ("description", "d"),
        ]
        assert await self.call("srg_get_members", group="team", host=HOST) == ["bob@localhost"]

    async def test_add_keeps_existing(self) -> None:
        """srg_add creates a bare group, and leaves an existing one untouched."""
        assert await self.call("srg_add", group="new", host=HOST) is True
        assert await self.call("srg_get_info", group="new", host=HOST) == [
            ("label", "new"),
            ("description", ""),
        ]
        await self._create("team")
        await self.call("srg_add", group="team", host=HOST)
        info = dict(await self.call("srg_get_info", group="team", host=HOST))
        assert info["label"] == "Team"

    async def test_set_info(self) -> None:
        """srg_set_info changes the label or description; other keys are refused."""
        await self._create("team")
        await self.call("srg_set_info", group="team", host=HOST, key="label", value="Family")
        await self.call("srg_set_info", group="team", host=HOST, key="description", value="Us")
        info = dict(await self.call("srg_get_info", group="team", host=HOST))
        assert (info["label"], info["description"]) == ("Family", "Us")
        error = await self.fails("srg_set_info", group="team", host=HOST, key="color", value="x")
        assert "Unknown information key 'color'" in error.message

    async def test_displayed_groups(self) -> None:
        """srg_add_displayed appends once; srg_del_displayed removes."""
        await self._create("team", [])
        for name in ("a", "b", "a"):
            await self.call("srg_add_displayed", group="team", host=HOST, add=name)
        assert await self.call("srg_get_displayed", group="team", host=HOST) == ["a", "b"]
        await self.call("srg_del_displayed", group="team", host=HOST, **{"del": "a"})
        await self.call("srg_del_displayed", group="team", host=HOST, **{"del": "zzz"})
        assert await self.call("srg_get_displayed", group="team", host=HOST) == ["b"]

    async def test_members(self) -> None:
        """Members can be any JID, are listed sorted and removed one by one."""
        await self._create("team")
        for user, host in (("Bob", HOST), ("amy", "example.org"), ("bob", HOST)):
            assert await self.call(
                "srg_user_add", user=user, host=host, group="team", grouphost=HOST
            )
        members = await self.call("srg_get_members", group="team", host=HOST)
        assert members == ["amy@example.org", "bob@localhost"]
        await self.call("srg_user_del", user="bob", host=HOST, group="team", grouphost=HOST)
        assert await self.call("srg_get_members", group="team", host=HOST) == ["amy@example.org"]

    async def test_all_and_online_flags(self) -> None:
        """@all@ and @online@ set the group's flags instead of becoming members."""
        await self._create("team", [])
        await self.call("srg_user_add", user="@all@", host=HOST, group="team", grouphost=HOST)
        await self.call("srg_user_add", user="@online@", host=HOST, group="team", grouphost=HOST)
        info = dict(await self.call("srg_get_info", group="team", host=HOST))
        assert (info["all_users"], info["online_users"]) == ("true", "true")
        assert await self.call("srg_get_members", group="team", host=HOST) == []
        await self.call("srg_user_del", user="@all@", host=HOST, group="team", grouphost=HOST)
        assert "all_users" not in dict(await self.call("srg_get_info", group="team", host=HOST))

    async def test_delete(self) -> None:
        """srg_delete removes the group with its members; deleting again is fine."""
        await self._create("team")
        await self.call("srg_user_add", user="bob", host=HOST, group="team", grouphost=HOST)
        assert await self.call("srg_delete", group="team", host=HOST) is True
        assert await self.call("srg_list", host=HOST) == []
        assert await self.call("srg_delete", group="team", host=HOST) is True
        members = await self.store.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM srg_members"))
        assert members == 0

    async def test_missing_group_and_bad_input(self) -> None:
        """Commands on a missing group are not_found; bad hosts and JIDs are named."""
        for command, extra in (
            ("srg_get_members", {}),
            ("srg_get_displayed", {}),
            ("srg_add_displayed", {"add": "x"}),
            ("srg_set_info", {"key": "label", "value": "x"}),
        ):
            error = await self.fails(command, group="ghost", host=HOST, **extra)
            assert isinstance(error, CommandFailed) and error.code == "not_found"
            assert "ghost@localhost" in error.message
        error = await self.fails(
            "srg_user_add", user="bob", host=HOST, group="ghost", grouphost=HOST
        )
        assert error.code == "not_found"
        assert await self.call("srg_get_info", group="ghost", host=HOST) == []
        error = await self.fails("srg_list", host="nowhere.org")
        assert error.message == "Unknown virtual host"
        await self._create("team")
        error = await self.fails(
            "srg_user_add", user="a b", host=HOST, group="team", grouphost=HOST
        )
        assert "Invalid" in error.message
        error = await self.fails(
            "srg_create", group="", host=HOST, label="", description="", display=[]
        )
        assert "must not be empty" in error.message


class TestSrgSQLite(SrgTests, SQLiteCase):
    pass


class TestSrgPostgres(SrgTests, PostgresCase):
    pass
