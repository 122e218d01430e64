"""Roster commands of the embedded backend, through the engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from gateway.engine.errors import CommandFailed, PathRefused
from gateway.engine.files import FilesDir
from tests.backends.embedded.cases import HOST, OTHER, Mixin, PostgresCase, SQLiteCase


def _item(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "localuser": "bob",
        "localhost": HOST,
        "user": "amy",
        "host": "example.org",
        "nick": "Amy",
        "groups": ["Friends"],
        "subs": "both",
    }
    args.update(overrides)
    return args


class RosterTests(Mixin):
    _files: Path | None = None

    def _file(self, text: str) -> str:
        """``text`` in a new file of this test's files directory (the backend's); its path."""
        if self._files is None:
            self._files = Path(tempfile.mkdtemp(prefix="gateway-roster-"))
            self.addCleanup(shutil.rmtree, self._files, True)
            self.use_backend(files=FilesDir(str(self._files)))
        path = self._files / f"roster-{len(list(self._files.iterdir()))}.txt"
        path.write_text(text, encoding="utf-8")
        return str(path)

    async def test_add_and_get(self) -> None:
        """add_rosteritem stores the contact; get_roster lists it with sorted groups.

        ``pending`` reads ``undefined`` when no request of ours waits, as ejabberd's
        roster item ask does (it read ``none``, the stored value, before).
        """
        await self.register("bob")
        assert await self.call("add_rosteritem", **_item(groups=["Team", "Friends"])) is True
        await self.call("add_rosteritem", **_item(user="", host="icq.example.org", subs="to"))
        assert await self.call("get_roster", user="bob", host=HOST) == [
            ("amy@example.org", "Amy", "both", "undefined", ["Friends", "Team"]),
            ("icq.example.org", "Amy", "to", "undefined", ["Friends"]),
        ]
        assert await self.call("get_roster_count", user="bob", host=HOST) == 2

    async def test_add_replaces_existing_item(self) -> None:
        """Adding the same contact again replaces nick, subscription and groups."""
        await self.register("bob")
        await self.call("add_rosteritem", **_item(groups=["A", "B"]))
        await self.call(
            "add_rosteritem", **_item(user="AMY", nick="Amelia", groups=[], subs="from")
        )
        assert await self.call("get_roster", user="bob", host=HOST) == [
            ("amy@example.org", "Amelia", "from", "undefined", [])
        ]

    async def test_add_failures(self) -> None:
        """Unknown local account or host, bad contact JID and bad subscription are refused."""
        await self.register("bob")
        cases = [
            (_item(localuser="ghost"), "unknown_user"),
            (_item(localhost="nowhere.org"), "Unknown virtual host"),
            (_item(user="a b@c"), "Invalid 'user'/'server'"),
            (_item(user="@@"), "Invalid 'user'/'server'"),
            (_item(host=""), "Invalid 'user'/'server'"),
            (_item(subs="sideways"), "Invalid subscription 'sideways'"),
        ]
        for args, text in cases:
            error = await self.fails("add_rosteritem", **args)
            assert isinstance(error, CommandFailed) and text in error.message, (args, error)
        assert await self.call("get_roster_count", user="bob", host=HOST) == 0

    async def test_delete(self) -> None:
        """delete_rosteritem removes the item and its groups; a missing item is fine."""
        await self.register("bob")
        await self.call("add_rosteritem", **_item())
        args = {"localuser": "bob", "localhost": HOST, "user": "amy", "host": "example.org"}
        assert await self.call("delete_rosteritem", **args) is True
        assert await self.call("get_roster", user="bob", host=HOST) == []
        groups = await self.store.read(lambda tx: tx.scalar("SELECT COUNT(*) FROM roster_groups"))
        assert groups == 0
        assert await self.call("delete_rosteritem", **args) is True
        error = await self.fails("delete_rosteritem", **{**args, "localuser": "ghost"})
        assert error.message == "unknown_user"

    async def test_get_roster_unknown(self) -> None:
        """An unknown account has an empty roster; an unknown host is an error."""
        assert await self.call("get_roster", user="ghost", host=HOST) == []
        assert await self.call("get_roster_count", user="ghost", host=HOST) == 0
        error = await self.fails("get_roster", user="bob", host="nowhere.org")
        assert error.message == "Unknown virtual host"

    async def test_push_roster(self) -> None:
        """push_roster adds every file entry but the user itself, subscription both."""
        await self.register("bob")
        path = RosterTests._file(
            self,
            '%% team\n[{"bob", "localhost", "Team", "Me"},\n'
            ' {"amy", "example.org", "Team", "Amy"},\n'
            ' {<<"carl">>, <<"example.org">>, "", "Carl"}].\n',
        )
        assert await self.call("push_roster", file=path, user="bob", host=HOST) is True
        assert await self.call("get_roster", user="bob", host=HOST) == [
            ("amy@example.org", "Amy", "both", "undefined", ["Team"]),
            ("carl@example.org", "Carl", "both", "undefined", []),
        ]

    async def test_push_roster_bad_files(self) -> None:
        """Missing, malformed or wrongly shaped files are refused and nothing is written.

        Changed by issue 8 (item 2): a path outside the files directory is
        refused before anything is read, and errors name lines and entries
        instead of quoting the file.
        """
        await self.register("bob")
        self._file("")
        cases = [
            ("/nonexistent/roster.txt", "outside the files directory"),
            ("missing.txt", "Cannot read roster file 'missing.txt'"),
            (self._file('[{"amy", "x"'), "is not valid"),
            (self._file('os:cmd("true").'), "is not valid"),
            (self._file('{"amy", "x", "g", "n"}.'), "must hold one list"),
            (self._file('[{"amy", "x", "g"}].'), "entry 1"),
            (self._file('[{"amy", "x", "g", 7}].'), "entry 1"),
        ]
        for path, text in cases:
            error = await self.fails("push_roster", file=path, user="bob", host=HOST)
            assert text in error.message, (path, error)
            assert "amy" not in error.message and "cmd" not in error.message, error
        assert await self.call("get_roster_count", user="bob", host=HOST) == 0
        error = await self.fails("push_roster", file="/etc/passwd", user="bob", host=HOST)
        assert isinstance(error, PathRefused) and "root" not in error.message

    async def test_push_roster_all(self) -> None:
        """push_roster_all makes every listed account a contact of every other."""
        for name in ("amy", "bob", "carl"):
            await self.register(name)
        path = RosterTests._file(
            self,
            '[{"amy", "localhost", "G", "Amy"}, {"bob", "localhost", "G", "Bob"},'
            ' {"carl", "localhost", "H", "Carl"}].',
        )
        assert await self.call("push_roster_all", file=path) is True
        assert await self.call("get_roster", user="carl", host=HOST) == [
            ("amy@localhost", "Amy", "both", "undefined", ["G"]),
            ("bob@localhost", "Bob", "both", "undefined", ["G"]),
        ]
        for name in ("amy", "bob"):
            assert await self.call("get_roster_count", user=name, host=HOST) == 2

    async def test_push_roster_all_needs_local_accounts(self) -> None:
        """A remote or unregistered account in the file fails the whole push.

        Changed by issue 8 (item 2): the offending entry is named by its
        number, not quoted (an error never shows what a file holds).
        """
        await self.register("amy")
        remote = RosterTests._file(
            self, '[{"amy", "localhost", "G", "A"}, {"zed", "example.org", "G", "Z"}].'
        )
        error = await self.fails("push_roster_all", file=remote)
        assert error.message == "Roster file, entry 2: not a local account"
        ghost = RosterTests._file(
            self, '[{"amy", "localhost", "G", "A"}, {"ghost", "localhost", "G", "G"}].'
        )
        error = await self.fails("push_roster_all", file=ghost)
        assert error.message == "Roster file, entry 2: the account is not registered"
        assert await self.call("get_roster_count", user="amy", host=HOST) == 0

    async def test_push_alltoall(self) -> None:
        """push_alltoall subscribes every account of a host to every other, in one group."""
        for name in ("amy", "bob", "carl"):
            await self.register(name)
        await self.register("out", host=OTHER)
        assert await self.call("push_alltoall", host=HOST, group="All") is True
        assert await self.call("get_roster", user="bob", host=HOST) == [
            ("amy@localhost", "amy", "both", "undefined", ["All"]),
            ("carl@localhost", "carl", "both", "undefined", ["All"]),
        ]
        assert await self.call("get_roster_count", user="out", host=OTHER) == 0
        error = await self.fails("push_alltoall", host="nowhere.org", group="All")
        assert error.message == "Unknown virtual host"

    async def _sample(self) -> None:
        for name in ("amy", "bob"):
            await self.register(name)
        await self.register("zed", host=OTHER)
        for owner, host, contact, contact_host, subs in (
            ("amy", HOST, "bob", HOST, "both"),
            ("amy", HOST, "joe", "icq.example.org", "none"),
            ("bob", HOST, "amy", HOST, "to"),
            ("zed", OTHER, "amy", HOST, "from"),
        ):
            await self.call(
                "add_rosteritem",
                **_item(
                    localuser=owner, localhost=host, user=contact, host=contact_host, subs=subs
                ),
            )

    async def test_process_rosteritems_list(self) -> None:
        """process_rosteritems list filters by subscription, ask and JID globs."""
        await self._sample()
        everything = await self.call(
            "process_rosteritems",
            action="list",
            subs="any",
            asks="any",
            users="any",
            contacts="any",
        )
        assert everything == [
            ("amy@localhost", "bob@localhost"),
            ("amy@localhost", "joe@icq.example.org"),
            ("bob@localhost", "amy@localhost"),
            ("zed@example.net", "amy@localhost"),
        ]
        some = await self.call(
            "process_rosteritems",
            action="list",
            subs="none:from:to",
            asks="none",
            users="*@localhost",
            contacts="*icq*:amy@*",
        )
        assert some == [
            ("amy@localhost", "joe@icq.example.org"),
            ("bob@localhost", "amy@localhost"),
        ]
        outgoing = await self.call(
            "process_rosteritems",
            action="list",
            subs="any",
            asks="out",
            users="any",
            contacts="any",
        )
        assert outgoing == []

    async def test_process_rosteritems_delete(self) -> None:
        """process_rosteritems delete removes exactly the matching items and lists them."""
        await self._sample()
        removed = await self.call(
            "process_rosteritems",
            action="delete",
            subs="both:from",
            asks="any",
            users="any",
            contacts="any",
        )
        assert removed == [("amy@localhost", "bob@localhost"), ("zed@example.net", "amy@localhost")]
        assert await self.call("get_roster_count", user="amy", host=HOST) == 1
        assert await self.call("get_roster_count", user="zed", host=OTHER) == 0
        assert await self.call("get_roster_count", user="bob", host=HOST) == 1

    async def test_process_rosteritems_bad_arguments(self) -> None:
        """Unknown action, subscription or ask values are refused with the allowed ones."""
        base = {"action": "list", "subs": "any", "asks": "any", "users": "any", "contacts": "any"}
        for key, value, text in (
            ("action", "purge", "Invalid action 'purge'"),
            ("subs", "both:maybe", "Invalid subscription 'maybe'"),
            ("asks", "sideways", "Invalid ask 'sideways'"),
        ):
            error = await self.fails("process_rosteritems", **{**base, key: value})
            assert text in error.message

    # -- what get_roster shows -------------------------------------------------------------------

    async def _set_ask(self, contact: str, ask: str, subscription: str) -> None:
        await self.store.write(
            lambda tx: tx.execute(
                "UPDATE roster_items SET ask = ?, subscription = ? WHERE username = 'bob'"
                " AND contact = ?",
                (ask, subscription, contact),
            )
        )

    async def test_pending_and_requests_from_contacts(self) -> None:
        """pending is subscribe while our request waits; a contact's own request is left out.

        ejabberd's roster_get hook drops items with subscription none and ask in, and
        shows ask as subscribe (out, both) or undefined.
        """
        await self.register("bob")
        await self.call("add_rosteritem", **_item(user="out", subs="none"))
        await self.call("add_rosteritem", **_item(user="in", subs="none"))
        await self.call("add_rosteritem", **_item(user="infrom", subs="from"))
        await self._set_ask("out@example.org", "out", "none")
        await self._set_ask("in@example.org", "in", "none")
        await self._set_ask("infrom@example.org", "in", "from")
        assert await self.call("get_roster", user="bob", host=HOST) == [
            ("infrom@example.org", "Amy", "from", "undefined", ["Friends"]),
            ("out@example.org", "Amy", "none", "subscribe", ["Friends"]),
        ]
        assert await self.call("get_roster_count", user="bob", host=HOST) == 2

    async def _shared_groups(self) -> None:
        """amy, bob and carl; group team (label Team) shows itself to its members."""
        for name in ("amy", "bob", "carl"):
            await self.register(name)
        await self.call(
            "set_vcard2", user="carl", host=HOST, name="N", subname="GIVEN", content="x"
        )
        await self.call("set_vcard", user="carl", host=HOST, name="FN", content="Carl Full")
        await self.call("set_vcard", user="amy", host=HOST, name="FN", content="Amy Full")
        await self.call("set_vcard", user="amy", host=HOST, name="NICKNAME", content="Ames")
        await self.call(
            "srg_create",
            group="team",
            host=HOST,
            label="Team",
            description="",
            display=["team"],
        )
        for name in ("amy", "bob", "carl"):
            await self.call("srg_user_add", user=name, host=HOST, group="team", grouphost=HOST)
        await self.call(
            "srg_user_add", user="eve", host="example.org", group="team", grouphost=HOST
        )

    async def test_shared_roster_groups_are_merged(self) -> None:
        """Contacts of displayed shared groups join the roster, as ejabberd merges them.

        Added contacts come first, subscription both, pending undefined, named by their
        vCard's NICKNAME or else FN, grouped under the group's label; a contact already
        in the roster keeps its name and groups, gains the label and becomes both.
        """
        await self._shared_groups()
        await self.call("add_rosteritem", **_item(user="carl", host=HOST, nick="C", subs="to"))
        assert await self.call("get_roster", user="bob", host=HOST) == [
            ("amy@localhost", "Ames", "both", "undefined", ["Team"]),
            ("eve@example.org", "", "both", "undefined", ["Team"]),
            ("carl@localhost", "C", "both", "undefined", ["Friends", "Team"]),
        ]
        assert await self.call("get_roster_count", user="bob", host=HOST) == 3
        # carl is named from FN; bob is not in his own roster
        roster = await self.call("get_roster", user="amy", host=HOST)
        assert [(jid, nick) for jid, nick, *_ in roster] == [
            ("bob@localhost", ""),
            ("carl@localhost", "Carl Full"),
            ("eve@example.org", ""),
        ]

    async def test_shared_roster_groups_display_rules(self) -> None:
        """Only displayed groups count; @all@ brings every account of the group's host.

        A group that is not displayed to the user adds nobody; a displayed group
        that does not exist is skipped; each displayed group adds its label, in the
        order of the group names.
        """
        await self._shared_groups()
        await self.call("srg_create", group="x", host=HOST, label="X", description="", display=[])
        await self.call("srg_user_add", user="dan", host="example.org", group="x", grouphost=HOST)
        assert [c[0] for c in await self.call("get_roster", user="bob", host=HOST)] == [
            "amy@localhost",
            "carl@localhost",
            "eve@example.org",
        ]
        # every account of the host shows group "x" (@all@), which now lists everybody
        await self.call("srg_user_add", user="@all@", host=HOST, group="x", grouphost=HOST)
        await self.call("srg_add_displayed", group="team", host=HOST, add="x")
        await self.call("srg_add_displayed", group="team", host=HOST, add="ghost")
        await self.call(
            "srg_create", group="y", host=HOST, label="Y", description="", display=["team"]
        )
        await self.call("srg_user_add", user="@all@", host=HOST, group="y", grouphost=HOST)
        await self.register("zoe")
        roster = {
            jid: groups
            for jid, _, _, _, groups in await self.call("get_roster", user="zoe", host=HOST)
        }
        assert roster == {
            "amy@localhost": ["Team"],
            "bob@localhost": ["Team"],
            "carl@localhost": ["Team"],
            "eve@example.org": ["Team"],
        }
        roster = {
            jid: groups
            for jid, _, _, _, groups in await self.call("get_roster", user="bob", host=HOST)
        }
        assert roster == {
            "amy@localhost": ["Team", "X"],
            "carl@localhost": ["Team", "X"],
            "dan@example.org": ["X"],
            "eve@example.org": ["Team"],
            "zoe@localhost": ["X"],
        }


class TestRosterSQLite(RosterTests, SQLiteCase):
    pass


class TestRosterPostgres(RosterTests, PostgresCase):
    pass
